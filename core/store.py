"""Store: users, chats, generations and limits in SQLite through sqlite-utils.

`Store` is synchronous and quick; the bots reach it through `StoreThread`
(core/store_thread.py), which runs each call on one dedicated thread, or on the loop when it
need not wait. Quota is reserved by one INSERT … SELECT … WHERE statement, so no
number of concurrent draws can pass a limit.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from core.processes import Processes
from core.records import (
    COUNTED,
    DRAWING,
    IN_FLIGHT,
    PARAM_COLUMNS,
    AlreadyHandled,
    Denied,
    Generation,
    Limits,
    NewGeneration,
    Reserved,
    Usage,
    params_columns,
    sql_in,
)
from core.schema import migrations
from core.upkeep import Upkeep

WRITE_WAIT_MS = 1000
_COUNTED = sql_in(COUNTED)
_IN_FLIGHT = sql_in(IN_FLIGHT)
_DRAWING = sql_in(DRAWING)

_RESERVE = f"""
INSERT INTO generations (source_key, user_key, chat_key, platform, day, status, images,
    {", ".join(PARAM_COLUMNS)}, parent_id, address, owner, cost, created_at)
SELECT :source_key, :user_key, :chat_key, :platform, :day, 'reserved', 1,
    {", ".join(":" + name for name in PARAM_COLUMNS)}, :parent_id, :address, :owner, :cost, :now
WHERE NOT EXISTS (SELECT 1 FROM users WHERE key = :user_key AND banned = 1)
  AND COALESCE((SELECT enabled FROM chats WHERE key = :chat_key), 1) = 1
  AND (:user_limit = 0 OR (
        SELECT COALESCE(SUM(images * cost), 0) FROM generations
        WHERE user_key = :user_key AND day = :day AND status IN {_COUNTED}
      ) + :cost <= :user_limit)
  AND (:chat_limit = 0 OR (
        SELECT COALESCE(SUM(images * cost), 0) FROM generations
        WHERE chat_key = :chat_key AND day = :day AND status IN {_COUNTED}
      ) + :cost <= :chat_limit)
  AND (:in_flight = 0 OR (
        SELECT COUNT(*) FROM generations WHERE user_key = :user_key AND status IN {_DRAWING}
      ) < :in_flight)
  AND (:cooldown = 0 OR NOT EXISTS (
        SELECT 1 FROM generations WHERE user_key = :user_key
        AND status IN {_COUNTED} AND created_at > :now - :cooldown
      ))
ON CONFLICT (source_key) DO NOTHING
RETURNING id
"""


def _tighter(limit: int, override: int | None) -> int:
    """A limit (0 = none) with an override that may only lower it."""
    if not override:
        return limit
    return override if limit == 0 else min(limit, override)


# Quota is counted in units: each image costs its model's `cost` (1 without MODELS_FILE).
_USED = (
    "SELECT COALESCE(SUM(images * cost), 0) FROM generations WHERE {column} = ? AND day = ? "
    f"AND status IN {_COUNTED}"
)


# file_refs is {platform: [file id, ...]}: one platform's list set, the others kept
_WITH_REFS = "json_set(COALESCE(file_refs, '{}'), ?, json(?))"


def _refs_args(platform: str, refs: list[str]) -> list[str]:
    return [f'$."{platform}"', json.dumps(refs)]


def limits_of(user: dict[str, Any], chat: dict[str, Any], base: Limits) -> Limits:
    """The deployment's limits with overrides from the user's and the chat's rows. A chat's own
    overrides (set by its admins) can only tighten them; a user's override (set by the bot's
    admins) replaces the daily limit, up or down."""
    user_daily = _tighter(base.user_daily, chat.get("user_daily_limit"))
    if user.get("daily_limit") is not None:
        user_daily = user["daily_limit"]
    chat_daily = _tighter(base.chat_daily, chat.get("daily_limit"))
    cooldown = max(base.cooldown_seconds, chat.get("cooldown_seconds") or 0)
    return Limits(
        user_daily=user_daily,
        chat_daily=chat_daily if chat.get("is_group") else 0,
        cooldown_seconds=cooldown,
        in_flight=base.in_flight,
    )


class Store(Upkeep, Processes):
    """Synchronous access to the database; use it from one thread at a time."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit: a statement outside `atomic()` is its own transaction, with no BEGIN
        # and COMMIT around it from the driver (three statements per write were one)
        conn = sqlite3.connect(str(path), timeout=10, check_same_thread=False, isolation_level=None)
        self.sqlite = Database(conn)
        self.sqlite.execute("PRAGMA busy_timeout = 10000")  # start-up: wait for other processes
        if str(path) != ":memory:":
            self._retry_locked(self.sqlite.enable_wal)
        self.sqlite.execute("PRAGMA synchronous = NORMAL")
        self.sqlite.execute("PRAGMA foreign_keys = ON")
        self._migrate()
        # From now on a write waits at most this long for another process's lock, so one
        # stuck write never holds the store's thread (and every other draw) for long; the
        # draw path retries it without blocking (core/service.py).
        self.sqlite.execute(f"PRAGMA busy_timeout = {WRITE_WAIT_MS}")

    def _migrate(self) -> None:
        """Apply pending migrations under a write lock taken up front, so processes starting
        together on a new file wait for each other instead of failing with 'locked'."""
        self.sqlite.conn.execute("BEGIN IMMEDIATE")
        try:
            migrations.apply(self.sqlite)
        except BaseException:
            self.sqlite.conn.execute("ROLLBACK")
            raise
        self.sqlite.conn.execute("COMMIT")

    @staticmethod
    def _retry_locked(action: Callable[[], object], attempts: int = 50) -> None:
        """Switching to WAL needs a moment alone with the file; wait for it."""
        for attempt in range(attempts):
            try:
                action()
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == attempts - 1:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self.sqlite.close()

    def ping(self) -> bool:
        """A trivial read, for health checks."""
        return bool(self._scalar("SELECT COUNT(*) FROM _sqlite_migrations", []) >= 0)

    # -- quota ---------------------------------------------------------------------------

    def effective_limits(self, user_key: str, chat_key: str, base: Limits) -> Limits:
        """The deployment's limits with the user's and the chat's overrides applied."""
        return limits_of(self.user(user_key) or {}, self.chat(chat_key) or {}, base)

    def reserve(
        self, new: NewGeneration, limits: Limits, now: float | None = None
    ) -> Reserved | AlreadyHandled | Denied:
        """Reserve one image of quota (`new.cost` units): Reserved, AlreadyHandled, or Denied
        with the reason."""
        now = time.time() if now is None else now
        params = {
            "source_key": new.source_key,
            "user_key": new.user_key,
            "chat_key": new.chat_key,
            "platform": new.platform,
            "day": new.day,
            "parent_id": new.parent_id,
            "address": new.address,
            "owner": new.owner,
            "cost": new.cost,
            **params_columns(new.params, new.watermark),
            "now": now,
            "user_limit": limits.user_daily,
            "chat_limit": limits.chat_daily,
            "in_flight": limits.in_flight,
            "cooldown": limits.cooldown_seconds,
        }
        rows = self._rows(_RESERVE, params)
        if rows:
            return Reserved(rows[0]["id"])
        if new.source_key is not None:
            existing = self.by_source(new.source_key)
            if existing is not None:
                return AlreadyHandled(existing)
        return self._why_denied(new, limits, now)

    def _why_denied(self, new: NewGeneration, limits: Limits, now: float) -> Denied:
        user = self.user(new.user_key) or {}
        if user.get("banned"):
            return Denied("banned")
        chat = self.chat(new.chat_key) or {}
        if chat.get("enabled", 1) == 0:
            return Denied("chat_disabled")
        usage = self.usage(new.user_key, new.chat_key, new.day, limits)
        for scope, limit, used in (
            ("user_daily", limits.user_daily, usage.used),
            ("chat_daily", limits.chat_daily, usage.chat_used),
        ):
            if limit and used + new.cost > limit:
                # some left, but not enough for this model: the sentence says so
                reason = scope if used >= limit else f"{scope}_cost"
                return Denied(reason, limit, used, cost=new.cost)
        if limits.in_flight and usage.in_flight >= limits.in_flight:
            return Denied("in_flight", limits.in_flight, usage.in_flight)
        last = self.sqlite.execute(
            f"SELECT MAX(created_at) FROM generations WHERE user_key = ? AND status IN {_COUNTED}",
            [new.user_key],
        ).fetchone()[0]
        if limits.cooldown_seconds and last is not None:
            return Denied("cooldown", limits.cooldown_seconds, until=last + limits.cooldown_seconds)
        return Denied("unknown")

    def usage(self, user_key: str, chat_key: str, day: str, limits: Limits) -> Usage:
        used = self._scalar(_USED.format(column="user_key"), [user_key, day])
        chat_used = self._scalar(_USED.format(column="chat_key"), [chat_key, day])
        in_flight = self.sqlite.execute(
            f"SELECT COUNT(*) FROM generations WHERE user_key = ? AND status IN {_DRAWING}",
            [user_key],
        ).fetchone()[0]
        return Usage(used, limits.user_daily, in_flight, chat_used, limits.chat_daily)

    # -- phases --------------------------------------------------------------------------

    def start_generating(self, generation_id: int) -> bool:
        """reserved -> generating, as the relay call starts; False if it was settled meanwhile."""
        cursor = self.sqlite.execute(
            "UPDATE generations SET status = 'generating' WHERE id = ? AND status = 'reserved'",
            [generation_id],
        )
        return cursor.rowcount == 1

    def record_task(self, generation_id: int, task_id: str) -> None:
        """An asynchronous model's task id, as soon as the relay gives it (a restart resumes it)."""
        self.sqlite.execute(
            "UPDATE generations SET task_id = ? WHERE id = ?", [task_id, generation_id]
        )

    def settle_generated(
        self,
        generation_id: int,
        *,
        images: list[dict[str, Any]],
        paths: list[str],
        request_id: str | None,
        relay_seconds: float,
        attempts: int,
        rephrased: str | None,
    ) -> Generation | None:
        """The images exist (and are kept at `paths`): record them; the row stays charged.
        A delayed write may land after `settle_delivered`: the row then stays delivered; or
        after `record_kept` (no `paths` yet: sent by link): the kept files' record stays."""
        kept = "COALESCE(image_paths, '[]') != '[]' AND ? = '[]'"
        rows = self._rows(
            f"""UPDATE generations SET
            status = CASE status WHEN 'delivered' THEN 'delivered' ELSE 'generated' END,
            images = ?, image_meta = CASE WHEN {kept} THEN image_meta ELSE ? END,
            image_paths = CASE WHEN {kept} THEN image_paths ELSE ? END,
            relay_request_id = ?, relay_seconds = ?, attempts = ?, rephrased = ?,
            finished_at = ? WHERE id = ? AND status IN {_COUNTED} RETURNING *""",
            [
                max(1, len(images)),
                json.dumps(paths),
                json.dumps(images),
                json.dumps(paths),
                json.dumps(paths),
                request_id,
                relay_seconds,
                attempts,
                rephrased,
                time.time(),
                generation_id,
            ],
        )
        return Generation.from_row(rows[0]) if rows else self.get(generation_id)

    def record_kept(
        self, generation_id: int, paths: list[str], images: list[dict[str, Any]]
    ) -> bool:
        """The kept copies of a drawn generation were written after it was answered
        (core/keeper.py): their paths and sizes, whatever its phase since. False when the
        row is forgotten (the caller removes the files)."""
        cursor = self.sqlite.execute(
            """UPDATE generations SET image_paths = ?, image_meta = ?
            WHERE id = ? AND forgotten = 0""",
            [json.dumps(paths), json.dumps(images), generation_id],
        )
        return cursor.rowcount == 1

    def settle_delivered(self, generation_id: int, platform: str, refs: list[str]) -> bool:
        """The platform has the images: generated -> delivered, with its file references (in
        one statement). Also from reserved or generating: `settle_generated` may still be
        waiting to land. False when it was settled already (its file references still kept)."""
        with_refs = f", file_refs = {_WITH_REFS}" if refs else ""
        cursor = self.sqlite.execute(
            f"""UPDATE generations SET status = 'delivered', delivered_at = ?{with_refs}
            WHERE id = ? AND status IN {_IN_FLIGHT}""",
            [time.time(), *(_refs_args(platform, refs) if refs else []), generation_id],
        )
        if cursor.rowcount == 1:
            return True
        if refs:
            self.add_file_refs(generation_id, platform, refs)
        return False

    def settle_failure(
        self,
        generation_id: int,
        *,
        kind: str,
        code: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        status: str = "failed",
    ) -> bool:
        """A draw in flight failed (or was interrupted): it no longer counts against any limit.
        False when it was settled already (a row is settled once)."""
        cursor = self.sqlite.execute(
            f"""UPDATE generations SET status = ?, error_kind = ?, error_code = ?,
            error_detail = ?, relay_request_id = COALESCE(?, relay_request_id), finished_at = ?
            WHERE id = ? AND status IN {_IN_FLIGHT}""",
            [status, kind, code, (detail or "")[:500], request_id, time.time(), generation_id],
        )
        return cursor.rowcount == 1

    def add_file_refs(self, generation_id: int, platform: str, refs: list[str]) -> None:
        """Remember the platform's own ids for the images, for cheap resends."""
        self.sqlite.execute(
            f"UPDATE generations SET file_refs = {_WITH_REFS} WHERE id = ?",
            [*_refs_args(platform, refs), generation_id],
        )

    # -- reading -------------------------------------------------------------------------

    def get(self, generation_id: int) -> Generation | None:
        rows = self._rows("SELECT * FROM generations WHERE id = ?", [generation_id])
        return Generation.from_row(rows[0]) if rows else None

    def by_source(self, source_key: str) -> Generation | None:
        rows = self._rows("SELECT * FROM generations WHERE source_key = ?", [source_key])
        return Generation.from_row(rows[0]) if rows else None

    def history(self, user_key: str, limit: int = 10, offset: int = 0) -> list[Generation]:
        rows = self.sqlite.query(
            """SELECT * FROM generations WHERE user_key = ? AND forgotten = 0
            ORDER BY id DESC LIMIT ? OFFSET ?""",
            [user_key, limit, offset],
        )
        return [Generation.from_row(row) for row in rows]
