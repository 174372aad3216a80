"""The common shortcut: a FastAPI app with a module-level Client, created at import, before any
event loop runs: ``uvicorn --workers 2 deploy_fastapi_module_level:app``."""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import stytch_totp

# Created at import, in no event loop: it opens nothing yet. Its first call, in the worker's
# event loop, opens that loop's pool; when the server's loop shuts down, the pool is closed.
stytch = stytch_totp.Client.from_env()

app = FastAPI()


class Enrollment(BaseModel):
    user_id: str


class Code(BaseModel):
    user_id: str
    code: str


@app.post("/mfa/enroll")
async def enroll(form: Enrollment) -> dict[str, str]:
    created = await stytch.totps.create(user_id=form.user_id)
    return {"user_id": created.user_id, "totp_id": created.totp_id, "key": created.secret}


@app.post("/mfa/verify")
async def verify(form: Code) -> JSONResponse:
    try:
        auth = await stytch.totps.authenticate(user_id=form.user_id, totp_code=form.code)
    except stytch_totp.AuthenticationError:
        return JSONResponse({"error": "wrong code"}, status_code=401)
    return JSONResponse({"user_id": auth.user_id, "totp_id": auth.totp_id, "worker": os.getpid()})
