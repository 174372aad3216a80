"""A FastAPI app whose Client lives in the lifespan, as run by uvicorn or by gunicorn with
uvicorn's worker: ``uvicorn --workers 2 deploy_fastapi:app``, or ``gunicorn -w 2 -k
uvicorn_worker.UvicornWorker deploy_fastapi:app``."""

from __future__ import annotations

import contextlib
import os
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
    # Each worker process runs the lifespan in its event loop: one client, one pool, per
    # worker, bounding the connections that worker opens to Stytch. At shutdown (SIGTERM), the
    # server lets the requests in flight finish, then the client is closed here.
    max_connections = int(os.environ.get("STYTCH_MAX_CONNECTIONS", "20"))
    async with stytch_totp.Client.from_env(max_connections=max_connections) as client:
        yield {"stytch": client}


def stytch(request: Request) -> stytch_totp.Client:
    client: stytch_totp.Client = request.state.stytch
    return client


Stytch = Annotated[stytch_totp.Client, Depends(stytch)]
app = FastAPI(lifespan=lifespan)


class Enrollment(BaseModel):
    user_id: str


class Code(BaseModel):
    user_id: str  # in a real app, from the first factor (your login session), not the body
    code: str


@app.post("/mfa/enroll")
async def enroll(form: Enrollment, client: Stytch) -> dict[str, str]:
    created = await client.totps.create(user_id=form.user_id)
    # The key is shown to the person enrolling (for an app that cannot scan the QR code).
    return {"user_id": created.user_id, "totp_id": created.totp_id, "key": created.secret}


@app.post("/mfa/verify")
async def verify(form: Code, client: Stytch) -> JSONResponse:
    try:
        auth = await client.totps.authenticate(user_id=form.user_id, totp_code=form.code)
    except stytch_totp.AuthenticationError:
        return JSONResponse({"error": "wrong code"}, status_code=401)
    return JSONResponse({"user_id": auth.user_id, "totp_id": auth.totp_id, "worker": os.getpid()})
