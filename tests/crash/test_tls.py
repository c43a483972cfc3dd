"""A real `python -m bots telegram` (and `discord`) over TLS: the platform's API (and Discord's
gateway on wss), the relay call and the pictures' downloads all on https, through the bot's
own event loop (uvloop) and its TLS code paths, with
certificates from a test CA (trustme) that the child is told to trust by SSL_CERT_FILE, as a
deployment behind a private CA or a TLS-inspecting proxy would be. Without that trust, the
certificates are refused and the user is told so, with no quota used.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from tests.bots.conftest import TG_BOT, TG_TOKEN
from tests.conftest import API_KEY, child_env
from tests.crash.conftest import NO_QUOTA_USED, WITHIN, Deployment
from tests.fakes.base import wait_for
from tests.fakes.discord import FakeDiscord
from tests.fakes.relay import FakeRelay
from tests.fakes.telegram import FakeTelegram


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def served_as_127_0_0_1(ca: trustme.CA) -> ssl.SSLContext:
    """A server's side: a certificate for 127.0.0.1 signed by the test CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@contextlib.asynccontextmanager
async def fakes(
    ca: trustme.CA, *, telegram_tls: bool
) -> AsyncIterator[tuple[FakeTelegram, FakeRelay]]:
    """The relay on https; Telegram on https too when `telegram_tls` (its servers trust the
    test CA when they fetch a photo's link)."""
    tg = FakeTelegram(token=TG_TOKEN, bot_username=TG_BOT)
    relay = FakeRelay(api_key=API_KEY)
    relay.tls = served_as_127_0_0_1(ca)
    if telegram_tls:
        tg.tls = served_as_127_0_0_1(ca)
    tg.trust = ssl.create_default_context()
    ca.configure_trust(tg.trust)
    async with tg, relay:
        yield tg, relay
    assert tg.internal_errors == [] and relay.internal_errors == []


async def test_a_draw_over_tls(ca: trustme.CA, ca_file: Path, tmp_path: Path) -> None:
    async with fakes(ca, telegram_tls=True) as (tg, relay):
        assert tg.base_url.startswith("https://") and relay.base_url.startswith("https://")
        deploy = Deployment(tg, relay, tmp_path)
        try:
            await deploy.start("bot", SSL_CERT_FILE=str(ca_file))  # polls Telegram over TLS
            await deploy.draw(1)
            photo = await tg.wait_for_sent(lambda m: m.chat_id == 1 and m.kind == "photo", WITHIN)
            assert len(relay.calls) == 1
            # the photo went as the relay's https link, fetched by Telegram
            assert tg.url_fetches and tg.url_fetches[0].startswith(f"{relay.base_url}/images/")
            await wait_for(lambda: deploy.row_of(1)["image_paths"], WITHIN, "the kept copy")
            row = deploy.row_of(1)
            assert row["status"] == "delivered" and row["file_refs"]["telegram"]
            (kept,) = row["image_paths"]
            assert (deploy.images / kept).read_bytes() == photo.files[0]  # fetched over TLS
        finally:
            for bot in deploy.bots:
                await bot.stop()


async def test_an_untrusted_certificate_is_refused(ca: trustme.CA, tmp_path: Path) -> None:
    """The relay's certificate is signed by a CA the bot does not trust (no SSL_CERT_FILE):
    no connection is made, the user hears that, and no quota is used."""
    async with fakes(ca, telegram_tls=False) as (tg, relay):
        deploy = Deployment(tg, relay, tmp_path)
        try:
            bot = await deploy.start("bot")
            await deploy.draw(1)
            told = await tg.wait_for_sent(lambda m: m.chat_id == 1 and m.kind == "text", WITHIN)
            assert NO_QUOTA_USED in (told.visible_text or "")
            assert "cannot reach its image service" in (told.visible_text or "")
            assert relay.calls == []  # the TLS handshake failed before any request
            await deploy.status_becomes(1, "failed")
            assert deploy.counted(1) == 0
            # the operator's log says why, as the record does
            assert "certificate verify failed" in deploy.row_of(1)["error_detail"]
            assert "kind=cannot_connect relay_request_id=None: cannot_connect" in bot.log()
            assert "certificate verify failed" in bot.log()
        finally:
            for started in deploy.bots:
                await started.stop()


async def test_a_discord_draw_over_tls(ca: trustme.CA, ca_file: Path, tmp_path: Path) -> None:
    """discord.py's REST and gateway (wss) and the picture's download (Discord uploads the
    bytes) over TLS, in a `python -m bots discord` child."""
    dc = FakeDiscord(token="discord-tls-token", application_id=1001)
    dc.tls = served_as_127_0_0_1(ca)
    relay = FakeRelay(api_key=API_KEY)
    relay.tls = served_as_127_0_0_1(ca)
    async with dc, relay:
        dc.add_guild(guild_id=10, name="Test", channel_ids=[20])
        assert dc.gateway_url.startswith("wss://")
        env = child_env(
            YUNAPI_BASE_URL=relay.base_url,
            YUNAPI_API_KEY=API_KEY,
            DISCORD_BOT_TOKEN=dc.token,
            DISCORD_API_BASE_URL=dc.api_base_url,
            DISCORD_SYNC_COMMANDS="on",
            DATABASE_PATH=str(tmp_path / "data" / "bot.db"),
            IMAGE_DIR=str(tmp_path / "images"),
            DEFAULT_LANGUAGE="en",
            SSL_CERT_FILE=str(ca_file),
        )
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bots", "discord"),
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await dc.wait_ready(within=WITHIN)  # identified over wss
            await dc.wait_for_sync(within=WITHIN)
            asked = dc.slash_command("draw", {"prompt": "a cat"}, user_id=5)
            reply = await dc.wait_for_response(asked, WITHIN, predicate=lambda m: bool(m.files))
            # downloaded from the relay over TLS, then kept and uploaded, the same bytes
            (kept,) = (tmp_path / "images").rglob("*.png")
            assert reply.files[0][1] == kept.read_bytes()
            assert kept.read_bytes().startswith(b"\x89PNG") and len(relay.calls) == 1
        finally:
            if process.returncode is None:
                process.terminate()
            _, err = await asyncio.wait_for(process.communicate(), WITHIN)
        assert process.returncode == 0, err.decode()
    assert dc.internal_errors == [] and relay.internal_errors == []
