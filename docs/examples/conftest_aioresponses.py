"""conftest.py: let aioresponses 0.7.9 mock aiohttp 3.14.

aiohttp 3.14 added a required ``stream_writer`` argument to ``ClientResponse``, which
aioresponses 0.7.9 does not pass (aioresponses issue #289). Until a fixed release ships, give it
one. Without this, every mocked request fails with a ``TypeError``.
"""

from __future__ import annotations

import inspect
from typing import Any
from unittest.mock import Mock

import aiohttp
import aioresponses.core

if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:

    class _ClientResponseWithWriter(aiohttp.ClientResponse):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", Mock(output_size=0))
            super().__init__(*args, **kwargs)

    aioresponses.core.ClientResponse = _ClientResponseWithWriter  # type: ignore[attr-defined]
