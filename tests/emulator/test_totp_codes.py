"""The SDK's TOTP helpers: RFC 6238 codes, otpauth URIs, QR code PNGs; and import hygiene."""

from __future__ import annotations

import base64
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone

import pytest

import stytch_totp
from stytch_totp import CreateResponse, InvalidParamsError, otpauth_uri, qr_code_png, totp_code
from stytch_totp._core.converter import converter
from tests.conftest import load_example

# RFC 6238 appendix B, SHA1 rows, truncated to the 6 digits Stytch uses.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "287082"),
    (1111111109, "081804"),
    (1111111111, "050471"),
    (1234567890, "005924"),
    (2000000000, "279037"),
    (20000000000, "353130"),
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY_PNG = PNG_SIGNATURE + b"rest-of-image"


@pytest.mark.parametrize(("unix_time", "expected"), RFC_VECTORS)
def test_totp_code_matches_rfc_6238_vectors(unix_time: int, expected: str) -> None:
    assert totp_code(RFC_SECRET, unix_time) == expected
    assert totp_code(RFC_SECRET, datetime.fromtimestamp(unix_time, UTC)) == expected


def test_totp_code_reads_aware_datetimes_in_any_zone() -> None:
    paris = timezone(timedelta(hours=1))
    at = datetime.fromtimestamp(1111111111, UTC).astimezone(paris)
    assert totp_code(RFC_SECRET, at) == "050471"


def test_totp_code_accepts_secrets_as_people_copy_them() -> None:
    spaced = " ".join(RFC_SECRET[i : i + 4] for i in range(0, len(RFC_SECRET), 4)).lower()
    assert totp_code(spaced, 59) == "287082"


def test_totp_code_defaults_to_now() -> None:
    # Compare with the code of the step we are in, tolerating a step change in between.
    before = totp_code(RFC_SECRET, datetime.now(UTC))
    now_code = totp_code(RFC_SECRET)
    after = totp_code(RFC_SECRET, datetime.now(UTC))
    assert now_code in (before, after)


def test_totp_code_refuses_naive_datetimes() -> None:
    with pytest.raises(InvalidParamsError) as caught:
        totp_code(RFC_SECRET, datetime(2030, 1, 1))
    assert caught.value.field == "at"


def test_totp_code_refuses_a_bad_secret_without_repeating_it() -> None:
    secret = "NOT-BASE32-1890!"
    with pytest.raises(InvalidParamsError) as caught:
        totp_code(secret, 59)
    assert caught.value.field == "secret"
    assert secret not in str(caught.value)
    with pytest.raises(InvalidParamsError):
        totp_code("", 59)


def test_totp_code_refuses_a_time_of_the_wrong_type() -> None:
    with pytest.raises(InvalidParamsError) as caught:
        totp_code(RFC_SECRET, "59")  # type: ignore[arg-type]
    assert caught.value.field == "at"


@pytest.mark.parametrize(
    "at",
    [
        -31,
        -0.5,
        float("nan"),
        float("inf"),
        float("-inf"),
        1e30,
        datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
    ],
)
def test_totp_code_refuses_a_time_without_a_code(at: float | datetime) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        totp_code(RFC_SECRET, at)
    assert caught.value.field == "at"


def test_totp_code_works_from_the_epoch_on() -> None:
    assert totp_code(RFC_SECRET, 0) == totp_code(RFC_SECRET, 29.9)


def test_otpauth_uri_matches_the_uri_in_stytchs_qr_codes() -> None:
    # Decoded from a Stytch-issued QR code (stytch-totp-api.md §8).
    issuer = "My B2B project (Test org)"
    uri = otpauth_uri("WG2SAK2FPOPZRCWLOMELWTBCPAEGBFUO", account="user@example.com", issuer=issuer)
    assert uri == (
        "otpauth://totp/My%20B2B%20project%20%28Test%20org%29:user@example.com"
        "?algorithm=SHA1&digits=6&period=30&secret=WG2SAK2FPOPZRCWLOMELWTBCPAEGBFUO"
        "&issuer=My%20B2B%20project%20%28Test%20org%29"
    )


def test_otpauth_uri_refuses_what_an_app_could_not_read() -> None:
    with pytest.raises(InvalidParamsError) as caught:
        otpauth_uri(RFC_SECRET, account="a@b.c", issuer="Acme: staging")
    assert caught.value.field == "issuer"
    with pytest.raises(InvalidParamsError) as caught:
        otpauth_uri(RFC_SECRET, account="", issuer="Acme")
    assert caught.value.field == "account"
    with pytest.raises(InvalidParamsError) as caught:
        otpauth_uri("1111", account="a@b.c", issuer="Acme")
    assert caught.value.field == "secret"


@pytest.mark.parametrize("separator", [",", ", "])
def test_qr_code_png_reads_both_data_uri_forms_stytch_sends(separator: str) -> None:
    uri = "data:image/png;base64" + separator + base64.b64encode(TINY_PNG).decode()
    assert qr_code_png(uri) == TINY_PNG


def test_create_response_gives_its_qr_code_as_png() -> None:
    body = load_example("create")
    body["qr_code"] = "data:image/png;base64," + base64.b64encode(TINY_PNG).decode()
    created = converter.structure(body, CreateResponse)
    assert created.qr_code_png() == TINY_PNG
    assert qr_code_png(created) == TINY_PNG


def test_qr_code_png_refuses_the_truncated_published_example() -> None:
    created = converter.structure(load_example("create"), CreateResponse)
    with pytest.raises(InvalidParamsError) as caught:
        created.qr_code_png()
    assert caught.value.field == "qr_code"


@pytest.mark.parametrize(
    "source",
    [
        "https://example.com/qr.png",
        "data:image/png;base64," + base64.b64encode(b"GIF89a...").decode(),
        "data:image/png;base64,!!!",
        42,
    ],
)
def test_qr_code_png_refuses_anything_but_a_base64_png(source: object) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        qr_code_png(source)  # type: ignore[arg-type]
    assert caught.value.field == "qr_code"


def test_helpers_are_public() -> None:
    for name in ("totp_code", "otpauth_uri", "qr_code_png"):
        assert name in stytch_totp.__all__
        assert callable(getattr(stytch_totp, name))


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_sdk_and_the_pytest_plugin_never_import_the_emulator_extra() -> None:
    result = _run_python(
        """
        import sys
        import stytch_totp
        import stytch_totp.testing.pytest_plugin
        heavy = {"zxingcpp", "jwt", "cryptography", "aiohttp.web"} & set(sys.modules)
        print(sorted(heavy))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_the_extra_the_emulator_says_how_to_install_it() -> None:
    result = _run_python(
        """
        import sys
        sys.modules["zxingcpp"] = None  # as if the emulator extra were not installed
        import stytch_totp.testing.pytest_plugin
        from stytch_totp.testing import Clock
        try:
            from stytch_totp.testing import Emulator
        except ImportError as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'stytch-totp[emulator]'" in result.stdout
    assert "zxingcpp" in result.stdout
