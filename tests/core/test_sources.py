"""Editing a picture (core/sources.py): which model, the checks before anything is charged,
and the input kept or not, against a real store and the fake relay."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from core.answer import Pictures, Say
from core.config import Settings
from core.models import Model, ModelTable, load_models
from core.outcome import Delivered, Refused
from core.params import DrawParams
from core.request import Picture, Place, Request, Requester
from core.root import Core
from core.sources import editor
from core.store import Store
from tests.conftest import EDIT_KEY, EDIT_TABLE
from tests.fakes.png import make_png
from tests.fakes.relay import REQ_KEY, FakeRelay

ALICE = Requester("telegram", "1", "Alice", "en")
LI = Requester("telegram", "2", "Li", "zh-CN")
DM = Place("telegram", "1")
PHOTO = make_png(300, 200, 5)


class Photo:
    """A picture as an adapter brings it: counts its downloads."""

    def __init__(self, data: bytes = PHOTO, size: int | None = None) -> None:
        self.data = data
        self.fetches = 0
        self.picture = Picture(self.fetch, size)

    async def fetch(self) -> bytes:
        self.fetches += 1
        return self.data


async def broken() -> bytes:
    raise ConnectionResetError("the platform hung up")


@pytest.fixture(autouse=True)
def accepts_edits(relay: FakeRelay) -> None:
    relay.req_keys |= {EDIT_KEY}


def ask(text: str, picture: Picture | None, who: Requester = ALICE) -> Request:
    return Request(who, DM, text=text, picture=picture, source_key=f"t:{time.monotonic()}")


async def rows(core: Core) -> int:
    return len(await core.store.run(Store.history, ALICE.key, 100))


def kept_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def sources_in(settings: Settings) -> list[Path]:
    return list(settings.image_dir.rglob("*-source.*"))


async def test_without_a_model_that_edits_the_picture_is_ignored(
    core: Core, relay: FakeRelay
) -> None:
    photo = Photo()
    answer = await core.front.handle(ask("/draw a fox", photo.picture))
    assert isinstance(answer, Pictures)
    assert photo.fetches == 0  # never downloaded
    assert relay.calls[0].body["req_key"] == REQ_KEY and relay.calls[0].sources == []


@pytest.mark.env(MODELS_FILE=EDIT_TABLE)
async def test_the_picture_goes_to_the_model_that_edits(
    core: Core, relay: FakeRelay, settings: Settings
) -> None:
    photo = Photo()
    answer = await core.front.handle(ask("/draw make it blue", photo.picture))
    assert isinstance(answer, Pictures), answer
    call = relay.calls[0]
    assert call.body["req_key"] == EDIT_KEY and call.sources == [PHOTO]
    generation = await core.store.run(Store.get, answer.generation.id)
    assert generation is not None and generation.params.model == "jimeng-edit"
    assert generation.source_path == ""  # an edit, its input not kept (the default)
    assert sources_in(settings) == []
    # a draw without a picture stays with the default model
    assert isinstance(await core.front.handle(ask("/draw a fox", None)), Pictures)
    assert relay.calls[1].body["req_key"] == REQ_KEY and relay.calls[1].sources == []


@pytest.mark.env(MODELS_FILE=EDIT_TABLE, MAX_INPUT_IMAGE_BYTES="5000")
@pytest.mark.parametrize(
    ("photo", "said"),
    [
        (Photo(size=6_000_000), "That picture is too large to edit (6 MB); the most is 5 KB."),
        (Photo(make_png(1200, 900, 1)), "That picture is too large to edit"),
        (Photo(b"%PDF-1.7 not a picture"), "That file is not a picture I can edit"),
    ],
)
async def test_a_picture_too_large_or_not_a_picture_is_refused_before_any_charge(
    core: Core, relay: FakeRelay, photo: Photo, said: str
) -> None:
    answer = await core.front.handle(ask("/draw make it blue", photo.picture))
    assert isinstance(answer, Say) and answer.text.startswith(said)
    assert "no quota was used" in answer.text
    assert photo.fetches == (0 if photo.picture.size else 1)  # declared too large: not fetched
    assert relay.calls == [] and await rows(core) == 0


@pytest.mark.env(MODELS_FILE=EDIT_TABLE)
async def test_a_picture_that_cannot_be_fetched_is_said_so_in_both_languages(
    core: Core, relay: FakeRelay
) -> None:
    for who, said in ((ALICE, "I could not download the picture"), (LI, "无法下载要编辑的图片")):
        answer = await core.front.handle(ask("/draw x", Picture(broken), who))
        assert isinstance(answer, Say) and answer.text.startswith(said)
    assert relay.calls == [] and await rows(core) == 0


@pytest.mark.env(MODELS_FILE=EDIT_TABLE)
async def test_a_chosen_model_that_cannot_edit_is_refused_naming_those_that_can(
    core: Core, relay: FakeRelay
) -> None:
    photo = Photo()
    params = DrawParams("make it blue", model="plain")
    outcome = await core.service.draw(ALICE, DM, params, picture=photo.picture)
    assert isinstance(outcome, Refused) and outcome.reason == "model_cannot_edit"
    assert outcome.text == (
        "The model plain cannot edit pictures. Models that can: jimeng-edit "
        "(choose one with --model NAME, e.g. --model jimeng-edit)."
    )
    assert photo.fetches == 0 and relay.calls == [] and await rows(core) == 0


def test_the_editor_is_the_choice_then_the_chats_then_the_default_then_the_first() -> None:
    table = load_models(Path(EDIT_TABLE))
    assert editor(table, "jimeng-edit", None) == table.get("jimeng-edit")
    assert editor(table, "plain", None) is None  # chosen, and cannot edit
    assert editor(table, "jimeng21", None) == table.get("jimeng-edit")  # not chosen
    assert editor(table, "jimeng21", "plain") == table.get("jimeng-edit")
    # the parser fills in the chat's model when none is chosen: that is no choice either
    assert editor(table, "plain", "plain") == table.get("jimeng-edit")
    second = ModelTable((*table.models, _renamed(table, "jimeng-edit", "edit2")), "jimeng21")
    assert editor(second, "jimeng21", "edit2") == second.get("edit2")  # the chat's default
    assert editor(second, "jimeng21", None) == second.get("jimeng-edit")  # the first


def _renamed(table: ModelTable, name: str, new: str) -> Model:
    model = table.get(name)
    assert model is not None
    return replace(model, name=new)


@pytest.mark.env(MODELS_FILE=EDIT_TABLE)
async def test_again_under_an_edit_whose_input_is_not_kept_says_so_and_charges_nothing(
    core: Core, relay: FakeRelay
) -> None:
    answer = await core.front.handle(ask("/draw make it blue", Photo().picture))
    assert isinstance(answer, Pictures)
    again = Request(ALICE, DM, button=f"g:again:{answer.generation.id}")
    said = await core.front.handle(again)
    assert isinstance(said, Say)
    assert said.text.startswith(f"Drawing #{answer.generation.id} edited a picture that is not")
    assert len(relay.calls) == 1 and await rows(core) == 1


@pytest.mark.env(MODELS_FILE=EDIT_TABLE, KEEP_INPUT_IMAGES="on", IMAGE_RETENTION_DAYS="30")
async def test_a_kept_input_is_redrawn_by_again_and_removed_by_retention(
    core: Core, relay: FakeRelay, settings: Settings
) -> None:
    answer = await core.front.handle(ask("/draw make it blue", Photo().picture))
    assert isinstance(answer, Pictures)
    first = answer.generation.id
    generation = await core.store.run(Store.get, first)
    assert generation is not None and generation.source_path
    assert sources_in(settings) == [Path(generation.source_path)]
    assert Path(generation.source_path).name == f"{first}-source.png"
    assert kept_bytes(generation.source_path) == PHOTO

    again = await core.front.handle(Request(ALICE, DM, button=f"g:again:{first}"))
    assert isinstance(again, Pictures) and again.generation.parent_id == first
    assert relay.calls[1].sources == [PHOTO] and relay.calls[1].body["req_key"] == EDIT_KEY

    await core.expire(now=time.time() + 31 * 86400)
    assert sources_in(settings) == []
    expired = await core.store.run(Store.get, first)
    assert expired is not None and expired.source_path == ""
    gone = await core.front.handle(Request(ALICE, DM, button=f"g:again:{first}"))
    assert isinstance(gone, Say) and "not kept" in gone.text


@pytest.mark.env(MODELS_FILE=EDIT_TABLE, KEEP_INPUT_IMAGES="on")
async def test_forget_removes_the_kept_input_too(
    core: Core, relay: FakeRelay, settings: Settings
) -> None:
    outcome = await core.service.draw(ALICE, DM, DrawParams("blue"), picture=Photo().picture)
    assert isinstance(outcome, Delivered) and len(sources_in(settings)) == 1
    await core.account.forget(ALICE)
    assert sources_in(settings) == []
