"""Client construction: environments, base URLs, credentials, from_env, defaults."""

from __future__ import annotations

import pydoc

import aiohttp
import pytest

import stytch_totp
from stytch_totp import Client, InvalidParamsError, RetryPolicy, Timeout
from tests.conftest import PROJECT_ID, SECRET


def test_construction_outside_an_event_loop_creates_no_session() -> None:
    client = Client(PROJECT_ID, SECRET)
    assert isinstance(client.transport, stytch_totp.AiohttpTransport)
    assert client.transport._session is None
    assert not client.closed


@pytest.mark.parametrize(
    ("project_id", "expected"),
    [
        ("project-live-c60c0abe-c25a-4472-a9ed-320c6667d317", "https://api.stytch.com/"),
        ("project-test-c60c0abe-c25a-4472-a9ed-320c6667d317", "https://test.stytch.com/"),
    ],
)
def test_environment_is_derived_from_the_project_id(project_id: str, expected: str) -> None:
    assert Client(project_id, SECRET).base_url == expected


def test_a_project_id_stytch_would_not_issue_is_refused_unless_base_url_is_given() -> None:
    with pytest.raises(InvalidParamsError, match="project-test-") as caught:
        Client("my-project", SECRET)
    assert caught.value.field == "project_id"
    # Self-hosted proxies and emulators name their projects as they like.
    assert (
        Client("my-project", SECRET, base_url="http://127.0.0.1:8787/").project_id == "my-project"
    )


def test_swapped_credentials_are_refused_without_showing_either() -> None:
    with pytest.raises(InvalidParamsError) as caught:
        Client(SECRET, PROJECT_ID)
    assert caught.value.field == "project_id"
    assert "swapped" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert PROJECT_ID not in str(caught.value)
    # Even where any project id would do, a secret in its place is refused.
    with pytest.raises(InvalidParamsError) as caught:
        Client(SECRET, "anything", base_url="http://127.0.0.1:8787/")
    assert SECRET not in repr(caught.value)


def test_explicit_environment_wins_over_the_project_id() -> None:
    assert Client(PROJECT_ID, SECRET, environment="live").base_url == "https://api.stytch.com/"
    live_project = "project-live-x"
    assert Client(live_project, SECRET, environment="test").base_url == "https://test.stytch.com/"


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(InvalidParamsError) as caught:
        Client(PROJECT_ID, SECRET, environment="staging")  # type: ignore[arg-type]
    assert caught.value.field == "environment"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://stytch.example.com", "https://stytch.example.com/"),
        ("https://proxy.example.com/stytch", "https://proxy.example.com/stytch/"),
        ("http://127.0.0.1:8787/", "http://127.0.0.1:8787/"),
        ("http://localhost:8787", "http://localhost:8787/"),
        ("http://[::1]:8787/", "http://[::1]:8787/"),
        ("http://127.10.0.1:9/", "http://127.10.0.1:9/"),
    ],
)
def test_base_url_overrides_the_environment(base_url: str, expected: str) -> None:
    client = Client(PROJECT_ID, SECRET, environment="live", base_url=base_url)
    assert client.base_url.rstrip("/") == expected.rstrip("/")


def test_base_url_keeps_its_path_for_every_operation() -> None:
    client = Client(PROJECT_ID, SECRET, base_url="https://proxy.example.com/stytch")
    url, path = client._url(stytch_totp._core.protocol.AUTHENTICATE)
    assert url == "https://proxy.example.com/stytch/v1/totps/authenticate"
    assert path == "/stytch/v1/totps/authenticate"


@pytest.mark.parametrize(
    "base_url",
    [
        "http://stytch.example.com/",  # plain http to a non-loopback host would expose the secret
        "http://10.0.0.1/",
        "ftp://127.0.0.1/",
        "127.0.0.1:8787",
        "https://user:pass@stytch.example.com/",
        "https://stytch.example.com/?x=1",
        "",
    ],
)
def test_unsafe_or_malformed_base_urls_are_refused(base_url: str) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        Client(PROJECT_ID, SECRET, base_url=base_url)
    assert caught.value.field == "base_url"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"project_id": "", "secret": SECRET}, "project_id"),
        ({"project_id": PROJECT_ID, "secret": ""}, "secret"),
        ({"project_id": 123, "secret": SECRET}, "project_id"),
        ({"project_id": "a:b", "secret": SECRET}, "project_id"),
        ({"project_id": PROJECT_ID, "secret": SECRET, "max_connections": -1}, "max_connections"),
        ({"project_id": PROJECT_ID, "secret": SECRET, "max_connections": True}, "max_connections"),
        ({"project_id": PROJECT_ID, "secret": SECRET, "timeout": 0}, "timeout"),
        ({"project_id": PROJECT_ID, "secret": SECRET, "timeout": "5"}, "timeout"),
        ({"project_id": PROJECT_ID, "secret": SECRET, "retry": 3}, "retry"),
        (
            {"project_id": PROJECT_ID, "secret": SECRET, "max_response_bytes": 0},
            "max_response_bytes",
        ),
        (
            {"project_id": PROJECT_ID, "secret": SECRET, "max_response_bytes": 1.5},
            "max_response_bytes",
        ),
    ],
)
def test_bad_constructor_arguments_raise_invalid_params(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        Client(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert SECRET not in str(caught.value)


def test_default_timeout_is_30s_total_and_5s_to_connect() -> None:
    timeout = Client(PROJECT_ID, SECRET)._timeout
    assert timeout == Timeout(total=30.0, connect=5.0, read=None)


def test_timeout_in_seconds_sets_the_total_per_attempt() -> None:
    timeout = Client(PROJECT_ID, SECRET, timeout=2.5)._timeout
    assert timeout == Timeout(total=2.5, connect=2.5)


def test_timeout_object_is_used_as_is() -> None:
    given = Timeout(total=7, connect=1, read=3)
    assert Client(PROJECT_ID, SECRET, timeout=given)._timeout is given


def test_an_aiohttp_client_timeout_is_refused_with_the_way_to_say_it() -> None:
    with pytest.raises(InvalidParamsError, match=r"stytch_totp\.Timeout") as caught:
        Client(PROJECT_ID, SECRET, timeout=aiohttp.ClientTimeout(total=7))  # type: ignore[arg-type]
    assert caught.value.field == "timeout"


def test_default_retry_policy() -> None:
    assert Client(PROJECT_ID, SECRET)._retry == RetryPolicy(
        max_retries=2, initial_backoff=0.5, max_backoff=8.0, max_retry_after=60.0
    )


def test_headers_are_computed_once_with_basic_auth_and_user_agent() -> None:
    client = Client(PROJECT_ID, SECRET, user_agent="myapp/1.2")
    assert client._headers["Authorization"] == aiohttp.encode_basic_auth(PROJECT_ID, SECRET)
    assert (
        client._headers["User-Agent"] == f"stytch-totp-python/{stytch_totp.__version__} myapp/1.2"
    )
    assert client._headers["Content-Type"] == "application/json"


def test_repr_shows_project_and_url_but_never_the_secret() -> None:
    client = Client(PROJECT_ID, SECRET)
    text = repr(client) + str(client) + repr(client.totps)
    assert PROJECT_ID in text
    assert SECRET not in text


def test_from_env_reads_the_three_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYTCH_PROJECT_ID", PROJECT_ID)
    monkeypatch.setenv("STYTCH_SECRET", SECRET)
    monkeypatch.setenv("STYTCH_BASE_URL", "http://127.0.0.1:8787/")
    client = Client.from_env(max_connections=5)
    assert client.project_id == PROJECT_ID
    assert client.base_url.startswith("http://127.0.0.1:8787")
    assert isinstance(client.transport, stytch_totp.AiohttpTransport)
    assert client.transport.max_connections == 5


def test_from_env_without_base_url_uses_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYTCH_PROJECT_ID", "project-live-abc")
    monkeypatch.setenv("STYTCH_SECRET", SECRET)
    monkeypatch.delenv("STYTCH_BASE_URL", raising=False)
    assert Client.from_env().base_url == "https://api.stytch.com/"


@pytest.mark.parametrize("missing", ["STYTCH_PROJECT_ID", "STYTCH_SECRET"])
def test_from_env_names_a_missing_variable(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    monkeypatch.setenv("STYTCH_PROJECT_ID", PROJECT_ID)
    monkeypatch.setenv("STYTCH_SECRET", SECRET)
    monkeypatch.delenv(missing)
    with pytest.raises(InvalidParamsError) as caught:
        Client.from_env()
    assert caught.value.field == missing


@pytest.mark.parametrize("client_class", [Client, stytch_totp.SyncClient])
def test_help_on_the_client_lists_its_operations(client_class: type) -> None:
    # `totps` is the entry point to everything: help() must show it, with what it holds.
    text = pydoc.render_doc(client_class, renderer=pydoc.plaintext)  # type: ignore[attr-defined]
    assert "totps" in text
    assert "create_many" in text
