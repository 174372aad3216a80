"""Tracing: OpenTelemetry spans for the client's requests, named after the operation.

``trace_configs=`` hands aiohttp ``TraceConfig`` objects to the client's own connection pool (its
size, TLS settings and send-safety stay the client's). Each request's ``trace_request_ctx`` names
the operation and the attempt, so a span can say ``stytch totps.authenticate`` instead of ``POST``.
"""

from __future__ import annotations

import types
from typing import Any

import aiohttp
from opentelemetry import trace
from opentelemetry.instrumentation.aiohttp_client import create_trace_config
from opentelemetry.sdk.trace import TracerProvider

import stytch_totp


def span_names_from_operations() -> aiohttp.TraceConfig:
    """Rename the current span (OpenTelemetry's, opened just before) after the operation."""

    async def on_request_start(
        session: aiohttp.ClientSession,
        context: types.SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        request: Any = context.trace_request_ctx  # {"operation": ..., "attempt": ...}
        span = trace.get_current_span()
        span.update_name(f"stytch {request['operation']}")
        span.set_attribute("stytch.attempt", request["attempt"])

    config = aiohttp.TraceConfig()
    config.on_request_start.append(on_request_start)
    return config


def make_client(provider: TracerProvider) -> stytch_totp.Client:
    return stytch_totp.Client.from_env(
        trace_configs=[
            create_trace_config(tracer_provider=provider),  # opens one span per request
            span_names_from_operations(),  # runs after it: the span is current
        ]
    )
