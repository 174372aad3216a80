"""What several emulator tests need: reading a QR code back, and the published example bodies."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: Stytch's own bodies, as published (see ``tests/examples/README.md`` and ``published/``).
PUBLISHED = Path(__file__).resolve().parent / "published"

_DATA_URI = re.compile(r"data:image/png;base64, ?(?P<png>[A-Za-z0-9+/=]+)")


def qr_png_bytes(data_uri: str) -> bytes:
    """The PNG of a ``qr_code`` data URI, with or without the space after the comma."""
    match = _DATA_URI.fullmatch(data_uri)
    assert match is not None, data_uri[:40]
    return base64.b64decode(match["png"], validate=True)


def decode_qr(data_uri: str) -> str:
    """What a QR code scanner reads from a ``qr_code`` data URI (Pillow decodes the PNG)."""
    image = Image.open(io.BytesIO(qr_png_bytes(data_uri)))
    image.load()  # a corrupt PNG fails here, not later
    barcode = zxingcpp.read_barcode(image.convert("L"))
    assert barcode is not None, "no QR code in the image"
    assert barcode.valid, "a QR code that does not decode"
    return barcode.text


def example(name: str) -> dict[str, Any]:
    """A published example body: ``tests/examples/<name>.json`` or ``published/<name>.json``."""
    for folder in (EXAMPLES, PUBLISHED):
        path = folder / f"{name}.json"
        if path.exists():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    raise FileNotFoundError(name)
