"""Store: users, chats, generations and limits in SQLite through sqlite-utils.

`Store` is synchronous and quick; the bots reach it through `StoreThread`, which runs every call
on one dedicated thread so the event loop never waits on the disk and the connection is never
shared between threads. Quota is reserved by one INSERT … SELECT … WHERE statement, so no
number of concurrent draws can pass a limit.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlite_utils import Database

from core.params import DrawParams, Watermark, WatermarkChoice
from core.schema import migrations

COUNTED = ("pending", "succeeded")


@dataclass(frozen=True)
class Limits:
    """The limits one reservation is checked against; 0 switches a limit off."""

    user_daily: int = 0
    chat_daily: int = 0
    cooldown_seconds: int = 0
    in_flight: int = 0


@dataclass(frozen=True)
class NewGeneration:
    """Everything recorded when a draw is reserved: who, where, and what (`params`, with a
    concrete seed, and the watermark it resolved to)."""

    user_key: str
    chat_key: str
    platform: str
    day: str
    params: DrawParams
    watermark: Watermark
    source_key: str | None = None
    parent_id: int | None = None


# The columns of generations that hold a DrawParams, one per field, named alike.
PARAM_COLUMNS = tuple(f.name for f in fields(DrawParams))


def params_columns(params: DrawParams, watermark: Watermark) -> dict[str, Any]:
    """A DrawParams as the columns that store it (the watermark as resolved, in JSON)."""
    values = {name: getattr(params, name) for name in PARAM_COLUMNS}
    values |= {"expand": int(params.expand), "super_res": int(params.super_res)}
    values["watermark"] = json.dumps(asdict(watermark), ensure_ascii=False)
    return values


def params_of_row(row: dict[str, Any]) -> DrawParams:
    """The DrawParams stored in a generations row: what a redo draws again."""
    values = {name: row[name] for name in PARAM_COLUMNS}
    mark = json.loads(row["watermark"] or "{}")
    choice = WatermarkChoice(
        **{f.name: mark.get(f.name) for f in fields(WatermarkChoice) if f.name in mark}
    )
    return DrawParams(
        **values
        | {
            "prompt": row["prompt"] or "",
            "expand": bool(row["expand"]),
            "super_res": bool(row["super_res"]),
            "watermark": choice,
        }
    )


@dataclass(frozen=True)
class Generation:
    """One row of generations, as the rest of the code reads it."""

    id: int
    user_key: str
    chat_key: str
    platform: str
    day: str
    status: str
    params: DrawParams
    created_at: float
    finished_at: float | None
    error_kind: str | None
    relay_request_id: str | None
    relay_seconds: float | None
    image_paths: list[str]
    image_meta: list[dict[str, Any]]
    file_refs: dict[str, list[str]]
    parent_id: int | None
    source_key: str | None

    def relay_url(self, index: int) -> str | None:
        """The relay's own link to image `index` (it expires after about a day)."""
        meta = self.image_meta[index] if index < len(self.image_meta) else {}
        url = meta.get("url")
        return url if isinstance(url, str) else None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Generation:
        return cls(
            id=row["id"],
            user_key=row["user_key"],
            chat_key=row["chat_key"],
            platform=row["platform"],
            day=row["day"],
            status=row["status"],
            params=params_of_row(row),
            created_at=row["created_at"],
            finished_at=row["finished_at"],
            error_kind=row["error_kind"],
            relay_request_id=row["relay_request_id"],
            relay_seconds=row["relay_seconds"],
            image_paths=json.loads(row["image_paths"] or "[]"),
            image_meta=json.loads(row["image_meta"] or "[]"),
            file_refs=json.loads(row["file_refs"] or "{}"),
            parent_id=row["parent_id"],
            source_key=row["source_key"],
        )


@dataclass(frozen=True)
class Reserved:
    generation_id: int


@dataclass(frozen=True)
class AlreadyHandled:
    """The same platform message was seen before (an edit or a redelivery)."""

    generation: Generation


@dataclass(frozen=True)
class Denied:
    """Why a reservation was refused: `reason` names the limit; `until` is when it frees up."""

    reason: str
    limit: int = 0
    used: int = 0
    until: float | None = None


@dataclass(frozen=True)
class Usage:
    """One user's standing today."""

    used: int
    limit: int
    in_flight: int
    chat_used: int
    chat_limit: int


_RESERVE = f"""
INSERT INTO generations (source_key, user_key, chat_key, platform, day, status, images,
    {", ".join(PARAM_COLUMNS)}, parent_id, created_at)
SELECT :source_key, :user_key, :chat_key, :platform, :day, 'pending', 1,
    {", ".join(":" + name for name in PARAM_COLUMNS)}, :parent_id, :now
WHERE NOT EXISTS (SELECT 1 FROM users WHERE key = :user_key AND banned = 1)
  AND COALESCE((SELECT enabled FROM chats WHERE key = :chat_key), 1) = 1
  AND (:user_limit = 0 OR (
        SELECT COALESCE(SUM(images), 0) FROM generations
        WHERE user_key = :user_key AND day = :day AND status IN ('pending', 'succeeded')
      ) < :user_limit)
  AND (:chat_limit = 0 OR (
        SELECT COALESCE(SUM(images), 0) FROM generations
        WHERE chat_key = :chat_key AND day = :day AND status IN ('pending', 'succeeded')
      ) < :chat_limit)
  AND (:in_flight = 0 OR (
        SELECT COUNT(*) FROM generations WHERE user_key = :user_key AND status = 'pending'
      ) < :in_flight)
  AND (:cooldown = 0 OR NOT EXISTS (
        SELECT 1 FROM generations WHERE user_key = :user_key
        AND status IN ('pending', 'succeeded') AND created_at > :now - :cooldown
      ))
ON CONFLICT (source_key) DO NOTHING
RETURNING id
"""


def _tighter(limit: int, override: int | None) -> int:
    """A limit (0 = none) with an override that may only lower it."""
    if not override:
        return limit
    return override if limit == 0 else min(limit, override)


_USED = """SELECT COALESCE(SUM(images), 0) FROM generations
WHERE {column} = ? AND day = ? AND status IN ('pending', 'succeeded')"""
_FAILED = "status IN ('failed', 'interrupted')"


class Store:
    """Synchronous access to the database; use it from one thread at a time."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=10, check_same_thread=False)
        self.sqlite = Database(conn)
        self.sqlite.execute("PRAGMA busy_timeout = 10000")
        if str(path) != ":memory:":
            self._retry_locked(self.sqlite.enable_wal)
        self.sqlite.execute("PRAGMA synchronous = NORMAL")
        self.sqlite.execute("PRAGMA foreign_keys = ON")
        self._migrate()

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

    # -- who and where -------------------------------------------------------------------

    def touch_user(self, key: str, name: str | None, language: str | None) -> None:
        platform, _, user_id = key.partition(":")
        now = time.time()
        self.sqlite.execute(
            """INSERT INTO users (key, platform, user_id, name, language, created_at, last_seen_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET name = COALESCE(excluded.name, name),
                language = COALESCE(excluded.language, language),
                last_seen_at = excluded.last_seen_at""",
            [key, platform, user_id, name, language, now, now],
        )

    def touch_chat(self, key: str, title: str | None, is_group: bool) -> None:
        platform, _, chat_id = key.partition(":")
        now = time.time()
        self.sqlite.execute(
            """INSERT INTO chats (key, platform, chat_id, title, is_group, created_at, last_seen_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET title = COALESCE(excluded.title, title),
                is_group = excluded.is_group, last_seen_at = excluded.last_seen_at""",
            [key, platform, chat_id, title, int(is_group), now, now],
        )

    def user(self, key: str) -> dict[str, Any] | None:
        rows = list(self.sqlite.query("SELECT * FROM users WHERE key = ?", [key]))
        return rows[0] if rows else None

    def chat(self, key: str) -> dict[str, Any] | None:
        rows = list(self.sqlite.query("SELECT * FROM chats WHERE key = ?", [key]))
        return rows[0] if rows else None

    # -- quota ---------------------------------------------------------------------------

    def effective_limits(self, user_key: str, chat_key: str, base: Limits) -> Limits:
        """The deployment's limits with overrides applied. A chat's own overrides (set by its
        admins) can only tighten them; a user's override (set by the bot's admins) replaces
        the daily limit, up or down."""
        user = self.user(user_key) or {}
        chat = self.chat(chat_key) or {}
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

    def reserve(
        self, new: NewGeneration, limits: Limits, now: float | None = None
    ) -> Reserved | AlreadyHandled | Denied:
        """Reserve one image of quota: Reserved, AlreadyHandled, or Denied with the reason."""
        now = time.time() if now is None else now
        params = {
            "source_key": new.source_key,
            "user_key": new.user_key,
            "chat_key": new.chat_key,
            "platform": new.platform,
            "day": new.day,
            "parent_id": new.parent_id,
            **params_columns(new.params, new.watermark),
            "now": now,
            "user_limit": limits.user_daily,
            "chat_limit": limits.chat_daily,
            "in_flight": limits.in_flight,
            "cooldown": limits.cooldown_seconds,
        }
        with self.sqlite.atomic():
            rows = list(self.sqlite.query(_RESERVE, params))
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
        if limits.user_daily and usage.used >= limits.user_daily:
            return Denied("user_daily", limits.user_daily, usage.used)
        if limits.chat_daily and usage.chat_used >= limits.chat_daily:
            return Denied("chat_daily", limits.chat_daily, usage.chat_used)
        if limits.in_flight and usage.in_flight >= limits.in_flight:
            return Denied("in_flight", limits.in_flight, usage.in_flight)
        last = self.sqlite.execute(
            "SELECT MAX(created_at) FROM generations WHERE user_key = ? AND status IN (?, ?)",
            [new.user_key, *COUNTED],
        ).fetchone()[0]
        if limits.cooldown_seconds and last is not None:
            return Denied("cooldown", limits.cooldown_seconds, until=last + limits.cooldown_seconds)
        return Denied("unknown")

    def usage(self, user_key: str, chat_key: str, day: str, limits: Limits) -> Usage:
        used = self._scalar(_USED.format(column="user_key"), [user_key, day])
        chat_used = self._scalar(_USED.format(column="chat_key"), [chat_key, day])
        in_flight = self.sqlite.execute(
            "SELECT COUNT(*) FROM generations WHERE user_key = ? AND status = 'pending'",
            [user_key],
        ).fetchone()[0]
        return Usage(used, limits.user_daily, in_flight, chat_used, limits.chat_daily)

    # -- settling ------------------------------------------------------------------------

    def settle_success(
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
        """Mark a pending draw succeeded and return its row."""
        self.sqlite.execute(
            """UPDATE generations SET status = 'succeeded', images = ?, image_meta = ?,
            image_paths = ?, relay_request_id = ?, relay_seconds = ?, attempts = ?, rephrased = ?,
            finished_at = ? WHERE id = ? AND status = 'pending'""",
            [
                max(1, len(images)),
                json.dumps(images),
                json.dumps(paths),
                request_id,
                relay_seconds,
                attempts,
                rephrased,
                time.time(),
                generation_id,
            ],
        )
        return self.get(generation_id)

    def settle_failure(
        self,
        generation_id: int,
        *,
        kind: str,
        code: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        status: str = "failed",
    ) -> None:
        """Mark a pending draw failed (or interrupted): it no longer counts against any limit."""
        self.sqlite.execute(
            """UPDATE generations SET status = ?, error_kind = ?, error_code = ?,
            error_detail = ?, relay_request_id = COALESCE(?, relay_request_id), finished_at = ?
            WHERE id = ? AND status = 'pending'""",
            [status, kind, code, (detail or "")[:500], request_id, time.time(), generation_id],
        )

    def recover(self, platforms: Iterable[str], older_than: float | None = None) -> int:
        """Settle draws left pending by a crash: those of `platforms`, or older than a time."""
        names = list(platforms)
        marks = ",".join("?" for _ in names) or "NULL"
        cursor = self.sqlite.execute(
            f"""UPDATE generations SET status = 'interrupted', error_kind = 'interrupted',
            finished_at = ? WHERE status = 'pending'
            AND (platform IN ({marks}) OR created_at < ?)""",
            [time.time(), *names, older_than if older_than is not None else -1],
        )
        return cursor.rowcount

    def add_file_refs(self, generation_id: int, platform: str, refs: list[str]) -> None:
        """Remember the platform's own ids for the images, for cheap resends."""
        with self.sqlite.atomic():
            row = self.sqlite.execute(
                "SELECT file_refs FROM generations WHERE id = ?", [generation_id]
            ).fetchone()
            if row is None:
                return
            current = json.loads(row[0] or "{}")
            current[platform] = refs
            self.sqlite.execute(
                "UPDATE generations SET file_refs = ? WHERE id = ?",
                [json.dumps(current), generation_id],
            )

    # -- reading -------------------------------------------------------------------------

    def get(self, generation_id: int) -> Generation | None:
        rows = list(self.sqlite.query("SELECT * FROM generations WHERE id = ?", [generation_id]))
        return Generation.from_row(rows[0]) if rows else None

    def by_source(self, source_key: str) -> Generation | None:
        rows = list(
            self.sqlite.query("SELECT * FROM generations WHERE source_key = ?", [source_key])
        )
        return Generation.from_row(rows[0]) if rows else None

    def history(self, user_key: str, limit: int = 10, offset: int = 0) -> list[Generation]:
        rows = self.sqlite.query(
            """SELECT * FROM generations WHERE user_key = ? AND forgotten = 0
            ORDER BY id DESC LIMIT ? OFFSET ?""",
            [user_key, limit, offset],
        )
        return [Generation.from_row(row) for row in rows]

    # -- administration ------------------------------------------------------------------

    def set_user(self, key: str, /, **values: Any) -> None:
        """Set columns of a user, creating the row if needed (ban, limit)."""
        if self.user(key) is None:
            self.touch_user(key, None, None)
        self.sqlite.table("users").update(key, values)

    def set_chat(self, key: str, /, **values: Any) -> None:
        """Set columns of a chat, creating the row if needed (enabled, limits, watermark)."""
        if self.chat(key) is None:
            self.touch_chat(key, None, is_group=False)
        self.sqlite.table("chats").update(key, values)

    def forget_user(self, user_key: str) -> list[str]:
        """Blank a user's prompts and image references; counts stay so quota stays exact."""
        paths: list[str] = []
        with self.sqlite.atomic():
            for row in self.sqlite.query(
                "SELECT image_paths FROM generations WHERE user_key = ?", [user_key]
            ):
                paths.extend(json.loads(row["image_paths"] or "[]"))
            self.sqlite.execute(
                """UPDATE generations SET prompt = '', rephrased = NULL, image_paths = NULL,
                file_refs = NULL, forgotten = 1 WHERE user_key = ?""",
                [user_key],
            )
            self.sqlite.execute("UPDATE users SET name = NULL WHERE key = ?", [user_key])
        return paths

    def expire_images(self, before: float) -> list[str]:
        """Forget the kept files of generations older than `before`; returns their paths
        (Telegram file ids stay: Telegram keeps those files itself)."""
        with self.sqlite.atomic():
            rows = list(
                self.sqlite.query(
                    """SELECT image_paths FROM generations
                    WHERE created_at < ? AND image_paths IS NOT NULL""",
                    [before],
                )
            )
            self.sqlite.execute(
                """UPDATE generations SET image_paths = NULL
                WHERE created_at < ? AND image_paths IS NOT NULL""",
                [before],
            )
        return [path for row in rows for path in json.loads(row["image_paths"] or "[]")]

    def purge_prompts(self, before: float) -> int:
        """Blank prompts older than `before` (data retention)."""
        cursor = self.sqlite.execute(
            """UPDATE generations SET prompt = '', rephrased = NULL
            WHERE created_at < ? AND prompt != ''""",
            [before],
        )
        return cursor.rowcount

    def claim_notice(self, key: str, every: float, now: float | None = None) -> bool:
        """True once per `every` seconds for `key`: so admins are told once, not per draw."""
        now = time.time() if now is None else now
        with self.sqlite.atomic():
            rows = list(
                self.sqlite.query(
                    """INSERT INTO notices (key, sent_at) VALUES (?, ?)
                    ON CONFLICT (key) DO UPDATE SET sent_at = excluded.sent_at
                    WHERE notices.sent_at < ? RETURNING key""",
                    [key, now, now - every],
                )
            )
        return bool(rows)

    def stats(self, since: float, today: str) -> dict[str, Any]:
        """Figures for /stats: draws today and since `since`, failures, top users, relay time."""
        one = self._scalar
        return {
            "today": one(
                """SELECT COALESCE(SUM(images), 0) FROM generations
                WHERE day = ? AND status = 'succeeded'""",
                [today],
            ),
            "today_failed": one(
                f"SELECT COUNT(*) FROM generations WHERE day = ? AND {_FAILED}",
                [today],
            ),
            "week": one(
                """SELECT COALESCE(SUM(images), 0) FROM generations
                WHERE created_at >= ? AND status = 'succeeded'""",
                [since],
            ),
            "week_failed": one(
                f"SELECT COUNT(*) FROM generations WHERE created_at >= ? AND {_FAILED}",
                [since],
            ),
            "failures": {
                row["error_kind"]: row["n"]
                for row in self.sqlite.query(
                    """SELECT error_kind, COUNT(*) AS n FROM generations WHERE created_at >= ?
                    AND status IN ('failed', 'interrupted') GROUP BY error_kind ORDER BY n DESC""",
                    [since],
                )
            },
            "top_users": [
                (row["user_key"], row["name"], row["n"])
                for row in self.sqlite.query(
                    """SELECT g.user_key, u.name, SUM(g.images) AS n FROM generations g
                    LEFT JOIN users u ON u.key = g.user_key
                    WHERE g.created_at >= ? AND g.status = 'succeeded'
                    GROUP BY g.user_key ORDER BY n DESC LIMIT 5""",
                    [since],
                )
            ],
            "mean_relay_seconds": one(
                """SELECT AVG(relay_seconds) FROM generations
                WHERE created_at >= ? AND status = 'succeeded'""",
                [since],
            ),
            "users": one("SELECT COUNT(*) FROM users", []),
        }

    def _scalar(self, sql: str, params: list[Any]) -> Any:
        return self.sqlite.execute(sql, params).fetchone()[0]


P = ParamSpec("P")
T = TypeVar("T")


class StoreThread:
    """The one thread that owns the Store: `await thread.run(Store.history, key, 10)` runs
    the call there, so the event loop never blocks on SQLite and the connection is never
    shared between threads."""

    def __init__(self, path: Path | str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._store: Store = self._executor.submit(Store, path).result()

    async def run(
        self, fn: Callable[Concatenate[Store, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`fn(store, *args, **kwargs)` on the store's thread."""
        loop = asyncio.get_running_loop()
        store = self._store
        return await loop.run_in_executor(self._executor, lambda: fn(store, *args, **kwargs))

    def close(self) -> None:
        self._executor.submit(self._store.close).result()
        self._executor.shutdown(wait=True)
