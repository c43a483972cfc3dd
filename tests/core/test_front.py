"""Front: the one entry point. Requests in, answers out, with a real store and the fake relay."""

from __future__ import annotations

import pytest

from core.answer import Action, Pictures, Receipt, Say, parse_button
from core.front import COMMANDS
from core.request import Place, Request, Requester
from core.root import Core
from core.store import Store
from tests.fakes.relay import FakeRelay

ALICE = Requester("telegram", "1", "Alice", "en")
LI = Requester("telegram", "2", "Li", "zh-CN")
DM = Place("telegram", "1")
GROUP = Place("telegram", "-100", "Cats", is_group=True)


def ask(text: str = "", *, who: Requester = ALICE, where: Place = DM, **fields: object) -> Request:
    return Request(who, where, text=text, **fields)  # type: ignore[arg-type]


async def pictures(core: Core, request: Request) -> Pictures:
    answer = await core.front.handle(request)
    assert isinstance(answer, Pictures), answer
    return answer


async def said(core: Core, request: Request) -> str:
    answer = await core.front.handle(request)
    assert isinstance(answer, Say), answer
    return answer.text


async def test_a_draw_is_answered_with_pictures_caption_and_one_set_of_buttons(
    core: Core, relay: FakeRelay
) -> None:
    answer = await pictures(core, ask("/draw@drawbot a red fox --size 768x512 --seed 7"))
    assert answer.caption() == "a red fox\n768x512 · seed 7 · #1"
    rows = [[(b.action, b.data) for b in row] for row in answer.buttons]
    assert rows == [
        [(Action.AGAIN, "g:again:1"), (Action.RESIZE, "g:resize:1")],
        [(Action.ORIGINAL, "g:original:1")],
    ]
    assert [b.label for b in answer.buttons[0]] == ["🎲 Again", "↔ Same seed, 512x768"]
    await core.front.delivered(Receipt(1, "telegram", ["file-1"]))
    row = await core.store.run(Store.get, 1)
    assert (
        row is not None and row.status == "delivered" and row.file_refs == {"telegram": ["file-1"]}
    )


async def test_the_language_is_the_askers(core: Core, relay: FakeRelay) -> None:
    assert (await said(core, ask("/quota", who=LI))).startswith("今天已生成 0/20 张")
    assert (await said(core, ask("/quota"))).startswith("Today you have received 0 of 20")


@pytest.mark.parametrize(
    "args",
    ["abc", "../../etc/passwd", "²", "𐩀", "12345678901234567890123", "9" * 5000, "-1", "0", "1.5"],
)
async def test_junk_ids_get_a_sentence_and_never_draw_or_charge(
    core: Core, relay: FakeRelay, args: str
) -> None:
    await pictures(core, ask("/draw a fox"))
    for command in ("redo", "original"):
        text = await said(core, ask(f"/{command} {args}"))
        assert "is not the number of a drawing" in text and f"/{command} 12" in text
    assert len(relay.calls) == 1
    assert "1 of 20" in await said(core, ask("/quota"))


async def test_ids_in_any_digits_are_read(core: Core, relay: FakeRelay) -> None:
    await pictures(core, ask("/draw a fox"))
    again = await pictures(core, ask("/redo ＃１"))  # full-width, as Chinese keyboards type
    assert again.generation.parent_id == 1
    original = await pictures(core, ask("/original ١"))  # Arabic-Indic one
    assert original.original and not original.buttons


async def test_a_quoted_message_is_the_prompt_of_an_empty_draw(
    core: Core, relay: FakeRelay
) -> None:
    answer = await pictures(core, ask("/draw --ar 2:3", quoted_text="a lighthouse at dusk"))
    assert answer.generation.params.prompt == "a lighthouse at dusk"
    assert (relay.calls[0].body["width"], relay.calls[0].body["height"]) == (512, 768)
    assert "Tell me what to draw" in await said(core, ask("/draw", quoted_text="   "))


async def test_a_redelivered_event_seen_before_gets_no_answer(core: Core, relay: FakeRelay) -> None:
    await pictures(core, ask("/draw a fox", source_key="discord:1"))
    assert (
        await core.front.handle(ask("/draw a fox", source_key="discord:1", redelivered=True))
        is None
    )
    fresh = ask("/draw a cat", source_key="discord:2", redelivered=True)
    await pictures(core, fresh)  # never seen: worked on
    assert len(relay.calls) == 2


async def test_buttons_mean_the_same_everywhere_and_junk_is_ignored(
    core: Core, relay: FakeRelay
) -> None:
    first = await pictures(core, ask("/draw a fox --seed 5", where=GROUP))
    gid = first.generation.id
    again = await pictures(core, ask(button=f"g:again:{gid}", who=LI, where=GROUP))
    assert again.generation.params.seed != 5 and again.lang == "zh"
    for data in (f"g:resize:{gid}", f"g:size:{gid}", f"drawbot:resize:{gid}"):
        turned = await pictures(core, ask(button=data, where=GROUP))
        assert turned.generation.params.seed == 5 and turned.generation.params.size == "768x512"
    for data in (f"g:original:{gid}", f"g:orig:{gid}", f"drawbot:original:{gid}"):
        assert (await pictures(core, ask(button=data, where=GROUP))).original
    for junk in ("g:explode:1", "g:again:x", "g:again:" + "9" * 40, "", "drawbot"):
        assert await core.front.handle(ask(button=junk)) is None
    assert len(relay.calls) == 5
    assert parse_button("g:again:12") == (Action.AGAIN, 12)


async def test_chatter_and_other_commands(core: Core, relay: FakeRelay) -> None:
    assert await core.front.handle(ask("hello", where=GROUP)) is None
    assert await core.front.handle(ask("/imagine a cat", where=GROUP)) is None
    for_another = ask("/draw@otherbot a cat", where=GROUP, bot_username="drawbot")
    assert await core.front.handle(for_another) is None
    assert "Tell me what to draw" in await said(core, ask("hello"))
    assert "Usage: /draw" in await said(core, ask("/imagine a cat"))
    assert relay.calls == []


async def test_chat_admins_are_asked_only_when_it_matters(core: Core, relay: FakeRelay) -> None:
    asked: list[str] = []

    async def check() -> bool:
        asked.append("asked")
        return True

    await pictures(core, ask("/draw a fox", where=GROUP, chat_admin=check))
    assert asked == []
    text = await said(core, ask("/limit member 3", where=GROUP, chat_admin=check))
    assert text.startswith("Done:") and asked == ["asked"]
    assert "Only the bot's admins" in await said(core, ask("/limit member 3", where=GROUP))


def test_one_routing_table_for_every_platform() -> None:
    assert {"draw", "redo", "original", "quota", "history", "forget", "help", "start"} <= set(
        COMMANDS
    )
    assert {"ban", "unban", "limit", "enable", "disable", "stats", "balance"} <= set(COMMANDS)
