"""Private mode and blocked words (core/access.py) through the front door: real store file,
real relay client, fake relay. A refusal never reaches the relay and never charges."""

from __future__ import annotations

import asyncio

import pytest

from core.access import fold, read_key
from core.answer import Answer, Pictures, Say
from core.config import ConfigError, Settings
from core.records import Limits
from core.request import Place, Request, Requester
from core.root import Core
from core.store import Store
from tests.fakes.relay import FakeRelay

ALICE = Requester("telegram", "1", "Alice", "en")
BOB = Requester("telegram", "2", "Bob", "zh-hans")
EVE = Requester("telegram", "5", "Eve", "en")
ADMIN = Requester("telegram", "9", "Ada", "en")
GROUP = Place("telegram", "-100", "Cats", is_group=True)
PRIVATE_EN = "Sorry, this bot is private"
PRIVATE_ZH = "抱歉,这是一个私人机器人"
BLOCKED_EN = "contains a word this bot does not draw"


def dm(requester: Requester) -> Place:
    return Place(requester.platform, requester.user_id)


async def ask(core: Core, requester: Requester, text: str, place: Place | None = None) -> Answer:
    return await core.front.handle(Request(requester, place or dm(requester), text))


async def said(core: Core, requester: Requester, text: str, place: Place | None = None) -> str:
    answer = await ask(core, requester, text, place)
    assert isinstance(answer, Say), answer
    return answer.text


async def drew(core: Core, requester: Requester, text: str, place: Place | None = None) -> int:
    answer = await ask(core, requester, text, place)
    assert isinstance(answer, Pictures), answer
    return answer.generation.id


async def used(core: Core, requester: Requester, place: Place | None = None) -> int:
    chat = (place or dm(requester)).key
    usage = await core.store.run(Store.usage, requester.key, chat, core.service.today(), Limits())
    return usage.used


async def generations(core: Core) -> int:
    return int(await core.store.run(Store._scalar, "SELECT COUNT(*) FROM generations", []))


# -- private mode ---------------------------------------------------------------------------


@pytest.mark.env(ALLOWED_USERS="telegram:1", ADMIN_IDS="telegram:9")
async def test_private_mode_refuses_others_with_one_sentence_and_no_charge(
    core: Core, relay: FakeRelay
) -> None:
    refusal = await said(core, EVE, "/draw a red fox")
    assert refusal.startswith(PRIVATE_EN) and refusal.count(".") == 1
    assert (await said(core, BOB, "/draw 一只狐狸")).startswith(PRIVATE_ZH)
    assert (await said(core, EVE, "/start")).startswith(PRIVATE_EN)
    assert relay.calls == [] and await generations(core) == 0
    assert await used(core, EVE) == 0
    await drew(core, ALICE, "/draw a red fox")  # listed
    await drew(core, ADMIN, "/draw a red fox")  # bot admins always pass
    assert "Alice" in await said(core, ALICE, "/start")
    assert len(relay.calls) == 2


@pytest.mark.env(ALLOWED_CHATS="telegram:-100")
async def test_a_listed_chat_lets_anyone_in_it_draw(core: Core, relay: FakeRelay) -> None:
    generation = await drew(core, EVE, "/draw a red fox", GROUP)
    assert (await said(core, EVE, "/draw a red fox")).startswith(PRIVATE_EN)  # not in their DM
    # the buttons under the picture redraw only where it was posted
    again = await core.front.handle(Request(EVE, GROUP, button=f"g:again:{generation}"))
    assert isinstance(again, Pictures)
    elsewhere = await core.front.handle(Request(EVE, dm(EVE), button=f"g:again:{generation}"))
    assert isinstance(elsewhere, Say) and elsewhere.text.startswith(PRIVATE_EN)
    assert len(relay.calls) == 2 and await used(core, EVE, GROUP) == 2


# -- blocked words --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        "a BLOOD moon",
        "a ｂｌｏｏｄ moon",  # full-width
        "a b l o o d moon",  # spaced out
        "a bl\u200bo\u200dod moon",  # zero-width space and joiner
        "Ｂｌ\u3000ｏ ｏｄ",  # full-width letters and an ideographic space
        "bloodbath",  # inside a longer word
        "满地鲜 血",  # a Chinese word, spaced
    ],
)
@pytest.mark.env(BLOCKED_WORDS="blood，血")
async def test_blocked_words_refuse_every_variant(
    core: Core, relay: FakeRelay, prompt: str
) -> None:
    refusal = await said(core, ALICE, f"/draw {prompt} --seed 3")
    assert BLOCKED_EN in refusal
    assert "blood" not in refusal.lower() and "血" not in refusal  # the list is never echoed
    assert relay.calls == [] and await generations(core) == 0


@pytest.mark.env(BLOCKED_WORDS="blood", ADMIN_IDS="telegram:9")
async def test_blocked_words_bind_admins_and_leave_other_prompts_alone(
    core: Core, relay: FakeRelay
) -> None:
    assert BLOCKED_EN in await said(core, ADMIN, "/draw blood")
    assert "本次不计入额度" in await said(core, BOB, "/draw blood")
    await drew(core, ALICE, "/draw a blue lood moon")
    assert len(relay.calls) == 1


@pytest.mark.env(ADMIN_IDS="telegram:9")
async def test_a_word_blocked_later_refuses_redo_and_buttons_of_a_stored_prompt(
    core: Core, relay: FakeRelay
) -> None:
    generation = await drew(core, ALICE, "/draw a fox eating grapes", GROUP)
    assert "Done: blockword ＧＲＡＰＥＳ" in await said(core, ADMIN, "/blockword ＧＲＡＰＥＳ")
    assert BLOCKED_EN in await said(core, ALICE, "/redo")
    assert BLOCKED_EN in await said(core, ALICE, f"/redo {generation}")
    for action in ("again", "resize"):
        pressed = await core.front.handle(Request(BOB, GROUP, button=f"g:{action}:{generation}"))
        assert isinstance(pressed, Say) and "不画的词" in pressed.text
    original = await core.front.handle(Request(ALICE, GROUP, button=f"g:original:{generation}"))
    assert isinstance(original, Pictures)  # sending the kept file draws nothing
    assert len(relay.calls) == 1 and await used(core, ALICE, GROUP) == 1
    assert await generations(core) == 1


# -- run-time changes by admins -----------------------------------------------------------------


@pytest.mark.env(ADMIN_IDS="telegram:9")
async def test_runtime_lists_change_by_admin_commands_and_survive_a_restart(
    settings: Settings, relay: FakeRelay
) -> None:
    async with Core.open(settings, ["test"]) as core:
        await drew(core, EVE, "/draw a fox")  # no lists: everyone draws
        reply = await said(core, ADMIN, "/allow telegram:1")
        assert reply.startswith("Done: allow user telegram:1.") and "Private mode is on" in reply
        assert "Done: allow chat telegram:-100." in await said(core, ADMIN, "/allow chat", GROUP)
        assert "already there" in await said(core, ADMIN, "/allow user 1")
        assert "Done: blockword grapes, pears" in await said(
            core, ADMIN, "/blockword grapes, pears"
        )
        assert (await said(core, EVE, "/draw a fox")).startswith(PRIVATE_EN)
        await drew(core, EVE, "/draw a fox", GROUP)
    async with Core.open(settings, ["test"]) as core:  # the next process, same database
        assert (await said(core, EVE, "/draw a fox")).startswith(PRIVATE_EN)
        await drew(core, ALICE, "/draw a fox")
        assert BLOCKED_EN in await said(core, ALICE, "/draw a fox with PEARS")
        listed = await said(core, ADMIN, "/allowed")
        assert "Users: telegram:1\nChats: telegram:-100" in listed
        assert "grapes, pears" in await said(core, ADMIN, "/blockwords")
        assert "Done: unblockword Ｐｅａｒｓ" in await said(core, ADMIN, "/unblockword Ｐｅａｒｓ")
        assert "Done: disallow user telegram:1" in await said(core, ADMIN, "/disallow telegram:1")
        assert "not added at run time" in await said(core, ADMIN, "/disallow telegram:1")
        off = await said(core, ADMIN, "/disallow chat telegram:-100")
        assert "Private mode is off: everyone may draw." in off
        await drew(core, EVE, "/draw a fox with pears")
    async with Core.open(settings, ["test"]) as core:
        await drew(core, BOB, "/draw 梨")
        assert "grapes*" not in await said(core, ADMIN, "/blockwords")
        assert "不画的词" in await said(core, BOB, "/draw grapes")


@pytest.mark.env(ALLOWED_USERS="telegram:2", BLOCKED_WORDS="blood", ADMIN_IDS="telegram:9")
async def test_settings_entries_stay_and_are_shown(core: Core) -> None:
    kept = await said(core, ADMIN, "/disallow telegram:2")
    assert "comes from the ALLOWED_USERS setting" in kept
    assert "BLOCKED_WORDS setting" in await said(core, ADMIN, "/unblockword BLOOD")
    assert "already there" in await said(core, ADMIN, "/blockword blood")
    assert "Blocked words (1; * from the BLOCKED_WORDS setting): blood*" in await said(
        core, ADMIN, "/blockwords"
    )
    assert (await said(core, EVE, "/draw a fox")).startswith(PRIVATE_EN)


@pytest.mark.env(ADMIN_IDS="telegram:9")
async def test_bad_ids_and_words_get_sentences(core: Core, relay: FakeRelay) -> None:
    bad_user = await said(core, ADMIN, "/allow alice")
    assert bad_user.startswith("'alice' is not a user id") and "/allow chat" in bad_user
    assert "'telegram:-5' is not a user id" in await said(core, ADMIN, "/allow telegram:-5")
    assert "'slack:1' is not a user id" in await said(core, ADMIN, "/allow slack:1")
    assert "'lobby' is not a chat id" in await said(core, ADMIN, "/allow chat lobby")
    assert "Name whom to list" in await said(core, ADMIN, "/disallow")
    assert "Write the word" in await said(core, ADMIN, "/blockword")
    assert "cannot be a blocked word" in await said(core, ADMIN, "/blockword \u200b")
    assert "cannot be a blocked word" in await said(core, ADMIN, "/blockword " + "x" * 51)
    zh = Requester("telegram", "9", "Ada", "zh-CN")
    assert "不是用户 ID" in await said(core, zh, "/allow alice")
    for command in ("/allow telegram:5", "/blockword fox", "/blockwords", "/allowed"):
        assert await said(core, EVE, command) == "Only the bot's admins can do that."
    await drew(core, EVE, "/draw a fox")  # nothing was changed by any of it
    assert "/blockword" in await said(core, ADMIN, "/admin")
    assert "allow chat telegram:-100." in await said(core, ADMIN, "/allow chat －１００")


# -- reading --------------------------------------------------------------------------------


def test_fold_and_keys() -> None:
    assert fold("Ｂ l\u200bo\u00adO\ufeffＤ") == "blood"
    assert fold("ﾌﾞﾗｯﾄﾞ") == "ブラッド"  # half-width katakana
    assert read_key("Telegram: 12") == "telegram:12"
    assert read_key("telegram:-100", chat=True) == "telegram:-100"
    assert read_key("telegram:-100") is None and read_key("12") is None
    assert read_key("console:ann") == "console:ann" and read_key("discord:１２") == "discord:12"


def test_settings_read_the_lists(env: dict[str, str]) -> None:
    extra = {
        "ALLOWED_USERS": "telegram:1, discord:22,console:ann",
        "ALLOWED_CHATS": "telegram:-1001234",
        "BLOCKED_WORDS": "blood, 血,,blood",
    }
    settings = Settings.load(environ={**env, **extra}, env_file=None)
    assert settings.allowed_users == {"telegram:1", "discord:22", "console:ann"}
    assert settings.allowed_chats == {"telegram:-1001234"}
    assert settings.blocked_words == ("blood", "血")
    with pytest.raises(ConfigError) as caught:
        Settings.load(
            environ={**env, "ALLOWED_USERS": "alice", "ALLOWED_CHATS": "x:1"}, env_file=None
        )
    assert [p.split(" (")[0] for p in caught.value.problems] == [
        "ALLOWED_USERS entries must be telegram:<id>, discord:<id> or console:<name>",
        "ALLOWED_CHATS entries must be telegram:<id>, discord:<id> or console:<name>",
    ]


async def test_draws_arriving_together_read_the_lists_once(core: Core) -> None:
    """Ten draws at once with the lists out of date: one read of them, not ten."""
    statements: list[str] = []

    def trace(store: Store) -> None:
        store.sqlite.conn.set_trace_callback(statements.append)

    await core.store.run(trace)
    access = core.service.access
    access.forget_cache()
    found = await asyncio.gather(*(access.lists() for _ in range(10)))
    assert all(lists == found[0] for lists in found)
    assert len([s for s in statements if "FROM allowed" in s]) == 1
    access.forget_cache()  # a change here: the next draw reads them again
    await access.lists()
    assert len([s for s in statements if "FROM allowed" in s]) == 2
