"""What the emulator remembers, as frozen records: one project, its users, TOTPs and sessions.

Records are the emulator's own: what goes on the wire is built from them by ``bodies.py``, not
by the SDK's response models. Records are replaced, never mutated (``attrs.evolve``), so a store
can hand them out freely. Secrets are kept out of ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "FactorRecord",
    "NameRecord",
    "ProjectRecord",
    "RecoveryCodeRecord",
    "SessionRecord",
    "TOTPRecord",
    "UserRecord",
]


@attrs.frozen
class ProjectRecord:
    """The emulated Stytch project: its credentials and the key that signs session JWTs."""

    project_id: str
    """``project-test-...``; the Basic-auth user name."""
    secret: str = attrs.field(repr=False)
    """The project secret; the Basic-auth password."""
    project_name: str
    """Shown by authenticator apps as the issuer of the TOTP."""
    signing_key_pem: str = attrs.field(repr=False)
    """PKCS#8 PEM of the RSA key that signs session JWTs."""


@attrs.frozen
class NameRecord:
    """A user's name; Stytch sends ``""`` for the parts it does not have."""

    first_name: str = ""
    """Given name."""
    middle_name: str = ""
    """Middle name."""
    last_name: str = ""
    """Family name."""


@attrs.frozen
class UserRecord:
    """A user, with the failed-attempt counter and lock that guard their TOTP."""

    user_id: str
    """``user-test-...``."""
    created_at: datetime
    """When the user was created."""
    status: str
    """``"active"`` or ``"pending"``."""
    email: str | None = None
    """Email address, if any."""
    email_id: str | None = None
    """Id of the email address."""
    phone_number: str | None = None
    """E.164 phone number, if any."""
    phone_id: str | None = None
    """Id of the phone number."""
    name: NameRecord = NameRecord()
    """The user's name (every part ``""`` when none was given)."""
    external_id: str | None = None
    """The caller's own id for the user, usable wherever ``user_id`` is."""
    trusted_metadata: Mapping[str, Any] | None = None
    """Backend-only metadata."""
    untrusted_metadata: Mapping[str, Any] | None = None
    """Client-writable metadata."""
    roles: tuple[str, ...] = ()
    """Roles explicitly given to the user."""
    failed_attempts: int = 0
    """Consecutive failed TOTP or recovery-code attempts."""
    lock_created_at: datetime | None = None
    """When the current lock started."""
    lock_expires_at: datetime | None = None
    """When the current lock ends."""


@attrs.frozen
class RecoveryCodeRecord:
    """One single-use recovery code."""

    recovery_code_id: str
    """``totp-recovery-code-test-...``; the id a session's factor refers to."""
    code: str = attrs.field(repr=False)
    """The code itself, ``xxxx-xxxx-xxxx``."""
    used_at: datetime | None = None
    """When it was spent; ``None`` while it is still usable."""


@attrs.frozen
class TOTPRecord:
    """A TOTP registration."""

    totp_id: str
    """``totp-test-...``."""
    user_id: str
    """The user it belongs to."""
    secret: str = attrs.field(repr=False)
    """Base32 secret shared with the authenticator app."""
    created_at: datetime
    """When it was created."""
    expires_at: datetime
    """If still unverified at this instant, the registration is unusable."""
    recovery_codes: tuple[RecoveryCodeRecord, ...] = attrs.field(repr=False)
    """Its ten recovery codes, used or not."""
    verified: bool = False
    """``True`` after the first successful authenticate."""
    last_used_step: int | None = None
    """Time step of the last accepted code; codes of this step or earlier are refused."""


@attrs.frozen
class FactorRecord:
    """An authentication factor of a session: a TOTP code or a recovery code."""

    type: str
    """``"totp"`` or ``"recovery_codes"``."""
    delivery_method: str
    """``"authenticator_app"`` or ``"recovery_code"``."""
    created_at: datetime
    """When the factor was first used in the session."""
    last_authenticated_at: datetime
    """When it was last used."""
    totp_id: str | None = None
    """The TOTP whose code was used (``type == "totp"``)."""
    recovery_code_id: str | None = None
    """The recovery code used (``type == "recovery_codes"``)."""


@attrs.frozen
class SessionRecord:
    """A session started by an authenticate or recover call."""

    session_id: str
    """``session-test-...``."""
    user_id: str
    """Owner of the session."""
    session_token: str = attrs.field(repr=False)
    """The opaque session token (returned again whenever the session is extended)."""
    started_at: datetime
    """When the session started."""
    last_accessed_at: datetime
    """When it was last authenticated or extended."""
    expires_at: datetime
    """When it ends unless extended."""
    authentication_factors: tuple[FactorRecord, ...]
    """Factors used in the session, oldest first."""
    roles: tuple[str, ...]
    """Roles granted in the session."""
    custom_claims: Mapping[str, Any] = attrs.field(factory=dict)
    """Custom claims, also written into the session JWT."""


for _record in (
    ProjectRecord,
    NameRecord,
    UserRecord,
    RecoveryCodeRecord,
    TOTPRecord,
    FactorRecord,
    SessionRecord,
):
    attrs.resolve_types(_record)
