"""Testing tools: a local, stateful Stytch TOTP emulator, a threaded runner, a pytest plugin.

::

    from stytch_totp.testing import Emulator

    async with Emulator() as emu:
        user_id = emu.create_user(email="ada@example.com")
        async with emu.client() as client:
            ...

:class:`ThreadedEmulator` runs one on its own thread, for tests whose code blocks (Starlette's
``TestClient``, synchronous clients) or that are not async at all.

The emulator needs the ``emulator`` extra (``pip install 'stytch-totp[emulator]'``). It is
imported on first use, so the pytest plugin (loaded by every pytest run once stytch-totp is
installed) works without the extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .. import _publish
from ._mock import MockResponse, MockTransport
from ._server.clock import Clock
from ._server.errors import EmulatorError
from ._server.faults import Fault
from ._threaded import ThreadedClock, ThreadedEmulator

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = [
    "Clock",
    "Emulator",
    "EmulatorError",
    "Fault",
    "MockResponse",
    "MockTransport",
    "ThreadedClock",
    "ThreadedEmulator",
]

# ``Emulator`` is imported (and published) on first use, by ``__getattr__`` below.
_publish.publish(__name__, globals(), [name for name in __all__ if name != "Emulator"])

_EXTRA_HINT = "the Stytch emulator needs the 'emulator' extra: pip install 'stytch-totp[emulator]'"


def __getattr__(name: str) -> Any:
    if name != "Emulator":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(f"{__name__}._emulator")
    except ImportError as exc:
        if exc.name in ("zxingcpp", "jwt", "cryptography"):
            raise ImportError(f"{_EXTRA_HINT} ({exc.name} is missing)", name=exc.name) from exc
        raise
    emulator: type[Emulator] = module.Emulator
    globals()["Emulator"] = emulator
    _publish.publish(__name__, globals(), ["Emulator"])
    return emulator
