"""A one-file Django project (settings, URLs, a view, the WSGI app) with a module-level
SyncClient, run by gunicorn: ``DJANGO_SETTINGS_MODULE=deploy_django gunicorn -w 2 -k gthread
--threads 8 deploy_django:application``. In a real project the client goes in the app's
module (``views.py`` or a ``stytch.py`` beside it); the rules are the same."""

from __future__ import annotations

import json
import os

from django.core.wsgi import get_wsgi_application
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

# One client per process, shared by the worker's threads (see deploy_flask.py).
stytch = stytch_totp.SyncClient.from_env()


@csrf_exempt  # an API called with a session of its own, for the example's brevity
@require_POST
def enroll(request: HttpRequest) -> JsonResponse:
    created = stytch.totps.create(user_id=json.loads(request.body)["user_id"])
    return JsonResponse(
        {"user_id": created.user_id, "totp_id": created.totp_id, "key": created.secret}
    )


@csrf_exempt
@require_POST
def verify(request: HttpRequest) -> JsonResponse:
    form = json.loads(request.body)
    try:
        auth = stytch.totps.authenticate(user_id=form["user_id"], totp_code=form["code"])
    except stytch_totp.AuthenticationError:
        return JsonResponse({"error": "wrong code"}, status=401)
    return JsonResponse({"user_id": auth.user_id, "totp_id": auth.totp_id, "worker": os.getpid()})


urlpatterns = [path("mfa/enroll", enroll), path("mfa/verify", verify)]

application = get_wsgi_application()
