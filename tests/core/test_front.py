"""Front: the one entry point. Requests in, answers out, with a real store and the fake relay."""

from __future__ import annotations

import pytest

from core.answer import Action, Pictures, Receipt, Say, parse_button
from core.front import COMMANDS
from core.request import Place, Request, Requester
from core.root import Core
from core.store import Store
from tests.fakes.relay import FakeRelay, Reply

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
    assert "/imagine is not a command" in await said(core, ask("/imagine a cat"))
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


# -- talking to the bot: unknown commands, /help, /start, hints that stay true ---------------

USER_COMMANDS = [
    "draw",
    "redo",
    "original",
    "cancel",
    "start",
    "help",
    "quota",
    "history",
    "forget",
]


async def test_an_unknown_command_names_the_closest_one(core: Core, relay: FakeRelay) -> None:
    text = await said(core, ask("/drow a red fox"))
    assert text.startswith("/drow is not a command of this bot. Did you mean /draw?")
    assert "/help" in text
    assert "Did you mean /history?" in await said(core, ask("/histroy"))
    imagine = await said(core, ask("/imagine a cat"))
    assert "To draw, write /draw" in imagine and "Did you mean" not in imagine
    assert "Usage:" not in imagine and "--size" not in imagine
    assert "你是不是想用 /quota" in await said(core, ask("/qouta", who=LI))
    assert relay.calls == []


async def test_in_a_group_only_unknown_commands_addressed_to_us_are_answered(
    core: Core, relay: FakeRelay
) -> None:
    for text in ("/imagine a cat", "/drow a cat", "/drow@otherbot a cat", "/foo@drawbotx"):
        request = ask(text, where=GROUP, bot_username="drawbot")
        assert await core.front.handle(request) is None, text
    addressed = ask("/drow@DrawBot a cat", where=GROUP, bot_username="drawbot")
    assert "Did you mean /draw?" in await said(core, addressed)
    assert relay.calls == []


async def test_help_lists_every_user_command_and_points_at_admin(
    core: Core, relay: FakeRelay
) -> None:
    text = await said(core, ask("/help"))
    for name in USER_COMMANDS:
        assert f"\n/{name}" in text, name
    assert "Admins: /admin lists the admin commands." in text
    assert "/ban" not in text and "--size" not in text
    on_discord = await said(core, ask("/help", admin_prefix="/admin "))  # no `/help draw`
    assert "\n/draw" in on_discord and "--size WxH" in on_discord
    assert "Admins: /admin lists" in on_discord
    assert "命令:" in await said(core, ask("/help", who=LI))


async def test_every_user_command_has_its_line_in_both_languages() -> None:
    from core.front import user_commands
    from core.messages import TEXTS

    assert set(USER_COMMANDS) <= set(user_commands())
    for name in user_commands():
        assert set(TEXTS[f"cmd_{name}"]) == {"en", "zh"}, name


@pytest.mark.env(ADMIN_IDS="telegram:1")
async def test_help_lists_the_admin_commands_for_admins(core: Core, relay: FakeRelay) -> None:
    text = await said(core, ask("/help"))
    assert "\n/draw" in text and "Admin commands:" in text and "/ban <user>" in text
    other = await said(core, ask("/help", who=Requester("telegram", "5", "Bob", "en")))
    assert "Admin commands:" not in other and "/admin lists" in other


async def test_help_draw_gives_every_option(core: Core, relay: FakeRelay) -> None:
    for text in ("/help draw", "/help /draw", "/help DRAW"):
        answer = await said(core, ask(text))
        assert answer.startswith("Usage: /draw <prompt> [options]") and "--size" in answer
    assert (await said(core, ask("/help redo"))).startswith("/redo [number]:")
    assert (await said(core, ask("/help nonsense"))).startswith("Commands:\n/draw")


async def test_start_names_every_user_command(core: Core, relay: FakeRelay) -> None:
    text = await said(core, ask("/start"))
    assert text.startswith("Hi Alice! I draw pictures")
    for name in USER_COMMANDS:
        assert f"/{name}" in text, name
    assert "--size" not in text  # the options are /help draw's
    zh = await said(core, ask("/start", who=LI))
    assert zh.startswith("你好,Li!") and "/cancel" in zh and "/forget" in zh


async def test_original_without_a_number_asks_which(core: Core, relay: FakeRelay) -> None:
    text = await said(core, ask("/original"))
    assert text == "Which drawing? Write /original 12 with a number from /history."
    assert "''" not in text and "Usage" not in text
    assert "要哪一张" in await said(core, ask("/original   ", who=LI))


async def test_after_forget_original_does_not_suggest_redo(core: Core, relay: FakeRelay) -> None:
    await pictures(core, ask("/draw a fox"))
    await said(core, ask("/forget"))
    text = await said(core, ask("/original 1"))
    assert "/redo" not in text and "#1" in text and "no longer kept" in text
    redo = await said(core, ask("/redo 1"))
    assert "cannot be drawn again" in redo
    assert len(relay.calls) == 1


async def test_bad_key_without_an_admin_promises_nothing(core: Core, relay: FakeRelay) -> None:
    relay.default = Reply.openai_error(401)
    text = await said(core, ask("/draw a fox"))
    assert "told" not in text and "until its operator fixes that" in text
    relay.default = Reply.openai_error(403)
    text = await said(core, ask("/draw a fox"))
    assert "told" not in text and "operator tops it up" in text
    assert "通知" not in await said(core, ask("/draw a fox", who=LI))


@pytest.mark.env(ADMIN_IDS="telegram:99")
async def test_bad_key_with_an_admin_of_the_platform_says_they_were_told(
    core: Core, relay: FakeRelay
) -> None:
    relay.default = Reply.openai_error(401)
    assert "The operator has been told" in await said(core, ask("/draw a fox"))
    on_discord = Requester("discord", "7", "Dee", "en")
    text = await said(core, ask("/draw a fox", who=on_discord, where=Place("discord", "70")))
    assert "told" not in text  # no discord admin configured to be alerted


@pytest.mark.env(YUNAPI_BASE_URL="http://127.0.0.1:9", RELAY_TIMEOUT="30")
async def test_a_relay_that_refuses_connections_is_named_at_once(core: Core) -> None:
    text = await said(core, ask("/draw a fox"))
    assert "cannot reach its image service at all" in text and "no quota was used" in text
    assert "did not answer in time" not in text
