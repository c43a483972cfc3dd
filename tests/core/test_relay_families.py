"""Each API family of RelayClient against the fake relay over real HTTP: volc-sync with an
edit, volc-async (submitted once, polled, resumed, lost), and OpenAI images (generations and
multipart edits); their failures, the deadline, the size caps and the key scrubbing."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina

from core.config import Settings
from core.images import Image, sniff
from core.models import JIMENG_21, Family, Model
from core.outcome import Delivered
from core.params import DrawParams, Watermark
from core.records import Limits
from core.relay import RelayClient
from core.relay_errors import (
    PromptRefused,
    RelayAuthError,
    RelayBadRequest,
    RelayBusy,
    RelayError,
    RelayImageError,
    RelayInternal,
    RelayTaskLost,
    RelayUnreachable,
)
from core.relay_job import RelayJob
from core.request import Place, Requester
from core.root import Core
from core.store import Store
from tests.conftest import API_KEY
from tests.fakes.base import wait_for
from tests.fakes.png import make_png, png_size
from tests.fakes.relay import REQ_KEY, RESULT, SUBMIT, FakeRelay, Reply

SYNC_EDIT = Model("byteedit", Family.VOLC_SYNC, "byteedit_v2.0", edits=True)
V30 = Model("jimeng30", Family.VOLC_ASYNC, "jimeng_t2i_v30", min_side=512, max_side=2048)
V40 = Model("jimeng40", Family.VOLC_ASYNC, "jimeng_t2i_v40", max_side=4096, edits=True)
GPT = Model("gpt", Family.OPENAI, "gpt-image-1", sizes=((1024, 1024), (1536, 1024)), edits=True)
MARK = Watermark(enabled=True, text="drawbot", position=2, opacity=0.5)


@pytest.fixture
async def relay() -> AsyncIterator[FakeRelay]:
    keys = {REQ_KEY, SYNC_EDIT.model_id, V30.model_id, V40.model_id}
    async with FakeRelay(api_key=API_KEY, req_keys=keys) as fake:
        yield fake
    assert fake.internal_errors == []


@pytest.fixture
async def client(relay: FakeRelay) -> AsyncIterator[RelayClient]:
    async with RelayClient(relay.base_url, API_KEY, path=relay.path, deadline=5.0) as opened:
        yield opened


def job(model: Model, source: Image | None = None, **changes: Any) -> RelayJob:
    size = {"width": 1024, "height": 1024} if model.family is not Family.VOLC_SYNC else {}
    params = DrawParams(prompt="千军万马 a red fox", seed=42, model=model.name, **size | changes)
    return RelayJob(model, params, MARK, source=source)


def picture() -> Image:
    return sniff(make_png(64, 48, 7))


def actions(relay: FakeRelay) -> list[str]:
    return [call.action for call in relay.calls]


async def fails(
    client: RelayClient, sent: RelayJob, kind: type[RelayError], **kw: Any
) -> RelayError:
    with pytest.raises(kind) as caught:
        await client.generate(sent, **kw)
    error = caught.value
    assert type(error) is kind
    assert API_KEY not in str(error) and API_KEY not in repr(error)
    return error


# -- volc-sync ----------------------------------------------------------------------------


async def test_sync_calls_cvprocess_with_the_models_req_key(
    relay: FakeRelay, client: RelayClient
) -> None:
    result = await client.generate(job(SYNC_EDIT))
    [call] = relay.calls
    assert call.action == "CVProcess" and call.error is None
    assert call.body["req_key"] == "byteedit_v2.0" and "binary_data_base64" not in call.body
    assert len(result.images) == 1 and call.source is None


async def test_sync_edit_sends_the_picture_in_the_same_body(
    relay: FakeRelay, client: RelayClient
) -> None:
    source = picture()
    result = await client.generate(job(SYNC_EDIT, source))
    [call] = relay.calls
    assert call.body["binary_data_base64"] == [base64.b64encode(source.data).decode()]
    assert call.source == source.data
    assert call.body["logo_info"]["logo_text_content"] == "drawbot"
    assert len(result.images) == 1


async def test_an_unknown_req_key_is_refused_by_the_strict_fake(
    relay: FakeRelay, client: RelayClient
) -> None:
    unknown = Model("other", Family.VOLC_SYNC, "not_a_model")
    error = await fails(client, job(unknown), RelayBadRequest)
    assert "req_key" in str(error) and len(relay.calls) == 1


# -- volc-async ---------------------------------------------------------------------------


async def test_async_submits_once_then_polls_until_done(
    relay: FakeRelay, client: RelayClient
) -> None:
    told: list[str] = []
    result = await client.generate(job(V30, width=1328, height=768), on_task=told.append)
    assert actions(relay) == [SUBMIT, RESULT, RESULT, RESULT]
    submit, *polls = relay.calls
    assert [p.task_status for p in polls] == ["in_queue", "generating", "done"]
    assert submit.query == {"Action": SUBMIT, "Version": "2022-08-31"}
    assert submit.body == {
        "req_key": "jimeng_t2i_v30",
        "prompt": "千军万马 a red fox",
        "seed": 42,
        "width": 1328,
        "height": 768,
        "use_pre_llm": True,
    }
    [task_id] = told
    assert list(relay.submitted) == [task_id]
    for poll in polls:
        assert poll.body["req_key"] == "jimeng_t2i_v30" and poll.body["task_id"] == task_id
        options = json.loads(poll.body["req_json"])
        assert options["return_url"] is True
        assert options["logo_info"] == MARK.to_logo_info()
    [image] = result.images
    assert (image.width, image.height) == png_size(image.data) == (1328, 768)
    assert result.image_urls == polls[-1].image_urls and result.request_id


async def test_async_sends_scale_only_when_set(relay: FakeRelay, client: RelayClient) -> None:
    await client.generate(job(V30, scale=5.0))
    assert relay.calls[0].body["scale"] == 5.0


async def test_async_edit_sends_the_picture_with_the_submit(
    relay: FakeRelay, client: RelayClient
) -> None:
    source = picture()
    await client.generate(job(V40, source))
    submit = relay.calls[0]
    assert submit.action == SUBMIT and submit.source == source.data
    assert all(call.source is None for call in relay.calls[1:])


async def test_async_result_in_base64(relay: FakeRelay, client: RelayClient) -> None:
    relay.script(Reply.ok(as_base64=True, images=2, polls=0))
    result = await client.generate(job(V30))
    assert actions(relay) == [SUBMIT, RESULT]
    assert len(result.images) == 2 and relay.image_fetches == 0 and result.image_urls == []


@pytest.mark.parametrize(
    "failure",
    [
        Reply.volc_error(50430),
        Reply.volc_error(50429),
        Reply.volc_error(50500),
        Reply.openai_error(500),
        Reply.html(502),
        Reply.drop(),
    ],
)
@pytest.mark.parametrize("retry_busy", [True, False])
async def test_a_failed_poll_is_polled_again_never_resubmitted(
    relay: FakeRelay, client: RelayClient, failure: Reply, retry_busy: bool
) -> None:
    told: list[str] = []
    relay.script(Reply.ok(), failure, Reply.ok(), failure)
    result = await client.generate(job(V30), retry_busy=retry_busy, on_task=told.append)
    assert actions(relay).count(SUBMIT) == 1 and len(relay.submitted) == 1
    assert actions(relay) == [SUBMIT, RESULT, RESULT, RESULT, RESULT, RESULT]
    assert len(told) == 1 and len(result.images) == 1 and result.attempts == 3


async def test_polls_failing_past_the_attempts_end_the_draw_without_a_new_submit(
    relay: FakeRelay, client: RelayClient
) -> None:
    relay.script(Reply.ok())
    relay.default = Reply.volc_error(50500)
    await fails(client, job(V30), RelayInternal)
    assert actions(relay) == [SUBMIT, RESULT, RESULT, RESULT, RESULT]


@pytest.mark.parametrize("failure", [Reply.volc_error(50500), Reply.html(502), Reply.drop()])
async def test_a_failed_submit_is_submitted_again(
    relay: FakeRelay, client: RelayClient, failure: Reply
) -> None:
    told: list[str] = []
    relay.script(failure)
    result = await client.generate(job(V30), on_task=told.append)
    assert actions(relay)[:2] == [SUBMIT, SUBMIT] and len(relay.submitted) == 1
    assert told == list(relay.submitted) and len(result.images) == 1


async def test_a_busy_submit_is_raised_at_once_for_the_queue(
    relay: FakeRelay, client: RelayClient
) -> None:
    told: list[str] = []
    relay.script(Reply.volc_error(50430))
    await fails(client, job(V30), RelayBusy, retry_busy=False, on_task=told.append)
    assert actions(relay) == [SUBMIT] and told == []


@pytest.mark.parametrize("status", ["not_found", "expired"])
async def test_a_lost_task_is_its_own_final_error(
    relay: FakeRelay, client: RelayClient, status: Any
) -> None:
    relay.script(Reply.ok(), Reply.task(status))
    error = await fails(client, job(V30), RelayTaskLost)
    assert error.reason == "task_lost" and not error.retryable and error.code == status
    assert actions(relay) == [SUBMIT, RESULT]


@pytest.mark.parametrize("reply", [Reply.volc_error(50511), Reply.volc_error(50412)])
async def test_a_refused_result_is_not_asked_again(
    relay: FakeRelay, client: RelayClient, reply: Reply
) -> None:
    relay.script(Reply.ok(), reply)
    with pytest.raises(RelayError) as caught:
        await client.generate(job(V30))
    assert caught.value.reason in ("output_refused", "prompt_refused")
    assert actions(relay) == [SUBMIT, RESULT]


async def submit_directly(relay: FakeRelay, model: Model) -> str:
    """A task submitted by an earlier process (its id recorded, the process gone)."""
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{relay.base_url}{relay.path}",
            params={"Action": SUBMIT, "Version": "2022-08-31"},
            json={"req_key": model.model_id, "prompt": "a red fox", "width": 1024, "height": 1024},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
    task_id: str = answer.json()["data"]["task_id"]
    relay.calls.clear()
    return task_id


async def test_a_resumed_task_is_polled_only(relay: FakeRelay, client: RelayClient) -> None:
    task_id = await submit_directly(relay, V30)
    told: list[str] = []
    resumed = RelayJob(V30, job(V30).params, MARK, task_id=task_id)
    result = await client.generate(resumed, on_task=told.append)
    assert actions(relay) == [RESULT, RESULT, RESULT] and told == []
    assert {call.body["task_id"] for call in relay.calls} == {task_id}
    assert len(result.images) == 1 and len(relay.submitted) == 1


async def test_a_resumed_task_the_relay_does_not_know_is_lost(
    relay: FakeRelay, client: RelayClient
) -> None:
    resumed = RelayJob(V30, job(V30).params, MARK, task_id="7301234567890123456")
    error = await fails(client, resumed, RelayTaskLost)
    assert error.code == "not_found" and actions(relay) == [RESULT]


async def test_polling_ends_at_the_deadline_with_one_submit(relay: FakeRelay) -> None:
    relay.task_polls = 1000  # never done in time
    with stamina.set_testing(False):  # real pauses between polls: 1 s, 1.5 s, ...
        async with RelayClient(relay.base_url, API_KEY, deadline=2.0) as client:
            error = await fails(client, job(V30), RelayUnreachable)
    assert "within 2s" in str(error)
    assert actions(relay).count(SUBMIT) == 1
    assert 2 <= actions(relay).count(RESULT) <= 3  # polite: not one poll per millisecond


async def test_an_async_image_over_the_cap_is_refused_without_a_new_submit(
    relay: FakeRelay,
) -> None:
    relay.script(Reply.ok(image_bytes=300_000, polls=0))
    async with RelayClient(relay.base_url, API_KEY, max_image_bytes=100_000) as client:
        error = await fails(client, job(V30), RelayImageError)
    assert "larger than 100000 bytes" in str(error)
    assert actions(relay) == [SUBMIT, RESULT]


# -- openai -------------------------------------------------------------------------------


async def test_openai_generation(relay: FakeRelay, client: RelayClient) -> None:
    result = await client.generate(job(GPT, width=1536, height=1024))
    [call] = relay.calls
    assert call.path == "/v1/images/generations" and call.error is None
    assert call.headers["Authorization"] == f"Bearer {API_KEY}"
    assert call.body == {
        "model": "gpt-image-1",
        "prompt": "千军万马 a red fox",
        "n": 1,
        "size": "1536x1024",
    }  # no seed, no watermark, no response_format (gpt-image-1 refuses it) in this family
    [image] = result.images
    assert (image.width, image.height) == (1536, 1024) and relay.image_fetches == 1
    assert result.image_urls == call.image_urls
    assert result.rephrased == "千军万马 a red fox, detailed" and result.request_id


async def test_openai_answer_in_base64(relay: FakeRelay, client: RelayClient) -> None:
    relay.script(Reply.ok(as_base64=True))
    result = await client.generate(job(GPT))
    assert len(result.images) == 1 and relay.image_fetches == 0 and result.image_urls == []


async def test_openai_links_are_left_to_the_caller_without_download(
    relay: FakeRelay, client: RelayClient
) -> None:
    result = await client.generate(job(GPT), download=False)
    assert result.images == [] and result.image_urls == relay.calls[0].image_urls
    assert len(await client.download(result.image_urls)) == 1


async def test_openai_edit_is_multipart_with_the_picture(
    relay: FakeRelay, client: RelayClient
) -> None:
    source = picture()
    result = await client.generate(job(GPT, source))
    [call] = relay.calls
    assert call.path == "/v1/images/edits" and call.error is None
    assert call.headers["Content-Type"].startswith("multipart/form-data")
    assert call.source == source.data
    assert call.body == {
        "model": "gpt-image-1",
        "prompt": "千军万马 a red fox",
        "n": "1",
        "size": "1024x1024",
    }
    assert len(result.images) == 1


@pytest.mark.parametrize(
    ("reply", "kind", "calls"),
    [
        (
            Reply.openai_error(
                400,
                message="Your request was rejected as a result of our safety system.",
                code="content_policy_violation",
                error_type="invalid_request_error",
            ),
            PromptRefused,
            1,
        ),
        (Reply.openai_error(400, code="moderation_blocked"), PromptRefused, 1),
        (Reply.openai_error(400, message="bad size", code="invalid_value"), RelayBadRequest, 1),
        (Reply.openai_error(401), RelayAuthError, 1),
        (Reply.openai_error(429), RelayBusy, 4),
        (Reply.openai_error(500), RelayInternal, 4),
    ],
)
async def test_openai_errors(
    relay: FakeRelay, client: RelayClient, reply: Reply, kind: type[RelayError], calls: int
) -> None:
    relay.default = reply
    await fails(client, job(GPT), kind)
    assert len(relay.calls) == calls


async def test_openai_unknown_model_is_a_bad_request(relay: FakeRelay, client: RelayClient) -> None:
    other = Model("dalle", Family.OPENAI, "dall-e-3")
    error = await fails(client, job(other), RelayBadRequest)
    assert "model" in str(error) and len(relay.calls) == 1


async def test_openai_base64_over_the_cap_is_refused(relay: FakeRelay) -> None:
    big = base64.b64encode(make_png(8, 8, 1).ljust(150_000, b"\0")).decode()
    relay.script(Reply.raw(200, {"created": 1, "data": [{"b64_json": big}]}))
    async with RelayClient(relay.base_url, API_KEY, max_image_bytes=100_000) as client:
        error = await fails(client, job(GPT), RelayImageError)
    assert "larger than 100000 bytes" in str(error) and len(relay.calls) == 1


# -- the key never shows --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "replies"),
    [
        (GPT, [Reply.openai_error(400, message=f"bad key {API_KEY}", code="x")]),
        (V30, [Reply.ok(), Reply.raw(400, {"code": 1234, "message": f"task of {API_KEY}"})]),
        (V30, [Reply.volc_error(50400, message=f"Invalid parameter: Bearer {API_KEY}")]),
    ],
)
async def test_the_key_never_appears_in_errors_or_logs(
    relay: FakeRelay,
    client: RelayClient,
    model: Model,
    replies: list[Reply],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    relay.script(*replies)
    with pytest.raises(RelayError) as caught:
        await client.generate(job(model))
    error = caught.value
    for shown in (str(error), repr(error), error.detail, *map(str, error.args)):
        assert API_KEY not in shown
    assert API_KEY not in caplog.text


async def test_jimeng_21_is_unchanged(relay: FakeRelay, client: RelayClient) -> None:
    sent = RelayJob(JIMENG_21, DrawParams(prompt="a red fox", seed=1), MARK)
    await client.generate(sent)
    assert relay.calls[0].body == sent.params.to_payload(MARK)


# -- through the service: the task id is recorded, a push-back polls the same task ---------

MODELS = """
default = "jimeng21"

[[model]]
name = "jimeng21"
api = "volc-sync"
id = "high_aes_general_v21_L"

[[model]]
name = "jimeng30"
api = "volc-async"
id = "jimeng_t2i_v30"
sizes = "512-2048"
cost = 1
"""


@pytest.fixture
async def core_with_models(env: dict[str, str], tmp_path: Path) -> AsyncIterator[Core]:
    table = tmp_path / "models.toml"
    table.write_text(MODELS, encoding="utf-8")
    settings = Settings.load(environ=env | {"MODELS_FILE": str(table)}, env_file=None)
    async with Core.open(settings, ["test"]) as opened:
        yield opened


def task_of(generation_id: int) -> Callable[[Store], str | None]:
    def read(store: Store) -> str | None:
        row = store.sqlite.execute(
            "SELECT task_id FROM generations WHERE id = ?", [generation_id]
        ).fetchone()
        return None if row is None else row[0]

    return read


async def test_the_service_records_the_task_and_polls_it_after_a_push_back(
    core_with_models: Core, relay: FakeRelay
) -> None:
    core = core_with_models
    # the submit answers; then every poll of the client's attempts is busy: the queue takes
    # the draw back, and its next turn polls the same task instead of drawing it again
    relay.script(Reply.ok(), *[Reply.volc_error(50430)] * 4)
    requester, place = Requester("telegram", "1", "Alice", "en"), Place("telegram", "1")
    params = DrawParams(prompt="a red fox", width=1024, height=1024, model="jimeng30")
    outcome = await core.service.draw(requester, place, params)
    assert isinstance(outcome, Delivered), outcome
    assert actions(relay).count(SUBMIT) == 1 and len(relay.submitted) == 1
    [task_id] = relay.submitted
    recorded = await wait_for(
        lambda: core.store.run(task_of(outcome.generation.id)), what="the task id recorded"
    )
    assert recorded == task_id
    usage = await core.store.run(
        Store.usage, requester.key, place.key, core.service.today(), Limits()
    )
    assert usage.used == 1  # one draw, charged once
