"""Passing your own aiohttp.ClientSession: the Client uses it as is and never closes it.

Useful to share one connection pool across your app's HTTP clients, or to observe every
request with your own trace hooks, as here.
"""

from __future__ import annotations

import types

import aiohttp

import stytch_totp


class RequestLog:
    """Records method, path and status of each request: never bodies, which hold secrets."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.trace_config = aiohttp.TraceConfig()
        self.trace_config.on_request_end.append(self._request_ended)

    async def _request_ended(
        self,
        session: aiohttp.ClientSession,
        context: types.SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        self.lines.append(f"{params.method} {params.url.path} -> {params.response.status}")


async def main(user_id: str) -> list[str]:
    log = RequestLog()
    async with aiohttp.ClientSession(trace_configs=[log.trace_config]) as session:
        # The Client's timeouts and retries still apply. max_connections and ssl_context
        # describe a pool the Client would create: with your own session, you configure those.
        async with stytch_totp.Client.from_env(session=session) as client:
            await client.totps.recovery_codes(user_id=user_id)
        # Closing the Client left our session open; it closes when *we* are done with it.
        assert not session.closed
    return log.lines
