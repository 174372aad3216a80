"""Exit statuses every ``stytch-totp`` command shares; a command adds its own beside them."""

from __future__ import annotations

from typing import Final

__all__ = ["EXIT_OK", "EXIT_USAGE"]

EXIT_OK: Final = 0
#: A usage or setup error, nothing done: the status ``argparse`` itself exits with.
EXIT_USAGE: Final = 2
