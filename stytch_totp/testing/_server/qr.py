"""QR codes of ``otpauth://`` URIs: the PNG data URI Stytch returns, and a drawing for a terminal.

The code is made by zxing-cpp (C++), the PNG written here. A create's QR code is the emulator's
largest cost, so both steps avoid work that does not change the image:

* one fixed mask pattern: every mask gives a valid, scannable code, and choosing the "best" one
  means drawing and scoring all eight (about 1 ms of the 1.1 ms zxing-cpp takes, and 14 of
  segno's 18 ms in pure Python);
* four pixels per module, two bits per pixel: each module is then exactly one byte of a PNG
  row, so zxing-cpp's one-byte-per-module image *is* the row, black ``0x00``, white ``0xFF``;
  each row's three repeats use PNG's "Up" filter, whose data is all zeros, and zlib compresses
  with its run-length strategy, made for such data (40 µs instead of 280 at its default
  level, and 943 bytes instead of 732). The image is 244 pixels wide for a typical URI
  (Stytch's are about 200).
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Final, TextIO

import zxingcpp

__all__ = ["print_qr", "qr_data_uri", "qr_png"]

#: Pixels per module, and bits per pixel: their product must be 8 (see the module docstring).
SCALE: Final = 4
_BIT_DEPTH: Final = 8 // SCALE
#: Medium error correction, as authenticator apps expect of a screen-sized code.
_ERROR_CORRECTION: Final = "M"
_MASK: Final = 0
_QR: Final = zxingcpp.BarcodeFormat.QRCode
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_FILTER_NONE: Final = b"\x00"
_FILTER_UP: Final = b"\x02"
_GRAYSCALE: Final = 0


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))
    )


_IEND: Final = _chunk(b"IEND", b"")


def _modules(uri: str) -> tuple[bytes, int]:
    """One byte per module, quiet zone included (``0x00`` dark, ``0xFF`` light), and the width."""
    code = zxingcpp.create_barcode(uri, _QR, ec_level=_ERROR_CORRECTION, data_mask=_MASK)
    image = code.to_image(scale=1, add_quiet_zones=True)
    width = image.shape[1]
    return bytes(memoryview(image)), width  # type: ignore[arg-type]


def qr_png(uri: str) -> bytes:
    """A PNG of a QR code holding ``uri``: 2-bit grayscale, four pixels per module."""
    modules, width = _modules(uri)
    repeats = (_FILTER_UP + bytes(width)) * (SCALE - 1)
    rows = b"".join(
        [
            _FILTER_NONE + modules[start : start + width] + repeats
            for start in range(0, len(modules), width)
        ]
    )
    size = width * SCALE
    header = struct.pack(">IIBBBBB", size, size, _BIT_DEPTH, _GRAYSCALE, 0, 0, 0)
    return (
        _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 1)) + _IEND
    )


def qr_data_uri(uri: str) -> str:
    """``data:image/png;base64, ...`` of a QR code holding ``uri``, like Stytch's ``qr_code``."""
    return "data:image/png;base64, " + base64.b64encode(qr_png(uri)).decode("ascii")


# Two module rows per line of text: (top light, bottom light) -> the block that shows them.
_HALF_BLOCKS: Final = {
    (True, True): "\u2588",
    (True, False): "\u2580",
    (False, True): "\u2584",
    (False, False): " ",
}


def print_qr(uri: str, out: TextIO) -> None:
    """Draw a QR code holding ``uri`` in a terminal, two modules per character row.

    Light modules are drawn, dark ones left blank: on a dark terminal the code shows dark on
    light, as scanners expect.
    """
    modules, width = _modules(uri)
    rows = [modules[start : start + width] for start in range(0, len(modules), width)]
    rows.append(b"\xff" * width)  # an odd row count: the last line's lower half is quiet zone
    for top, bottom in zip(rows[::2], rows[1::2], strict=False):
        line = "".join(
            _HALF_BLOCKS[upper != 0, lower != 0] for upper, lower in zip(top, bottom, strict=True)
        )
        out.write(line + "\n")
