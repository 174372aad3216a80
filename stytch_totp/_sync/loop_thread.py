"""One event loop on one daemon thread, serving blocking callers from any number of threads.

This is how :class:`~stytch_totp.SyncClient` runs the async client: a blocking call submits its
coroutine to the loop thread and waits for the result. The async client's pool, retry loop and
send-safety are used as they are (not copied), and threads share one bounded pool.

Three rules keep it safe:

* **Never from a running event loop.** Waiting for the loop thread would block the caller's own
  loop; such a call is refused at once.
* **Interrupts end the call.** A ``KeyboardInterrupt`` (or any exception) while waiting cancels
  the coroutine on the loop thread and waits a little for it to end (so its connection goes
  back to the pool) before it propagates.
* **Fork-safe.** A forked child never touches the parent's loop, thread or sockets: the runner
  notices the new process and starts afresh, and :func:`os.register_at_fork` resets its lock,
  which another thread of the parent may have held at the moment of the fork.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, Final, TypeVar

__all__ = ["LoopThread", "in_running_loop"]

T = TypeVar("T")

#: Seconds an interrupted call is given to end on the loop thread before the interrupt propagates.
_CANCEL_GRACE: Final = 5.0
#: Seconds ``close`` waits for the loop thread to finish.
_JOIN_TIMEOUT: Final = 10.0

_RUNNERS: weakref.WeakSet[LoopThread] = weakref.WeakSet()


def in_running_loop() -> bool:
    """Whether the calling thread is running an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class LoopThread:
    """An event loop on a daemon thread, started on first use, stopped by :meth:`close`.

    ``on_new_process`` is called (without arguments) the first time the runner is used in a
    forked child, before the child's own loop starts: the owner drops what belonged to the
    parent there.
    """

    def __init__(self, name: str, on_new_process: Callable[[], None] | None = None) -> None:
        self._name = name
        self._on_new_process = on_new_process
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False
        _RUNNERS.add(self)

    @property
    def thread(self) -> threading.Thread | None:
        """The loop's thread, once started."""
        return self._thread

    def _after_fork_in_child(self) -> None:
        # Whatever the parent's threads held, nothing of it runs here: a fresh lock, no loop.
        self._lock = threading.Lock()

    def _loop_for_this_process(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._pid != os.getpid():
                # A forked child: the parent's loop and thread do not exist here, and its
                # sockets must not be written to. Forget them (never close them: that would
                # touch the parent's connections) and start over.
                self._pid = os.getpid()
                self._loop = self._thread = None
                if self._on_new_process is not None:
                    self._on_new_process()
            if self._closed:
                raise RuntimeError("closed")
            if self._loop is None:
                self._loop, self._thread = self._start()
            return self._loop

    def _start(self) -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                try:
                    loop.run_until_complete(loop.shutdown_asyncgens())
                finally:
                    loop.close()

        thread = threading.Thread(target=run, name=self._name, daemon=True)
        thread.start()
        ready.wait()
        return loop, thread

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop thread and return its result (or raise its error).

        Raises ``RuntimeError("closed")`` once :meth:`close` was called; the caller turns it
        into its own error.
        """
        try:
            loop = self._loop_for_this_process()
        except BaseException:
            coroutine.close()  # never awaited: say so quietly
            raise
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            return future.result()
        except BaseException:
            if not future.done():
                # Interrupted while waiting (Ctrl-C): end the call, let it release its
                # connection, then let the interrupt through.
                future.cancel()
                try:
                    future.result(timeout=_CANCEL_GRACE)
                except (concurrent.futures.CancelledError, concurrent.futures.TimeoutError):
                    pass
                except Exception:  # noqa: S110 - the interrupt is what the caller must see
                    pass
            raise

    def close(self, final: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        """Run ``final()`` on the loop (e.g. closing the client), stop the loop, join the thread.

        Idempotent; afterwards :meth:`run` raises ``RuntimeError("closed")``.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            forked = self._pid != os.getpid()
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if forked or loop is None or thread is None:
            return  # nothing started in this process
        if final is not None:
            concurrent_future = asyncio.run_coroutine_threadsafe(final(), loop)
            concurrent_future.result(timeout=_JOIN_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not threading.current_thread():
            thread.join(_JOIN_TIMEOUT)


def _reset_all_after_fork() -> None:
    for runner in list(_RUNNERS):
        runner._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_all_after_fork)
