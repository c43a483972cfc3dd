"""`python -m bots demo` as a real subprocess with an empty environment: no settings, no key,
no network beyond 127.0.0.1, nothing written outside its working folder."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from bots.demo import demo_settings
from bots.placeholder import placeholder_png, shown
from tests.conftest import ROOT
from tests.fakes.png import png_size

# Loaded by the child at start-up (PYTHONPATH): every connection and name lookup is written
# to network.log, and any to somewhere other than this machine is refused.
GUARD = """
import os, sys

LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "network.log")
LOCAL = ("127.0.0.1", "::1", "localhost")


def _note(line):
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(line + "\\n")


def _guard(event, args):
    if event not in ("socket.connect", "socket.getaddrinfo"):
        return
    if event == "socket.connect":
        address = args[1]
        host = address[0] if isinstance(address, tuple) else "unix socket"
    else:
        host = args[0]
    if isinstance(host, bytes):
        host = host.decode()
    local = host in LOCAL or host == "unix socket"
    _note(("local " if local else "REFUSED ") + f"{event} {host}")
    if not local:
        raise PermissionError(f"the demo may not reach {host}")


sys.addaudithook(_guard)
"""

SKIPPED = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


def checkout_files() -> dict[str, float]:
    """Every file of the checkout (not caches) with its modification time."""
    found = {}
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED]
        for name in files:
            path = os.path.join(folder, name)
            found[path] = os.stat(path).st_mtime
    return found


async def run_demo(tmp_path: Path, lines: list[str], **env: str) -> tuple[int, str, str, list[str]]:
    """The demo in `tmp_path` (its cwd and HOME), fed `lines`; (status, stdout, stderr, and
    the network.log of every connection it tried)."""
    guard = tmp_path / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(GUARD)
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{guard}{os.pathsep}{ROOT}"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "demo",
        cwd=tmp_path,
        env={**base, "HOME": str(tmp_path), **env},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdin = "".join(line + "\n" for line in lines).encode()
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    log = guard / "network.log"
    network = log.read_text().splitlines() if log.exists() else []
    return process.returncode, stdout.decode(), stderr.decode(), network


async def test_demo_draws_with_no_settings_at_all(tmp_path: Path) -> None:
    before = checkout_files()
    code, out, err, network = await run_demo(
        tmp_path,
        [
            "/draw a red fox in the snow --size 768x512 --seed 42",
            "/quota",
            "/history",
            "/redo",
            "/original 1",
            "/stats",
            "/quit",
        ],
    )
    assert code == 0, err
    assert "Traceback" not in err and err.strip() == ""

    # no locale, no DEFAULT_LANGUAGE: Chinese, the default; the greeting says what this is
    assert "drawbot 演示" in out and "DEMO" in out
    assert "ADMIN_IDS=console:" in out  # how to try the admin commands
    assert "drawbot> " not in out  # stdin is a pipe: no prompt in the output

    # /draw, /redo and /original: PNGs saved under the demo folder, doubled (super-resolution)
    saved = re.findall(r"^saved: (.+) \((\d+)x(\d+)\)$", out, re.M)
    assert len(saved) == 3
    for path, width, height in saved:
        assert (tmp_path / path).resolve().is_relative_to(tmp_path / "data" / "demo" / "images")
        assert (int(width), int(height)) == (1536, 1024)
    first = (tmp_path / saved[0][0]).read_bytes()
    assert png_size(first) == (1536, 1024)
    # the picture is the labelled placeholder of this prompt, size and seed (watermark on)
    expected = placeholder_png(
        "a red fox in the snow", 1536, 1024, 42, asked=(768, 512), mark="drawbot demo"
    )
    assert first == expected
    assert saved[2][0] == saved[0][0]  # /original 1 sends #1's file again
    assert (tmp_path / saved[1][0]).read_bytes() == first  # /redo: the same seed, same picture

    # /quota (before the redo) counts the draw, of the demo's 5 a day
    assert "今天已生成 1/5 张,剩余 4 张" in out
    assert re.search(r"#1 .* · 完成 · 768x512 · 种子 42", out)
    assert "只有机器人管理员可以这样做。" in out  # /stats: not an admin

    # the demo's own database, nothing written outside this folder, nothing but 127.0.0.1
    assert (tmp_path / "data" / "demo" / "bot.db").is_file()
    assert not (tmp_path / "data" / "bot.db").exists()
    assert checkout_files() == before
    assert network and all(line.startswith("local ") for line in network), network


async def test_demo_reads_no_deployment_settings(tmp_path: Path) -> None:
    """A `.env` and environment of a real deployment are left alone: not its relay, key or
    database; only how the bot behaves (language, admins, limits) may be chosen."""
    (tmp_path / ".env").write_text(
        "YUNAPI_BASE_URL=https://relay.example.com\nYUNAPI_API_KEY=sk-real-key\n"
        "DATABASE_PATH=real.db\nDEFAULT_LANGUAGE=zh\n"
    )
    code, out, err, network = await run_demo(
        tmp_path,
        ["/draw a lighthouse --no-sr --seed 3", "/quota", "/stats", "/balance"],
        YUNAPI_BASE_URL="https://relay.example.com",
        YUNAPI_API_KEY="sk-real-key",
        DATABASE_PATH=str(tmp_path / "real.db"),
        IMAGE_DIR=str(tmp_path / "real-images"),
        HTTPS_PROXY="http://proxy.example.com:3128",
        DEFAULT_LANGUAGE="en",
        DAILY_LIMIT="3",
        ADMIN_IDS="console:tester",
        USER="tester",
        LOGNAME="tester",
    )
    assert code == 0, err
    assert "sk-real-key" not in out + err
    [saved] = re.findall(r"^saved: (.+) \((\d+)x(\d+)\)$", out, re.M)
    assert saved[1:] == ("512", "512")
    assert (tmp_path / saved[0]).resolve().is_relative_to(tmp_path / "data" / "demo")
    assert not (tmp_path / "real.db").exists() and not (tmp_path / "real-images").exists()
    assert "Today you have received 1 of 3 images; 2 left." in out  # DEFAULT_LANGUAGE, limit
    assert "You are an admin here (console:tester is in ADMIN_IDS)" in out
    assert "Today: 1 images, 0 failed." in out  # /stats, as console:tester
    assert "This relay does not report its balance." in out  # /balance: the demo has none
    assert "Only" not in out
    assert all(line.startswith("local ") for line in network), network


def test_demo_settings_take_only_how_the_bot_behaves() -> None:
    environ = {
        "YUNAPI_BASE_URL": "https://relay.example.com",
        "YUNAPI_API_KEY": "sk-real-key",
        "DATABASE_PATH": "/srv/bot.db",
        "HTTPS_PROXY": "http://proxy.example.com:3128",
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "COOLDOWN_SECONDS": "7",
    }
    settings = demo_settings(environ, "http://127.0.0.1:5000", "demo-key")
    assert settings.yunapi_base_url == "http://127.0.0.1:5000"
    assert settings.yunapi_api_key.reveal() == "demo-key"
    assert settings.database_path == Path("data/demo/bot.db")
    assert settings.image_dir == Path("data/demo/images")
    assert settings.https_proxy is None and settings.telegram_bot_token is None
    assert settings.cooldown_seconds == 7 and settings.daily_limit == 5


def test_placeholder_is_the_seed_s_and_says_what_was_asked() -> None:
    one = placeholder_png("a cat", 512, 256, 1)
    assert one == placeholder_png("a cat", 512, 256, 1)
    assert png_size(one) == (512, 256)
    assert one != placeholder_png("a cat", 512, 256, 2)
    assert one != placeholder_png("a dog", 512, 256, 1)
    # what the built-in font cannot draw (Chinese) becomes one mark per run, never boxes
    assert shown("一只 cat 在月光下") == "… cat …"
    assert shown("  two   spaces ") == "two spaces"
