"""The four ways of calling Stytch's TOTP API that the benchmarks compare.

Each variant sends the same two requests (``authenticate`` with a session, ``create``) with the same
credentials and returns what a caller would work with: a dict for the raw loops, typed models for
the SDKs. A variant is imported only inside the worker process that measures it, so one variant's
imports never weigh on another's numbers.
"""

from __future__ import annotations

import base64
import warnings
from typing import Any, ClassVar, Final, Protocol

PROJECT_ID: Final = "project-test-11111111-2222-3333-4444-555555555555"
SECRET: Final = "secret-test-s3cr3t-v4lu3-th4t-must-n3v3r-l34k="  # a made-up secret
USER_ID: Final = "user-test-16d9ba61-97a1-4ba4-9720-b03761dc50c6"
TOTP_CODE: Final = "123456"
SESSION_DURATION_MINUTES: Final = 60

#: The JSON bodies the raw loops send; the SDKs build the same ones from their keyword arguments.
PAYLOADS: Final[dict[str, dict[str, Any]]] = {
    "authenticate": {
        "user_id": USER_ID,
        "totp_code": TOTP_CODE,
        "session_duration_minutes": SESSION_DURATION_MINUTES,
    },
    "create": {"user_id": USER_ID},
}
PATHS: Final = {"authenticate": "v1/totps/authenticate", "create": "v1/totps"}


class Variant(Protocol):
    """One client under test."""

    name: ClassVar[str]
    """Short name used in results, tables and on the command line."""
    label: ClassVar[str]
    """Name shown in the docs."""

    async def open(self, base_url: str, *, unbounded_pool: bool) -> None:
        """Create the client. ``unbounded_pool`` lifts the connection pool limit."""

    async def authenticate(self) -> Any:
        """``POST /v1/totps/authenticate`` with a session; returns the parsed response."""

    async def create(self) -> Any:
        """``POST /v1/totps``; returns the parsed response."""

    async def close(self) -> None:
        """Release every connection."""


class NaiveAiohttp:
    """What most hand-written integrations look like: ``json=``, ``BasicAuth``, ``resp.json()``."""

    name: ClassVar[str] = "naive"
    label: ClassVar[str] = "naive raw aiohttp"

    async def open(self, base_url: str, *, unbounded_pool: bool) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=0) if unbounded_pool else None
        self._session = aiohttp.ClientSession(connector=connector)
        # aiohttp 3.14 deprecates BasicAuth, yet it is what the naive loop (and many apps) use.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._auth = aiohttp.BasicAuth(PROJECT_ID, SECRET)
        self._urls = {name: base_url + path for name, path in PATHS.items()}

    async def _post(self, endpoint: str) -> Any:
        async with self._session.post(
            self._urls[endpoint], json=PAYLOADS[endpoint], auth=self._auth
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def authenticate(self) -> Any:
        return await self._post("authenticate")

    async def create(self) -> Any:
        return await self._post("create")

    async def close(self) -> None:
        await self._session.close()


class TunedAiohttp:
    """A raw loop tuned by hand: precomputed headers, orjson both ways (where installed), no models."""

    name: ClassVar[str] = "tuned"
    label: ClassVar[str] = "tuned raw aiohttp"

    async def open(self, base_url: str, *, unbounded_pool: bool) -> None:
        import aiohttp

        from stytch_totp import _jsoncodec

        self._loads = _jsoncodec.loads
        connector = aiohttp.TCPConnector(limit=0) if unbounded_pool else None
        self._session = aiohttp.ClientSession(connector=connector)
        credentials = base64.b64encode(f"{PROJECT_ID}:{SECRET}".encode()).decode()
        self._headers = {
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/json",
        }
        self._requests = {
            name: (base_url + PATHS[name], _jsoncodec.dumps(payload))
            for name, payload in PAYLOADS.items()
        }

    async def _post(self, endpoint: str) -> Any:
        url, body = self._requests[endpoint]
        async with self._session.post(url, data=body, headers=self._headers) as response:
            content = await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            return self._loads(content)

    async def authenticate(self) -> Any:
        return await self._post("authenticate")

    async def create(self) -> Any:
        return await self._post("create")

    async def close(self) -> None:
        await self._session.close()


class OfficialStytch:
    """The official ``stytch`` SDK's async methods (pydantic models, aiohttp)."""

    name: ClassVar[str] = "official"
    label: ClassVar[str] = "official stytch SDK"

    async def open(self, base_url: str, *, unbounded_pool: bool) -> None:
        import aiohttp
        import stytch

        # Its default session has aiohttp's 100-connection pool; for the in-flight test it gets
        # a session without a limit, through its documented ``async_session`` argument.
        self._own_session = (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            if unbounded_pool
            else None
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # it builds an aiohttp.BasicAuth
            self._client = stytch.Client(
                PROJECT_ID, SECRET, environment=base_url, async_session=self._own_session
            )
        self._totps = self._client.totps

    async def authenticate(self) -> Any:
        return await self._totps.authenticate_async(
            user_id=USER_ID,
            totp_code=TOTP_CODE,
            session_duration_minutes=SESSION_DURATION_MINUTES,
        )

    async def create(self) -> Any:
        return await self._totps.create_async(user_id=USER_ID)

    async def close(self) -> None:
        await self._client.close()
        if self._own_session is not None:
            await self._own_session.close()


class StytchTOTP:
    """This project: typed params and models, retries, one pooled session."""

    name: ClassVar[str] = "stytch_totp"
    label: ClassVar[str] = "stytch-totp"

    async def open(self, base_url: str, *, unbounded_pool: bool) -> None:
        import stytch_totp

        options: dict[str, Any] = {}
        if unbounded_pool:
            # 10,000 connections opened at once on a busy machine can take longer than the
            # SDK's 5 s connect timeout: allow what aiohttp's defaults allow the raw loops.
            options = {
                "max_connections": 0,
                "timeout": stytch_totp.Timeout(total=300.0, connect=30.0),
            }
        self._client = stytch_totp.Client(PROJECT_ID, SECRET, base_url=base_url, **options)
        self._totps = self._client.totps

    async def authenticate(self) -> Any:
        return await self._totps.authenticate(
            user_id=USER_ID,
            totp_code=TOTP_CODE,
            session_duration_minutes=SESSION_DURATION_MINUTES,
        )

    async def create(self) -> Any:
        return await self._totps.create(user_id=USER_ID)

    async def close(self) -> None:
        await self._client.aclose()


class StytchTransportOnly:
    """stytch-totp's transport alone (``AiohttpTransport.send``, prebuilt requests, orjson):
    what the SDK's pool, send-safety observation and size cap cost over the tuned raw loop."""

    name: ClassVar[str] = "transport_only"
    label: ClassVar[str] = "stytch-totp's transport only"

    async def open(self, base_url: str, *, unbounded_pool: bool) -> None:
        from stytch_totp import AiohttpTransport, Timeout, TransportRequest, _jsoncodec

        self._loads = _jsoncodec.loads
        self._transport = AiohttpTransport(max_connections=0 if unbounded_pool else 100)
        credentials = base64.b64encode(f"{PROJECT_ID}:{SECRET}".encode()).decode()
        headers = {"Authorization": f"Basic {credentials}", "Content-Type": "application/json"}
        # As for the whole SDK above: aiohttp's default connect allowance when unbounded.
        timeout = Timeout(total=300.0, connect=30.0) if unbounded_pool else Timeout()
        self._requests = {
            name: TransportRequest(
                "POST",
                base_url + PATHS[name],
                "/" + PATHS[name],
                headers,
                _jsoncodec.dumps(payload),
                timeout,
                f"totps.{name}",
                1,
            )
            for name, payload in PAYLOADS.items()
        }

    async def _post(self, endpoint: str) -> Any:
        response = await self._transport.send(self._requests[endpoint])
        if response.status_code != 200 or response.body is None:
            raise RuntimeError(f"HTTP {response.status_code}")
        return self._loads(response.body)

    async def authenticate(self) -> Any:
        return await self._post("authenticate")

    async def create(self) -> Any:
        return await self._post("create")

    async def close(self) -> None:
        await self._transport.aclose()


class StytchWithoutModels(StytchTOTP):
    """stytch-totp as shipped, with ``_jsoncodec.loads`` where the typed models are built: the call
    path (arguments, params, encoding, the retry loop) without the model layer."""

    name: ClassVar[str] = "no_models"
    label: ClassVar[str] = "stytch-totp without models"

    async def open(self, base_url: str, *, unbounded_pool: bool) -> None:
        import stytch_totp._client as client_module
        from stytch_totp import _jsoncodec

        def decoded_as_dicts(operation: Any, response: Any, attempts: int) -> Any:
            return _jsoncodec.loads(response.body)

        # Private, on purpose: the layer measured is everything but this function.
        self._client_module = client_module
        self._decoded = getattr(client_module, "_decoded")  # noqa: B009
        setattr(client_module, "_decoded", decoded_as_dicts)  # noqa: B010 - until close()
        await super().open(base_url, unbounded_pool=unbounded_pool)

    async def close(self) -> None:
        await super().close()
        setattr(self._client_module, "_decoded", self._decoded)  # noqa: B010


#: Every variant, in the order tables list them.
VARIANTS: Final[dict[str, type[Variant]]] = {
    variant.name: variant for variant in (NaiveAiohttp, TunedAiohttp, OfficialStytch, StytchTOTP)
}
#: Layers of stytch-totp, for the breakdown of where its cost goes (not in the main tables).
LAYERS: Final[dict[str, type[Variant]]] = {
    variant.name: variant for variant in (StytchTransportOnly, StytchWithoutModels)
}


def check_result(endpoint: str, result: Any) -> None:
    """Fail loudly unless ``result`` is a real, complete answer for ``endpoint``."""
    if isinstance(result, dict):
        user_id, session = result.get("user_id"), result.get("session")
    else:
        user_id, session = getattr(result, "user_id", None), getattr(result, "session", None)
    if user_id != USER_ID:
        raise AssertionError(f"{endpoint}: unexpected response {type(result).__name__}")
    if endpoint == "authenticate" and not session:
        raise AssertionError("authenticate: the response has no session")
