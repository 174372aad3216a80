"""A Flask app checking the second factor with one SyncClient, shared by every request thread."""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

import stytch_totp


def create_app(stytch: stytch_totp.SyncClient) -> Flask:
    app = Flask(__name__)
    app.extensions["stytch_totp"] = stytch  # where the app keeps it (and its tests find it)

    @app.post("/login/totp")
    def check_totp() -> ResponseReturnValue:
        form = request.get_json()
        try:
            auth = stytch.totps.authenticate(
                user_id=form["user_id"], totp_code=form["code"], session_duration_minutes=60
            )
        except stytch_totp.InvalidParamsError:
            return jsonify(error="the code must be 6 digits"), 400
        except stytch_totp.AuthenticationError:
            return jsonify(error="wrong code"), 401
        except stytch_totp.RateLimitError:
            return jsonify(error="too many attempts, try again later"), 429
        return jsonify(session_token=auth.session_token)

    return app


# One client per process, created once: gunicorn's threads share it. With --preload, a worker
# forked from the master starts its own connection pool on its first call.
app = create_app(stytch_totp.SyncClient.from_env())
