"""A Django view checking the second factor with the process's one SyncClient."""

from __future__ import annotations

import functools
import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

import stytch_totp


@functools.cache
def stytch() -> stytch_totp.SyncClient:
    """The process's client, made on first use (after the worker process was forked)."""
    return stytch_totp.SyncClient.from_env()


@require_POST
def check_totp(request: HttpRequest) -> JsonResponse:
    form = json.loads(request.body)
    try:
        auth = stytch().totps.authenticate(
            user_id=form["user_id"], totp_code=form["code"], session_duration_minutes=60
        )
    except stytch_totp.InvalidParamsError:
        return JsonResponse({"error": "the code must be 6 digits"}, status=400)
    except stytch_totp.AuthenticationError:
        return JsonResponse({"error": "wrong code"}, status=401)
    except stytch_totp.RateLimitError:
        return JsonResponse({"error": "too many attempts, try again later"}, status=429)
    return JsonResponse({"session_token": auth.session_token})
