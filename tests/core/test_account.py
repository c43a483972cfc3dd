"""Account.original: a stored picture again, never charged, and only to whom may see it."""

from __future__ import annotations

from core.outcome import Delivered, Refused
from core.params import DrawParams
from core.request import Place, Requester
from core.root import Core
from tests.fakes.relay import FakeRelay, Reply

ANN, BEN = Requester("telegram", "1", "Ann", "en"), Requester("telegram", "2", "Ben", "en")
ANN_DM, BEN_DM = Place("telegram", "1"), Place("telegram", "2")
GROUP = Place("telegram", "-100", "Cats", is_group=True)


async def drawn(core: Core, place: Place) -> int:
    outcome = await core.service.draw(ANN, place, DrawParams("a quiet harbour"))
    assert isinstance(outcome, Delivered)
    return outcome.generation.id


async def test_owner_gets_the_original_free(core: Core, relay: FakeRelay) -> None:
    generation_id = await drawn(core, ANN_DM)
    before = await core.account.quota(ANN, ANN_DM)
    outcome = await core.account.original(ANN, generation_id, ANN_DM)
    assert isinstance(outcome, Delivered) and outcome.repeat
    assert outcome.images[0].data.startswith(b"\x89PNG")
    assert await core.account.quota(ANN, ANN_DM) == before
    assert len(relay.calls) == 1


async def test_others_see_it_only_where_it_was_posted(core: Core, relay: FakeRelay) -> None:
    private, public = await drawn(core, ANN_DM), await drawn(core, GROUP)
    hidden = await core.account.original(BEN, private, BEN_DM)
    assert isinstance(hidden, Refused) and hidden.reason == "not_found"
    assert isinstance(await core.account.original(BEN, public, GROUP), Delivered)
    elsewhere = await core.account.original(BEN, public, BEN_DM)
    assert isinstance(elsewhere, Refused) and elsewhere.text.startswith(f"Drawing #{public}")


async def test_failed_or_missing_drawings_have_no_original(core: Core, relay: FakeRelay) -> None:
    relay.script(Reply.volc_error(50412))
    failed = await core.service.draw(ANN, ANN_DM, DrawParams("refused"))
    assert isinstance(failed, Refused) and failed.generation_id is not None
    for generation_id in (failed.generation_id, 999):
        outcome = await core.account.original(ANN, generation_id, ANN_DM)
        assert isinstance(outcome, Refused) and outcome.reason == "not_found"


async def test_a_button_redraws_anothers_picture_only_where_it_was_posted(
    core: Core, relay: FakeRelay
) -> None:
    private, public = await drawn(core, ANN_DM), await drawn(core, GROUP)
    hidden = await core.account.redo(BEN, BEN_DM, private, anyone=True)
    assert isinstance(hidden, Refused) and hidden.reason == "not_found"
    turned = await core.account.redo(BEN, GROUP, public, turn=True, anyone=True)
    assert isinstance(turned, Delivered)
    assert turned.generation.user_key == BEN.key  # whoever clicks is charged
    assert (turned.generation.params.width, turned.generation.params.height) == (768, 512)
    assert turned.generation.params.seed == relay.calls[1].body["seed"]
    assert len(relay.calls) == 3


async def test_a_forgotten_prompt_is_not_drawn_again(core: Core, relay: FakeRelay) -> None:
    generation_id = await drawn(core, ANN_DM)
    await core.account.forget(ANN)
    outcome = await core.account.redo(ANN, ANN_DM, generation_id)
    assert isinstance(outcome, Refused) and outcome.reason == "prompt_gone"
    assert (
        outcome.text
        == f"The prompt of drawing #{generation_id} is no longer kept, so it cannot be drawn again."
    )
    assert len(relay.calls) == 1
