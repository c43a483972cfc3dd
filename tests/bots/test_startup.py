"""Start-up against a platform that cannot be reached: one line on stderr and a non-zero exit,
never a traceback (and never the token)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.bots.conftest import TG_TOKEN
from tests.conftest import API_KEY, child_env

DISCORD_TOKEN = "discord-startup-test-token"


def closed_port() -> int:
    """A port bound for a moment and then let go: nothing listens there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_bots(tmp_path: Path, mode: str, **values: str) -> subprocess.CompletedProcess[str]:
    env = child_env(
        YUNAPI_BASE_URL="http://127.0.0.1:9",
        YUNAPI_API_KEY=API_KEY,
        DATABASE_PATH=str(tmp_path / "data" / "bot.db"),
        IMAGE_DIR=str(tmp_path / "images"),
        HOME=str(tmp_path),
        **values,
    )
    return subprocess.run(
        [sys.executable, "-m", "bots", mode],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unreachable_telegram_is_one_line_and_exit_1(tmp_path: Path) -> None:
    port = closed_port()
    result = run_bots(
        tmp_path,
        "telegram",
        TELEGRAM_BOT_TOKEN=TG_TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot",
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"drawbot: the telegram adapter stopped: cannot reach Telegram at http://127.0.0.1:{port}"
        f" (TELEGRAM_API_BASE_URL): 127.0.0.1:{port} refused the connection"
    ]
    assert TG_TOKEN not in result.stderr + result.stdout


def test_an_unreachable_discord_ends_with_one_line_and_exit_1(tmp_path: Path) -> None:
    port = closed_port()
    result = run_bots(
        tmp_path,
        "discord",
        DISCORD_BOT_TOKEN=DISCORD_TOKEN,
        DISCORD_API_BASE_URL=f"http://127.0.0.1:{port}/api/v10",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last == (
        f"drawbot: the discord adapter stopped: cannot reach Discord: "
        f"127.0.0.1:{port} refused the connection"
    )
    assert DISCORD_TOKEN not in result.stderr + result.stdout
