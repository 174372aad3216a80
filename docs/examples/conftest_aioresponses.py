"""conftest.py: let aioresponses 0.7.9 mock aiohttp 3.14.

Two breaks, until an aioresponses release fixes them (issue #289, pull request #292):

* aiohttp 3.14 added a required ``stream_writer`` argument to ``ClientResponse``, which
  aioresponses 0.7.9 does not pass: every mocked request fails with a ``TypeError``.
* aioresponses feeds a mocked body into a stream whose protocol has no parser; from 128 KiB on,
  the stream asks that protocol to pause and aiohttp fails an ``assert``. A protocol stand-in
  that can pause fixes it.
"""

from __future__ import annotations

import inspect
from typing import Any
from unittest.mock import Mock

import aiohttp
import aioresponses.core
from aiohttp.streams import StreamReader

if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:

    class _ClientResponseWithWriter(aiohttp.ClientResponse):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", Mock(output_size=0))
            super().__init__(*args, **kwargs)

    aioresponses.core.ClientResponse = _ClientResponseWithWriter  # type: ignore[attr-defined]


def _pausable_stream(loop: Any = None) -> StreamReader:
    # A Mock protocol accepts pause_reading()/resume_reading(); the body is all there already.
    return StreamReader(Mock(), limit=2**16, loop=loop)


aioresponses.core.stream_reader_factory = _pausable_stream  # type: ignore[attr-defined]
