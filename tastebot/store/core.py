"""The SQLite connection, versioned migrations and transactions. Only tastebot.store runs SQL.

Each area of the store (library, corpus, outputs) owns its tables and a list of migrations;
`schema_migrations` records which have run per area, so areas evolve independently and an old
store is always upgraded in place, never dropped.
"""

from __future__ import annotations

import errno
import functools
import inspect
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from tastebot.errors import StoreError, no_room
from tastebot.vocab import now_iso


class StoreCore:
    """Connection handling shared by every area mixin. Use `Store` (tastebot.store), not this."""

    # area name -> list of SQL scripts; index i is version i + 1. Filled by Store from the mixins.
    AREAS: dict[str, Sequence[str]] = {}

    def __init_subclass__(cls, **kwargs):
        """Every public method of the store maps SQLite's errors to a StoreError (exit 74). A read runs
        outside `transaction()`, and a read-only store touches the file only at its first read, so
        without this a corrupt, unreadable or full store escaped as a bare sqlite3 error (exit 1)."""
        super().__init_subclass__(**kwargs)
        for name in dir(cls):
            raw = inspect.getattr_static(cls, name)
            if not name.startswith("_") and inspect.isfunction(raw) and not getattr(raw, "_maps_store_errors", False):
                setattr(cls, name, _mapping_errors(raw))

    def __init__(self, path: Path | str, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        try:
            if readonly:
                if not self.path.exists():
                    raise StoreError(f"No store at {self.path}: run `tastebot harvest` first.")
                uri = f"file:{self.path}?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA busy_timeout = 30000")
            if not readonly:
                self.conn.execute("PRAGMA journal_mode = WAL")
                # NORMAL in WAL mode is durable against a process kill (only an OS crash may lose the tail).
                self.conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(_explain(exc, self.path)) from None
        except OSError as exc:
            why = no_room(self.path, exc.errno) or f"Cannot open the store {self.path}: {exc.strerror or exc}"
            raise StoreError(f"{why}.") from None

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _rows_in(self, sql: str, ids: Sequence, *, size: int = 900) -> Iterator[sqlite3.Row]:
        """The rows of `sql`, whose `{q}` stands for the placeholders of `ids`, asked `size` ids at a
        time (SQLite caps the variables of one statement)."""
        for i in range(0, len(ids), size):
            chunk = ids[i:i + size]
            yield from self.conn.execute(sql.format(q=",".join("?" * len(chunk))), chunk)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit: a page of data with its bookkeeping, committed together or not at all."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise StoreError(_explain(exc, self.path)) from None
        try:
            yield self.conn
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise StoreError(_explain(exc, self.path)) from None
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise StoreError(_explain(exc, self.path)) from None

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """Join an open transaction, or open one: many rows, one commit."""
        if self.conn.in_transaction:
            yield self.conn
        else:
            with self.transaction() as conn:
                yield conn

    def _rollback(self) -> None:
        """Roll back if a transaction is still open: after SQLITE_FULL or an I/O error SQLite may have
        rolled back already, and a second ROLLBACK must not hide the real error."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass

    def integrity_check(self) -> str:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]

    # -- migrations ------------------------------------------------------------------------
    def schema_versions(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT area, MAX(version) FROM schema_migrations GROUP BY area").fetchall()
        return {r[0]: r[1] for r in rows}

    def _migrate(self) -> None:
        if self.readonly:
            return
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " area TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,"
            " PRIMARY KEY (area, version))"
        )
        current = self.schema_versions()
        for area, scripts in self.AREAS.items():
            have = current.get(area, 0)
            if have > len(scripts):
                raise StoreError(
                    f"The store {self.path} was written by a newer tastebot ({area} schema v{have}); upgrade tastebot."
                )
            for version in range(have + 1, len(scripts) + 1):
                script = scripts[version - 1]
                # executescript commits first, so the script carries its own transaction.
                self.conn.executescript(
                    "BEGIN IMMEDIATE;\n"
                    + script
                    + f"\nINSERT INTO schema_migrations VALUES ('{area}', {version}, '{now_iso()}');\nCOMMIT;"
                )


def _mapping_errors(method):
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def mapped(self, *args, **kwargs):
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.DatabaseError as exc:
                raise StoreError(_explain(exc, self.path)) from None
    else:
        @functools.wraps(method)
        def mapped(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except sqlite3.DatabaseError as exc:
                raise StoreError(_explain(exc, self.path)) from None
    mapped._maps_store_errors = True
    return mapped


def _explain(exc: sqlite3.DatabaseError, path: Path) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return f"The store {path} is corrupt or not a tastebot store ({text}). Move it aside and run `tastebot harvest`."
    if "readonly" in text or "read-only" in text:
        return f"The store {path} is read-only: tastebot cannot write to it."
    if "disk is full" in text or "disk I/O" in text:
        full = no_room(path, errno.ENOSPC if "disk is full" in text else None)
        return f"{full or f'Cannot write the store {path}: {text}'}. Nothing already stored was lost."
    if "locked" in text:
        return f"The store {path} is locked by another program: try again when it is done."
    return f"Store error in {path}: {text}."
