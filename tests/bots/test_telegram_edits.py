"""Editing a picture on Telegram: /draw replying to a photo (or an image sent as a file), and a
photo sent with the caption /draw, through the real PTB Application, FakeTelegram (getFile and
the file download) and FakeRelay (which must receive exactly the photo's bytes)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.root import Core
from core.store import Store
from tests.conftest import EDIT_KEY, EDIT_TABLE
from tests.fakes.png import make_png
from tests.fakes.relay import REQ_KEY, FakeRelay
from tests.fakes.telegram import FakeTelegram, SentMessage

PHOTO = make_png(640, 480, 3)
USER = 1


@pytest.fixture(autouse=True)
def accepts_edits(relay: FakeRelay) -> None:
    relay.req_keys |= {EDIT_KEY}


async def answered(tg: FakeTelegram, kind: str = "photo") -> SentMessage:
    return await tg.wait_for_sent(lambda m: m.kind == kind and m.chat_id == USER)


async def draws(core: Core) -> int:
    return len(await core.store.run(Store.history, f"telegram:{USER}", 100))


def kept_sources(core: Core) -> list[Path]:
    return sorted(core.settings.image_dir.rglob("*-source.*"))


def file_ids_fetched(tg: FakeTelegram) -> list[str]:
    return [str(call.params.get("file_id")) for call in tg.calls_of("getFile")]


@pytest.mark.env(MODELS_FILE=EDIT_TABLE)
async def test_a_draw_replying_to_a_photo_edits_that_photo(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    photo = tg.user_sends("", user_id=USER, photo=PHOTO)
    tg.user_sends("/draw make it blue", user_id=USER, reply_to=photo)
    sent = await answered(tg)
    assert sent.caption is not None and sent.caption.startswith("make it blue\n")
    (call,) = relay.calls
    assert call.body["req_key"] == EDIT_KEY and call.sources == [PHOTO]
    assert file_ids_fetched(tg) == [photo["photo"][-1]["file_id"]]  # the largest size
    assert len(tg.file_downloads) == 1
    assert kept_sources(tg_bot) == []  # the input lived only in memory (KEEP_INPUT_IMAGES off)


@pytest.mark.env(MODELS_FILE=EDIT_TABLE)
async def test_a_photo_sent_with_the_caption_draw_edits_it(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends("/draw in watercolor", user_id=USER, photo=PHOTO)
    sent = await answered(tg)
    assert sent.caption is not None and sent.caption.startswith("in watercolor\n")
    assert relay.calls[0].sources == [PHOTO] and relay.calls[0].body["req_key"] == EDIT_KEY


@pytest.mark.env(MODELS_FILE=EDIT_TABLE)
async def test_a_reply_without_a_prompt_takes_the_captions_and_edits_the_picture(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    picture = tg.user_sends("a cat on a roof", user_id=USER, photo=PHOTO)
    tg.user_sends("/draw", user_id=USER, reply_to=picture)
    sent = await answered(tg)
    assert sent.caption is not None and sent.caption.startswith("a cat on a roof\n")
    assert relay.calls[0].body["prompt"] == "a cat on a roof"
    assert relay.calls[0].sources == [PHOTO]


@pytest.mark.env(MODELS_FILE=EDIT_TABLE)
async def test_an_image_sent_as_a_file_is_edited_and_any_other_file_refused(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    image = tg.user_sends("", user_id=USER, document=PHOTO, file_name="a.png")
    tg.user_sends("/draw sharper", user_id=USER, reply_to=image)
    await answered(tg)
    assert relay.calls[0].sources == [PHOTO]
    pdf = tg.user_sends(
        "", user_id=USER, document=b"%PDF-1.7\n...", file_name="a.pdf", mime_type="application/pdf"
    )
    tg.user_sends("/draw sharper", user_id=USER, reply_to=pdf)
    said = await answered(tg, "text")
    assert said.text is not None
    assert said.text.startswith("That file is not a picture I can edit: send a PNG, JPEG or WebP")
    assert len(relay.calls) == 1 and await draws(tg_bot) == 1


@pytest.mark.env(MODELS_FILE=EDIT_TABLE, MAX_INPUT_IMAGE_BYTES="2000")
async def test_a_picture_over_the_cap_is_refused_before_download_and_charge(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    assert len(PHOTO) > 2000
    photo = tg.user_sends("", user_id=USER, photo=PHOTO)
    tg.user_sends("/draw make it blue", user_id=USER, reply_to=photo)
    said = await answered(tg, "text")
    assert said.text is not None
    assert said.text.startswith("That picture is too large to edit (")
    assert "the most is 2 KB" in said.text and "no quota was used" in said.text
    assert tg.calls_of("getFile") == [] and tg.file_downloads == []
    assert relay.calls == [] and await draws(tg_bot) == 0


@pytest.mark.env(MODELS_FILE=EDIT_TABLE)
async def test_a_chosen_model_that_cannot_edit_is_refused_naming_the_editors(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    photo = tg.user_sends("", user_id=USER, photo=PHOTO)
    tg.user_sends("/draw make it blue --model plain", user_id=USER, reply_to=photo)
    said = await answered(tg, "text")
    assert said.text is not None and said.text.startswith("The model plain cannot edit pictures.")
    assert "jimeng-edit" in said.text and "--model" in said.text
    assert tg.file_downloads == [] and relay.calls == [] and await draws(tg_bot) == 0


async def test_without_a_model_that_edits_a_photo_replied_to_is_ignored(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    photo = tg.user_sends("", user_id=USER, photo=PHOTO)
    tg.user_sends("/draw a fox", user_id=USER, reply_to=photo)
    tg.user_sends("/draw a dog", user_id=USER, photo=PHOTO)
    await tg.wait_for_sent(lambda m: m.kind == "photo" and "a dog" in (m.caption or ""))
    await tg.wait_for_sent(lambda m: m.kind == "photo" and "a fox" in (m.caption or ""))
    assert all(c.body["req_key"] == REQ_KEY and c.sources == [] for c in relay.calls)
    assert "binary_data_base64" not in relay.calls[0].body
    assert tg.calls_of("getFile") == [] and tg.file_downloads == []


@pytest.mark.env(MODELS_FILE=EDIT_TABLE, KEEP_INPUT_IMAGES="on")
async def test_a_kept_input_is_redrawn_by_the_again_button(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends("/draw in watercolor", user_id=USER, photo=PHOTO)
    first = await answered(tg)
    (kept,) = kept_sources(tg_bot)
    assert kept.name == "1-source.png"
    tg.user_clicks(first, "g:again:1")
    await tg.wait_for_sent(lambda m: m.kind == "photo" and "#2" in (m.caption or ""))
    assert [c.sources for c in relay.calls] == [[PHOTO], [PHOTO]]
    assert len(tg.file_downloads) == 1  # again reads the kept copy, not Telegram's
    await tg_bot.expire(now=time.time() + 31 * 86400)
    assert kept_sources(tg_bot) == []


@pytest.mark.env(MODELS_FILE=EDIT_TABLE)
async def test_again_under_an_edit_whose_input_is_not_kept_says_to_reply_again(
    tg: FakeTelegram, relay: FakeRelay, tg_bot: Core
) -> None:
    tg.user_sends("/draw in watercolor", user_id=USER, photo=PHOTO)
    first = await answered(tg)
    tg.user_clicks(first, "g:again:1")
    said = await answered(tg, "text")
    assert said.text is not None and "Reply to the picture again with /draw" in said.text
    assert len(relay.calls) == 1 and await draws(tg_bot) == 1
