"""The real python-telegram-bot Application against FakeTelegram (no mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.base import served, wait_for
from tests.fakes.png import make_png
from tests.fakes.telegram import FakeTelegram, utf16_len

TOKEN = "123:ABC"
GROUP = -1001234


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, bot_username="drawbot_test_bot") as fake:
        yield fake
    assert fake.internal_errors == []


def build_app(tg: FakeTelegram, rate_limiter: AIORateLimiter | None = None) -> Application:
    """The Application as production builds it, pointed at the fake."""
    builder = (
        ApplicationBuilder().token(tg.token).base_url(f"{tg.base_url}/bot").concurrent_updates(True)
    )
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    return builder.build()


@contextlib.asynccontextmanager
async def polling(app: Application, poll_timeout: int = 10) -> AsyncIterator[Application]:
    """Run ``app`` with long polling; stop it on exit."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=poll_timeout)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


@contextlib.asynccontextmanager
async def bot_of(tg: FakeTelegram, **kwargs: object) -> AsyncIterator[Bot]:
    """An initialized Application's bot, without polling."""
    app = build_app(tg, **kwargs)  # type: ignore[arg-type]
    async with app:
        yield app.bot


def polling_now(tg: FakeTelegram) -> bool:
    """A getUpdates request is waiting in the fake."""
    return any(c.status is None for c in tg.calls_of("getUpdates"))


async def draw(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"drawing: {' '.join(context.args or [])}")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


# ------------------------------------------------------------------------------ handlers


async def test_commands_buttons_and_callback_answers(tg: FakeTelegram) -> None:
    async def offer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again:1")]])
        await update.effective_message.reply_text("done", reply_markup=keyboard)

    async def again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("working")

    app = build_app(tg)
    app.add_handler(CommandHandler("draw", offer))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, echo))
    app.add_handler(CallbackQueryHandler(again))
    async with polling(app):
        msg = tg.user_sends(text="/draw a cat", user_id=1)
        sent = await tg.wait_for_sent()
        assert (sent.kind, sent.text, sent.reply_to_message_id) == ("text", "done", None)
        assert sent.buttons() == [{"text": "Again", "callback_data": "again:1"}]
        tg.user_edits(msg, text="edited")
        await tg.wait_for_sent(lambda m: m.text == "echo: edited")

        with pytest.raises(ValueError, match="no button"):
            tg.user_clicks(sent, data="nope")
        query_id = tg.user_clicks(sent, data="again:1")
        await wait_for(lambda: tg.callback_answers, what="the answer")
        assert tg.callback_answers[0]["callback_query_id"] == query_id
        with pytest.raises(BadRequest, match="Query is too old"):
            await app.bot.answer_callback_query(query_id)  # answered once only

        cmd = tg.user_sends(text="/draw", user_id=2, chat_id=GROUP, chat_type="supergroup")
        sent = await tg.wait_for_sent(lambda m: m.chat_id == GROUP)
        assert sent.reply_to_message_id == cmd["message_id"]  # PTB quotes in groups
        assert sent.message["reply_to_message"]["text"] == "/draw"


async def test_run_polling_in_a_thread_stops_from_a_handler(tg: FakeTelegram) -> None:
    async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        context.application.stop_running()

    app = build_app(tg)
    app.add_handler(CommandHandler("draw", draw))
    app.add_handler(CommandHandler("stop", stop))
    tg.user_sends(text="/draw x")
    tg.user_sends(text="/stop")
    # run_polling owns an event loop; stop_signals=None because signals need the main thread.
    await asyncio.wait_for(
        asyncio.to_thread(app.run_polling, stop_signals=None, poll_interval=0), timeout=10
    )
    assert [m.text for m in tg.sent] == ["drawing: x"]
    assert tg.pending_updates == []  # the final getUpdates confirmed both


# ------------------------------------------------------------------------ strictness


async def test_lengths_replies_buttons_and_plain_text_only(tg: FakeTelegram) -> None:
    tg.add_chat(1)
    async with bot_of(tg) as bot:
        png = make_png(8, 8)
        with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
            await bot.send_photo(1, png, caption="😀" * 513)  # 513 chars, 1026 UTF-16 units
        await bot.send_photo(1, png, caption="😀" * 512)
        with pytest.raises(BadRequest, match=r"^Message is too long$"):
            await bot.send_message(1, "x" * 4097)
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(1, "   ")
        with pytest.raises(BadRequest, match="Unsupported parse_mode"):
            await bot.send_message(1, "<b>x</b>", parse_mode="HTML")
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(1, "hi", reply_markup=too_long)

        with pytest.raises(BadRequest, match="Message to be replied not found"):
            await bot.send_message(1, "hi", reply_to_message_id=999)
        sent = await bot.send_message(
            1, "hi", reply_to_message_id=999, allow_sending_without_reply=True
        )
        assert sent.reply_to_message is None
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(42, "nobody here")
        tg.block_bot(1)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(1, "hi")
    assert utf16_len("😀a") == 3


async def test_unknown_token_and_method(tg: FakeTelegram) -> None:
    wrong = ApplicationBuilder().token("999:WRONG").base_url(f"{tg.base_url}/bot").build()
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    async with bot_of(tg) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("fooBarBaz")
    assert [c.status for c in tg.calls_of("fooBarBaz")] == [404]


# ---------------------------------------------------------------------------- updates


async def test_offset_confirms_and_redeliver(tg: FakeTelegram) -> None:
    seen: list[int] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)

    tg.user_sends(text="one")
    tg.user_sends(text="two")
    first = tg.pending_updates[0]["update_id"]
    app = build_app(tg)
    app.add_handler(MessageHandler(filters.ALL, record))
    async with polling(app):
        await tg.wait_delivered()
        await wait_for(lambda: len(seen) == 2, what="two updates")
    assert tg.pending_updates == []  # stop() confirmed them with a last getUpdates

    app = build_app(tg)
    app.add_handler(MessageHandler(filters.ALL, record))
    async with polling(app):
        # The new poller asked and got nothing: a long poll is waiting, nothing was redelivered.
        await wait_for(lambda: polling_now(tg), 2, "a long poll")
        assert len(seen) == 2
        tg.redeliver(first)
        await wait_for(lambda: len(seen) == 3, what="the redelivered update")
    assert seen.count(first) == 2


async def test_get_updates_offset_semantics_and_conflict(tg: FakeTelegram) -> None:
    async with bot_of(tg) as bot, bot_of(tg) as other:
        tg.user_sends(text="hi")
        update_id = tg.pending_updates[0]["update_id"]
        assert [u.update_id for u in await bot.get_updates()] == [update_id]
        assert [u.update_id for u in await bot.get_updates()] == [update_id]  # not confirmed
        assert await bot.get_updates(offset=update_id + 1) == ()
        assert tg.pending_updates == []

        waiting = asyncio.create_task(bot.get_updates(timeout=5))
        await wait_for(lambda: polling_now(tg), 2, "a long poll")
        assert await other.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await waiting


async def test_long_poll_wakes_on_push_and_shutdown_is_fast(tg: FakeTelegram) -> None:
    app = build_app(tg)
    app.add_handler(CommandHandler("draw", draw))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=30)
        await wait_for(lambda: polling_now(tg), 2, "a long poll")
        started = time.monotonic()
        tg.user_sends(text="/draw fast")
        await tg.wait_for_sent(within=2)
        assert time.monotonic() - started < 1.0  # the long poll returned at once

        started = time.monotonic()
        await app.updater.stop()
        await app.stop()
    assert time.monotonic() - started < 2.0
    assert {c.status for c in tg.calls_of("getUpdates")} <= {200, 499}


# ---------------------------------------------------------------------------- flood


async def test_flood_raises_retry_after(tg: FakeTelegram) -> None:
    tg.add_chat(1)
    tg.flood(method="sendMessage", times=1, retry_after=1)
    async with bot_of(tg) as bot:
        with pytest.raises(RetryAfter) as err:
            await bot.send_message(1, "hi")
        assert err.value._retry_after.total_seconds() == 1
        await bot.send_message(1, "hi")  # only the next call was flooded
    assert [c.status for c in tg.calls_of("sendMessage")] == [429, 200]


async def test_rate_limiter_retries_after_flood(tg: FakeTelegram) -> None:
    tg.add_chat(1)
    tg.flood(method="sendPhoto", times=1, retry_after=1)
    async with bot_of(tg, rate_limiter=AIORateLimiter(max_retries=1)) as bot:
        started = time.monotonic()
        await bot.send_photo(1, make_png(16, 16))
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in tg.calls_of("sendPhoto")] == [429, 200]
    assert len(tg.sent) == 1


# ---------------------------------------------------------------------------- media


async def test_photo_upload_file_id_reuse_and_documents(tg: FakeTelegram) -> None:
    tg.add_chat(1)
    png = make_png(640, 480)
    async with bot_of(tg) as bot:
        msg = await bot.send_photo(1, png, caption="a cat")
        largest = msg.photo[-1]
        assert (largest.width, largest.height) == (640, 480)
        assert [p.width for p in msg.photo] == [320, 640]

        again = await bot.send_photo(1, largest.file_id)
        assert again.photo[-1].file_unique_id == largest.file_unique_id
        assert tg.sent[-1].files == [png]

        with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
            await bot.send_photo(1, "AgACAgIAAxkBAAIunknown")
        with pytest.raises(BadRequest, match="Image_process_failed"):
            await bot.send_photo(1, b"not an image")
        with pytest.raises(BadRequest, match="Photo_invalid_dimensions"):
            await bot.send_photo(1, make_png(2000, 40))
        with pytest.raises(BadRequest, match="Photo_save_file_invalid"):
            await bot.send_photo(1, png + b"\0" * (10 * 1024 * 1024))
        doc = await bot.send_document(1, b"%PDF-1.4", filename="a.pdf")
        assert doc.document is not None and doc.document.mime_type == "application/pdf"
        with pytest.raises(BadRequest, match="Can't use file of type document as photo"):
            await bot.send_photo(1, doc.document.file_id)
    assert [m.kind for m in tg.sent] == ["photo", "photo", "document"]


async def test_media_group_with_attach(tg: FakeTelegram) -> None:
    tg.add_chat(1)
    first, second = make_png(32, 32, seed=1), make_png(32, 64, seed=2)
    async with bot_of(tg) as bot:
        messages = await bot.send_media_group(
            1,
            [
                InputMediaPhoto(first, caption="one"),
                InputMediaPhoto(second),
            ],
        )
        assert len(messages) == 2
        assert messages[0].media_group_id == messages[1].media_group_id is not None
        assert messages[0].caption == "one" and messages[1].caption is None
        with pytest.raises(BadRequest, match="2-10 items"):
            await bot.send_media_group(1, [InputMediaPhoto(first)])
    record = tg.sent[0]
    assert record.kind == "media_group" and record.files == [first, second]
    assert record.caption == record.visible_text == "one"
    assert [m["message_id"] for m in record.messages] == [m.message_id for m in messages]
    assert "attach://" in str(tg.calls_of("sendMediaGroup")[0].params["media"])


# ---------------------------------------------------------------------- chats/commands


async def test_admins_commands_and_chat_actions(tg: FakeTelegram) -> None:
    tg.user_sends(text="hi", user_id=6, chat_id=GROUP, chat_type="supergroup")
    tg.set_admins(GROUP, {5}, owner=7)
    tg.add_chat(1)
    async with bot_of(tg) as bot:
        assert (await bot.get_chat_member(GROUP, 7)).status == "creator"
        assert (await bot.get_chat_member(GROUP, 6)).status == "member"
        assert (await bot.get_chat_member(GROUP, 5)).status == "administrator"
        with pytest.raises(BadRequest, match="User not found"):
            await bot.get_chat_member(GROUP, 404)

        await bot.set_my_commands([BotCommand("draw", "Draw a picture")])
        await bot.set_my_commands([BotCommand("draw", "画图")], language_code="zh")
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Draw", "uppercase is refused")])
        assert tg.commands_for() == [{"command": "draw", "description": "Draw a picture"}]
        assert tg.commands_for("default", "zh") == [{"command": "draw", "description": "画图"}]

        await bot.send_chat_action(1, "upload_photo")
        with pytest.raises(BadRequest, match="Wrong parameter action"):
            await bot.send_chat_action(1, "drawing")
    assert tg.chat_actions == [(1, "upload_photo")]


async def test_webhook_blocks_polling_until_deleted(tg: FakeTelegram) -> None:
    tg.user_sends(text="hi")
    async with bot_of(tg) as bot:
        with pytest.raises(BadRequest, match="https url must be provided"):
            await bot.set_webhook("http://insecure.example/hook")
        await bot.set_webhook("https://bot.example/hook")
        assert tg.webhook_url == "https://bot.example/hook"
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        await bot.delete_webhook()
        assert len(await bot.get_updates()) == 1


@contextlib.asynccontextmanager
async def image_site(files: dict[str, tuple[bytes, str]]) -> AsyncIterator[str]:
    """A small HTTP server on 127.0.0.1 serving `files` (name -> body, content type)."""
    from aiohttp import web

    async def serve(request: web.Request) -> web.Response:
        found = files.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404, text="gone")
        return web.Response(body=found[0], content_type=found[1])

    app = web.Application()
    app.router.add_get("/{name}", serve)
    async with served(app) as url:
        yield url


async def test_photo_by_url_is_fetched_and_refused_like_telegram(tg: FakeTelegram) -> None:
    """sendPhoto with an http URL: the fake fetches it; over 5 MB, unreachable, expired or
    not an image, it is refused as Telegram refuses it (and nothing is sent)."""
    tg.add_chat(1)
    png = make_png(640, 480)
    big = png + b"\0" * (5 * 1024 * 1024)
    files = {"a.png": (png, "image/png"), "big.png": (big, "image/png")}
    files["page.html"] = (b"<html></html>", "text/html")
    async with image_site(files) as site, bot_of(tg) as bot:
        msg = await bot.send_photo(1, f"{site}/a.png", caption="a cat")
        assert msg.photo[-1].width == 640 and tg.sent[-1].files == [png]
        with pytest.raises(BadRequest, match="Failed to get http url content"):
            await bot.send_photo(1, f"{site}/big.png")
        with pytest.raises(BadRequest, match="Failed to get http url content"):
            await bot.send_photo(1, f"{site}/expired.png")
        with pytest.raises(BadRequest, match="Wrong type of the web page content"):
            await bot.send_photo(1, f"{site}/page.html")
        with pytest.raises(BadRequest, match="Failed to get http url content"):
            await bot.send_photo(1, "http://127.0.0.1:9/unreachable.png")
        with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
            await bot.send_document(1, f"{site}/a.png")
    assert len(tg.sent) == 1
    assert [url.rpartition("/")[2] for url in tg.url_fetches] == [
        "a.png",
        "big.png",
        "expired.png",
        "page.html",
        "unreachable.png",
    ]
