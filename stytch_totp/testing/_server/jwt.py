"""The RS256 key that signs the emulator's session JWTs, and its JWKS entry.

Claims follow what Stytch's SDKs verify: ``aud`` is the project id, ``iss`` is
``stytch.com/<project_id>``, ``sub`` the user id, and the session lives under the
``https://stytch.com/session`` claim. Custom claims sit at the top level.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

__all__ = ["RESERVED_CLAIMS", "SESSION_CLAIM", "SigningKey", "issuer_for", "shared_key"]

#: The claim that holds the session (id, timestamps, factors, roles).
SESSION_CLAIM: Final = "https://stytch.com/session"
#: Claims the JWT itself sets; custom claims with these names are ignored, as Stytch does.
RESERVED_CLAIMS: Final = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})


def issuer_for(project_id: str) -> str:
    """The ``iss`` of the project's session JWTs."""
    return f"stytch.com/{project_id}"


class SigningKey:
    """An RSA key with a key id; builds and checks session JWTs."""

    def __init__(self, private_key_pem: str) -> None:
        # Validation costs tens of milliseconds per load, and the key is one the emulator made.
        key = serialization.load_pem_private_key(
            private_key_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
        )
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("the signing key must be an RSA private key")
        self._private_key = key
        self._public_key = key.public_key()
        self.private_key_pem = private_key_pem
        # Derived from the key itself, so a key kept in a state file keeps its kid.
        self.kid = f"jwk-test-{uuid.uuid5(uuid.NAMESPACE_OID, self._public_numbers_text())}"

    def __repr__(self) -> str:
        return f"<SigningKey kid={self.kid!r}>"

    def _public_numbers_text(self) -> str:
        numbers = self._public_key.public_numbers()
        return f"{numbers.n:x}:{numbers.e:x}"

    @classmethod
    def generate(cls) -> SigningKey:
        """A new 2048-bit key."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(pem.decode())

    def jwk(self) -> dict[str, Any]:
        """The public key as a JWKS entry, with every field Stytch's JWK schema requires."""
        public: dict[str, Any] = RSAAlgorithm.to_jwk(self._public_key, as_dict=True)
        return {
            "kty": public["kty"],
            "use": "sig",
            "key_ops": ["verify"],
            "alg": "RS256",
            "kid": self.kid,
            # No certificate chain: the emulator's key is not certified by anyone.
            "x5c": [],
            "x5tS256": "",
            "n": public["n"],
            "e": public["e"],
        }

    def sign(self, claims: Mapping[str, Any]) -> str:
        """An RS256 JWT of ``claims``, with this key's ``kid`` in the header."""
        return jwt.encode(
            dict(claims), self._private_key, algorithm="RS256", headers={"kid": self.kid}
        )

    def session_id_of(self, token: str, *, project_id: str) -> str | None:
        """The session id inside a JWT this key signed for ``project_id``, else ``None``.

        Expiry is not checked: an expired JWT still names a session that may be alive, which is
        how Stytch lets a stale JWT extend its session.
        """
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                audience=project_id,
                issuer=issuer_for(project_id),
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return None
        session = claims.get(SESSION_CLAIM)
        session_id = session.get("id") if isinstance(session, dict) else None
        return session_id if isinstance(session_id, str) else None


@functools.cache
def shared_key() -> SigningKey:
    """One key per process for in-memory emulators: key generation is the slow part of start-up."""
    return SigningKey.generate()
