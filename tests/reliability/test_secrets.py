"""Secrets never show: not in reprs, strs, DEBUG logs, exception messages or tracebacks.

The secrets are the project secret (and the Authorization header made from it), the TOTP secret,
the QR code, recovery codes, session tokens and JWTs, and the codes sent (``totp_code``,
``recovery_code``). Each test uses distinctive values for all of them, sends them and has the
server send them back, on success and on every failure path, then searches everything a
developer could end up printing or logging.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any, get_args

import aiohttp
import attrs
import pytest

from stytch_totp import (
    AuthenticateParams,
    Client,
    CreateParams,
    InvalidParamsError,
    RecoverParams,
    RecoveryCodesParams,
    RetryPolicy,
    StytchError,
    _jsoncodec,
    _models,
)
from tests.conftest import PROJECT_ID, SECRET, load_example
from tests.reliability._servers import (
    Action,
    Received,
    redirect,
    refusing_port,
    reset_before_headers,
    reset_mid_body,
    respond,
    respond_json,
    stall_mid_body,
)
from tests.reliability.conftest import StartServer

TOTP_SECRET = "ZQXJTOTPSECRETBASE32ZQXJABCDEFGH"
QR_CODE = "data:image/png;base64,iVBORw0KGgoZQXJQRCODEZQXJ="
RECOVERY_CODES = ["zqxj-rcv1-aaaa", "zqxj-rcv2-bbbb", "zqxj-rcv3-cccc"]
SESSION_TOKEN_BACK = "zqxj-session-token-from-the-server-0123456789"
SESSION_JWT_BACK = "eyJhbGciOiJSUzI1NiJ9.ZQXJ-jwt-from-the-server.c2lnbmF0dXJl"
TOTP_CODE_SENT = "913579"
RECOVERY_CODE_SENT = "zqxj-sent-recovery-code"
SESSION_TOKEN_SENT = "zqxj-session-token-sent-by-the-app-9876543210"
SESSION_JWT_SENT = "eyJhbGciOiJSUzI1NiJ9.ZQXJ-jwt-sent-by-the-app.c2lnbmF0dXJl"

SECRETS = {
    "project secret": SECRET,
    "authorization header": aiohttp.encode_basic_auth(PROJECT_ID, SECRET),
    "totp secret": TOTP_SECRET,
    "qr code": QR_CODE,
    **{f"recovery code {n}": code for n, code in enumerate(RECOVERY_CODES)},
    "session token (response)": SESSION_TOKEN_BACK,
    "session jwt (response)": SESSION_JWT_BACK,
    "totp_code": TOTP_CODE_SENT,
    "recovery_code": RECOVERY_CODE_SENT,
    "session token (sent)": SESSION_TOKEN_SENT,
    "session jwt (sent)": SESSION_JWT_SENT,
}

CALLS: dict[str, Callable[[Client], Any]] = {
    "create": lambda c: c.totps.create(user_id="user-1"),
    "authenticate": lambda c: c.totps.authenticate(
        user_id="user-1",
        totp_code=TOTP_CODE_SENT,
        session_token=SESSION_TOKEN_SENT,
        session_jwt=SESSION_JWT_SENT,
        session_duration_minutes=60,
    ),
    "recovery_codes": lambda c: c.totps.recovery_codes(user_id="user-1"),
    "recover": lambda c: c.totps.recover(
        user_id="user-1",
        recovery_code=RECOVERY_CODE_SENT,
        session_token=SESSION_TOKEN_SENT,
        session_jwt=SESSION_JWT_SENT,
        session_duration_minutes=60,
    ),
}


def _secret_bodies() -> dict[str, dict[str, Any]]:
    """Success bodies for each path, carrying the secrets the server hands out."""
    create = load_example("create")
    create.update(secret=TOTP_SECRET, qr_code=QR_CODE, recovery_codes=RECOVERY_CODES)
    authenticate = load_example("authenticate_no_session")
    authenticate.update(session_token=SESSION_TOKEN_BACK, session_jwt=SESSION_JWT_BACK)
    listing = load_example("recovery_codes")
    listing["totps"][0]["recovery_codes"] = RECOVERY_CODES
    recover = load_example("recover_no_session")
    recover.update(session_token=SESSION_TOKEN_BACK, session_jwt=SESSION_JWT_BACK)
    return {
        "/v1/totps": create,
        "/v1/totps/authenticate": authenticate,
        "/v1/totps/recovery_codes": listing,
        "/v1/totps/recover": recover,
    }


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # format() includes any exc_info traceback, as a real handler would print it.
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs() -> Iterator[list[str]]:
    """Every record the SDK and aiohttp log at DEBUG and above, formatted."""
    handler = _Collect()
    loggers = [logging.getLogger(name) for name in ("stytch_totp", "aiohttp", "asyncio")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler.lines
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def _views(thing: object) -> list[str]:
    """Everything a developer might print about ``thing``."""
    views = [repr(thing), str(thing), f"{thing!r:}", format(thing)]
    if isinstance(thing, BaseException):
        views.append("".join(traceback.format_exception(thing)))
        views.append(repr(vars(thing)))
        views.extend(repr(arg) for arg in thing.args)
    return views


def assert_no_secret(texts: list[str]) -> None:
    leaks = [
        (name, text[:300]) for text in texts for name, value in SECRETS.items() if value in text
    ]
    assert leaks == []


def _holds_a_secret(type_: Any) -> bool:
    """Whether ``type_`` is (or contains) a model with a field whose ``repr`` is hidden or masked."""
    if attrs.has(type_):
        return any(f.repr is not True or _holds_a_secret(f.type) for f in attrs.fields(type_))
    return any(_holds_a_secret(arg) for arg in get_args(type_))


@pytest.mark.parametrize(
    "model",
    # dict.fromkeys: a model exported under two names is tested once.
    list(dict.fromkeys(m for m in vars(_models).values() if attrs.has(m) and _holds_a_secret(m))),
    ids=lambda m: m.__name__,
)
def test_models_holding_a_secret_have_no_instance_dict(model: type[Any]) -> None:
    # A __dict__ would let vars() and debuggers' views of locals show what repr hides.
    assert model.__dictoffset__ == 0


def _make_client(url: str, **kwargs: Any) -> Client:
    kwargs.setdefault("retry", RetryPolicy(max_retries=1, initial_backoff=0.01))
    kwargs.setdefault("timeout", 0.5)
    return Client(PROJECT_ID, SECRET, base_url=url, **kwargs)


async def test_success_paths_leak_nothing(start_server: StartServer, debug_logs: list[str]) -> None:
    bodies = _secret_bodies()
    server = await start_server(lambda r: respond_json(bodies[r.target]))
    texts: list[str] = []
    async with _make_client(server.url) as client:
        texts += _views(client) + _views(client.totps)
        for name, call in CALLS.items():
            response = await call(client)
            texts += _views(response)
            # Slotted, so there is no ``vars(response)`` to show what ``repr`` hides.
            assert not hasattr(response, "__dict__")
            assert name
        # The secrets really were sent and received: the test would see a leak if there was one.
        created = await CALLS["create"](client)
        assert created.secret == TOTP_SECRET
        assert list(created.recovery_codes) == RECOVERY_CODES
    sent = b"".join(r.body for r in server.requests)
    assert TOTP_CODE_SENT.encode() in sent
    assert RECOVERY_CODE_SENT.encode() in sent
    assert server.requests[0].headers["authorization"] == SECRETS["authorization header"]

    params = [
        CreateParams(user_id="user-1"),
        AuthenticateParams(
            user_id="user-1",
            totp_code=TOTP_CODE_SENT,
            session_token=SESSION_TOKEN_SENT,
            session_jwt=SESSION_JWT_SENT,
        ),
        RecoveryCodesParams(user_id="user-1"),
        RecoverParams(
            user_id="user-1",
            recovery_code=RECOVERY_CODE_SENT,
            session_token=SESSION_TOKEN_SENT,
            session_jwt=SESSION_JWT_SENT,
        ),
    ]
    for param in params:
        texts += _views(param)
    assert debug_logs  # the SDK did log each request at DEBUG
    assert_no_secret(texts + debug_logs)


def _bad_inputs() -> list[tuple[str, Callable[[Client], Any]]]:
    return [
        ("totp code too short", lambda c: c.totps.authenticate(user_id="u", totp_code="91357")),
        ("totp code too long", lambda c: c.totps.authenticate(user_id="u", totp_code="9135791")),
        (
            "totp code with letters",
            lambda c: c.totps.authenticate(user_id="u", totp_code="zqxj-sent-recovery-code"),
        ),
        (
            "recovery code sent as the totp code",
            lambda c: c.totps.authenticate(user_id="u", totp_code=RECOVERY_CODE_SENT),
        ),
        (
            "session token blank",
            lambda c: c.totps.authenticate(
                user_id="u", totp_code=TOTP_CODE_SENT, session_token=" "
            ),
        ),
        (
            "bad session duration",
            lambda c: c.totps.recover(
                user_id="u",
                recovery_code=RECOVERY_CODE_SENT,
                session_token=SESSION_TOKEN_SENT,
                session_duration_minutes=1,
            ),
        ),
        (
            "claims not json",
            lambda c: c.totps.authenticate(
                user_id="u",
                totp_code=TOTP_CODE_SENT,
                session_jwt=SESSION_JWT_SENT,
                session_custom_claims={"k": object()},
            ),
        ),
        (
            "recovery code not a str",
            lambda c: c.totps.recover(user_id="u", recovery_code=123),
        ),
        (
            "params and keywords",
            lambda c: c.totps.authenticate(
                AuthenticateParams(user_id="u", totp_code=TOTP_CODE_SENT),
                session_token=SESSION_TOKEN_SENT,
            ),
        ),
    ]


@pytest.mark.parametrize(("case", "call"), _bad_inputs(), ids=[c for c, _ in _bad_inputs()])
async def test_invalid_params_errors_leak_nothing(
    start_server: StartServer,
    debug_logs: list[str],
    case: str,
    call: Callable[[Client], Any],
) -> None:
    server = await start_server(lambda _: respond(500))
    async with _make_client(server.url) as client:
        with pytest.raises(InvalidParamsError) as caught:
            await call(client)
    assert server.requests == []
    assert_no_secret(_views(caught.value) + debug_logs)


def _failures() -> dict[str, Callable[[Received], Action]]:
    bodies = _secret_bodies()

    def wrong_type(request: Received) -> Action:
        body = dict(bodies[request.target])
        body["user_id"] = 42  # everything else, secrets included, is there and well-formed
        return respond_json(body)

    def recovery_codes_not_a_list(request: Received) -> Action:
        body = dict(bodies[request.target])
        body["recovery_codes"] = RECOVERY_CODES[0]
        body["secret"] = [TOTP_SECRET]
        body["session_token"] = [SESSION_TOKEN_BACK]
        body["totps"] = [{"totp_id": "t", "verified": True, "recovery_codes": RECOVERY_CODES[1]}]
        return respond_json(body)

    def not_json(request: Received) -> Action:
        return respond(200, _jsoncodec.dumps(bodies[request.target])[:-40])

    def wrong_content_type(request: Received) -> Action:
        return respond(200, _jsoncodec.dumps(bodies[request.target]), content_type="text/html")

    def echoing_error(status: int, error_type: str) -> Callable[[Received], Action]:
        def action(request: Received) -> Action:
            envelope = load_example("error_401_unauthorized_credentials")
            envelope.update(status_code=status, error_type=error_type)
            return respond_json(envelope, status)

        return action

    return {
        "2xx-wrong-type": wrong_type,
        "2xx-secret-fields-wrong-shape": recovery_codes_not_a_list,
        "2xx-not-json": not_json,
        "2xx-wrong-content-type": wrong_content_type,
        "401": echoing_error(401, "unable_to_authenticate_totp"),
        "429-retried": echoing_error(429, "too_many_requests"),
        "500": echoing_error(500, "internal_server_error"),
        "reset-before-headers": lambda _: reset_before_headers(),
        "reset-mid-body": lambda _: reset_mid_body(),
        "timeout-mid-body": lambda _: stall_mid_body(),
        "redirect": lambda r: redirect(307, f"http://127.0.0.1:9/{r.target}"),
    }


@pytest.mark.parametrize("failure", list(_failures()))
async def test_failure_paths_leak_nothing(
    start_server: StartServer, debug_logs: list[str], failure: str
) -> None:
    choose = _failures()[failure]
    server = await start_server(choose)
    texts: list[str] = []
    async with _make_client(server.url) as client:
        for call in CALLS.values():
            with pytest.raises(StytchError) as caught:
                await call(client)
            texts += _views(caught.value)
    assert server.requests  # the secrets went out, and came back where the server sends them
    assert_no_secret(texts + debug_logs)


async def test_connection_and_tls_failures_leak_nothing(
    start_server: StartServer, tls_server_context: Any, debug_logs: list[str]
) -> None:
    tls_server = await start_server(lambda _: respond(200), tls=tls_server_context)
    texts: list[str] = []
    with refusing_port() as port:
        for url in (f"http://127.0.0.1:{port}/", tls_server.url):
            async with _make_client(url) as client:
                for call in CALLS.values():
                    with pytest.raises(StytchError) as caught:
                        await call(client)
                    texts += _views(caught.value)
    # A call on a closed client, and one cut off by the close.
    server = await start_server(lambda _: stall_mid_body())
    client = _make_client(server.url, timeout=30.0)
    pending = asyncio.create_task(CALLS["recover"](client))
    async with asyncio.timeout(20):
        await server.until_received(1)
    await client.aclose()
    for outcome in await asyncio.gather(
        pending, CALLS["authenticate"](client), return_exceptions=True
    ):
        assert isinstance(outcome, StytchError)
        texts += _views(outcome)
    assert_no_secret(texts + debug_logs)
