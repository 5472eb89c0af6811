"""API keys for `shoal serve`: kept only as sha256 digests, compared in constant time. Keys
come from SHOAL_API_KEYS (comma-separated) and `api_key_hashes` in shoal.toml. A service with
no key refuses to start unless auth is explicitly off, which only a loopback address allows."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from shoal.errors import AuthError, ConfigError
from shoal.settings import Settings

__all__ = ["KeyCheck", "hash_key", "is_loopback"]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.strip().encode()).hexdigest()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class KeyCheck:
    """Who may call the service. `required` False: anyone (loopback only)."""

    def __init__(self, digests: frozenset[str], *, required: bool = True) -> None:
        self._digests = digests
        self.required = required

    @classmethod
    def from_settings(cls, settings: Settings, *, host: str, no_auth: bool = False
                      ) -> KeyCheck:
        plain = settings.api_keys.get_secret_value() if settings.api_keys else ""
        digests = {hash_key(k) for k in plain.split(",") if k.strip()}
        for digest in settings.api_key_hashes:
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
                raise ConfigError(f"api_key_hashes holds {digest[:12]!r}..., not a sha256 "
                                  "hex digest", fix="put the output of `shoal serve "
                                  "--hash-key KEY` there, not the key itself")
            digests.add(digest.lower())
        if no_auth:
            if not is_loopback(host):
                raise ConfigError(f"--no-auth on {host}: anyone on the network could call "
                                  "the service", fix="serve on 127.0.0.1, or set "
                                  "SHOAL_API_KEYS and drop --no-auth")
            return cls(frozenset(), required=False)
        if not digests:
            raise ConfigError("no API key is configured for `shoal serve`",
                              fix="set SHOAL_API_KEYS=key1,key2 (or api_key_hashes in "
                                  "shoal.toml); on 127.0.0.1 --no-auth serves without keys")
        return cls(frozenset(digests))

    def check(self, authorization: str | None, api_key: str | None) -> None:
        """Accept `Authorization: Bearer KEY` or `X-API-Key: KEY`; AuthError otherwise."""
        if not self.required:
            return
        key = api_key
        if key is None and authorization:
            scheme, _, value = authorization.partition(" ")
            key = value if scheme.lower() == "bearer" else None
        if not key:
            raise AuthError("this request carries no API key",
                            fix="send `Authorization: Bearer KEY` (or `X-API-Key: KEY`)")
        digest = hash_key(key)
        if not any(hmac.compare_digest(digest, known) for known in self._digests):
            raise AuthError("this API key is not accepted",
                            fix="use a key listed in SHOAL_API_KEYS (or api_key_hashes)")
