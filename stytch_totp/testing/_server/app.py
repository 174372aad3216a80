"""The HTTP layer: Stytch's routes on an ``aiohttp.web`` application, thin over the project.

A handler reads the body, has ``requests.py`` validate it, calls the
:class:`~stytch_totp.testing._server.project.EmulatedProject`, and writes the body it returns as
JSON.
One middleware does what every route shares: counting requests, injected faults, Basic auth,
and turning every error (Stytch's, and aiohttp's own 404/405/413) into Stytch's envelope.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import attrs
from aiohttp import web

from .bodies import error_body, to_json
from .errors import EmulatorError, default_error_type
from .faults import Faults, RequestLog
from .project import EmulatedProject, new_request_id
from .requests import (
    parse_authenticate,
    parse_body,
    parse_create_totp,
    parse_create_user,
    parse_recover,
    parse_recovery_codes,
    parse_session_authenticate,
    parse_session_revoke,
    parse_user_id_query,
)

__all__ = ["EmulatorState", "build_app"]

logger = logging.getLogger("stytch_totp.testing")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The only public route: Stytch's SDKs fetch it without credentials.
_JWKS_ROUTE: Final = "jwks"


@attrs.frozen
class EmulatorState:
    """What the handlers share."""

    project: EmulatedProject
    faults: Faults
    log: RequestLog


STATE: Final = web.AppKey("stytch_emulator_state", EmulatorState)


def _json(
    body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=to_json(body), status=status, content_type="application/json", headers=headers
    )


def _error(error: EmulatorError, headers: Mapping[str, str] | None = None) -> web.Response:
    return _json(error_body(error, new_request_id()), error.status, headers)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    project_id, separator, secret = decoded.partition(":")
    return (project_id, secret) if separator else None


def _check_credentials(request: web.Request, project: EmulatedProject) -> None:
    if request.match_info.route.name == _JWKS_ROUTE or request.match_info.http_exception:
        return  # public route, or no route at all: that error comes first
    credentials = _basic_credentials(request.headers.get("Authorization"))
    if credentials is None or not project.credentials_match(*credentials):
        raise EmulatorError("unauthorized_credentials")


async def _handle(
    request: web.Request, handler: Handler, state: EmulatorState
) -> web.StreamResponse:
    try:
        _check_credentials(request, state.project)
        return await handler(request)
    except EmulatorError as error:
        return _error(error)
    except web.HTTPException as exc:
        return _http_error(request, exc)
    except ConnectionResetError:
        return _client_gone(request)
    except Exception:
        # A bug in the emulator: logged in full, and answered the way Stytch answers its own.
        logger.exception("the emulator failed on %s %s", request.method, request.path)
        return _error(EmulatorError("internal_server_error"))


def _http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    """aiohttp's own error (404, 405, 413...) in Stytch's envelope."""
    if exc.status < 400:
        raise exc
    error_type = default_error_type(exc.status)
    if exc.status == 404:
        message = f"No route matches {request.method} {request.path}."
    elif exc.status == 405:
        message = f"{request.method} is not allowed on {request.path}."
    else:
        message = exc.reason
    return _error(EmulatorError(error_type, message, status=exc.status))


def _client_gone(request: web.Request) -> web.Response:
    """The client went away before its body arrived: its doing, not an emulator failure."""
    logger.debug("the client of %s %s went away", request.method, request.path)
    return web.Response(status=400)  # never sent: the connection is gone


@web.middleware
async def _middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    state.log.record(request.path)
    fault = state.faults.take(request.path)
    if fault is None:
        return await _handle(request, handler, state)
    if fault.delay:
        # A real server has the body before it is slow to act on it: read it now, so a client
        # that gives up during the stall still has its request processed.
        early = await _read_body_first(request)
        if early is not None:
            return early
        if not await state.faults.stall(fault.delay):
            # The emulator is closing: drop the stalled request rather than act on it.
            _drop_connection(request)
            return web.Response(status=503)  # never sent: the connection is closed
    if fault.status is not None:
        error_type = fault.error_type or default_error_type(fault.status)
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        return _error(EmulatorError(error_type, status=fault.status), headers)
    response = await _handle(request, handler, state)
    if fault.drop_connection:
        # The request was acted on; its answer is lost, as when a connection dies mid-response.
        _drop_connection(request)
    return response


def _drop_connection(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.close()


async def _read_body_first(request: web.Request) -> web.StreamResponse | None:
    """Read (and keep) the body before a stall; the answer instead if that fails."""
    try:
        await request.read()
    except web.HTTPException as exc:
        return _http_error(request, exc)  # too large: refused at once
    except ConnectionResetError:
        return _client_gone(request)
    return None


async def _body(request: web.Request) -> dict[str, Any]:
    return parse_body(await request.read())


async def _create_user(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.create_user(parse_create_user(await _body(request))))


async def _get_user(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.get_user(request.match_info["user_id"]))


async def _delete_user(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.delete_user(request.match_info["user_id"]))


async def _delete_totp(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.delete_totp(request.match_info["totp_id"]))


async def _create_totp(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.create_totp(parse_create_totp(await _body(request))))


async def _authenticate(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.authenticate(parse_authenticate(await _body(request))))


async def _recovery_codes(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.recovery_codes(parse_recovery_codes(await _body(request))))


async def _recover(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.recover(parse_recover(await _body(request))))


async def _authenticate_session(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.authenticate_session(parse_session_authenticate(await _body(request))))


async def _revoke_session(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.revoke_session(parse_session_revoke(await _body(request))))


async def _list_sessions(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.list_sessions(parse_user_id_query(request.query)))


async def _jwks(request: web.Request) -> web.Response:
    project = request.app[STATE].project
    return _json(project.jwks(request.match_info["project_id"]))


def build_app(state: EmulatorState) -> web.Application:
    """The emulator's application, serving ``state``."""
    app = web.Application(middlewares=[_middleware])
    app[STATE] = state
    app.router.add_post("/v1/users", _create_user)
    app.router.add_get("/v1/users/{user_id}", _get_user)
    app.router.add_delete("/v1/users/totps/{totp_id}", _delete_totp)
    app.router.add_delete("/v1/users/{user_id}", _delete_user)
    app.router.add_post("/v1/totps", _create_totp)
    app.router.add_post("/v1/totps/authenticate", _authenticate)
    app.router.add_post("/v1/totps/recovery_codes", _recovery_codes)
    app.router.add_post("/v1/totps/recover", _recover)
    app.router.add_post("/v1/sessions/authenticate", _authenticate_session)
    app.router.add_post("/v1/sessions/revoke", _revoke_session)
    app.router.add_get("/v1/sessions", _list_sessions)
    app.router.add_get("/v1/sessions/jwks/{project_id}", _jwks, name=_JWKS_ROUTE)
    return app
