"""Signing key sets: RSA keys as a JSON Web Key Set, one of them active (ADR 0071).

The private set is a file (``JOBSTREAM_SIGNING_KEYS``) holding every key that may still
verify a token, and ``"active"``: the ``kid`` that signs new ones (RFC 7517 lets a set
carry members its readers do not know). Its public half is what the issuer publishes as
JWKS. Rotation without downtime is three steps, each a ``jobstream keys`` command:
``add`` (the new key is published, not yet used), ``activate`` once verifiers have had time
to fetch it (their cache time), ``retire`` the old key once the tokens it signed expired.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"
KEY_BITS = 2048
# The members of an RSA JWK that are private (RFC 7518 §6.3.2); never published.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})


class KeySetError(Exception):
    """A key set file is missing, malformed, or the change asked of it makes no sense."""


def new_private_jwk(now: float | None = None) -> dict[str, Any]:
    """A fresh RSA private key as a JWK, with a time-ordered ``kid``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key, as_dict=True)
    created = int(now if now is not None else time.time())
    jwk.update(
        kid=f"{time.strftime('%Y%m%d', time.gmtime(created))}-{uuid.uuid4().hex[:8]}",
        alg=ALGORITHM,
        use="sig",
    )
    return jwk


def public_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    """The publishable half of a JWK."""
    return {k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS}


@dataclass(frozen=True)
class SigningKeys:
    """A private key set and the kid that signs."""

    keys: tuple[dict[str, Any], ...]
    active: str

    @classmethod
    def generate(cls) -> SigningKeys:
        """A set of one fresh key, active."""
        jwk = new_private_jwk()
        return cls((jwk,), jwk["kid"])

    @classmethod
    def parse(cls, data: Any, source: str = "key set") -> SigningKeys:
        """Read a set, naming what is wrong with it."""
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise KeySetError(f"{source}: expected an object with a 'keys' list")
        keys: list[dict[str, Any]] = []
        for i, jwk in enumerate(data["keys"]):
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not jwk.get("kid"):
                raise KeySetError(f"{source}: key {i} is not an RSA JWK with a kid")
            if not PRIVATE_MEMBERS & jwk.keys():
                raise KeySetError(f"{source}: key {jwk['kid']} has no private part")
            keys.append(jwk)
        kids = [k["kid"] for k in keys]
        if len(set(kids)) != len(kids):
            raise KeySetError(f"{source}: two keys share a kid")
        active = data.get("active")
        if active not in kids:
            raise KeySetError(f"{source}: 'active' must name one of the keys ({', '.join(kids)})")
        return cls(tuple(keys), str(active))

    @classmethod
    def load(cls, path: str | Path) -> SigningKeys:
        """The set in ``path``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise KeySetError(
                f"{path}: no such key set (make one: jobstream keys generate)"
            ) from exc
        except json.JSONDecodeError as exc:
            raise KeySetError(f"{path}: not JSON ({exc})") from exc
        return cls.parse(data, str(path))

    def to_json(self) -> dict[str, Any]:
        """The private set as written to its file."""
        return {"active": self.active, "keys": list(self.keys)}

    def jwks(self) -> dict[str, Any]:
        """The public key set to publish."""
        return {"keys": [public_jwk(k) for k in self.keys]}

    def active_key(self) -> dict[str, Any]:
        """The JWK that signs new tokens."""
        return next(k for k in self.keys if k["kid"] == self.active)

    def add(self) -> tuple[SigningKeys, str]:
        """The set with one more key, published but not yet signing; and its kid."""
        jwk = new_private_jwk()
        return SigningKeys((*self.keys, jwk), self.active), jwk["kid"]

    def activate(self, kid: str) -> SigningKeys:
        """The set with ``kid`` signing from now on."""
        if kid not in {k["kid"] for k in self.keys}:
            raise KeySetError(f"no key {kid} in the set")
        return SigningKeys(self.keys, kid)

    def retire(self, kid: str) -> SigningKeys:
        """The set without ``kid`` (tokens it signed stop verifying once verifiers refetch)."""
        if kid == self.active:
            raise KeySetError(f"{kid} is the active key: activate another one first")
        kept = tuple(k for k in self.keys if k["kid"] != kid)
        if len(kept) == len(self.keys):
            raise KeySetError(f"no key {kid} in the set")
        return SigningKeys(kept, self.active)


def write_private(path: str | Path, keys: SigningKeys) -> None:
    """Write the private set atomically, readable by its owner only."""
    _write_atomically(Path(path), keys.to_json(), mode=0o600)


def write_public(path: str | Path, keys: SigningKeys) -> None:
    """Write the public JWKS atomically (world-readable: it is public)."""
    _write_atomically(Path(path), keys.jwks(), mode=0o644)


def _write_atomically(path: Path, data: dict[str, Any], *, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class KeyFile:
    """A private key set file, re-read when it changes (rotation without a restart)."""

    def __init__(self, path: str | Path) -> None:
        """Watch the key set file at ``path``; nothing is read before :meth:`current`."""
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._keys: SigningKeys | None = None

    def current(self) -> SigningKeys:
        """The set as the file holds it now (one stat per call, a read when it changed)."""
        try:
            st = self.path.stat()
        except FileNotFoundError as exc:
            raise KeySetError(
                f"{self.path}: no such key set (make one: jobstream keys generate)"
            ) from exc
        stamp = (st.st_mtime_ns, st.st_size)
        if self._keys is None or stamp != self._stamp:
            self._keys = SigningKeys.load(self.path)
            self._stamp = stamp
        return self._keys


def ensure_key_files(directory: str | Path) -> tuple[Path, Path]:
    """A private set and its public JWKS in ``directory``, made once (development, tests).

    Returns (private set, public JWKS); the JWKS is rewritten from the set every time so the
    two always agree.
    """
    directory = Path(directory)
    private, public = directory / "signing-keys.json", directory / "jwks.json"
    if not private.exists():
        write_private(private, SigningKeys.generate())
    write_public(public, SigningKeys.load(private))
    return private, public


def use_key_files(directory: str | Path, environ: Any = os.environ) -> None:
    """Point this process (and the services it starts) at the key files in ``directory``.

    A variable the environment already sets (``JOBSTREAM_SIGNING_KEYS``,
    ``JOBSTREAM_JWKS_URL``) is kept.
    """
    private, public = ensure_key_files(directory)
    environ.setdefault("JOBSTREAM_SIGNING_KEYS", str(private))
    environ.setdefault("JOBSTREAM_JWKS_URL", public.resolve().as_uri())
