"""RelayHttp: what every API family shares: the HTTP clients, the key, the size caps, reading
answers (capped, scrubbed, turned into errors) and the images in them.

The relay call (`send`) goes out on one aiohttp ClientSession: through httpx (on the
httpx-aiohttp transport) each call was built twice over and its answer read back through
httpx's stream: about 1 ms of the bot's CPU per draw more (README, Benchmarks). httpx stays
for what is rare (balance, health, downloads of links) and for everything behind a SOCKS
proxy, which aiohttp does not speak, or with a test's transport.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx

from core.http import BodyError, aiohttp_speaks, fast_transport, read_body, read_chunks, tls
from core.images import Image, ImageError, decode_base64, fetch
from core.relay_answers import parse_body, unreachable
from core.relay_errors import RelayImageError, RelayInternal, RelayNoImage
from core.relay_job import TaskSink
from core.secrets import forms

USER_AGENT = "drawbot/0.1"


@dataclass(frozen=True)
class Drawn:
    """What one family's call gave: the images, or their links when not downloaded."""

    images: list[Image]
    request_id: str | None
    rephrased: str | None = None
    image_urls: list[str] = field(default_factory=list)


@dataclass
class Task:
    """The upstream task of one asynchronous draw: its id once submitted (then never submitted
    again, only polled), and who is told that id."""

    task_id: str | None = None
    on_task: TaskSink | None = None

    def submitted(self, task_id: str) -> None:
        self.task_id = task_id
        if self.on_task is not None:
            self.on_task(task_id)


class RelayHttp:
    """The relay's root, key and client; `send` returns an answer's JSON body or raises."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        deadline: float,
        max_image_bytes: int,
        proxy: str | None,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.root = base_url.rstrip("/")
        self.auth = {"Authorization": f"Bearer {api_key}"}
        # every shape of the key (raw, URL-encoded, base64...), cut from what the relay says
        self.key_forms = forms([api_key])
        self.deadline = deadline
        self.max_image_bytes = max_image_bytes
        # The JSON answer may carry images as base64 (4 characters for 3 bytes): room for two
        # at the cap, plus 64 KiB for the rest (rephrased prompt, ids, an error page).
        self.max_body = 2 * (4 * (max_image_bytes // 3 + 1)) + 65_536
        timeout = httpx.Timeout(deadline, connect=10.0, write=30.0)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        self.client = httpx.AsyncClient(
            timeout=timeout,
            limits=limits,
            proxy=None if transport else proxy,
            transport=transport or fast_transport(limits, proxy),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
        )
        # the relay call on aiohttp directly (made at the first call, inside the event loop)
        self.direct = transport is None and aiohttp_speaks(proxy)
        self.proxy = proxy
        self.timeout = aiohttp.ClientTimeout(
            connect=deadline, sock_connect=10.0, sock_read=deadline
        )
        self._session: aiohttp.ClientSession | None = None

    def _opened(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=200, ssl=tls())
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": USER_AGENT}
            )
        return self._session

    async def aclose(self) -> None:
        await self.client.aclose()
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def send(
        self, path: str, *, params: dict[str, str] | None = None, **content: Any
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """POST to `path` under the root (`content`: httpx's json=, data=, files=): the JSON
        body and headers of a success, else the RelayError the answer means."""
        if self.direct:
            return await self._send_direct(path, params, content)
        try:
            async with self.client.stream(
                "POST", self.root + path, params=params, headers=self.auth, **content
            ) as response:
                body = await self._read_body(response)
        except httpx.HTTPError as exc:
            raise unreachable(exc) from None
        # Some relays echo the key they rejected: it is cut out before anything else.
        parsed = parse_body(response.status_code, response.headers, body, self.key_forms)
        return parsed, response.headers

    async def _send_direct(
        self, path: str, params: dict[str, str] | None, content: dict[str, Any]
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """`send` on the aiohttp session: the same caps, timeouts and errors."""
        try:
            async with self._opened().post(
                self.root + path,
                params=params,
                headers=self.auth,
                json=content.get("json"),
                data=_form(content.get("data"), content.get("files")),
                timeout=self.timeout,
                proxy=self.proxy,
            ) as response:
                status, headers = response.status, response.headers
                declared = headers.get("content-length", "")
                body = await self._capped(
                    status, read_chunks(response.content.iter_any(), declared, self.max_body)
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise unreachable(exc) from None
        parsed = parse_body(status, headers, body, self.key_forms)
        return parsed, headers

    async def _capped(self, status: int, reading: Awaitable[bytes]) -> bytes:
        """What `reading` gives; past `max_body`, RelayImageError for a success (too large
        images, as for a download over the cap), RelayInternal for anything else (retried)."""
        kind = RelayImageError if status == 200 else RelayInternal
        try:
            return await reading
        except BodyError:
            too_large = f"the relay's answer is larger than {self.max_body} bytes"
            raise kind(too_large, status=status) from None

    async def _read_body(self, response: httpx.Response) -> bytes:
        """The answer's body, refused past `max_body` bytes (declared or as it arrives).

        Too large a success can only be too large images: RelayImageError, as for a download
        over the cap. Too large anything else is the relay failing: RelayInternal (retried)."""
        return await self._capped(response.status_code, read_body(response, self.max_body))

    async def images(
        self, urls: list[str], encoded: list[str], request_id: str | None, download: bool
    ) -> list[Image]:
        """The answer's images: decoded, downloaded, or none yet (links, without `download`)."""
        try:
            if encoded:
                return [decode_base64(item, max_bytes=self.max_image_bytes) for item in encoded]
            if urls and not download:
                return []  # the caller downloads them when it needs them (`download`)
            if urls:
                return await self.download(urls)
        except ImageError as exc:
            raise RelayImageError(str(exc), request_id=request_id) from None
        raise RelayNoImage("the relay answered success without an image", request_id=request_id)

    async def download(self, urls: list[str]) -> list[Image]:
        """The images behind the relay's links, at once (ImageError for any that fails)."""
        seconds = max(5.0, self.deadline / 2)
        limit = self.max_image_bytes
        return list(
            await asyncio.gather(
                *(fetch(self.client, url, max_bytes=limit, seconds=seconds) for url in urls)
            )
        )


def _form(
    data: dict[str, str] | None, files: dict[str, tuple[str, bytes, str]] | None
) -> aiohttp.FormData | None:
    """httpx's data= and files= as an aiohttp form: multipart with files, urlencoded without,
    None when there is neither (json= calls)."""
    if not files:
        return None if data is None else aiohttp.FormData(data)
    form = aiohttp.FormData()
    for name, value in (data or {}).items():
        form.add_field(name, value)
    for name, (filename, payload, mime) in files.items():
        form.add_field(name, payload, filename=filename, content_type=mime)
    return form


def texts(values: object) -> list[str]:
    """The non-empty strings of a JSON list (the relay may send null or mixed lists)."""
    if not isinstance(values, list):
        return []
    return [value for value in values if isinstance(value, str) and value]
