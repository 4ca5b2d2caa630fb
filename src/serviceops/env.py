"""Typed readers for settings that come from the environment.

Each helper fails loudly on a value it cannot understand, so that a typo in a deployment
shows up at start-up rather than as odd behaviour later.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


class ConfigError(RuntimeError):
    """A setting in the environment has a value that cannot be used."""


def env_str(name: str, default: str = "") -> str:
    """Return the variable `name`, or `default` when unset or empty."""
    return os.environ.get(name, "") or default


def env_bool(name: str, default: bool = False) -> bool:
    """Return the variable `name` read as a boolean (1/0, true/false, yes/no, on/off)."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off")


def env_int(name: str, default: int) -> int:
    """Return the variable `name` read as an integer."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    """Return the variable `name` split on commas, blanks removed."""
    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def home_dir() -> Path:
    """Return SERVICEOPS_HOME (default ./serviceops-data), creating it if needed."""
    home = Path(env_str("SERVICEOPS_HOME", "serviceops-data")).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def secret_key(home: Path) -> str:
    """Return SECRET_KEY from the environment, or one generated once and kept in `home`."""
    from_env = env_str("SECRET_KEY")
    if from_env:
        return from_env
    key_file = home / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def database_config(url: str, home: Path, *, prepared_statements: bool = True) -> dict:
    """Return Django's DATABASES['default'] for `url` (empty: the embedded SQLite file).

    On PostgreSQL, with `prepared_statements`, the few statements that `core.rows` writes
    out once (the reads and inserts every API request and case change makes) are prepared
    on each connection the first time they run, so that PostgreSQL no longer parses them
    each time; everything else keeps Django's client-side binding. Turn them off for a
    pooler that cannot keep prepared statements on its connections (PgBouncer in
    transaction mode before 1.21).
    """
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(home / "serviceops.sqlite3"),
            "OPTIONS": {
                # WAL lets the web server read while the job worker writes; IMMEDIATE makes a
                # writing transaction take the lock at BEGIN, so two writers queue instead of
                # failing half-way with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory, so that a job worker started by a test sees the test data.
            "TEST": {"NAME": str(home / f"test-{os.getpid()}.sqlite3")},
        }
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql"}:
        options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        if prepared_statements:
            # psycopg prepares only what runs through a cursor that binds on the server:
            # `core.rows` asks for one; Django's own cursors bind on the client.
            options = {"prepare_threshold": 0, **options}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "OPTIONS": options,
            # A test database per process, so that concurrent test runs never drop each
            # other's database.
            "TEST": {"NAME": f"test_{unquote(parsed.path.lstrip('/'))}_{os.getpid()}"},
        }
    if parsed.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": unquote(parsed.path),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    raise ConfigError(f"DATABASE_URL scheme {parsed.scheme!r} is not supported; use postgres://")
