"""Driver errors -> the two error families, in one place (as dlt's destinations/exceptions.py).

Transient: the connection dropped or the server is not there yet (worth a retry with
backoff). Terminal: authentication, a missing database, bad SQL or bad data (retrying will
not help; the message says what to check). Messages never carry a password.
"""

from __future__ import annotations

import time
from typing import Any, Callable, TypeVar

from shopdw.errors import ConfigError, ShopdwError, TerminalError, TransientError
from shopdw.warehouse.base import redact

T = TypeVar("T")

_CONFIG_HINTS = (
    "password authentication failed",
    "authentication failed",
    "does not exist",
    "no pg_hba.conf entry",
    "role ",
    "invalid dsn",
    'missing "="',
    "invalid connection option",
    "invalid integer value",
)


def classify(exc: BaseException, where: str, secrets: tuple[Any, ...] = ()) -> BaseException:
    """Map a driver exception to TransientError / ConfigError / TerminalError (or return it as is)."""
    if isinstance(exc, ShopdwError):
        return exc
    msg = redact(" ".join(str(exc).split()), *secrets)
    mod = type(exc).__module__ or ""
    name = type(exc).__name__
    if mod.startswith("psycopg"):
        import psycopg

        if isinstance(exc, psycopg.OperationalError):
            low = msg.lower()
            if any(h in low for h in _CONFIG_HINTS):
                return ConfigError(f"{where}: {msg}; check the DSN / user / password / database settings")
            return TransientError(f"{where}: connection problem ({msg}); check that the server is up and reachable")
        if isinstance(exc, psycopg.InterfaceError):
            return TransientError(f"{where}: connection lost ({msg})")
        if isinstance(exc, psycopg.ProgrammingError) and "invalid dsn" in msg.lower():
            return ConfigError(f"{where}: {msg}; check the DSN setting")
        return TerminalError(f"{where}: {name}: {msg}")
    if mod.startswith("duckdb") or mod.startswith("_duckdb"):
        if name == "IOException" and "lock" in msg.lower():
            return TransientError(f"{where}: the DuckDB file is in use by another process ({msg})")
        if name in ("IOException", "PermissionException"):
            return ConfigError(f"{where}: {msg}; check SHOPDW_DUCKDB_PATH and its folder's permissions")
        return TerminalError(f"{where}: {name}: {msg}")
    if mod.startswith("redshift_connector"):
        if name in ("InterfaceError", "OperationalError"):
            return TransientError(f"{where}: connection problem ({msg})")
        return TerminalError(f"{where}: {name}: {msg}")
    return exc


def with_retries(
    fn: Callable[[], T],
    attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 8.0,
    on_retry: Callable[[TransientError, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call fn; on TransientError wait (exponential backoff) and try again, up to `attempts` times."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except TransientError as e:
            if attempt == attempts:
                raise TransientError(f"{e} (gave up after {attempts} attempts)") from None
            if on_retry:
                on_retry(e, attempt)
            sleep(min(max_delay, base_delay * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")
