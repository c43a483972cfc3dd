"""/draw through the real PTB Application, FakeTelegram and FakeRelay: replies and refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from telegram import Bot

from bots.telegram import photo_caption
from bots.telegram.handlers import TelegramHandlers
from bots.telegram.send import PHOTO_MAX_BYTES, UPLOAD_MAX_BYTES, Sender, Target
from core.answer import Pictures
from core.images import Image, sniff
from core.outcome import Delivered
from core.params import DrawParams
from core.records import Generation, Limits
from core.request import Place, Requester
from core.root import Core
from core.store import Store
from tests.bots.conftest import TG_TOKEN
from tests.fakes.base import wait_for
from tests.fakes.png import make_png
from tests.fakes.relay import FakeRelay, Reply
from tests.fakes.telegram import FakeTelegram, SentMessage

GROUP = -1001234


def photos(tg: FakeTelegram) -> list[SentMessage]:
    return [m for m in tg.sent if m.kind == "photo"]


async def stored(core: Core, generation_id: int, check: Callable[[Generation], bool]) -> Generation:
    """The generation once `check` holds (the adapter writes file ids just after sending)."""

    async def probe() -> Generation | None:
        generation = await core.store.run(Store.get, generation_id)
        return generation if generation is not None and check(generation) else None

    return await wait_for(probe, 2.0, f"generation {generation_id} to be stored")


def relay_calls(relay: FakeRelay) -> int:
    return len([c for c in relay.calls if c.error is None])


async def test_private_draw_sends_photo_caption_and_buttons(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends(text="/draw a red fox in the snow --size 768x512 --seed 42", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert sent.chat_id == 1 and sent.reply_to_message_id is None
    assert sent.parse_mode is None
    assert sent.visible_text is not None
    assert sent.visible_text.startswith("a red fox in the snow\n768x512 · seed 42 · #1")
    assert [b["callback_data"] for b in sent.buttons()] == [
        "g:again:1",
        "g:resize:1",
        "g:original:1",
    ]
    assert [b["text"] for b in sent.buttons()][1] == "↔ Same seed, 512x768"
    assert (1, "upload_photo") in tg.chat_actions
    body = relay.calls[0].body
    assert (body["width"], body["height"], body["seed"]) == (768, 512, 42)
    generation = await stored(tg_bot, 1, lambda g: bool(g.file_refs))
    assert generation.status == "delivered"
    assert generation.file_refs == {"telegram": [sent.message["photo"][-1]["file_id"]]}


async def test_group_draw_addressed_to_us_and_not_to_another_bot(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends(text="/draw@other_bot a dog", user_id=2, chat_id=GROUP, chat_type="supergroup")
    command = tg.user_sends(
        text="/draw@drawbot_test_bot a cat", user_id=2, chat_id=GROUP, chat_type="supergroup"
    )
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert sent.chat_id == GROUP and sent.reply_to_message_id == command["message_id"]
    await asyncio.sleep(0.2)
    assert [c.body["prompt"] for c in relay.calls] == ["a cat"]
    assert len(tg.sent) == 1


async def test_reply_to_a_message_gives_the_prompt(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    original = tg.user_sends(
        text="a lighthouse at dusk", user_id=3, chat_id=GROUP, chat_type="supergroup"
    )
    tg.user_sends(
        text="/draw --size 512x768",
        user_id=4,
        chat_id=GROUP,
        chat_type="supergroup",
        reply_to=original,
    )
    await tg.wait_for_sent(lambda m: m.kind == "photo")
    body = relay.calls[0].body
    assert (body["prompt"], body["width"], body["height"]) == ("a lighthouse at dusk", 512, 768)


async def test_deleted_command_message_still_gets_the_photo(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    relay.script(Reply.ok(delay=0.4))
    command = tg.user_sends(text="/draw a cat", user_id=2, chat_id=GROUP, chat_type="supergroup")
    await wait_for(lambda: relay.calls, what="the relay call")
    tg.delete_message(GROUP, command["message_id"])
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert sent.reply_to_message_id == command["message_id"]
    assert "reply_to_message" not in sent.message


async def test_long_prompt_with_markup_characters_fits_the_caption(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    prompt = ("<b>fish&chips_*x*</b> " * 40)[:800].strip()
    tg.user_sends(text=f"/draw {prompt}", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert sent.visible_text is not None
    assert sent.visible_text.startswith(prompt[:100])
    assert "\n512x512 · seed" in sent.visible_text


async def test_flood_on_send_photo_is_retried(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.flood(method="sendPhoto", times=1, retry_after=1)
    tg.user_sends(text="/draw a cat", user_id=1)
    await tg.wait_for_sent(lambda m: m.kind == "photo", within=5)
    assert [c.status for c in tg.calls_of("sendPhoto")] == [429, 200]


async def test_several_images_go_as_an_album_with_buttons_after(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    relay.script(Reply.ok(images=2))
    tg.user_sends(text="/draw two cats", user_id=1)
    album = await tg.wait_for_sent(lambda m: m.kind == "media_group")
    follow = await tg.wait_for_sent(lambda m: m.kind == "text")
    assert len(album.files) == 2 and album.visible_text is not None
    assert album.visible_text.startswith("two cats\n")
    assert [b["callback_data"] for b in follow.buttons()] == [
        "g:again:1",
        "g:resize:1",
        "g:original:1",
    ]
    generation = await stored(tg_bot, 1, lambda g: bool(g.file_refs))
    assert len(generation.file_refs["telegram"]) == 2


async def test_an_image_over_the_photo_limit_arrives_as_a_re_encoded_photo(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """Over 10 MB: re-encoded under Telegram's photo limit and shown as a photo (not a file),
    charged once delivered; the file as drawn is kept for /original."""
    relay.script(Reply.ok(image_bytes=11 * 1024 * 1024))
    tg.user_sends(text="/draw a huge cat --size 768x512", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo", within=10)
    photo = sniff(sent.files[0])
    assert photo.mime == "image/jpeg" and len(photo.data) <= PHOTO_MAX_BYTES
    assert sent.buttons()[0]["callback_data"] == "g:again:1"
    generation = await stored(tg_bot, 1, lambda g: g.status == "delivered")
    kept = sniff(await asyncio.to_thread(Path(generation.image_paths[0]).read_bytes))
    assert len(kept.data) == 11 * 1024 * 1024  # kept as drawn
    assert (photo.width, photo.height) == (kept.width, kept.height)  # at full size
    assert await used_today(tg_bot, "telegram:1") == 1


# ---------------------------------------------------------------------- photos by URL


async def test_a_single_photo_goes_as_the_relays_url_and_its_file_id_is_recorded(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """Telegram fetches the relay's link itself (no upload from the bot); the file id it
    returns is recorded as for an upload, and the file is kept for /original."""
    tg.user_sends(text="/draw a fox", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert tg.url_fetches == relay.calls[0].image_urls
    assert [c.status for c in tg.calls_of("sendPhoto")] == [200]
    generation = await stored(tg_bot, 1, lambda g: bool(g.file_refs and g.image_paths))
    assert generation.status == "delivered"
    assert generation.file_refs == {"telegram": [sent.message["photo"][-1]["file_id"]]}
    kept = await asyncio.to_thread(Path(generation.image_paths[0]).read_bytes)
    assert kept == sent.files[0]


async def test_a_url_telegram_refuses_is_uploaded_instead(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """Telegram refuses the link (here its limit for URL photos is lowered under the
    picture's size): the bytes are uploaded, the user gets the picture, charged once."""
    tg.url_photo_max_bytes = 1000
    tg.user_sends(text="/draw a fox", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert len(tg.url_fetches) == 1
    assert [c.status for c in tg.calls_of("sendPhoto")] == [400, 200]
    assert len(photos(tg)) == 1 and sent.caption is not None
    generation = await stored(tg_bot, 1, lambda g: bool(g.file_refs))
    assert generation.status == "delivered"
    assert generation.file_refs == {"telegram": [sent.message["photo"][-1]["file_id"]]}
    assert await used_today(tg_bot, "telegram:1") == 1


async def test_an_expired_url_is_uploaded_instead(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """The relay's link no longer answers Telegram (404), though the bot fetched its kept
    copy: Telegram cannot fetch it, so the bytes are uploaded."""
    relay.script(Reply.ok(image_status=404, image_status_agent="TelegramBot"))
    tg.user_sends(text="/draw a fox", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert tg.url_fetches == relay.calls[0].image_urls
    assert [c.status for c in tg.calls_of("sendPhoto")] == [400, 200]
    generation = await stored(tg_bot, 1, lambda g: bool(g.file_refs))
    assert generation.file_refs == {"telegram": [sent.message["photo"][-1]["file_id"]]}


async def test_a_picture_over_5_mb_is_refused_by_link_and_uploaded(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """Its size is not known before it is downloaded: Telegram refuses the link (over 5 MB
    for photos by URL), the bytes follow."""
    relay.script(Reply.ok(image_bytes=6 * 1024 * 1024))
    tg.user_sends(text="/draw a huge fox", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo", within=10)
    assert tg.url_fetches == relay.calls[0].image_urls
    assert [c.status for c in tg.calls_of("sendPhoto")] == [400, 200]
    assert len(sent.files[0]) == 6 * 1024 * 1024


async def test_a_downloaded_picture_over_5_mb_is_uploaded_without_trying_its_link(
    tg: FakeTelegram, relay: FakeRelay, tg_core: Core
) -> None:
    """Sent again from its kept file (a redelivered update, recovery): over 5 MB, the link
    is not tried."""
    bot = Bot(TG_TOKEN, base_url=f"{tg.base_url}/bot")
    tg.add_chat(1)
    relay.script(Reply.ok(image_bytes=6 * 1024 * 1024))
    outcome = await tg_core.service.draw(
        Requester("telegram", "1"), Place("telegram", "1"), DrawParams("a huge fox")
    )
    assert isinstance(outcome, Delivered) and outcome.images
    pictures = Pictures(outcome.generation, outcome.images, "en")
    async with bot:
        refs = await Sender(bot, by_url=True).pictures(pictures, Target(1))
    assert refs and tg.url_fetches == []
    assert [c.status for c in tg.calls_of("sendPhoto")] == [200]


@pytest.mark.env(TELEGRAM_PHOTO_BY_URL="off")
async def test_photo_by_url_off_always_uploads(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """For deployments whose relay links Telegram cannot reach."""
    tg.user_sends(text="/draw a fox", user_id=1)
    await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert relay.calls[0].image_urls and tg.url_fetches == []
    assert [c.status for c in tg.calls_of("sendPhoto")] == [200]


# ------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        ([Reply.volc_error(50412)], "The model refused this prompt"),
        ([Reply.drop()] * 4, "did not answer in time"),
        ([Reply.html(502)] * 4, "internal error"),
    ],
    ids=["moderation", "down", "proxy-502"],
)
async def test_relay_failures_become_sentences_and_refund(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core, replies: list[Reply], expected: str
) -> None:
    relay.script(*replies)
    tg.user_sends(text="/draw a cat", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "text")
    assert expected in (sent.text or "")
    assert "no quota was used" in (sent.text or "")
    generation = await tg_bot.store.run(Store.get, 1)
    assert generation is not None and generation.status == "failed"


@pytest.mark.env(ALLOWED_USERS="telegram:1")
async def test_private_mode_answers_others_with_one_sentence(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends(text="/start", user_id=5)
    tg.user_sends(text="/draw a cat", user_id=5, language_code="zh-hans")
    english = await tg.wait_for_sent(lambda m: (m.text or "").startswith("Sorry, this bot is"))
    chinese = await tg.wait_for_sent(lambda m: "私人机器人" in (m.text or ""))
    assert english.chat_id == chinese.chat_id == 5 and relay.calls == []
    assert await tg_bot.store.run(Store.get, 1) is None


async def test_a_relay_that_pushes_back_keeps_the_draw_waiting(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """Busy answers (50429, 50430, HTTP 429) narrow the window and queue the draw again."""
    relay.script(Reply.volc_error(50429), Reply.volc_error(50430), Reply.openai_error(429))
    tg.user_sends(text="/draw a cat", user_id=1)
    await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert [m.kind for m in tg.sent] == ["photo"]  # no sentence: it only waited
    assert len(relay.calls) == 4 and tg_bot.service.dispatcher.wasted == 3
    assert tg_bot.service.dispatcher.window.pushbacks == 3


async def test_a_relay_busy_past_the_queue_deadline_refunds(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg_bot.service.dispatcher.queue_seconds = 0.5  # in production: 14 minutes
    relay.default = Reply.volc_error(50430)
    tg.user_sends(text="/draw a cat", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "text")
    assert "The image service is busy" in (sent.text or "")
    assert "no quota was used" in (sent.text or "")
    generation = await tg_bot.store.run(Store.get, 1)
    assert generation is not None and generation.status == "failed"


async def test_relay_timeout(tg: FakeTelegram, relay: FakeRelay, tg_bot: Core) -> None:
    tg_bot.relay._deadline = 0.5
    relay.script(Reply.hang(3))
    tg.user_sends(text="/draw a cat", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "text")
    assert "did not answer in time" in (sent.text or "")


@pytest.mark.env(ADMIN_IDS="telegram:900,discord:5")
async def test_bad_key_tells_the_user_and_dms_the_admin_once(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.add_chat(900)
    relay.script(Reply.openai_error(401), Reply.openai_error(401))
    tg.user_sends(text="/draw a cat", user_id=1)
    tg.user_sends(text="/draw a dog", user_id=2)
    await wait_for(
        lambda: len([m for m in tg.sent if m.chat_id in (1, 2)]) == 2, what="two replies"
    )
    for chat in (1, 2):
        text = next(m.text for m in tg.sent if m.chat_id == chat)
        assert "misconfigured" in (text or "")
    alerts = [m for m in tg.sent if m.chat_id == 900]
    assert len(alerts) == 1 and "YUNAPI_API_KEY" in (alerts[0].text or "")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("a cat --size 9999x1", "width and height must each be 256–768"),
        ("", "Tell me what to draw.\n\nUsage: /draw <prompt>"),
        ("a cat --sise 768x512", "Did you mean --size?"),
    ],
)
async def test_bad_input_answers_with_usage(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core, args: str, expected: str
) -> None:
    tg.user_sends(text=f"/draw {args}".strip(), user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "text")
    assert expected in (sent.text or "")
    assert relay.calls == []


@pytest.mark.env(DAILY_LIMIT="1")
async def test_quota_exhausted_says_when_it_resets(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends(text="/draw a cat", user_id=1)
    await tg.wait_for_sent(lambda m: m.kind == "photo")
    tg.user_sends(text="/draw a dog", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "text")
    assert sent.text == ("You have used all 1 images for today. Your quota resets at 00:00 (UTC).")
    assert relay_calls(relay) == 1


async def test_chinese_language_code_gets_chinese(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    relay.script(Reply.volc_error(50412))
    tg.user_sends(text="/draw 一只猫", user_id=1, language_code="zh-hans")
    sent = await tg.wait_for_sent(lambda m: m.kind == "text")
    assert sent.text == "提示词未通过内容审核,请修改后重试,本次不扣额度。"
    tg.user_sends(text="/draw --size 1x1 猫", user_id=1, language_code="zh-hans")
    sent = await tg.wait_for_sent(lambda m: m.kind == "text", since=1)
    assert "宽和高都须在 256–768 之间" in (sent.text or "")


# --------------------------------------------------------------------------- concurrency


@pytest.mark.env(MAX_CONCURRENT_DRAWS="5")
async def test_ten_users_at_once_wait_about_one_draw_each(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    relay.latency = 1.0
    loop = asyncio.get_running_loop()
    started = loop.time()
    for user in range(1, 11):
        tg.user_sends(text=f"/draw cat number {user}", user_id=user)
    await wait_for(lambda: len(photos(tg)) == 10, 20.0, "ten photos")
    makespan = loop.time() - started
    print(f"\nconcurrency: 10 draws, relay latency 1.0 s, cap 5: makespan {makespan:.2f} s")
    assert relay.max_concurrency_seen == 5  # the core's cap holds (bench/ measures the time)
    assert {m.chat_id for m in photos(tg)} == set(range(1, 11))


@pytest.mark.env(DAILY_LIMIT="2")
async def test_quota_race_six_concurrent_draws_of_one_user(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    relay.latency = 0.3
    for n in range(6):
        tg.user_sends(text=f"/draw cat {n}", user_id=1)
    await wait_for(lambda: len(tg.sent) == 6, 5.0, "six replies")
    texts = [m.text for m in tg.sent if m.kind == "text"]
    assert len(photos(tg)) == 2
    assert texts == ["You have used all 2 images for today. Your quota resets at 00:00 (UTC)."] * 4

    async def statuses() -> list[str] | None:  # delivery is noted just after each photo
        rows = await tg_bot.store.run(Store.history, "telegram:1", 100)
        found = sorted(r.status for r in rows)
        return found if found == ["delivered", "delivered"] else None

    assert await wait_for(statuses, 5.0, "both draws delivered") == ["delivered", "delivered"]
    assert relay_calls(relay) == 2


def generation_with(prompt: str) -> Generation:
    row = {
        **dict.fromkeys(Generation.__dataclass_fields__),
        "id": 12345,
        "user_key": "telegram:1",
        "chat_key": "telegram:1",
        "platform": "telegram",
        "day": "2026-01-01",
        "status": "delivered",
        "prompt": prompt,
        "width": 768,
        "height": 512,
        "seed": 2147483647,
        "steps": 25,
        "scale": 3.5,
        "expand": 1,
        "super_res": 1,
        "watermark": None,
        "created_at": 0.0,
    }
    return Generation.from_row(row)


@pytest.mark.parametrize(
    "prompt",
    [("<b>&amp; fish_and*chips* " * 100)[:2000], "😀" * 2000, "</i>&" * 400],
    ids=["markup-2000", "emoji-2000", "tags"],
)
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_caption_of_any_prompt_is_accepted_by_the_strict_fake(
    tg: FakeTelegram, prompt: str, lang: str
) -> None:
    caption = photo_caption(Pictures(generation_with(prompt), [], lang))
    assert caption.endswith("· #12345")
    tg.add_chat(1)
    async with Bot(TG_TOKEN, base_url=f"{tg.base_url}/bot") as bot:
        sent = await bot.send_photo(1, make_png(8, 8), caption=caption)
    assert sent.caption == caption


# ------------------------------------------------------------------------------ size caps


async def used_today(core: Core, user_key: str) -> int:
    usage = await core.store.run(Store.usage, user_key, user_key, core.service.today(), Limits())
    return usage.used


def padded_png(width: int, height: int, size: int) -> Image:
    """A picture padded with zeros to `size` bytes, as the fake relay serves huge images."""
    data = make_png(width, height)
    return sniff(data + b"\0" * (size - len(data)))


def undecodable(size: int) -> Image:
    """A PNG header over garbage: no codec can re-encode it."""
    return sniff(make_png(1024, 1024)[:33] + b"\x01" * (size - 33))


async def test_an_album_with_one_image_over_the_photo_limit_stays_photos(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    relay.script(Reply.ok(images=2, image_bytes=12 * 1024 * 1024))
    tg.user_sends(text="/draw two huge cats", user_id=1)
    album = await tg.wait_for_sent(lambda m: m.kind == "media_group", within=15)
    assert [m["photo"] for m in album.messages if "photo" in m] and len(album.messages) == 2
    assert all(len(f) <= PHOTO_MAX_BYTES for f in album.files)
    await stored(tg_bot, 1, lambda g: g.status == "delivered")


async def test_a_picture_that_cannot_be_a_photo_goes_as_the_file_it_is(
    tg: FakeTelegram, tg_core: Core
) -> None:
    """A ratio over 20 cannot be fixed by re-encoding: the file is sent as it is."""
    tg.add_chat(1)
    image = padded_png(2100, 100, 11 * 1024 * 1024)
    pictures = Pictures(generation_with("a long scroll"), [image], "en")
    async with Bot(TG_TOKEN, base_url=f"{tg.base_url}/bot") as bot:
        refs = await Sender(bot).pictures(pictures, Target(1))
    assert refs is not None and len(refs) == 1
    sent = tg.sent[-1]
    assert sent.kind == "document" and sent.files[0] == image.data
    assert sent.message["document"]["file_name"] == "drawbot-12345-1.png"


async def test_an_unsendable_picture_gets_a_sentence_and_is_not_charged(
    tg: FakeTelegram, relay: FakeRelay, tg_core: Core
) -> None:
    """Over 50 MB and impossible to re-encode: nothing is uploaded, the asker is told, and
    the draw is refunded."""
    tg.add_chat(1)
    asker = Requester("telegram", "1", "Alice", "en")
    outcome = await tg_core.service.draw(asker, Place("telegram", "1"), DrawParams("a cat"))
    assert isinstance(outcome, Delivered)
    huge = undecodable(UPLOAD_MAX_BYTES + 1)
    pictures = tg_core.front.pictures(outcome.generation, [huge], "en")
    async with Bot(TG_TOKEN, base_url=f"{tg.base_url}/bot") as bot:
        receipt = await TelegramHandlers(tg_core, bot).render(pictures, Target(1))
    assert receipt is None
    assert [m.kind for m in tg.sent] == ["text"]
    assert "could not be sent here, so it did not count" in (tg.sent[0].text or "")
    generation = await stored(tg_core, outcome.generation.id, lambda g: g.status == "failed")
    assert generation.error_kind == "send_failed"
    assert await used_today(tg_core, "telegram:1") == 0


async def test_the_kept_copy_is_fetched_once_telegram_has_the_photo(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """Telegram fetches the photo by its link alone; the bot's kept copy follows once the
    photo is delivered, not beside Telegram's fetch (from a slow relay CDN the two would
    share its bandwidth, and the asker would wait for both)."""
    tg.hold_photos(landed=True)  # the user has the photo; the bot has not heard back yet
    tg.user_sends(text="/draw a fox", user_id=1)
    await wait_for(lambda: tg.held_photos == 1, within=5, what="the photo to land")
    await asyncio.sleep(0.3)
    assert [agent.split("/")[0] for agent in relay.image_agents] == [
        "TelegramBot (like TwitterBot)"
    ]
    assert (await stored(tg_bot, 1, lambda g: True)).image_paths == []
    tg.release_photos()
    generation = await stored(tg_bot, 1, lambda g: bool(g.image_paths))
    assert generation.status == "delivered"
    assert [agent.split("/")[0] for agent in relay.image_agents] == [
        "TelegramBot (like TwitterBot)",
        "drawbot",
    ]
    kept = await asyncio.to_thread(Path(generation.image_paths[0]).read_bytes)
    assert kept == tg.sent[0].files[0]  # the very picture Telegram fetched


async def test_a_link_gone_before_the_kept_copy_is_fetched(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """Telegram fetched the photo by its link; by the time the bot fetches its kept copy the
    link answers 404. The user has the picture, the draw is delivered and charged once, and
    /original says the file is no longer kept."""
    relay.script(Reply.ok(image_status=404, image_status_agent="drawbot"))
    tg.user_sends(text="/draw a fox", user_id=1)
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert tg.url_fetches == relay.calls[0].image_urls
    assert [c.status for c in tg.calls_of("sendPhoto")] == [200]
    generation = await stored(tg_bot, 1, lambda g: bool(g.file_refs))
    assert generation.status == "delivered"
    assert generation.file_refs == {"telegram": [sent.message["photo"][-1]["file_id"]]}
    tg.user_sends(text="/original 1", user_id=1)
    gone = await tg.wait_for_sent(lambda m: m.kind == "text" and "/original" not in m.visible_text)
    assert "no longer kept" in gone.visible_text
    assert relay.image_fetches == 2  # Telegram's, and the bot's one refused
    assert (await stored(tg_bot, 1, lambda g: True)).image_paths == []
    assert await used_today(tg_bot, "telegram:1") == 1


async def test_a_link_refused_and_a_download_failed_is_refunded_with_that_sentence(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """The relay's link is gone for Telegram and for the bot alike: no photo, nothing kept,
    and the sentence says the image could not be downloaded (not that /original has it)."""
    relay.script(Reply.ok(image_status=404))
    tg.user_sends(text="/draw a fox", user_id=1)
    said = await tg.wait_for_sent(lambda m: m.kind == "text" and "no quota" in m.visible_text)
    assert said.visible_text.startswith("The image could not be downloaded.")
    assert [c.status for c in tg.calls_of("sendPhoto")] == [400]
    generation = await stored(tg_bot, 1, lambda g: g.status == "failed")
    assert generation.image_paths == [] and await used_today(tg_bot, "telegram:1") == 0
