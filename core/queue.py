"""The draw queue: a fair order for waiting draws and a relay window that follows the relay.

`RelayWindow` is how many draws may be at the relay at once. It starts at MAX_CONCURRENT_DRAWS
(16 by default: a busy group's burst is drawn in one wave), halves (rounding up) when the relay
pushes back (Volcengine's 50430 concurrency limit, 50429 rate limit, HTTP 429) and widens by
one after each window's worth of accepted draws, never above MAX_CONCURRENT_DRAWS. Draws sent
under an older, wider window that are pushed back together count as one push-back, so one
burst halves the window once, not once per refused draw. Past the size where the relay last
pushed back it probes four times more slowly (a push-back costs a relay call); once a probe
holds, the relay allows more and the window grows at the normal pace again.

`FairQueue` hands out the window's places round-robin across chats and, within a chat, across
users: one person's batch never delays everyone else. It knows each waiting draw's position,
so the draw can tell its author where it stands.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

TYPICAL_SECONDS = 15.0  # a relay draw's time until some are measured


@dataclass
class WindowChange:
    """A change of the relay window, for the logs and /stats."""

    at: float
    size: int
    reason: str  # "narrowed" (the relay pushed back) or "widened"


class RelayWindow:
    """How many draws may be at the relay at once (additive increase, halving decrease)."""

    def __init__(self, ceiling: int, start: int | None = None) -> None:
        self.ceiling = max(1, ceiling)
        self.size = min(self.ceiling, max(1, start or self.ceiling))
        self.epoch = 0  # bumped at each narrowing; a draw remembers the epoch it was sent in
        self.known: int | None = None  # the size the relay last pushed back to
        self.accepted = 0  # since the last change
        self.pushbacks = 0
        self.changes: deque[WindowChange] = deque(maxlen=50)

    def pushed_back(self, at_relay: int, sent_in: int | None = None) -> None:
        """The relay refused a draw as busy while `at_relay` draws were there; the draw was
        sent in epoch `sent_in` (one narrowing per epoch)."""
        self.pushbacks += 1
        if sent_in is not None and sent_in != self.epoch:
            return  # the window already narrowed for the burst this draw was part of
        size = max(1, (min(self.size, at_relay) + 1) // 2)
        if size < self.size:
            self.epoch += 1
            self.known = size
            self._change(size, "narrowed")

    def accepted_one(self) -> None:
        self.accepted += 1
        if self.known is not None and self.size > self.known and self.accepted >= self.size:
            self.known = None  # a probe past the last push-back held: the relay allows more
        slow = self.known is not None and self.size >= self.known
        if self.size < self.ceiling and self.accepted >= (4 if slow else 1) * self.size:
            self._change(self.size + 1, "widened")

    def _change(self, size: int, reason: str) -> None:
        log.info("relay window %s: %d -> %d", reason, self.size, size)
        self.size = size
        self.accepted = 0
        self.changes.append(WindowChange(time.time(), size, reason))


@dataclass(eq=False)
class Ticket:
    """One draw's place in the queue."""

    user_key: str
    chat_key: str
    generation_id: int
    enqueued_at: float = field(default_factory=time.monotonic)
    granted: asyncio.Future[None] = field(default_factory=lambda: asyncio.Future())
    position: int = 0  # 1 = next; 0 = at the relay
    epoch: int = 0  # the relay window's epoch when it was sent to the relay
    on_move: Callable[[Ticket], None] | None = None


class FairQueue:
    """Round-robin across chats, then across users within a chat; FIFO for one user."""

    def __init__(self, window: RelayWindow) -> None:
        self.window = window
        self.at_relay = 0
        self._chats: OrderedDict[str, OrderedDict[str, deque[Ticket]]] = OrderedDict()
        self.relay_seconds: deque[float] = deque(maxlen=20)

    @property
    def waiting(self) -> int:
        return sum(len(q) for users in self._chats.values() for q in users.values())

    @property
    def typical_seconds(self) -> float:
        """A relay draw's usual time: the median of the recent ones."""
        if not self.relay_seconds:
            return TYPICAL_SECONDS
        ordered = sorted(self.relay_seconds)
        return ordered[len(ordered) // 2]

    def estimate(self, position: int) -> float:
        """Seconds until a draw at `position` reaches the relay, and through it."""
        waves = (position + self.window.size - 1) // self.window.size
        return (waves + 0.5) * self.typical_seconds

    async def wait_turn(self, ticket: Ticket, *, first: bool = False) -> None:
        """Queue `ticket` (at the front of its user's line when `first`: a draw the relay
        pushed back) and return when it may go to the relay."""
        users = self._chats.setdefault(ticket.chat_key, OrderedDict())
        line = users.setdefault(ticket.user_key, deque())
        if first:
            line.appendleft(ticket)
        else:
            line.append(ticket)
        if ticket.granted.done():
            ticket.granted = asyncio.get_running_loop().create_future()
        self._dispatch()
        try:
            await ticket.granted
        except asyncio.CancelledError:
            if not self._remove(ticket):  # granted just now: give the place back
                self.done()
            self._renumber()
            raise

    def done(self) -> None:
        """A draw left the relay: its place goes to the next in line."""
        self.at_relay = max(0, self.at_relay - 1)
        self._dispatch()

    def _dispatch(self) -> None:
        while self.at_relay < self.window.size:
            ticket = self._next()
            if ticket is None:
                break
            self.at_relay += 1
            ticket.position = 0
            ticket.epoch = self.window.epoch
            ticket.granted.set_result(None)
        self._renumber()

    def _next(self) -> Ticket | None:
        """The next ticket by round-robin; the chat and user served move to the back."""
        for chat_key, users in list(self._chats.items()):
            for user_key, line in list(users.items()):
                ticket = line.popleft()
                if not line:
                    del users[user_key]
                else:
                    users.move_to_end(user_key)
                if not users:
                    del self._chats[chat_key]
                else:
                    self._chats.move_to_end(chat_key)
                return ticket
        return None

    def order(self) -> list[Ticket]:
        """The waiting tickets in the order they will be served."""
        chats = [(c, [(u, list(q)) for u, q in users.items()]) for c, users in self._chats.items()]
        served: list[Ticket] = []
        while chats:
            chat, users = chats.pop(0)
            user, line = users.pop(0)
            served.append(line.pop(0))
            if line:
                users.append((user, line))
            if users:
                chats.append((chat, users))
        return served

    def _renumber(self) -> None:
        for position, ticket in enumerate(self.order(), start=1):
            if ticket.position != position:
                ticket.position = position
                if ticket.on_move is not None:
                    ticket.on_move(ticket)

    def _remove(self, ticket: Ticket) -> bool:
        users = self._chats.get(ticket.chat_key)
        line = users.get(ticket.user_key) if users is not None else None
        if users is None or line is None or ticket not in line:
            return False
        line.remove(ticket)
        if not line:
            del users[ticket.user_key]
        if not users:
            del self._chats[ticket.chat_key]
        return True
