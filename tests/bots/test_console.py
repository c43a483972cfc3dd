"""`python -m bots console` as a real subprocess, talking to a fake relay in this test's loop."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import sys
from pathlib import Path

import pytest

from bots.console import console_language, locale_language
from tests.conftest import API_KEY, THREE_MODELS, THREE_REQ_KEYS, child_env
from tests.fakes.png import png_size
from tests.fakes.relay import FakeRelay, Reply


def read_file(path: str) -> bytes:
    saved = Path(path)
    assert saved.is_file()
    return saved.read_bytes()


async def run_console(
    relay: FakeRelay, tmp_path: Path, lines: list[str], tty: bool = False, **extra: str | None
) -> tuple[int, str, str]:
    """The console fed `lines` (through a terminal with `tty`, else a pipe); `extra` adds to
    or (None) removes from its environment."""
    env = child_env(
        HOME=str(tmp_path),
        USER="tester",
        LOGNAME="tester",
        YUNAPI_BASE_URL=relay.base_url,
        YUNAPI_API_KEY=API_KEY,
        DATABASE_PATH=str(tmp_path / "data" / "bot.db"),
        IMAGE_DIR=str(tmp_path / "images"),
        DEFAULT_LANGUAGE="en",
        LOG_LEVEL="info",
    )
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    terminal, reader = pty.openpty() if tty else (None, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "console",
        cwd=tmp_path,
        env=env,
        stdin=reader if reader is not None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdin = "".join(line + "\n" for line in lines).encode()
    try:
        if terminal is not None and reader is not None:
            os.close(reader)
            os.write(terminal, stdin)
            stdin = b""
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin or None), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    finally:
        if terminal is not None:
            os.close(terminal)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_console_session(relay: FakeRelay, tmp_path: Path) -> None:
    relay.script(Reply.ok(), Reply.volc_error(50412))
    code, out, err = await run_console(
        relay,
        tmp_path,
        [
            '/draw a cat\'s "hat" ——size 768x512 --seed 42 --no-sr --watermark "two words"',
            "/draw something the filter refuses",
            "/quota",
            "/history",
            "/draw a fox --sise 768x512",
            "/quit",
            "/draw never reached",
        ],
    )
    assert code == 0, err
    assert "Traceback" not in err
    assert API_KEY not in out and API_KEY not in err

    # the drawing: saved on disk, a PNG of the asked size, with a caption
    [saved] = re.findall(r"^saved: (.+) \((\d+)x(\d+)\)$", out, re.M)
    assert Path(saved[0]).is_relative_to(tmp_path / "images")
    assert png_size(read_file(saved[0])) == (768, 512) == (int(saved[1]), int(saved[2]))
    assert 'a cat\'s "hat"\n768x512 · seed 42 · #1' in out
    assert "Drawing… (768x512)" in out

    # what the relay was asked
    first, second = relay.calls
    assert first.body["prompt"] == 'a cat\'s "hat"' and first.body["seed"] == 42
    assert (first.body["width"], first.body["height"], first.body["use_sr"]) == (768, 512, False)
    assert first.body["logo_info"]["logo_text_content"] == "two words"
    assert second.body["prompt"] == "something the filter refuses"
    assert len(relay.calls) == 2  # nothing after /quit, nothing for the bad flag

    # the refusal, the quota (the refusal was not charged), history and the bad flag
    assert "The model refused this prompt (content policy)" in out
    assert "Today you have received 1 of 20 images; 19 left." in out
    assert "Your recent drawings:" in out
    assert re.search(r"#1 .* · done · 768x512 · seed 42", out)
    assert re.search(r"#2 .* · failed · 512x512 · seed \d+", out)
    assert "Unknown option --sise. Did you mean --size?" in out


async def test_console_ends_at_end_of_input(relay: FakeRelay, tmp_path: Path) -> None:
    code, out, err = await run_console(relay, tmp_path, ["/help", "hello there"])
    assert code == 0, err
    assert "Commands:\n/draw <prompt> [options]" in out
    assert "Tell me what to draw." in out
    assert relay.calls == []


async def test_console_prompts_only_on_a_terminal(relay: FakeRelay, tmp_path: Path) -> None:
    code, out, err = await run_console(relay, tmp_path, ["/help", "/quit"], tty=True)
    assert code == 0, err
    assert out.count("drawbot> ") == 2  # before /help, before /quit
    assert "Commands:\n/draw <prompt> [options]" in out
    code, out, err = await run_console(relay, tmp_path, ["/help"])
    assert code == 0, err
    assert "drawbot> " not in out  # a pipe: the answers only


async def test_console_speaks_the_locale_s_language(relay: FakeRelay, tmp_path: Path) -> None:
    lines = ["/quota"]
    zh = await run_console(relay, tmp_path, lines, DEFAULT_LANGUAGE=None, LANG="zh_CN.UTF-8")
    assert "今天已生成 0/20 张" in zh[1] and "drawbot 终端" in zh[1]
    en = await run_console(relay, tmp_path, lines, DEFAULT_LANGUAGE=None, LC_ALL="en_US.UTF-8")
    assert "Today you have received 0 of 20 images" in en[1]
    chosen = await run_console(relay, tmp_path, lines, DEFAULT_LANGUAGE="en", LANG="zh_CN.UTF-8")
    assert "Today you have received 0 of 20 images" in chosen[1]  # DEFAULT_LANGUAGE wins


async def test_console_user_in_admin_ids_runs_admin_commands(
    relay: FakeRelay, tmp_path: Path
) -> None:
    code, out, err = await run_console(
        relay, tmp_path, ["/stats", "/limit user console:someone 3"], ADMIN_IDS="console:tester"
    )
    assert code == 0, err
    assert "You are an admin here (console:tester is in ADMIN_IDS)" in out
    assert "Today: 0 images, 0 failed." in out
    assert "Done: limit console:someone = 3." in out
    code, out, err = await run_console(relay, tmp_path, ["/stats"], ADMIN_IDS="console:other")
    assert "Only the bot's admins can do that." in out


@pytest.mark.parametrize(
    ("environ", "code"),
    [
        ({}, None),
        ({"LANG": "C.UTF-8"}, None),
        ({"LANG": "POSIX"}, None),
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "zh_TW.UTF-8", "LC_MESSAGES": "en_US"}, "en_US"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "de_DE", "LC_ALL": "zh_CN.GB2312"}, "zh_CN"),
        ({"LANG": "sr_RS@latin"}, "sr_RS"),
    ],
)
def test_locale_language(environ: dict[str, str], code: str | None) -> None:
    assert locale_language(environ) == code


def test_default_language_overrides_the_locale(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    assert console_language({"LANG": "zh_CN.UTF-8"}, env_file) == "zh_CN"
    assert console_language({"LANG": "zh_CN.UTF-8", "DEFAULT_LANGUAGE": "en"}, env_file) is None
    env_file.write_text("DEFAULT_LANGUAGE=en\n")
    assert console_language({"LANG": "zh_CN.UTF-8"}, env_file) is None
    assert console_language({"LANG": "zh_CN.UTF-8"}, None) == "zh_CN"  # no .env was read


async def test_console_models(relay: FakeRelay, tmp_path: Path) -> None:
    (tmp_path / "models.toml").write_text(THREE_MODELS, encoding="utf-8")
    relay.req_keys = THREE_REQ_KEYS
    lines = ["/models", "/model poster", "/draw a cat --seed 1", "/model", "/quota"]
    code, out, err = await run_console(relay, tmp_path, lines, MODELS_FILE="models.toml")
    assert code == 0, err
    assert "drawbot console: type /draw <prompt>, /help, /models," in out
    assert "• poster (Poster): sizes 768x512, 512x768 (default 768x512), 3 per image" in out
    assert "This chat now draws with poster (Poster), 3 per image;" in out
    assert "a cat\nPoster · 3 units · 768x512 · seed 1 · #1" in out
    assert "This chat draws with poster (Poster)." in out
    assert "Today you have used 3 of 20 units; 17 left." in out
    assert [call.body["req_key"] for call in relay.calls] == ["poster_req_key_v1"]
