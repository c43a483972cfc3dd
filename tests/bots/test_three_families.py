"""Three models of three API families end to end, on every adapter: Telegram (the real PTB
Application against FakeTelegram), Discord (discord.py against FakeDiscord) and the console
(`python -m bots console` as a child), all against FakeRelay drawing THREE_FAMILIES.

Each model draws through its own endpoint (CVProcess; CVSync2AsyncSubmitTask then
CVSync2AsyncGetResult polls; /v1/images/generations), is charged its cost, and every kind of
failure of each family is refunded with its sentence. The OpenAI model edits the picture a
/draw replies to (Telegram) or attaches (Discord); the console has no pictures, so it cannot
edit. The clients' own behaviour per family is in tests/core/test_relay_families.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bots.discord import DrawbotClient
from core.root import Core
from tests.bots.test_console import run_console
from tests.bots.test_discord import (  # the Discord fixtures and helpers
    bot,
    dc,
    image_of,
    noted,
    sentence_of,
    settings,
)
from tests.bots.test_telegram_ops import reply_to
from tests.conftest import FAMILY_REQ_KEYS, THREE_FAMILIES
from tests.fakes.discord import FakeDiscord
from tests.fakes.png import make_png
from tests.fakes.relay import ACTION, RESULT, SUBMIT, FakeRelay, Reply
from tests.fakes.relay_openai import EDITS, GENERATIONS
from tests.fakes.telegram import FakeTelegram

__all__ = ["bot", "dc", "settings"]  # fixtures, used by name

pytestmark = pytest.mark.three_families

# name, a size it draws, its cost, how captions name it
DRAWS = [
    ("jimeng21", "768x512", 1, "Jimeng 2.1"),
    ("jimeng31", "1024x768", 2, "Jimeng 3.1 · 2 units"),
    ("gpt", "1024x1536", 3, "GPT Image · 3 units"),
]
REFUSED = "The model refused this prompt (content policy)"
LOST = "The image service lost this drawing"
INTERNAL = "The image service had an internal error"
# model, what the relay answers (the last answer repeats), the sentence the user gets
FAILURES = [
    pytest.param("jimeng21", [Reply.volc_error(50412)], REFUSED, id="sync-refused"),
    pytest.param("jimeng31", [Reply.volc_error(50412)], REFUSED, id="async-submit-refused"),
    pytest.param("jimeng31", [Reply.ok(), Reply.task("not_found")], LOST, id="async-task-lost"),
    pytest.param("jimeng31", [Reply.ok(), Reply.task("expired")], LOST, id="async-expired"),
    pytest.param(
        "gpt",
        [Reply.openai_error(400, message="Rejected by our safety system", code="content_policy")],
        REFUSED,
        id="openai-content-policy",
    ),
    pytest.param("gpt", [Reply.openai_error(500)], INTERNAL, id="openai-500"),
]
PHOTO = make_png(640, 480, 3)


def units_used(quota: str) -> int:
    """What /quota says was used today: `Today you have used 3 of 20 units`."""
    found = re.search(r"Today you have used (\d+) of \d+ units", quota)
    assert found is not None, quota
    return int(found[1])


def fails_with(relay: FakeRelay, replies: list[Reply]) -> None:
    relay.script(*replies)
    relay.default = replies[-1]


def assert_drawn(relay: FakeRelay, name: str, size: str) -> None:
    """The relay saw the model's own endpoint and body, once (polls aside)."""
    width, height = (int(side) for side in size.split("x"))
    calls = relay.calls
    if name == "jimeng21":
        (call,) = calls
        assert call.action == ACTION and call.body["req_key"] == "high_aes_general_v21_L"
        assert (call.body["width"], call.body["height"]) == (width, height)
    elif name == "jimeng31":
        submit, *polls = calls
        assert submit.action == SUBMIT and submit.body["req_key"] == "jimeng_t2i_v31"
        assert (submit.body["width"], submit.body["height"]) == (width, height)
        assert polls and all(call.action == RESULT for call in polls)
        assert {call.body["task_id"] for call in polls} == set(relay.submitted)
        assert polls[-1].task_status == "done"
    else:
        (call,) = calls
        assert call.path == GENERATIONS
        assert (call.body["model"], call.body["size"]) == ("gpt-image-1", size)


# -- Telegram ---------------------------------------------------------------------------------


async def tg_photo(tg: FakeTelegram, text: str, **sent: object) -> str:
    since = len(tg.sent)
    tg.user_sends(text=text, user_id=1, **sent)  # type: ignore[arg-type]
    photo = await tg.wait_for_sent(lambda m: m.kind == "photo", since=since)
    return photo.caption or ""


@pytest.mark.parametrize(("name", "size", "cost", "note"), DRAWS)
async def test_telegram_draws_with_each_family(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core, name: str, size: str, cost: int, note: str
) -> None:
    caption = await tg_photo(tg, f"/draw a fox --model {name} --size {size}")
    assert caption.startswith(f"a fox\n{note} · {size} · ")
    assert_drawn(relay, name, size)
    assert units_used(await reply_to(tg, "/quota")) == cost


async def test_telegram_reply_to_a_photo_edits_it_with_the_openai_model(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    photo = tg.user_sends("", user_id=1, photo=PHOTO)
    caption = await tg_photo(tg, "/draw make it blue --size 1024x1024", reply_to=photo)
    assert caption.startswith("make it blue\nGPT Image · 3 units · 1024x1024")
    (call,) = relay.calls
    assert call.path == EDITS and call.source == PHOTO
    assert (call.body["model"], call.body["prompt"]) == ("gpt-image-1", "make it blue")
    assert units_used(await reply_to(tg, "/quota")) == 3


@pytest.mark.parametrize(("name", "replies", "said"), FAILURES)
async def test_telegram_refunds_each_familys_failures(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core, name: str, replies: list[Reply], said: str
) -> None:
    fails_with(relay, replies)
    sentence = await reply_to(tg, f"/draw a fox --model {name}")
    assert sentence.startswith(said) and "no quota was used" in sentence
    assert units_used(await reply_to(tg, "/quota")) == 0


# -- Discord ----------------------------------------------------------------------------------


async def dc_quota(dc: FakeDiscord) -> int:
    return units_used(await sentence_of(dc, dc.slash_command("quota")))


@pytest.mark.parametrize(("name", "size", "cost", "note"), DRAWS)
async def test_discord_draws_with_each_family(
    bot: DrawbotClient,
    dc: FakeDiscord,
    relay: FakeRelay,
    core: Core,
    name: str,
    size: str,
    cost: int,
    note: str,
) -> None:
    i = dc.slash_command("draw", {"prompt": "a fox", "model": name, "size": size})
    posted = await image_of(dc, i)
    assert posted.content.startswith(f"a fox\n{note} · {size} · ")
    (row,) = await noted(core)
    assert (row.params.model, row.cost, row.status) == (name, cost, "delivered")
    assert_drawn(relay, name, size)
    assert await dc_quota(dc) == cost


async def test_discord_attachment_is_edited_by_the_openai_model(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay, core: Core
) -> None:
    options = {"prompt": "make it blue", "size": "1536x1024", "image": dc.attachment(PHOTO)}
    posted = await image_of(dc, dc.slash_command("draw", options))
    assert posted.content.startswith("make it blue\nGPT Image · 3 units · 1536x1024")
    (call,) = relay.calls
    assert call.path == EDITS and call.source == PHOTO and call.body["model"] == "gpt-image-1"
    assert [row.params.model for row in await noted(core)] == ["gpt"]
    assert await dc_quota(dc) == 3


@pytest.mark.parametrize(("name", "replies", "said"), FAILURES)
async def test_discord_refunds_each_familys_failures(
    bot: DrawbotClient,
    dc: FakeDiscord,
    relay: FakeRelay,
    core: Core,
    name: str,
    replies: list[Reply],
    said: str,
) -> None:
    fails_with(relay, replies)
    sentence = await sentence_of(dc, dc.slash_command("draw", {"prompt": "a fox", "model": name}))
    assert sentence.startswith(said) and "no quota was used" in sentence
    assert await dc_quota(dc) == 0


# -- the console ------------------------------------------------------------------------------


async def test_console_draws_with_each_family_and_refunds_their_failures(
    relay: FakeRelay, tmp_path: Path
) -> None:
    """One session: a draw with each model (quota after each), then each family's failures
    (quota unchanged). The console has no pictures to reply to, so it cannot edit."""
    (tmp_path / "models.toml").write_text(THREE_FAMILIES, encoding="utf-8")
    relay.req_keys = set(FAMILY_REQ_KEYS)
    relay.task_polls = 0  # done at the first poll: the child polls with real pauses
    lines = []
    for name, size, _, _ in DRAWS:
        lines += [f"/draw a fox --model {name} --size {size}", "/quota"]
    failures = [
        ("jimeng21", Reply.volc_error(50412)),
        ("jimeng31", Reply.volc_error(50412)),
        ("jimeng31", Reply.task("not_found")),  # after a Reply.ok() for the submit
        ("jimeng31", Reply.task("expired")),
        ("gpt", Reply.openai_error(400, code="content_policy")),
        ("gpt", Reply.openai_error(500)),  # the last: it repeats for every retry
    ]
    relay.script(Reply.ok(), Reply.ok(), Reply.ok(), Reply.ok())  # the draws: 1 + 2 + 1 calls
    for _, reply in failures:
        relay.script(*([Reply.ok(), reply] if reply.kind == "task" else [reply]))
    relay.default = failures[-1][1]
    lines += [line for name, _ in failures for line in (f"/draw a fox --model {name}", "/quota")]
    # RELAY_TIMEOUT=5: the 500 is retried after real pauses only while they fit in 5 s
    code, out, err = await run_console(
        relay, tmp_path, lines, MODELS_FILE="models.toml", RELAY_TIMEOUT="5"
    )
    assert code == 0, err
    used = [int(n) for n in re.findall(r"Today you have used (\d+) of 20 units", out)]
    assert used == [1, 3, 6] + [6] * len(failures)
    for _, size, _, note in DRAWS:
        assert f"a fox\n{note} · {size} · " in out
    assert len(re.findall(r"^saved: ", out, re.M)) == 3
    said = [REFUSED, REFUSED, LOST, LOST, REFUSED, INTERNAL]
    found = [s for line in out.splitlines() for s in (REFUSED, LOST, INTERNAL) if s in line]
    assert found == said
    actions = [call.action for call in relay.calls]
    assert actions[:4] == [ACTION, SUBMIT, RESULT, "generations"]
    assert relay.calls[3].body["size"] == "1024x1536"
    assert actions[4:11] == [ACTION, SUBMIT, SUBMIT, RESULT, SUBMIT, RESULT, "generations"]
    assert set(actions[11:]) == {"generations"}  # the 500, and its retry
