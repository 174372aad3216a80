"""The pure core: what to send and how to read the answer, with no I/O and no event loop.

``protocol`` turns params into bytes and responses into models or typed errors, ``converter``
holds every JSON rule, ``retry`` decides whether and when to try again, ``totp_codes`` computes
RFC 6238 codes. Everything here is testable without a server.
"""
