"""A Starlette (or FastAPI) application with one Client for its whole lifetime.

The lifespan opens the Client at startup and closes it at shutdown; what it yields becomes the
per-request ``request.state`` (Starlette's "lifespan state", which FastAPI shares).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TypedDict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import stytch_totp


class State(TypedDict):
    stytch: stytch_totp.Client


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[State]:
    async with stytch_totp.Client.from_env(user_agent="my-app/1.0") as client:
        yield {"stytch": client}


async def verify_totp(request: Request) -> JSONResponse:
    """Second factor of a login: check the 6-digit code, then start a Stytch session."""
    form = await request.json()
    client: stytch_totp.Client = request.state.stytch
    try:
        auth = await client.totps.authenticate(
            user_id=form["user_id"], totp_code=form["code"], session_duration_minutes=60 * 24
        )
    except stytch_totp.InvalidParamsError:
        return JSONResponse({"error": "Enter the 6 digits your app shows."}, status_code=400)
    except stytch_totp.AuthenticationError as error:
        if error.error_type == "unauthorized_credentials":
            raise  # our Stytch credentials are wrong, not the user's code: a 500
        return JSONResponse({"error": "Wrong or already used code."}, status_code=401)
    except stytch_totp.RateLimitError:
        return JSONResponse({"error": "Too many attempts; try later."}, status_code=429)
    response = JSONResponse({"user_id": auth.user_id})
    response.set_cookie(
        "stytch_session", auth.session_token, httponly=True, secure=True, samesite="strict"
    )
    return response


app = Starlette(routes=[Route("/mfa/totp", verify_totp, methods=["POST"])], lifespan=lifespan)
