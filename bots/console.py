"""Console adapter: a terminal chat; images are saved to disk and their paths printed."""

from __future__ import annotations

import asyncio
import getpass
import sys
import threading
from collections.abc import Callable

from core import Answer, Button, Core, Pictures, Place, Receipt, Request, Requester, Say

PROMPT = "drawbot> "
# The terminal's own words for leaving; everything else goes to core.
QUIT = ("/quit", "/exit", "quit", "exit")


def _stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Feed stdin into the loop from a daemon thread (a blocked read never holds up exit)."""

    def pump() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()


def render(answer: Answer) -> str | None:
    """An answer as terminal text: a sentence, or the caption and where the files were saved."""
    if isinstance(answer, Say):
        return answer.text
    if isinstance(answer, Pictures):
        lines = [answer.caption()]
        paths = answer.generation.image_paths
        for path, image in zip(paths, answer.images, strict=False):
            lines.append(f"saved: {path} ({image.width}x{image.height})")
        return "\n".join(lines)
    return None


class Console:
    """One local user talking to the core, as a chat user would."""

    def __init__(self, core: Core, out: Callable[[str], None]) -> None:
        self.core = core
        self.out = out
        user = getpass.getuser() or "local"
        self.requester = Requester("console", user, name=user, language_code=None)
        self.place = Place("console", user, title="console", is_group=False)

    async def queued(self, text: str, cancel: Button) -> None:
        """A draw waits for the relay: where it stands (core says when)."""
        self.out(text)

    async def drawing(self, text: str, cancel: Button, elapsed: float) -> None:
        self.out(text)

    async def finished(self) -> None:
        """Nothing to take down in a terminal."""

    async def handle(self, line: str) -> bool:
        """Answer one line; False when the user asked to quit."""
        if line.strip().lower() in QUIT:
            return False
        request = Request(self.requester, self.place, text=line, progress=self, address="console")
        await self.courier("console", await self.core.front.handle(request))
        return True

    async def courier(self, address: str, answer: Answer) -> Receipt | None:
        """Print an answer (also one core sends after a restart); pictures are delivered once
        printed, since their files are on this disk already."""
        reply = render(answer)
        if reply is not None:
            self.out(reply)
        if not isinstance(answer, Pictures):
            return None
        receipt = Receipt(answer.generation.id, "console", [])
        await self.core.front.delivered(receipt)
        return receipt


async def run(core: Core, stop: asyncio.Event, web: object = None) -> None:
    """Read commands from stdin until EOF, /quit or a stop signal."""
    console = Console(core, lambda text: print(text, flush=True))
    core.settings.image_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"drawbot console: type /draw <prompt>, /help, /quota, /history or /quit "
        f"(images go to {core.settings.image_dir}/)",
        flush=True,
    )
    await core.front.attach("console", console.courier)
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
