"""`python -m bots console` as a real subprocess, talking to a fake relay in this test's loop."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from tests.conftest import API_KEY, child_env
from tests.fakes.png import png_size
from tests.fakes.relay import FakeRelay, Reply


def read_file(path: str) -> bytes:
    saved = Path(path)
    assert saved.is_file()
    return saved.read_bytes()


async def run_console(relay: FakeRelay, tmp_path: Path, lines: list[str]) -> tuple[int, str, str]:
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
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "console",
        cwd=tmp_path,
        env=env,
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
