"""A real `python -m bots telegram` over TLS: the Bot API, the relay call and the kept copy's
download all on https, through the bot's own event loop (uvloop) and its TLS code paths, with
certificates from a test CA (trustme) that the child is told to trust by SSL_CERT_FILE, as a
deployment behind a private CA or a TLS-inspecting proxy would be. Without that trust, the
certificates are refused and the user is told so, with no quota used.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from tests.bots.conftest import TG_BOT, TG_TOKEN
from tests.conftest import API_KEY
from tests.crash.conftest import NO_QUOTA_USED, WITHIN, Deployment
from tests.fakes.base import wait_for
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
