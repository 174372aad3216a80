"""An aiohttp.web application with one Client for its whole lifetime.

The cleanup context opens the Client when the application starts and closes it (and its
connection pool) when the application stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

import stytch_totp

STYTCH = web.AppKey("stytch", stytch_totp.Client)


async def stytch_client(app: web.Application) -> AsyncIterator[None]:
    # Up to the yield runs at startup, after it at shutdown.
    async with stytch_totp.Client.from_env(user_agent="my-app/1.0") as client:
        app[STYTCH] = client
        yield


async def verify_totp(request: web.Request) -> web.Response:
    """Second factor of a login: check the 6-digit code, then start a Stytch session."""
    form = await request.json()
    # In a real app the user id comes from the first factor (your login session), not the body.
    user_id, code = form["user_id"], form["code"]
    try:
        auth = await request.app[STYTCH].totps.authenticate(
            user_id=user_id, totp_code=code, session_duration_minutes=60 * 24
        )
    except stytch_totp.InvalidParamsError:
        return web.json_response({"error": "Enter the 6 digits your app shows."}, status=400)
    except stytch_totp.AuthenticationError as error:
        if error.error_type == "unauthorized_credentials":
            raise  # our Stytch credentials are wrong, not the user's code: a 500
        return web.json_response({"error": "Wrong or already used code."}, status=401)
    except stytch_totp.RateLimitError:
        return web.json_response({"error": "Too many attempts; try later."}, status=429)
    response = web.json_response({"user_id": auth.user_id})
    response.set_cookie(
        "stytch_session", auth.session_token, httponly=True, secure=True, samesite="Strict"
    )
    return response


def make_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(stytch_client)
    app.router.add_post("/mfa/totp", verify_totp)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=8080)
