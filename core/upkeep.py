"""The store's upkeep: users and chats, what administrators and retention change, statistics.

A mixin of `Store` (core/store.py), kept apart so each file stays readable.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

from sqlite_utils import Database

from core.params import Watermark

_FAILED = "status IN ('failed', 'interrupted')"


def watermark_of(chat: dict[str, Any], base: Watermark) -> Watermark:
    """The deployment's watermark `base` with a chat's own default (its row) applied."""
    if chat.get("watermark") is not None:
        base = replace(base, enabled=bool(chat["watermark"]))
    if chat.get("watermark_text"):
        base = replace(base, text=chat["watermark_text"])
    return base


class Upkeep:
    """Users and chats and their settings, forgetting, retention, once-only notices, stats."""

    sqlite: Database

    def touch_user(self, key: str, name: str | None, language: str | None) -> dict[str, Any]:
        """Seen now (with the name and language given, if any): the user's row."""
        platform, _, user_id = key.partition(":")
        now = time.time()
        return self._rows(
            """INSERT INTO users (key, platform, user_id, name, language, created_at, last_seen_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET name = COALESCE(excluded.name, name),
                language = COALESCE(excluded.language, language),
                last_seen_at = excluded.last_seen_at
            RETURNING *""",
            [key, platform, user_id, name, language, now, now],
        )[0]

    def touch_chat(self, key: str, title: str | None, is_group: bool) -> dict[str, Any]:
        """Seen now (with the title given, if any): the chat's row."""
        platform, _, chat_id = key.partition(":")
        now = time.time()
        return self._rows(
            """INSERT INTO chats (key, platform, chat_id, title, is_group, created_at, last_seen_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET title = COALESCE(excluded.title, title),
                is_group = excluded.is_group, last_seen_at = excluded.last_seen_at
            RETURNING *""",
            [key, platform, chat_id, title, int(is_group), now, now],
        )[0]

    def user(self, key: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM users WHERE key = ?", [key])
        return rows[0] if rows else None

    def chat(self, key: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM chats WHERE key = ?", [key])
        return rows[0] if rows else None

    def _rows(self, sql: str, params: list[Any] | dict[str, Any]) -> list[dict[str, Any]]:
        """A statement's rows: a SELECT's, or a write's RETURNING rows (outside a transaction
        the write commits by itself: the connection is in autocommit mode, Store). Unlike
        sqlite-utils' `query`, no savepoint around it, which is two statements more. All are
        fetched, so the statement is done."""
        cursor = self.sqlite.execute(sql, params)
        keys = [column[0] for column in cursor.description or ()]
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]

    def chat_model(self, chat_key: str) -> str | None:
        """The name of the model a chat chose as its default (`/model`), if it chose one."""
        chat = self.chat(chat_key) or {}
        model = chat.get("model")
        return model if isinstance(model, str) else None

    def chat_watermark(self, chat_key: str, base: Watermark) -> Watermark:
        """The deployment's watermark `base` with the chat's own default applied."""
        return watermark_of(self.chat(chat_key) or {}, base)

    def _scalar(self, sql: str, params: list[Any]) -> Any:
        return self.sqlite.execute(sql, params).fetchone()[0]

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
                "SELECT image_paths, source_path FROM generations WHERE user_key = ?",
                [user_key],
            ):
                paths.extend(json.loads(row["image_paths"] or "[]"))
                paths.extend([row["source_path"]] if row["source_path"] else [])
            self.sqlite.execute(
                """UPDATE generations SET prompt = '', rephrased = NULL, image_paths = NULL,
                source_path = NULL, file_refs = NULL, forgotten = 1 WHERE user_key = ?""",
                [user_key],
            )
            self.sqlite.execute("UPDATE users SET name = NULL WHERE key = ?", [user_key])
        return paths

    def expire_images(self, before: float) -> list[str]:
        """Forget the kept files of generations older than `before`, an edit's kept input
        picture too (its source_path then says 'not kept'); returns their paths (Telegram
        file ids stay: Telegram keeps those files itself)."""
        kept = "created_at < ? AND (image_paths IS NOT NULL OR source_path != '')"
        with self.sqlite.atomic():
            rows = list(
                self.sqlite.query(
                    f"SELECT image_paths, source_path FROM generations WHERE {kept}", [before]
                )
            )
            self.sqlite.execute(
                f"""UPDATE generations SET image_paths = NULL,
                source_path = CASE WHEN source_path IS NULL THEN NULL ELSE '' END
                WHERE {kept}""",
                [before],
            )
        paths = [path for row in rows for path in json.loads(row["image_paths"] or "[]")]
        return paths + [row["source_path"] for row in rows if row["source_path"]]

    def record_source(self, generation_id: int, path: str) -> None:
        """A draw edits a picture: where its input is kept ('' when it is not)."""
        self.sqlite.execute(
            "UPDATE generations SET source_path = ? WHERE id = ?", [path, generation_id]
        )

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
        """Figures for /stats: draws today and since `since`, failures, top users, images per
        model, relay time."""
        one = self._scalar
        return {
            "today": one(
                """SELECT COALESCE(SUM(images), 0) FROM generations
                WHERE day = ? AND status IN ('generated', 'delivered')""",
                [today],
            ),
            "today_failed": one(
                f"SELECT COUNT(*) FROM generations WHERE day = ? AND {_FAILED}",
                [today],
            ),
            "week": one(
                """SELECT COALESCE(SUM(images), 0) FROM generations
                WHERE created_at >= ? AND status IN ('generated', 'delivered')""",
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
                    WHERE g.created_at >= ? AND g.status IN ('generated', 'delivered')
                    GROUP BY g.user_key ORDER BY n DESC LIMIT 5""",
                    [since],
                )
            ],
            "models": [
                (row["model"], row["n"])
                for row in self.sqlite.query(
                    """SELECT model, SUM(images) AS n FROM generations
                    WHERE created_at >= ? AND status IN ('generated', 'delivered')
                    GROUP BY model ORDER BY n DESC, model""",
                    [since],
                )
            ],
            "mean_relay_seconds": one(
                """SELECT AVG(relay_seconds) FROM generations
                WHERE created_at >= ? AND status IN ('generated', 'delivered')""",
                [since],
            ),
            "users": one("SELECT COUNT(*) FROM users", []),
        }
