"""Real `python -m bots telegram` children on one database, killed with SIGKILL mid-draw.

`Deployment` starts children against the test's FakeTelegram and FakeRelay (served in the
test's own loop) and reads what they left in SQLite; a child is killed with `kill -9` and
reaped, so the next one finds its pid dead on this host and adopts its draws at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.bots.conftest import TG_BOT, TG_TOKEN
from tests.conftest import API_KEY, child_env
from tests.fakes.base import wait_for
from tests.fakes.relay import FakeRelay
from tests.fakes.telegram import FakeTelegram, SentMessage

INTERRUPTED = "Your drawing was interrupted by a restart. Please send it again; no quota was used."
NO_QUOTA_USED = "no quota was used"
DAILY_LIMIT_REACHED = "You have used all 1 images for today."
WITHIN = 30.0  # seconds any one step may take before the test fails (CI machines are slow)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TG_TOKEN, bot_username=TG_BOT) as fake:
        yield fake
    assert fake.internal_errors == []


@dataclass
class Bot:
    """One `python -m bots telegram` child; its log goes to a file (never a full pipe)."""

    name: str
    process: asyncio.subprocess.Process
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def polling(self) -> None:
        """Wait until it polls; its courier is attached (and its first sweep run) next."""

        def up() -> bool:
            if self.process.returncode is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log()}")
            return "telegram: long polling as" in self.log()

        await wait_for(up, WITHIN, f"{self.name} to poll")

    async def kill(self) -> None:
        """`kill -9`, then reap it (a zombie's pid would still look alive)."""
        self.process.kill()
        await asyncio.wait_for(self.process.wait(), WITHIN)

    async def stop(self) -> int:
        """SIGTERM, as a deploy stops it; its exit status."""
        if self.process.returncode is None:
            self.process.terminate()
        return await asyncio.wait_for(self.process.wait(), WITHIN)


@dataclass
class Deployment:
    """Bots started on one database and image folder, against the test's fakes."""

    tg: FakeTelegram
    relay: FakeRelay
    root: Path
    bots: list[Bot] = field(default_factory=list)

    @property
    def database(self) -> Path:
        return self.root / "data" / "bot.db"

    @property
    def images(self) -> Path:
        return self.root / "images"

    async def start(self, name: str, **env: str) -> Bot:
        values = {
            "YUNAPI_BASE_URL": self.relay.base_url,
            "YUNAPI_API_KEY": API_KEY,
            "TELEGRAM_BOT_TOKEN": TG_TOKEN,
            "TELEGRAM_API_BASE_URL": f"{self.tg.base_url}/bot",
            "DATABASE_PATH": str(self.database),
            "IMAGE_DIR": str(self.images),
            "DEFAULT_LANGUAGE": "en",
            "DAILY_LIMIT": "1",
            "RELAY_TIMEOUT": "120",
            "SHUTDOWN_GRACE_SECONDS": "5",
            **env,
        }
        log_path = self.root / f"{name}.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bots",
                "telegram",
                cwd=self.root,
                env=child_env(**values),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        bot = Bot(name, process, log_path)
        self.bots.append(bot)
        await bot.polling()
        return bot

    # -- what the user saw ------------------------------------------------------------------

    def to(self, user: int, since: int = 0) -> list[SentMessage]:
        """What the bot sent to a user's private chat (from index `since` of tg.sent)."""
        return [m for m in self.tg.sent[since:] if m.chat_id == user]

    def photos(self, user: int) -> list[SentMessage]:
        return [m for m in self.to(user) if m.kind == "photo"]

    def texts(self, user: int) -> list[str]:
        return [m.visible_text or "" for m in self.to(user) if m.kind == "text"]

    async def draw(self, user: int, prompt: str = "a lighthouse") -> dict[str, Any]:
        """The user sends /draw; the message (its id is what a late answer replies to)."""
        return self.tg.user_sends(text=f"/draw {prompt}", user_id=user)

    async def ask(self, user: int, text: str, kind: str = "text") -> SentMessage:
        """The user sends `text`; the bot's next message of `kind` to them."""
        since = len(self.tg.sent)
        self.tg.user_sends(text=text, user_id=user)
        return await self.tg.wait_for_sent(
            lambda m: m.chat_id == user and m.kind == kind, WITHIN, since
        )

    async def quota(self, user: int) -> str:
        reply = await self.ask(user, "/quota")
        return reply.visible_text or ""

    # -- what the database holds ------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """The generations rows, oldest first (a reader: never blocks a writer)."""
        with contextlib.closing(sqlite3.connect(self.database, timeout=5)) as db:
            db.row_factory = sqlite3.Row
            found = [dict(row) for row in db.execute("SELECT * FROM generations ORDER BY id")]
        for row in found:
            row["image_paths"] = json.loads(row["image_paths"] or "[]")
            row["file_refs"] = json.loads(row["file_refs"] or "{}")
        return found

    def process_id(self, bot: Bot) -> str:
        """The id a bot registered under (what its draws' `owner` holds)."""
        with contextlib.closing(sqlite3.connect(self.database, timeout=5)) as db:
            query = "SELECT id FROM processes WHERE pid = ?"
            (found,) = db.execute(query, [bot.process.pid]).fetchone()
        return str(found)

    def row_of(self, user: int) -> dict[str, Any]:
        (row,) = [r for r in self.rows() if r["user_key"] == f"telegram:{user}"]
        return row

    def status_of(self, user: int) -> str | None:
        rows = [r for r in self.rows() if r["user_key"] == f"telegram:{user}"]
        return rows[-1]["status"] if rows else None

    def counted(self, user: int) -> int:
        """Images charged to the user today, as the quota counts them."""
        return sum(
            r["images"]
            for r in self.rows()
            if r["user_key"] == f"telegram:{user}"
            and r["status"] in ("reserved", "generating", "generated", "delivered")
        )

    async def status_becomes(self, user: int, *statuses: str) -> str:
        def settled() -> str | None:
            status = self.status_of(user)
            return status if status in statuses else None

        return await wait_for(
            settled,
            WITHIN,
            f"user {user}'s draw to be {' or '.join(statuses)}",
        )


@pytest.fixture
async def deploy(tg: FakeTelegram, relay: FakeRelay, tmp_path: Path) -> AsyncIterator[Deployment]:
    deployment = Deployment(tg, relay, tmp_path)
    try:
        yield deployment
    finally:
        tg.release_photos()
        for bot in deployment.bots:
            if bot.process.returncode is None:
                bot.process.kill()
                await bot.process.wait()
