"""What FakeDiscord records for tests, and the checks Discord makes on what a bot sends."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

EPHEMERAL = 1 << 6
LOADING = 1 << 7
KNOWN_LOCALES = frozenset(
    "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el "
    "bg ru uk hi th zh-CN ja zh-TW ko".split()
)
_NAME = re.compile(r"^[-_'\w]{1,32}$")


@dataclass
class FakeFile:
    """A file the bot uploaded (an attachment of a :class:`FakeMessage`)."""

    id: int
    filename: str
    data: bytes
    content_type: str | None

    def payload(self) -> dict[str, Any]:
        url = f"https://cdn.fake/attachments/{self.id}/{self.filename}"
        out = {"id": str(self.id), "filename": self.filename, "size": len(self.data)}
        out.update(url=url, proxy_url=url)
        if self.content_type:
            out["content_type"] = self.content_type
        return out


@dataclass
class FakeMessage:
    """A message the bot posted (or one a test made up for a button click)."""

    id: int
    channel_id: int
    guild_id: int | None
    kind: str  # "channel", "response" (callback 4 or deferred), "followup"
    content: str = ""
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeFile] = field(default_factory=list)
    allowed_mentions: dict[str, Any] | None = None
    flags: int = 0
    type: int = 0
    author_id: int = 0
    interaction_id: int | None = None
    deleted: bool = False
    edits: list[dict[str, Any]] = field(default_factory=list)  # every PATCH body, in order

    @property
    def files(self) -> list[tuple[str, bytes]]:
        """``[(filename, bytes), ...]`` of the attachments."""
        return [(f.filename, f.data) for f in self.attachments]

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """Still a deferred "is thinking..." placeholder."""
        return bool(self.flags & LOADING)

    def custom_ids(self) -> list[str]:
        """Every component ``custom_id`` in the message."""
        return [c["custom_id"] for c in _walk(self.components) if "custom_id" in c]


def _walk(components: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for item in components:
        if isinstance(item, dict):
            yield item
            yield from _walk(item.get("components") or [])


@dataclass
class CallbackRecord:
    """One ``POST /interactions/{id}/{token}/callback``."""

    type: int
    data: dict[str, Any] | None
    elapsed: float  # seconds since the interaction was created
    status: int  # HTTP status the fake answered


@dataclass
class FakeInteraction:
    """An interaction the fake dispatched, with everything the bot answered."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    guild_id: int | None
    channel_id: int
    user_id: int
    created_at: float = field(default_factory=time.monotonic)
    callbacks: list[CallbackRecord] = field(default_factory=list)  # accepted ones
    rejected_callbacks: list[CallbackRecord] = field(default_factory=list)
    followups: list[FakeMessage] = field(default_factory=list)
    original: FakeMessage | None = None  # response message or deferred placeholder
    answers: list[FakeMessage] = field(default_factory=list)  # messages answering it, in order
    choices: list[dict[str, Any]] | None = None  # an autocomplete answer

    @property
    def response_latency(self) -> float | None:
        """Seconds from creation to the first accepted callback (e.g. the defer)."""
        return self.callbacks[0].elapsed if self.callbacks else None


@dataclass
class SyncCall:
    """One bulk overwrite of the global application commands."""

    commands: list[dict[str, Any]]
    status: int
    guild_id: int | None = None  # drawbot syncs global commands only


class ApiError(Exception):
    """Raised by handlers; becomes Discord's JSON error answer."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors:
            self.body["errors"] = errors


class FormErrors:
    """Collects Discord-style nested ``errors`` for a 400 / 50035 Invalid Form Body."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def length(self, path: Sequence[str | int], value: Any, maximum: int, minimum: int = 0) -> None:
        if value is None and minimum == 0:
            return
        if not isinstance(value, str) or not minimum <= len(value) <= maximum:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {minimum} and {maximum}.")

    def raise_if_any(self) -> None:
        if self.tree:
            raise ApiError(400, 50035, "Invalid Form Body", self.tree)


def check_message(body: dict[str, Any], files: int, *, path: tuple[str, ...] = ()) -> None:
    """Content up to 2000 characters, buttons in at most 5 rows of 5 with unique custom ids."""
    errors = FormErrors()
    if body.get("content") is not None:
        errors.length((*path, "content"), body["content"], 2000)
    rows = body.get("components") or []
    if len(rows) > 5 or any(len(row.get("components") or []) > 5 for row in rows):
        errors.add((*path, "components"), "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for item in _walk(rows):
        custom_id = item.get("custom_id")
        if custom_id is not None:
            errors.length((*path, "components", "custom_id"), custom_id, 100, 1)
            if custom_id in seen:
                errors.add((*path, "components"), "COMPONENT_CUSTOM_ID_DUPLICATED", custom_id)
            seen.add(custom_id)
    errors.raise_if_any()


def check_not_empty(body: dict[str, Any], files: int) -> None:
    if not (body.get("content") or body.get("components") or body.get("embeds") or files):
        raise ApiError(400, 50006, "Cannot send an empty message")


def check_commands(commands: Any) -> None:
    """A bulk overwrite: names, descriptions, localizations and option order like Discord."""
    errors = FormErrors()
    if not isinstance(commands, list) or len(commands) > 100:
        raise ApiError(400, 50035, "Invalid Form Body", {"_errors": [{"code": "BASE_TYPE_ARRAY"}]})

    def check(where: tuple[str | int, ...], item: dict[str, Any]) -> None:
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.match(name) or name != name.lower():
            errors.add((*where, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
        errors.length((*where, "description"), item.get("description"), 100, 1)
        for key, limit in (("name_localizations", 32), ("description_localizations", 100)):
            for locale, text in (item.get(key) or {}).items():
                if locale not in KNOWN_LOCALES:
                    errors.add((*where, key, locale), "ENUM_TYPE_COERCE", "Not a valid locale")
                errors.length((*where, key, locale), text, limit, 1)
        optional_seen = False
        for n, option in enumerate(item.get("options") or []):
            check((*where, "options", n), option)
            if option.get("type") in (1, 2):
                continue
            if option.get("required") and optional_seen:
                errors.add(
                    (*where, "options", n), "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", ""
                )
            optional_seen = optional_seen or not option.get("required")

    names = [c.get("name") for c in commands]
    for n, command in enumerate(commands):
        check((n,), command)
        if names.count(command.get("name")) > 1:
            errors.add((n, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Names must be unique")
    errors.raise_if_any()
