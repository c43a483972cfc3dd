"""What an adapter hands to core: one platform event, as plain values.

An adapter builds one `Request` per event (a message, a slash command, a button press) and
gives it to `Front.handle`; it never decides what the text or the button means.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.answer import Button


class Progress(Protocol):
    """How the platform shows a draw that waits or runs (core/progress.py says when and
    what): a status message edited in place, a chat action, the deferred reply, a line."""

    async def reserved(self) -> None:
        """The draw is accepted and in line (at once: the first sign that it is seen)."""

    async def queued(self, text: str, cancel: Button) -> None:
        """Waiting for the relay: where the draw stands (`cancel` drops it)."""

    async def drawing(self, text: str, cancel: Button, elapsed: float) -> None:
        """At the relay for `elapsed` seconds (0 in the first call, when it starts)."""

    async def finished(self) -> None:
        """The draw ended (its answer follows): take any status down."""


# Asks the platform whether the asker administers the chat; called only when it matters.
ChatAdminCheck = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class Picture:
    """A picture the request brings (a photo replied to, an attachment): what the platform
    declares of it, and how to download it; core calls `fetch` only when the draw edits it."""

    fetch: Callable[[], Awaitable[bytes]]
    size: int | None = None  # in bytes, when the platform declares it


@dataclass(frozen=True)
class Requester:
    """Who asked: a platform user, with the display name and language the platform gave."""

    platform: str
    user_id: str
    name: str | None = None
    language_code: str | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Place:
    """Where they asked: a chat, channel or DM."""

    platform: str
    chat_id: str
    title: str | None = None
    is_group: bool = False

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.chat_id}"


@dataclass(frozen=True)
class Request:
    """One event: who, where, what was typed (raw) or which button was pressed (its data)."""

    requester: Requester
    place: Place
    text: str = ""
    button: str | None = None
    quoted_text: str = ""  # the text of the message this one replies to
    quoted_user_id: str | None = None  # its author (whom `/ban` as a reply is about)
    source_key: str | None = None  # unique per event: a redelivery is never charged twice
    redelivered: bool = False  # the platform says this event may have been handled before
    bot_username: str | None = None  # `/draw@another_bot` is not for us
    chat_admin: ChatAdminCheck | None = None
    admin_prefix: str = "/"  # how admin commands are written here ("/admin " on Discord)
    progress: Progress | None = None
    # Where the platform can post to the asker later without this event (after a restart):
    # opaque to core, written by the adapter, read back by its courier.
    address: str | None = None
    picture: Picture | None = None  # the picture to edit, if the event brings one

    async def is_chat_admin(self) -> bool:
        """Whether the asker administers this group (asked of the platform, once needed)."""
        if not self.place.is_group or self.chat_admin is None:
            return False
        return await self.chat_admin()
