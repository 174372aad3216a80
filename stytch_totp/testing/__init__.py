"""Testing tools: a local, stateful Stytch TOTP emulator and a pytest plugin.

::

    from stytch_totp.testing import Emulator

    async with Emulator() as emu:
        user_id = emu.create_user(email="ada@example.com")
        async with emu.client() as client:
            ...

The emulator needs the ``emulator`` extra (``pip install 'stytch-totp[emulator]'``). It is
imported on first use, so the pytest plugin (loaded by every pytest run once stytch-totp is
installed) works without the extra; loading it costs only the import of ``stytch_totp`` itself
(aiohttp, attrs, cattrs, orjson).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .. import _publish
from ._server.clock import Clock
from ._server.errors import EmulatorError
from ._server.faults import Fault

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["Clock", "Emulator", "EmulatorError", "Fault"]

_publish.publish(__name__, globals(), ["Clock", "EmulatorError", "Fault"])

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
