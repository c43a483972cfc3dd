"""Crash suite: real `python -m bots telegram` children killed with SIGKILL mid-draw, a second
process on the same database, an external write lock and a full disk while recording.

Each test asserts what the user received, their quota (by /quota and by counting rows) and
the records. Times only bound the waits; speed is not what is tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from core.params import DrawParams, Watermark
from core.records import Limits, NewGeneration, Reserved
from core.store import Store
from tests.crash.conftest import (
    DAILY_LIMIT_REACHED,
    INTERRUPTED,
    NO_QUOTA_USED,
    WITHIN,
    Deployment,
)
from tests.fakes.base import wait_for
from tests.fakes.relay import Reply

ONE_LEFT = "received 0 of 1 images; 1 left"
NONE_LEFT = "received 1 of 1 images; 0 left"


async def told_interrupted(deploy: Deployment, user: int, asked: int) -> None:
    """The user is told, as a reply to their /draw, that it was interrupted and refunded."""
    told = await deploy.tg.wait_for_sent(
        lambda m: m.chat_id == user and m.visible_text == INTERRUPTED, WITHIN
    )
    assert told.reply_to_message_id == asked


async def test_killed_before_and_during_the_relay_call(deploy: Deployment) -> None:
    """User 1's draw holds the only relay slot (the relay is slow: killed *during* the call);
    user 2's waits for it, reserved (killed *before* its relay call). A new process on the
    same database refunds both and tells each asker where they asked."""
    deploy.relay.latency = 60.0
    old = await deploy.start("old", MAX_CONCURRENT_DRAWS="1")
    first = await deploy.draw(1)
    await wait_for(lambda: deploy.relay.in_flight, WITHIN, "user 1's relay call")
    second = await deploy.draw(2)
    await deploy.status_becomes(2, "reserved")
    await deploy.status_becomes(1, "generating")
    await old.kill()
    assert len(deploy.relay.calls) == 1  # user 2's draw never reached the relay

    deploy.relay.latency = 0.0
    await deploy.start("new", MAX_CONCURRENT_DRAWS="1")
    await told_interrupted(deploy, 1, first["message_id"])
    await told_interrupted(deploy, 2, second["message_id"])
    for user in (1, 2):
        assert deploy.status_of(user) == "interrupted"
        assert deploy.counted(user) == 0
        assert ONE_LEFT in await deploy.quota(user)
        assert deploy.photos(user) == []
    assert len(deploy.relay.calls) == 1  # the new process did not draw them again
    # the refund is real: user 2 can draw now, within DAILY_LIMIT=1
    await deploy.ask(2, "/draw a second try", kind="photo")
    await deploy.status_becomes(2, "delivered")
    assert [r["status"] for r in deploy.rows() if r["user_key"] == "telegram:2"] == [
        "interrupted",
        "delivered",
    ]


async def test_killed_after_the_relay_answered(deploy: Deployment) -> None:
    """The relay answered but its image is slow to download: killed with nothing stored.
    The new process refunds the draw and tells the asker."""
    deploy.relay.script(Reply.ok(image_delay=60.0))
    old = await deploy.start("old", TELEGRAM_PHOTO_BY_URL="off")  # downloaded before sending
    asked = await deploy.draw(1)
    await wait_for(
        lambda: deploy.relay.image_fetches and deploy.relay.calls[0].status == 200,
        WITHIN,
        "the relay's answer and the image download to start",
    )
    await deploy.status_becomes(1, "generating")
    await old.kill()

    await deploy.start("new", TELEGRAM_PHOTO_BY_URL="off")
    await told_interrupted(deploy, 1, asked["message_id"])
    assert deploy.status_of(1) == "interrupted"
    assert deploy.counted(1) == 0
    assert ONE_LEFT in await deploy.quota(1)
    assert deploy.photos(1) == []


async def killed_during_upload(deploy: Deployment, *, landed: bool) -> dict[str, object]:
    """Kill the bot while Telegram holds its sendPhoto; start a new one; the draw's row."""
    deploy.tg.hold_photos(landed=landed)
    old = await deploy.start("old")
    asked = await deploy.draw(1)
    await wait_for(lambda: deploy.tg.held_photos, WITHIN, "the upload to be held")
    # the photo goes by link; the kept copy waits until Telegram has it, so there is none
    await asyncio.sleep(0.3)
    assert deploy.row_of(1)["status"] == "generated"
    assert deploy.row_of(1)["image_paths"] == []
    assert not [agent for agent in deploy.relay.image_agents if agent.startswith("drawbot")]
    await old.kill()
    # the held upload ends with the dead connection, before the hold is lifted
    await wait_for(lambda: not deploy.tg.held_photos, WITHIN, "the held upload to end")
    deploy.tg.release_photos()

    await deploy.start("new")
    delivered = await deploy.tg.wait_for_sent(
        lambda m: m.chat_id == 1 and m.kind == "photo" and m.reply_to_message_id is not None,
        WITHIN,
    )
    assert delivered.reply_to_message_id == asked["message_id"]
    await deploy.status_becomes(1, "delivered")
    row = deploy.row_of(1)
    assert row["file_refs"]["telegram"]
    assert deploy.counted(1) == 1
    assert NONE_LEFT in await deploy.quota(1)
    assert not any(NO_QUOTA_USED in text for text in deploy.texts(1))
    assert len(deploy.relay.calls) == 1  # delivered from the relay's link, not drawn again
    assert row["image_paths"]  # and kept by the new process
    return row


async def test_killed_during_the_upload_that_never_landed(deploy: Deployment) -> None:
    """Killed while Telegram held the photo unposted: the new process delivers it from the
    relay's link (and keeps it); the user gets the picture once."""
    await killed_during_upload(deploy, landed=False)
    assert len(deploy.photos(1)) == 1


async def test_killed_during_the_upload_that_landed(deploy: Deployment) -> None:
    """Killed after Telegram posted the photo but before the bot heard back: the new process
    cannot know it landed and delivers it again; the user gets it twice (charged once)."""
    await killed_during_upload(deploy, landed=True)
    first, second = deploy.photos(1)
    assert first.files == second.files


async def test_killed_after_the_photo_by_link_before_its_copy_was_kept(
    deploy: Deployment,
) -> None:
    """Telegram fetched the photo by its link and the user has it; the bot's own download of
    the kept copy is slow and the bot is killed before writing it. The record says delivered
    (with Telegram's file id, charged once); a new process neither sends it again nor
    refunds it, and /original says the file is gone."""
    deploy.relay.script(Reply.ok(image_delay=60.0, image_delay_agent="drawbot"))
    old = await deploy.start("old")
    await deploy.draw(1)
    photo = await deploy.tg.wait_for_sent(lambda m: m.chat_id == 1 and m.kind == "photo", WITHIN)
    assert deploy.tg.url_fetches == deploy.relay.calls[0].image_urls
    await deploy.status_becomes(1, "delivered")
    await wait_for(lambda: deploy.row_of(1)["file_refs"], WITHIN, "the file id")
    await old.kill()
    row = deploy.row_of(1)
    assert row["image_paths"] == [] and not list(deploy.images.rglob("*.png"))
    assert row["file_refs"]["telegram"] == [photo.message["photo"][-1]["file_id"]]

    await deploy.start("new")
    assert NONE_LEFT in await deploy.quota(1)  # asked after the new process's first sweep
    assert deploy.status_of(1) == "delivered" and deploy.counted(1) == 1
    assert len(deploy.photos(1)) == 1 and not any(NO_QUOTA_USED in t for t in deploy.texts(1))
    gone = await deploy.ask(1, f"/original {row['id']}")
    assert "no longer kept" in (gone.visible_text or "")
    assert len(deploy.relay.calls) == 1


async def test_overlapping_restart_leaves_a_live_process_alone(deploy: Deployment) -> None:
    """A rolling deploy: B starts on the database while A is mid-draw. B's start-up sweep
    must not take A's draw: A delivers it, once; then A stops (SIGTERM) and B serves on:
    /original works and the daily limit holds."""
    deploy.relay.latency = 6.0
    a = await deploy.start("a")
    await deploy.draw(1)
    await wait_for(lambda: deploy.relay.in_flight, WITHIN, "A's relay call")
    b = await deploy.start("b")
    # B is attached and has swept while A's draw is still at the relay
    assert deploy.relay.in_flight == 1 and deploy.status_of(1) == "generating"
    await deploy.tg.wait_for_sent(lambda m: m.chat_id == 1 and m.kind == "photo", WITHIN)
    await deploy.status_becomes(1, "delivered")
    assert "recovered" not in b.log()
    assert await a.stop() == 0  # the deploy ends: A leaves, B serves on

    deploy.relay.latency = 0.0
    original = await deploy.ask(1, "/original 1", kind="document")
    assert original.files == deploy.photos(1)[0].files
    refused = await deploy.ask(1, "/draw another one")
    assert DAILY_LIMIT_REACHED in (refused.visible_text or "")
    assert len(deploy.photos(1)) == 1
    assert not any(NO_QUOTA_USED in text for text in deploy.texts(1))
    assert [(r["status"], r["owner"]) for r in deploy.rows()] == [
        ("delivered", deploy.process_id(a))
    ]
    assert deploy.counted(1) == 1
    assert NONE_LEFT in await deploy.quota(1)
    assert len(deploy.relay.calls) == 1


LOCK_SECONDS = 30.0


async def test_a_30s_external_write_lock_while_recording(deploy: Deployment) -> None:
    """While the relay draws, another connection takes the database's write lock and keeps it
    30 s. The asker still gets the picture while the lock is held, and is never told that no
    quota was used; another user who asks meanwhile is answered while it is held too; once
    it is released the records settle (delivered) and the quota is exact."""
    deploy.relay.latency = 1.0
    await deploy.start("bot")
    await deploy.draw(1)
    await wait_for(lambda: deploy.relay.in_flight, WITHIN, "the relay call")
    await deploy.status_becomes(1, "generating")  # recorded beside the call, not before it

    loop = asyncio.get_running_loop()
    with contextlib.closing(sqlite3.connect(deploy.database, isolation_level=None)) as lock:
        lock.execute("BEGIN IMMEDIATE")
        locked_at = loop.time()
        photo = await deploy.tg.wait_for_sent(
            lambda m: m.chat_id == 1 and m.kind == "photo", LOCK_SECONDS - 10
        )
        assert deploy.status_of(1) == "generating"  # not recorded yet: the lock holds
        deploy.relay.latency = 0.0
        await deploy.draw(2)
        answer = await deploy.tg.wait_for_sent(lambda m: m.chat_id == 2, LOCK_SECONDS - 10)
        while_locked = loop.time() - locked_at < LOCK_SECONDS
        await asyncio.sleep(max(0.0, LOCK_SECONDS - (loop.time() - locked_at)))
        lock.execute("COMMIT")
    assert while_locked, "user 2 was not answered while the lock was held"

    await deploy.status_becomes(1, "delivered")
    await wait_for(lambda: deploy.row_of(1)["image_paths"], WITHIN, "the kept copy's record")
    row = deploy.row_of(1)
    assert row["image_paths"] and row["file_refs"]["telegram"]
    assert photo.files and len(deploy.photos(1)) == 1
    assert not any(NO_QUOTA_USED in text for text in deploy.texts(1))
    assert deploy.counted(1) == 1
    assert NONE_LEFT in await deploy.quota(1)
    # user 2 asked while nothing could be reserved: told so at once (truly: no row was
    # written, nothing charged), not left waiting for the lock
    assert answer.kind == "text" and NO_QUOTA_USED in (answer.visible_text or "")
    assert deploy.status_of(2) is None and deploy.counted(2) == 0
    assert ONE_LEFT in await deploy.quota(2)


def test_delayed_records_land_in_either_order(tmp_path: Path) -> None:
    """After a write lock (or a full disk), the delayed `generated` and `delivered` records
    retry on their own schedules, so `delivered` may land first. The row must end delivered
    with its kept files either way (left `generated`, a restart would send it again)."""
    store = Store(tmp_path / "bot.db")
    try:
        asked = NewGeneration(
            user_key="telegram:1",
            chat_key="telegram:1",
            platform="telegram",
            day="2025-03-01",
            params=DrawParams("a lighthouse", seed=7),
            watermark=Watermark(),
            owner="p",
        )
        reserved = store.reserve(asked, Limits())
        assert isinstance(reserved, Reserved)
        generation_id = reserved.generation_id
        assert store.start_generating(generation_id)
        store.settle_delivered(generation_id, "telegram", ["file-1"])
        store.settle_generated(
            generation_id,
            images=[{"width": 512, "height": 512}],
            paths=["/kept/1-0.png"],
            request_id="r1",
            relay_seconds=1.0,
            attempts=1,
            rephrased=None,
        )
        row = store.get(generation_id)
        assert row is not None
        assert row.status == "delivered"
        assert row.image_paths == ["/kept/1-0.png"] and row.file_refs == {"telegram": ["file-1"]}
        assert store.adopt_orphans("next", ["telegram"], expired_before=time.time()) == []

        # Sent by link: the kept copy's record may land before the delayed `generated` one
        # (which knows only the links); the kept files stay recorded.
        asked = NewGeneration(**{**asked.__dict__, "params": DrawParams("a fox", seed=8)})
        reserved = store.reserve(asked, Limits())
        assert isinstance(reserved, Reserved)
        second = reserved.generation_id
        kept = [{"width": 512, "height": 512, "url": "https://relay/x.png"}]
        assert store.record_kept(second, ["/kept/2-0.png"], kept)
        store.settle_delivered(second, "telegram", ["file-2"])
        store.settle_generated(
            second,
            images=[{"url": "https://relay/x.png"}],
            paths=[],
            request_id="r2",
            relay_seconds=1.0,
            attempts=1,
            rephrased=None,
        )
        row = store.get(second)
        assert row is not None and row.status == "delivered"
        assert row.image_paths == ["/kept/2-0.png"] and row.image_meta == kept
    finally:
        store.close()


async def test_a_full_disk_for_the_kept_image(deploy: Deployment) -> None:
    """The kept file cannot be written (its path leads to /dev/full: ENOSPC): the user gets
    the picture all the same, it is recorded delivered (and charged) without a kept file, and
    /original says plainly that the file is not kept."""
    month = deploy.images / datetime.now(UTC).strftime("%Y-%m")
    month.mkdir(parents=True)
    (month / "1-0.png").symlink_to("/dev/full")
    bot = await deploy.start("bot")
    await deploy.ask(1, "/draw a lighthouse", kind="photo")
    await deploy.status_becomes(1, "delivered")
    await wait_for(lambda: "images not kept" in bot.log(), WITHIN, "the kept copy to fail")
    row = deploy.row_of(1)
    assert row["image_paths"] == [] and row["file_refs"]["telegram"]
    assert not any(NO_QUOTA_USED in text for text in deploy.texts(1))
    assert deploy.counted(1) == 1
    assert NONE_LEFT in await deploy.quota(1)
    gone = await deploy.ask(1, "/original 1")
    assert "no longer kept" in (gone.visible_text or "")
    assert len(deploy.photos(1)) == 1


async def test_a_full_disk_for_the_database_while_recording(deploy: Deployment) -> None:
    """While the relay draws, the bot's files stop growing (RLIMIT_FSIZE lowered on the live
    child; CPython ignores SIGXFSZ, so writes fail with EFBIG as on a full disk): neither the
    database nor the kept image can be written. The user gets the picture all the same and
    is never told it was free; once the disk has room the delayed records land: delivered,
    charged once. (Photos go by upload here, so the kept image is written before the photo is
    sent, while the disk is full; by link it would be written after, when it may have room.)"""
    deploy.relay.latency = 1.0
    bot = await deploy.start("bot", TELEGRAM_PHOTO_BY_URL="off")
    await deploy.draw(1)
    await wait_for(lambda: deploy.relay.in_flight, WITHIN, "the relay call")
    await deploy.status_becomes(1, "generating")  # recorded beside the call, not before it
    pid = bot.process.pid
    _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard))
    try:
        await deploy.tg.wait_for_sent(lambda m: m.chat_id == 1 and m.kind == "photo", WITHIN)
        assert deploy.status_of(1) == "generating"  # nothing could be recorded
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
    await deploy.status_becomes(1, "delivered")
    row = deploy.row_of(1)
    assert row["image_paths"] == [] and row["file_refs"]["telegram"]
    month = deploy.images / datetime.now(UTC).strftime("%Y-%m")
    assert list(month.iterdir()) == []  # no partly written file left behind
    assert not any(NO_QUOTA_USED in text for text in deploy.texts(1))
    assert deploy.counted(1) == 1
    assert NONE_LEFT in await deploy.quota(1)
    assert len(deploy.photos(1)) == 1
