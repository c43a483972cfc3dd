"""Models for users: --model on the wire, /models, /model, quota by cost, captions, history,
stats and the buttons, with the real store and the fake relay drawing THREE_MODELS."""

from __future__ import annotations

import pytest

from core.answer import Pictures, Receipt, Say
from core.request import Place, Request, Requester
from core.root import Core
from core.store import Store
from tests.fakes.relay import FakeRelay, Reply

ALICE = Requester("telegram", "1", "Alice", "en")
LI = Requester("telegram", "2", "Li", "zh-CN")
DM = Place("telegram", "1")
GROUP = Place("telegram", "-100", "Cats", is_group=True)

pytestmark = pytest.mark.three_models


def ask(
    text: str = "", *, who: Requester = ALICE, where: Place = DM, admin: bool = False
) -> Request:
    async def is_admin() -> bool:
        return admin

    return Request(who, where, text=text, chat_admin=is_admin)


async def pictures(core: Core, request: Request) -> Pictures:
    answer = await core.front.handle(request)
    assert isinstance(answer, Pictures), answer
    await core.front.delivered(Receipt(answer.generation.id, "telegram", []))
    return answer


async def said(core: Core, request: Request) -> str:
    answer = await core.front.handle(request)
    assert isinstance(answer, Say), answer
    return answer.text


async def test_each_model_is_called_with_its_own_req_key(core: Core, relay: FakeRelay) -> None:
    await pictures(core, ask("/draw a fox"))
    await pictures(core, ask("/draw a fox --model POSTER"))
    await pictures(core, ask("/draw a fox -m sketch --size 300x400"))
    sent = [(c.body["req_key"], c.body["width"], c.body["height"]) for c in relay.calls]
    assert sent == [
        ("high_aes_general_v21_L", 512, 512),
        ("poster_req_key_v1", 768, 512),  # its first listed size: its default
        ("sketch_req_key_v2", 300, 400),
    ]
    rows = [await core.store.run(Store.get, gid) for gid in (1, 2, 3)]
    assert [(r.params.model, r.cost) for r in rows if r] == [
        ("jimeng21", 1),
        ("poster", 3),
        ("sketch", 2),
    ]


async def test_a_size_the_model_does_not_draw_is_refused_before_anything(
    core: Core, relay: FakeRelay
) -> None:
    text = await said(core, ask("/draw a fox --size 640x640 --model poster"))
    assert "poster" in text and "768x512, 512x768" in text
    text = await said(core, ask("/draw a fox --model sketch --size 768x512"))
    assert "sketch" in text and "256–512" in text
    text = await said(core, ask("/draw a fox --model jimeng3"))
    assert "jimeng21, poster, sketch" in text and "/models" in text
    assert relay.calls == []
    assert "0 of 20 units" in await said(core, ask("/quota"))


@pytest.mark.env(DAILY_LIMIT="5")
async def test_quota_counts_each_models_cost(core: Core, relay: FakeRelay) -> None:
    await pictures(core, ask("/draw a fox --model poster"))  # 3 of 5
    assert "3 of 5 units; 2 left" in await said(core, ask("/quota"))
    text = await said(core, ask("/draw a fox --model poster"))
    assert "costs 3 units" in text and "2 of 5 units left" in text and "/models" in text
    await pictures(core, ask("/draw a fox --model sketch"))  # 2 more: 5 of 5
    text = await said(core, ask("/draw a fox"))  # the limit counts units, and says so
    assert text.startswith("You have used all 5 units for today.")
    assert len(relay.calls) == 2


@pytest.mark.env(DAILY_LIMIT="5")
async def test_a_failed_draw_refunds_its_whole_cost(core: Core, relay: FakeRelay) -> None:
    relay.script(Reply.volc_error(50412))
    text = await said(core, ask("/draw a fox --model poster"))
    assert "no quota was used" in text
    assert "0 of 5 units; 5 left" in await said(core, ask("/quota"))
    await pictures(core, ask("/draw a fox --model poster"))
    assert "3 of 5 units" in await said(core, ask("/quota"))


@pytest.mark.env(DAILY_LIMIT="0", CHAT_DAILY_LIMIT="4")
async def test_the_chats_limit_counts_cost_too(core: Core, relay: FakeRelay) -> None:
    await pictures(core, ask("/draw a fox --model poster", where=GROUP))
    bob = Requester("telegram", "3", "Bob", "en")
    text = await said(core, ask("/draw a fox --model sketch", who=bob, where=GROUP))
    assert "this chat has 1 of 4 units left" in text and "costs 2 units" in text
    await pictures(core, ask("/draw a fox", who=bob, where=GROUP))  # 1 unit: fits
    assert "This chat: 4 of 4 units today." in await said(core, ask("/quota", where=GROUP))
    text = await said(core, ask("/draw a fox", who=bob, where=GROUP))
    assert text.startswith("This chat has used all 4 units for today.")
    text = await said(core, ask("/draw 一只狐狸", who=LI, where=GROUP))
    assert text.startswith("本群今天的 4 点额度已用完")


async def test_models_lists_sizes_cost_editing_and_defaults(core: Core, relay: FakeRelay) -> None:
    text = await said(core, ask("/models"))
    lines = text.splitlines()
    assert lines[0] == "Models here:"
    assert lines[1].startswith("• jimeng21 (Jimeng 2.1): sizes 256–768 (default 512x512), 1 ")
    assert lines[1].endswith("draws from text ← default")
    assert "• poster (Poster): sizes 768x512, 512x768 (default 768x512), 3 per image" in text
    assert "• sketch: sizes 256–512 (default 512x512), 2 per image, edits pictures" in text
    assert "--model NAME" in lines[-1] and "/model NAME" in lines[-1]
    zh = await said(core, ask("/models", who=LI))
    assert zh.startswith("可用模型:") and "每张 3 点额度" in zh and "可改图" in zh


async def test_a_private_chat_chooses_its_model(core: Core, relay: FakeRelay) -> None:
    text = await said(core, ask("/model"))
    assert "jimeng21 (Jimeng 2.1)" in text and "jimeng21, poster, sketch" in text
    text = await said(core, ask("/model Sketch"))
    assert "now draws with sketch, 2 per image" in text
    assert "sketch" in await said(core, ask("/model"))
    assert "← this chat's default" in await said(core, ask("/models"))
    answer = await pictures(core, ask("/draw a fox"))
    assert answer.generation.params.model == "sketch"
    assert relay.calls[-1].body["req_key"] == "sketch_req_key_v2"
    # --model still wins, and /model default goes back to the deployment's
    assert (await pictures(core, ask("/draw a fox -m jimeng21"))).generation.params.model == (
        "jimeng21"
    )
    await said(core, ask("/model default"))
    assert (await pictures(core, ask("/draw a fox"))).generation.params.model == "jimeng21"
    text = await said(core, ask("/model sktch"))
    assert "Did you mean sketch?" in text


async def test_in_a_group_only_admins_choose(core: Core, relay: FakeRelay) -> None:
    text = await said(core, ask("/model poster", where=GROUP))
    assert "Only this group's admins" in text and "--model NAME" in text
    assert await core.store.run(Store.chat_model, GROUP.key) is None
    await said(core, ask("/model poster", where=GROUP, admin=True))
    assert await core.store.run(Store.chat_model, GROUP.key) == "poster"
    bob = Requester("telegram", "3", "Bob", "en")
    answer = await pictures(core, ask("/draw a fox", who=bob, where=GROUP))
    assert answer.generation.params.model == "poster"
    assert (await pictures(core, ask("/draw a fox"))).generation.params.model == "jimeng21"


async def test_a_chats_model_since_removed_falls_back(core: Core, relay: FakeRelay) -> None:
    await core.store.run(Store.set_chat, DM.key, model="retired")
    assert "jimeng21" in await said(core, ask("/model"))
    assert (await pictures(core, ask("/draw a fox"))).generation.params.model == "jimeng21"


async def test_captions_and_history_name_the_model_and_its_cost(
    core: Core, relay: FakeRelay
) -> None:
    plain = await pictures(core, ask("/draw a fox --seed 7"))
    assert plain.caption() == "a fox\nJimeng 2.1 · 512x512 · seed 7 · #1"
    poster = await pictures(core, ask("/draw a fox --seed 7 --model poster"))
    assert poster.caption() == "a fox\nPoster · 3 units · 768x512 · seed 7 · #2"
    zh = await core.front.handle(ask("/draw 狐狸 --seed 7 --model sketch", who=LI))
    assert isinstance(zh, Pictures)
    assert zh.caption() == "狐狸\nsketch · 2 点额度 · 512x512 · 种子 7 · #3"
    history = await said(core, ask("/history"))
    assert "· Poster · 3 units · 768x512 · seed 7" in history
    assert "· Jimeng 2.1 · 512x512 · seed 7" in history


async def test_buttons_keep_the_model_and_offer_its_sizes(core: Core, relay: FakeRelay) -> None:
    poster = await pictures(core, ask("/draw a fox --model poster --seed 5"))
    resize = poster.buttons[0][1]
    assert resize.label == "↔ Same seed, 512x768"
    turned = await pictures(core, Request(ALICE, DM, button=resize.data))
    params = turned.generation.params
    assert (params.model, params.size, params.seed) == ("poster", "512x768", 5)
    sketch = await pictures(core, ask("/draw a fox --model sketch --size 400x400"))
    assert sketch.buttons[0][1].label == "↔ Same seed, 512x344"  # 3:2 within 256–512
    again = await pictures(core, Request(ALICE, DM, button=sketch.buttons[0][0].data))
    assert (again.generation.params.model, again.generation.params.size) == ("sketch", "400x400")
    redo = await pictures(core, ask("/redo 1"))
    assert redo.generation.params.model == "poster" and redo.generation.cost == 3
    assert [c.body["req_key"] for c in relay.calls[-1:]] == ["poster_req_key_v1"]


async def test_stats_count_images_per_model(core: Core, relay: FakeRelay) -> None:
    await pictures(core, ask("/draw a fox --model poster"))
    await pictures(core, ask("/draw a fox --model poster"))
    await pictures(core, ask("/draw a fox"))
    figures = await core.admin.stats_figures()
    assert figures["models"] == "poster (2), jimeng21 (1)"
    assert "Images by model, last 7 days: poster (2), jimeng21 (1)" in await core.admin.stats("en")


@pytest.mark.parametrize("command", ["model", "models"])
async def test_help_lists_the_model_commands(core: Core, relay: FakeRelay, command: str) -> None:
    assert f"/{command}" in await said(core, ask("/help"))
    assert f"/{command}" in await said(core, ask(f"/help {command}"))
