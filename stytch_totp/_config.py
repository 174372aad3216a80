"""Every default of the SDK, in one place.

Nothing else in the package hard-codes a number, a URL or an environment variable name; change a
default here and the docs, the client and the emulator follow.
"""

from __future__ import annotations

from typing import Final

from ._version import __version__

#: Base URL of Stytch's test environment (any project id that is not ``project-live-...``).
TEST_BASE_URL: Final = "https://test.stytch.com/"
#: Base URL of Stytch's live environment.
LIVE_BASE_URL: Final = "https://api.stytch.com/"
#: A project id with this prefix talks to :data:`LIVE_BASE_URL` unless told otherwise.
LIVE_PROJECT_PREFIX: Final = "project-live-"

#: Environment variables read by :meth:`stytch_totp.Client.from_env`.
ENV_PROJECT_ID: Final = "STYTCH_PROJECT_ID"
ENV_SECRET: Final = "STYTCH_SECRET"  # noqa: S105 - a variable name, not a secret
ENV_BASE_URL: Final = "STYTCH_BASE_URL"

#: Total seconds one attempt may take (connect, send, wait, read), unless the call says otherwise.
DEFAULT_TIMEOUT_TOTAL: Final = 30.0
#: Seconds to open a TCP (and TLS) connection.
DEFAULT_TIMEOUT_CONNECT: Final = 5.0
#: Size of the connection pool of a Client-owned session.
DEFAULT_MAX_CONNECTIONS: Final = 100
#: Largest response body the client will buffer; a larger one is an ``UnexpectedResponseError``.
DEFAULT_MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024

#: Retries after the first attempt, for failures that are safe to retry.
DEFAULT_MAX_RETRIES: Final = 2
#: Seconds before the first retry; doubles with each retry.
DEFAULT_INITIAL_BACKOFF: Final = 0.5
#: Ceiling of the exponential backoff, in seconds.
DEFAULT_MAX_BACKOFF: Final = 8.0
#: A ``Retry-After`` longer than this many seconds means "give up now" rather than "wait".
DEFAULT_MAX_RETRY_AFTER: Final = 60.0
#: Backoff jitter only ever shortens a delay, by up to this fraction.
BACKOFF_JITTER: Final = 0.25

#: Requests a bulk enrollment keeps in flight, unless told otherwise.
DEFAULT_BULK_CONCURRENCY: Final = 16
#: Connection failures in a row (no answer at all) after which a bulk enrollment stops.
DEFAULT_BULK_MAX_CONSECUTIVE_CONNECTION_FAILURES: Final = 10
#: How many times a bulk enrollment puts one user back after a 429 ``too_many_requests``.
MAX_RATE_LIMITED_REQUEUES: Final = 10

#: Sent as ``User-Agent`` on every request (a caller's ``user_agent`` is appended).
USER_AGENT: Final = f"stytch-totp-python/{__version__}"

#: Name of the logger the SDK writes to (retries at INFO, each request at DEBUG).
LOGGER_NAME: Final = "stytch_totp"

# Bounds the API documents; checked before a request is sent.
EXPIRATION_MINUTES_MIN: Final = 5
EXPIRATION_MINUTES_MAX: Final = 1440
SESSION_DURATION_MINUTES_MIN: Final = 5
SESSION_DURATION_MINUTES_MAX: Final = 527040
SESSION_CUSTOM_CLAIMS_MAX_BYTES: Final = 4096
#: How deep ``session_custom_claims`` may nest (objects and arrays); deeper is refused.
SESSION_CUSTOM_CLAIMS_MAX_DEPTH: Final = 32
#: Longest ``user_id``, ``session_token`` or ``telemetry_id`` sent (Stytch's are under 100).
MAX_ID_LENGTH: Final = 256
#: Longest ``recovery_code`` sent (Stytch's are 14 characters).
MAX_RECOVERY_CODE_LENGTH: Final = 64
#: Longest ``session_jwt`` sent (a JWT with 4 KB of claims is well under it).
MAX_SESSION_JWT_LENGTH: Final = 16384
TOTP_CODE_DIGITS: Final = 6
TOTP_PERIOD_SECONDS: Final = 30
