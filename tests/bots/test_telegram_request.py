"""python-telegram-bot's HTTP on aiohttp (bots/telegram/request.py): the real Bot against
FakeTelegram, a closed port and a server that never answers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

from bots.telegram.app import unreachable
from bots.telegram.request import AiohttpRequest, telegram_request
from core.http import cannot_connect
from tests.bots.conftest import TG_TOKEN
from tests.fakes.photo import make_photo
from tests.fakes.telegram import FakeTelegram


def test_socks_proxies_keep_httpx_and_http_proxies_go_through_aiohttp() -> None:
    assert isinstance(telegram_request("socks5://127.0.0.1:1080", 4), HTTPXRequest)
    assert isinstance(telegram_request("http://127.0.0.1:3128", 4), AiohttpRequest)
    assert isinstance(telegram_request("https://127.0.0.1:3128", 4), AiohttpRequest)
    assert isinstance(telegram_request(None, 4), AiohttpRequest)


async def test_an_upload_carries_its_bytes_and_every_parameter(tg: FakeTelegram) -> None:
    """Multipart: the file, and the JSON parameters as text fields beside it."""
    tg.add_chat(7)
    picture = make_photo(640, 480, seed=3)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("again", callback_data="r:1")]])
    async with Bot(TG_TOKEN, base_url=f"{tg.base_url}/bot", request=AiohttpRequest()) as bot:
        message = await bot.send_photo(7, photo=picture, caption="a fox 🦊", reply_markup=markup)
        await bot.send_chat_action(7, "typing")  # a form without files
    sent = await tg.wait_for_sent(lambda m: m.kind == "photo")
    assert sent.files == [picture] and sent.caption == "a fox 🦊" and sent.chat_id == 7
    assert sent.reply_markup == markup.to_dict()
    assert message.photo and message.photo[-1].file_id
    assert [c.status for c in tg.calls_of("sendChatAction")] == [200]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_a_network_error_naming_no_token() -> None:
    base = f"http://127.0.0.1:{closed_port()}/bot"
    request = AiohttpRequest()
    with pytest.raises(NetworkError) as raised:
        await Bot(TG_TOKEN, base_url=base, request=request).get_me()
    await request.shutdown()
    assert not isinstance(raised.value, TimedOut)
    assert TG_TOKEN not in str(raised.value)
    assert "refused the connection" in (cannot_connect(raised.value) or "")
    assert unreachable(raised.value, base).startswith("cannot reach Telegram at http://127.0.0.1:")


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A server that takes connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_no_answer_in_time_is_timed_out(silent_port: int) -> None:
    request = AiohttpRequest(read_timeout=0.2)
    base = f"http://127.0.0.1:{silent_port}/bot"
    with pytest.raises(TimedOut) as raised:
        await Bot(TG_TOKEN, base_url=base, request=request).get_me()
    await request.shutdown()
    assert TG_TOKEN not in str(raised.value)
