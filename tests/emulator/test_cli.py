"""``stytch-totp emulator`` and ``stytch-totp demo``, as commands and in-process."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import csv
import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from importlib.metadata import entry_points
from pathlib import Path

import aiohttp
import pytest

from stytch_totp import AuthenticationError, BadRequestError, Client
from stytch_totp.cli import main
from stytch_totp.cli._demo import StepFailed, _expect_refusal, _Steps, run_demo
from stytch_totp.cli._emulator import serve
from stytch_totp.testing import Emulator

#: Seconds a command may take to start or stop before the test gives up on it.
PATIENCE = 30.0


class RunningCommand:
    """``python -m stytch_totp emulator ...`` in a subprocess, read up to its ``Ready.`` line."""

    def __init__(self, process: asyncio.subprocess.Process, banner: str) -> None:
        self.process = process
        self.banner = banner
        exports = re.search(r"^\s*export (.+)$", banner, re.MULTILINE)
        assert exports is not None, banner
        self.env = dict(item.split("=", 1) for item in shlex.split(exports.group(1)))

    async def stop(self, signum: int) -> tuple[int, str]:
        self.process.send_signal(signum)
        assert self.process.stdout is not None
        rest = await asyncio.wait_for(self.process.stdout.read(), PATIENCE)
        return await asyncio.wait_for(self.process.wait(), PATIENCE), rest.decode()


@contextlib.asynccontextmanager
async def emulator_command(*args: str) -> AsyncIterator[RunningCommand]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stytch_totp",
        "emulator",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("Ready."):
            line = await asyncio.wait_for(process.stdout.readline(), PATIENCE)
            assert line, "the emulator exited before it was ready: " + "".join(lines)
            lines.append(line.decode())
        yield RunningCommand(process, "".join(lines))
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def create_user(env: dict[str, str], email: str) -> str:
    credentials = f"{env['STYTCH_PROJECT_ID']}:{env['STYTCH_SECRET']}".encode()
    headers = {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            env["STYTCH_BASE_URL"] + "v1/users", json={"email": email}, headers=headers
        ) as response,
    ):
        assert response.status == 200
        user_id: str = (await response.json())["user_id"]
        return user_id


# --------------------------------------------------------------------------------------------
# stytch-totp emulator
# --------------------------------------------------------------------------------------------


async def test_the_emulator_command_serves_until_terminated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with emulator_command() as command:
        assert "in memory" in command.banner
        for name, value in command.env.items():
            monkeypatch.setenv(name, value)
        assert command.env["STYTCH_BASE_URL"].startswith("http://127.0.0.1:")
        user_id = await create_user(command.env, "ada@example.com")
        async with Client.from_env() as client:
            created = await client.totps.create(user_id=user_id)
        assert created.user_id == user_id
        status, rest = await command.stop(signal.SIGTERM)
    assert status == 0
    assert "Stopped." in rest


async def test_the_emulator_command_keeps_state_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with emulator_command("--state", str(state), "--project-name", "Acme") as first:
        assert str(state) in first.banner
        user_id = await create_user(first.env, "ada@example.com")
        async with Client(
            first.env["STYTCH_PROJECT_ID"],
            first.env["STYTCH_SECRET"],
            base_url=first.env["STYTCH_BASE_URL"],
        ) as client:
            created = await client.totps.create(user_id=user_id)
        assert (await first.stop(signal.SIGINT))[0] == 0

    async with emulator_command("--state", str(state)) as second:
        # The same credentials; the user and their TOTP are still there.
        assert second.env["STYTCH_PROJECT_ID"] == first.env["STYTCH_PROJECT_ID"]
        assert second.env["STYTCH_SECRET"] == first.env["STYTCH_SECRET"]
        async with Client(
            second.env["STYTCH_PROJECT_ID"],
            second.env["STYTCH_SECRET"],
            base_url=second.env["STYTCH_BASE_URL"],
        ) as client:
            listed = await client.totps.recovery_codes(user_id=user_id)
        assert listed.totps[0].totp_id == created.totp_id
        assert listed.totps[0].recovery_codes == created.recovery_codes
        assert (await second.stop(signal.SIGTERM))[0] == 0


async def test_a_rehearsal_enrolls_the_users_the_emulator_made(tmp_path: Path) -> None:
    """The rehearsal of docs/bulk-enrollment.md: users made by the emulator, enrolled by the CLI."""
    users_csv = tmp_path / "users.csv"
    async with emulator_command("--users", "40", "--users-csv", str(users_csv)) as command:
        assert (
            f"40 (user1@example.com ... user40@example.com), ids in {users_csv}" in command.banner
        )
        rows = list(csv.DictReader(users_csv.read_text(encoding="utf-8").splitlines()))
        assert [row["email"] for row in rows] == [f"user{n}@example.com" for n in range(1, 41)]
        bulk = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "stytch_totp",
            "bulk-enroll",
            str(users_csv),
            "--output",
            str(tmp_path / "results.jsonl"),
            env={**os.environ, **command.env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(bulk.communicate(), PATIENCE * 2)
        assert bulk.returncode == 0, output.decode()
        results = [
            json.loads(line)
            for line in (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        assert sorted(r["user_id"] for r in results if r["status"] == "enrolled") == sorted(
            row["user_id"] for row in rows
        )
        assert (await command.stop(signal.SIGTERM))[0] == 0


async def test_the_users_of_a_state_file_are_the_same_after_a_restart(tmp_path: Path) -> None:
    state, first_csv, second_csv = tmp_path / "state.db", tmp_path / "1.csv", tmp_path / "2.csv"
    arguments = ("--state", str(state), "--users", "5", "--users-csv")
    async with emulator_command(*arguments, str(first_csv)) as first:
        assert (await first.stop(signal.SIGTERM))[0] == 0
    async with emulator_command(*arguments, str(second_csv)) as second:
        assert (await second.stop(signal.SIGTERM))[0] == 0
    assert first_csv.read_text(encoding="utf-8") == second_csv.read_text(encoding="utf-8")
    assert len(first_csv.read_text(encoding="utf-8").splitlines()) == 6


@pytest.mark.parametrize("flag", ["refuse", "replace"])
async def test_pending_totps_follow_the_flag(flag: str) -> None:
    async with emulator_command("--pending-totp", flag) as command:
        user_id = await create_user(command.env, "ada@example.com")
        async with Client(
            command.env["STYTCH_PROJECT_ID"],
            command.env["STYTCH_SECRET"],
            base_url=command.env["STYTCH_BASE_URL"],
        ) as client:
            first = await client.totps.create(user_id=user_id)
            if flag == "refuse":
                with pytest.raises(BadRequestError) as caught:
                    await client.totps.create(user_id=user_id)
                assert caught.value.error_type == "pending_totp_exists"
            else:
                second = await client.totps.create(user_id=user_id)
                assert [t.totp_id for t in second.user.totps] == [second.totp_id]
                assert second.totp_id != first.totp_id
        assert (await command.stop(signal.SIGTERM))[0] == 0


async def test_serve_says_when_it_cannot_write_the_users_csv(tmp_path: Path) -> None:
    err = io.StringIO()
    missing = tmp_path / "no-such-directory" / "users.csv"
    args = emulator_args("--port", "0", "--users", "2", "--users-csv", str(missing))
    assert await serve(args, io.StringIO(), err) == 2
    assert f"cannot write {missing}" in err.getvalue()


def test_users_csv_needs_users(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--users-csv", str(tmp_path / "users.csv")]) == 2
    assert "--users-csv needs --users N" in capsys.readouterr().err
    assert not (tmp_path / "users.csv").exists()


def emulator_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    from stytch_totp.cli import _emulator

    _emulator.register(subparsers)
    return parser.parse_args(["emulator", *argv])


async def test_serve_prints_the_credentials_and_stops_on_a_signal() -> None:
    out, err = io.StringIO(), io.StringIO()
    task = asyncio.create_task(serve(emulator_args("--port", "0"), out, err))
    while "Ready." not in out.getvalue():
        assert not task.done(), err.getvalue()
        await asyncio.sleep(0.01)
    assert "secret-test-" in out.getvalue()
    # serve() handles SIGINT itself while it runs, as Ctrl-C in a terminal would send it.
    os.kill(os.getpid(), signal.SIGINT)
    assert await asyncio.wait_for(task, PATIENCE) == 0
    assert out.getvalue().endswith("Stopped.\n")
    assert err.getvalue() == ""


async def test_serve_refuses_a_file_that_is_not_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "notes.txt"
    state.write_bytes(b"not a database, " * 100)
    err = io.StringIO()
    status = await serve(emulator_args("--port", "0", "--state", str(state)), io.StringIO(), err)
    assert status == 2
    assert "cannot use the state file" in err.getvalue()


async def test_serve_refuses_a_port_in_use(emulator: Emulator) -> None:
    port = emulator.url.rsplit(":", 1)[1].rstrip("/")
    err = io.StringIO()
    assert await serve(emulator_args("--port", port), io.StringIO(), err) == 2
    assert "cannot listen" in err.getvalue()


@pytest.mark.parametrize(
    "argv",
    [
        ["--port", "70000"],
        ["--port", "http"],
        ["--project-name", "a:b"],
        ["--host", ""],
        ["--users", "-1"],
        ["--users", "many"],
        ["--pending-totp", "keep"],
    ],
)
def test_bad_arguments_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["emulator", *argv])
    assert caught.value.code == 2
    assert "emulator: error" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# stytch-totp demo
# --------------------------------------------------------------------------------------------


def test_the_demo_walks_the_flow_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for text in (
        "enrolled TOTP",
        "secret, for manual entry",
        "authenticated code",
        "recovery codes",
        "spent recovery code",
        "replayed TOTP code",
        "All 7 steps behaved as Stytch does.",
    ):
        assert text in out
    assert "\u2580" in out or "\u2584" in out  # the QR code, in half blocks


def test_the_demo_never_prints_session_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--no-qr"]) == 0
    out = capsys.readouterr().out
    assert "\u2580" not in out
    assert "token and JWT not shown" in out
    assert not re.search(r"eyJ[\w-]+\.", out)  # no JWT


async def test_the_demo_fails_loudly_when_a_step_misbehaves(emulator: Emulator) -> None:
    emulator.inject("/v1/totps/recover", status=500)
    out, err = io.StringIO(), io.StringIO()
    assert await run_demo(out, err, show_qr=False, emulator=emulator) == 1
    assert "[ok] 4." in out.getvalue()
    assert "FAILED at step 5: InternalServerError" in err.getvalue()


async def test_the_demo_checks_what_a_refusal_says() -> None:
    async def accepted() -> None:
        return None

    async def refused_as(error_type: str) -> None:
        raise AuthenticationError(status_code=401, error_type=error_type)

    steps = _Steps(io.StringIO())
    with pytest.raises(StepFailed, match="but it was accepted"):
        await _expect_refusal(steps, accepted(), "totp_code_already_authenticated")
    with pytest.raises(StepFailed, match="got unable_to_authenticate_totp"):
        await _expect_refusal(
            steps, refused_as("unable_to_authenticate_totp"), "totp_code_already_authenticated"
        )
    await _expect_refusal(
        steps, refused_as("totp_code_already_authenticated"), "totp_code_already_authenticated"
    )


async def test_the_demo_survives_a_terminal_that_cannot_draw(emulator: Emulator) -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii", write_through=True)
    assert await run_demo(out, io.StringIO(), emulator=emulator) == 0
    assert b"cannot draw the QR code" in raw.getvalue()


def run_command(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )


def test_python_m_stytch_totp_demo_exits_0() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stytch_totp", "demo", "--no-qr"],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "All 7 steps behaved as Stytch does." in result.stdout


def test_the_console_script_is_declared() -> None:
    (script,) = entry_points(group="console_scripts", name="stytch-totp")
    assert script.value == "stytch_totp.cli:main"


@pytest.mark.parametrize("command", ["demo", "emulator"])
def test_without_the_extra_the_commands_say_what_to_install(command: str) -> None:
    result = run_command(
        f"""
        import sys
        sys.modules["jwt"] = None  # as if the emulator extra were not installed
        from stytch_totp.cli import main
        raise SystemExit(main([{command!r}]))
        """
    )
    assert result.returncode == 2
    assert "pip install 'stytch-totp[emulator]'" in result.stderr
