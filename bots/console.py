"""Console adapter: a terminal chat; images are saved to disk and their paths printed."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from dotenv import dotenv_values

from core import Answer, Button, Core, Pictures, Place, Receipt, Request, Requester, Say
from core.messages import language, text

PROMPT = "drawbot> "
# The terminal's own words for leaving; everything else goes to core.
QUIT = ("/quit", "/exit", "quit", "exit")
# Where POSIX looks for the language of messages, first found wins.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def login_name() -> str:
    """The terminal user's login name (the console user's id: ADMIN_IDS=console:<name>)."""
    try:
        return getpass.getuser() or "local"
    except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry (some containers)
        return "local"


def locale_language(environ: Mapping[str, str]) -> str | None:
    """The locale's language as a code core understands (`zh_CN.UTF-8` gives `zh_CN`), or
    None when no locale is set or it is C/POSIX (then DEFAULT_LANGUAGE decides)."""
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "").strip()
        if value:
            code = value.split(".", 1)[0].split("@", 1)[0]
            return None if code in ("C", "POSIX") else code
    return None


def console_language(environ: Mapping[str, str], env_file: Path | None) -> str | None:
    """The language the console user's requests carry: the locale's, unless DEFAULT_LANGUAGE
    is set (in the environment or the `.env` that was read): then None, and it decides."""
    chosen = environ.get("DEFAULT_LANGUAGE", "").strip()
    if not chosen and env_file is not None and env_file.is_file():
        chosen = (dotenv_values(env_file).get("DEFAULT_LANGUAGE") or "").strip()
    return None if chosen else locale_language(environ)


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

    def __init__(
        self, core: Core, out: Callable[[str], None], language_code: str | None = None
    ) -> None:
        self.core = core
        self.out = out
        user = login_name()
        self.requester = Requester("console", user, name=user, language_code=language_code)
        self.place = Place("console", user, title="console", is_group=False)

    @property
    def lang(self) -> str:
        return language(self.requester.language_code, self.core.settings.default_language)

    @property
    def is_admin(self) -> bool:
        return self.requester.key in self.core.settings.admin_ids

    def text(self, key: str, **values: str | int) -> str:
        """A sentence of the console's own (core/texts_demo.py), in the user's language."""
        return text(key, self.lang, **values)

    def say(self, key: str, **values: str | int) -> None:
        self.out(self.text(key, **values))

    async def reserved(self) -> None:
        """The deferred reply already shows it is seen."""

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
    await session(core, stop, env_file=Path(".env"))


async def session(
    core: Core,
    stop: asyncio.Event,
    *,
    env_file: Path | None,
    intro: Callable[[Console], Sequence[str]] = lambda console: (),
    interactive: bool | None = None,
) -> None:
    """The console's loop: greet (the `intro` sentences first), then answer each line of
    stdin until EOF, /quit or `stop`. `env_file` is the `.env` the settings were read from
    (None: none was), for the language. With a terminal on stdin (`interactive`, by default
    whether stdin is a tty) a `drawbot> ` prompt is printed before each line is read; with a
    pipe or file, none, so the output is only the bot's answers."""
    if interactive is None:
        interactive = sys.stdin.isatty()
    console = Console(
        core, lambda line: print(line, flush=True), console_language(os.environ, env_file)
    )
    core.settings.image_dir.mkdir(parents=True, exist_ok=True)
    for sentence in intro(console):
        console.out(sentence)
    console.say("console_banner", folder=str(core.settings.image_dir))
    if console.is_admin:
        console.say("console_admin", who=console.requester.key)
    await core.front.attach("console", console.courier)
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    _stdin_lines(asyncio.get_running_loop(), queue)
    stopping = asyncio.create_task(stop.wait())
    while True:
        if interactive:
            print(PROMPT, end="", flush=True)
        getter = asyncio.create_task(queue.get())
        done, _ = await asyncio.wait({getter, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stopping in done:
            getter.cancel()
            return
        line = getter.result()
        if line is None and interactive:
            print(flush=True)  # end the prompt's line (Ctrl-D), so the shell's starts afresh
        if line is None or not await console.handle(line):
            stopping.cancel()
            stop.set()
            return
