"""DrawService, Account and Admin end to end: real store file, real relay client, fake relay."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from core.answer import Answer, Pictures, Receipt, Say, caption
from core.command import parse_draw
from core.config import Settings
from core.outcome import Delivered, Refused
from core.params import SEED_MAX, DrawParams
from core.records import Limits
from core.request import Place, Request, Requester
from core.root import Core
from core.store import Store
from tests.conftest import API_KEY, new_generation
from tests.fakes.png import png_size
from tests.fakes.relay import FakeRelay, Reply


async def yes() -> bool:
    """A chat_admin check that says the asker administers the chat."""
    return True


ALICE = Requester("telegram", "1", "Alice", "en")
BOB = Requester("telegram", "2", "Bob", "zh-hans")
DM = Place("telegram", "1")
GROUP = Place("telegram", "-100", "Cats", is_group=True)
REQUEST_ID = re.compile(r"^\d{14}[0-9A-F]{18}$")  # the fake relay's Volcengine-style ids


def fox(**changes: object) -> DrawParams:
    return DrawParams(prompt="a red fox in the snow", **changes)  # type: ignore[arg-type]


async def used(core: Core, requester: Requester = ALICE, place: Place = DM) -> int:
    usage = await core.store.run(
        Store.usage, requester.key, place.key, core.service.today(), Limits()
    )
    return usage.used


def delivered(outcome: Delivered | Refused) -> Delivered:
    assert isinstance(outcome, Delivered), outcome
    return outcome


def refused(outcome: Delivered | Refused) -> Refused:
    assert isinstance(outcome, Refused), outcome
    return outcome


async def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def read_file(path: str) -> bytes:
    saved = Path(path)
    assert saved.is_file()
    return saved.read_bytes()


# -- drawing ----------------------------------------------------------------------------


async def test_draw_delivers_and_records(core: Core, relay: FakeRelay, settings: Settings) -> None:
    outcome = delivered(await core.service.draw(ALICE, DM, fox(width=768, height=512)))
    [call] = relay.calls
    generation = outcome.generation
    [image] = outcome.images
    assert outcome.repeat is False
    assert (image.width, image.height) == call.size == (1536, 1024)
    # a concrete random seed was chosen, sent and recorded
    assert generation.params.seed is not None and 0 <= generation.params.seed <= SEED_MAX
    assert call.body["seed"] == call.seed == generation.params.seed
    assert REQUEST_ID.match(generation.relay_request_id or "")
    assert generation.status == "generated" and generation.params.prompt == "a red fox in the snow"
    assert (generation.params.width, generation.params.height) == (768, 512)
    assert generation.user_key == "telegram:1" and generation.chat_key == "telegram:1"
    assert generation.relay_seconds is not None and generation.finished_at is not None
    [path] = generation.image_paths
    assert Path(path).is_relative_to(settings.image_dir)
    data = read_file(path)
    assert data == image.data and png_size(data) == (1536, 1024)
    assert await used(core) == 1
    stored = await core.store.run(Store.get, generation.id)
    assert stored == generation
    assert f"seed {generation.params.seed}" in caption(generation, "en")


async def test_given_seed_is_kept(core: Core, relay: FakeRelay) -> None:
    outcome = delivered(await core.service.draw(ALICE, DM, fox(seed=1234)))
    assert outcome.generation.params.seed == 1234 and relay.calls[0].body["seed"] == 1234


async def test_parsed_command_reaches_the_relay(core: Core, relay: FakeRelay) -> None:
    params = parse_draw("一只猫——在月光下 ——ar 2:3 --steps 30 --no-sr --seed 9")
    outcome = delivered(await core.service.draw(BOB, DM, params))
    body = relay.calls[0].body
    assert body["prompt"] == "一只猫——在月光下"
    assert (body["width"], body["height"], body["ddim_steps"], body["use_sr"]) == (
        512,
        768,
        30,
        False,
    )
    assert [(i.width, i.height) for i in outcome.images] == [(512, 768)]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "The model refused this prompt"), ("zh-CN", "提示词未通过内容审核"), (None, "refused")],
)
async def test_refused_draw_is_refunded_and_explained(
    core: Core, relay: FakeRelay, language: str | None, expected: str
) -> None:
    requester = Requester("telegram", "7", "Carol", language)
    relay.script(Reply.volc_error(50412))
    outcome = refused(await core.service.draw(requester, DM, fox()))
    assert outcome.reason == "prompt_refused"
    assert expected in outcome.text  # DEFAULT_LANGUAGE is en
    assert "Traceback" not in outcome.text and "50412" not in outcome.text
    assert outcome.generation_id is not None
    row = await core.store.run(Store.get, outcome.generation_id)
    assert row is not None and row.status == "failed" and row.error_kind == "prompt_refused"
    assert await used(core, requester) == 0


async def test_relay_failures_do_not_count(core: Core, relay: FakeRelay) -> None:
    relay.script(Reply.openai_error(401), Reply.ok(image_status=404), Reply.openai_error(403))
    relay.script(Reply.volc_error(50400), Reply.volc_error(50511), Reply.volc_error(50519))
    for reason in ("bad_key", "image", "no_balance", "bad_request", "output_refused"):
        assert refused(await core.service.draw(ALICE, DM, fox())).reason == reason
    assert await used(core) == 0
    delivered(await core.service.draw(ALICE, DM, fox()))
    assert await used(core) == 1


@pytest.mark.env(DAILY_LIMIT="1")
async def test_quota_exhausted(core: Core, relay: FakeRelay) -> None:
    delivered(await core.service.draw(ALICE, DM, fox()))
    outcome = refused(await core.service.draw(ALICE, DM, fox()))
    assert outcome.reason == "user_daily"
    assert "00:00 (UTC)" in outcome.text and "all 1 images" in outcome.text
    assert len(relay.calls) == 1
    bob = delivered(await core.service.draw(BOB, DM, fox()))
    assert bob.generation.user_key == "telegram:2"
    refusal = refused(await core.service.draw(BOB, DM, fox()))
    assert "00:00(UTC)" in refusal.text and "额度" in refusal.text


@pytest.mark.env(DAILY_LIMIT="1", TIMEZONE="Asia/Shanghai")
async def test_quota_resets_at_local_midnight(core: Core) -> None:
    delivered(await core.service.draw(ALICE, DM, fox()))
    outcome = refused(await core.service.draw(ALICE, DM, fox()))
    assert "00:00 (Asia/Shanghai)" in outcome.text


@pytest.mark.env(MAX_CONCURRENT_DRAWS="2")
async def test_concurrency_cap(core: Core, relay: FakeRelay) -> None:
    relay.latency = 0.3
    users = [Requester("discord", str(100 + i), None, "en") for i in range(6)]
    outcomes = await asyncio.gather(*(core.service.draw(u, DM, fox()) for u in users))
    assert all(isinstance(o, Delivered) for o in outcomes)
    assert len(relay.calls) == 6
    assert relay.max_concurrency_seen == 2


async def test_redelivered_message_is_not_drawn_or_charged_twice(
    core: Core, relay: FakeRelay
) -> None:
    first = delivered(await core.service.draw(ALICE, GROUP, fox(), source_key="telegram:-100:77"))
    again = delivered(await core.service.draw(ALICE, GROUP, fox(), source_key="telegram:-100:77"))
    assert again.repeat is True and first.repeat is False
    assert again.generation.id == first.generation.id
    assert [i.data for i in again.images] == [i.data for i in first.images]
    assert len(relay.calls) == 1
    assert await used(core, ALICE, GROUP) == 1


async def test_redelivery_while_drawing_is_silent(core: Core, relay: FakeRelay) -> None:
    relay.script(Reply.ok(delay=0.3))
    first = asyncio.create_task(core.service.draw(ALICE, DM, fox(), source_key="k1"))
    await wait_for(lambda: relay.in_flight == 1)
    duplicate = refused(await core.service.draw(ALICE, DM, fox(), source_key="k1"))
    assert duplicate.reason == "duplicate" and duplicate.silent
    delivered(await first)
    assert len(relay.calls) == 1


# -- watermark --------------------------------------------------------------------------


async def test_watermark_default_is_on_without_text(core: Core, relay: FakeRelay) -> None:
    await core.service.draw(ALICE, DM, fox())
    logo = relay.calls[0].body["logo_info"]
    assert logo["add_logo"] is True and "logo_text_content" not in logo


@pytest.mark.env(WATERMARK="off")
async def test_watermark_off_by_setting(core: Core, relay: FakeRelay) -> None:
    await core.service.draw(ALICE, DM, fox())
    await core.service.draw(ALICE, DM, parse_draw('a fox --watermark "mine"'))
    first, second = (call.body["logo_info"] for call in relay.calls)
    assert first["add_logo"] is False
    assert second["add_logo"] is True and second["logo_text_content"] == "mine"


@pytest.mark.env(WATERMARK_TEXT="drawn by DrawBot", WATERMARK_POSITION="tl")
async def test_watermark_text_by_setting_and_user_override(core: Core, relay: FakeRelay) -> None:
    await core.service.draw(ALICE, DM, fox())
    await core.service.draw(ALICE, DM, parse_draw("a fox --no-watermark"))
    await core.service.draw(ALICE, DM, parse_draw("a fox --wm-pos br"))
    default, off, moved = (call.body["logo_info"] for call in relay.calls)
    assert default["add_logo"] is True and default["logo_text_content"] == "drawn by DrawBot"
    assert default["position"] == 2
    assert off["add_logo"] is False
    assert moved["position"] == 0 and moved["logo_text_content"] == "drawn by DrawBot"


@pytest.mark.env(WATERMARK_USER_CONTROL="off", WATERMARK_TEXT="DrawBot")
async def test_watermark_user_control_off(core: Core, relay: FakeRelay) -> None:
    for text in ("a fox --no-watermark", 'a fox --watermark "mine"', "a fox --wm-pos tl"):
        outcome = refused(await core.service.draw(ALICE, DM, parse_draw(text)))
        assert outcome.reason == "watermark_locked"
        assert "watermark" in outcome.text
    assert relay.calls == []
    delivered(await core.service.draw(ALICE, DM, parse_draw("a fox --seed 3")))
    assert relay.calls[0].body["logo_info"]["logo_text_content"] == "DrawBot"
    assert await used(core) == 1


# -- shutdown ---------------------------------------------------------------------------


async def test_close_interrupts_a_slow_draw_and_refunds(core: Core, relay: FakeRelay) -> None:
    relay.script(Reply.ok(delay=10))
    task = asyncio.create_task(core.service.draw(ALICE, DM, fox()))
    await wait_for(lambda: relay.in_flight == 1)
    assert core.service.in_flight == 1
    interrupted = await asyncio.wait_for(core.service.close(grace=0.1), 5)
    assert interrupted == 1
    outcome = refused(await asyncio.wait_for(task, 5))
    assert outcome.reason == "interrupted" and "interrupted" in outcome.text
    assert outcome.generation_id is not None
    row = await core.store.run(Store.get, outcome.generation_id)
    assert row is not None and row.status == "interrupted"
    assert await used(core) == 0
    after = refused(await core.service.draw(ALICE, DM, fox()))
    assert after.reason == "shutting_down" and len(relay.calls) == 1


async def test_close_lets_a_quick_draw_finish(core: Core, relay: FakeRelay) -> None:
    relay.script(Reply.ok(delay=0.2))
    task = asyncio.create_task(core.service.draw(ALICE, DM, fox()))
    await wait_for(lambda: relay.in_flight == 1)
    assert await core.service.close(grace=5) == 0
    delivered(await task)
    assert await used(core) == 1


async def test_attaching_settles_draws_left_by_a_gone_process(
    settings: Settings, relay: FakeRelay
) -> None:
    """A draw without an image is refunded and its asker told; a drawn one is delivered."""
    store = Store(settings.database_path)
    store.register_process("dead", ["test"], now=0.0)  # its heartbeat is long expired
    asked = new_generation("telegram:1", "telegram:1", platform="test", day="2025-01-01")
    left = store.reserve(replace(asked, owner="dead", address="chat-1"), Limits())
    drawn = store.reserve(replace(asked, owner="dead", address="chat-2", source_key="s2"), Limits())
    store.close()
    posted: list[tuple[str, Answer]] = []

    async def courier(address: str, answer: Answer) -> Receipt | None:
        posted.append((address, answer))
        return Receipt(drawn.generation_id, "test", ["file-1"])

    async with Core.open(settings, ["test"]) as core:
        outcome = delivered(await core.service.draw(BOB, DM, fox()))
        await core.store.run(
            Store.settle_generated,
            drawn.generation_id,
            images=[{}],
            paths=outcome.generation.image_paths,
            request_id=None,
            relay_seconds=1.0,
            attempts=1,
            rephrased=None,
        )
        assert await core.front.attach("test", courier) == 2
        row = await core.store.run(Store.get, left.generation_id)
        assert row is not None and row.status == "interrupted"
        row = await core.store.run(Store.get, drawn.generation_id)
        assert row is not None and row.status == "delivered" and row.file_refs["test"]
        assert await core.front.attach("test", courier) == 0  # settled once
    [(first, told), (second, pictures)] = sorted(posted, key=lambda p: p[0])
    assert first == "chat-1" and isinstance(told, Say) and "interrupted" in told.text
    assert second == "chat-2" and isinstance(pictures, Pictures) and pictures.buttons


# -- alerts -----------------------------------------------------------------------------


async def test_alert_sinks_called_once_for_repeated_bad_key(core: Core, relay: FakeRelay) -> None:
    alerts: list[tuple[str, str]] = []

    async def sink(kind: str, text: str) -> None:
        alerts.append((kind, text))

    async def broken(kind: str, text: str) -> None:
        raise RuntimeError("sink down")

    core.service.alert_sinks.extend([broken, sink])
    relay.default = Reply.openai_error(401)
    for _ in range(3):
        outcome = refused(await core.service.draw(ALICE, DM, fox()))
        assert outcome.reason == "bad_key" and API_KEY not in outcome.text
    assert len(relay.calls) == 3
    assert len(alerts) == 1
    kind, text = alerts[0]
    assert kind == "bad_key" and "YUNAPI_API_KEY" in text and API_KEY not in text
    relay.default = Reply.openai_error(403)
    for _ in range(2):
        assert refused(await core.service.draw(ALICE, DM, fox())).reason == "no_balance"
    assert [kind for kind, _ in alerts] == ["bad_key", "no_balance"]


async def test_other_path_setting(env: dict[str, str]) -> None:
    async with FakeRelay(api_key=API_KEY, path="/volcv/v1") as other:
        values = {**env, "YUNAPI_BASE_URL": other.base_url, "YUNAPI_T2I_PATH": "/volcv/v1"}
        settings = Settings.load(environ=values, env_file=None)
        async with Core.open(settings, ["test"]) as core:
            delivered(await core.service.draw(ALICE, DM, fox()))
        assert other.calls[0].path == "/volcv/v1"


# -- account ----------------------------------------------------------------------------


async def test_account_quota(core: Core) -> None:
    assert await core.account.quota(ALICE, DM) == (
        "Today you have received 0 of 20 images; 20 left. Resets at 00:00 (UTC)."
    )
    await core.service.draw(ALICE, DM, fox())
    assert "received 1 of 20 images; 19 left" in await core.account.quota(ALICE, DM)
    assert "今天已生成 0/20 张" in await core.account.quota(BOB, DM)


@pytest.mark.env(DAILY_LIMIT="0")
async def test_account_quota_unlimited(core: Core) -> None:
    await core.service.draw(ALICE, DM, fox())
    assert "received 1 images; there is no daily limit" in await core.account.quota(ALICE, DM)


async def test_account_history(core: Core, relay: FakeRelay) -> None:
    text, rows = await core.account.history(ALICE)
    assert rows == [] and text.startswith("You have no drawings yet")
    first = delivered(await core.service.draw(ALICE, DM, fox(seed=5)))
    relay.script(Reply.volc_error(50412))
    await core.service.draw(ALICE, DM, DrawParams(prompt="something refused"))
    text, rows = await core.account.history(ALICE)
    assert [row.status for row in rows] == ["failed", "generated"]
    assert text.startswith("Your recent drawings:")
    assert f"#{first.generation.id} " in text and "sending" in text and "failed" in text
    assert "seed 5" in text and "a red fox in the snow" in text and "something refused" in text
    other, _ = await core.account.history(BOB)
    assert "a red fox" not in other


async def test_account_redo_original_and_forget(core: Core, relay: FakeRelay) -> None:
    first = delivered(await core.service.draw(ALICE, DM, fox(width=768, height=512)))
    redo = delivered(await core.account.redo(ALICE, DM, None))
    assert redo.generation.parent_id == first.generation.id
    assert redo.generation.params.seed == first.generation.params.seed
    assert relay.calls[1].body["seed"] == first.generation.params.seed
    assert (redo.generation.params.width, redo.generation.params.height) == (768, 512)
    fresh = delivered(await core.account.redo(ALICE, DM, first.generation.id, new_seed=True))
    resized = delivered(await core.account.redo(ALICE, DM, first.generation.id, size=(512, 768)))
    assert fresh.generation.parent_id == first.generation.id
    assert relay.calls[2].body["seed"] == fresh.generation.params.seed
    assert (resized.generation.params.width, resized.generation.params.height) == (512, 768)
    assert resized.generation.params.seed == first.generation.params.seed
    assert len(relay.calls) == 4 and await used(core) == 4

    # someone else's drawing
    theirs = refused(await core.account.redo(BOB, DM, first.generation.id))
    assert theirs.reason == "not_found"
    assert refused(await core.account.redo(BOB, DM, None)).reason == "nothing_to_redo"

    original = delivered(await core.account.original(ALICE, first.generation.id))
    assert original.repeat is True
    assert [i.data for i in original.images] == [i.data for i in first.images]
    assert len(relay.calls) == 4 and await used(core) == 4
    assert refused(await core.account.original(ALICE, 9999)).reason == "not_found"

    paths = [Path(p) for p in first.generation.image_paths]
    assert all(p.is_file() for p in paths)
    reply = await core.account.forget(ALICE)
    assert "(4 drawings)" in reply
    assert not any(p.exists() for p in paths)
    assert (await core.account.history(ALICE))[1] == []
    assert await used(core) == 4
    gone = await core.store.run(Store.get, first.generation.id)
    assert gone is not None and gone.params.prompt == ""
    assert refused(await core.account.original(ALICE, first.generation.id)).reason == "image_gone"


# -- admin ------------------------------------------------------------------------------

ADMIN = Requester("telegram", "1", "Ada", "en")
ADMIN_HERE = Request(ADMIN, GROUP)
STRANGER = Request(Requester("telegram", "5", "Eve", "en"), Place("telegram", "5"))


@pytest.mark.env(ADMIN_IDS="telegram:1, discord:9")
async def test_admin_ban_and_unban(core: Core) -> None:
    bob = Requester("telegram", "2", "Bob", "en")
    assert await core.admin.run("ban", ["2", "spam"], ADMIN_HERE) == "Done: ban telegram:2."
    outcome = refused(await core.service.draw(bob, GROUP, fox()))
    assert outcome.reason == "banned" and "not allowed" in outcome.text
    user = await core.store.run(Store.user, "telegram:2")
    assert user is not None and user["ban_reason"] == "spam"
    assert await core.admin.run("unban", ["telegram:2"], ADMIN_HERE) == "Done: unban telegram:2."
    delivered(await core.service.draw(bob, GROUP, fox()))
    replied = Request(ADMIN, GROUP, quoted_user_id="3")
    assert await core.admin.run("ban", [], replied) == "Done: ban telegram:3."


@pytest.mark.env(ADMIN_IDS="telegram:1")
async def test_admin_limit(core: Core) -> None:
    bob = Requester("telegram", "2", "Bob", "en")
    reply = await core.admin.run("limit", ["user", "2", "1"], ADMIN_HERE)
    assert reply == "Done: limit telegram:2 = 1."
    delivered(await core.service.draw(bob, DM, fox()))
    assert refused(await core.service.draw(bob, DM, fox())).reason == "user_daily"
    await core.admin.run("limit", ["user", "2", "default"], ADMIN_HERE)
    delivered(await core.service.draw(bob, DM, fox()))
    assert await core.admin.run("limit", ["chat", "1"], ADMIN_HERE) == (
        "Done: chat limit of telegram:-100 = 1."
    )
    delivered(await core.service.draw(ALICE, GROUP, fox()))
    assert refused(await core.service.draw(bob, GROUP, fox())).reason == "chat_daily"
    bad = await core.admin.run("limit", ["user", "2", "lots"], ADMIN_HERE)
    assert "'lots' is not a number" in bad and "Admin commands:" in bad


@pytest.mark.env(ADMIN_IDS="telegram:1")
async def test_admin_enable_disable(core: Core, relay: FakeRelay) -> None:
    assert await core.admin.run("disable", [], ADMIN_HERE) == "Done: disable telegram:-100."
    outcome = refused(await core.service.draw(ALICE, GROUP, fox()))
    assert outcome.reason == "chat_disabled" and "/enable" in outcome.text
    delivered(await core.service.draw(ALICE, DM, fox()))  # other chats are unaffected
    assert await core.admin.run("enable", [], ADMIN_HERE) == "Done: enable telegram:-100."
    delivered(await core.service.draw(ALICE, GROUP, fox()))
    assert len(relay.calls) == 2


@pytest.mark.env(ADMIN_IDS="telegram:1")
async def test_admin_stats(core: Core, relay: FakeRelay) -> None:
    await core.service.draw(ALICE, DM, fox())
    await core.service.draw(BOB, DM, fox())
    relay.script(Reply.volc_error(50412))
    await core.service.draw(BOB, DM, fox())
    stats = await core.admin.run("stats", [], ADMIN_HERE)
    assert stats.startswith("Today: 2 images, 1 failed. Last 7 days: 2 images, 1 failed.")
    assert "Failures by cause: prompt_refused: 1" in stats
    assert "Alice (1)" in stats and "Bob (1)" in stats
    assert "Known users: 2" in stats


@pytest.mark.env(ADMIN_IDS="telegram:1")
@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("ban", ["2"]),
        ("unban", ["2"]),
        ("limit", ["user", "2", "0"]),
        ("limit", ["chat", "0"]),
        ("enable", []),
        ("disable", []),
        ("stats", []),
        ("balance", []),
    ],
)
async def test_admin_commands_refused_for_others(core: Core, command: str, args: list[str]) -> None:
    reply = await core.admin.run(command, args, STRANGER)
    assert reply == "Only the bot's admins can do that."
    assert await core.store.run(Store.user, "telegram:2") is None
    chat = await core.store.run(Store.chat, "telegram:5")
    assert chat is None
    delivered(await core.service.draw(STRANGER.requester, STRANGER.place, fox()))


@pytest.mark.env(ADMIN_IDS="telegram:1")
async def test_group_admin_may_switch_their_chat_but_not_ban(core: Core) -> None:
    group_admin = Request(Requester("telegram", "8", "Gus", "en"), GROUP, chat_admin=yes)
    assert await core.admin.run("disable", [], group_admin) == "Done: disable telegram:-100."
    assert await core.admin.run("ban", ["2"], group_admin) == "Only the bot's admins can do that."
    member = Request(Requester("telegram", "9", "Max", "en"), GROUP)
    assert await core.admin.run("enable", [], member) == "Only the bot's admins can do that."
    assert refused(await core.service.draw(ALICE, GROUP, fox())).reason == "chat_disabled"


@pytest.mark.env(MAX_IN_FLIGHT_PER_USER="2")
async def test_in_flight_limit_per_user(core: Core, relay: FakeRelay) -> None:
    relay.latency = 0.3
    outcomes = await asyncio.gather(*(core.service.draw(ALICE, DM, fox()) for _ in range(3)))
    reasons = sorted(o.reason if isinstance(o, Refused) else "generated" for o in outcomes)
    assert reasons == ["generated", "generated", "in_flight"]
    assert len(relay.calls) == 2 and await used(core) == 2


@pytest.mark.env(COOLDOWN_SECONDS="60")
async def test_cooldown_between_draws(core: Core, relay: FakeRelay) -> None:
    delivered(await core.service.draw(ALICE, DM, fox()))
    outcome = refused(await core.service.draw(ALICE, DM, fox()))
    assert outcome.reason == "cooldown"
    assert re.search(r"Please wait (59|60) s", outcome.text)
    delivered(await core.service.draw(BOB, DM, fox()))
    assert len(relay.calls) == 2


@pytest.mark.env(WATERMARK_USER_CONTROL="off")
async def test_redo_works_when_users_may_not_change_the_watermark(
    core: Core, relay: FakeRelay
) -> None:
    first = delivered(await core.service.draw(ALICE, DM, fox()))
    redo = delivered(await core.account.redo(ALICE, DM, first.generation.id))
    assert redo.generation.params.seed == first.generation.params.seed
    assert len(relay.calls) == 2
    assert relay.calls[1].body["logo_info"] == relay.calls[0].body["logo_info"]
    assert relay.calls[1].body["logo_info"]["add_logo"] is True
