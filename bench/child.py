"""A bot run as a real child process against the fakes: whether it is still up, its /proc
figures (CPU, peak memory), and stopping it. bench/telegram.py and bench/discord.py build on it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


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
