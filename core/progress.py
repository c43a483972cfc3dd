"""What a waiting or running draw tells its author, and when.

A draw that waits more than FIRST_AFTER seconds for the relay says where it stands (its
position and an estimate from recent relay times), again whenever that changes but at most
every UPDATE_EVERY seconds; at the relay it says how long so far against the usual time.
Adapters show it their way (`Progress`): a status message edited in place, the deferred
reply, a printed line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from core import messages
from core.answer import Action, Button
from core.queue import FairQueue, Ticket
from core.request import Progress

log = logging.getLogger(__name__)

FIRST_AFTER = 1.0
UPDATE_EVERY = 3.0
DRAWING_EVERY = 10.0


class Reporter:
    """Feeds one draw's `Progress` from its place in the queue and its time at the relay."""

    def __init__(
        self, progress: Progress, queue: FairQueue, ticket: Ticket, lang: str, size: str
    ) -> None:
        self.progress = progress
        self.queue = queue
        self.ticket = ticket
        self.lang = lang
        self.size = size
        self.cancel = Button(
            Action.CANCEL, ticket.generation_id, messages.text("button_cancel", lang)
        )
        self.started: float | None = None
        self._shown: str | None = None
        self._shown_at = 0.0
        self._task = asyncio.create_task(self._watch(), name=f"progress:{ticket.generation_id}")

    async def reserved(self) -> None:
        """The draw is in line: the platform's first sign, at once."""
        try:
            await self.progress.reserved()
        except Exception:
            log.warning("progress of generation %d not shown", self.ticket.generation_id)

    async def at_relay(self) -> None:
        """The draw reached the relay: say so at once (platforms start their 'drawing' sign)."""
        first = self.started is None
        self.started = time.monotonic()
        if first:
            await self._show(messages.text("drawing", self.lang, size=self.size), elapsed=0.0)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        with contextlib.suppress(Exception):
            await self.progress.finished()

    async def _watch(self) -> None:
        await asyncio.sleep(FIRST_AFTER)
        while True:
            now = time.monotonic()
            if self.ticket.position > 0:
                wait = round(self.queue.estimate(self.ticket.position))
                text = messages.text("queued", self.lang, position=self.ticket.position, wait=wait)
                if self._due(text, now, UPDATE_EVERY):
                    await self._show(text)
            elif self.started is not None:
                elapsed = now - self.started
                text = messages.text(
                    "drawing_for",
                    self.lang,
                    size=self.size,
                    elapsed=round(elapsed),
                    usual=round(self.queue.typical_seconds),
                )
                if self._due(text, now, DRAWING_EVERY):
                    await self._show(text, elapsed=elapsed)
            await asyncio.sleep(1.0)

    def _due(self, text: str, now: float, every: float) -> bool:
        return text != self._shown and now - self._shown_at >= every

    async def _show(self, text: str, *, elapsed: float | None = None) -> None:
        """Queued when `elapsed` is None, else drawing for that long."""
        self._shown, self._shown_at = text, time.monotonic()
        try:
            if elapsed is None:
                await self.progress.queued(text, self.cancel)
            else:
                await self.progress.drawing(text, self.cancel, elapsed)
        except Exception:
            log.warning("progress of generation %d not shown", self.ticket.generation_id)
