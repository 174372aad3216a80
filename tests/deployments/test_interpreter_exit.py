"""A process that never calls ``close()``, or dies mid-call, exits at once and quietly."""

from __future__ import annotations

import shutil
import signal
import subprocess
import textwrap
from pathlib import Path

from stytch_totp.testing import ThreadedEmulator

from ._servers import EXAMPLES, NOISE, run_python


def run(script: Path, emulator: ThreadedEmulator, *args: str) -> subprocess.CompletedProcess[str]:
    # -W default: ResourceWarnings (an unclosed pool) would be shown too. "Exits within
    # seconds": a hang fails after 60.
    return run_python(emulator, "-W", "default", str(script), *args)


def enrolled(emulator: ThreadedEmulator) -> str:
    user_id = emulator.create_user(email="ada@example.com")
    with emulator.sync_client() as client:
        client.totps.create(user_id=user_id)
    return user_id


def test_a_script_that_never_closes_its_client_exits_quietly(
    stytch_emulator_thread: ThreadedEmulator, tmp_path: Path
) -> None:
    user_id = enrolled(stytch_emulator_thread)
    shutil.copyfile(EXAMPLES / "deploy_script.py", tmp_path / "deploy_script.py")

    done = run(tmp_path / "deploy_script.py", stytch_emulator_thread, user_id)

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{user_id} 10\n"
    assert done.stderr == ""  # no "Unclosed client session" from a pool finalized at exit


def test_ctrl_c_mid_call_at_top_level_shows_only_the_keyboard_interrupt(
    stytch_emulator_thread: ThreadedEmulator, tmp_path: Path
) -> None:
    stytch_emulator_thread.inject("/v1/totps/recovery_codes", delay=30, times=None)
    script = tmp_path / "interrupted.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, signal, threading
            import stytch_totp

            stytch = stytch_totp.SyncClient.from_env()
            threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
            stytch.totps.recovery_codes(user_id="user-test-ada")  # held 30 s by the emulator
            """
        )
    )

    done = run(script, stytch_emulator_thread)

    assert done.returncode == -signal.SIGINT  # how Python ends on an uncaught Ctrl-C
    assert done.stderr.rstrip().endswith("KeyboardInterrupt")
    assert done.stderr.count("Traceback") == 1
    assert "Unclosed" not in done.stderr
    assert "Warning" not in done.stderr


def test_an_error_at_top_level_while_another_thread_is_mid_call_exits_at_once(
    stytch_emulator_thread: ThreadedEmulator, tmp_path: Path
) -> None:
    stytch_emulator_thread.inject("/v1/totps/recovery_codes", delay=30, times=None)
    script = tmp_path / "failing.py"
    script.write_text(
        textwrap.dedent(
            """
            import threading, time
            import stytch_totp

            stytch = stytch_totp.SyncClient.from_env()

            def poll():
                try:
                    stytch.totps.recovery_codes(user_id="user-test-ada")
                except stytch_totp.ClientClosedError:
                    pass  # the exit closed the client; Python may stop the thread first

            threading.Thread(target=poll, daemon=True).start()
            time.sleep(0.5)
            raise RuntimeError("the job failed")
            """
        )
    )

    done = run(script, stytch_emulator_thread)

    assert done.returncode == 1
    assert done.stderr.rstrip().endswith("RuntimeError: the job failed")
    assert done.stderr.count("Traceback") == 1
    assert not NOISE.search(done.stderr.replace("RuntimeError", "").replace("Traceback", ""))
