"""A Flask app with a module-level SyncClient, as run by gunicorn (gthread, with or without
--preload): ``gunicorn -w 2 -k gthread --threads 8 deploy_flask:app``."""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

import stytch_totp

# One client per process, created at import. Under --preload that import happens in the
# gunicorn master, before it forks the workers: each worker starts its own loop thread and its
# own pool on its first call, and never touches the master's. The pool bounds the connections
# one worker opens to Stytch, whatever its number of threads.
stytch = stytch_totp.SyncClient.from_env(
    max_connections=int(os.environ.get("STYTCH_MAX_CONNECTIONS", "20"))
)

app = Flask(__name__)


@app.post("/mfa/enroll")
def enroll() -> ResponseReturnValue:
    created = stytch.totps.create(user_id=request.get_json()["user_id"])
    # The key is shown to the person enrolling (for an app that cannot scan the QR code).
    return jsonify(user_id=created.user_id, totp_id=created.totp_id, key=created.secret)


@app.post("/mfa/verify")
def verify() -> ResponseReturnValue:
    form = request.get_json()
    try:
        auth = stytch.totps.authenticate(user_id=form["user_id"], totp_code=form["code"])
    except stytch_totp.AuthenticationError:
        return jsonify(error="wrong code"), 401
    return jsonify(user_id=auth.user_id, totp_id=auth.totp_id, worker=os.getpid())
