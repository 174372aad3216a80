"""Type aliases shared by the public signatures."""

from __future__ import annotations

from typing import TypeAlias

import aiohttp

__all__ = ["Timeout"]

Timeout: TypeAlias = float | aiohttp.ClientTimeout
"""Seconds for the whole attempt, or a full ``aiohttp.ClientTimeout``."""
