"""The ``qr_code`` field of a create response: a ``data:`` URI holding a PNG image."""

import base64
import binascii
import re

from .._exceptions import InvalidParamsError

__all__ = ["png_of_data_uri"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DATA_URI = re.compile(r"data:image/png;base64,(?P<payload>.*)", re.IGNORECASE | re.DOTALL)


def png_of_data_uri(data_uri: str) -> bytes:
    """The PNG bytes of ``data:image/png;base64,<png>``, with or without a space after the comma.

    Anything that is not a base64 PNG raises :class:`InvalidParamsError` naming ``qr_code``; the
    message describes the fault without quoting the value.
    """
    match = _DATA_URI.fullmatch(data_uri.strip())
    if match is None:
        raise InvalidParamsError("qr_code", "is not a data:image/png;base64 URI")
    payload = "".join(match.group("payload").split())
    try:
        png = base64.b64decode(payload, validate=True)
    except binascii.Error:
        raise InvalidParamsError("qr_code", "the data URI's payload is not valid base64") from None
    if not png.startswith(_PNG_SIGNATURE):
        raise InvalidParamsError("qr_code", "the data URI does not hold a PNG image")
    return png
