"""The queue: fairness, positions shown to the waiting, cancel, and the relay window following
a relay that answers 50430 beyond its own limit. Real store, real relay client, fake relay."""

from __future__ import annotations

import asyncio

import pytest

from core.answer import Button, Pictures, Say
from core.front import Front
from core.outcome import Delivered
from core.params import DrawParams
from core.queue import FairQueue, RelayWindow, Ticket
from core.request import Place, Request, Requester
from core.root import Core
from core.store import Store
from tests.fakes.base import wait_for
from tests.fakes.relay import FakeRelay

GROUP = Place("telegram", "-100", "Cats", is_group=True)


def user(n: int) -> Requester:
    return Requester("telegram", str(n), f"U{n}", "en")


class Recorded:
    """A Progress that remembers what core showed."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []
        self.cancel: Button | None = None
        self.ended = False

    async def reserved(self) -> None:
        self.shown.append(("reserved", ""))

    async def queued(self, text: str, cancel: Button) -> None:
        self.shown.append(("queued", text))
        self.cancel = cancel

    async def drawing(self, text: str, cancel: Button, elapsed: float) -> None:
        self.shown.append(("drawing", text))
        self.cancel = cancel

    async def finished(self) -> None:
        self.ended = True


# -- the queue on its own --------------------------------------------------------------------


async def test_round_robin_across_users_and_chats() -> None:
    """Ann's batch of three does not hold up Bob, nor chat B's Cy."""
    queue = FairQueue(RelayWindow(ceiling=1, start=1))
    holder = Ticket("x", "A", 0)
    await queue.wait_turn(holder)  # takes the one place
    tickets = [
        Ticket("ann", "A", 1),
        Ticket("ann", "A", 2),
        Ticket("ann", "A", 3),
        Ticket("bob", "A", 4),
        Ticket("cy", "B", 5),
    ]
    waiting = [asyncio.create_task(queue.wait_turn(t)) for t in tickets]
    await asyncio.sleep(0)
    assert [t.generation_id for t in queue.order()] == [1, 5, 4, 2, 3]
    assert [t.position for t in tickets] == [1, 4, 5, 3, 2]
    served = []
    for _ in tickets:
        queue.done()
        await asyncio.sleep(0)
        done = [t for t, task in zip(tickets, waiting, strict=True) if task.done()]
        served.extend(t.generation_id for t in done if t.generation_id not in served)
    assert served == [1, 5, 4, 2, 3]


def test_the_window_halves_once_per_burst_and_grows_by_one_per_window() -> None:
    window = RelayWindow(ceiling=16)
    assert window.size == 16  # starts at the ceiling
    window.pushed_back(at_relay=10, sent_in=0)
    assert window.size == 5 and window.epoch == 1
    for _ in range(6):  # the rest of the same burst, sent under the old window
        window.pushed_back(at_relay=9, sent_in=0)
    assert window.size == 5 and window.pushbacks == 7
    window.pushed_back(at_relay=5, sent_in=1)
    assert window.size == 3 and window.known == 3  # halved, rounding up
    for _ in range(11):  # at the size the relay pushed back to, probing is four times slower
        window.accepted_one()
    assert window.size == 3
    window.accepted_one()
    assert window.size == 4  # the probe
    for _ in range(4):  # it held for a window's worth: the relay allows more now
        window.accepted_one()
    assert window.known is None and window.size == 5
    for _ in range(5):
        window.accepted_one()
    assert window.size == 6  # one more per window's worth of accepted draws
    for _ in range(200):
        window.accepted_one()
    assert window.size == 16  # never above the ceiling
    assert [c.reason for c in window.changes][:2] == ["narrowed", "narrowed"]
    assert RelayWindow(ceiling=4).size == 4 and RelayWindow(ceiling=100, start=16).size == 16


# -- through the service ----------------------------------------------------------------------


@pytest.mark.env(MAX_CONCURRENT_DRAWS="1", DAILY_LIMIT="0", MAX_IN_FLIGHT_PER_USER="0")
async def test_waiting_draws_see_their_position_and_an_estimate(
    core: Core, relay: FakeRelay
) -> None:
    relay.latency = 1.2
    progress = [Recorded() for _ in range(3)]
    draws = [
        asyncio.create_task(
            core.service.draw(user(n), GROUP, DrawParams(f"fox {n}"), progress=progress[n])
        )
        for n in range(3)
    ]
    outcomes = await asyncio.gather(*draws)
    assert all(isinstance(o, Delivered) for o in outcomes)
    first, second, third = (p.shown for p in progress)
    assert all(shown[0] == ("reserved", "") for shown in (first, second, third))  # at once
    assert first[1:] == [("drawing", "Drawing… (512x512)")]  # never waited: no queue status
    assert second[1][0] == "queued" and second[1][1].startswith("⏳ You are #1 in the queue")
    assert third[1][1].startswith("⏳ You are #2 in the queue; about")
    assert ("drawing", "Drawing… (512x512)") in third  # then it reached the relay
    assert [p.ended for p in progress] == [True, True, True]
    assert progress[2].cancel is not None and progress[2].cancel.data.startswith("g:cancel:")


@pytest.mark.env(MAX_CONCURRENT_DRAWS="1", DAILY_LIMIT="2", MAX_IN_FLIGHT_PER_USER="0")
async def test_cancel_refunds_a_waiting_and_a_running_draw(core: Core, relay: FakeRelay) -> None:
    relay.latency = 2.0
    ann, bob, cy = user(1), user(2), user(3)
    running = asyncio.create_task(core.service.draw(ann, GROUP, DrawParams("slow fox")))
    await wait_for(lambda: relay.in_flight == 1)
    others = asyncio.create_task(core.service.draw(cy, GROUP, DrawParams("cy's fox")))
    status = Recorded()
    waiting = asyncio.create_task(
        core.service.draw(ann, GROUP, DrawParams("queued fox"), progress=status)
    )
    await wait_for(lambda: status.cancel is not None, what="the queue status")
    front: Front = core.front
    assert status.cancel is not None
    refused = await front.handle(Request(bob, GROUP, button=status.cancel.data))
    assert isinstance(refused, Say) and "Only the person who asked" in refused.text
    assert await front.handle(Request(ann, GROUP, button=status.cancel.data)) is None
    cancelled = await waiting
    assert not isinstance(cancelled, Delivered) and cancelled.reason == "cancelled"
    assert "was cancelled; no quota was used" in cancelled.text
    answer = await front.handle(Request(ann, GROUP, text="/cancel"))
    assert isinstance(answer, Say) and answer.text.startswith("Cancelled 1 drawing")
    stopped = await running
    assert not isinstance(stopped, Delivered) and stopped.reason == "cancelled"
    assert isinstance(await others, Delivered)  # /cancel drops one's own draws, not others'
    rows = await core.store.run(Store.history, ann.key, 5)
    assert sorted(r.status for r in rows) == ["failed", "failed"]
    assert "0 of 2" in await core.account.quota(ann, GROUP)
    answer = await front.handle(Request(ann, GROUP, text="/cancel"))
    assert isinstance(answer, Say) and "no drawing waiting or in progress" in answer.text
    assert isinstance(await front.handle(Request(ann, GROUP, text="/draw a fox")), Pictures)


@pytest.mark.env(MAX_CONCURRENT_DRAWS="16", DAILY_LIMIT="0", MAX_IN_FLIGHT_PER_USER="0")
async def test_the_window_follows_a_relay_that_answers_50430(core: Core, relay: FakeRelay) -> None:
    """A relay that draws two at a time: every draw succeeds, the window narrows to it."""
    relay.concurrency_limit = 2
    relay.latency = 0.3
    draws = [
        core.service.draw(user(n), Place("telegram", str(n)), DrawParams(f"fox {n}"))
        for n in range(12)
    ]
    outcomes = await asyncio.gather(*draws)
    assert all(isinstance(o, Delivered) for o in outcomes)
    window = core.service.dispatcher.window
    assert window.pushbacks >= 1 and relay.pushed_back == core.service.dispatcher.wasted
    assert min(c.size for c in window.changes) <= 2
    assert relay.max_concurrency_seen <= 16
    stats = await core.admin.stats("en")
    assert f"Relay window: {window.size} at once (at most 16)" in stats
