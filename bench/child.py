"""A bot run as a real child process against the fakes: whether it is still up, its /proc
figures (CPU, peak memory), and stopping it. bench/telegram.py and bench/discord.py build on it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parents[1]
# BENCH_BOT_ROOT=<checkout>: the bot child runs that checkout's code (an earlier design, for a
# before/after ratio in one run of today's bench and fakes); default this one
BOT_ROOT = Path(os.environ.get("BENCH_BOT_ROOT") or ROOT).resolve()
API_KEY = "bench-relay-key"


def base_env(folder: Path, relay_url: str) -> dict[str, str]:
    """The settings every bench bot runs with: the fake relay, its own database and images
    in `folder`, no quota, quiet logs; the adapter's own settings are added to these."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(BOT_ROOT),
        "YUNAPI_BASE_URL": relay_url,
        "YUNAPI_API_KEY": API_KEY,
        "DATABASE_PATH": str(folder / "bot.db"),
        "IMAGE_DIR": str(folder / "images"),
        "DEFAULT_LANGUAGE": "en",
        "DAILY_LIMIT": "0",
        "MAX_IN_FLIGHT_PER_USER": "0",
        "LOG_LEVEL": "WARNING",
    }


class Child:
    """The child's process and log; a subclass starts it (`self.process`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: asyncio.subprocess.Process | None = None
        self.log_path = folder / "bot.log"

    def exited(self) -> bool:
        """False while the child runs; raises (with its log) if it stopped on its own."""
        assert self.process is not None
        if self.process.returncode is None:
            return False
        logs = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the bot exited with {self.process.returncode}:\n{logs}")

    def proc(self, name: str) -> str:
        assert self.process is not None
        return (Path("/proc") / str(self.process.pid) / name).read_text()

    def memory_mb(self, field: str) -> float:
        """VmHWM (peak) or VmRSS of the child, in MB."""
        line = next(x for x in self.proc("status").splitlines() if x.startswith(field + ":"))
        return int(line.split()[1]) / 1024

    def cpu_seconds(self) -> float:
        """utime + stime of the whole child, every thread."""
        fields = self.proc("stat").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def kill(self) -> None:
        """After a failure: do not leave the child behind."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
