"""Every example of the documentation, run against the emulator over real HTTP on 127.0.0.1.

Each test drives one file of ``docs/examples/`` the way the page that includes it describes, and
checks what the page promises (``test_pages.py`` checks that every file is included somewhere).
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import aiohttp
import attrs
import httpx2
import pytest
from aiohttp import web
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient

import stytch_totp
from stytch_totp.testing import Emulator, ThreadedEmulator

from .conftest import EXAMPLES, Enrolled, enroll, load_example, wrong_code

# --------------------------------------------------------------------------------------------
# quickstart.md
# --------------------------------------------------------------------------------------------


async def test_quickstart_enrolls_then_verifies_the_first_code(
    stytch_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    quickstart = load_example("quickstart")
    user_id = stytch_env.create_user("ada@example.com")

    await quickstart.main(user_id, ask_for_code=stytch_env.totp_code)

    created, verified = capsys.readouterr().out.splitlines()
    assert created.startswith("Created totp-test-")
    assert created.endswith(" with 10 recovery codes")
    assert verified.startswith("Verified: session session-test-")
    async with stytch_env.client() as client:
        listing = await client.totps.recovery_codes(user_id=user_id)
    assert [totp.verified for totp in listing.totps] == [True]


async def test_create_user_makes_a_user_for_the_quickstart(stytch_env: Emulator) -> None:
    create_user = load_example("create_user")

    user_id = await create_user.create_user("ada@example.com")

    assert user_id.startswith("user-test-")
    async with stytch_env.client() as client:
        created = await client.totps.create(user_id=user_id)
    assert created.user.emails[0].email == "ada@example.com"


async def test_the_quickstart_pages_scripts_run_as_shown(
    stytch_env: Emulator, tmp_path: Path
) -> None:
    """quickstart.md, "Without a Stytch account": ``python create_user.py ada@example.com``,
    then ``python quickstart.py <user_id>``, typing the code the authenticator app would show.
    Both run as scripts in new processes (the emulator answers in this test's loop meanwhile)."""
    for script in ("create_user.py", "quickstart.py"):
        shutil.copyfile(EXAMPLES / script, tmp_path / script)

    async def start(*args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=tmp_path,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    create_user = await start("create_user.py", "ada@example.com")
    out, err = await asyncio.wait_for(create_user.communicate(), timeout=60)
    assert create_user.returncode == 0, err.decode()
    user_id = out.decode().strip()
    assert user_id.startswith("user-test-")

    quickstart = await start("quickstart.py", user_id)
    assert quickstart.stdout is not None
    assert quickstart.stdin is not None
    created = await asyncio.wait_for(quickstart.stdout.readline(), timeout=60)
    assert created.decode().startswith("Created totp-test-"), created
    # The prompt ends without a newline: read up to the key's line, then answer the prompt.
    asked = await asyncio.wait_for(quickstart.stdout.readline(), timeout=60)
    secret = asked.decode().rsplit(": ", 1)[1].strip()
    quickstart.stdin.write(f"{stytch_env.totp_code(secret)}\n".encode())
    out, err = await asyncio.wait_for(quickstart.communicate(), timeout=60)

    assert quickstart.returncode == 0, err.decode()
    assert "Verified: session session-test-" in out.decode()


async def test_quickstart_asks_in_the_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    quickstart = load_example("quickstart")
    prompts: list[str] = []

    def typed(prompt: str) -> str:
        prompts.append(prompt)
        return " 123456\n"

    monkeypatch.setattr("builtins.input", typed)

    assert quickstart.ask_in_terminal("JBSWY3DPEHPK3PXP") == "123456"
    assert capsys.readouterr().out == "Add this key to your authenticator app: JBSWY3DPEHPK3PXP\n"
    assert prompts == ["Then type the 6-digit code it shows: "]


# --------------------------------------------------------------------------------------------
# using-the-client.md
# --------------------------------------------------------------------------------------------


async def test_aiohttp_app_shares_one_client_and_closes_it_at_shutdown(
    stytch_env: Emulator,
) -> None:
    example = load_example("app_aiohttp")
    async with stytch_env.client() as setup:
        user = await enroll(stytch_env, setup, "ada@example.com")
    app = example.make_app()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}/mfa/totp"
        code = stytch_env.totp_code(user.secret)
        async with aiohttp.ClientSession() as browser:
            async with browser.post(url, json={"user_id": user.user_id, "code": code}) as ok:
                assert ok.status == 200
                assert await ok.json() == {"user_id": user.user_id}
                assert ok.cookies["stytch_session"]["httponly"]
            async with browser.post(url, json={"user_id": user.user_id, "code": code}) as replay:
                assert replay.status == 401
            async with browser.post(url, json={"user_id": user.user_id, "code": "12345"}) as bad:
                assert bad.status == 400
        client = app[example.STYTCH]
        assert not client.closed
    finally:
        await runner.cleanup()
    assert client.closed
    # The malformed code never reached the emulator.
    assert stytch_env.request_count("/v1/totps/authenticate") == 3  # enroll + ok + replay


async def test_aiohttp_app_answers_500_when_its_stytch_credentials_are_wrong(
    stytch_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_example("app_aiohttp")
    monkeypatch.setenv("STYTCH_SECRET", "secret-test-not-the-right-one")
    user_id = stytch_env.create_user("ada@example.com")
    runner = web.AppRunner(example.make_app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        form = {"user_id": user_id, "code": "123456"}
        async with (
            aiohttp.ClientSession() as browser,
            browser.post(f"http://{host}:{port}/mfa/totp", json=form) as response,
        ):
            assert response.status == 500  # not a 401 "wrong code" for the user
    finally:
        await runner.cleanup()


async def test_starlette_app_gets_the_client_from_its_lifespan(stytch_env: Emulator) -> None:
    # The recipe of testing.md (asgi-lifespan and httpx2's ASGITransport, in the test's loop)
    # works for a plain Starlette app as for FastAPI.
    example = load_example("app_starlette")
    async with stytch_env.client() as setup:
        user = await enroll(stytch_env, setup, "ada@example.com")
    form = {"user_id": user.user_id, "code": stytch_env.totp_code(user.secret)}

    async with (
        LifespanManager(example.app) as started,
        httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=started.app), base_url="http://testserver"
        ) as browser,
    ):
        ok = await browser.post("/mfa/totp", json=form)
        replay = await browser.post("/mfa/totp", json=form)
        bad = await browser.post("/mfa/totp", json={**form, "code": "abc"})
    assert ok.json() == {"user_id": user.user_id}
    assert "httponly" in ok.headers["set-cookie"].lower()
    assert [ok.status_code, replay.status_code, bad.status_code] == [200, 401, 400]


def test_starlette_app_through_testclient_with_the_threaded_emulator(
    stytch_emulator_thread: ThreadedEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_example("app_starlette")
    monkeypatch.setenv("STYTCH_PROJECT_ID", stytch_emulator_thread.project_id)
    monkeypatch.setenv("STYTCH_SECRET", stytch_emulator_thread.secret)
    monkeypatch.setenv("STYTCH_BASE_URL", stytch_emulator_thread.url)

    async def enroll_one() -> Enrolled:
        async with stytch_emulator_thread.client() as setup:
            return await enroll(stytch_emulator_thread, setup, "ada@example.com")

    user = asyncio.run(enroll_one())
    form = {"user_id": user.user_id, "code": stytch_emulator_thread.totp_code(user.secret)}

    with TestClient(example.app) as browser:
        ok = browser.post("/mfa/totp", json=form)
        replay = browser.post("/mfa/totp", json=form)
        bad = browser.post("/mfa/totp", json={**form, "code": "12345"})
        seen_by_app = browser.app_state["stytch"]

    assert [ok.status_code, replay.status_code, bad.status_code] == [200, 401, 400]
    assert seen_by_app.closed  # the lifespan closed it when TestClient stopped the app


async def test_testclient_in_an_async_test_with_the_threaded_emulator(
    stytch_emulator_thread: ThreadedEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # testing.md's warning: TestClient blocks the test's loop; the threaded emulator does not mind.
    example = load_example("app_starlette")
    monkeypatch.setenv("STYTCH_PROJECT_ID", stytch_emulator_thread.project_id)
    monkeypatch.setenv("STYTCH_SECRET", stytch_emulator_thread.secret)
    monkeypatch.setenv("STYTCH_BASE_URL", stytch_emulator_thread.url)
    async with stytch_emulator_thread.client() as setup:
        user = await enroll(stytch_emulator_thread, setup, "ada@example.com")
    form = {"user_id": user.user_id, "code": stytch_emulator_thread.totp_code(user.secret)}

    with TestClient(example.app) as browser:  # blocks this test's loop while the app runs
        ok = browser.post("/mfa/totp", json=form)

    assert ok.status_code == 200
    assert stytch_emulator_thread.request_count("/v1/totps/authenticate") == 2  # enroll + ok


async def test_workers_find_the_users_running_low_on_recovery_codes(
    stytch_env: Emulator,
) -> None:
    workers = load_example("workers")
    async with stytch_env.client() as setup:
        plenty = await enroll(stytch_env, setup, "plenty@example.com")
        low = await enroll(stytch_env, setup, "low@example.com")
        for code in low.recovery_codes[:7]:
            await setup.totps.recover(user_id=low.user_id, recovery_code=code)
    never_enrolled = stytch_env.create_user("new@example.com")

    running_low = await workers.users_running_low(
        [plenty.user_id, low.user_id, never_enrolled], workers=2
    )

    assert running_low == [low.user_id]


async def test_tracing_names_one_span_per_request_after_its_operation(
    stytch_env: Emulator,
) -> None:
    tracing = load_example("tracing")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with stytch_env.client() as setup:
        user = await enroll(stytch_env, setup, "ada@example.com")

    async with tracing.make_client(provider) as client:
        await client.totps.recovery_codes(user_id=user.user_id)
        with pytest.raises(stytch_totp.AuthenticationError):
            await client.totps.authenticate(user_id=user.user_id, totp_code="000000")

    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == [
        "stytch totps.recovery_codes",
        "stytch totps.authenticate",
    ]
    assert [span.attributes.get("stytch.attempt") for span in spans] == [1, 1]  # type: ignore[union-attr]
    # The spans carry the method and URL, never a header or body (the secret, the code).
    recorded = repr([dict(span.attributes or {}) for span in spans])
    assert stytch_env.secret not in recorded
    assert "000000" not in recorded


async def test_raw_response_shows_attempts_and_headers_then_the_model(
    stytch_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    raw_response = load_example("raw_response")
    async with stytch_env.client() as client:
        user = await enroll(stytch_env, client, "ada@example.com")
        left, attempts, content_type = await raw_response.codes_left(client, user.user_id)
    assert left == 10
    assert attempts == 1
    assert content_type is not None
    assert content_type.startswith("application/json")
    assert "totps.recovery_codes: HTTP 200 after 1 attempt(s)" in capsys.readouterr().out


async def test_timeouts_client_is_configured_from_the_environment(stytch_env: Emulator) -> None:
    timeouts = load_example("timeouts")
    async with timeouts.make_client() as client:
        assert client.base_url == stytch_env.url
        user = await enroll(stytch_env, client, "ada@example.com")
        code = stytch_env.totp_code(user.secret)
        assert await timeouts.second_factor(client, user.user_id, code) == "ok"


async def test_a_slow_authenticate_times_out_and_is_not_sent_twice(
    stytch_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeouts = load_example("timeouts")
    monkeypatch.setattr(timeouts, "LOGIN_TIMEOUT", 0.2)
    async with stytch_env.client() as client:
        user = await enroll(stytch_env, client, "ada@example.com")
        stytch_env.inject("/v1/totps/authenticate", delay=2.0)
        before = stytch_env.request_count("/v1/totps/authenticate")

        answer = await timeouts.second_factor(
            client, user.user_id, stytch_env.totp_code(user.secret)
        )

    assert answer == "Stytch did not answer in time; wait for the next code and try again."
    assert stytch_env.request_count("/v1/totps/authenticate") == before + 1


async def test_an_unreachable_stytch_is_told_apart(
    refused_url: str, no_retry_waits: list[float]
) -> None:
    timeouts = load_example("timeouts")
    async with stytch_totp.Client("project-test-x", "secret-x", base_url=refused_url) as client:
        answer = await timeouts.second_factor(client, "user-test-x", "123456")

    assert answer == "Stytch cannot be reached right now; try again in a moment."
    assert len(no_retry_waits) == 2  # nothing was sent, so the default policy retried twice


# --------------------------------------------------------------------------------------------
# errors.md
# --------------------------------------------------------------------------------------------


async def test_check_code_tells_each_case_apart(stytch_env: Emulator) -> None:
    errors = load_example("errors")
    outcome = errors.Outcome
    async with stytch_env.client() as client:
        user = await enroll(stytch_env, client, "ada@example.com")
        code = stytch_env.totp_code(user.secret)

        assert await errors.check_code(client, user.user_id, "12345") is outcome.MALFORMED
        assert await errors.check_code(client, user.user_id, code) is outcome.OK
        assert await errors.check_code(client, user.user_id, code) is outcome.REPLAYED
        wrong = wrong_code(stytch_env, user.secret)
        assert await errors.check_code(client, user.user_id, wrong) is outcome.WRONG_CODE

        never_enrolled = stytch_env.create_user("new@example.com")
        assert await errors.check_code(client, never_enrolled, code) is outcome.NOT_ENROLLED


async def test_check_code_reports_a_lock_even_for_the_right_code(stytch_env: Emulator) -> None:
    errors = load_example("errors")
    async with stytch_env.client() as client:
        user = await enroll(stytch_env, client, "ada@example.com")
        wrong = wrong_code(stytch_env, user.secret)
        outcomes = [await errors.check_code(client, user.user_id, wrong) for _ in range(10)]
        right = await errors.check_code(client, user.user_id, stytch_env.totp_code(user.secret))

    assert outcomes == [errors.Outcome.WRONG_CODE] * 9 + [errors.Outcome.LOCKED]
    assert right is errors.Outcome.LOCKED


async def test_an_enrollment_not_verified_in_time_expires(stytch_env: Emulator) -> None:
    errors = load_example("errors")
    async with stytch_env.client() as client:
        user_id = stytch_env.create_user("ada@example.com")
        created = await client.totps.create(user_id=user_id, expiration_minutes=5)
        stytch_env.clock.advance(6 * 60)
        code = stytch_env.totp_code(created.secret)

        assert await errors.check_code(client, user_id, code) is errors.Outcome.NOT_ENROLLED


async def test_check_code_reports_what_is_not_the_users_fault(
    stytch_env: Emulator, no_retry_waits: list[float]
) -> None:
    errors = load_example("errors")
    path = "/v1/totps/authenticate"
    async with stytch_env.client() as client:
        user = await enroll(stytch_env, client, "ada@example.com")
        code = stytch_env.totp_code(user.secret)

        stytch_env.inject(path, status=429, times=3)  # the first try and both retries
        assert await errors.check_code(client, user.user_id, code) is errors.Outcome.SLOW_DOWN
        assert len(no_retry_waits) == 2

        stytch_env.inject(path, status=500)
        assert await errors.check_code(client, user.user_id, code) is errors.Outcome.UNAVAILABLE
        assert len(no_retry_waits) == 2  # a 500 on authenticate is not retried

    async with stytch_totp.Client(
        stytch_env.project_id, "not-the-secret", base_url=stytch_env.url
    ) as misconfigured:
        with pytest.raises(stytch_totp.AuthenticationError) as raised:
            await errors.check_code(misconfigured, user.user_id, code)
    assert raised.value.error_type == "unauthorized_credentials"


async def test_check_recovery_code_tells_each_case_apart(stytch_env: Emulator) -> None:
    errors = load_example("errors")
    outcome = errors.Outcome
    async with stytch_env.client() as client:
        user = await enroll(stytch_env, client, "ada@example.com")
        first = user.recovery_codes[0]

        assert await errors.check_recovery_code(client, user.user_id, first) is outcome.OK
        assert await errors.check_recovery_code(client, user.user_id, first) is outcome.WRONG_CODE
        six_digits = stytch_env.totp_code(user.secret)
        assert (
            await errors.check_recovery_code(client, user.user_id, six_digits)
            is outcome.NOT_A_RECOVERY_CODE
        )

        unverified = stytch_env.create_user("new@example.com")
        pending = await client.totps.create(user_id=unverified)
        code = pending.recovery_codes[0]
        assert await errors.check_recovery_code(client, unverified, code) is outcome.NOT_ENROLLED


async def test_start_enrollment_returns_none_once_enrolled(stytch_env: Emulator) -> None:
    errors = load_example("errors")
    async with stytch_env.client() as client:
        user_id = stytch_env.create_user("ada@example.com")
        created = await errors.start_enrollment(client, user_id)
        assert isinstance(created, stytch_totp.CreateResponse)
        await client.totps.authenticate(
            user_id=user_id, totp_code=stytch_env.totp_code(created.secret)
        )

        assert await errors.start_enrollment(client, user_id) is None


# --------------------------------------------------------------------------------------------
# enrolling.md
# --------------------------------------------------------------------------------------------


async def test_enrollment_shows_the_qr_code_and_codes_then_verifies(
    stytch_env: Emulator, tmp_path: Path
) -> None:
    enroll_example = load_example("enroll")
    async with stytch_env.client() as client:
        user_id = stytch_env.create_user("ada@example.com")
        created = await enroll_example.start_enrollment(client, user_id)

        page = enroll_example.enrollment_page(created)
        assert '<img src="data:image/png;base64,' in page
        assert " ".join(created.secret[i : i + 4] for i in range(0, 32, 4)) in page
        assert page.count("<li><code>") == 10
        assert all(code in page for code in created.recovery_codes)

        enroll_example.save_qr_code(created, tmp_path / "qr.png")
        assert (tmp_path / "qr.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

        assert not await enroll_example.finish_enrollment(client, user_id, "12345")
        wrong = wrong_code(stytch_env, created.secret)
        assert not await enroll_example.finish_enrollment(client, user_id, wrong)
        code = stytch_env.totp_code(created.secret)
        assert await enroll_example.finish_enrollment(client, user_id, code)


async def test_an_enrollment_expires_after_15_minutes(stytch_env: Emulator) -> None:
    enroll_example = load_example("enroll")
    async with stytch_env.client() as client:
        user_id = stytch_env.create_user("ada@example.com")
        created = await enroll_example.start_enrollment(client, user_id)
        stytch_env.clock.advance(16 * 60)

        with pytest.raises(stytch_totp.NotFoundError):
            await enroll_example.finish_enrollment(
                client, user_id, stytch_env.totp_code(created.secret)
            )


async def test_a_recovery_code_logs_in_once(stytch_env: Emulator) -> None:
    enroll_example = load_example("enroll")
    async with stytch_env.client() as client:
        user = await enroll(stytch_env, client, "ada@example.com")
        code = user.recovery_codes[3]

        recovered = await enroll_example.log_in_with_recovery_code(client, user.user_id, f" {code}")
        assert recovered is not None
        assert recovered.session is not None
        factor = recovered.session.authentication_factors[0]
        assert factor.type == stytch_totp.AuthenticationFactorType.RECOVERY_CODES
        assert await enroll_example.recovery_codes_left(client, user.user_id) == 9

        assert await enroll_example.log_in_with_recovery_code(client, user.user_id, code) is None


# --------------------------------------------------------------------------------------------
# bulk-enrollment.md
# --------------------------------------------------------------------------------------------


async def test_enroll_everyone_delivers_each_totp_and_returns_the_failures(
    stytch_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    bulk = load_example("bulk")
    user_ids = [stytch_env.create_user(f"user{i}@example.com") for i in range(40)]

    async def from_database() -> AsyncIterator[str]:
        for user_id in [*user_ids[:20], "user-test-nobody", *user_ids[20:]]:
            yield user_id

    delivered: dict[str, str] = {}

    def deliver(user_id: str, created: stytch_totp.CreateResponse) -> None:
        delivered[user_id] = created.totp_id

    # A rate limit mid-run pauses the whole batch, then it carries on.
    stytch_env.inject("/v1/totps", status=429, retry_after=0, times=2)
    async with stytch_env.client() as client:
        failures = await bulk.enroll_everyone(client, from_database(), deliver)

    assert sorted(delivered) == sorted(user_ids)
    assert [(f.index, f.user_id) for f in failures] == [(20, "user-test-nobody")]
    assert isinstance(failures[0].error, stytch_totp.NotFoundError)
    assert capsys.readouterr().out.startswith("40 enrolled, 1 failed in ")


async def test_leaving_a_bulk_run_early_leaves_nothing_running(stytch_env: Emulator) -> None:
    bulk = load_example("bulk")
    real = [stytch_env.create_user(f"user{i}@example.com") for i in range(5)]
    missing = [f"user-test-missing-{i}" for i in range(50)]
    async with stytch_env.client() as client:
        enrolled = await bulk.enroll_until_too_many_failures(client, real + missing, max_failures=3)
        # Only this test and the emulator's own connection handlers are left.
        left = asyncio.all_tasks() - {asyncio.current_task()}
        assert all("RequestHandler.start" in repr(task.get_coro()) for task in left), left
        # Far fewer requests than inputs: the run stopped, and took no more users.
        assert stytch_env.request_count("/v1/totps") < len(real) + len(missing)
    assert enrolled <= len(real)


async def test_the_bulk_enroll_command_runs_and_resumes(
    stytch_env: Emulator, tmp_path: Path
) -> None:
    user_ids = [stytch_env.create_user(f"user{i}@example.com") for i in range(25)]
    (tmp_path / "users.csv").write_text(
        "user_id,name\n" + "".join(f"{user_id},User {i}\n" for i, user_id in enumerate(user_ids)),
        encoding="utf-8",
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    script = await asyncio.create_subprocess_exec(
        "bash",
        str(EXAMPLES / "bulk_enroll.sh"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(script.communicate(), timeout=120)

    assert script.returncode == 0, output.decode()
    results = tmp_path / "results.jsonl"
    assert stat.S_IMODE(results.stat().st_mode) == 0o600
    records = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["user_id"] for r in records if r["status"] == "enrolled") == sorted(user_ids)
    assert stytch_env.request_count("/v1/totps") == 25  # the --resume run enrolled nobody twice


# --------------------------------------------------------------------------------------------
# retries.md
# --------------------------------------------------------------------------------------------


async def test_retry_policy_is_set_on_the_client(
    stytch_env: Emulator, no_retry_waits: list[float]
) -> None:
    retries = load_example("retries")
    stytch_env.inject("/v1/totps/recovery_codes", status=503, times=4)
    async with retries.make_client() as client:
        user = await enroll(stytch_env, client, "ada@example.com")
        before = stytch_env.request_count("/v1/totps/recovery_codes")

        assert await retries.codes_left(client, user.user_id) == 10

    # PATIENT allows four retries; the default policy would have given up after two.
    assert stytch_env.request_count("/v1/totps/recovery_codes") == before + 5
    assert all(delay <= retries.PATIENT.max_backoff for delay in no_retry_waits)


async def test_read_only_calls_are_retried_after_a_500(
    stytch_env: Emulator, no_retry_waits: list[float]
) -> None:
    retries = load_example("retries")
    async with retries.make_client() as client:
        user = await enroll(stytch_env, client, "ada@example.com")
        stytch_env.inject("/v1/totps/recovery_codes", status=500)

        assert await retries.codes_left(client, user.user_id) == 10

    assert stytch_env.request_count("/v1/totps/recovery_codes") == 2


async def test_log_in_says_what_to_do_after_each_failure(
    stytch_env: Emulator, refused_url: str, no_retry_waits: list[float]
) -> None:
    retries = load_example("retries")
    next_step = retries.Next
    path = "/v1/totps/authenticate"
    async with retries.make_client() as client:
        user = await enroll(stytch_env, client, "ada@example.com")
        code = stytch_env.totp_code(user.secret)

        stytch_env.inject(path, status=502)
        assert await retries.log_in(client, user.user_id, code) is next_step.ASK_FOR_NEXT_CODE

        # The emulator accepts the code, then the answer is lost: the code is spent.
        stytch_env.inject(path, drop_connection=True)
        before = stytch_env.request_count(path)
        assert await retries.log_in(client, user.user_id, code) is next_step.ASK_FOR_NEXT_CODE
        assert stytch_env.request_count(path) == before + 1  # not replayed
        with pytest.raises(stytch_totp.AuthenticationError) as replayed:
            await client.totps.authenticate(user_id=user.user_id, totp_code=code)
        assert replayed.value.error_type == "totp_code_already_authenticated"

        stytch_env.clock.advance(30)
        fresh = stytch_env.totp_code(user.secret)
        assert await retries.log_in(client, user.user_id, fresh) is next_step.SIGNED_IN

    async with stytch_totp.Client("project-test-x", "secret-x", base_url=refused_url) as nowhere:
        assert await retries.log_in(nowhere, "user-test-x", code) is next_step.RETRY_SAME_CODE


async def test_retries_can_be_switched_off_per_call(
    stytch_env: Emulator, no_retry_waits: list[float]
) -> None:
    retries = load_example("retries")
    async with retries.make_client() as client:
        user = await enroll(stytch_env, client, "ada@example.com")
        stytch_env.inject("/v1/totps/authenticate", status=503)
        before = stytch_env.request_count("/v1/totps/authenticate")

        with pytest.raises(stytch_totp.InternalServerError):
            await retries.log_in_without_retries(
                client, user.user_id, stytch_env.totp_code(user.secret)
            )

    assert stytch_env.request_count("/v1/totps/authenticate") == before + 1
    assert no_retry_waits == []


# --------------------------------------------------------------------------------------------
# testing.md: example test files, run by pytest the way a user's project runs them
# --------------------------------------------------------------------------------------------

_USER_PYTEST_INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

#: The example test files, each in a project directory of its own with what it needs beside it:
#: {directory: {name in the project: file of docs/examples/}}.
USER_PROJECTS: dict[str, dict[str, str]] = {
    "plugin": {"test_login.py": "test_login.py"},
    "from_env": {
        "conftest.py": "conftest_from_env.py",
        "test_app_from_env.py": "test_app_from_env.py",
    },
    "aioresponses": {
        "conftest.py": "conftest_aioresponses.py",
        "test_with_aioresponses.py": "test_with_aioresponses.py",
    },
    "mock_transport": {"test_with_mock_transport.py": "test_with_mock_transport.py"},
    "fastapi": {
        "conftest.py": "conftest_from_env.py",
        "app_fastapi.py": "app_fastapi.py",
        "test_app_fastapi.py": "test_app_fastapi.py",
    },
    "aiohttp_web": {
        "conftest.py": "conftest_from_env.py",
        "app_aiohttp.py": "app_aiohttp.py",
        "test_app_aiohttp.py": "test_app_aiohttp.py",
    },
    "testclient": {
        "app_starlette.py": "app_starlette.py",
        "test_app_testclient.py": "test_app_testclient.py",
    },
}


@attrs.frozen
class UserRun:
    """One pytest run, in a new process, over every example project."""

    outcomes: dict[str, str]
    """``"<directory>/<test file>::<test>"`` -> ``"passed"``, or the failure's text."""
    output: str


def _run_user_projects(root: Path, projects: list[str], *options: str) -> UserRun:
    """Copy the examples into the user ``projects`` under ``root`` and run pytest over them all
    in a new process, from ``root``, with warnings as errors (and pytest-asyncio's strict mode
    unless ``options`` say otherwise)."""
    for directory in projects:
        (root / directory).mkdir()
        for name, example in USER_PROJECTS[directory].items():
            shutil.copyfile(EXAMPLES / example, root / directory / name)
    (root / "pytest.ini").write_text(_USER_PYTEST_INI, encoding="utf-8")
    finished = subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--junitxml=report.xml",
            *options,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    outcomes: dict[str, str] = {}
    report = ElementTree.parse(root / "report.xml")  # noqa: S314 - written by our own pytest run
    for case in report.iter("testcase"):
        directory, module = case.attrib["classname"].rsplit(".", 1)
        key = f"{directory.replace('.', '/')}/{module}.py::{case.attrib['name']}"
        problems = [child for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[key] = (
            "passed"
            if not problems
            else "\n".join(
                f"{child.tag}: {child.attrib.get('message', '')}\n{child.text or ''}"
                for child in problems
            )
        )
    return UserRun(outcomes, finished.stdout + finished.stderr)


@pytest.fixture(scope="module")
def user_run(tmp_path_factory: pytest.TempPathFactory) -> UserRun:
    """Every example project, run once (one run rather than one per project: each pytest
    start-up costs seconds)."""
    return _run_user_projects(tmp_path_factory.mktemp("user_projects"), list(USER_PROJECTS))


def _test_functions(example: str) -> list[str]:
    tree = ast.parse((EXAMPLES / example).read_text(encoding="utf-8"))
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    ]


@pytest.mark.parametrize(
    ("directory", "test_file"),
    [
        (directory, name)
        for directory, files in USER_PROJECTS.items()
        for name in files
        if name.startswith("test_")
    ],
    ids=lambda value: str(value),
)
def test_each_example_test_file_passes_in_a_users_project(
    user_run: UserRun, directory: str, test_file: str
) -> None:
    expected = _test_functions(USER_PROJECTS[directory][test_file])
    assert expected, f"{test_file} has no test"
    ran = {
        key.rpartition("::")[2]: outcome
        for key, outcome in user_run.outcomes.items()
        if key.startswith(f"{directory}/{test_file}::")
    }
    assert sorted(ran) == sorted(expected), user_run.output
    failed = {name: outcome for name, outcome in ran.items() if outcome != "passed"}
    assert failed == {}, "\n\n".join(f"{name}:\n{outcome}" for name, outcome in failed.items())


def test_the_user_run_ran_exactly_the_example_tests(user_run: UserRun) -> None:
    expected = sum(
        len(_test_functions(example))
        for files in USER_PROJECTS.values()
        for name, example in files.items()
        if name.startswith("test_")
    )
    assert len(user_run.outcomes) == expected, user_run.output
    assert f"{expected} passed" in user_run.output, user_run.output


def test_the_async_web_app_examples_pass_in_auto_mode_too(tmp_path: Path) -> None:
    # testing.md says pytest-aiohttp works in pytest-asyncio's strict and auto modes alike.
    projects = ["fastapi", "aiohttp_web"]
    run = _run_user_projects(tmp_path, projects, "-o", "asyncio_mode=auto")
    expected = sum(
        len(_test_functions(example))
        for directory in projects
        for name, example in USER_PROJECTS[directory].items()
        if name.startswith("test_")
    )
    assert len(run.outcomes) == expected, run.output
    assert set(run.outcomes.values()) == {"passed"}, run.output


# --------------------------------------------------------------------------------------------
# sync.md: Flask, Django and scripts with SyncClient
# --------------------------------------------------------------------------------------------


@pytest.fixture
def threaded_env(
    stytch_emulator_thread: ThreadedEmulator, monkeypatch: pytest.MonkeyPatch
) -> ThreadedEmulator:
    """Point ``SyncClient.from_env()`` at a threaded emulator (blocking code blocks no loop)."""
    monkeypatch.setenv("STYTCH_PROJECT_ID", stytch_emulator_thread.project_id)
    monkeypatch.setenv("STYTCH_SECRET", stytch_emulator_thread.secret)
    monkeypatch.setenv("STYTCH_BASE_URL", stytch_emulator_thread.url)
    return stytch_emulator_thread


def enroll_blocking(emulator: ThreadedEmulator) -> tuple[str, str]:
    """A user with a verified TOTP: ``(user_id, secret)``."""
    user_id = emulator.create_user(email="ada@example.com")
    with emulator.sync_client() as client:
        created = client.totps.create(user_id=user_id)
        client.totps.authenticate(user_id=user_id, totp_code=emulator.totp_code(created.secret))
    emulator.clock.advance(30)  # the next code is a new one
    return user_id, created.secret


def test_the_flask_app_checks_codes_with_one_shared_sync_client(
    threaded_env: ThreadedEmulator,
) -> None:
    app_flask = load_example("app_flask")
    user_id, secret = enroll_blocking(threaded_env)
    client = app_flask.app.test_client()
    try:
        right = client.post(
            "/login/totp", json={"user_id": user_id, "code": threaded_env.totp_code(secret)}
        )
        wrong = client.post("/login/totp", json={"user_id": user_id, "code": "000000"})
        short = client.post("/login/totp", json={"user_id": user_id, "code": "12"})
    finally:
        app_flask.app.extensions["stytch_totp"].close()

    assert right.status_code == 200
    assert right.get_json()["session_token"]
    assert (wrong.status_code, short.status_code) == (401, 400)


def test_the_django_view_checks_codes(threaded_env: ThreadedEmulator) -> None:
    from django.conf import settings
    from django.test import RequestFactory

    if not settings.configured:
        settings.configure(ALLOWED_HOSTS=["testserver"], DEFAULT_CHARSET="utf-8")
    django_views = load_example("django_views")
    user_id, secret = enroll_blocking(threaded_env)
    factory = RequestFactory()

    def post(code: str) -> Any:
        body = json.dumps({"user_id": user_id, "code": code})
        return django_views.check_totp(
            factory.post("/login/totp", body, content_type="application/json")
        )

    try:
        right = post(threaded_env.totp_code(secret))
        wrong = post("000000")
        refused_get = django_views.check_totp(factory.get("/login/totp"))
    finally:
        django_views.stytch().close()

    assert right.status_code == 200
    assert json.loads(right.content)["session_token"]
    assert wrong.status_code == 401
    assert refused_get.status_code == 405


def test_the_script_counts_recovery_codes_without_an_event_loop(
    threaded_env: ThreadedEmulator,
) -> None:
    script_sync = load_example("script_sync")
    user_id, _ = enroll_blocking(threaded_env)
    assert script_sync.recovery_codes_left([user_id]) == {user_id: 10}
