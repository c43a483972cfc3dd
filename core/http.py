"""HTTP plumbing shared by the relay client and the adapters."""

from __future__ import annotations

import base64
import contextlib
import functools
import http.client
import io
import mmap
import os
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import AsyncIterator

import aiohttp
import certifi
import httpx
from httpx_aiohttp import AiohttpTransport


class BodyError(Exception):
    """A body could not be had: an HTTP status other than 200, or larger than allowed."""


def fast_transport(limits: httpx.Limits, proxy: str | None) -> httpx.AsyncBaseTransport | None:
    """aiohttp's connection pool under httpx's API, or None for httpx's own.

    httpx's pool slows down sharply with many requests in flight (bench/: 100 concurrent
    relay calls took 2.3x one call with it, 1.05x with this). SOCKS proxies stay with httpx
    (aiohttp speaks only HTTP proxies), so for them this returns None.
    """
    if not aiohttp_speaks(proxy):
        return None
    return AiohttpTransport(limits=limits, proxy=httpx.Proxy(proxy) if proxy else None)


def aiohttp_speaks(proxy: str | None) -> bool:
    """Whether aiohttp can go through `proxy`: none, or an http:// or https:// one (not SOCKS)."""
    return proxy is None or proxy.startswith(("http://", "https://"))


def cannot_connect(error: BaseException) -> str | None:
    """Why no connection could be made at all (refused, no such host, no route, TLS), read
    from `error` and its causes; None for anything else, a timeout included.

    httpx-aiohttp maps aiohttp's errors by a table in which ClientConnectionError (a base of
    ClientConnectorError) comes first, so a refused connection arrives as httpx.ConnectTimeout
    raised from aiohttp's ClientConnectorError: the cause tells, not the type. httpx's own
    transport (SOCKS proxies) raises httpx.ConnectError from the OSError."""
    chain = _chain(error)
    for current in chain:
        if isinstance(current, aiohttp.ClientConnectorDNSError):
            return f"the host {current.host} was not found"
        if isinstance(current, aiohttp.ClientConnectorError):
            if isinstance(current.os_error, TimeoutError):
                return None  # the host did not answer: a timeout, which may pass
            return f"{current.host}:{current.port} {_refusal(current.os_error)}"
    if any(isinstance(current, httpx.ConnectError) for current in chain):
        if any(isinstance(current, socket.gaierror) for current in chain):
            return "the host was not found"
        if any(isinstance(current, ConnectionRefusedError) for current in chain):
            return "the connection was refused"
        return f"the connection failed ({error})"
    return None


def _chain(error: BaseException) -> list[BaseException]:
    """`error` and its causes (or contexts), each once."""
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in found):
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _refusal(os_error: BaseException | None) -> str:
    if isinstance(os_error, ConnectionRefusedError):
        return "refused the connection"
    if isinstance(os_error, OSError) and os_error.strerror:
        return f"cannot be connected to ({os_error.strerror.lower()})"
    return "cannot be connected to"


# -- whole bodies: one buffer each ----------------------------------------------------------


async def read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """A streamed response's body in one buffer: sized from Content-Length up front (BodyError
    at once when that is over `max_bytes`), grown as it arrives otherwise, and BodyError as
    soon as it passes `max_bytes` either way.

    The buffer is an io.BytesIO whose getvalue() hands over its own bytes object (CPython
    since 3.5): no copy at the end. Collecting the transport's 16 KB chunks in a list and
    joining them held each body twice over at the end; with 100 photographic PNGs of 4.2 MB
    arriving at once that was 1.2-1.3x their size in peak memory, against 1.0x now (README,
    Benchmarks)."""
    declared = response.headers.get("content-length", "")
    return await read_chunks(response.aiter_bytes(), declared, max_bytes)


async def read_chunks(chunks: AsyncIterator[bytes], declared: str, max_bytes: int) -> bytes:
    """`read_body` for any stream of chunks whose Content-Length header says `declared`."""
    too_large = f"the body is larger than {max_bytes} bytes"
    expected = int(declared) if declared.isdigit() and len(declared) < 20 else 0
    if expected > max_bytes:
        raise BodyError(too_large)
    body = io.BytesIO()
    if expected:  # one allocation of the declared size, filled in place below
        body.seek(expected - 1)
        body.write(b"\0")
        body.seek(0)
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:  # no Content-Length, or a body longer than it said
            raise BodyError(too_large)
        body.write(chunk)
    body.truncate(size)  # a decoded body may be shorter than the encoded length declared
    return body.getvalue()


# -- whole bodies read in a worker thread ------------------------------------------------------

USER_AGENT = "drawbot/0.1"
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5


def threadable(proxy: str | None) -> bool:
    """Whether `BlockingGet` can go through `proxy`: none, or a plain http:// proxy (a SOCKS
    or https:// proxy stays with the async client)."""
    return proxy is None or proxy.startswith("http://")


class BlockingGet:
    """One GET whose body is read whole on a blocking socket, in a worker thread.

    The body goes into a buffer of the caller's (`Buffers`), filled by the socket file's own
    read loop (C, no Python per chunk); without a Content-Length, up to the cap. The event
    loop's transport hands a 4 MB picture over as a few hundred chunks, each a trip through
    the loop, aiohttp and httpx: this costs the bot's event loop nothing and the process
    about half the CPU (README, Benchmarks). `abort` (from any thread) ends a read cut short
    by its deadline. Redirects are followed, as the relay client does."""

    def __init__(self, url: str, *, proxy: str | None, seconds: float) -> None:
        if not threadable(proxy):
            raise ValueError("BlockingGet goes through no proxy or an http:// one")
        self.url = url
        self.proxy = urllib.parse.urlsplit(proxy) if proxy else None
        self.seconds = seconds
        self._connection: http.client.HTTPConnection | None = None
        self._place: Place = ("", "", 0, None)
        self.aborted = False

    def body_into(self, buffer: memoryview, max_bytes: int) -> int:
        """Read the body into `buffer` (at least `max_bytes` + 1 long); its length. BodyError
        past `max_bytes` or for a status other than 200; OSError and
        http.client.HTTPException when the connection fails."""
        url = self.url
        for _ in range(MAX_REDIRECTS + 1):
            response = self._get(url)
            if response.status in REDIRECTS and response.getheader("location"):
                url = urllib.parse.urljoin(url, response.getheader("location", ""))
                self._close()
                continue
            try:
                size = _whole_into(response, buffer, max_bytes)
            except BaseException:
                self._close()
                raise
            self._release(response)
            return size
        raise BodyError(f"more than {MAX_REDIRECTS} redirects")

    def abort(self) -> None:
        """End the read under way (its thread gets an error at once)."""
        self.aborted = True
        connection = self._connection
        if connection is not None and connection.sock is not None:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)

    def _get(self, url: str) -> http.client.HTTPResponse:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BodyError(f"not an http(s) link: {parts.scheme}://")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if self.proxy is not None and parts.scheme == "http":  # the whole URL to the proxy
            target = url
            if auth := _proxy_auth(self.proxy):
                headers["Proxy-Authorization"] = auth
        self._place = (parts.scheme, parts.hostname, port, self.proxy)
        reused = IDLE.take(self._place)
        connection = reused or self._open(parts.scheme, parts.hostname, port)
        self._connection = connection
        if self.aborted:
            raise BodyError("aborted")
        try:
            if reused is not None and reused.sock is not None:
                reused.sock.settimeout(self.seconds)
            connection.request("GET", target, headers=headers)
            return connection.getresponse()
        except (ConnectionError, http.client.BadStatusLine):
            if reused is None or self.aborted:
                raise
        # the server had closed the idle connection meanwhile: once more on a new one
        reused.close()
        connection = self._connection = self._open(parts.scheme, parts.hostname, port)
        connection.request("GET", target, headers=headers)
        return connection.getresponse()

    def _open(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        if self.proxy is None:
            return _connection(scheme, host, port, self.seconds)
        proxy_host, proxy_port = self.proxy.hostname or "", self.proxy.port or 80
        if scheme == "http":
            return _connection("http", proxy_host, proxy_port, self.seconds)
        connection = _connection("https", proxy_host, proxy_port, self.seconds)
        tunnel = {"Proxy-Authorization": auth} if (auth := _proxy_auth(self.proxy)) else {}
        connection.set_tunnel(host, port, headers=tunnel)  # CONNECT through the proxy
        return connection

    def _release(self, response: http.client.HTTPResponse) -> None:
        """After a whole body: the connection waits for the next download to the same place
        (unless the server is closing it)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if response.will_close or not response.isclosed() or self.aborted:
            connection.close()
        else:
            IDLE.give(self._place, connection)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


Place = tuple[str, str, int, urllib.parse.SplitResult | None]


class Idle:
    """Connections a whole download has left open, by place (scheme, host, port, proxy), for
    the next download there: a new connection per picture cost 0.2-0.4 ms of CPU more for a
    1.87 MB picture over plain HTTP here, and with TLS a handshake each. One idle for more
    than `max_idle` seconds is closed instead of used: a server or a NAT on the way may have
    dropped it without a word, and a request on it would wait out its whole deadline."""

    def __init__(self, per_place: int = 4, max_idle: float = 30.0) -> None:
        self.per_place = per_place
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: dict[Place, list[tuple[float, http.client.HTTPConnection]]] = {}

    def take(self, place: Place) -> http.client.HTTPConnection | None:
        """The connection to `place` left most recently, if one is fresh enough."""
        stale = []
        taken = None
        with self._lock:
            waiting = self._idle.get(place, [])
            oldest = time.monotonic() - self.max_idle
            while waiting and taken is None:
                since, connection = waiting.pop()
                if since >= oldest:
                    taken = connection
                else:
                    stale.append(connection)
        for connection in stale:
            connection.close()
        return taken

    def give(self, place: Place, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            waiting = self._idle.setdefault(place, [])
            if len(waiting) < self.per_place:
                waiting.append((time.monotonic(), connection))
                return
        connection.close()


IDLE = Idle()


def _connection(scheme: str, host: str, port: int, seconds: float) -> http.client.HTTPConnection:
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=seconds, context=tls())
    return http.client.HTTPConnection(host, port, timeout=seconds)


def tls() -> ssl.SSLContext:
    """The certificates httpx trusts: those of SSL_CERT_FILE or SSL_CERT_DIR when set (a
    private CA, a proxy that inspects TLS), else certifi's. One context per choice."""
    return _tls(os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)


@functools.cache
def _tls(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    if cafile is not None:
        return ssl.create_default_context(cafile=cafile)
    if capath is not None:
        return ssl.create_default_context(capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


def _proxy_auth(proxy: urllib.parse.SplitResult) -> str | None:
    if not proxy.username:
        return None
    pair = f"{urllib.parse.unquote(proxy.username)}:{urllib.parse.unquote(proxy.password or '')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _whole_into(response: http.client.HTTPResponse, buffer: memoryview, max_bytes: int) -> int:
    too_large = f"the body is larger than {max_bytes} bytes"
    if response.status != 200:
        raise BodyError(f"HTTP {response.status}")
    if len(buffer) <= max_bytes:
        raise ValueError("the buffer must hold max_bytes + 1")
    declared = response.length
    if declared is not None:  # Content-Length: one read of that size (the C read loop)
        if declared > max_bytes:
            raise BodyError(too_large)
        size = response.readinto(buffer[:declared])
        if size < declared:
            raise http.client.IncompleteRead(b"", declared - size)
        return size
    size = 0  # chunked, or until the connection closes
    while size <= max_bytes and (got := response.readinto(buffer[size : max_bytes + 1])):
        size += got
    if size > max_bytes:
        raise BodyError(too_large)
    return size


class Buffers:
    """Page-aligned buffers (anonymous maps) for bodies read whole in worker threads, kept for
    the next body: memory touched for the first time costs about what copying it does on this
    machine (a VM whose host takes freed memory back), and a kept file written from one with
    O_DIRECT skips the copy into the page cache (core.kept.write_body). At most `keep` wait
    between bodies, each keeping at most `touched_at_most` bytes of memory."""

    def __init__(self, keep: int = 4, touched_at_most: int = 8 << 20) -> None:
        self.keep = keep
        self.touched_at_most = touched_at_most
        self._lock = threading.Lock()
        self._free: list[mmap.mmap] = []

    def take(self, size: int) -> mmap.mmap:
        """A buffer of at least `size` bytes (what it held before is left in it)."""
        with self._lock:
            for index, buffer in enumerate(self._free):
                if len(buffer) >= size:
                    return self._free.pop(index)
        return mmap.mmap(-1, -(-size // mmap.PAGESIZE) * mmap.PAGESIZE)

    def give(self, buffer: mmap.mmap, used: int) -> None:
        """Back for the next body, once no view of it is left; `used`: how much it held."""
        with self._lock:
            if len(self._free) < self.keep:
                if used > self.touched_at_most and hasattr(mmap, "MADV_DONTNEED"):
                    tail = len(buffer) - self.touched_at_most  # an unusually large body's pages
                    buffer.madvise(mmap.MADV_DONTNEED, self.touched_at_most, tail)
                self._free.append(buffer)
                return
        with contextlib.suppress(BufferError):  # a view still held: it goes with the view
            buffer.close()


BUFFERS = Buffers()
