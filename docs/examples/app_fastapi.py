"""A FastAPI application with one Client for its whole lifetime, reached through a dependency.

The lifespan opens the Client at startup and closes it at shutdown; the ``stytch`` dependency
hands it to the path operations, and tests can override that dependency.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, TypedDict

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import stytch_totp


class State(TypedDict):
    stytch: stytch_totp.Client


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[State]:
    async with stytch_totp.Client.from_env(user_agent="my-app/1.0") as client:
        yield {"stytch": client}


def stytch(request: Request) -> stytch_totp.Client:
    """The application's Client, opened by the lifespan."""
    client: stytch_totp.Client = request.state.stytch
    return client


Stytch = Annotated[stytch_totp.Client, Depends(stytch)]
app = FastAPI(lifespan=lifespan)


class CodeForm(BaseModel):
    user_id: str  # in a real app, from the first factor (your login session), not the body
    code: str


@app.post("/mfa/totp")
async def verify_totp(form: CodeForm, client: Stytch) -> JSONResponse:
    """Second factor of a login: check the 6-digit code, then start a Stytch session."""
    try:
        auth = await client.totps.authenticate(
            user_id=form.user_id, totp_code=form.code, session_duration_minutes=60 * 24
        )
    except stytch_totp.InvalidParamsError:
        return JSONResponse({"error": "Enter the 6 digits your app shows."}, status_code=400)
    except stytch_totp.AuthenticationError as error:
        if error.error_type == "unauthorized_credentials":
            raise  # our Stytch credentials are wrong, not the user's code: a 500
        return JSONResponse({"error": "Wrong or already used code."}, status_code=401)
    except stytch_totp.RateLimitError:
        return JSONResponse({"error": "Too many attempts; try later."}, status_code=429)
    except (stytch_totp.APIConnectionError, stytch_totp.InternalServerError):
        return JSONResponse({"error": "Try again in a moment."}, status_code=503)
    response = JSONResponse({"user_id": auth.user_id})
    response.set_cookie(
        "stytch_session", auth.session_token, httponly=True, secure=True, samesite="strict"
    )
    return response
