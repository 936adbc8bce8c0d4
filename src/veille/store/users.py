"""What the store keeps of users: a name, an argon2id password hash, an API token's hash."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from veille.store.base import StoreBase
from veille.store.schema import users, utc_now

_HASHER = PasswordHasher()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore(StoreBase):
    def add_user(self, name: str, password: str) -> str:
        """Add or reset a user; returns their new API token (shown once, stored hashed)."""
        token = secrets.token_urlsafe(32)
        values = {"password_hash": _HASHER.hash(password), "token_hash": token_hash(token)}
        with self._write() as conn:
            found = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
            if found is None:
                conn.execute(users.insert().values(name=name, created_at=utc_now(), **values))
            else:
                conn.execute(users.update().where(users.c.id == found).values(**values))
        return token

    def has_users(self) -> bool:
        with self._read() as conn:
            return conn.execute(select(users.c.id).limit(1)).first() is not None

    def check_password(self, name: str, password: str) -> bool:
        with self._read() as conn:
            stored = conn.execute(
                select(users.c.password_hash).where(users.c.name == name)
            ).scalar()
        if stored is None:
            _HASHER.hash(password)  # as slow as a real check: names do not leak by timing
            return False
        try:
            return _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def user_of_token(self, token: str) -> str | None:
        with self._read() as conn:
            return conn.execute(
                select(users.c.name).where(users.c.token_hash == token_hash(token))
            ).scalar()
