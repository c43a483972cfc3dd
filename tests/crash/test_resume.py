"""Crash suite: a draw of an asynchronous model (Jimeng 3.0) killed with SIGKILL while its
task is being polled. A new process on the same database polls the recorded task (never
submitting it again) and delivers the picture, charged once; or refunds a lost task."""

from __future__ import annotations

from pathlib import Path

from tests.crash.conftest import NO_QUOTA_USED, WITHIN, Bot, Deployment
from tests.fakes.base import wait_for
from tests.fakes.relay import RESULT, SUBMIT

NONE_LEFT = "received 1 of 1 images; 0 left"
ONE_LEFT = "received 0 of 1 images; 1 left"
LOST = "The image service lost this drawing"
MODELS = """
[[model]]
name = "jimeng30"
api = "volc-async"
id = "jimeng_t2i_v30"
sizes = "512-2048"
"""


def task_of(deploy: Deployment, user: int) -> str | None:
    rows = [r for r in deploy.rows() if r["user_key"] == f"telegram:{user}"]
    return rows[-1]["task_id"] if rows else None


async def polling(deploy: Deployment, **env: str) -> tuple[Bot, str, dict[str, object], Path]:
    """User 1 draws with the async model; the bot, once it has polled the task."""
    table = deploy.root / "models.toml"
    table.write_text(MODELS, encoding="utf-8")
    deploy.relay.req_keys.add("jimeng_t2i_v30")
    deploy.relay.task_polls = 1_000_000  # not done while the first process lives
    old: Bot = await deploy.start("old", MODELS_FILE=str(table), **env)
    asked = await deploy.draw(1)
    task_id = await wait_for(lambda: task_of(deploy, 1), WITHIN, "the task id recorded")
    await wait_for(
        lambda: any(call.action == RESULT for call in deploy.relay.calls), WITHIN, "a poll"
    )
    assert deploy.status_of(1) == "generating"
    return old, task_id, asked, table


async def killed_while_polling(deploy: Deployment) -> tuple[str, dict[str, object], Path]:
    """User 1 draws with the async model; the bot is killed once it has polled the task."""
    old, task_id, asked, table = await polling(deploy)
    await old.kill()
    assert list(deploy.relay.submitted) == [task_id]
    return task_id, asked, table


async def test_a_task_polled_when_killed_is_resumed_and_delivered_once(
    deploy: Deployment,
) -> None:
    task_id, asked, table = await killed_while_polling(deploy)
    deploy.relay.submitted[task_id].polls = 0  # the relay finishes it meanwhile

    await deploy.start("new", MODELS_FILE=str(table))
    photo = await deploy.tg.wait_for_sent(lambda m: m.chat_id == 1 and m.kind == "photo", WITHIN)
    assert photo.reply_to_message_id == asked["message_id"]
    await deploy.status_becomes(1, "delivered")
    actions = [call.action for call in deploy.relay.calls]
    assert actions.count(SUBMIT) == 1  # polled, never drawn again
    polls = [call for call in deploy.relay.calls if call.action == RESULT]
    assert {call.body["task_id"] for call in polls} == {task_id}
    assert deploy.counted(1) == 1
    assert NONE_LEFT in await deploy.quota(1)
    assert not any(NO_QUOTA_USED in text for text in deploy.texts(1))
    assert len(deploy.photos(1)) == 1


async def test_a_task_lost_meanwhile_is_refunded_and_said(deploy: Deployment) -> None:
    task_id, asked, table = await killed_while_polling(deploy)
    del deploy.relay.submitted[task_id]  # the relay no longer knows it: not_found

    await deploy.start("new", MODELS_FILE=str(table))
    told = await deploy.tg.wait_for_sent(
        lambda m: m.chat_id == 1 and LOST in (m.visible_text or ""), WITHIN
    )
    assert told.reply_to_message_id == asked["message_id"]
    assert deploy.status_of(1) == "failed" and deploy.row_of(1)["error_kind"] == "task_lost"
    assert deploy.counted(1) == 0
    assert ONE_LEFT in await deploy.quota(1)
    assert [call.action for call in deploy.relay.calls].count(SUBMIT) == 1
    assert deploy.photos(1) == []


async def test_a_task_finished_within_the_grace_of_a_sigterm_is_delivered_by_the_old_process(
    deploy: Deployment,
) -> None:
    old, task_id, _, table = await polling(deploy, SHUTDOWN_GRACE_SECONDS="60")
    old.process.terminate()  # a deploy stops it while the task is polled...
    deploy.relay.submitted[task_id].polls = 0  # ...and the relay finishes it meanwhile
    assert await old.stop() == 0
    assert len(deploy.photos(1)) == 1
    assert deploy.status_of(1) == "delivered" and deploy.counted(1) == 1
    assert [call.action for call in deploy.relay.calls].count(SUBMIT) == 1

    await deploy.start("new", MODELS_FILE=str(table))
    assert NONE_LEFT in await deploy.quota(1)  # after the new process's first sweep
    assert len(deploy.photos(1)) == 1
    assert not any(NO_QUOTA_USED in text for text in deploy.texts(1))


async def test_a_task_still_drawn_past_the_grace_is_left_to_the_next_process(
    deploy: Deployment,
) -> None:
    """SIGTERM while polling, the task not done within SHUTDOWN_GRACE_SECONDS: not refunded
    (the relay may still finish it), resumed by the next process, delivered, charged once."""
    old, task_id, asked, table = await polling(deploy, SHUTDOWN_GRACE_SECONDS="1")
    assert await old.stop() == 0
    assert deploy.status_of(1) == "generating" and deploy.counted(1) == 1
    (told,) = deploy.texts(1)
    assert told.startswith("The bot is restarting while your picture is being drawn.")
    assert NO_QUOTA_USED not in told

    deploy.relay.submitted[task_id].polls = 0  # the relay finishes it while no bot runs
    await deploy.start("new", MODELS_FILE=str(table))
    photo = await deploy.tg.wait_for_sent(lambda m: m.chat_id == 1 and m.kind == "photo", WITHIN)
    assert photo.reply_to_message_id == asked["message_id"]
    await deploy.status_becomes(1, "delivered")
    assert [call.action for call in deploy.relay.calls].count(SUBMIT) == 1
    polls = [call for call in deploy.relay.calls if call.action == RESULT]
    assert {call.body["task_id"] for call in polls} == {task_id}
    assert deploy.counted(1) == 1
    assert NONE_LEFT in await deploy.quota(1)
    assert len(deploy.photos(1)) == 1
