"""The recovery sweep resumes an adopted asynchronous draw in a task of its own: the sweep
returns at once and settles the other orphans meanwhile, a row is resumed once however many
sweeps run, and closing stops the resumes, leaving their rows for the next process."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from core.answer import Answer, Pictures, Receipt, Say
from core.records import Limits, Reserved
from core.root import Core
from core.store import Store
from tests.conftest import new_generation
from tests.fakes.base import wait_for
from tests.fakes.relay import FakeRelay, Reply
from tests.fakes.relay_async import SUBMIT, AsyncTask

pytestmark = pytest.mark.three_families
TASK = "7310000000000000001"


def orphan(store: Store, user: str, task_id: str | None = None) -> int:
    """A draw of a process that stopped: a Jimeng 3.1 task polled (or, without one, reserved)."""
    if not store.sqlite["processes"].count_where("id = ?", ["gone"]):
        store.register_process("gone", ["telegram"], now=0)
        store.stop_process("gone", now=0)
    base = new_generation(user=f"telegram:{user}", chat=f"telegram:{user}")
    new = replace(
        base,
        params=replace(base.params, model="jimeng31"),
        address=f"to:{user}",
        owner="gone",
        cost=2,
    )
    reserved = store.reserve(new, Limits())
    assert isinstance(reserved, Reserved)
    if task_id is not None:
        store.start_generating(reserved.generation_id)
        store.record_task(reserved.generation_id, task_id)
    return reserved.generation_id


class Courier:
    """What recovery posts, by address; pictures are received."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, Answer]] = []

    async def __call__(self, address: str, answer: Answer) -> Receipt | None:
        self.posted.append((address, answer))
        if isinstance(answer, Pictures):
            return Receipt(answer.generation.id, "telegram", ["file-1"])
        return None


async def status(core: Core, generation_id: int) -> str:
    row = await core.store.run(Store.get, generation_id)
    assert row is not None
    return row.status


async def adopted_while_drawing(core: Core, relay: FakeRelay) -> tuple[int, int, Courier]:
    body = {"req_key": "jimeng_t2i_v31", "prompt": "a red fox", "width": 768, "height": 512}
    relay.submitted[TASK] = AsyncTask(body, Reply.ok(), polls=10**9)  # not done for now
    waiting = await core.store.run(orphan, "1", TASK)
    plain = await core.store.run(orphan, "2")
    courier = Courier()
    assert await core.front.attach("telegram", courier) == 2
    return waiting, plain, courier


async def test_the_sweep_returns_while_a_task_is_resumed_beside_it(
    core: Core, relay: FakeRelay
) -> None:
    waiting, plain, courier = await adopted_while_drawing(core, relay)
    # the sweep is over: the other orphan is refunded and told, the task is still polled
    assert await status(core, plain) == "interrupted"
    assert [(address, type(answer)) for address, answer in courier.posted] == [("to:2", Say)]
    assert await status(core, waiting) == "generating"
    await wait_for(lambda: relay.submitted[TASK].seen > 0, 10, "a poll of the task")
    # more sweeps, at once: the row is ours now, adopted and resumed once
    sweeps = await asyncio.gather(*(core.front.recovery.sweep() for _ in range(3)))
    assert sweeps == [0, 0, 0]

    relay.submitted[TASK].polls = 0  # the relay finishes it
    await wait_for(lambda: len(courier.posted) == 2, 10, "the picture posted")
    address, answer = courier.posted[1]
    assert address == "to:1" and isinstance(answer, Pictures)
    assert answer.generation.id == waiting
    await wait_for(lambda: relay.in_flight == 0, 10, "the polls to end")
    assert await status(core, waiting) == "delivered"
    assert SUBMIT not in [call.action for call in relay.calls]  # polled, never drawn again
    assert len(courier.posted) == 2


async def test_closing_stops_the_resume_and_leaves_the_row_for_the_next_process(
    core: Core, relay: FakeRelay
) -> None:
    waiting, _, courier = await adopted_while_drawing(core, relay)
    await wait_for(lambda: relay.submitted[TASK].seen > 0, 10, "a poll of the task")
    assert await core.front.recovery.close() == 1
    assert await core.store.run(Store.settle_owned, core.service.owner) == 0  # a clean exit
    row = await core.store.run(Store.get, waiting)
    assert row is not None and (row.status, row.task_id) == ("generating", TASK)
    assert len(courier.posted) == 1  # the other orphan's sentence only
