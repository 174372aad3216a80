"""A person's whole TOTP journey through the example web app, in headless Chromium."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import zxingcpp
from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

import stytch_totp

from .conftest import RunningApp

_emails = itertools.count(1)


def new_email() -> str:
    return f"person{next(_emails)}@example.com"


def fill(browser: webdriver.Chrome, **fields: str) -> None:
    """Type into the form's fields (by id), then submit it."""
    for name, value in fields.items():
        element = browser.find_element(By.ID, name)
        element.clear()
        element.send_keys(value)
    submit(browser, "form button[type=submit]")


def submit(browser: webdriver.Chrome, selector: str) -> None:
    """Click, and wait for the page the form's answer loads."""
    browser.execute_script("window.beforeSubmit = true")
    browser.find_element(By.CSS_SELECTOR, selector).click()
    WebDriverWait(browser, 15).until(
        lambda driver: driver.execute_script(
            "return window.beforeSubmit === undefined && document.readyState === 'complete'"
        )
    )


def alert(browser: webdriver.Chrome) -> str:
    return browser.find_element(By.CSS_SELECTOR, "[role=alert]").text


def scan_qr_code(browser: webdriver.Chrome) -> str:
    """What a phone's camera would read: the key in the QR code as the page renders it."""
    png = browser.find_element(By.CSS_SELECTOR, "img.qr").screenshot_as_png
    # QR codes only, as a camera app reads them; one text (once, in a run of ~40 tests, the
    # decoder returned two results here: a second format, or the same code found twice).
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), qr_only)
    (text,) = {barcode.text for barcode in found}
    uri = urlparse(text)
    assert uri.scheme == "otpauth"
    assert uri.netloc == "totp"
    return parse_qs(uri.query)["secret"][0]


def sign_up_and_scan(browser: webdriver.Chrome, webapp: RunningApp, email: str) -> str:
    browser.get(webapp.url + "signup")
    fill(browser, email=email)
    assert browser.current_url.endswith("/enroll")
    return scan_qr_code(browser)


def enroll(browser: webdriver.Chrome, webapp: RunningApp, email: str) -> tuple[str, list[str]]:
    secret = sign_up_and_scan(browser, webapp, email)
    fill(browser, code=webapp.emulator.totp_code(secret))
    codes = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
    return secret, codes


def sign_out(browser: webdriver.Chrome, webapp: RunningApp) -> None:
    browser.get(webapp.url + "account")
    submit(browser, "form[action='/signout'] button")


def test_enroll_sign_in_with_a_code_and_with_a_recovery_code_once(
    browser: webdriver.Chrome, webapp: RunningApp, screenshot: Callable[[str], None]
) -> None:
    email = new_email()
    browser.get(webapp.url)
    screenshot("01-sign-in")
    browser.find_element(By.LINK_TEXT, "Create an account").click()
    fill(browser, email=email)

    # The enrollment page: the QR code scans to the key shown for manual entry.
    secret = scan_qr_code(browser)
    key = browser.find_element(By.ID, "key").text
    assert key.replace(" ", "") == secret
    screenshot("02-enroll")
    # The SDK computes the code an authenticator app would show for the scanned key.
    fill(browser, code=stytch_totp.totp_code(secret, webapp.emulator.clock.now()))
    assert "You're all set" in browser.page_source
    codes = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
    assert len(codes) == 10
    assert all(re.fullmatch(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}", code) for code in codes)
    screenshot("03-recovery-codes")
    browser.find_element(By.LINK_TEXT, "I have saved them").click()
    assert browser.find_element(By.ID, "email").text == email
    assert "10 unused recovery codes" in browser.find_element(By.ID, "codes-left").text
    screenshot("04-account")

    # Signed out, the account page is out of reach; signed in again with a fresh code.
    sign_out(browser, webapp)
    browser.get(webapp.url + "account")
    assert urlparse(browser.current_url).path == "/"
    webapp.emulator.clock.advance(30)  # the next code: the first one was spent enrolling
    fill(browser, email=email, code=webapp.emulator.totp_code(secret))
    assert urlparse(browser.current_url).path == "/account"
    sign_out(browser, webapp)

    # A recovery code signs in once...
    browser.find_element(By.LINK_TEXT, "Sign in with a recovery code").click()
    fill(browser, email=email, recovery_code=codes[0])
    assert "can't be used again" in browser.page_source
    assert "9 unused recovery codes" in browser.find_element(By.ID, "codes-left").text
    browser.find_element(By.LINK_TEXT, "Show my remaining recovery codes").click()
    left = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
    assert left == codes[1:]
    sign_out(browser, webapp)

    # ... and the second time says so.
    browser.get(webapp.url + "signin/recovery")
    fill(browser, email=email, recovery_code=codes[0])
    assert "was already used" in alert(browser)
    assert "works only once" in alert(browser)
    screenshot("05-recovery-code-used")


def test_a_wrong_first_code_keeps_the_qr_code_to_try_again(
    browser: webdriver.Chrome, webapp: RunningApp
) -> None:
    secret = sign_up_and_scan(browser, webapp, new_email())
    wrong = f"{(int(webapp.emulator.totp_code(secret)) + 1) % 1_000_000:06d}"
    fill(browser, code=wrong)
    assert "didn't match" in alert(browser)
    assert scan_qr_code(browser) == secret
    fill(browser, code="12345")  # five digits: the SDK refuses it, nothing is sent
    assert "Enter the 6 digits" in alert(browser)
    fill(browser, code=webapp.emulator.totp_code(secret))
    assert "You're all set" in browser.page_source


def test_an_abandoned_sign_up_starts_again_with_a_new_qr_code(
    browser: webdriver.Chrome, webapp: RunningApp, screenshot: Callable[[str], None]
) -> None:
    email = new_email()
    abandoned_secret = sign_up_and_scan(browser, webapp, email)
    abandoned_cookie = browser.get_cookie("enrollment")
    assert abandoned_cookie is not None
    # The tab closed before the first code; the person comes back later (without the cookie).
    browser.delete_all_cookies()
    secret = sign_up_and_scan(browser, webapp, email)
    assert secret != abandoned_secret
    assert "here is a new QR code" in browser.find_element(By.ID, "restarted").text
    assert browser.find_element(By.ID, "key").text.replace(" ", "") == secret
    screenshot("08-sign-up-again")

    # The abandoned enrollment is gone: at Stytch (the app deleted that TOTP, so its codes do
    # not confirm), and in the app (its cookie leads back to sign-up).
    fill(browser, code=webapp.emulator.totp_code(abandoned_secret))
    assert "didn't match" in alert(browser)
    enrollment_cookie = browser.get_cookie("enrollment")
    assert enrollment_cookie is not None
    browser.add_cookie({"name": "enrollment", "value": abandoned_cookie["value"]})
    browser.get(webapp.url + "enroll")
    assert urlparse(browser.current_url).path == "/signup"
    browser.add_cookie({"name": "enrollment", "value": enrollment_cookie["value"]})

    # The new one confirms, with its own recovery codes: one TOTP, ten codes.
    browser.get(webapp.url + "enroll")
    assert scan_qr_code(browser) == secret
    fill(browser, code=webapp.emulator.totp_code(secret))
    assert "You're all set" in browser.page_source
    codes = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
    assert len(codes) == 10
    browser.get(webapp.url + "account")
    assert "10 unused recovery codes" in browser.find_element(By.ID, "codes-left").text

    # Signed out, the new app's codes sign in; the account is no longer restartable.
    sign_out(browser, webapp)
    webapp.emulator.clock.advance(30)
    fill(browser, email=email, code=webapp.emulator.totp_code(secret))
    assert urlparse(browser.current_url).path == "/account"
    sign_out(browser, webapp)
    browser.get(webapp.url + "signup")
    fill(browser, email=email)
    assert "already exists" in alert(browser)
    assert urlparse(browser.current_url).path == "/signup"


def test_an_unfinished_sign_up_cannot_sign_in(
    browser: webdriver.Chrome, webapp: RunningApp
) -> None:
    """A code of an unconfirmed enrollment would confirm it: sign-in treats it as unknown."""
    email = new_email()
    secret = sign_up_and_scan(browser, webapp, email)
    browser.delete_all_cookies()
    browser.get(webapp.url)
    fill(browser, email=email, code=webapp.emulator.totp_code(secret))
    assert "didn't match" in alert(browser)
    # The enrollment was not confirmed behind the person's back: signing up again restarts it.
    sign_up_and_scan(browser, webapp, email)
    assert browser.find_element(By.ID, "restarted").is_displayed()


def test_wrong_codes_then_a_locked_account(
    browser: webdriver.Chrome, webapp: RunningApp, screenshot: Callable[[str], None]
) -> None:
    email = new_email()
    secret, _ = enroll(browser, webapp, email)
    sign_out(browser, webapp)
    wrong = f"{(int(webapp.emulator.totp_code(secret)) + 500_000) % 1_000_000:06d}"
    fill(browser, email=email, code=wrong)
    assert "didn't match" in alert(browser)
    screenshot("06-wrong-code")
    for _ in range(8):
        fill(browser, email=email, code=wrong)
    fill(browser, email=email, code=wrong)  # the 10th failure in a row locks the user
    assert "locked for an hour" in alert(browser)
    webapp.emulator.clock.advance(30)
    fill(browser, email=email, code=webapp.emulator.totp_code(secret))  # even the right code
    assert "locked for an hour" in alert(browser)
    screenshot("07-locked")


def test_an_unknown_email_gets_the_wrong_code_answer(
    browser: webdriver.Chrome, webapp: RunningApp
) -> None:
    browser.get(webapp.url)
    fill(browser, email="nobody@example.com", code="123456")
    assert "didn't match" in alert(browser)


def test_rate_limited_by_stytch(browser: webdriver.Chrome, webapp: RunningApp) -> None:
    email = new_email()
    secret, _ = enroll(browser, webapp, email)
    sign_out(browser, webapp)
    webapp.emulator.inject("/v1/totps/authenticate", status=429, retry_after="0", times=None)
    try:
        webapp.emulator.clock.advance(30)
        fill(browser, email=email, code=webapp.emulator.totp_code(secret))
    finally:
        webapp.emulator.clear_faults()
    assert "Too many attempts right now" in alert(browser)


def test_an_outage_is_a_page_not_a_stack_trace(
    browser: webdriver.Chrome, webapp: RunningApp
) -> None:
    email = new_email()
    enroll(browser, webapp, email)
    webapp.emulator.inject("/v1/totps/recovery_codes", status=500, times=None)
    try:
        browser.get(webapp.url + "account")
    finally:
        webapp.emulator.clear_faults()
    assert "isn't working on our side" in alert(browser)
    assert "Traceback" not in browser.page_source
    browser.get(webapp.url + "no-such-page")
    assert "There is no such page" in alert(browser)


def test_the_apps_log_holds_no_secret(browser: webdriver.Chrome, webapp: RunningApp) -> None:
    """Every flow that handles a secret, then the log: it says what happened, and no secret."""
    email = new_email()
    secrets: list[str] = []  # every secret the app handled, typed, showed or set as a cookie

    def keep_enrollment_secrets() -> str:
        secret = scan_qr_code(browser)
        qr_code = browser.find_element(By.CSS_SELECTOR, "img.qr").get_attribute("src")
        assert qr_code is not None
        assert qr_code.startswith("data:image/png;base64,")
        cookie = browser.get_cookie("enrollment")
        assert cookie is not None
        # The image's data, from its middle (its first bytes are every PNG's header).
        png = qr_code.removeprefix("data:image/png;base64,").strip()
        secrets.extend((secret, png[len(png) // 2 :][:40]))
        secrets.append(cookie["value"])
        return secret

    def type_code(**fields: str) -> None:
        secrets.extend(fields.get(name, "") for name in ("code", "recovery_code") if name in fields)
        fill(browser, **fields)

    # A sign-up left unfinished, then started again: two enrollments, a wrong first code.
    browser.get(webapp.url + "signup")
    fill(browser, email=email)
    keep_enrollment_secrets()
    browser.delete_all_cookies()
    browser.get(webapp.url + "signup")
    fill(browser, email=email)
    secret = keep_enrollment_secrets()
    wrong = f"{(int(webapp.emulator.totp_code(secret)) + 1) % 1_000_000:06d}"
    type_code(code=wrong)
    type_code(code=webapp.emulator.totp_code(secret))
    codes = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
    secrets.extend(codes)
    for _ in range(2):  # a session from the enrollment, then one from a code
        cookie = browser.get_cookie("session")
        assert cookie is not None
        secrets.append(cookie["value"])
        sign_out(browser, webapp)
        webapp.emulator.clock.advance(30)
        type_code(email=email, code=webapp.emulator.totp_code(secret))
    sign_out(browser, webapp)
    browser.get(webapp.url + "signin/recovery")
    type_code(email=email, recovery_code=codes[1])
    cookie = browser.get_cookie("session")
    assert cookie is not None
    secrets.append(cookie["value"])
    browser.get(webapp.url + "account/recovery-codes")
    sign_out(browser, webapp)
    browser.get(webapp.url + "signin/recovery")
    type_code(email=email, recovery_code=codes[1])  # spent: refused
    assert "was already used" in alert(browser)

    log = webapp.log()
    for said in (
        "signed up user",
        "restarting the unfinished sign-up of user",
        "enrollment code refused for user",
        "enrolled user",
        "signed in with a code",
        "signed in with a recovery code",
        "recovery sign-in refused for user",
    ):
        assert said in log  # the log does say what happened
    for value in (*secrets, webapp.emulator.secret):
        assert len(value) >= 6
        assert value not in log
    assert not re.search(r"\b\d{6}\b", log.replace(webapp.url, "")), "a code in the log"
