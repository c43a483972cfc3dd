"""python-telegram-bot's HTTP on aiohttp directly: one ClientSession per request object.

PTB's HTTPXRequest over our httpx-aiohttp transport built each call three times (PTB's
parameters -> an httpx request -> an aiohttp request, and the answer back through httpx's
response and stream): about a millisecond of the bot's CPU per Bot API call (README,
Benchmarks). This sends PTB's parameters as aiohttp form data (multipart when there are
files, as HTTPXRequest does) and reads the answer whole. Errors are PTB's: TimedOut for a
timeout, NetworkError for any other failure, naming no URL (it carries the bot's token).

aiohttp speaks HTTP(S) proxies only: with a SOCKS HTTPS_PROXY, `telegram_request` keeps
HTTPXRequest (httpx's own transport, which speaks SOCKS).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from core.http import aiohttp_speaks

URLENCODED = "application/x-www-form-urlencoded"


class AiohttpRequest(BaseRequest):
    """PTB's BaseRequest on one aiohttp ClientSession (made at the first call or at
    `initialize`, closed at `shutdown`). The timeouts mean what HTTPXRequest's do with our
    former transport: `pool` bounds getting a connection, `connect` making one, `read` each
    wait for the answer's bytes; aiohttp has no write timeout."""

    def __init__(
        self,
        *,
        pool: int = 256,
        proxy: str | None = None,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self.pool = pool
        self.proxy = proxy
        self._read = read_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    def _opened(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.pool)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )
        return self._session

    async def initialize(self) -> None:
        self._opened()

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        timeout = aiohttp.ClientTimeout(
            connect=self._pool if isinstance(pool_timeout, DefaultValue) else pool_timeout,
            sock_connect=(
                self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
            ),
            sock_read=self._read if isinstance(read_timeout, DefaultValue) else read_timeout,
        )
        try:
            async with self._opened().request(
                method,
                url,
                data=form(request_data),
                timeout=timeout,
                proxy=self.proxy,
                allow_redirects=False,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's are TimeoutErrors
            raise TimedOut from error
        except aiohttp.InvalidURL as error:  # its text is the URL, which carries the token
            raise NetworkError(f"aiohttp.{type(error).__name__}") from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def form(request_data: RequestData | None) -> aiohttp.Payload | aiohttp.FormData | None:
    """PTB's parameters as a form (urlencoded), multipart when files go with them; JSON
    values as text fields, as HTTPXRequest sends them. (A dict handed to aiohttp would become
    a FormData, which makes a multipart writer and a random boundary even when unused.)"""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        body = urllib.parse.urlencode(fields).encode()
        return aiohttp.BytesPayload(body, content_type=URLENCODED) if fields else None
    data = aiohttp.FormData()
    for name, value in fields.items():
        data.add_field(name, value)
    for name, (filename, content, mime) in files.items():
        data.add_field(name, content, filename=filename, content_type=mime)
    return data


def telegram_request(proxy: str | None, pool: int) -> BaseRequest:
    """The request object for PTB's bot: on aiohttp, or HTTPXRequest through a SOCKS proxy."""
    options: dict[str, Any] = {"pool_timeout": 10.0}
    if not aiohttp_speaks(proxy):
        return HTTPXRequest(connection_pool_size=pool, proxy=proxy, **options)
    return AiohttpRequest(pool=pool, proxy=proxy, **options)
