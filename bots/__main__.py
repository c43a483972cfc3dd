"""python -m bots [telegram|discord|console|demo|admin ...]: start the configured adapters."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import os
import signal
import sys
from collections.abc import Coroutine, Mapping
from typing import Protocol

from bots import event_loop
from bots.liveness import AdapterDied
from bots.web import WebServer
from core.config import ConfigError, SettingRejected, Settings, describe_settings
from core.http import cannot_connect
from core.logs import setup_logging
from core.root import Core

log = logging.getLogger("bots")

ADAPTERS = {
    "telegram": "bots.telegram",
    "discord": "bots.discord",
    "console": "bots.console",
    "demo": "bots.demo",
}

USAGE = """usage: python -m bots [telegram | discord | console | demo | admin ...] [--help]

  python -m bots            every adapter whose token is set, in one process
  python -m bots telegram   the Telegram adapter alone
  python -m bots discord    the Discord adapter alone
  python -m bots console    a terminal chat: type /draw ... as a user would
  python -m bots demo       the terminal chat against a built-in offline relay drawing
                            labelled placeholder pictures: needs no setting at all
  python -m bots admin ...  operator commands on the database (python -m bots admin help)
  python -m bots discord-sync   publish the Discord slash commands (once, and after upgrades)

Settings (environment, or a .env file in the working directory):
"""


class Adapter(Protocol):
    """An adapter's `run`: serve until `stop` is set; `web` is the shared HTTP server, if any."""

    def __call__(
        self, core: Core, stop: asyncio.Event, web: WebServer | None
    ) -> Coroutine[object, object, None]: ...


def chosen_adapters(mode: str | None, settings: Settings) -> list[str]:
    if mode is not None:
        return [mode]
    found = []
    if settings.telegram_bot_token:
        found.append("telegram")
    if settings.discord_bot_token:
        found.append("discord")
    return found


def missing_token(mode: str, settings: Settings) -> str | None:
    variable = {"telegram": "TELEGRAM_BOT_TOKEN", "discord": "DISCORD_BOT_TOKEN"}.get(mode)
    if variable and getattr(settings, variable.lower()) is None:
        return f"{variable} is required for `python -m bots {mode}`."
    return None


NO_PLATFORM = """drawbot: no chat platform is configured.
  Set TELEGRAM_BOT_TOKEN (from @BotFather) and/or DISCORD_BOT_TOKEN in .env (see .env.example).
  To try the bot without either, run it in your terminal:  python -m bots console
  (or, with no settings at all, against an offline relay:  python -m bots demo)"""


def fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


# A draw makes a few thousand short-lived objects, nearly all freed by reference counting;
# the cycle collector's youngest generation runs every GC_YOUNG allocations (Python's 700
# made it run every few draws) and never walks start-up's objects again (gc.freeze).
GC_YOUNG = 20_000


def settle_heap() -> None:
    """After start-up: what is alive now (modules, settings, the core) lives as long as the
    process, and is moved out of the collector's sight. At 10 users drawing at once the
    collector cost about 0.5 ms of CPU per draw, 0.05 ms after (README, Benchmarks)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, 10, 10)


class AdapterFailed(Exception):
    """An adapter stopped by itself (not asked to): the process exits non-zero."""


async def serve(settings: Settings, names: list[str]) -> None:
    """Run the adapters in one loop; on SIGTERM/SIGINT let draws finish, then stop them.
    If an adapter fails, the others are stopped the same way and its error is raised as
    AdapterFailed (an adapter that may not end by itself raises AdapterDied when it does)."""
    adapters: dict[str, Adapter] = {
        name: importlib.import_module(ADAPTERS[name]).run for name in names
    }
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop_requested.set)
    async with Core.open(settings, names) as core:
        web = web_server(core, names)
        if web is not None:
            try:
                await web.start()
            except OSError as error:
                variable = "PORT" if web.port == settings.port else "HEALTH_PORT"
                raise SettingRejected(variable, f"({web.port}) cannot be used: {error}") from None
        adapters_stop = asyncio.Event()
        settle_heap()
        tasks = [
            asyncio.create_task(adapter(core, adapters_stop, web), name=name)
            for name, adapter in adapters.items()
        ]
        waiter = asyncio.create_task(stop_requested.wait())
        done, _ = await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            log.info("stopping: no new draws; waiting for draws in flight")
        interrupted = await core.service.close()
        if interrupted:
            log.warning("%d draws were interrupted and refunded", interrupted)
        adapters_stop.set()
        waiter.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        if web is not None:
            await web.stop()
    failures = [
        (name, result)
        for name, result in zip(adapters, results, strict=True)
        if isinstance(result, Exception)
    ]
    for name, failure in failures:
        if isinstance(failure, ConfigError):
            raise failure
        # expected ends carry their own one line, and so does a platform out of reach
        if not isinstance(failure, AdapterDied) and cannot_connect(failure) is None:
            log.error("%s adapter stopped with an error", name, exc_info=failure)
    if failures:
        name, failure = failures[0]
        raise AdapterFailed(f"the {name} adapter stopped: {why_stopped(name, failure)}")


def why_stopped(name: str, failure: Exception) -> str:
    """One line for an adapter's end: its own, or that its platform cannot be reached."""
    if isinstance(failure, AdapterDied):
        return str(failure)
    unreachable = cannot_connect(failure)
    if unreachable is not None:
        return f"cannot reach {name.capitalize()}: {unreachable}"
    return f"{type(failure).__name__}: {failure}"


def web_server(
    core: Core, names: list[str], environ: Mapping[str, str] | None = None
) -> WebServer | None:
    """The HTTP server: on PORT in Telegram webhook mode or when PORT is in the environment
    (Procfile platforms route to it and probe it; the Docker image sets it), else on
    HEALTH_PORT if it is set; else none."""
    settings = core.settings
    environ = os.environ if environ is None else environ
    if "telegram" in names and settings.telegram_webhook_url:
        return WebServer(core, settings.port)
    if environ.get("PORT", "").strip():
        return WebServer(core, settings.port)
    if settings.health_port is not None:
        return WebServer(core, settings.health_port)
    return None


NO_SYNC_TOKEN = """drawbot: DISCORD_BOT_TOKEN is required for `python -m bots discord-sync`.
  Set it (the bot's token, from the Discord developer portal) in the environment or .env;
  the relay settings are not needed to publish the commands."""


def sync_discord(settings: Settings) -> int:
    """Publish the slash commands, deliberately (not at every start-up)."""
    if settings.discord_bot_token is None:
        return fail(NO_SYNC_TOKEN)
    from bots.discord import sync_commands

    async def sync() -> int:
        async with Core.open(settings, []) as core:
            return await sync_commands(core)

    print(f"drawbot: synced {asyncio.run(sync())} Discord commands")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["admin"]:  # its own help, settings and language (bots/admin_cli.py)
        from bots.admin_cli import run_admin

        return run_admin(args[1:])
    if any(a in ("-h", "--help", "help") for a in args[:1]) or "--help" in args:
        print(USAGE + describe_settings())
        return 0
    mode = args[0] if args else None
    if mode is not None and mode not in (*ADAPTERS, "admin", "discord-sync"):
        return fail(f"drawbot: unknown mode {mode!r}.\n\n{USAGE.splitlines()[0]}")
    if mode == "demo":  # reads none of the settings below (bots/demo.py)
        from bots.demo import main as demo

        try:
            return demo(serve)
        except AdapterFailed as error:
            print(f"drawbot: {error}", file=sys.stderr)
            return 1
    try:
        settings = Settings.load(need_relay=mode != "discord-sync")
    except ConfigError as error:
        lines = "\n".join(f"  - {problem}" for problem in error.problems)
        hint = (
            "Copy .env.example to .env and fill it in; `python -m bots --help` lists every "
            "setting.\nNo relay yet? `python -m bots demo` tries every command in this "
            "terminal with no settings at all; with the relay set, `python -m bots console`."
        )
        return fail(f"drawbot: the configuration has problems:\n{lines}\n{hint}")
    level = settings.log_level
    if mode == "console" and level == "INFO":
        level = "WARNING"  # the terminal is the chat: keep routine logs out of it
    setup_logging(level, settings.log_format, settings.secrets())
    if mode == "discord-sync":
        return sync_discord(settings)
    names = chosen_adapters(mode, settings)
    if not names:
        return fail(NO_PLATFORM)
    problems = [p for p in (missing_token(n, settings) for n in names) if p]
    if problems:
        return fail("drawbot: " + " ".join(problems))
    try:
        event_loop.run(serve(settings, names))
    except ConfigError as error:
        return fail("drawbot: " + "\n".join(error.problems))
    except AdapterFailed as error:
        print(f"drawbot: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
