"""The action log: what a hotspot review group agreed, kept in an embedded SQLite database.

One file per study workspace (`geodata.workspace.actions_path`). Design:
- every change is a new row in `action_versions` (the full state of the action after the change,
  with who made it, `getpass.getuser()`, and when, UTC); triggers refuse UPDATE and DELETE on
  that table, so nothing is ever overwritten. The current state is the latest version.
- the schema has a version (`PRAGMA user_version`) and ordered migrations; a database written
  by a newer svtui (a higher version than this code knows) is refused, never "upgraded" down.
- WAL journal and `BEGIN IMMEDIATE` write transactions with a busy timeout, so two svtui
  processes writing at once queue rather than lose a change (SQLite docs, "Write-Ahead
  Logging" and "Locking and Concurrency").
Errors the user can fix are `ActionInputError` with a reason code; faces phrase them.
"""
from __future__ import annotations

import getpass
import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl

from geodata.errors import SourceError

STATUSES = ("planned", "running", "done", "dropped")
FIELDS = ("place_id", "place_name", "what", "owner", "start", "review_by", "status", "notes",
          "control", "ring_m")
SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 30.0

# Migrations: version -> statements taking the database from version-1 to version.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE actions (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               created_by TEXT NOT NULL,
               created_at TEXT NOT NULL)""",
        """CREATE TABLE action_versions (
               seq INTEGER PRIMARY KEY AUTOINCREMENT,
               action_id INTEGER NOT NULL REFERENCES actions(id),
               version INTEGER NOT NULL,
               place_id TEXT NOT NULL,
               place_name TEXT,
               what TEXT NOT NULL,
               owner TEXT,
               start TEXT,
               review_by TEXT,
               status TEXT NOT NULL,
               notes TEXT,
               changed TEXT,
               who TEXT NOT NULL,
               at TEXT NOT NULL,
               UNIQUE (action_id, version))""",
        """CREATE TRIGGER action_versions_no_update BEFORE UPDATE ON action_versions
               BEGIN SELECT RAISE(ABORT, 'action history is append-only'); END""",
        """CREATE TRIGGER action_versions_no_delete BEFORE DELETE ON action_versions
               BEGIN SELECT RAISE(ABORT, 'action history is append-only'); END""",
    ),
    2: (  # the evaluation's control place and displacement ring, per action
        "ALTER TABLE action_versions ADD COLUMN control TEXT",
        "ALTER TABLE action_versions ADD COLUMN ring_m REAL",
    ),
}


class ActionInputError(ValueError):
    """A value the user gave cannot be stored. `code` says which rule; faces phrase it."""

    def __init__(self, code: str, field: str = "", value: object = None) -> None:
        self.code, self.field, self.value = code, field, value
        super().__init__(f"{code}: {field}={value!r}")


def current_user() -> str:
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # noqa: BLE001  (no login name in some containers)
        return "unknown"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _iso_date(field: str, value) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value.isoformat()
    s = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}", s):
        s += "-01"
    try:
        return date.fromisoformat(s).isoformat()
    except ValueError:
        raise ActionInputError("bad_date", field, value) from None


def _clean(changes: dict) -> dict:
    out = {}
    for k, v in changes.items():
        if k not in FIELDS:
            raise ActionInputError("unknown_field", k, v)
        if k in ("start", "review_by"):
            v = _iso_date(k, v)
        elif k == "status":
            v = str(v).strip().lower()
            if v not in STATUSES:
                raise ActionInputError("bad_status", k, v)
        elif k == "ring_m":
            if v not in (None, ""):
                try:
                    v = float(v)
                except (TypeError, ValueError):
                    raise ActionInputError("bad_number", k, v) from None
                if not v > 0:
                    raise ActionInputError("bad_number", k, v)
            else:
                v = None
        elif v is not None:
            v = str(v)
        out[k] = v
    return out


@dataclass
class ActionLog:
    """An open action log. Use as a context manager, or call close()."""

    path: Path
    conn: sqlite3.Connection

    def __enter__(self) -> "ActionLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    # -- writing ------------------------------------------------------------------------------
    def _write(self, fn):
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")  # take the write lock now; others wait (busy timeout)
        try:
            out = fn(cur)
            cur.execute("COMMIT")
            return out
        except BaseException:
            cur.execute("ROLLBACK")
            raise

    def add(self, place_id: str, what: str, *, place_name: str | None = None, owner: str | None = None,
            start=None, review_by=None, status: str = "planned", notes: str | None = None,
            control: str | None = None, ring_m=None, who: str | None = None) -> int:
        """Record a new action; returns its id."""
        if not str(place_id or "").strip():
            raise ActionInputError("missing", "place_id", place_id)
        if not str(what or "").strip():
            raise ActionInputError("missing", "what", what)
        state = _clean(dict(place_id=str(place_id).strip(), place_name=place_name, what=str(what).strip(),
                            owner=owner, start=start, review_by=review_by, status=status, notes=notes,
                            control=control, ring_m=ring_m))
        if state["start"] and state["review_by"] and state["review_by"] < state["start"]:
            raise ActionInputError("review_before_start", "review_by", state["review_by"])
        who = who or current_user()
        at = _now()

        def do(cur):
            cur.execute("INSERT INTO actions (created_by, created_at) VALUES (?, ?)", (who, at))
            aid = cur.lastrowid
            self._insert_version(cur, aid, 1, state, "created", who, at)
            return aid

        return self._write(do)

    def update(self, action_id: int, who: str | None = None, **changes) -> int:
        """Change an action: a new version row with the full new state. Returns the version."""
        changes = _clean(changes)
        who = who or current_user()
        at = _now()

        def do(cur):
            row = cur.execute(
                f"SELECT version, {', '.join(FIELDS)} FROM action_versions WHERE action_id = ? "
                "ORDER BY version DESC LIMIT 1", (int(action_id),)).fetchone()
            if row is None:
                raise ActionInputError("no_such_action", "id", action_id)
            state = dict(zip(FIELDS, row[1:]))
            changed = [k for k, v in changes.items() if state.get(k) != v]
            if not changed:
                return int(row[0])
            state.update(changes)
            if state["start"] and state["review_by"] and state["review_by"] < state["start"]:
                raise ActionInputError("review_before_start", "review_by", state["review_by"])
            self._insert_version(cur, int(action_id), int(row[0]) + 1, state, ",".join(changed), who, at)
            return int(row[0]) + 1

        return self._write(do)

    @staticmethod
    def _insert_version(cur, aid, version, state, changed, who, at) -> None:
        cols = ("action_id", "version", *FIELDS, "changed", "who", "at")
        vals = (aid, version, *(state.get(f) for f in FIELDS), changed, who, at)
        cur.execute(f"INSERT INTO action_versions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", vals)

    # -- reading ------------------------------------------------------------------------------
    def history(self, action_id: int | None = None) -> pl.DataFrame:
        """Every version of every action (or one), oldest first."""
        sql = f"SELECT action_id, version, {', '.join(FIELDS)}, changed, who, at FROM action_versions"
        args: tuple = ()
        if action_id is not None:
            sql += " WHERE action_id = ?"
            args = (int(action_id),)
        rows = self.conn.execute(sql + " ORDER BY action_id, version", args).fetchall()
        return _frame(rows, ["action_id", "version", *FIELDS, "changed", "who", "at"])

    def current(self, status: str | tuple[str, ...] | None = None) -> pl.DataFrame:
        """The latest version of each action, with who created it and when, ordered by id."""
        sql = (f"SELECT v.action_id, v.version, {', '.join('v.' + f for f in FIELDS)}, a.created_by, a.created_at, "
               "v.who AS updated_by, v.at AS updated_at FROM action_versions v JOIN actions a ON a.id = v.action_id "
               "WHERE v.version = (SELECT MAX(version) FROM action_versions w WHERE w.action_id = v.action_id) "
               "ORDER BY v.action_id")
        rows = self.conn.execute(sql).fetchall()
        df = _frame(rows, ["action_id", "version", *FIELDS, "created_by", "created_at", "updated_by", "updated_at"])
        if status:
            wanted = (status,) if isinstance(status, str) else tuple(status)
            df = df.filter(pl.col("status").is_in(list(wanted)))
        return df

    def get(self, action_id: int) -> dict | None:
        df = self.current().filter(pl.col("action_id") == int(action_id))
        return df.row(0, named=True) if df.height else None


SCHEMA = {"action_id": pl.Int64, "version": pl.Int64, **{f: pl.Utf8 for f in FIELDS}, "ring_m": pl.Float64,
          "changed": pl.Utf8, "who": pl.Utf8, "at": pl.Utf8, "created_by": pl.Utf8, "created_at": pl.Utf8,
          "updated_by": pl.Utf8, "updated_at": pl.Utf8}


def _frame(rows, cols) -> pl.DataFrame:
    schema = {c: SCHEMA[c] for c in cols}
    return pl.DataFrame(rows, schema=schema, orient="row")


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to `target`, one migration per transaction. Returns the version."""
    cur = conn.cursor()
    cur.execute("BEGIN IMMEDIATE")
    try:
        have = schema_version(conn)
        if have > SCHEMA_VERSION:
            raise SourceError(path, f"was written by a newer svtui (action log schema version {have}; "
                              f"this svtui reads up to version {SCHEMA_VERSION})",
                              "upgrade svtui, or use another --workspace")
        for v in range(have + 1, target + 1):
            for stmt in MIGRATIONS[v]:
                cur.execute(stmt)
            cur.execute(f"PRAGMA user_version = {int(v)}")
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    return schema_version(conn)


def open_log(path, create: bool = True, target: int = SCHEMA_VERSION) -> ActionLog:
    """Open (or create) the action log at `path` and migrate it to this svtui's schema.

    `target` exists for tests of the migrations (an old-version file); leave it alone.
    """
    path = Path(path)
    if not path.exists() and not create:
        raise SourceError(path, "no action log here yet", "add an action with `svtui actions add`")
    if path.exists() and path.is_dir():
        raise SourceError(path, "is a folder, not an action log", "name another --workspace")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, path, target)
    except sqlite3.DatabaseError as exc:
        raise SourceError(path, f"is not a readable svtui action log ({exc})",
                          "move the file aside or use another --workspace") from None
    return ActionLog(path, conn)
