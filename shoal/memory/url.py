"""Database URLs, parsed once: `sqlite:///PATH` or `postgresql://…` (also `postgres://` and
`postgresql+psycopg://`). Every part of Shoal that opens a database takes one of these."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shoal.errors import ConfigError

__all__ = ["DatabaseURL"]

_POSTGRES = ("postgresql://", "postgres://", "postgresql+psycopg://")


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL. `text` is the URL as given."""

    text: str
    is_sqlite: bool

    @classmethod
    def parse(cls, url: str | DatabaseURL) -> DatabaseURL:
        """Raises ConfigError for anything but a SQLite or PostgreSQL URL."""
        if isinstance(url, DatabaseURL):
            return url
        if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            return cls(url, True)
        if url.startswith(_POSTGRES):
            return cls(url, False)
        raise ConfigError(f"database URL {url!r} is neither sqlite:///… nor postgresql://…",
                          fix="write sqlite:///path/to/file.db or postgresql://user@host/db")

    @property
    def path(self) -> Path:
        """The SQLite file (only for SQLite URLs)."""
        if not self.is_sqlite:
            raise ValueError(f"{self.text} is not a SQLite URL")
        return Path(self.text.removeprefix("sqlite:///"))

    @property
    def sqlalchemy(self) -> str:
        """The URL for SQLAlchemy (PostgreSQL through psycopg 3)."""
        if self.is_sqlite:
            return self.text
        return "postgresql+psycopg://" + self.text.split("://", 1)[1]

    @property
    def libpq(self) -> str:
        """The URL for psycopg and libpq (PostgreSQL only)."""
        if self.is_sqlite:
            raise ValueError(f"{self.text} is not a PostgreSQL URL")
        return "postgresql://" + self.text.split("://", 1)[1]

    @property
    def redacted(self) -> str:
        """The URL with any password replaced by ***, for printing."""
        scheme, sep, rest = self.text.partition("://")
        credentials, at, host = rest.rpartition("@")
        if self.is_sqlite or not at or ":" not in credentials:
            return self.text
        return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"

    def __str__(self) -> str:
        return self.text
