"""The synchronous client: the async one, run on a private event loop on one daemon thread."""
