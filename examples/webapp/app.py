"""A reference web app that adds TOTP (an authenticator app) to sign-in, with stytch-totp.

FastAPI and Jinja templates, no front-end build. One :class:`stytch_totp.Client` for the app's
whole lifetime, opened by the lifespan. Run it with ``serve.py`` (see README.md): against a
local Stytch emulator by default, against Stytch when ``STYTCH_PROJECT_ID`` and
``STYTCH_SECRET`` are set.

What a person can do: sign up (a Stytch user), enroll an authenticator app (scan the QR code or
type the key), confirm the first code, save the recovery codes shown once, sign in with a code
or with a recovery code, see the recovery codes left, sign out. A sign-up left unfinished (the
tab closed before the first code) starts again, with a new QR code, when the same email signs up
again.

Never logged, never stored beyond need: the TOTP secret, the QR code, recovery codes, session
tokens and the codes people type. The log says what happened, with user ids and Stytch's
``error_type``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Final, TypedDict, cast

import aiohttp
import attrs
from fastapi import Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

import stytch_totp

log = logging.getLogger("webapp")

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

#: The browser's Stytch session: the ``session_token`` of a successful sign-in.
SESSION_COOKIE: Final = "session"
#: Which enrollment in progress is this browser's (a random key into ``Enrollments``).
ENROLLMENT_COOKIE: Final = "enrollment"
#: How long a sign-in lasts: Stytch's session, and the cookie that holds its token.
SESSION_DURATION_MINUTES: Final = 60
#: An enrollment not confirmed within this time is unusable (Stytch's ``expiration_minutes``).
ENROLLMENT_MINUTES: Final = 15


# ---------------------------------------------------------------------------------------------
# What the app keeps: its users, and the enrollments in progress
# ---------------------------------------------------------------------------------------------


@attrs.define
class Account:
    """One of the app's users: their Stytch user, and whether their app is enrolled yet."""

    user_id: str
    #: False from sign-up until the first code is confirmed: such an account cannot sign in,
    #: and signing up again with its email starts its enrollment afresh.
    enrolled: bool = False


class Accounts:
    """The app's users: email -> :class:`Account`, in memory.

    A real app keeps this in its database (a users table with ``stytch_user_id`` and
    ``totp_enrolled`` columns). The account is written when the Stytch user is created, not
    when the enrollment is confirmed: the app must remember that user to resume a sign-up that
    was left unfinished, since Stytch refuses a second user with the same email.
    """

    def __init__(self) -> None:
        self._by_email: dict[str, Account] = {}

    def find(self, email: str) -> Account | None:
        return self._by_email.get(email)

    def enrolled_user(self, email: str) -> str | None:
        """The Stytch ``user_id`` of an account that can sign in (its app is enrolled)."""
        account = self._by_email.get(email)
        return account.user_id if account is not None and account.enrolled else None

    def add(self, email: str, user_id: str) -> Account:
        account = self._by_email[email] = Account(user_id)
        return account

    def mark_enrolled(self, email: str) -> None:
        self._by_email[email].enrolled = True


@attrs.define
class Enrollment:
    """A sign-up between "create the user" and "the first code is confirmed"."""

    user_id: str
    email: str
    #: True if an earlier sign-up with this email was left unfinished (the page says so).
    restarted: bool = False
    #: The TOTP being enrolled: the QR code, key and recovery codes, kept only until confirmed
    #: (the person may mistype the first code and need the QR code again).
    created: stytch_totp.CreateResponse | None = attrs.field(default=None, repr=False)


class Enrollments:
    """Enrollments in progress, by a random key the browser holds in a cookie, in memory.

    A real app keeps them in its server-side session store (Redis, its database), encrypted,
    and forgets them once confirmed or after ``ENROLLMENT_MINUTES``.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, Enrollment] = {}
        self._key_of_user: dict[str, str] = {}

    def start(self, user_id: str, email: str, *, restarted: bool = False) -> str:
        """A new enrollment for the user; an earlier one of theirs (another tab) is dropped."""
        self.finish(self._key_of_user.get(user_id, ""))
        key = secrets.token_urlsafe(32)
        self._by_key[key] = Enrollment(user_id, email, restarted)
        self._key_of_user[user_id] = key
        return key

    def get(self, key: str | None) -> Enrollment | None:
        return self._by_key.get(key) if key else None

    def finish(self, key: str) -> None:
        enrollment = self._by_key.pop(key, None)
        if enrollment is not None:
            del self._key_of_user[enrollment.user_id]


# ---------------------------------------------------------------------------------------------
# Stytch's users and sessions endpoints (stytch-totp covers the TOTP API only)
# ---------------------------------------------------------------------------------------------

_STATUS_ERRORS: Final[Mapping[int, type[stytch_totp.APIStatusError]]] = {
    400: stytch_totp.BadRequestError,
    401: stytch_totp.AuthenticationError,
    404: stytch_totp.NotFoundError,
    429: stytch_totp.RateLimitError,
}


class StytchUsers:
    """``POST /v1/users`` and the sessions calls, over plain aiohttp, raising the SDK's errors."""

    def __init__(self, http: aiohttp.ClientSession, client: stytch_totp.Client, secret: str):
        self._http = http
        self._base_url = client.base_url.rstrip("/")
        self._auth = aiohttp.BasicAuth(client.project_id, secret)

    async def _call(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        try:
            async with self._http.request(
                method, f"{self._base_url}{path}", json=body, auth=self._auth
            ) as response:
                answer: dict[str, Any] = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise stytch_totp.APIConnectionError(f"{path}: {type(error).__name__}") from error
        if response.status >= 400:
            default = stytch_totp.InternalServerError if response.status >= 500 else None
            error_class = _STATUS_ERRORS.get(response.status, default or stytch_totp.APIStatusError)
            raise error_class(
                status_code=response.status,
                request_id=answer.get("request_id"),
                error_type=answer.get("error_type"),
                error_message=answer.get("error_message"),
                operation=f"{method} {path}",
            )
        return answer

    async def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self._call("POST", path, body)

    async def create_user(self, email: str) -> str:
        answer = await self._post("/v1/users", {"email": email})
        user_id: str = answer["user_id"]
        return user_id

    async def discard_unverified_totps(self, user_id: str) -> int:
        """Delete the user's TOTPs that were never confirmed; how many there were.

        Stytch may refuse a new TOTP while an unconfirmed one is pending (the emulator answers
        ``pending_totp_exists``, see the emulator's docs), so an abandoned enrollment goes
        before a new one starts. A confirmed TOTP is never touched.
        """
        user = await self._call("GET", f"/v1/users/{user_id}")
        unverified = [totp["totp_id"] for totp in user.get("totps") or () if not totp["verified"]]
        for totp_id in unverified:
            # Gone already (expired, or deleted meanwhile): just as good.
            with contextlib.suppress(stytch_totp.NotFoundError):
                await self._call("DELETE", f"/v1/users/totps/{totp_id}")
        return len(unverified)

    async def session_user(self, session_token: str) -> tuple[str, str] | None:
        """The ``(user_id, email)`` of a live session, or ``None`` if it ended or never was."""
        try:
            answer = await self._post("/v1/sessions/authenticate", {"session_token": session_token})
        except (stytch_totp.NotFoundError, stytch_totp.BadRequestError):
            return None
        user = answer["user"]
        emails = user.get("emails") or [{"email": ""}]
        return user["user_id"], emails[0]["email"]

    async def revoke_session(self, session_token: str) -> None:
        with contextlib.suppress(stytch_totp.NotFoundError, stytch_totp.BadRequestError):
            await self._post("/v1/sessions/revoke", {"session_token": session_token})


# ---------------------------------------------------------------------------------------------
# The application, its one Client, and what every request reaches
# ---------------------------------------------------------------------------------------------


class State(TypedDict):
    stytch: stytch_totp.Client
    users: StytchUsers
    accounts: Accounts
    enrollments: Enrollments


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[State]:
    """One Client (and one aiohttp session for the users API) for the app's lifetime."""
    async with (
        stytch_totp.Client.from_env(user_agent="stytch-totp-webapp/1.0") as client,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
    ):
        yield {
            "stytch": client,
            "users": StytchUsers(http, client, os.environ["STYTCH_SECRET"]),
            "accounts": Accounts(),
            "enrollments": Enrollments(),
        }


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


def _state(request: Request) -> State:
    """What the lifespan yielded: the server hands every request a copy (``scope["state"]``)."""
    return cast("State", request.scope["state"])


AppState = Annotated[State, Depends(_state)]
Email = Annotated[str, Form(max_length=254)]
Code = Annotated[str, Form(max_length=64)]


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def form_page(request: Request, template: str, problem: Problem, email: str) -> HTMLResponse:
    """A form again, with what went wrong and the email as typed (never the code)."""
    return page(request, template, problem.status_code, error=problem.message, email=email)


def set_session_cookie(request: Request, response: Response, session_token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_token,
        max_age=SESSION_DURATION_MINUTES * 60,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
    )


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ---------------------------------------------------------------------------------------------
# Errors, as a person would want them
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class Problem:
    """What to tell the person, and the HTTP status of the page that tells it."""

    message: str
    status_code: int


WRONG_CODE: Final = Problem(
    "That code didn't match. Type the 6-digit code your authenticator app shows now.", 401
)
RECOVERY_CODE_REFUSED: Final = Problem(
    "That recovery code doesn't work: it is mistyped or was already used. "
    "Each recovery code works only once.",
    401,
)
ACCOUNT_EXISTS: Final = Problem("An account with this email already exists: sign in instead.", 400)


def explain(error: stytch_totp.StytchError) -> Problem:
    """The message a person sees for an error of a Stytch call; the log gets the details."""
    kind = getattr(error, "error_type", None)
    if isinstance(error, stytch_totp.InvalidParamsError):
        if error.field == "totp_code":
            return Problem("Enter the 6 digits your authenticator app shows.", 400)
        return Problem("Please fill in the form.", 400)
    if isinstance(error, stytch_totp.RateLimitError):
        if kind == "user_lock_limit_reached":
            return Problem(
                "Too many wrong codes: this account is locked for an hour to keep it safe. "
                "Please try again later.",
                429,
            )
        return Problem("Too many attempts right now. Wait a minute, then try again.", 429)
    if isinstance(error, stytch_totp.AuthenticationError):
        if kind == "unable_to_authenticate_totp":
            return WRONG_CODE
        if kind == "totp_code_already_authenticated":
            return Problem("That code was just used. Wait for the next one, then type it.", 401)
        if kind == "unable_to_authenticate_recovery_code":
            return RECOVERY_CODE_REFUSED
    if isinstance(error, stytch_totp.BadRequestError):
        if kind == "recovery_code_used_as_totp_code":
            return Problem("That is a recovery code: use “Sign in with a recovery code”.", 400)
        if kind == "totp_code_used_as_recovery_code":
            return Problem("That is a 6-digit code: use “Sign in” with your app's code.", 400)
        if kind in ("duplicate_email", "active_totp_exists"):
            return ACCOUNT_EXISTS
        if kind == "invalid_email":
            return Problem("That doesn't look like an email address.", 400)
    if isinstance(error, stytch_totp.NotFoundError) and kind == "totps_not_found_for_user":
        return Problem("This account has no authenticator app yet.", 404)
    # Not the person's doing: our credentials, an outage, a bug. Say so, log the details.
    log.error("Stytch call failed: %s", error)
    return Problem(
        "Sign-in isn't working on our side right now. Please try again in a few minutes.", 503
    )


@app.exception_handler(stytch_totp.StytchError)
async def stytch_error_page(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, stytch_totp.StytchError)
    problem = explain(error)
    return page(request, "error.html", problem.status_code, message=problem.message)


@app.exception_handler(StarletteHTTPException)
async def http_error_page(request: Request, error: Exception) -> HTMLResponse:
    status = error.status_code if isinstance(error, StarletteHTTPException) else 500
    message = "There is no such page." if status == 404 else "That didn't work."
    return page(request, "error.html", status, message=message)


@app.exception_handler(RequestValidationError)
async def form_error_page(request: Request, error: Exception) -> HTMLResponse:
    return page(request, "error.html", 400, message="Please fill in every field of the form.")


@app.exception_handler(Exception)
async def unexpected_error_page(request: Request, error: Exception) -> HTMLResponse:
    # The traceback goes to the server's log (uvicorn logs it too); the person gets a page.
    log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(error))
    return page(request, "error.html", 500, message="Something went wrong on our side.")


# ---------------------------------------------------------------------------------------------
# Sign-up and enrollment
# ---------------------------------------------------------------------------------------------


@app.get("/signup")
async def signup_form(request: Request) -> HTMLResponse:
    return page(request, "signup.html")


@app.post("/signup")
async def signup(request: Request, state: AppState, email: Email) -> Response:
    """Create the Stytch user, then on to enrolling their authenticator app.

    An account whose enrollment was never confirmed (the person closed the tab, or lost the
    page) starts again: the same Stytch user, its unconfirmed TOTP deleted, a new one created
    on the next page. An enrolled account is not touched.
    """
    email = email.strip().lower()
    account = state["accounts"].find(email)
    if account is not None and account.enrolled:
        return form_page(request, "signup.html", ACCOUNT_EXISTS, email)
    try:
        if account is None:
            account = state["accounts"].add(email, await state["users"].create_user(email))
            restarted = False
            log.info("signed up user %s", account.user_id)
        else:
            discarded = await state["users"].discard_unverified_totps(account.user_id)
            restarted = True
            log.info(
                "restarting the unfinished sign-up of user %s (%d unconfirmed TOTP deleted)",
                account.user_id,
                discarded,
            )
    except stytch_totp.StytchError as error:
        return form_page(request, "signup.html", explain(error), email)
    response = see_other("/enroll")
    response.set_cookie(
        ENROLLMENT_COOKIE,
        state["enrollments"].start(account.user_id, email, restarted=restarted),
        max_age=ENROLLMENT_MINUTES * 60,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
    )
    return response


def manual_entry_key(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@app.get("/enroll")
async def enroll_form(request: Request, state: AppState) -> Response:
    """The QR code (Stytch's ``qr_code`` data URI, as an image) and the key, to add the app."""
    enrollment = state["enrollments"].get(request.cookies.get(ENROLLMENT_COOKIE))
    if enrollment is None:
        return see_other("/signup")
    if enrollment.created is None:
        enrollment.created = await state["stytch"].totps.create(
            user_id=enrollment.user_id, expiration_minutes=ENROLLMENT_MINUTES
        )
    return enrollment_page(request, enrollment, enrollment.created)


def enrollment_page(
    request: Request,
    enrollment: Enrollment,
    created: stytch_totp.CreateResponse,
    problem: Problem | None = None,
) -> HTMLResponse:
    return page(
        request,
        "enroll.html",
        problem.status_code if problem else 200,
        qr_code=created.qr_code,
        key=manual_entry_key(created.secret),
        email=enrollment.email,
        restarted=enrollment.restarted,
        error=problem.message if problem else None,
    )


@app.post("/enroll")
async def confirm_enrollment(request: Request, state: AppState, code: Code) -> Response:
    """Check the first code: the app is enrolled, the person signed in, codes shown once."""
    key = request.cookies.get(ENROLLMENT_COOKIE, "")
    enrollment = state["enrollments"].get(key)
    if enrollment is None or enrollment.created is None:
        return see_other("/signup")
    try:
        auth = await state["stytch"].totps.authenticate(
            user_id=enrollment.user_id,
            totp_code=code.replace(" ", ""),
            session_duration_minutes=SESSION_DURATION_MINUTES,
        )
    except stytch_totp.StytchError as error:
        log.info("enrollment code refused for user %s: %s", enrollment.user_id, _kind(error))
        return enrollment_page(request, enrollment, enrollment.created, explain(error))
    recovery_codes = enrollment.created.recovery_codes
    state["accounts"].mark_enrolled(enrollment.email)
    state["enrollments"].finish(key)  # the secret and codes are forgotten here
    log.info("enrolled user %s", enrollment.user_id)
    response = page(request, "enrolled.html", recovery_codes=recovery_codes)
    response.delete_cookie(ENROLLMENT_COOKIE)
    set_session_cookie(request, response, auth.session_token)
    return response


def _kind(error: stytch_totp.StytchError) -> str:
    """What the log says about an error: its class and Stytch's error_type, nothing typed."""
    return f"{type(error).__name__} {getattr(error, 'error_type', None) or ''}".strip()


# ---------------------------------------------------------------------------------------------
# Signing in, with a code or a recovery code
# ---------------------------------------------------------------------------------------------


@app.get("/")
async def home(request: Request, state: AppState) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and await state["users"].session_user(token):
        return see_other("/account")
    return page(request, "signin.html")


@app.post("/signin")
async def sign_in(request: Request, state: AppState, email: Email, code: Code) -> Response:
    """Sign in with the 6-digit code: Stytch checks it and starts a session."""
    email = email.strip().lower()
    user_id = state["accounts"].enrolled_user(email)
    if user_id is None:
        # The same answer as a wrong code: the form does not tell who has an account (nor
        # whose sign-up is unfinished: a code would confirm that enrollment behind its back).
        return form_page(request, "signin.html", WRONG_CODE, email)
    try:
        auth = await state["stytch"].totps.authenticate(
            user_id=user_id,
            totp_code=code.replace(" ", ""),
            session_duration_minutes=SESSION_DURATION_MINUTES,
        )
    except stytch_totp.StytchError as error:
        log.info("sign-in refused for user %s: %s", user_id, _kind(error))
        return form_page(request, "signin.html", explain(error), email)
    log.info("user %s signed in with a code", user_id)
    response = see_other("/account")
    set_session_cookie(request, response, auth.session_token)
    return response


@app.get("/signin/recovery")
async def recovery_form(request: Request) -> HTMLResponse:
    return page(request, "recover.html")


@app.post("/signin/recovery")
async def sign_in_with_recovery_code(
    request: Request, state: AppState, email: Email, recovery_code: Code
) -> Response:
    """Sign in without the phone: spends one recovery code (the second try with it fails)."""
    email = email.strip().lower()
    user_id = state["accounts"].enrolled_user(email)
    if user_id is None:
        return form_page(request, "recover.html", RECOVERY_CODE_REFUSED, email)
    try:
        recovered = await state["stytch"].totps.recover(
            user_id=user_id,
            recovery_code=recovery_code.strip(),
            session_duration_minutes=SESSION_DURATION_MINUTES,
        )
    except stytch_totp.StytchError as error:
        log.info("recovery sign-in refused for user %s: %s", user_id, _kind(error))
        return form_page(request, "recover.html", explain(error), email)
    log.info("user %s signed in with a recovery code", user_id)
    response = see_other("/account?recovered=1")
    set_session_cookie(request, response, recovered.session_token)
    return response


@app.post("/signout")
async def sign_out(request: Request, state: AppState) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await state["users"].revoke_session(token)
    response = see_other("/")
    response.delete_cookie(SESSION_COOKIE)
    return response


# ---------------------------------------------------------------------------------------------
# The signed-in part: the account, and the recovery codes left
# ---------------------------------------------------------------------------------------------


async def signed_in_user(request: Request, state: State) -> tuple[str, str] | None:
    """``(user_id, email)`` of this browser's Stytch session, checked with Stytch."""
    token = request.cookies.get(SESSION_COOKIE)
    return await state["users"].session_user(token) if token else None


async def unused_recovery_codes(client: stytch_totp.Client, user_id: str) -> list[str]:
    listing = await client.totps.recovery_codes(user_id=user_id)
    return [code for totp in listing.totps if totp.verified for code in totp.recovery_codes]


@app.get("/account")
async def account(request: Request, state: AppState) -> Response:
    user = await signed_in_user(request, state)
    if user is None:
        return see_other("/")
    user_id, email = user
    codes = await unused_recovery_codes(state["stytch"], user_id)
    recovered = request.query_params.get("recovered") == "1"
    return page(request, "account.html", email=email, codes_left=len(codes), recovered=recovered)


@app.get("/account/recovery-codes")
async def recovery_codes(request: Request, state: AppState) -> Response:
    user = await signed_in_user(request, state)
    if user is None:
        return see_other("/")
    codes = await unused_recovery_codes(state["stytch"], user[0])
    return page(request, "recovery_codes.html", recovery_codes=codes)
