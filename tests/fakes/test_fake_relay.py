"""Prove the fake YunApi relay with plain httpx calls."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from .png import make_png, png_size
from .relay import FakeRelay, Reply

QUERY = "?Action=CVProcess&Version=2022-08-31"
AUTH = {"Authorization": "Bearer test-key"}


def body(**overrides: Any) -> dict[str, Any]:
    """A minimal valid CVProcess body."""
    return {"req_key": "high_aes_general_v21_L", "prompt": "a red fox"} | overrides


@pytest.fixture
async def relay() -> AsyncIterator[FakeRelay]:
    async with FakeRelay() as fake:
        yield fake


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as c:
        yield c


async def post(
    client: httpx.AsyncClient, relay: FakeRelay, payload: Any = None, **kw: Any
) -> httpx.Response:
    kw.setdefault("headers", AUTH)
    url = relay.base_url + relay.path + kw.pop("query", QUERY)
    return await client.post(url, json=body() if payload is None else payload, **kw)


def test_png_roundtrip() -> None:
    data = make_png(300, 200, seed=7)
    assert png_size(data) == (300, 200)
    with pytest.raises(ValueError):
        png_size(b"not a png at all, definitely not")


async def test_success_with_urls(relay: FakeRelay, client: httpx.AsyncClient) -> None:
    r = await post(client, relay, body(width=512, height=384, seed=42))
    assert r.status_code == 200
    js = r.json()
    assert js["code"] == js["status"] == 10000 and js["message"] == "Success"
    data = js["data"]
    assert data["algorithm_base_resp"]["status_code"] == 0
    assert data["binary_data_base64"] == []
    assert data["rephraser_result"].startswith("a red fox")
    assert data["request_id"] == js["request_id"]
    [url] = data["image_urls"]
    img = await client.get(url)
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    assert png_size(img.content) == (1024, 768)  # use_sr doubles
    call = relay.calls[0]
    assert call.body["seed"] == 42 and call.seed == 42 and call.size == (1024, 768)
    assert call.headers["authorization"] == "Bearer test-key"
    assert call.query == {"Action": "CVProcess", "Version": "2022-08-31"}
    assert call.status == 200 and call.finished_at is not None
    assert relay.image_fetches == 1


async def test_base64_mode_without_sr(relay: FakeRelay, client: httpx.AsyncClient) -> None:
    r = await post(client, relay, body(return_url=False, use_sr=False, width=256, seed=-1))
    data = r.json()["data"]
    assert data["image_urls"] is None
    [b64] = data["binary_data_base64"]
    assert png_size(base64.b64decode(b64)) == (256, 512)
    assert relay.calls[0].seed not in (None, -1)


async def test_images_per_call_and_forced_base64(client: httpx.AsyncClient) -> None:
    async with FakeRelay(images_per_call=2, path="/volcv/v1") as relay:
        r = await post(client, relay)
        assert len(r.json()["data"]["image_urls"]) == 2
        relay.script(Reply.ok(images=3, as_base64=True))
        r = await post(client, relay)
        assert len(r.json()["data"]["binary_data_base64"]) == 3


@pytest.mark.parametrize("null_lists", [False, True])
async def test_empty_success(relay: FakeRelay, client: httpx.AsyncClient, null_lists: bool) -> None:
    relay.script(Reply.ok(empty=True, null_lists=null_lists))
    data = (await post(client, relay)).json()["data"]
    expected: list[str] | None = None if null_lists else []
    assert data["image_urls"] == expected and data["binary_data_base64"] == expected


async def test_image_404_huge_and_slow(relay: FakeRelay, client: httpx.AsyncClient) -> None:
    relay.script(
        Reply.ok(image_status=404),
        Reply.ok(image_bytes=3_000_000),
        Reply.ok(image_delay=1.0),
    )
    urls = [(await post(client, relay)).json()["data"]["image_urls"][0] for _ in range(3)]
    assert (await client.get(urls[0])).status_code == 404
    huge = await client.get(urls[1])
    assert len(huge.content) == 3_000_000 and huge.headers["content-length"] == "3000000"
    with pytest.raises(httpx.ReadTimeout):
        await client.get(urls[2], timeout=0.2)
    assert (await client.get(relay.base_url + "/images/nope.png")).status_code == 404


@pytest.mark.parametrize(
    ("code", "status", "text"),
    [
        (50412, 400, "Text Risk Not Pass"),
        (50511, 400, "Post Img Risk Not Pass"),
        (50429, 429, "Request Has Reached API Limit, please try later"),
        (50501, 500, "Internal RPC Error"),
    ],
)
async def test_volc_errors(
    relay: FakeRelay, client: httpx.AsyncClient, code: int, status: int, text: str
) -> None:
    relay.script(Reply.volc_error(code))
    r = await post(client, relay)
    assert r.status_code == status
    js = r.json()
    assert js["code"] == js["status"] == code and js["message"] == text
    assert js["request_id"] and js["time_elapsed"].endswith("s")


async def test_volc_error_custom_status_then_queue_empties(
    relay: FakeRelay, client: httpx.AsyncClient
) -> None:
    relay.script(Reply.volc_error(50413, message="sensitive words", http_status=200), Reply.ok())
    assert relay.pending == 2
    first = await post(client, relay)
    assert first.status_code == 200 and first.json()["code"] == 50413
    assert first.json()["message"] == "sensitive words"
    assert (await post(client, relay)).json()["code"] == 10000
    relay.default = Reply.volc_error(50500)
    assert (await post(client, relay)).status_code == 500
    assert relay.pending == 0


async def test_openai_errors(relay: FakeRelay, client: httpx.AsyncClient) -> None:
    relay.script(
        Reply.openai_error(401),
        Reply.openai_error(403),
        Reply.openai_error(429, retry_after=7),
        Reply.openai_error(429, message="slow down", code="x", error_type="t", retry_after=1.5),
    )
    r401, r403, r429, custom = [await post(client, relay) for _ in range(4)]
    assert r401.status_code == 401 and r401.json()["error"]["code"] == "invalid_api_key"
    assert r401.json()["error"]["message"].startswith("无效的令牌 (request id: ")
    assert r403.status_code == 403
    assert r403.json()["error"]["code"] == "insufficient_user_quota"
    assert "用户额度不足" in r403.json()["error"]["message"]
    assert r429.status_code == 429 and r429.headers["retry-after"] == "7"
    assert custom.json() == {"error": {"message": "slow down", "type": "t", "code": "x"}}
    assert custom.headers["retry-after"] == "1.5"


async def test_html_empty_and_raw(relay: FakeRelay, client: httpx.AsyncClient) -> None:
    relay.script(
        Reply.html(),
        Reply.empty(),
        Reply.empty(504),
        Reply.raw(200, {"weird": True}, headers={"X-A": "1"}),
    )
    html, empty, empty504, raw = [await post(client, relay) for _ in range(4)]
    assert html.status_code == 502 and html.headers["content-type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in html.text
    assert empty.status_code == 200 and empty.content == b""
    assert empty504.status_code == 504 and empty504.content == b""
    assert raw.json() == {"weird": True} and raw.headers["x-a"] == "1"


async def test_auth_and_query_validation(relay: FakeRelay, client: httpx.AsyncClient) -> None:
    relay.script(Reply.volc_error(50412))
    missing = await post(client, relay, headers={})
    wrong = await post(client, relay, headers={"Authorization": "Bearer nope"})
    bad_query = await post(client, relay, query="?Action=Other&Version=2022-08-31")
    assert missing.status_code == wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert bad_query.status_code == 400 and "error" in bad_query.json()
    assert relay.pending == 1  # validation errors do not consume the script
    assert [c.reply for c in relay.calls] == [None, None, None]
    assert relay.calls[0].error == "invalid api key"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body(req_key="other"), "req_key"),
        ({"req_key": "high_aes_general_v21_L"}, "prompt"),
        (body(prompt="   "), "prompt"),
        (body(width=1024), "width"),
        (body(height=100), "height"),
        (body(scale=11), "scale"),
        (body(ddim_steps=0), "ddim_steps"),
        (body(use_sr="true"), "use_sr"),
        (body(seed=1.5), "seed"),
        (body(width=True), "width"),
        (body(logo_info={"position": 5}), "logo_info.position"),
        (body(logo_info={"opacity": "0.3"}), "logo_info.opacity"),
        (body(logo_info=[1]), "logo_info"),
        ([1, 2], "JSON object"),
    ],
)
async def test_body_validation(
    relay: FakeRelay, client: httpx.AsyncClient, payload: Any, field: str
) -> None:
    r = await post(client, relay, payload)
    assert r.status_code == 400
    js = r.json()
    assert js["code"] == js["status"] == 50400
    assert js["message"].startswith("Invalid parameter: ") and field in js["message"]


async def test_valid_full_body_and_unknown_keys(
    relay: FakeRelay, client: httpx.AsyncClient
) -> None:
    full = body(
        model_version="general_v2.1_L",
        req_schedule_conf="general_v20_9B_pe",
        llm_seed=-1,
        seed=-1,
        scale=3.5,
        ddim_steps=25,
        width=768,
        height=768,
        use_pre_llm=False,
        use_sr=True,
        return_url=True,
        logo_info={"add_logo": True, "position": 0, "language": 0, "opacity": 0.3},
        something_new="ignored",
    )
    r = await post(client, relay, full)
    assert r.json()["code"] == 10000 and r.json()["data"]["rephraser_result"] == ""
    assert relay.calls[0].size == (1536, 1536)


async def test_not_json(relay: FakeRelay, client: httpx.AsyncClient) -> None:
    url = relay.base_url + relay.path + QUERY
    r = await client.post(url, content=b"{oops", headers=AUTH)
    assert r.status_code == 400 and r.json()["code"] == 50400


async def test_latency_overlaps(client: httpx.AsyncClient) -> None:
    async with FakeRelay(latency=0.3) as relay:
        t0 = time.monotonic()
        responses = await asyncio.gather(*(post(client, relay) for _ in range(10)))
        elapsed = time.monotonic() - t0
    assert all(r.json()["code"] == 10000 for r in responses)
    assert 0.3 <= elapsed < 2.0
    assert relay.max_concurrency_seen == 10 and relay.in_flight == 0


async def test_drop(relay: FakeRelay, client: httpx.AsyncClient) -> None:
    relay.script(Reply.drop())
    with pytest.raises(httpx.RemoteProtocolError):
        await post(client, relay)
    assert relay.calls[0].status is None
    assert (await post(client, relay)).status_code == 200  # next call is fine


async def test_hang_and_delay(relay: FakeRelay, client: httpx.AsyncClient) -> None:
    relay.script(Reply.hang(30), Reply.volc_error(50430, delay=0.2))
    t0 = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await post(client, relay, timeout=0.2)
    r = await post(client, relay)
    assert r.status_code == 429 and r.json()["code"] == 50430
    assert time.monotonic() - t0 < 1.5
    await asyncio.sleep(0.05)  # let the server notice the disconnect
    assert relay.calls[0].status is None and relay.calls[0].finished_at is not None


async def test_async_pair_and_openai_validation(
    relay: FakeRelay, client: httpx.AsyncClient
) -> None:
    relay.req_keys.add("jimeng_t2i_v30")
    submit = "?Action=CVSync2AsyncSubmitTask&Version=2022-08-31"
    result = "?Action=CVSync2AsyncGetResult&Version=2022-08-31"
    r = await post(client, relay, {"req_key": "jimeng_t2i_v30", "prompt": "x"}, query=submit)
    task_id = r.json()["data"]["task_id"]
    poll = {"req_key": "jimeng_t2i_v30", "task_id": task_id, "req_json": "{not json"}
    r = await post(client, relay, poll, query=result)
    assert r.status_code == 400 and r.json()["code"] == 50400 and "req_json" in r.text
    r = await post(client, relay, poll | {"req_json": '{"return_url": false}'}, query=result)
    assert r.json()["data"]["status"] == "in_queue"
    r = await post(client, relay, {"req_key": "jimeng_t2i_v40", "prompt": "x"}, query=submit)
    assert r.status_code == 400 and "req_key" in r.text  # not a model this test configured
    form = {"model": "gpt-image-1", "prompt": "x"}
    r = await client.post(f"{relay.base_url}/v1/images/edits", data=form, headers=AUTH)
    assert r.status_code == 400 and "image is required" in r.json()["error"]["message"]
    r = await client.post(
        f"{relay.base_url}/v1/images/generations", json=form | {"n": 2}, headers=AUTH
    )
    assert r.status_code == 400 and "n must be 1" in r.json()["error"]["message"]
