"""How long one attempt may take: the public :class:`Timeout` and the rules for ``timeout=``."""

import math
from typing import Any

import attrs

from .._config import DEFAULT_TIMEOUT_CONNECT, DEFAULT_TIMEOUT_TOTAL
from .._exceptions import InvalidParamsError

__all__ = ["DEFAULT_TIMEOUT", "Timeout", "resolve_timeout"]


def _seconds(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParamsError(field, f"must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    # An infinite wait is no timeout at all, and aiohttp's timers overflow on it.
    if not (math.isfinite(seconds) and seconds > 0):
        raise InvalidParamsError(field, "must be a finite number of seconds > 0")
    return seconds


def _check(name: str) -> Any:
    def check(_: object, attribute: "attrs.Attribute[Any]", value: object) -> None:
        if value is None and attribute.name == "read":
            return
        _seconds(f"{name}.{attribute.name}", value)

    return check


@attrs.frozen
class Timeout:
    """How long one attempt may take; each retry gets the same again.

    ``timeout=`` (on the client, or per call) takes a ``Timeout`` or plain seconds, which set
    :attr:`total` and keep the default :attr:`connect` (or ``total`` itself, if shorter).
    """

    total: float = attrs.field(default=DEFAULT_TIMEOUT_TOTAL, validator=_check("Timeout"))
    """Seconds for the whole attempt: waiting for a pooled connection, connecting, sending,
    waiting for the answer and reading it."""
    connect: float = attrs.field(default=DEFAULT_TIMEOUT_CONNECT, validator=_check("Timeout"))
    """Seconds to open one TCP connection (TLS handshake included)."""
    read: float | None = attrs.field(default=None, validator=_check("Timeout"))
    """Longest silence, in seconds, while waiting for or reading the answer; ``None``: no limit
    beyond :attr:`total`."""


#: The client's default: 30 s per attempt, 5 s to connect.
DEFAULT_TIMEOUT = Timeout()


def resolve_timeout(value: object, *, default: Timeout = DEFAULT_TIMEOUT) -> Timeout:
    """The :class:`Timeout` that ``timeout=value`` means; ``None`` means ``default``.

    Raises :class:`InvalidParamsError` (field ``timeout``) for anything else than seconds or a
    :class:`Timeout`, and for zero, negative, infinite or NaN seconds.
    """
    if value is None:
        return default
    if isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParamsError(
            "timeout", f"must be seconds or a stytch_totp.Timeout, not {type(value).__name__}"
        )
    total = _seconds("timeout", value)
    return Timeout(total=total, connect=min(total, default.connect), read=default.read)
