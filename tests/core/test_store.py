"""Store on real SQLite files: migrations, reservations and limits, settling, housekeeping."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.params import WatermarkChoice
from core.records import AlreadyHandled, Denied, Limits, Reserved
from core.schema import migrations
from core.store import Store
from core.store_thread import StoreThread
from tests.conftest import new_generation as new

DAY = "2025-03-01"
NOW = 1_740_787_200.0  # 2025-03-01 00:00 UTC


def succeed(store: Store, generation_id: int, paths: list[str] | None = None) -> None:
    """The draw's images are recorded and then delivered."""
    store.settle_generated(
        generation_id,
        images=[{"width": 1536, "height": 1024}],
        paths=paths or [],
        request_id="REQ1",
        relay_seconds=2.5,
        attempts=1,
        rephrased="a red fox, detailed",
    )
    assert store.settle_delivered(generation_id, "telegram", ["file-1"])


def reserved_id(outcome: Any) -> int:
    assert isinstance(outcome, Reserved), outcome
    return outcome.generation_id


def used(store: Store, user: str = "telegram:1", chat: str = "telegram:-100") -> int:
    return store.usage(user, chat, DAY, Limits()).used


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.db"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    opened = Store(path)
    yield opened
    opened.close()


# -- migrations -------------------------------------------------------------------------


def test_migrations_apply_twice_idempotently(path: Path) -> None:
    first = Store(path)
    reserved_id(first.reserve(new(), Limits()))
    first.close()
    assert path.parent.is_dir()
    second = Store(path)  # applies the migrations again
    migrations.apply(second.sqlite)  # and once more by hand
    applied = list(second.sqlite.query("SELECT name FROM _sqlite_migrations"))
    assert [row["name"] for row in applied] == [
        "m001_initial",
        "m002_phases_and_owners",
        "m003_access_lists",
        "m004_models",
    ]
    tables = {"users", "chats", "generations", "notices", "processes"}
    assert tables <= set(second.sqlite.table_names())
    assert used(second) == 1
    second.close()


def test_wal_mode(store: Store) -> None:
    assert store.sqlite.journal_mode == "wal"


# -- reserving and settling -------------------------------------------------------------


def test_reserve_then_settle_success(store: Store) -> None:
    generation_id = reserved_id(store.reserve(new(), Limits(user_daily=5), now=NOW))
    pending = store.get(generation_id)
    assert pending is not None and pending.status == "reserved"
    assert (pending.params.width, pending.params.height, pending.params.seed) == (768, 512, 42)
    assert pending.params.watermark == WatermarkChoice(True, "drawbot", position=0, opacity=0.3)
    assert pending.created_at == NOW
    assert used(store) == 1  # a pending draw holds its quota
    succeed(store, generation_id, ["/tmp/x.png"])
    done = store.get(generation_id)
    assert done is not None and done.status == "delivered"
    assert done.relay_request_id == "REQ1" and done.relay_seconds == 2.5
    assert done.image_paths == ["/tmp/x.png"] and done.finished_at is not None
    assert used(store) == 1


def test_failed_generation_is_refunded(store: Store) -> None:
    limits = Limits(user_daily=1)
    generation_id = reserved_id(store.reserve(new(), limits))
    assert isinstance(store.reserve(new(), limits), Denied)
    store.settle_failure(generation_id, kind="prompt_refused", code="50412", detail="Text Risk")
    failed = store.get(generation_id)
    assert failed is not None and failed.status == "failed"
    assert failed.error_kind == "prompt_refused"
    assert used(store) == 0
    reserved_id(store.reserve(new(), limits))  # the quota is free again


def test_settling_twice_changes_nothing(store: Store) -> None:
    generation_id = reserved_id(store.reserve(new(), Limits()))
    succeed(store, generation_id)
    store.settle_failure(generation_id, kind="internal")
    again = store.get(generation_id)
    assert again is not None and again.status == "delivered" and again.error_kind is None


def test_user_daily_limit(store: Store) -> None:
    limits = Limits(user_daily=2)
    for _ in range(2):
        succeed(store, reserved_id(store.reserve(new(), limits)))
    denied = store.reserve(new(), limits)
    assert denied == Denied("user_daily", 2, 2)
    reserved_id(store.reserve(new(day="2025-03-02"), limits))  # a new day
    reserved_id(store.reserve(new(user="telegram:2"), limits))  # another user
    reserved_id(store.reserve(new(), Limits(user_daily=0)))  # 0 = unlimited


def test_chat_limit(store: Store) -> None:
    limits = Limits(user_daily=10, chat_daily=2)
    reserved_id(store.reserve(new(user="telegram:1"), limits))
    reserved_id(store.reserve(new(user="telegram:2"), limits))
    denied = store.reserve(new(user="telegram:3"), limits)
    assert isinstance(denied, Denied) and denied.reason == "chat_daily"
    assert (denied.limit, denied.used) == (2, 2)
    reserved_id(store.reserve(new(user="telegram:3", chat="telegram:-200"), limits))


def test_in_flight_limit(store: Store) -> None:
    limits = Limits(in_flight=2)
    first = reserved_id(store.reserve(new(), limits))
    reserved_id(store.reserve(new(), limits))
    denied = store.reserve(new(), limits)
    assert isinstance(denied, Denied) and denied.reason == "in_flight" and denied.used == 2
    succeed(store, first)
    reserved_id(store.reserve(new(), limits))


def test_cooldown(store: Store) -> None:
    limits = Limits(cooldown_seconds=60)
    reserved_id(store.reserve(new(), limits, now=NOW))
    denied = store.reserve(new(), limits, now=NOW + 30)
    assert isinstance(denied, Denied) and denied.reason == "cooldown"
    assert denied.until == NOW + 60
    reserved_id(store.reserve(new(user="telegram:2"), limits, now=NOW + 30))
    reserved_id(store.reserve(new(), limits, now=NOW + 61))


def test_failed_draw_does_not_start_a_cooldown(store: Store) -> None:
    limits = Limits(cooldown_seconds=60)
    generation_id = reserved_id(store.reserve(new(), limits, now=NOW))
    store.settle_failure(generation_id, kind="busy")
    reserved_id(store.reserve(new(), limits, now=NOW + 1))


def test_banned_user(store: Store) -> None:
    store.set_user("telegram:1", banned=1, ban_reason="spam")
    assert store.reserve(new(), Limits()) == Denied("banned")
    reserved_id(store.reserve(new(user="telegram:2"), Limits()))
    store.set_user("telegram:1", banned=0)
    reserved_id(store.reserve(new(), Limits()))


def test_disabled_chat(store: Store) -> None:
    store.set_chat("telegram:-100", enabled=0)
    assert store.reserve(new(), Limits()) == Denied("chat_disabled")
    reserved_id(store.reserve(new(chat="telegram:-200"), Limits()))
    store.set_chat("telegram:-100", enabled=1)
    reserved_id(store.reserve(new(), Limits()))


def test_overrides_of_user_and_chat(store: Store) -> None:
    base = Limits(user_daily=20, chat_daily=50, cooldown_seconds=5, in_flight=2)
    store.touch_chat("telegram:-100", "group", is_group=True)
    store.set_chat("telegram:-100", user_daily_limit=3, daily_limit=10, cooldown_seconds=60)
    limits = store.effective_limits("telegram:1", "telegram:-100", base)
    assert limits == Limits(user_daily=3, chat_daily=10, cooldown_seconds=60, in_flight=2)
    # A chat's own overrides may only tighten the deployment's limits, never lift them.
    for loose in (0, 30):
        store.set_chat("telegram:-100", user_daily_limit=loose, daily_limit=loose * 10)
        store.set_chat("telegram:-100", cooldown_seconds=0)
        limits = store.effective_limits("telegram:1", "telegram:-100", base)
        assert limits == Limits(user_daily=20, chat_daily=50, cooldown_seconds=5, in_flight=2)
    store.set_chat("telegram:-100", user_daily_limit=3)
    store.set_user("telegram:1", daily_limit=7)
    assert store.effective_limits("telegram:1", "telegram:-100", base).user_daily == 7
    private = store.effective_limits("telegram:1", "telegram:1", base)
    assert private.user_daily == 7 and private.chat_daily == 0


# -- idempotency ------------------------------------------------------------------------


def test_source_key_is_handled_once(store: Store) -> None:
    limits = Limits(user_daily=1)
    generation_id = reserved_id(store.reserve(new(source_key="telegram:-100:55"), limits))
    again = store.reserve(new(source_key="telegram:-100:55"), limits)
    assert isinstance(again, AlreadyHandled)
    assert again.generation.id == generation_id and again.generation.status == "reserved"
    succeed(store, generation_id)
    later = store.reserve(new(source_key="telegram:-100:55"), limits)
    assert isinstance(later, AlreadyHandled) and later.generation.status == "delivered"
    assert used(store) == 1
    assert store.sqlite.execute("SELECT COUNT(*) FROM generations").fetchone()[0] == 1
    assert isinstance(store.reserve(new(source_key="telegram:-100:56"), limits), Denied)


# -- concurrency ------------------------------------------------------------------------


def test_concurrent_reservations_from_threads_never_pass_the_limit(path: Path) -> None:
    Store(path).close()  # create the file and schema once
    limits = Limits(user_daily=5)
    barrier = threading.Barrier(20)
    results: list[Any] = []
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            own = Store(path)
            try:
                barrier.wait(timeout=10)
                results.append(own.reserve(new(source_key=f"t:{index}"), limits))
            finally:
                own.close()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == 20
    assert sum(isinstance(r, Reserved) for r in results) == 5
    assert all(r == Denied("user_daily", 5, 5) for r in results if not isinstance(r, Reserved))
    check = Store(path)
    assert used(check) == 5
    check.close()


async def test_concurrent_reservations_through_one_runner(path: Path) -> None:
    runner = StoreThread(path)
    try:
        limits = Limits(user_daily=5)
        results = await asyncio.gather(
            *(runner.run(Store.reserve, new(source_key=f"a:{i}"), limits) for i in range(20))
        )
        assert sum(isinstance(r, Reserved) for r in results) == 5
        assert sum(isinstance(r, Denied) and r.reason == "user_daily" for r in results) == 15
        assert await runner.run(used) == 5
        thread_names = await asyncio.gather(
            *(runner.run(lambda _: threading.current_thread().name) for _ in range(5))
        )
        assert len(set(thread_names)) == 1 and thread_names[0].startswith("sqlite")
    finally:
        runner.close()


# -- recovery and restart ---------------------------------------------------------------


def test_settle_stale_refunds_only_old_draws_without_an_image(store: Store) -> None:
    fresh = reserved_id(store.reserve(new(user="discord:1"), Limits(), now=NOW))
    old = reserved_id(store.reserve(new(user="discord:2"), Limits(), now=NOW - 3600))
    drawn = reserved_id(store.reserve(new(user="telegram:3"), Limits(), now=NOW - 3600))
    store.settle_generated(
        drawn, images=[{}], paths=[], request_id=None, relay_seconds=1, attempts=1, rephrased=None
    )
    assert store.settle_stale(older_than=NOW - 600) == 1
    statuses = {i: store.get(i).status for i in (fresh, old, drawn)}  # type: ignore[union-attr]
    assert statuses == {fresh: "reserved", old: "interrupted", drawn: "generated"}
    assert used(store, "discord:2") == 0 and used(store, "discord:1") == 1


def test_orphans_of_gone_processes_are_adopted_once(store: Store) -> None:
    """Rows of a process that stopped, of one whose heartbeat expired, and of none, on the
    adopter's platforms; never the rows of a live process (a rolling deploy)."""
    for adopter in ("me", "other"):
        store.register_process(adopter, ["telegram"], now=NOW)
    store.register_process("alive", ["telegram"], now=NOW)
    store.register_process("silent", ["telegram"], now=NOW - 120)
    store.register_process("stopped", ["telegram"], now=NOW)
    store.stop_process("stopped", now=NOW)

    def row(user: str, owner: str | None, platform_user: str = "telegram") -> int:
        generation = replace(new(user=f"{platform_user}:{user}"), owner=owner)
        return reserved_id(store.reserve(generation, Limits(), now=NOW))

    live = row("1", "alive")
    silent, stopped, nobody = row("2", "silent"), row("3", "stopped"), row("4", None)
    elsewhere = row("5", "silent", "discord")
    adopted = store.adopt_orphans("me", ["telegram"], expired_before=NOW - 30)
    assert sorted(g.id for g in adopted) == sorted([silent, stopped, nobody])
    assert all(g.owner == "me" for g in adopted)
    assert store.get(live).owner == "alive"  # type: ignore[union-attr]
    assert store.get(elsewhere).owner == "silent"  # type: ignore[union-attr]
    assert store.adopt_orphans("other", ["telegram"], expired_before=NOW - 30) == []
    for beating in ("alive", "me"):
        store.heartbeat(beating, NOW + 100)
    assert store.adopt_orphans("me", ["telegram"], expired_before=NOW + 60) == []
    # A process of this host whose pid runs is alive, however old its heartbeat.
    quiet = row("6", "silent")
    kept = store.adopt_orphans("me", ["telegram"], NOW + 60, alive=["silent"])
    assert kept == [] and store.get(quiet).owner == "silent"  # type: ignore[union-attr]


def test_a_row_is_settled_once(store: Store) -> None:
    generation_id = reserved_id(store.reserve(new(), Limits(), now=NOW))
    assert store.start_generating(generation_id)
    assert store.settle_failure(generation_id, kind="busy")
    assert not store.settle_failure(generation_id, kind="interrupted", status="interrupted")
    assert not store.start_generating(generation_id)
    assert not store.settle_delivered(generation_id, "telegram", [])
    assert store.get(generation_id).status == "failed"  # type: ignore[union-attr]


def test_restart_keeps_counts(path: Path) -> None:
    first = Store(path)
    for _ in range(3):
        succeed(first, reserved_id(first.reserve(new(), Limits(user_daily=3))))
    first.close()
    second = Store(path)
    assert used(second) == 3
    assert second.reserve(new(), Limits(user_daily=3)) == Denied("user_daily", 3, 3)
    second.close()


# -- privacy and housekeeping -----------------------------------------------------------


def test_forget_user_blanks_prompts_but_keeps_counts(store: Store, tmp_path: Path) -> None:
    store.touch_user("telegram:1", "Alice", "en")
    image = tmp_path / "1.png"
    first = reserved_id(store.reserve(new(prompt="my secret prompt"), Limits()))
    succeed(store, first, [str(image)])
    other = reserved_id(store.reserve(new(user="telegram:2", prompt="other"), Limits()))
    assert store.forget_user("telegram:1") == [str(image)]
    forgotten = store.get(first)
    assert forgotten is not None and forgotten.params.prompt == "" and forgotten.image_paths == []
    assert store.history("telegram:1") == []
    assert used(store) == 1
    user = store.user("telegram:1")
    assert user is not None and user["name"] is None
    kept = store.get(other)
    assert kept is not None and kept.params.prompt == "other"
    assert "my secret prompt" not in str(list(store.sqlite.query("SELECT * FROM generations")))


def test_purge_prompts(store: Store) -> None:
    old = reserved_id(store.reserve(new(prompt="old one"), Limits(), now=NOW - 10 * 86400))
    recent = reserved_id(store.reserve(new(prompt="new one"), Limits(), now=NOW))
    assert store.purge_prompts(before=NOW - 86400) == 1
    assert store.get(old).params.prompt == ""  # type: ignore[union-attr]
    assert store.get(recent).params.prompt == "new one"  # type: ignore[union-attr]
    assert store.purge_prompts(before=NOW - 86400) == 0
    assert used(store) == 2


def test_claim_notice_once_per_period(store: Store) -> None:
    assert store.claim_notice("alert:bad_key", 3600, now=NOW) is True
    assert store.claim_notice("alert:bad_key", 3600, now=NOW + 10) is False
    assert store.claim_notice("alert:no_balance", 3600, now=NOW + 10) is True
    assert store.claim_notice("alert:bad_key", 3600, now=NOW + 3599) is False
    assert store.claim_notice("alert:bad_key", 3600, now=NOW + 3601) is True
    assert store.claim_notice("alert:bad_key", 3600, now=NOW + 3700) is False


def test_history_newest_first(store: Store) -> None:
    ids = [reserved_id(store.reserve(new(prompt=f"p{i}"), Limits())) for i in range(4)]
    rows = store.history("telegram:1", limit=3)
    assert [row.id for row in rows] == ids[::-1][:3]
    assert [row.id for row in store.history("telegram:1", limit=3, offset=3)] == ids[:1]
    assert store.history("telegram:9") == []


def test_file_refs(store: Store) -> None:
    generation_id = reserved_id(store.reserve(new(), Limits()))
    store.add_file_refs(generation_id, "telegram", ["AgAC1"])
    store.add_file_refs(generation_id, "discord", ["https://cdn/1.png"])
    row = store.get(generation_id)
    assert row is not None
    assert row.file_refs == {"telegram": ["AgAC1"], "discord": ["https://cdn/1.png"]}


def test_delivered_keeps_the_refs_it_is_given(store: Store) -> None:
    """settle_delivered sets one platform's file ids beside the others', whether it settles
    the row (True) or finds it settled already (False)."""
    delivered = reserved_id(store.reserve(new(), Limits()))
    store.add_file_refs(delivered, "discord", ["https://cdn/1.png"])
    assert store.settle_delivered(delivered, "telegram", ["AgAC1", "AgAC2"])
    row = store.get(delivered)
    assert row is not None and row.status == "delivered"
    assert row.file_refs == {"discord": ["https://cdn/1.png"], "telegram": ["AgAC1", "AgAC2"]}
    assert not store.settle_delivered(delivered, "telegram", ["AgAC3"])
    assert store.get(delivered).file_refs["telegram"] == ["AgAC3"]  # type: ignore[union-attr]
    failed = reserved_id(store.reserve(new(prompt="p2"), Limits()))
    store.settle_failure(failed, kind="send_failed")
    assert not store.settle_delivered(failed, "telegram", ["AgAC4"])
    row = store.get(failed)
    assert row is not None and (row.status, row.file_refs) == ("failed", {"telegram": ["AgAC4"]})


def test_each_record_of_a_draw_is_one_statement(store: Store) -> None:
    """Outside a reservation's transaction each phase's write is one statement, committed by
    itself: no BEGIN, COMMIT or savepoint from the driver or sqlite-utils around it."""
    statements: list[str] = []
    store.sqlite.conn.set_trace_callback(statements.append)
    user = store.touch_user("telegram:1", "Alice", "en")
    assert user["name"] == "Alice" and len(statements) == 1
    generation_id = reserved_id(store.reserve(new(), Limits()))
    for write in (
        lambda: store.start_generating(generation_id),
        lambda: store.settle_generated(
            generation_id,
            images=[],
            paths=[],
            request_id="r1",
            relay_seconds=1.0,
            attempts=1,
            rephrased=None,
        ),
        lambda: store.settle_delivered(generation_id, "telegram", ["AgAC1"]),
        lambda: store.record_kept(generation_id, ["a.png"], [{"width": 1}]),
    ):
        statements.clear()
        write()
        assert len(statements) == 1, statements
    store.sqlite.conn.set_trace_callback(None)
    row = store.get(generation_id)
    assert row is not None and (row.status, row.relay_request_id) == ("delivered", "r1")
    assert row.image_paths == ["a.png"] and row.file_refs == {"telegram": ["AgAC1"]}


def test_stats_figures(store: Store) -> None:
    store.touch_user("telegram:1", "Alice", "en")
    for _ in range(3):
        succeed(store, reserved_id(store.reserve(new(), Limits(), now=NOW)))
    succeed(store, reserved_id(store.reserve(new(user="telegram:2"), Limits(), now=NOW)))
    failed = reserved_id(store.reserve(new(), Limits(), now=NOW))
    store.settle_failure(failed, kind="prompt_refused")
    busy = reserved_id(store.reserve(new(user="telegram:2"), Limits(), now=NOW))
    store.settle_failure(busy, kind="busy")
    interrupted = reserved_id(store.reserve(new(), Limits(), now=NOW))
    store.settle_failure(interrupted, kind="interrupted", status="interrupted")
    reserved_id(store.reserve(new(), Limits(), now=NOW))  # still pending
    old = reserved_id(store.reserve(new(day="2025-02-01"), Limits(), now=NOW - 28 * 86400))
    succeed(store, old)
    figures = store.stats(since=NOW - 7 * 86400, today=DAY)
    assert figures["today"] == 4 and figures["today_failed"] == 3
    assert figures["week"] == 4 and figures["week_failed"] == 3
    assert figures["failures"] == {"prompt_refused": 1, "busy": 1, "interrupted": 1}
    assert figures["top_users"] == [("telegram:1", "Alice", 3), ("telegram:2", None, 1)]
    assert figures["mean_relay_seconds"] == pytest.approx(2.5)
    assert figures["users"] == 1


def test_store_in_memory() -> None:
    memory = Store(":memory:")
    reserved_id(memory.reserve(new(), Limits()))
    assert used(memory) == 1
    memory.close()


def test_unique_source_key_in_schema(store: Store) -> None:
    store.reserve(new(source_key="k"), Limits())
    with pytest.raises(sqlite3.IntegrityError):
        store.sqlite.execute(
            "INSERT INTO generations (source_key, user_key, chat_key, platform, day, status, "
            "created_at) VALUES ('k', 'u', 'c', 'p', 'd', 'reserved', 0)"
        )


def test_processes_starting_together_on_a_new_file(tmp_path: Path) -> None:
    """20 connections opening (and migrating) a database that does not exist yet."""
    path = tmp_path / "fresh" / "bot.db"
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            Store(path).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = Store(path)
    names = [m.name for m in migrations.applied(store.sqlite)]
    assert names == [
        "m001_initial",
        "m002_phases_and_owners",
        "m003_access_lists",
        "m004_models",
    ]
    store.close()
