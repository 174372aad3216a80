"""The thin I/O adapter: send one POST with aiohttp, return status, headers and body.

It knows nothing of Stytch. Its one judgment is how far a failed attempt got, expressed as a
:class:`~stytch_totp._core.retry.Safety`, because only the transport can tell "the connection could not
be made" from "the request went out and then the connection died".
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import aiohttp
import attrs
from multidict import CIMultiDictProxy
from yarl import URL

from .._core.retry import Safety
from .._exceptions import APIConnectionError, APITimeoutError

__all__ = ["RawResponse", "TransportFailure", "post"]


@attrs.frozen
class RawResponse:
    """What came back: ``body`` is ``None`` when it exceeded the size limit and was not read."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes | None = attrs.field(repr=False)  # may hold a TOTP secret or recovery codes


class TransportFailure(Exception):
    """An attempt that produced no response: the public ``error`` plus how far it got."""

    def __init__(self, error: APIConnectionError, safety: Safety) -> None:
        super().__init__(str(error))
        self.error = error
        self.safety = safety

    @classmethod
    def wrap(
        cls, error: APIConnectionError, safety: Safety, cause: BaseException
    ) -> TransportFailure:
        """The failure for ``cause``; the public ``error`` keeps ``cause`` as its ``__cause__``.

        Except aiohttp's response errors: they carry the request's headers, ``Authorization``
        included, so they are described in the message but not kept. ``safety`` also tells the
        caller whether the request may have been processed.
        """
        error.may_have_been_processed = safety is Safety.MAYBE_ACTED
        if isinstance(cause, aiohttp.ClientResponseError):
            error.__suppress_context__ = True
        else:
            error.__cause__ = cause
        return cls(error, safety)


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    length = response.content_length
    if length is not None and length > limit:
        return None
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if length is not None and encoding == "identity":
        return await response.read()
    # Chunked, or compressed: Content-Length (if any) is the compressed size, so count what
    # decompression yields; a few KB of gzip can expand to gigabytes.
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def post(
    session: aiohttp.ClientSession,
    url: URL,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: aiohttp.ClientTimeout,
    max_response_bytes: int,
    operation: str,
    reading: set[aiohttp.ClientResponse],
) -> RawResponse:
    """POST ``body`` to ``url``; never follows redirects, so credentials stay with this host.

    While the body is read, the response sits in ``reading``: closing a pool does not wake a
    reader waiting for more of a body (aiohttp forgets the payload when it closes the
    connection), closing the response does.
    """
    try:
        async with session.post(
            url,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            # Our own judgment of statuses, even on a caller's session that raises for them.
            raise_for_status=False,
        ) as response:
            reading.add(response)
            try:
                content = await _read_capped(response, max_response_bytes)
            finally:
                reading.discard(response)
            return RawResponse(response.status, response.headers, content)
    except (aiohttp.ClientSSLError, ssl.SSLError) as exc:
        error = APIConnectionError(
            f"TLS failure talking to {url.host}: {type(exc).__name__}",
            operation=operation,
        )
        raise TransportFailure.wrap(error, Safety.FINAL, exc) from exc
    except aiohttp.ConnectionTimeoutError as exc:
        error = APITimeoutError(
            f"timed out connecting to {url.host}",
            operation=operation,
        )
        raise TransportFailure.wrap(error, Safety.NOT_ACTED, exc) from exc
    except aiohttp.ClientConnectorError as exc:
        error = APIConnectionError(
            f"could not connect to {url.host}:{url.port} ({type(exc.os_error).__name__})",
            operation=operation,
        )
        raise TransportFailure.wrap(error, Safety.NOT_ACTED, exc) from exc
    except TimeoutError as exc:
        # A total or read timeout: the request may already be on the server.
        error = APITimeoutError(
            f"timed out waiting for {url.host} (the request may have been processed)",
            operation=operation,
        )
        raise TransportFailure.wrap(error, Safety.MAYBE_ACTED, exc) from exc
    except aiohttp.ClientResponseError as exc:
        error = APIConnectionError(
            f"unusable response from {url.host}: {type(exc).__name__} {exc.status} {exc.message}"
            " (the request may have been processed)",
            operation=operation,
        )
        raise TransportFailure.wrap(error, Safety.MAYBE_ACTED, exc) from None
    except aiohttp.ClientError as exc:
        error = APIConnectionError(
            f"connection to {url.host} failed mid-request: {type(exc).__name__}"
            " (the request may have been processed)",
            operation=operation,
        )
        raise TransportFailure.wrap(error, Safety.MAYBE_ACTED, exc) from exc
