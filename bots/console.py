"""Console adapter: a terminal chat; images are saved to disk and their paths printed."""

from __future__ import annotations

import asyncio
import getpass
import sys
import threading
from collections.abc import Callable

from core import messages
from core.account import caption
from core.admin import AdminContext
from core.chat import text_reply
from core.command import UsageError, parse_draw, split_command
from core.root import Core
from core.service import Delivered, Outcome, Place, Requester

PROMPT = "drawbot> "


def _stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Feed stdin into the loop from a daemon thread (a blocked read never holds up exit)."""

    def pump() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()


def render(outcome: Outcome, lang: str) -> str:
    if isinstance(outcome, Delivered):
        lines = [caption(outcome.generation, lang)]
        for path, image in zip(outcome.generation.image_paths, outcome.images, strict=False):
            lines.append(f"saved: {path} ({image.width}x{image.height})")
        return "\n".join(lines)
    return outcome.text


class Console:
    """One local user talking to the core, as a chat user would."""

    def __init__(self, core: Core, out: Callable[[str], None]) -> None:
        self.core = core
        self.out = out
        user = getpass.getuser() or "local"
        self.requester = Requester("console", user, name=user, language_code=None)
        self.place = Place("console", user, title="console", is_group=False)
        self.lang = core.service.lang(self.requester)

    async def handle(self, line: str) -> bool:
        """Answer one line; False when the user asked to quit."""
        parsed = split_command(line)
        if parsed is None:
            if line.strip():
                self.out(messages.text("empty_prompt", self.lang))
            return True
        command, args = parsed
        if command in ("quit", "exit"):
            return False
        if command == "draw":
            self.out(await self._draw(args))
        elif command == "redo":
            target = int(args) if args.strip().isdigit() else None
            self.out(
                render(await self.core.account.redo(self.requester, self.place, target), self.lang)
            )
        elif command == "original" and args.strip().isdigit():
            outcome = await self.core.account.original(self.requester, int(args))
            self.out(render(outcome, self.lang))
        else:
            ctx = AdminContext(self.requester, self.place, is_chat_admin=True)
            reply = await text_reply(self.core, command, args, ctx)
            self.out(reply if reply is not None else messages.text("usage", self.lang))
        return True

    async def _draw(self, args: str) -> str:
        try:
            params = parse_draw(args)
        except UsageError as error:
            return error.text(self.lang)
        self.out(messages.text("drawing", self.lang, size=params.size))
        return render(await self.core.service.draw(self.requester, self.place, params), self.lang)


async def run(core: Core, stop: asyncio.Event, web: object = None) -> None:
    """Read commands from stdin until EOF, /quit or a stop signal."""
    console = Console(core, lambda text: print(text, flush=True))
    core.settings.image_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"drawbot console: type /draw <prompt>, /help, /quota, /history or /quit "
        f"(images go to {core.settings.image_dir}/)",
        flush=True,
    )
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    _stdin_lines(asyncio.get_running_loop(), queue)
    stopping = asyncio.create_task(stop.wait())
    while True:
        getter = asyncio.create_task(queue.get())
        done, _ = await asyncio.wait({getter, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stopping in done:
            getter.cancel()
            return
        line = getter.result()
        if line is None or not await console.handle(line):
            stopping.cancel()
            stop.set()
            return
