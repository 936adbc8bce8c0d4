"""What the store keeps of users: a name and an argon2id password hash. Their sessions and
API tokens are in `veille.store.sessions`, their reading state in `veille.store.reading`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from veille.store.base import StoreBase
from veille.store.schema import users, utc_now
from veille.store.sessions import api_tokens, sessions

_HASHER = PasswordHasher()


@dataclass(frozen=True)
class User:
    id: int
    name: str
    created_at: datetime
    tokens: int
    sessions: int


class UserStore(StoreBase):
    def add_user(self, name: str, password: str) -> tuple[int, bool]:
        """Add a user, or set the password of the one of that name (which ends their
        sessions); returns their id and whether they are new."""
        password_hash = _HASHER.hash(password)
        with self._write() as conn:
            found = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
            if found is None:
                new = conn.execute(
                    users.insert().values(
                        name=name, password_hash=password_hash, created_at=utc_now()
                    )
                ).inserted_primary_key[0]
                return new, True
            conn.execute(
                users.update().where(users.c.id == found).values(password_hash=password_hash)
            )
            conn.execute(sessions.delete().where(sessions.c.user_id == found))
        return found, False

    def user_id(self, name: str) -> int | None:
        with self._read() as conn:
            return conn.execute(select(users.c.id).where(users.c.name == name)).scalar()

    def users(self) -> list[User]:
        """Every user with how many tokens and open sessions they have, by name."""
        now = utc_now()
        tokens = (
            select(func.count())
            .where(api_tokens.c.user_id == users.c.id)
            .correlate(users)
            .scalar_subquery()
        )
        open_sessions = (
            select(func.count())
            .where(sessions.c.user_id == users.c.id, sessions.c.expires_at > now)
            .correlate(users)
            .scalar_subquery()
        )
        query = select(users.c.id, users.c.name, users.c.created_at, tokens, open_sessions)
        with self._read() as conn:
            return [User(*row) for row in conn.execute(query.order_by(users.c.name))]

    def remove_user(self, name: str) -> bool:
        """Remove a user with their sessions and tokens; False when there is none."""
        found = self.user_id(name)
        if found is None:
            return False
        with self._write() as conn:
            # Explicit, not left to ON DELETE CASCADE: SQLite enforces it only per connection.
            conn.execute(sessions.delete().where(sessions.c.user_id == found))
            conn.execute(api_tokens.delete().where(api_tokens.c.user_id == found))
            conn.execute(users.delete().where(users.c.id == found))
        return True

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
