"""QR codes of ``otpauth://`` URIs: as the PNG data URI Stytch returns, and for a terminal."""

from __future__ import annotations

import base64
import io
from typing import TextIO

import segno

__all__ = ["print_qr", "qr_data_uri"]

# Medium error correction, as authenticator apps expect of a screen-sized code.
_ERROR_CORRECTION = "m"


def qr_data_uri(uri: str) -> str:
    """``data:image/png;base64,...`` of a QR code holding ``uri``, like Stytch's ``qr_code``."""
    png = io.BytesIO()
    segno.make(uri, error=_ERROR_CORRECTION, micro=False).save(png, kind="png", scale=5, border=4)
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")


def print_qr(uri: str, out: TextIO) -> None:
    """Draw a QR code holding ``uri`` in a terminal, two modules per character row."""
    segno.make(uri, error=_ERROR_CORRECTION, micro=False).terminal(out=out, compact=True)
