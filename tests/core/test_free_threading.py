"""On free-threaded builds the SDK and everything it depends on keep the GIL off.

A C extension that is not marked free-threading safe turns the GIL back on when it is imported,
with a RuntimeWarning, and every "thread-safe" claim would then be proved under the GIL again.
The script runs in a fresh interpreter without ``PYTHON_GIL`` (which would force the GIL off and
hide the re-enabling), importing every module each extra brings in and making calls through
them; on a GIL build it checks the same script runs and the GIL is on, as it must be there.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import FREE_THREADED

SCRIPT = """
import sys
import asyncio

import stytch_totp
import stytch_totp.testing  # the emulator extra: zxing-cpp, pyjwt[crypto]
import stytch_totp.cli  # the cli extra: tqdm
from stytch_totp.testing import Emulator

async def main() -> None:
    async with Emulator() as emulator, emulator.client() as client:
        created = await client.totps.create(user_id=emulator.create_user(email='ada@example.com'))
        codes = await client.totps.recovery_codes(user_id=created.user_id)
        assert codes.totps[0].recovery_codes == created.recovery_codes

asyncio.run(main())
print(getattr(sys, "_is_gil_enabled", lambda: True)())  # 3.13 and newer
"""


def test_no_dependency_turns_the_gil_back_on() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHON_GIL"}
    finished = subprocess.run(  # noqa: S603 - our own script, run by this interpreter
        [sys.executable, "-W", "error::RuntimeWarning", "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environment,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr == ""
    assert finished.stdout.strip() == str(not FREE_THREADED)
