"""Models end to end: /models, /model and --model through the real python-telegram-bot and
discord.py against FakeTelegram, FakeDiscord and FakeRelay drawing THREE_MODELS."""

from __future__ import annotations

import pytest

from bots.discord import DrawbotClient
from core.root import Core
from core.store import Store
from tests.bots.test_discord import (  # the Discord fixtures and helpers
    GUILD_ID,
    MANAGE_GUILD,
    bot,
    dc,
    image_of,
    noted,
    sentence_of,
    settings,
)
from tests.bots.test_telegram_ops import GROUP, reply_to
from tests.fakes.discord import FakeDiscord
from tests.fakes.relay import FakeRelay
from tests.fakes.telegram import FakeTelegram

__all__ = ["bot", "dc", "settings"]  # fixtures, used by name

pytestmark = pytest.mark.three_models


async def photo_caption(tg: FakeTelegram, text: str, user_id: int = 1, **where: object) -> str:
    since = len(tg.sent)
    tg.user_sends(text=text, user_id=user_id, **where)  # type: ignore[arg-type]
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo", since=since)
    return sent.visible_text or ""


async def test_telegram_models_and_a_chats_model(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    listing = await reply_to(tg, "/models")
    assert listing.startswith("Models here:\n• jimeng21 (Jimeng 2.1)")
    assert "• poster (Poster): sizes 768x512, 512x768" in listing and "3 per image" in listing
    caption = await photo_caption(tg, "/draw a cat --model poster --seed 4")
    assert caption == "a cat\nPoster · 3 units · 768x512 · seed 4 · #1"
    assert relay.calls[-1].body["req_key"] == "poster_req_key_v1"

    group = {"chat_id": GROUP, "chat_type": "supergroup"}
    tg.set_admins(GROUP, {5})
    refused = await reply_to(tg, "/model sketch", user_id=6, **group)
    assert refused.startswith("Only this group's admins can choose its model.")
    done = await reply_to(tg, "/model@drawbot_test_bot SKETCH", user_id=5, **group)
    assert done.startswith("This chat now draws with sketch, 2 per image")
    caption = await photo_caption(tg, "/draw a dog --seed 3", user_id=6, **group)
    assert caption == "a dog\nsketch · 2 units · 512x512 · seed 3 · #2"
    assert relay.calls[-1].body["req_key"] == "sketch_req_key_v2"
    assert "sketch" in await reply_to(tg, "/model", user_id=6, **group)
    # a private chat keeps the deployment's default
    assert "jimeng21 (Jimeng 2.1)" in await reply_to(tg, "/model")
    bad = await reply_to(tg, "/draw a dog --size 768x768", user_id=6, **group)
    assert "sketch" in bad and "256–512" in bad
    assert "Today you have used 2 of 20 units" in await reply_to(tg, "/quota", user_id=6)


async def test_telegram_menu_names_the_model_commands(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    english, chinese = tg.commands_for(), tg.commands_for("default", "zh")
    assert english is not None and chinese is not None
    assert {"model", "models"} <= {c["command"] for c in english}
    assert {"model", "models"} <= {c["command"] for c in chinese}


async def test_discord_draw_offers_the_models_as_choices(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay, core: Core
) -> None:
    draw = dc.find_command("draw")
    assert draw is not None
    option = next(o for o in draw["options"] if o["name"] == "model")
    assert option["choices"] == [
        {"name": "Jimeng 2.1", "value": "jimeng21"},
        {"name": "Poster", "value": "poster"},
        {"name": "sketch", "value": "sketch"},
    ]
    assert option.get("required") is not True
    i = dc.slash_command("draw", {"prompt": "a boat", "model": "poster", "size": "512x768"})
    posted = await image_of(dc, i)
    assert "Poster · 3 units · 512x768" in posted.content
    (row,) = await noted(core)
    assert (row.params.model, row.cost, row.status) == ("poster", 3, "delivered")
    assert relay.calls[-1].body["req_key"] == "poster_req_key_v1"
    wrong = dc.slash_command("draw", {"prompt": "a boat", "model": "poster", "size": "640x640"})
    assert "768x512, 512x768" in await sentence_of(dc, wrong)


async def test_discord_models_and_model(
    bot: DrawbotClient, dc: FakeDiscord, relay: FakeRelay, core: Core
) -> None:
    listing = await sentence_of(dc, dc.slash_command("models"))
    assert "• sketch: sizes 256–512" in listing and "edits pictures" in listing
    model = dc.find_command("model")
    assert model is not None and [c["value"] for c in model["options"][0]["choices"]] == [
        "jimeng21",
        "poster",
        "sketch",
    ]
    member = {"user_id": 5, "permissions": 0}
    manager = {"user_id": 6, "permissions": MANAGE_GUILD}
    refused = await sentence_of(dc, dc.slash_command("model", {"name": "poster"}, **member))
    assert "Only this group's admins" in refused
    done = await sentence_of(dc, dc.slash_command("model", {"name": "poster"}, **manager))
    assert "now draws with poster (Poster)" in done
    assert await core.store.run(Store.chat_model, f"discord:{GUILD_ID}") == "poster"
    shown = await sentence_of(dc, dc.slash_command("model", **member))
    assert shown.startswith("This chat draws with poster (Poster).")
    posted = await image_of(dc, dc.slash_command("draw", {"prompt": "a kite"}, **member))
    assert "Poster · 3 units · 768x512" in posted.content
    # in the bot's DM anyone chooses their own
    dm = dc.dm_slash_command("model", {"name": "sketch"}, user_id=5)
    assert "now draws with sketch" in await sentence_of(dc, dm)
