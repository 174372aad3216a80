"""``python -m stytch_totp``: the same as the ``stytch-totp`` command."""

from .cli import main

raise SystemExit(main())
