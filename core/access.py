"""Who may draw and what: private mode (ALLOWED_USERS / ALLOWED_CHATS) and blocked words.

Checked by `DrawService.draw` before any quota is reserved, so a refusal never charges, on
every platform and for every way of drawing (/draw, /redo, the buttons that redraw). Each
list is the settings' entries plus what admins added at run time (tables `allowed` and
`blocked_words`, migration m003). Run-time commands only add to the settings and remove
their own additions: an entry of the settings is removed by editing the settings.
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core import messages
from core.numbers import read_int
from core.outcome import Refused
from core.request import Place, Requester

if TYPE_CHECKING:
    from core.config import Settings
    from core.store import Store
    from core.store_thread import StoreThread

KEY_PLATFORMS = ("telegram", "discord", "console")
ID_MAX = 2**63 - 1  # SQLite's largest integer
WORD_MAX = 50  # characters of one blocked word, as typed
CACHE_SECONDS = 5.0  # how stale another process's run-time additions may be here


def read_key(item: str, *, chat: bool = False) -> str | None:
    """`telegram:<id>`, `discord:<id>` or `console:<name>` as a key; a chat's number may be
    negative (Telegram groups). None when it is not one."""
    platform, colon, ident = item.strip().partition(":")
    platform, ident = platform.strip().lower(), ident.strip()
    if not colon or platform not in KEY_PLATFORMS or not ident:
        return None
    if platform == "console":
        return f"console:{ident}"
    sign = "-" if chat and ident[:1] in ("-", "－") else ""
    number = read_int(ident[len(sign) :], 1, ID_MAX)  # any script's digits, full-width too
    return None if number is None else f"{platform}:{sign}{number}"


def read_keys(value: str, *, chat: bool = False) -> tuple[frozenset[str], list[str]]:
    """A comma-separated setting: the keys, and the entries that are not keys."""
    keys: set[str] = set()
    bad: list[str] = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        key = read_key(item, chat=chat)
        if key is None:
            bad.append(item)
        else:
            keys.add(key)
    return frozenset(keys), bad


def split_words(value: str) -> tuple[str, ...]:
    """Comma-separated words (ASCII or full-width commas), as typed, without repeats."""
    parts = (part.strip() for part in value.replace("，", ",").split(","))
    return tuple(dict.fromkeys(filter(None, parts)))


def fold(text: str) -> str:
    """Text as words are matched: NFKC (full-width letters and digits become ASCII), any case,
    without spaces and invisible format characters (zero-width space, joiners, soft hyphen)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in folded if not c.isspace() and unicodedata.category(c) != "Cf")


# -- the run-time lists, on the store's thread (m003) ---------------------------------------


@dataclass(frozen=True)
class Lists:
    """What admins added at run time: user keys, chat keys, blocked words (as typed)."""

    users: frozenset[str] = frozenset()
    chats: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()


def read_lists(store: Store) -> Lists:
    rows = list(store.sqlite.query("SELECT kind, key FROM allowed"))
    words = [row["word"] for row in store.sqlite.query("SELECT word FROM blocked_words")]
    return Lists(
        frozenset(r["key"] for r in rows if r["kind"] == "user"),
        frozenset(r["key"] for r in rows if r["kind"] == "chat"),
        tuple(words),
    )


def add_allowed(store: Store, kind: str, key: str, by: str) -> bool:
    """List a user or chat; False when it was listed already."""
    cursor = store.sqlite.execute(
        """INSERT INTO allowed (kind, key, added_by, added_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (kind, key) DO NOTHING""",
        [kind, key, by, time.time()],
    )
    return cursor.rowcount > 0


def remove_allowed(store: Store, kind: str, key: str) -> bool:
    cursor = store.sqlite.execute("DELETE FROM allowed WHERE kind = ? AND key = ?", [kind, key])
    return cursor.rowcount > 0


def add_word(store: Store, word: str, by: str) -> bool:
    """Block a word (kept as typed, matched folded); False when its folded form was there."""
    cursor = store.sqlite.execute(
        """INSERT INTO blocked_words (folded, word, added_by, added_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (folded) DO NOTHING""",
        [fold(word), word, by, time.time()],
    )
    return cursor.rowcount > 0


def remove_word(store: Store, word: str) -> bool:
    cursor = store.sqlite.execute("DELETE FROM blocked_words WHERE folded = ?", [fold(word)])
    return cursor.rowcount > 0


# -- the check -------------------------------------------------------------------------------


class Access:
    """The settings' lists with the run-time ones; the check every draw passes first."""

    def __init__(self, settings: Settings, store: StoreThread) -> None:
        self.settings = settings
        self.store = store
        self._lists: Lists | None = None
        self._read_at = 0.0
        self._reading: asyncio.Future[Lists] | None = None  # the one read in flight

    async def lists(self) -> Lists:
        """The run-time lists, read again after CACHE_SECONDS (or after a change here); the
        draws that arrive while they are being read wait for that one read."""
        if self._lists is not None and time.monotonic() - self._read_at <= CACHE_SECONDS:
            return self._lists
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read())
        return await asyncio.shield(self._reading)

    async def _read(self) -> Lists:
        try:
            lists = await self.store.run(read_lists)
            self._lists, self._read_at = lists, time.monotonic()
            return lists
        finally:
            self._reading = None

    def forget_cache(self) -> None:
        self._lists = None

    async def users(self) -> frozenset[str]:
        return self.settings.allowed_users | (await self.lists()).users

    async def chats(self) -> frozenset[str]:
        return self.settings.allowed_chats | (await self.lists()).chats

    async def words(self) -> tuple[str, ...]:
        """Every blocked word, the settings' first, as typed."""
        added = [w for w in (await self.lists()).words if fold(w) not in self._setting_words()]
        return (*self.settings.blocked_words, *added)

    def _setting_words(self) -> set[str]:
        return {fold(word) for word in self.settings.blocked_words}

    async def private(self) -> bool:
        """Private mode is on when any user or chat is listed (in settings or at run time)."""
        return bool(await self.users() or await self.chats())

    async def outsider(self, requester: Requester, place: Place) -> bool:
        """Whether private mode keeps this asker out here (bot admins never are)."""
        if requester.key in self.settings.admin_ids:
            return False
        users, chats = await self.users(), await self.chats()
        if not users and not chats:
            return False
        return requester.key not in users and place.key not in chats

    async def blocked(self, prompt: str) -> bool:
        """Whether the prompt holds a blocked word (any case, width, spacing; inside words)."""
        folded = fold(prompt)
        return any(word and word in folded for word in map(fold, await self.words()))

    async def refusal(
        self, requester: Requester, place: Place, prompt: str, lang: str
    ) -> Refused | None:
        """Why this draw may not start (one sentence, nothing reserved), or None."""
        if await self.outsider(requester, place):
            return Refused("private", messages.text("access_private", lang))
        if await self.blocked(prompt):
            return Refused("blocked_word", messages.text("access_blocked_word", lang))
        return None
