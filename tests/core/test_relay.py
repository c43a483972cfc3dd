"""RelayClient against the fake relay over real HTTP: requests, images, every error shape."""

from __future__ import annotations

import base64
import logging
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import stamina

from core.images import ImageError, decode_base64
from core.models import JIMENG_21
from core.params import DrawParams, Watermark
from core.relay import RelayClient
from core.relay_errors import (
    OutputRefused,
    PromptRefused,
    RelayAuthError,
    RelayBadRequest,
    RelayBalanceError,
    RelayBusy,
    RelayCannotConnect,
    RelayError,
    RelayImageError,
    RelayInternal,
    RelayNoImage,
    RelayUnreachable,
)
from core.relay_job import RelayJob
from tests.conftest import API_KEY
from tests.fakes.photo import make_photo
from tests.fakes.png import make_png, png_size
from tests.fakes.relay import FakeRelay, Reply


def payload(**changes: Any) -> RelayJob:
    params = DrawParams(prompt="千军万马 a red fox", seed=42, **changes)
    return RelayJob(
        JIMENG_21, params, Watermark(enabled=True, text="drawbot", position=2, opacity=0.5)
    )


def make_client(relay: FakeRelay, **options: Any) -> RelayClient:
    options = {"deadline": 5.0, **options}
    return RelayClient(relay.base_url, API_KEY, path=relay.path, **options)


@pytest.fixture
async def client(relay: FakeRelay) -> AsyncIterator[RelayClient]:
    async with make_client(relay) as opened:
        yield opened


async def fails(client: RelayClient, kind: type[RelayError], **changes: Any) -> RelayError:
    with pytest.raises(kind) as caught:
        await client.generate(payload(**changes))
    error = caught.value
    assert type(error) is kind
    assert API_KEY not in str(error) and API_KEY not in repr(error)
    return error


# -- success ----------------------------------------------------------------------------


async def test_success_with_image_urls(relay: FakeRelay, client: RelayClient) -> None:
    result = await client.generate(payload(width=768, height=512))
    [call] = relay.calls
    [image] = result.images
    assert image.mime == "image/png" and image.data.startswith(b"\x89PNG")
    assert (image.width, image.height) == call.size == (1536, 1024)  # super-resolution doubles
    assert png_size(image.data) == call.size
    assert result.image_urls == call.image_urls and relay.image_fetches == 1
    assert result.attempts == 1 and result.request_id
    assert result.rephrased is not None and result.rephrased.startswith("千军万马 a red fox")


async def test_success_without_super_resolution(relay: FakeRelay, client: RelayClient) -> None:
    result = await client.generate(payload(width=256, height=768, super_res=False))
    assert [(i.width, i.height) for i in result.images] == [(256, 768)]
    assert relay.calls[0].size == (256, 768)


async def test_several_images(relay: FakeRelay, client: RelayClient) -> None:
    relay.script(Reply.ok(images=3))
    result = await client.generate(payload())
    assert len(result.images) == 3 and relay.image_fetches == 3
    assert len({image.data for image in result.images}) == 3


@pytest.mark.parametrize("images", [1, 2])
async def test_base64_mode(relay: FakeRelay, client: RelayClient, images: int) -> None:
    relay.script(Reply.ok(images=images, as_base64=True))
    result = await client.generate(payload(width=512, height=384))
    assert len(result.images) == images and relay.image_fetches == 0
    for image in result.images:
        assert (image.width, image.height) == png_size(image.data) == (1024, 768)
    assert result.image_urls == []


async def test_request_is_the_seed_call(relay: FakeRelay, client: RelayClient) -> None:
    sent = payload(width=768, height=512, steps=30, scale=7.5, expand=False)
    await client.generate(sent)
    [call] = relay.calls
    assert call.error is None and call.status == 200
    assert call.path == "/volcv"
    assert call.query == {"Action": "CVProcess", "Version": "2022-08-31"}
    assert call.headers["Authorization"] == f"Bearer {API_KEY}"
    assert call.headers["Content-Type"].startswith("application/json")
    body = call.body
    assert body == sent.params.to_payload(sent.watermark)
    assert body["req_key"] == "high_aes_general_v21_L"
    assert body["model_version"] == "general_v2.1_L"
    assert body["req_schedule_conf"] == "general_v20_9B_pe"
    assert (body["width"], body["height"]) == (768, 512)
    assert (body["seed"], body["llm_seed"], body["ddim_steps"], body["scale"]) == (42, 42, 30, 7.5)
    assert (body["use_pre_llm"], body["use_sr"], body["return_url"]) == (False, True, True)
    assert body["prompt"] == "千军万马 a red fox"
    assert body["logo_info"] == {
        "add_logo": True,
        "position": 2,
        "language": 0,
        "opacity": 0.5,
        "logo_text_content": "drawbot",
    }


async def test_logo_text_is_left_out_when_unset(relay: FakeRelay, client: RelayClient) -> None:
    sent = RelayJob(JIMENG_21, DrawParams(prompt="a red fox"), Watermark(enabled=False))
    await client.generate(sent)
    body = relay.calls[0].body
    assert body["seed"] == -1 and body["logo_info"]["add_logo"] is False
    assert "logo_text_content" not in body["logo_info"]


async def test_other_path_under_the_root() -> None:
    async with FakeRelay(api_key=API_KEY, path="/volcv/v1") as relay:
        async with make_client(relay) as client:
            result = await client.generate(payload())
        assert relay.calls[0].path == "/volcv/v1" and relay.calls[0].error is None
        assert len(result.images) == 1


async def test_base_url_with_trailing_slash(relay: FakeRelay) -> None:
    async with RelayClient(relay.base_url + "/", API_KEY) as client:
        await client.generate(payload())
    assert relay.calls[0].path == "/volcv"


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [50411, 50412, 50413, 50512])
@pytest.mark.parametrize("http_status", [None, 200])
async def test_prompt_refused_is_final(
    relay: FakeRelay, client: RelayClient, code: int, http_status: int | None
) -> None:
    relay.script(Reply.volc_error(code, http_status=http_status))
    error = await fails(client, PromptRefused)
    assert error.reason == "prompt_refused" and not error.retryable
    assert error.code == code and error.request_id
    assert len(relay.calls) == 1


@pytest.mark.parametrize("code", [50511, 50519])
async def test_output_refused_is_retried_once(
    relay: FakeRelay, client: RelayClient, code: int
) -> None:
    relay.default = Reply.volc_error(code)
    error = await fails(client, OutputRefused)
    assert error.reason == "output_refused" and error.code == code
    assert len(relay.calls) == 2


async def test_output_refused_then_success(relay: FakeRelay, client: RelayClient) -> None:
    relay.script(Reply.volc_error(50511))
    result = await client.generate(payload())
    assert result.attempts == 2 and len(result.images) == 1 and len(relay.calls) == 2


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply.volc_error(50429), RelayBusy),
        (Reply.volc_error(50430), RelayBusy),
        (Reply.openai_error(429), RelayBusy),
        (Reply.volc_error(50500), RelayInternal),
        (Reply.volc_error(50501), RelayInternal),
        (Reply.html(502), RelayInternal),
        (Reply.html(504), RelayInternal),
        (Reply.empty(), RelayInternal),
        (Reply.empty(status=502), RelayInternal),
        (Reply.raw(200, "<html>hello</html>", content_type="text/html"), RelayInternal),
        (Reply.openai_error(500), RelayInternal),
        (Reply.drop(), RelayUnreachable),
        (Reply.ok(empty=True), RelayNoImage),
        (Reply.ok(empty=True, null_lists=True), RelayNoImage),
    ],
)
async def test_transient_errors_are_retried(
    relay: FakeRelay, client: RelayClient, reply: Reply, kind: type[RelayError]
) -> None:
    relay.default = reply
    error = await fails(client, kind)
    assert error.retryable
    assert len(relay.calls) == 4  # max_attempts


@pytest.mark.parametrize(
    "reply",
    [
        Reply.volc_error(50429),
        Reply.volc_error(50500),
        Reply.html(502),
        Reply.empty(),
        Reply.drop(),
        Reply.ok(empty=True),
    ],
)
async def test_transient_error_then_success(
    relay: FakeRelay, client: RelayClient, reply: Reply
) -> None:
    relay.script(reply, reply)
    result = await client.generate(payload())
    assert result.attempts == 3 and len(result.images) == 1
    assert len(relay.calls) == 3


async def test_http_429_waits_for_retry_after(relay: FakeRelay, client: RelayClient) -> None:
    relay.script(Reply.openai_error(429, retry_after=0.3))
    with stamina.set_testing(False):  # real pauses: Retry-After is honoured
        result = await client.generate(payload())
    first, second = relay.calls
    assert result.attempts == 2
    assert first.status == 429 and second.status == 200
    assert first.finished_at is not None
    assert second.started_at - first.finished_at >= 0.25


async def test_retry_after_beyond_the_deadline_gives_up_at_once(relay: FakeRelay) -> None:
    relay.script(Reply.openai_error(429, retry_after=30))
    started = time.monotonic()
    async with make_client(relay, deadline=2.0) as client:
        error = await fails(client, RelayBusy)
    assert error.status == 429 and error.retry_after == 30
    assert len(relay.calls) == 1
    assert time.monotonic() - started < 1.5


async def test_test_mode_skips_the_pauses_but_keeps_the_attempts(
    relay: FakeRelay, client: RelayClient
) -> None:
    assert stamina.is_testing()  # tests/conftest.py fast_retries
    relay.default = Reply.volc_error(50429)
    started = time.monotonic()
    await fails(client, RelayBusy)
    assert len(relay.calls) == 4 and time.monotonic() - started < 1.0  # real pauses: 1+2+4 s


async def test_no_pause_is_started_that_would_end_past_the_deadline(relay: FakeRelay) -> None:
    relay.default = Reply.volc_error(50429)
    started = time.monotonic()
    with stamina.set_testing(False):
        async with make_client(relay, deadline=2.5) as client:
            error = await fails(client, RelayBusy)  # the last answer, not "unreachable"
    first, second = relay.calls  # attempt, 1 s pause, attempt; a 2 s pause would pass 2.5 s
    assert first.finished_at is not None
    assert 1.0 <= second.started_at - first.finished_at < 1.5 + 0.3  # 1 s + jitter up to 0.5
    assert time.monotonic() - started < 2.0
    assert error.reason == "busy"


async def test_the_deadline_bounds_attempts_and_pauses(relay: FakeRelay) -> None:
    relay.default = Reply.volc_error(50500, delay=0.4)
    started = time.monotonic()
    async with make_client(relay, deadline=1.0, max_attempts=100) as client:
        error = await fails(client, RelayUnreachable)
    assert 0.9 <= time.monotonic() - started < 1.5
    assert 2 <= len(relay.calls) <= 3 and "within 1s" in str(error)


@pytest.mark.parametrize(
    ("reply", "kind", "status"),
    [
        (Reply.openai_error(401), RelayAuthError, 401),
        (Reply.openai_error(403), RelayBalanceError, 403),
        (Reply.openai_error(403, message="quota exceeded", code="x"), RelayBalanceError, 403),
        (Reply.openai_error(402, message="payment required"), RelayBalanceError, 402),
        (Reply.openai_error(403, message="forbidden", code="forbidden"), RelayAuthError, 403),
        (Reply.raw(401, b"Unauthorized", content_type="text/plain"), RelayAuthError, 401),
        (Reply.volc_error(50400), RelayBadRequest, 400),
        (Reply.openai_error(400, message="bad", code="invalid_request"), RelayBadRequest, 400),
    ],
)
async def test_final_errors_are_not_retried(
    relay: FakeRelay, client: RelayClient, reply: Reply, kind: type[RelayError], status: int
) -> None:
    relay.script(reply)
    error = await fails(client, kind)
    assert not error.retryable and error.status == status
    assert len(relay.calls) == 1


async def test_wrong_key_is_an_auth_error(relay: FakeRelay) -> None:
    async with RelayClient(relay.base_url, "sk-wrong") as client:
        with pytest.raises(RelayAuthError) as caught:
            await client.generate(payload())
    assert caught.value.reason == "bad_key"
    assert relay.calls[0].error == "invalid api key" and len(relay.calls) == 1


async def test_invalid_body_is_a_bad_request(relay: FakeRelay, client: RelayClient) -> None:
    error = await fails(client, RelayBadRequest, width=1000)
    assert error.code == 50400 and "width" in str(error)
    assert relay.calls[0].error is not None and len(relay.calls) == 1


async def test_hang_ends_within_about_the_deadline(relay: FakeRelay) -> None:
    relay.default = Reply.hang(30)
    started = time.monotonic()
    async with make_client(relay, deadline=1.0) as client:
        error = await fails(client, RelayUnreachable)
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 3.0
    assert error.reason == "unreachable"


async def test_unreachable_host() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with RelayClient(f"http://127.0.0.1:{port}", API_KEY) as client:
        with pytest.raises(RelayUnreachable) as caught:
            await client.generate(payload())
    assert caught.value.reason == "cannot_connect" and not caught.value.retryable
    assert API_KEY not in str(caught.value)


async def test_image_url_404(relay: FakeRelay, client: RelayClient) -> None:
    relay.script(Reply.ok(image_status=404))
    error = await fails(client, RelayImageError)
    assert "404" in str(error) and error.request_id
    assert len(relay.calls) == 1


async def test_image_larger_than_the_cap(relay: FakeRelay) -> None:
    relay.script(Reply.ok(image_bytes=300_000))
    async with make_client(relay, max_image_bytes=100_000) as client:
        error = await fails(client, RelayImageError)
    assert "larger than 100000 bytes" in str(error)
    assert len(relay.calls) == 1


async def test_image_under_the_cap_is_accepted(relay: FakeRelay) -> None:
    relay.script(Reply.ok(image_bytes=90_000))
    async with make_client(relay, max_image_bytes=100_000) as client:
        result = await client.generate(payload())
    assert len(result.images[0].data) == 90_000


@pytest.mark.parametrize(
    "reply",
    [
        Reply.openai_error(401, message=f"invalid token {API_KEY}"),
        Reply.openai_error(403, message=f"key {API_KEY} has no balance left"),
        Reply.volc_error(50400, message=f"Invalid parameter: Bearer {API_KEY}"),
        Reply.raw(500, {"error": {"message": f"upstream refused {API_KEY}"}}),
        Reply.raw(400, {"code": 12345, "message": f"bad key {API_KEY}"}),
    ],
)
async def test_key_never_appears_in_errors_or_logs(
    relay: FakeRelay, reply: Reply, caplog: pytest.LogCaptureFixture
) -> None:
    relay.default = reply
    caplog.set_level(logging.DEBUG)
    async with make_client(relay, max_attempts=2) as client:
        with pytest.raises(RelayError) as caught:
            await client.generate(payload())
    error = caught.value
    for shown in (str(error), repr(error), error.detail, *map(str, error.args)):
        assert API_KEY not in shown
    assert API_KEY not in caplog.text


async def test_balance_is_unknown_when_the_relay_has_no_billing(client: RelayClient) -> None:
    assert await client.balance() is None
    assert await client.reachable() is True


def jpeg_header(width: int, height: int) -> bytes:
    """SOI, a JFIF APP0 segment, then a baseline SOF0 carrying the size."""
    app0 = b"\xff\xe0" + (16).to_bytes(2, "big") + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + (17).to_bytes(2, "big") + b"\x08"
    sof0 += height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x03" + b"\x00" * 9
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def webp_header(width: int, height: int) -> bytes:
    """RIFF/WEBP with a VP8X chunk (sizes stored minus one, 24-bit little-endian)."""
    vp8x = b"VP8X" + (10).to_bytes(4, "little") + b"\x00\x00\x00\x00"
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + (4 + len(vp8x)).to_bytes(4, "little") + b"WEBP" + vp8x


def success_body(*encoded: str) -> dict[str, Any]:
    data = {"binary_data_base64": list(encoded), "image_urls": None, "request_id": "R1"}
    return {"code": 10000, "data": data, "message": "Success", "request_id": "R1"}


@pytest.mark.parametrize(
    ("data", "mime", "size"),
    [
        (jpeg_header(768, 512), "image/jpeg", (768, 512)),
        (webp_header(1536, 1024), "image/webp", (1536, 1024)),
    ],
)
async def test_other_image_formats(
    relay: FakeRelay, client: RelayClient, data: bytes, mime: str, size: tuple[int, int]
) -> None:
    encoded = base64.b64encode(data).decode()
    relay.script(Reply.raw(200, success_body(encoded, f"data:{mime};base64,{encoded}")))
    result = await client.generate(payload())
    assert [(i.mime, (i.width, i.height)) for i in result.images] == [(mime, size)] * 2
    assert result.request_id == "R1"


async def test_base64_that_is_not_an_image(relay: FakeRelay, client: RelayClient) -> None:
    relay.script(Reply.raw(200, success_body(base64.b64encode(b"<html>nope</html>").decode())))
    error = await fails(client, RelayImageError)
    assert "not an image" in str(error) and len(relay.calls) == 1


# -- size caps on base64 images and on the answer itself --------------------------------


def padded_png(size: int) -> bytes:
    """A real PNG padded with zeros to exactly `size` bytes."""
    png = make_png(8, 8, 1)
    assert len(png) <= size
    return png.ljust(size, b"\0")


class AsyncStream(httpx.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            yield chunk


@pytest.mark.parametrize("prefix", ["", "data:image/png;base64,"])
async def test_base64_image_over_the_cap_is_refused(relay: FakeRelay, prefix: str) -> None:
    encoded = prefix + base64.b64encode(padded_png(150_000)).decode()
    relay.script(Reply.raw(200, success_body(encoded)))
    async with make_client(relay, max_image_bytes=100_000) as client:
        error = await fails(client, RelayImageError)
    assert "larger than 100000 bytes" in str(error) and error.request_id == "R1"
    assert len(relay.calls) == 1  # like a download over the cap: not retried


async def test_base64_image_at_the_cap_is_accepted(relay: FakeRelay) -> None:
    data = padded_png(100_000)
    relay.script(Reply.raw(200, success_body(base64.b64encode(data).decode())))
    async with make_client(relay, max_image_bytes=100_000) as client:
        result = await client.generate(payload())
    assert [image.data for image in result.images] == [data]


async def test_two_base64_images_at_the_cap_fit_in_one_answer(relay: FakeRelay) -> None:
    encoded = base64.b64encode(padded_png(100_000)).decode()
    relay.script(Reply.raw(200, success_body(encoded, encoded)))
    async with make_client(relay, max_image_bytes=100_000) as client:
        result = await client.generate(payload())
    assert len(result.images) == 2


async def test_answer_over_the_body_cap_is_refused(relay: FakeRelay) -> None:
    encoded = base64.b64encode(padded_png(90_000)).decode()  # each image under the cap
    relay.script(Reply.raw(200, success_body(encoded, encoded, encoded)))
    async with make_client(relay, max_image_bytes=100_000) as client:
        error = await fails(client, RelayImageError)
    assert "answer is larger than" in str(error) and error.reason == "image"
    assert len(relay.calls) == 1


async def test_huge_error_page_is_an_internal_error_and_retried(relay: FakeRelay) -> None:
    relay.default = Reply.raw(502, b"<html>" + b"x" * 500_000, content_type="text/html")
    async with make_client(relay, max_image_bytes=100_000) as client:
        error = await fails(client, RelayInternal)
    assert "answer is larger than" in str(error) and len(relay.calls) == 4


async def test_body_cap_holds_without_a_content_length() -> None:
    """A chunked answer that never ends is cut off at the cap, not read into memory."""
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"code": 10000, "data": {"binary_data_base64": ["'
        while True:
            sent += 65_536
            yield b"A" * 65_536

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=AsyncStream(endless()))

    async with RelayClient(
        "http://relay.invalid",
        API_KEY,
        deadline=5.0,
        max_image_bytes=100_000,
        transport=httpx.MockTransport(handler),
    ) as client:
        with pytest.raises(RelayImageError, match="answer is larger than"):
            await client.generate(payload())
    assert sent < 1_000_000


def test_decode_base64_obeys_the_cap() -> None:
    data = padded_png(1000)
    encoded = base64.b64encode(data).decode()
    assert decode_base64(encoded, max_bytes=1000).data == data
    assert (
        decode_base64(
            "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)), max_bytes=1000
        ).data
        == data
    )
    with pytest.raises(ImageError, match="larger than 999 bytes"):
        decode_base64(encoded, max_bytes=999)
    with pytest.raises(ImageError, match="larger than 10 bytes"):
        decode_base64("A" * 10_000_000, max_bytes=10)  # refused before decoding


async def test_each_retry_is_logged_once_and_the_last_failure_not_as_a_retry(
    relay: FakeRelay, client: RelayClient, caplog: pytest.LogCaptureFixture
) -> None:
    relay.default = Reply.volc_error(50500)
    caplog.set_level(logging.WARNING, logger="core.relay")
    await fails(client, RelayInternal)
    retries = [r for r in caplog.records if r.name == "core.relay" and "retrying" in r.message]
    assert [r.message.split()[2] for r in retries] == ["1", "2", "3"]


# -- no connection at all: said at once, not retried ------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:  # bound, never listening: connections are refused
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_refused_connection_is_named_at_once_and_not_retried() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with stamina.set_testing(False):  # real pauses: a retry would cost at least 1 s
        async with RelayClient(url, API_KEY, deadline=30.0) as client:
            with pytest.raises(RelayCannotConnect) as caught:
                await client.generate(payload())
    assert time.monotonic() - started < 0.9
    error = caught.value
    assert error.reason == "cannot_connect" and not error.retryable
    assert "refused the connection" in str(error) and API_KEY not in str(error)


async def test_an_unknown_host_is_named_as_such() -> None:
    async with RelayClient("http://drawbot-relay.invalid", API_KEY, deadline=10.0) as client:
        with pytest.raises(RelayCannotConnect) as caught:
            await client.generate(payload())
    assert caught.value.reason == "cannot_connect"
    assert "drawbot-relay.invalid was not found" in str(caught.value)


async def test_a_relay_that_does_not_answer_still_did_not_answer_in_time(
    relay: FakeRelay,
) -> None:
    relay.default = Reply.hang(30)
    async with make_client(relay, deadline=1.0) as client:
        error = await fails(client, RelayUnreachable)  # exactly RelayUnreachable
    assert error.reason == "unreachable" and error.retryable


async def test_the_balance_of_a_relay_that_refuses_connections() -> None:
    async with RelayClient(f"http://127.0.0.1:{closed_port()}", API_KEY) as client:
        with pytest.raises(RelayCannotConnect):
            await client.balance()


async def test_a_realistic_fake_serves_photographic_pngs_of_megabytes() -> None:
    async with FakeRelay(api_key=API_KEY, realistic=True) as relay:
        async with make_client(relay) as client:
            result = await client.generate(payload(width=768, height=512))
    image = result.images[0]
    assert (image.mime, image.width, image.height) == ("image/png", 1536, 1024)
    assert image.data == make_photo(1536, 1024, 42)  # exactly the bytes served
    assert 2_000_000 <= len(image.data) <= 4_000_000
    assert relay.calls[0].image_urls[0].endswith(".png")


async def test_a_realistic_fake_serves_jpeg_and_base64_when_asked() -> None:
    async with FakeRelay(api_key=API_KEY, realistic=True, image_format="jpeg") as relay:
        relay.script(Reply.ok(), Reply.ok(as_base64=True), Reply.ok(realistic=False))
        async with make_client(relay) as client:
            by_url = (await client.generate(payload())).images[0]
            by_base64 = (await client.generate(payload())).images[0]
            gradient = (await client.generate(payload())).images[0]
    assert relay.calls[0].image_urls[0].endswith(".jpg")
    assert by_url.mime == "image/jpeg" and by_url.data == make_photo(1024, 1024, 42, "jpeg")
    assert by_base64.data == by_url.data
    assert gradient.data == make_png(1024, 1024, 42)


async def test_a_realistic_image_over_the_cap_is_refused_by_its_declared_length() -> None:
    size = len(make_photo(1024, 1024, 42))
    async with FakeRelay(api_key=API_KEY, realistic=True) as relay:
        async with make_client(relay, max_image_bytes=size - 1) as client:
            error = await fails(client, RelayImageError)
            assert f"larger than {size - 1} bytes" in str(error)
            async with make_client(relay, max_image_bytes=size) as exact:
                result = await exact.generate(payload())
    assert len(result.images[0].data) == size


async def test_balance_reads_openai_style_billing(relay: FakeRelay, client: RelayClient) -> None:
    relay.billing.granted, relay.billing.used_cents = 20.0, 550
    found = await client.balance()
    assert found is not None and (found.total, found.used, found.remaining) == (20.0, 5.5, 14.5)


async def test_balance_with_a_rejected_key_is_an_auth_error(relay: FakeRelay) -> None:
    relay.billing.granted, relay.billing.used_cents = 20.0, 550
    async with RelayClient(relay.base_url, "sk-wrong", deadline=5.0) as wrong:
        with pytest.raises(RelayAuthError):
            await wrong.balance()


async def test_an_http_proxy_carries_the_relay_call(relay: FakeRelay) -> None:
    """With an http:// proxy the relay call goes through it: the fake relay plays the proxy
    for a relay host that does not resolve, so only a proxied call can be answered."""
    async with RelayClient(
        "http://drawbot-relay.invalid", API_KEY, path=relay.path, proxy=relay.base_url
    ) as client:
        result = await client.generate(payload(), download=False)
    assert result.image_urls and len(relay.calls) == 1
