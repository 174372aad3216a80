"""The pytest plugin's fixtures, under the package's name.

stytch-totp registers its pytest plugin through the ``pytest11`` entry point ``stytch_totp``,
which names the top-level module ``_stytch_totp_pytestplugin``: that module imports neither this
package nor its dependencies, so the plugin costs other projects' test runs nothing until a
fixture is used. This module is the same plugin for those who load it by name, with pytest's
autoloading off (``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``):
``pytest -p stytch_totp.testing.pytest_plugin``, or ``pytest_plugins = [...]`` in a conftest.

* ``stytch_emulator``: a running :class:`~stytch_totp.testing.Emulator`, fresh for each test;
* ``stytch_client``: a :class:`stytch_totp.Client` pointed at it, closed after the test;
* ``stytch_emulator_thread``: a running :class:`~stytch_totp.testing.ThreadedEmulator`;
* ``stytch_sync_client``: a :class:`stytch_totp.SyncClient` pointed at it, closed after the test.
"""

from __future__ import annotations

from _stytch_totp_pytestplugin import (
    stytch_client,
    stytch_emulator,
    stytch_emulator_thread,
    stytch_sync_client,
)

__all__ = ["stytch_client", "stytch_emulator", "stytch_emulator_thread", "stytch_sync_client"]
