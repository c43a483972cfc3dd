"""python -m bots demo: the console against a built-in offline relay.

The relay is a small aiohttp server on 127.0.0.1 (a port the system picks) inside this
process. It answers the same call the real relay client makes (POST {base}/volcv?Action=
CVProcess&Version=2022-08-31, Bearer key, Jimeng's JSON), so a demo draw goes through the real
client, parsing, quota, history and files; only the picture is a labelled placeholder
(bots/placeholder.py). No setting is needed and none of the deployment's is read: no `.env`,
no YUNAPI_*, and the database and images live under data/demo/, away from the real ones.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from bots.console import Console, session
from bots.placeholder import placeholder_png
from core.config import ConfigError, Settings
from core.logs import setup_logging
from core.root import Core

FOLDER = Path("data/demo")
PATH = "/volcv"
ACTION, VERSION = "CVProcess", "2022-08-31"
SUCCESS = 10000
# Seconds each demo draw takes: long enough to see the progress line, short enough to play.
LATENCY = 0.3
# Settings the demo sets itself: a low daily limit, so the limit is met in a minute.
DEFAULTS = {"DAILY_LIMIT": "5"}
# Settings a demo user may still choose from the environment (never from `.env`): how the bot
# behaves, not where it connects or writes.
CHOSEN = (
    "DEFAULT_LANGUAGE",
    "ADMIN_IDS",
    "DAILY_LIMIT",
    "CHAT_DAILY_LIMIT",
    "COOLDOWN_SECONDS",
    "MAX_IN_FLIGHT_PER_USER",
    "TIMEZONE",
    "WATERMARK",
    "WATERMARK_TEXT",
    "WATERMARK_POSITION",
    "WATERMARK_OPACITY",
    "WATERMARK_USER_CONTROL",
    "LOG_LEVEL",
    "LOG_FORMAT",
)

Serve = Callable[[Settings, list[str]], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class Asked:
    """One picture the relay promised by URL, drawn when fetched."""

    prompt: str
    width: int
    height: int
    seed: int
    asked: tuple[int, int]
    mark: str | None
    position: int
    opacity: float

    def png(self) -> bytes:
        return placeholder_png(
            self.prompt,
            self.width,
            self.height,
            self.seed,
            asked=self.asked,
            mark=self.mark,
            mark_position=self.position,
            mark_opacity=self.opacity,
        )


class DemoRelay:
    """The offline relay: `async with DemoRelay() as relay`, then `relay.base_url`."""

    def __init__(self, api_key: str, latency: float = LATENCY) -> None:
        self.api_key = api_key
        self.latency = latency
        self.base_url = ""
        self._pictures: dict[str, Asked] = {}
        app = web.Application()
        app.router.add_post(PATH, self._draw)
        app.router.add_get("/images/{name}", self._image)
        # No billing routes: /balance hears 404, as from a relay without billing (it says the
        # balance is unknown).
        app.router.add_get("/", self._root)
        self._runner = web.AppRunner(app, access_log=None)

    async def __aenter__(self) -> DemoRelay:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()

    async def _draw(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            error = {"message": "invalid key", "type": "demo", "code": "invalid_api_key"}
            return web.json_response({"error": error}, status=401)
        if request.query.get("Action") != ACTION or request.query.get("Version") != VERSION:
            return _refused(f"Action must be {ACTION} and Version {VERSION}")
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not str(body.get("prompt") or "").strip():
            return _refused("a JSON body with a prompt is required")
        try:
            asked = self._asked(body)
        except (TypeError, ValueError) as error:
            return _refused(str(error))
        await asyncio.sleep(self.latency)
        request_id = time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(6).upper()
        urls: list[str] | None = None
        encoded: list[str] | None = None
        if body.get("return_url", True) is False:
            encoded = [base64.b64encode(await asyncio.to_thread(asked.png)).decode()]
        else:
            name = secrets.token_hex(12)
            self._pictures[name] = asked
            urls = [f"{self.base_url}/images/{name}.png"]
        data = {
            "binary_data_base64": encoded or [],
            "image_urls": urls,
            "rephraser_result": "",
            "request_id": request_id,
        }
        answer = {"code": SUCCESS, "data": data, "message": "Success", "request_id": request_id}
        return web.json_response(answer)

    @staticmethod
    def _asked(body: dict[str, Any]) -> Asked:
        width, height = int(body.get("width") or 512), int(body.get("height") or 512)
        if not (256 <= width <= 768 and 256 <= height <= 768):
            raise ValueError(f"width and height must be 256 to 768, got {width}x{height}")
        scale = 1 if body.get("use_sr") is False else 2  # super-resolution doubles, as Jimeng
        seed = body.get("seed")
        seed = secrets.randbelow(2**31) if seed in (None, -1) else int(seed)
        logo: dict[str, Any] = body.get("logo_info") or {}
        mark = None
        if logo.get("add_logo"):
            mark = str(logo.get("logo_text_content") or "drawbot demo")
        return Asked(
            prompt=str(body["prompt"]),
            width=width * scale,
            height=height * scale,
            seed=seed,
            asked=(width, height),
            mark=mark,
            position=int(logo.get("position") or 0),
            opacity=float(logo.get("opacity", 0.3)),
        )

    async def _image(self, request: web.Request) -> web.Response:
        asked = self._pictures.pop(request.match_info["name"].removesuffix(".png"), None)
        if asked is None:
            return web.Response(status=404, text="404 Not Found")
        return web.Response(body=await asyncio.to_thread(asked.png), content_type="image/png")

    @staticmethod
    async def _root(request: web.Request) -> web.Response:
        return web.Response(text="drawbot demo relay")


def _refused(message: str) -> web.Response:
    answer = {"code": 50400, "data": None, "message": f"Invalid parameter: {message}"}
    return web.json_response({**answer, "status": 50400}, status=400)


def demo_settings(environ: Mapping[str, str], base_url: str, api_key: str) -> Settings:
    """The demo's settings: its own relay and folder; from `environ`, only the CHOSEN ones."""
    values = {**DEFAULTS, **{name: environ[name] for name in CHOSEN if name in environ}}
    values |= {
        "YUNAPI_BASE_URL": base_url,
        "YUNAPI_API_KEY": api_key,
        "DATABASE_PATH": str(FOLDER / "bot.db"),
        "IMAGE_DIR": str(FOLDER / "images"),
    }
    return Settings.load(environ=values, env_file=None)


def intro(console: Console) -> list[str]:
    """The demo's greeting, in the console user's language."""
    core = console.core
    lines = [
        console.text(
            "demo_banner",
            address=core.settings.yunapi_base_url,
            folder=str(FOLDER),
            limit=core.settings.daily_limit,
        )
    ]
    if not console.is_admin:
        lines.append(console.text("demo_try", name=console.requester.user_id))
    return lines


async def run(core: Core, stop: asyncio.Event, web: object = None) -> None:
    """The demo's adapter: the console, greeting with what the demo is; no `.env` was read."""
    await session(core, stop, env_file=None, intro=intro)


def main(serve: Serve) -> int:
    """Start the offline relay and run the console against it (`serve` is bots.__main__'s)."""
    api_key = "demo-" + secrets.token_urlsafe(16)
    try:
        settings = demo_settings(os.environ, "http://127.0.0.1", api_key)
    except ConfigError as error:
        lines = "\n".join(f"  - {problem}" for problem in error.problems)
        print(f"drawbot: the configuration has problems:\n{lines}", file=sys.stderr)
        return 2
    level = "WARNING" if settings.log_level == "INFO" else settings.log_level
    setup_logging(level, settings.log_format, settings.secrets())

    async def demo() -> None:
        async with DemoRelay(api_key) as relay:
            await serve(dataclasses.replace(settings, yunapi_base_url=relay.base_url), ["demo"])

    try:
        asyncio.run(demo())
    except ConfigError as error:
        print("drawbot: " + "\n".join(error.problems), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
