"""Buttons, restarts and redeliveries: state lives in SQLite, never only in memory."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core.config import Settings
from core.request import Place, Requester
from core.root import Core
from core.store import Store
from tests.bots.conftest import open_core, running
from tests.fakes.base import wait_for
from tests.fakes.relay import FakeRelay, Reply
from tests.fakes.telegram import FakeTelegram, SentMessage

GROUP = -1001234


async def test_again_resize_and_original_buttons(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends(text="/draw a cat --seed 7", user_id=1)
    first = await tg.wait_for_sent(lambda m: m.kind == "photo")

    tg.user_clicks(first, "g:again:1")
    again = await tg.wait_for_sent(lambda m: m.kind == "photo", since=1)
    assert relay.calls[1].body["seed"] != 7
    assert again.visible_text is not None and "#2" in again.visible_text
    assert len(tg.callback_answers) == 1

    tg.user_clicks(first, "g:resize:1")
    resized = await tg.wait_for_sent(lambda m: m.kind == "photo", since=2)
    body = relay.calls[2].body
    assert (body["width"], body["height"], body["seed"]) == (768, 512, 7)
    assert resized.visible_text is not None and "768x512 · seed 7 · #3" in resized.visible_text

    tg.user_clicks(first, "g:original:1")
    original = await tg.wait_for_sent(lambda m: m.kind == "document")
    assert original.files == first.files
    assert original.message["document"]["file_name"] == "drawbot-1-1.png"
    assert len(relay.calls) == 3
    generation = await tg_bot.store.run(Store.get, 2)
    assert generation is not None and generation.parent_id == 1


async def test_a_button_in_a_group_draws_for_whoever_clicks(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends(text="/draw a cat", user_id=2, chat_id=GROUP, chat_type="supergroup")
    first = await tg.wait_for_sent(lambda m: m.kind == "photo")
    tg.user_clicks(first, "g:again:1", user_id=3)
    again = await tg.wait_for_sent(lambda m: m.kind == "photo", since=1)
    assert again.reply_to_message_id == first.message_id
    generation = await tg_bot.store.run(Store.get, 2)
    assert generation is not None and generation.user_key == "telegram:3"


async def test_a_forged_or_unknown_callback_is_answered_and_ignored(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.push_update(
        {
            "callback_query": {
                "id": "99",
                "from": {"id": 1, "is_bot": False, "first_name": "A"},
                "chat_instance": "1",
                "data": "g:again:999",
                "message": {"message_id": 5, "date": 0, "chat": {"id": 1, "type": "private"}},
            }
        }
    )
    tg.add_chat(1)
    sent = await tg.wait_for_sent()
    assert sent.text == "Drawing #999 was not found (or is not yours)."
    assert relay.calls == []


def legacy_click(tg: FakeTelegram, message: SentMessage, data: str, user_id: int = 1) -> None:
    """A button of a picture posted before the buttons were renamed (`g:size:`, `g:orig:`):
    the fake only presses buttons on the current keyboard, so the update is pushed raw."""
    tg.push_update(
        {
            "callback_query": {
                "id": f"legacy-{data}",
                "from": {"id": user_id, "is_bot": False, "first_name": "A"},
                "chat_instance": "1",
                "data": data,
                "message": message.message,
            }
        }
    )


async def test_legacy_size_and_orig_buttons_still_work(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends(text="/draw a cat --seed 7", user_id=1)
    first = await tg.wait_for_sent(lambda m: m.kind == "photo")
    legacy_click(tg, first, "g:size:1")
    resized = await tg.wait_for_sent(lambda m: m.kind == "photo", since=1)
    body = relay.calls[1].body
    assert (body["width"], body["height"], body["seed"]) == (768, 512, 7)
    assert resized.visible_text is not None and "768x512 · seed 7 · #2" in resized.visible_text
    assert [b["callback_data"] for b in resized.buttons()][1] == "g:resize:2"
    legacy_click(tg, first, "g:orig:1")
    original = await tg.wait_for_sent(lambda m: m.kind == "document")
    assert original.files == first.files
    assert len(relay.calls) == 2


async def test_button_works_after_a_restart(
    tg: FakeTelegram, relay: FakeRelay, tg_settings: Settings
) -> None:
    async with open_core(tg_settings) as core, running(core, tg):
        tg.user_sends(text="/draw a cat --seed 7", user_id=1)
        first = await tg.wait_for_sent(lambda m: m.kind == "photo")
    async with open_core(tg_settings) as core, running(core, tg):
        tg.user_clicks(first, "g:resize:1")
        again = await tg.wait_for_sent(lambda m: m.kind == "photo", since=1)
    body = relay.calls[1].body
    assert (body["width"], body["height"], body["seed"]) == (768, 512, 7)
    assert again.visible_text is not None and "#2" in again.visible_text


async def test_redelivered_update_after_restart_is_not_charged_twice(
    tg: FakeTelegram, relay: FakeRelay, tg_settings: Settings
) -> None:
    async with open_core(tg_settings) as core, running(core, tg):
        tg.user_sends(text="/draw a cat", user_id=1)
        update_id = tg.pending_updates[-1]["update_id"]
        first = await tg.wait_for_sent(lambda m: m.kind == "photo")
    async with open_core(tg_settings) as core, running(core, tg):
        tg.redeliver(update_id)
        again = await tg.wait_for_sent(lambda m: m.kind == "photo", since=1)
        history = await core.store.run(Store.history, "telegram:1", 10)
        quota = await core.account.quota(Requester("telegram", "1"), Place("telegram", "1"))
    assert len(relay.calls) == 1
    assert len(history) == 1 and history[0].status == "delivered"
    assert "received 1 of 20" in quota
    # Resent by Telegram's file id, not uploaded again.
    assert tg.calls_of("sendPhoto")[-1].params["photo"] == first.message["photo"][-1]["file_id"]
    assert again.files == first.files


async def test_edited_command_does_not_draw_again(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    message = tg.user_sends(text="/draw a cat", user_id=1)
    await tg.wait_for_sent(lambda m: m.kind == "photo")
    tg.user_edits(message, "/draw a dog")
    tg.user_sends(text="/quota", user_id=1)
    await tg.wait_for_sent(lambda m: m.kind == "text")
    assert len(relay.calls) == 1
    assert [m.kind for m in tg.sent] == ["photo", "text"]


async def test_redelivery_while_drawing_gets_no_second_reply(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    relay.latency = 0.5
    tg.user_sends(text="/draw a cat", user_id=1)
    update_id = tg.pending_updates[-1]["update_id"]
    await wait_for(lambda: relay.calls, what="the relay call")
    tg.redeliver(update_id)
    await tg.wait_delivered()
    await tg.wait_for_sent(lambda m: m.kind == "photo")
    await asyncio.sleep(0.2)
    assert [m.kind for m in tg.sent] == ["photo"]
    assert len(relay.calls) == 1


async def test_stale_file_id_falls_back_to_uploading(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends(text="/draw a cat", user_id=1)
    update_id = tg.pending_updates[-1]["update_id"]
    first = await tg.wait_for_sent(lambda m: m.kind == "photo")

    async def file_stored() -> bool:  # the adapter stores the file id just after sending
        generation = await tg_bot.store.run(Store.get, 1)  # and the kept copy lands beside
        return generation is not None and bool(generation.file_refs and generation.image_paths)

    await wait_for(file_stored, what="the file id to be stored")
    await tg_bot.store.run(Store.add_file_refs, 1, "telegram", ["AgACAgIAAxkBAAIgone"])
    tg.redeliver(update_id)
    again = await tg.wait_for_sent(lambda m: m.kind == "photo", since=1)
    assert again.files == first.files
    assert [c.status for c in tg.calls_of("sendPhoto")] == [200, 400, 200]
    assert len(relay.calls) == 1


async def test_a_user_who_blocked_the_bot_breaks_nothing(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core, caplog: pytest.LogCaptureFixture
) -> None:
    relay.latency = 0.3
    tg.user_sends(text="/draw a cat", user_id=1)
    await wait_for(lambda: relay.calls, what="the relay call")
    tg.block_bot(1)
    await tg.wait_for_call("sendPhoto")
    await tg.wait_for_call("sendMessage")
    assert tg.sent == []

    async def refunded() -> bool:  # never received, so never charged; the file is kept
        generation = await tg_bot.store.run(Store.get, 1)  # (downloaded beside the sending)
        return (
            generation is not None
            and generation.status == "failed"
            and bool(generation.image_paths)
        )

    await wait_for(refunded, what="the undelivered draw to be refunded")
    generation = await tg_bot.store.run(Store.get, 1)
    assert generation is not None and generation.error_kind == "send_failed"
    assert generation.image_paths
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_original_command_sends_ones_own_picture_free(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends(text="/draw a cat", user_id=1)
    photo = await tg.wait_for_sent(lambda m: m.kind == "photo")
    tg.user_sends(text="/original 1", user_id=1)
    document = await tg.wait_for_sent(lambda m: m.kind == "document")
    assert document.files == photo.files and len(relay.calls) == 1
    since = len(tg.sent)
    tg.user_sends(text="/original 1", user_id=2)  # not Ben's, and not posted in Ben's chat
    refusal = await tg.wait_for_sent(lambda m: m.chat_id == 2, since=since)
    assert refusal.text == "Drawing #1 was not found (or is not yours)."


@pytest.mark.env(MAX_CONCURRENT_DRAWS="1", DAILY_LIMIT="5")
async def test_a_waiting_draw_has_one_status_message_that_moves_and_can_cancel(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """One status message per waiting draw, replying to its /draw, edited in place and
    deleted when the picture comes; its cancel button refunds the draw."""
    relay.latency = 3.0
    tg.add_chat(GROUP, "supergroup")
    # one at a time: draws asked at once may be taken in any order (each is handled apart)
    tg.user_sends("/draw fox 1", 1, chat_id=GROUP, chat_type="supergroup")
    await wait_for(lambda: relay.in_flight, 10, "the first draw at the relay")
    tg.user_sends("/draw fox 2", 2, chat_id=GROUP, chat_type="supergroup")
    second = await tg.wait_for_sent(lambda m: "#1 in the queue" in (m.text or ""))
    tg.user_sends("/draw fox 3", 3, chat_id=GROUP, chat_type="supergroup")
    third = await tg.wait_for_sent(lambda m: "#2 in the queue" in (m.text or ""))
    assert second.reply_to_message_id is not None and len(second.buttons()) == 1

    def moved() -> bool:
        edits = [e for e in tg.edits if e["message_id"] == third.message_id]
        return any("#1 in the queue" in e["text"] for e in edits)

    await wait_for(moved, 10, "the third status to move up")
    cancel = third.buttons()[0]["callback_data"]
    assert cancel.startswith("g:cancel:")
    tg.user_clicks(third, cancel, user_id=3)
    said = await tg.wait_for_sent(lambda m: "was cancelled" in (m.text or ""))
    assert said.chat_id == GROUP and "no quota was used" in (said.text or "")
    await wait_for(lambda: len(photos_of(tg)) == 2, 15, "two photos")
    await wait_for(lambda: {second.message_id, third.message_id} <= {m for _, m in tg.deleted})
    rows = await tg_bot.store.run(Store.history, "telegram:3", 5)
    assert [r.status for r in rows] == ["failed"] and rows[0].error_kind == "cancelled"
    assert len(relay.calls) == 2


def photos_of(tg: FakeTelegram) -> list[SentMessage]:
    return [m for m in tg.sent if m.kind == "photo"]


async def test_original_right_after_a_photo_by_link_waits_for_the_kept_copy(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    """The photo went by the relay's link and the kept copy is still downloading: /original
    gets the file once it is in, not "no longer kept"."""
    relay.script(Reply.ok(image_delay=1.5, image_delay_agent="drawbot"))
    tg.user_sends(text="/draw a cat", user_id=1)
    await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert tg.url_fetches  # handed over by link: Telegram fetched it itself
    generation = await tg_bot.store.run(Store.get, 1)
    assert generation is not None and generation.image_paths == []  # not kept yet
    tg.user_sends(text="/original 1", user_id=1)
    document = await tg.wait_for_sent(lambda m: m.kind == "document", within=10)
    assert document.files and document.files[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert not [m for m in tg.sent if "no longer kept" in (m.text or "")]
