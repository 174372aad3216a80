"""A one-file Django project with async views and a module-level Client, served over ASGI by
uvicorn: ``DJANGO_SETTINGS_MODULE=deploy_django_async uvicorn --workers 2
deploy_django_async:application``."""

from __future__ import annotations

import json
import os

from django.core.asgi import get_asgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

import stytch_totp

# Settings: the least Django needs to serve a view.
DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = __name__
MIDDLEWARE: list[str] = []

# Django has no lifespan: a module-level client, whose pool is opened in the server's event loop
# on the first call, and closed when that loop shuts down. Async views await it directly; a
# sync view must not call it (use SyncClient there, as in deploy_django.py).
stytch = stytch_totp.Client.from_env()


@csrf_exempt  # an API called with a session of its own, for the example's brevity
@require_POST
async def enroll(request: HttpRequest) -> JsonResponse:
    created = await stytch.totps.create(user_id=json.loads(request.body)["user_id"])
    return JsonResponse(
        {"user_id": created.user_id, "totp_id": created.totp_id, "key": created.secret}
    )


@csrf_exempt
@require_POST
async def verify(request: HttpRequest) -> JsonResponse:
    form = json.loads(request.body)
    try:
        auth = await stytch.totps.authenticate(user_id=form["user_id"], totp_code=form["code"])
    except stytch_totp.AuthenticationError:
        return JsonResponse({"error": "wrong code"}, status=401)
    return JsonResponse({"user_id": auth.user_id, "totp_id": auth.totp_id, "worker": os.getpid()})


urlpatterns = [path("mfa/enroll", enroll), path("mfa/verify", verify)]

application = get_asgi_application()
