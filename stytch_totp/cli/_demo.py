"""``stytch-totp demo``: the whole TOTP flow, with the SDK, against an in-process emulator.

It enrolls a user (QR code in the terminal), authenticates a code into a session, lists the
recovery codes, recovers with one, and checks that the spent recovery code and the replayed TOTP
code are both refused. Exit status 0 means every step behaved as Stytch does.

The TOTP secret and one recovery code are printed on purpose (that is the demo); the session
token and JWT are not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import sys
from typing import IO, TYPE_CHECKING, Any, Final, NoReturn

from .. import AuthenticationError, RetryPolicy, StytchError, otpauth_uri, qr_code_png, totp_code
from ._exit import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from ..testing import Emulator

__all__ = ["StepFailed", "register", "run_demo", "walk"]

PROG: Final = "stytch-totp demo"
EXIT_FAILED: Final = 1

DEMO_EMAIL: Final = "ada@example.com"
DEMO_NAME: Final = "Ada Lovelace"
SESSION_MINUTES: Final = 60


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="walk the whole TOTP flow against a local emulator",
        description=(
            "Start a Stytch TOTP emulator in this process and walk the whole flow with the SDK: "
            "enroll, authenticate, recovery codes, recover, and the refusals of a spent "
            "recovery code and a replayed TOTP code. Works offline."
        ),
    )
    parser.add_argument("--no-qr", action="store_true", help="do not draw the QR code")
    parser.set_defaults(run=_run)


class StepFailed(Exception):
    """A step did not behave as Stytch does."""


class _Steps:
    """Numbered, one-line reports of each step."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.done = 0

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def ok(self, text: str) -> None:
        self.done += 1
        self.say(f"[ok] {self.done}. {text}")

    def fail(self, text: str) -> NoReturn:
        raise StepFailed(f"step {self.done + 1}: {text}")


def _grouped(secret: str) -> str:
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def _show_qr(uri: str, out: IO[str]) -> None:
    from ..testing._server.qr import print_qr

    drawing = io.StringIO()
    print_qr(uri, drawing)
    try:
        out.write(drawing.getvalue())
    except UnicodeEncodeError:
        out.write("(this terminal cannot draw the QR code; enter the secret instead)\n")


async def _expect_refusal(steps: _Steps, call: Any, error_type: str) -> None:
    try:
        await call
    except AuthenticationError as exc:
        if exc.error_type != error_type:
            steps.fail(f"expected {error_type}, got {exc.error_type}")
        return
    steps.fail(f"expected {error_type}, but it was accepted")


async def walk(emulator: Emulator, out: IO[str], *, show_qr: bool = True) -> None:
    """Run the demo's steps against ``emulator``; raises :class:`StepFailed` at the first miss."""
    steps = _Steps(out)
    steps.say(f"Stytch TOTP demo, against the local emulator at {emulator.url}")
    steps.say()
    try:
        await _walk(emulator, steps, show_qr=show_qr)
    except StytchError as exc:
        raise StepFailed(f"step {steps.done + 1}: {type(exc).__name__}: {exc}") from exc
    steps.say()
    steps.say(f"All {steps.done} steps behaved as Stytch does.")


async def _walk(emulator: Emulator, steps: _Steps, *, show_qr: bool) -> None:
    out = steps.out
    # No retries: each step must show what the server said the first time.
    async with emulator.client(retry=RetryPolicy.none()) as client:
        user_id = emulator.create_user(DEMO_EMAIL, name=DEMO_NAME)
        steps.ok(f"created user {DEMO_EMAIL}: {user_id}")

        created = await client.totps.create(user_id=user_id)
        if len(created.secret) != 32 or len(created.recovery_codes) != 10:
            steps.fail("a new TOTP needs a 32-character secret and 10 recovery codes")
        png = qr_code_png(created)
        if not any(
            totp.totp_id == created.totp_id and not totp.verified for totp in created.user.totps
        ):
            steps.fail("the new TOTP should be listed on the user, unverified")
        steps.ok(f"enrolled TOTP {created.totp_id} (QR code: {len(png)} bytes of PNG)")
        if show_qr:
            _show_qr(
                otpauth_uri(created.secret, account=DEMO_EMAIL, issuer=emulator.project_name), out
            )
        steps.say(f"     secret, for manual entry: {_grouped(created.secret)}")

        code = totp_code(created.secret, emulator.clock.now())  # what the app would show now
        auth = await client.totps.authenticate(
            user_id=user_id, totp_code=code, session_duration_minutes=SESSION_MINUTES
        )
        if auth.session is None or not auth.session_token or not auth.session_jwt:
            steps.fail("session_duration_minutes should have started a session")
        if not all(totp.verified for totp in auth.user.totps):
            steps.fail("the TOTP should be verified after its first code")
        steps.ok(
            f"authenticated code {code}: session {auth.session.session_id}, "
            f"expires {auth.session.expires_at:%Y-%m-%d %H:%M} UTC "
            f"(token and JWT not shown)"
        )

        listed = await client.totps.recovery_codes(user_id=user_id)
        remaining = [code for totp in listed.totps for code in totp.recovery_codes]
        if len(remaining) != 10:
            steps.fail(f"expected 10 recovery codes, got {len(remaining)}")
        recovery_code = remaining[0]
        steps.ok(f"listed {len(remaining)} recovery codes; using {recovery_code}")

        recovered = await client.totps.recover(
            user_id=user_id, recovery_code=recovery_code, session_duration_minutes=SESSION_MINUTES
        )
        if recovered.session is None or recovered.totp_id != created.totp_id:
            steps.fail("recover should have started a session for the same TOTP")
        steps.ok(f"recovered with {recovery_code}: session {recovered.session.session_id}")

        await _expect_refusal(
            steps,
            client.totps.recover(user_id=user_id, recovery_code=recovery_code),
            "unable_to_authenticate_recovery_code",
        )
        steps.ok(f"the spent recovery code {recovery_code} was refused")

        await _expect_refusal(
            steps,
            client.totps.authenticate(user_id=user_id, totp_code=code),
            "totp_code_already_authenticated",
        )
        steps.ok(f"the replayed TOTP code {code} was refused")


async def run_demo(
    out: IO[str], err: IO[str], *, show_qr: bool = True, emulator: Emulator | None = None
) -> int:
    """The demo's exit status, against ``emulator`` or (by default) a new in-process one."""
    from ..testing import Emulator

    async with contextlib.AsyncExitStack() as stack:
        if emulator is None:
            emulator = await stack.enter_async_context(Emulator())
        try:
            await walk(emulator, out, show_qr=show_qr)
        except StepFailed as exc:
            out.flush()
            err.write(f"{PROG}: FAILED at {exc}\n")
            return EXIT_FAILED
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    try:
        from ..testing import Emulator  # noqa: F401 - fail early, with the install hint
    except ImportError as exc:
        sys.stderr.write(f"{PROG}: {exc}\n")
        return EXIT_USAGE
    return asyncio.run(run_demo(sys.stdout, sys.stderr, show_qr=not args.no_qr))
