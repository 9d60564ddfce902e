"""Password hashing: Argon2id with the parameters the app's settings name."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from ..config import ConfigError, settings

# "standard" is RFC 9106's low-memory profile, which is also argon2-cffi's default.
# "cheapest" is for test suites only: it makes a hash cost microseconds instead of ~0.2 s.
PROFILES = {"standard": profiles.RFC_9106_LOW_MEMORY, "cheapest": profiles.CHEAPEST}


def profile_name() -> str:
    """The configured profile's name; ConfigError for one we do not know."""
    name = settings().password_hash
    if name not in PROFILES:
        raise ConfigError(f"WESOG_PASSWORD_HASH={name[:40]!r} is not one of {', '.join(PROFILES)}.")
    return name


@cache
def _hasher(name: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(PROFILES[name])


@cache
def _dummy_hash(name: str) -> str:
    # Made on first use, not at import: each process would otherwise pay for a hash it may
    # never need.
    return _hasher(name).hash("not a real password")


def hash_password(password: str) -> str:
    """An Argon2id hash of `password` with the configured parameters."""
    return _hasher(profile_name()).hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches; an unknown user (None) costs the same time and fails."""
    name = profile_name()
    try:
        _hasher(name).verify(stored_hash or _dummy_hash(name), password)
    except (VerificationError, InvalidHashError):
        return False
    return stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than the configured ones."""
    return _hasher(profile_name()).check_needs_rehash(stored_hash)
