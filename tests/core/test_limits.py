"""Every limit under concurrency, through the real service, store file and fake relay."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from core.config import Settings
from core.outcome import Delivered, Outcome
from core.params import DrawParams
from core.records import Limits, Reserved
from core.request import Place, Request, Requester
from core.root import Core
from core.store import Store
from tests.conftest import new_generation
from tests.fakes.relay import FakeRelay


async def yes() -> bool:
    """A chat_admin check that says the asker administers the chat."""
    return True


GROUP = Place("telegram", "-100", "Cats", is_group=True)


def user(number: int) -> Requester:
    return Requester("telegram", str(number), f"user{number}", "en")


async def burst(core: Core, who: list[Requester], place: Place | None = None) -> list[Outcome]:
    """Everyone in `who` draws at the same moment."""
    return await asyncio.gather(
        *(
            core.service.draw(person, place or Place("telegram", person.user_id), DrawParams("x"))
            for person in who
        )
    )


def reasons(outcomes: list[Outcome]) -> Counter[str]:
    return Counter("generated" if isinstance(o, Delivered) else o.reason for o in outcomes)


@pytest.mark.env(DAILY_LIMIT="3", CHAT_DAILY_LIMIT="5", MAX_IN_FLIGHT_PER_USER="0")
async def test_one_user_in_one_chat_never_passes_either_limit(core: Core, relay: FakeRelay) -> None:
    relay.latency = 0.05
    assert reasons(await burst(core, [user(1)] * 12, GROUP)) == {
        "generated": 3,
        "user_daily": 9,
    }
    others = [user(n) for n in range(2, 12)]
    assert reasons(await burst(core, others, GROUP)) == {"generated": 2, "chat_daily": 8}
    assert len(relay.calls) == 5


@pytest.mark.env(DAILY_LIMIT="0", MAX_IN_FLIGHT_PER_USER="2")
async def test_in_flight_limit_under_concurrency(core: Core, relay: FakeRelay) -> None:
    relay.latency = 0.3
    assert reasons(await burst(core, [user(1)] * 8)) == {"generated": 2, "in_flight": 6}
    # Once those finished, the user may draw again.
    assert reasons(await burst(core, [user(1)] * 2)) == {"generated": 2}


@pytest.mark.env(DAILY_LIMIT="0", COOLDOWN_SECONDS="60", MAX_IN_FLIGHT_PER_USER="0")
async def test_cooldown_under_concurrency(core: Core, relay: FakeRelay) -> None:
    outcomes = await burst(core, [user(1)] * 6)
    assert reasons(outcomes) == {"generated": 1, "cooldown": 5}
    refusal = next(o for o in outcomes if not isinstance(o, Delivered))
    assert "Please wait" in refusal.text and "s before your next drawing" in refusal.text
    assert reasons(await burst(core, [user(2)])) == {"generated": 1}  # others are not held up


@pytest.mark.env(DAILY_LIMIT="2")
async def test_chat_overrides_set_by_a_chat_admin(core: Core, relay: FakeRelay) -> None:
    admin = Request(user(1), GROUP, chat_admin=yes)
    assert "member limit" in await core.admin.run("limit", ["member", "1"], admin)
    assert reasons(await burst(core, [user(3)] * 3, GROUP)) == {
        "generated": 1,
        "user_daily": 2,
    }
    await core.admin.run("limit", ["member", "default"], admin)
    assert "cooldown limit" in await core.admin.run("limit", ["cooldown", "60"], admin)
    assert reasons(await burst(core, [user(4)] * 3, GROUP)) == {"generated": 1, "cooldown": 2}
    # Outside the group the deployment's limits apply.
    assert reasons(await burst(core, [user(3)])) == {"generated": 1}


@pytest.mark.env(DAILY_LIMIT="3")
async def test_restart_keeps_every_count(settings: Settings, relay: FakeRelay) -> None:
    async with Core.open(settings, ["telegram"]) as core:
        assert reasons(await burst(core, [user(1)] * 2)) == {"generated": 2}
        assert "2 of 3 images" in await core.account.quota(user(1), Place("telegram", "1"))
    async with Core.open(settings, ["telegram"]) as core:
        assert "2 of 3 images" in await core.account.quota(user(1), Place("telegram", "1"))
        assert reasons(await burst(core, [user(1)] * 3)) == {"generated": 1, "user_daily": 2}


@pytest.mark.env(PROMPT_RETENTION_DAYS="7", IMAGE_RETENTION_DAYS="30")
async def test_retention_blanks_old_prompts_and_deletes_old_files(
    core: Core, relay: FakeRelay
) -> None:
    outcome = await core.service.draw(user(1), Place("telegram", "1"), DrawParams("old fox"))
    assert isinstance(outcome, Delivered)
    path = Path(outcome.generation.image_paths[0])
    day = 86400
    assert await core.expire(now=time.time() + 6 * day) == (0, 0)
    assert await core.expire(now=time.time() + 8 * day) == (1, 0)
    kept = await core.store.run(Store.get, outcome.generation.id)
    assert kept is not None and kept.params.prompt == "" and await asyncio.to_thread(path.exists)
    assert await core.expire(now=time.time() + 31 * day) == (0, 1)
    gone = await core.store.run(Store.get, outcome.generation.id)
    assert gone is not None and gone.image_paths == []
    assert not await asyncio.to_thread(path.exists)
    assert "1 of 20 images" in await core.account.quota(user(1), Place("telegram", "1"))


@pytest.mark.env(DAILY_LIMIT="2", COOLDOWN_SECONDS="0")
async def test_a_chat_admin_cannot_lift_the_deployments_limit(core: Core, relay: FakeRelay) -> None:
    admin = Request(user(1), GROUP, chat_admin=yes)
    for value in ("0", "50"):
        await core.admin.run("limit", ["member", value], admin)
    assert reasons(await burst(core, [user(1)] * 5, GROUP)) == {
        "generated": 2,
        "user_daily": 3,
    }


@pytest.mark.env(DAILY_LIMIT="0", MAX_CONCURRENT_DRAWS="1", MAX_IN_FLIGHT_PER_USER="0")
async def test_a_draw_that_waits_too_long_for_a_relay_slot_is_refunded(
    core: Core, relay: FakeRelay
) -> None:
    relay.latency = 0.6
    core.service.dispatcher.queue_seconds = 0.2  # in production: 14 minutes minus RELAY_TIMEOUT
    outcomes = await burst(core, [user(1), user(2)])
    assert reasons(outcomes) == {"generated": 1, "busy": 1}
    assert len(relay.calls) == 1
    late = next(o for o in outcomes if not isinstance(o, Delivered))
    assert "busy" in late.text and "no quota was used" in late.text
    assert "0 images" in await core.account.quota(user(2), Place("telegram", "2"))


async def test_housekeeping_settles_a_draw_stuck_pending(core: Core, relay: FakeRelay) -> None:
    """A row whose settle failed (say, the disk was locked) stops counting within the hour."""
    new = new_generation("telegram:1", "telegram:1", day=core.service.today())
    reserved = await core.store.run(Store.reserve, new, Limits())
    assert isinstance(reserved, Reserved)
    assert await core.expire() == (0, 0)
    row = await core.store.run(Store.get, reserved.generation_id)
    assert row is not None and row.status == "reserved"  # still within its deadlines
    await core.expire(now=time.time() + 3600)
    row = await core.store.run(Store.get, reserved.generation_id)
    assert row is not None and row.status == "interrupted"
