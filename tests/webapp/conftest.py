"""The example web app (examples/webapp), served by uvicorn, driven by headless Chromium.

The app runs as its README runs it (``serve.py``), in a subprocess pointed at an emulator this
test process starts (so tests can inject faults and read the app's log); nothing but 127.0.0.1
is contacted. Set ``WEBAPP_SCREENSHOTS=1`` to write the docs' screenshots to
``docs/_static/webapp/``.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
from PIL import Image
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


#: What serve.py logs once its socket listens: the address it bound (``--port 0``: any port).
_LISTENING = re.compile(r"open (http://127\.0\.0\.1:\d+/) in your browser")
#: How long the app may take to start (a cold start imports FastAPI and starts the emulator).
START_TIMEOUT = 30.0


def _wait_for_app(process: subprocess.Popen[str], log_path: Path) -> str:
    """The URL serve.py listens on, once it answers; fails if it exits or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT
    url = None
    while True:
        if url is None and (found := _LISTENING.search(log_path.read_text(encoding="utf-8"))):
            url = found[1]
        if url is not None:
            try:
                with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - http://127.0.0.1
                    return url
            except OSError:  # an HTTP error too: not served yet
                pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the web app did not start:\n{log_path.read_text(encoding='utf-8')}")
        time.sleep(0.05)


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
        with log_path.open("w", encoding="utf-8") as log:
            # --port 0: serve.py binds a free port itself and logs which, so nothing races.
            process = subprocess.Popen(  # noqa: S603 - our own serve.py
                [sys.executable, str(SERVE), "--host", "127.0.0.1", "--port", "0"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        try:
            url = _wait_for_app(process, log_path)
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


#: The screenshots' width, in CSS pixels (and in PNG pixels: device scale factor 1).
SCREENSHOT_WIDTH = 900
#: Colours kept in a screenshot's palette: flat colours and anti-aliased text need few.
SCREENSHOT_COLOURS = 64


def save_full_page_png(driver: webdriver.Chrome, path: Path) -> None:
    """The whole page, however long, as a small PNG at ``path``.

    A plain ``save_screenshot`` stops at the window's height (less the browser's own chrome),
    and headless Chromium does not grow the window past the screen. Here the viewport itself is
    made exactly as tall as the page (DevTools' ``Emulation.setDeviceMetricsOverride``), so the page
    lays out with no scroll bar and ``Page.captureScreenshot`` sees all of it; then the
    viewport goes back. The PNG is quantized to a small palette (no dithering) and optimized.
    """
    metrics = {"width": SCREENSHOT_WIDTH, "deviceScaleFactor": 1, "mobile": False}
    # A viewport 1 px high first: scrollHeight is then the page's own height, not the window's.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": 1})
    try:
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
        # Two frames: the page is laid out and painted at its new size (else the part below
        # the old viewport can come out half drawn).
        driver.set_script_timeout(10)
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "requestAnimationFrame(() => requestAnimationFrame(() => done()));"
        )
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    image = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
    assert image.size == (SCREENSHOT_WIDTH, height), image.size
    small = image.quantize(SCREENSHOT_COLOURS, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


@pytest.fixture
def screenshot(browser: webdriver.Chrome, tmp_path: Path) -> Callable[[str], None]:
    """``screenshot(name)`` saves the whole page: for the docs when WEBAPP_SCREENSHOTS=1.

    Otherwise into the test's temporary directory, so that every run takes them (and checks
    they hold the whole page) without changing the docs' files.
    """
    folder = SCREENSHOTS if os.environ.get("WEBAPP_SCREENSHOTS") == "1" else tmp_path

    def take(name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        save_full_page_png(browser, folder / f"{name}.png")

    return take
