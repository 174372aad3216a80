"""The example web app (examples/webapp), served by uvicorn, driven by headless Chromium.

The app runs as its README runs it (``serve.py``), in a subprocess pointed at an emulator this
test process starts (so tests can inject faults and read the app's log); nothing but 127.0.0.1
is contacted. Set ``WEBAPP_SCREENSHOTS=1`` to write the docs' screenshots to
``docs/_static/webapp/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from stytch_totp.testing import ThreadedEmulator

ROOT = Path(__file__).parents[2]
SERVE = ROOT / "examples" / "webapp" / "serve.py"
SCREENSHOTS = ROOT / "docs" / "_static" / "webapp"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=900,1000",
)


@attrs.define
class RunningApp:
    url: str
    emulator: ThreadedEmulator
    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def webapp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    log_path = tmp_path_factory.mktemp("webapp") / "app.log"
    with ThreadedEmulator(project_name="Example app") as emulator:
        env = dict(os.environ)
        env.update(
            STYTCH_PROJECT_ID=emulator.project_id,
            STYTCH_SECRET=emulator.secret,
            STYTCH_BASE_URL=emulator.url,
        )
        port = _free_port()
        with log_path.open("w", encoding="utf-8") as log:
            process = subprocess.Popen(  # noqa: S603 - our own serve.py
                [sys.executable, str(SERVE), "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"the web app did not start:\n{log_path.read_text()}")
                    time.sleep(0.1)
            yield RunningApp(url, emulator, process, log_path)
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: the browser tests need Debian's chromium and "
            "chromium-driver (apt-get install -y chromium chromium-driver, or .ci/install-browser)",
            pytrace=False,
        )
    profile = tempfile.mkdtemp(prefix="webapp-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def screenshot(browser: webdriver.Chrome) -> Callable[[str], None]:
    """``screenshot(name)`` saves the page for the docs, when WEBAPP_SCREENSHOTS=1."""
    wanted = os.environ.get("WEBAPP_SCREENSHOTS") == "1"

    def take(name: str) -> None:
        if wanted:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(900, max(600, int(height) + 20))
            browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
            browser.set_window_size(900, 1000)

    return take
