"""core.secrets: every shape of a secret is cut from a text, also inside longer encodings."""

from __future__ import annotations

import base64
import logging
import re
import sys
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from core.logs import RedactingFilter
from core.outcome import Refused
from core.params import DrawParams
from core.request import Place, Requester
from core.root import Core
from core.secrets import forms, scrub, scrub_secrets
from core.store import Store
from tests.fakes.relay import FakeRelay, Reply

API_KEY = "sk-relay-Key/with+odd=chars:0123456789abcdef"
TG_TOKEN = "7312345678:AAHk3vQx9ZpL2mN8rT5wY1uI4oE6aS7dF0g"
SECRETS = [API_KEY, TG_TOKEN, "MTAwMQ.discord-bot-token.SECRET-0123456789abcdef", "hook-secret-1"]


def shapes(secret: str) -> list[str]:
    """Every shape a relay or library might echo, computed independently of core.secrets."""
    found = []
    for text in (secret, f"Bearer {secret}"):
        found += [text, quote(text, safe=""), quote(text), quote_plus(text)]
        found.append(quote(quote(text, safe=""), safe=""))
        found.append(lower_escapes(quote(text, safe="")))
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(text.encode()).decode()
            found += [encoded, encoded.rstrip("=")]
    found += [secret.encode().hex(), secret.encode().hex().upper()]
    return found


def leaks(text: str, secret: str) -> bool:
    """Whether `text` still holds the secret in any of its shapes."""
    return any(shape in text for shape in shapes(secret) if len(shape) >= 8)


@pytest.mark.parametrize("secret", SECRETS)
def test_every_shape_is_scrubbed(secret: str) -> None:
    found = forms(SECRETS)
    for shape in shapes(secret):
        text = f"relay said: {shape} (request abc)"
        clean = scrub(text, found)
        assert shape not in clean, shape
        assert clean.startswith("relay said: ") and clean.endswith(" (request abc)")
        assert "***" in clean


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("urlsafe", [False, True])
def test_base64_inside_a_longer_string_at_every_offset(secret: str, urlsafe: bool) -> None:
    """Base64 of the secret inside a longer blob (a dumped request, Basic auth) changes with
    the secret's offset modulo 3: every offset is caught, and what is left of the secret's own
    characters is at most two at each end."""
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    found = forms(SECRETS)
    for offset in range(7):
        before = b"Authorization: Basic user:"[:offset] if offset else b""
        blob = encode(b"POST /volcv HTTP/1.1\r\n" + before + secret.encode() + b"\r\n\r\n{}")
        clean = scrub(blob.decode(), found)
        assert "***" in clean
        # no 8 characters in a row of the secret's encoding at any alignment survive
        for skip in range(3):
            middle = encode(secret.encode()[skip:]).decode().rstrip("=")
            assert not any(middle[i : i + 8] in clean for i in range(0, len(middle) - 8))


def test_innocent_text_is_left_alone() -> None:
    text = "Generation #12 failed: prompt_refused code=50412 http=400 (Bearer token missing)"
    assert scrub_secrets(text, SECRETS) == text
    assert scrub_secrets("", SECRETS) == ""
    assert scrub("anything", ()) == "anything"


def test_short_values_are_not_treated_as_secrets() -> None:
    assert forms(["abc", ""]) == ()
    assert scrub_secrets("abc abc", ["abc"]) == "abc abc"


def test_the_log_filter_scrubs_every_shape_also_in_exceptions() -> None:
    redacting = RedactingFilter(SECRETS)
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, "sent %s", (None,), None)
    record.args = (f"GET /bot{quote(TG_TOKEN, safe='')}/getMe",)
    try:
        raise RuntimeError("echo " + base64.b64encode(f"Bearer {API_KEY}".encode()).decode())
    except RuntimeError:
        record.exc_info = sys.exc_info()
    assert redacting.filter(record)
    assert record.getMessage() == "sent GET /bot***/getMe"
    assert record.exc_text is not None and "echo ***" in record.exc_text
    assert not leaks(record.getMessage() + record.exc_text, API_KEY)


@pytest.mark.parametrize("colon", [":", "%3A", "%3a"])
def test_an_unknown_telegram_token_in_a_url_is_scrubbed(colon: str) -> None:
    other = f"1234567890{colon}AAFz0Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0"
    assert RedactingFilter([]).scrub(f"url /bot{other}/getMe") == "url /bot***/getMe"


# -- what the relay echoes is stored and logged without the key -------------------------------

# A key with characters that URL-encoding changes; the relay of these tests expects it.
ODD_KEY = "sk-relay/Key+odd=chars:0123456789abcdef"


@pytest.fixture
async def relay() -> AsyncIterator[FakeRelay]:
    async with FakeRelay(api_key=ODD_KEY) as fake:
        yield fake
    assert fake.internal_errors == []


def lower_escapes(encoded: str) -> str:
    return re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)


def b64(text: str, *, before: str = "", urlsafe: bool = False) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode((before + text).encode()).decode()


ECHOES = [
    Reply.openai_error(401, message=f"invalid token {quote(ODD_KEY, safe='')}"),
    Reply.openai_error(403, message=f"GET /v1?key={quote_plus(ODD_KEY)} has no balance"),
    Reply.openai_error(401, message=f"header Bearer%20{lower_escapes(quote(ODD_KEY, safe=''))}"),
    Reply.volc_error(50400, message=f"Invalid header: Basic {b64('user:' + ODD_KEY)}"),
    Reply.volc_error(50400, message=f"auth {b64('Bearer ' + ODD_KEY, urlsafe=True)}"),
    Reply.raw(500, {"error": {"message": "dump " + b64(ODD_KEY, before="POST /\r\nX: ")}}),
    Reply.raw(400, {"code": 1, "message": "bytes " + ODD_KEY.encode().hex()}),
    Reply.raw(400, {"code": f"k={quote(ODD_KEY)}", "message": "bad", "request_id": ODD_KEY}),
]


@pytest.mark.env(YUNAPI_API_KEY=ODD_KEY)
@pytest.mark.parametrize("reply", ECHOES)
async def test_a_relay_echoing_the_key_in_any_shape_leaves_no_trace(
    core: Core, relay: FakeRelay, reply: Reply, caplog: pytest.LogCaptureFixture
) -> None:
    """The key URL-encoded, base64-encoded (alone or inside a longer blob) or as hex in the
    relay's error: neither the stored record nor the logs keep any shape of it."""
    caplog.set_level(logging.DEBUG)
    relay.default = reply
    asker = Requester("telegram", "1", "Alice", "en")
    outcome = await core.service.draw(asker, Place("telegram", "1"), fox())
    assert isinstance(outcome, Refused) and outcome.generation_id is not None

    def row(store: Store) -> Any:
        return store.sqlite.execute(
            "SELECT error_detail, error_code, relay_request_id FROM generations WHERE id = ?",
            [outcome.generation_id],
        ).fetchone()

    stored = " ".join(str(v) for v in await core.store.run(row))
    assert "***" in stored
    for text in (stored, caplog.text, outcome.text):
        assert not leaks(text, ODD_KEY), text
        for skip in range(3):  # nor 8 characters in a row of the key's base64 at any offset
            middle = b64(ODD_KEY[skip:]).rstrip("=")
            assert not any(middle[i : i + 8] in text for i in range(len(middle) - 8)), text


def fox() -> DrawParams:
    return DrawParams(prompt="a red fox in the snow")
