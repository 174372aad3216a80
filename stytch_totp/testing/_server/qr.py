"""QR codes of ``otpauth://`` URIs: as the PNG data URI Stytch returns, and for a terminal."""

from __future__ import annotations

import base64
import io
from typing import TextIO

import segno

__all__ = ["print_qr", "qr_data_uri"]

# Medium error correction, as authenticator apps expect of a screen-sized code.
_ERROR_CORRECTION = "m"
_MASK = 0


def qr_data_uri(uri: str) -> str:
    """``data:image/png;base64,...`` of a QR code holding ``uri``, like Stytch's ``qr_code``."""
    png = io.BytesIO()
    # A fixed mask: every mask gives a valid code, and segno's search for the best one is most
    # of the cost of a create (about 8 ms of 11), which capped bulk enrollments at ~100/s.
    qr = segno.make(uri, error=_ERROR_CORRECTION, micro=False, mask=_MASK)
    qr.save(png, kind="png", scale=5, border=4)
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")


def print_qr(uri: str, out: TextIO) -> None:
    """Draw a QR code holding ``uri`` in a terminal, two modules per character row."""
    segno.make(uri, error=_ERROR_CORRECTION, micro=False).terminal(out=out, compact=True)
