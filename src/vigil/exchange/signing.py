"""Signed requests between instances: RFC 9421 HTTP Message Signatures with Ed25519 (the
`http-message-signatures` package over `cryptography`). A request covers its method, target URI and
Content-Digest, and carries `created`, `expires` (minutes later), a nonce and Vigil's tag. The key id
is the key's fingerprint, so the peer is found by the key it signed with (pinned at peer-add: no
trust on first use) and keys can rotate. The library does not remember nonces: `Verifier` keeps each
until its signature expires, so a replay is refused."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from vigil.errors import VigilError

TAG = "vigil-federation"
LIFETIME = timedelta(minutes=5)  # a signature is good this long after `created` (clock skew included)
COVERED = ("@method", "@target-uri", "content-digest")


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A peer's key as `vigil exchange key-show` prints it (base64 of the 32 raw bytes)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        if len(raw) != 32:
            raise ValueError
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise VigilError(
            "--key must be an Ed25519 public key as `vigil exchange key-show` prints it (base64 of 32 bytes)"
        ) from None


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:32]


def new_private_key_pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, private: Ed25519PrivateKey | None = None, public: dict | None = None):
        self.private, self.public = private, public or {}

    def resolve_private_key(self, key_id: str):
        return self.private

    def resolve_public_key(self, key_id: str):
        return self.public.get(key_id)


@dataclass
class _Request:
    """The message interface the library reads: method, url, headers."""

    method: str
    url: str
    headers: dict


class Signer:
    def __init__(self, private_pem: str):
        self.key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        self.public = self.key.public_key()
        self.key_id = key_id(self.public)
        self._signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_Keys(self.key))

    def headers(self, method: str, url: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
        """The headers that sign `method url` with `body`: Content-Digest, Signature-Input, Signature."""
        now = now or datetime.now(UTC)
        request = _Request(method, url, {"Content-Type": "application/json"})
        self._signer.sign(
            request,
            key_id=self.key_id,
            created=now,
            expires=now + LIFETIME,
            nonce=secrets.token_urlsafe(18),
            tag=TAG,
            covered_component_ids=COVERED,
            body=body,
        )
        return request.headers


class BadSignature(Exception):
    """Unsigned, wrongly signed, expired, replayed or from an unknown key: HTTP 401."""


@dataclass(frozen=True)
class Verified:
    key_id: str
    nonce: str
    expires: datetime  # naive UTC, as the database keeps times


def verify(method: str, url: str, headers: dict, body: bytes, keys: dict[str, Ed25519PublicKey]) -> Verified:
    """Check a request's signature against the pinned `keys` (by key id). The caller must still refuse
    a nonce it has seen (store it until `expires`)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "signature" not in lowered or "signature-input" not in lowered:
        raise BadSignature("the request is not signed (HTTP Message Signatures, RFC 9421)")
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=_Keys(public=keys))
    try:
        results = verifier.verify(
            _Request(method, url, lowered),
            max_age=LIFETIME,
            expect_tag=TAG,
            require_components=COVERED,
            body=body,
        )
    except (HTTPMessageSignaturesException, ValueError, TypeError, KeyError) as exc:
        raise BadSignature(f"the signature does not verify: {str(exc)[:200]}") from None
    params = results[0].parameters
    if not params.get("nonce") or "expires" not in params:
        raise BadSignature("the signature must carry a nonce and an expiry")
    expires = datetime.fromtimestamp(int(params["expires"]), UTC).replace(tzinfo=None)
    if expires - datetime.now(UTC).replace(tzinfo=None) > LIFETIME + timedelta(minutes=1):
        raise BadSignature("the signature's expiry is too far ahead")
    return Verified(str(params["keyid"]), str(params["nonce"]), expires)
