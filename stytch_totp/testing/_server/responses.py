"""Response bodies the SDK has no model for, and the emulator's JSON encoding of every body.

TOTP responses are the SDK's own models; the user, JWKS and error bodies are defined here in the
same style. :data:`wire` is the SDK's converter (same rules: ``Z`` datetimes, strict types) plus
two emulator rules: authentication factors leave out the factor kinds they don't use, as
Stytch's do, and a get-user body carries the user's fields at the top level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs
import cattrs
import orjson
from cattrs.gen import make_dict_unstructure_fn

from ..._core.converter import make_converter
from ..._models import AuthenticationFactor, User
from .errors import EmulatorError, error_url

__all__ = [
    "CreateUserResponse",
    "DeleteTOTPResponse",
    "ErrorResponse",
    "GetUserResponse",
    "JWKSResponse",
    "error_response",
    "to_json",
    "wire",
]


@attrs.frozen
class CreateUserResponse:
    """Body of ``POST /v1/users``."""

    request_id: str
    """Id of this API call."""
    status_code: int
    """HTTP status, repeated."""
    user_id: str
    """Id of the new user."""
    email_id: str
    """Id of the user's email address, ``""`` if none."""
    status: str
    """``"active"`` or ``"pending"``."""
    phone_id: str
    """Id of the user's phone number, ``""`` if none."""
    user: User
    """The new user."""


@attrs.frozen
class GetUserResponse:
    """Body of ``GET /v1/users/{user_id}``: the user's fields at the top level."""

    request_id: str
    """Id of this API call."""
    status_code: int
    """HTTP status, repeated."""
    user: User
    """The user (flattened into the body on the wire)."""


@attrs.frozen
class DeleteTOTPResponse:
    """Body of ``DELETE /v1/users/totps/{totp_id}``."""

    request_id: str
    """Id of this API call."""
    status_code: int
    """HTTP status, repeated."""
    user_id: str
    """The user the TOTP belonged to."""
    user: User
    """The user, without the deleted TOTP."""


@attrs.frozen
class JWKSResponse:
    """Body of ``GET /v1/sessions/jwks/{project_id}``."""

    request_id: str
    """Id of this API call."""
    status_code: int
    """HTTP status, repeated."""
    keys: tuple[Mapping[str, Any], ...]
    """The public keys that verify session JWTs."""


@attrs.frozen
class ErrorResponse:
    """Stytch's error envelope."""

    status_code: int
    """HTTP status, repeated."""
    request_id: str
    """Id of this API call."""
    error_type: str
    """Machine-readable error, e.g. ``"unable_to_authenticate_totp"``."""
    error_message: str
    """Human-readable explanation."""
    error_url: str
    """Link to Stytch's documentation of the error."""


def _make_wire() -> cattrs.Converter:
    conv = make_converter()
    conv.register_unstructure_hook(
        AuthenticationFactor,
        make_dict_unstructure_fn(AuthenticationFactor, conv, _cattrs_omit_if_default=True),
    )
    unstructure_user = conv.get_unstructure_hook(User)

    def flatten(body: GetUserResponse) -> dict[str, Any]:
        return {
            "request_id": body.request_id,
            "status_code": body.status_code,
            **unstructure_user(body.user),
        }

    conv.register_unstructure_hook(GetUserResponse, flatten)
    return conv


#: The emulator's converter (see the module docstring).
wire: Final = _make_wire()


def to_json(body: Any) -> bytes:
    """The JSON bytes of a response model."""
    return orjson.dumps(wire.unstructure(body))


def error_response(error: EmulatorError, request_id: str) -> ErrorResponse:
    """The envelope of ``error``."""
    return ErrorResponse(
        status_code=error.status,
        request_id=request_id,
        error_type=error.error_type,
        error_message=error.message,
        error_url=error_url(error.status, error.error_type),
    )
