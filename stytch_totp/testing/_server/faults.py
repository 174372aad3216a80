"""Fault injection: make chosen requests fail, stall or lose their response.

Faults let users test how their code (and the SDK's retry rules) cope with what real networks
and servers do. A fault applies to the next ``times`` requests to a path, in the order faults
were injected, before authentication and routing.
"""

from __future__ import annotations

import asyncio
import math

import attrs

from ..._exceptions import InvalidParamsError

__all__ = ["ANY_PATH", "Fault", "Faults", "RequestLog", "normalize_path"]

#: Pass as ``path`` to make a fault match every request.
ANY_PATH = "*"


def normalize_path(path: str) -> str:
    """``"v1/totps"`` and ``"/v1/totps"`` name the same route."""
    if not isinstance(path, str) or not path:
        raise InvalidParamsError("path", "must be a non-empty str such as '/v1/totps'")
    if path == ANY_PATH:
        return path
    return path if path.startswith("/") else "/" + path


@attrs.define
class Fault:
    """One injected fault (returned by :meth:`Emulator.inject`; ``remaining`` counts down)."""

    path: str
    """The request path it applies to, or ``"*"`` for all."""
    status: int | None
    """Answer with this HTTP status instead of processing the request."""
    error_type: str | None
    """``error_type`` of that answer (by default the usual one for the status)."""
    remaining: int | None
    """Requests it still applies to; ``None`` means until :meth:`Emulator.clear_faults`."""
    delay: float
    """Seconds to wait before answering (or processing)."""
    retry_after: str | None
    """Value of the ``Retry-After`` header sent with ``status`` (seconds are rounded up)."""
    drop_connection: bool
    """Process the request, then close the connection without answering."""

    @classmethod
    def build(
        cls,
        path: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        retry_after: float | str | None = None,
        drop_connection: bool = False,
    ) -> Fault:
        """A validated fault; see :meth:`Emulator.inject` for the meaning of each argument."""
        if status is not None and (
            isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599
        ):
            raise InvalidParamsError("status", "must be an HTTP error status (400-599)")
        if status is not None and drop_connection:
            raise InvalidParamsError("drop_connection", "cannot be combined with status")
        if error_type is not None and status is None:
            raise InvalidParamsError("error_type", "needs a status")
        if retry_after is not None and status is None:
            raise InvalidParamsError("retry_after", "needs a status")
        if times is not None and (
            isinstance(times, bool) or not isinstance(times, int) or times < 1
        ):
            raise InvalidParamsError("times", "must be an int >= 1, or None for every request")
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not delay >= 0:
            raise InvalidParamsError("delay", "must be a number of seconds >= 0")
        if math.isinf(delay):
            raise InvalidParamsError("delay", "must be finite")
        if status is None and not drop_connection and delay == 0:
            raise InvalidParamsError("status", "give a status, a delay or drop_connection=True")
        header: str | None = None
        if isinstance(retry_after, int | float) and not isinstance(retry_after, bool):
            if not (math.isfinite(retry_after) and retry_after >= 0):
                raise InvalidParamsError("retry_after", "must be a finite number of seconds >= 0")
            # HTTP's delta-seconds are whole: round up, never asking for less than was given.
            header = str(math.ceil(retry_after))
        elif isinstance(retry_after, str):
            header = retry_after
        elif retry_after is not None:
            raise InvalidParamsError("retry_after", "must be seconds or an HTTP-date string")
        return cls(
            path=normalize_path(path),
            status=status,
            error_type=error_type,
            remaining=times,
            delay=float(delay),
            retry_after=header,
            drop_connection=drop_connection,
        )


class Faults:
    """The faults waiting to happen, oldest first."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []
        self._released = asyncio.Event()

    async def stall(self, seconds: float) -> bool:
        """Wait ``seconds``; ``False`` if :meth:`release` cut the wait short."""
        try:
            await asyncio.wait_for(self._released.wait(), seconds)
        except TimeoutError:
            return True
        return False

    def release(self) -> None:
        """End every stall now (the emulator is closing)."""
        self._released.set()

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, fault: Fault) -> Fault:
        """Queue ``fault``."""
        self._pending.append(fault)
        return fault

    def take(self, path: str) -> Fault | None:
        """The fault for a request to ``path``, counted as used; ``None`` if there is none."""
        for fault in self._pending:
            if fault.path in (path, ANY_PATH):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._pending.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        """Forget every pending fault."""
        self._pending.clear()


class RequestLog:
    """How many requests each path received (faulted ones included)."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def record(self, path: str) -> None:
        """Count one request to ``path``."""
        self._counts[path] = self._counts.get(path, 0) + 1

    def count(self, path: str | None = None) -> int:
        """Requests to ``path`` so far, or to every path when ``path`` is ``None``."""
        if path is None:
            return sum(self._counts.values())
        return self._counts.get(normalize_path(path), 0)
