"""The errors the emulator answers with, in Stytch's envelope.

Statuses marked *confirmed* come from Stytch's published docs or OpenAPI examples; the others are
inferred (see ``stytch-totp-api.md`` §4.2) from the error's name and its siblings: ``invalid_*`` and
other malformed input is 400, failed credentials 401, unknown objects 404.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ERRORS", "EmulatorError", "default_error_type", "error_url"]

# error_type -> (HTTP status, message)
ERRORS: Final[dict[str, tuple[int, str]]] = {
    # 400, malformed input
    "bad_request": (400, "The submitted request is invalid."),  # confirmed
    "invalid_user_id": (400, "user_id format is invalid."),
    "invalid_totp_code": (400, "The TOTP code must consist of 6 digits."),
    "invalid_expiration": (400, "expiration_minutes must be between 5 and 1440."),
    "invalid_session_duration_minutes": (
        400,
        "session_duration_minutes is invalid, should be between 5 to 527040 minutes.",  # confirmed
    ),
    "invalid_session_token": (400, "session_token format is invalid."),
    "unable_to_parse_session_jwt": (400, "The session_jwt could not be parsed."),
    "too_many_session_arguments": (
        400,
        # Stytch's sessions endpoints want exactly one; the TOTP endpoints accept both if they
        # name the same session.
        "Give only one way of naming the session: session_token or session_jwt (or, to revoke, "
        "session_id).",
    ),
    "user_id_mismatch": (400, "The session belongs to another user."),
    "custom_claims_too_large": (400, "session_custom_claims must be at most 4 KB of JSON."),
    "stytch_claims_in_custom_claims": (
        400,
        "session_custom_claims must not use claims under https://stytch.com/.",
    ),
    "recovery_code_used_as_totp_code": (
        400,
        "A recovery code was sent as a TOTP code; use the recover endpoint.",
    ),
    "totp_code_used_as_recovery_code": (
        400,
        "A TOTP code was sent as a recovery code; use the authenticate endpoint.",
    ),
    "invalid_email": (400, "Email format is invalid."),
    "invalid_phone_number": (400, "Phone number format is invalid."),
    "duplicate_email": (400, "A user with this email already exists."),
    "duplicate_external_id": (400, "A user with this external_id already exists."),
    "invalid_external_id": (
        400,
        "external_id must be 1 to 128 letters, digits, or the characters . _ - |",
    ),
    "active_totp_exists": (  # confirmed
        400,
        "Cannot create a new TOTP for the specified user since the user already has an active "
        "TOTP. Users may only have one active TOTP at a time.",
    ),
    "pending_totp_exists": (
        400,
        "Cannot create a new TOTP for the specified user since the user already has a TOTP "
        "that has not been authenticated yet. Authenticate it, delete it, or wait for it to "
        "expire.",
    ),
    "no_session_arguments": (400, "Exactly one of session_token and session_jwt is required."),
    # 401, failed credentials
    "unauthorized_credentials": (401, "Unauthorized credentials."),  # confirmed
    "unable_to_authenticate_totp": (401, "The TOTP code could not be authenticated."),
    "unable_to_authenticate_recovery_code": (
        401,
        "The recovery code could not be authenticated. Each recovery code can only be used once.",
    ),
    "totp_code_already_authenticated": (
        401,
        # Message confirmed (Stytch's mobile SDK strings); status inferred.
        "This TOTP code has already been authenticated. Please attempt with the next generated "
        "code.",
    ),
    # 404, unknown objects and routes
    "user_not_found": (404, "User could not be found."),
    "totp_not_found": (404, "TOTP could not be found."),
    "totps_not_found_for_user": (404, "No active TOTP registration was found for this user."),
    "session_not_found": (404, "Session could not be found."),  # confirmed
    "project_not_found": (404, "Project could not be found."),
    "route_not_found": (404, "The requested route could not be found."),
    "method_not_allowed": (405, "The HTTP method is not allowed on this route."),
    # 429
    "too_many_requests": (429, "Too many requests have been made."),  # confirmed
    "user_lock_limit_reached": (  # confirmed
        429,
        "The user has been locked out due to too many failed authentication attempts. "
        "Please try again later.",
    ),
    # 5xx
    "internal_server_error": (  # confirmed
        500,
        "Oops, something seems to have gone wrong, please reach out to support@stytch.com to "
        "let us know what went wrong.",
    ),
    "bad_gateway": (502, "Bad gateway."),
    "service_unavailable": (503, "The service is temporarily unavailable."),
    "gateway_timeout": (504, "Gateway timeout."),
}

# The error type an injected fault or an HTTP-level failure gets when none is named.
_BY_STATUS: Final = {
    400: "bad_request",
    401: "unauthorized_credentials",
    404: "route_not_found",
    405: "method_not_allowed",
    429: "too_many_requests",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def default_error_type(status: int) -> str:
    """The error type that stands for a bare HTTP ``status``."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return "internal_server_error" if status >= 500 else "bad_request"


#: Errors whose published bodies link to the status page alone. Stytch's other errors link to their
#: own entry: the published 400 (``active_totp_exists``) and, in Stytch's SDKs' tests against its
#: test API, a 401 (``unable_to_auth_magic_link``) and a 404 (``magic_link_not_found``) have the
#: ``#<error_type>`` anchor. These three are the errors of the layers every route shares
#: (credentials, rate limits, crashes), published as such on every route.
_BARE_ERROR_URLS: Final = frozenset(
    {"unauthorized_credentials", "too_many_requests", "internal_server_error"}
)


def error_url(status: int, error_type: str) -> str:
    """The documentation link Stytch puts in ``error_url``."""
    page = f"https://stytch.com/docs/api/errors/{status}"
    return page if error_type in _BARE_ERROR_URLS else f"{page}#{error_type}"


class EmulatorError(Exception):
    """A Stytch error response: ``status``, ``error_type`` and ``message`` of its envelope.

    ``status`` and ``message`` default to the catalog's (an error type outside the catalog, as a
    test may inject, needs its ``status``). A message must never include a secret the caller sent.
    """

    def __init__(
        self, error_type: str, message: str | None = None, *, status: int | None = None
    ) -> None:
        known = ERRORS.get(error_type)
        if status is None:
            if known is None:
                raise ValueError(f"{error_type!r} is not in the catalog: give its status")
            status = known[0]
        self.status = status
        self.error_type = error_type
        self.message = message or (known[1] if known else f"HTTP {status} {error_type}.")
        super().__init__(f"{status} {error_type}: {self.message}")
