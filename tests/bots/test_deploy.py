"""The deployment files as a platform reads them, and the port /healthz listens on.

Procfile platforms start `web:` with $PORT and one disk; Docker Compose and the image's
HEALTHCHECK probe /healthz on 127.0.0.1:$PORT. No Docker engine runs here: the files are
parsed (docker-compose.yml with a tiny reader for the subset it uses, no PyYAML) and the
healthcheck command itself is run against a small HTTP server.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bots.__main__ import GC_YOUNG, settle_heap, web_server
from core.config import Settings
from core.root import Core
from tests.bots.conftest import TG_TOKEN
from tests.bots.test_process import free_port, healthz
from tests.conftest import API_KEY, child_env
from tests.fakes.relay import FakeRelay
from tests.fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


# -- a reader for the YAML subset docker-compose.yml uses -------------------------------------


def read_yaml(text: str) -> Any:
    """Block mappings, block lists, flow lists of scalars, quoted and plain scalars."""
    lines = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            lines.append((len(raw) - len(raw.lstrip(" ")), stripped))
    value, end = _block(lines, 0, lines[0][0] if lines else 0)
    assert end == len(lines), f"unread line: {lines[end]}"
    return value


def _block(lines: list[tuple[int, str]], at: int, indent: int) -> tuple[Any, int]:
    if lines[at][1].startswith("- "):
        items: list[Any] = []
        while at < len(lines) and lines[at][0] == indent and lines[at][1].startswith("- "):
            items.append(_scalar(lines[at][1][2:]))
            at += 1
        return items, at
    mapping: dict[str, Any] = {}
    while at < len(lines) and lines[at][0] == indent:
        key, _, rest = lines[at][1].partition(":")
        at += 1
        if rest.strip():
            mapping[key] = _scalar(rest.strip())
        elif at < len(lines) and lines[at][0] > indent:
            mapping[key], at = _block(lines, at, lines[at][0])
        elif at < len(lines) and lines[at][0] == indent and lines[at][1].startswith("- "):
            mapping[key], at = _block(lines, at, indent)
        else:
            mapping[key] = None
    return mapping, at


def _scalar(text: str) -> Any:
    if text.startswith("["):
        return json.loads(text)
    if text[:1] in "\"'":
        assert text[-1] == text[0], text
        return text[1:-1]
    return text


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = read_yaml((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def dockerfile_healthcheck() -> list[str]:
    (line,) = [line for line in dockerfile() if line.startswith("HEALTHCHECK ")]
    command: list[str] = json.loads(line[line.index("CMD ") + 4 :])
    return command


# -- the files --------------------------------------------------------------------------------


def test_the_procfile_runs_one_web_process_with_every_adapter() -> None:
    """Only `web` gets $PORT, and each process type would get its own disk (two databases)."""
    lines = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()]
    assert lines == ["web: python -m bots"]


def test_compose_runs_the_bots_on_a_volume_with_a_healthcheck(compose: dict[str, Any]) -> None:
    (_name, service), *others = compose["services"].items()
    assert others == []
    assert service["command"] == ["python", "-m", "bots"]
    assert service["build"] == "." and service["env_file"] == ".env"
    assert service["restart"] in ("unless-stopped", "always")
    volume, _, target = service["volumes"][0].partition(":")
    assert target == "/app/data" and volume in compose["volumes"]  # a named volume
    assert service["environment"]["DATABASE_PATH"].startswith("/app/data/")
    assert service["environment"]["IMAGE_DIR"].startswith("/app/data/")
    test = service["healthcheck"]["test"]
    assert test == ["CMD", *dockerfile_healthcheck()]  # the same probe as the image's
    assert "127.0.0.1:%s/healthz" in test[-1] and "'PORT'" in test[-1]
    assert "PORT" not in service["environment"]  # the image's, or .env's: the probe reads it
    grace = int(service["stop_grace_period"].rstrip("s"))
    assert grace > 25  # SHUTDOWN_GRACE_SECONDS' default, plus closing


def test_the_image_runs_as_10001_with_port_and_volume_set() -> None:
    instructions = dockerfile()
    assert "USER drawbot" in instructions
    run = next(line for line in instructions if line.startswith("RUN "))
    assert "--uid 10001" in run and "chown drawbot:drawbot /app/data" in run
    env = " ".join(line for line in instructions if line.startswith("ENV "))
    assert "PORT=8080" in env and "DATABASE_PATH=/app/data/bot.db" in env
    assert "EXPOSE 8080" in instructions and 'VOLUME ["/app/data"]' in instructions
    assert instructions[-1] == 'CMD ["python", "-m", "bots"]'
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "data", ".git"} <= set(ignored)
    assert "LICENSE" not in ignored and (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_readme_explains_the_bind_mount_and_the_single_process() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "chown -R 10001:10001 ./data" in readme and "unable to open database file" in readme
    assert "web: python -m bots" in readme and "docker compose up -d" in readme
    assert re.search(r"one persistent disk", readme)


@pytest.fixture
def status_server() -> Iterator[tuple[int, list[int]]]:
    """An HTTP server on 127.0.0.1 answering /healthz with the status at the head of a list."""
    statuses = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = statuses[0] if self.path == "/healthz" else 404
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], statuses
    finally:
        server.shutdown()
        server.server_close()


def test_the_healthcheck_command_fails_on_503_and_on_no_answer(
    status_server: tuple[int, list[int]],
) -> None:
    """The image's probe, run as Docker would (argv, not a shell), with PORT as the image sets."""
    port, statuses = status_server
    argv = dockerfile_healthcheck()
    assert argv[0] == "python"

    def probe(port: int) -> int:
        env = child_env(PORT=str(port))
        return subprocess.run([sys.executable, *argv[1:]], env=env, timeout=30).returncode

    assert probe(port) == 0
    statuses[0] = 503
    assert probe(port) != 0
    assert probe(free_port()) != 0  # nothing listening


# -- where /healthz listens -------------------------------------------------------------------


def test_healthz_listens_on_port_when_the_platform_sets_it(env: dict[str, str]) -> None:
    def port_for(names: list[str], environ: dict[str, str], **extra: str) -> int | None:
        settings = Settings.load(environ={**env, **extra}, env_file=None)
        core = cast(Core, SimpleNamespace(settings=settings))  # web_server reads only settings
        server = web_server(core, names, environ)
        return None if server is None else server.port

    assert port_for(["discord"], {}) is None
    assert port_for(["discord"], {}, HEALTH_PORT="9001") == 9001
    assert port_for(["discord"], {"PORT": "5000"}, PORT="5000") == 5000
    assert port_for(["discord"], {"PORT": "5000"}, PORT="5000", HEALTH_PORT="9001") == 5000
    webhook = {"TELEGRAM_BOT_TOKEN": TG_TOKEN, "TELEGRAM_WEBHOOK_URL": "https://x.example/tg"}
    assert port_for(["telegram"], {}, **webhook) == 8080


async def test_python_m_bots_with_port_set_answers_healthz_there_in_polling_mode(
    tg: FakeTelegram, relay: FakeRelay, tmp_path: Path
) -> None:
    """What a Procfile platform does: `web: python -m bots` with PORT, no HEALTH_PORT."""
    port = free_port()
    env = child_env(
        YUNAPI_BASE_URL=relay.base_url,
        YUNAPI_API_KEY=API_KEY,
        TELEGRAM_BOT_TOKEN=TG_TOKEN,
        TELEGRAM_API_BASE_URL=f"{tg.base_url}/bot",
        DATABASE_PATH=str(tmp_path / "data" / "bot.db"),
        IMAGE_DIR=str(tmp_path / "images"),
        PORT=str(port),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        body = cast(dict[str, Any], await healthz(port, within=20))
        assert body["adapters"]["telegram"]["signal"] == "getUpdates"  # polling, not webhook
        assert tg.webhook_url in (None, "")
    finally:
        if process.returncode is None:
            process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()


def test_after_start_up_the_collector_leaves_start_ups_objects_alone() -> None:
    """What start-up made is frozen out of the cycle collector's walks, and its youngest
    generation runs every GC_YOUNG allocations (drawbot's objects die by reference count)."""
    threshold = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 10_000  # the modules' functions, classes and dicts
        assert gc.get_threshold() == (GC_YOUNG, 10, 10)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
