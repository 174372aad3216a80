"""Testing tools: a local, stateful Stytch TOTP emulator and a pytest plugin."""
