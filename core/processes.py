"""The processes sharing a database, and the draws they leave behind.

A mixin of `Store` (core/store.py): each running process registers itself and beats a
heartbeat; a process that stopped, or fell silent, is gone, and its draws in flight are
adopted by one statement, so each is settled once (core/recovery.py decides how).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable

from sqlite_utils import Database

from core.records import DRAWING, IN_FLIGHT, Generation, sql_in

_IN_FLIGHT = sql_in(IN_FLIGHT)
_DRAWING = sql_in(DRAWING)
# A draw whose asynchronous task was submitted: the relay may still finish it, so a clean exit
# leaves it in flight for the next process to resume (core/resume.py) and never refunds it.
_TASK_PENDING = "(status = 'generating' AND task_id IS NOT NULL)"


class Processes:
    """Registration, heartbeat and exit of processes; adoption of what gone ones left."""

    sqlite: Database

    def get(self, generation_id: int) -> Generation | None:
        raise NotImplementedError  # Store's

    def register_process(self, process_id: str, platforms: list[str], now: float) -> None:
        self.sqlite.execute(
            """INSERT INTO processes (id, pid, host, platforms, started_at, heartbeat_at)
            VALUES (?, ?, ?, ?, ?, ?)""",
            [process_id, os.getpid(), socket.gethostname(), ",".join(platforms), now, now],
        )

    def heartbeat(self, process_id: str, now: float) -> None:
        self.sqlite.execute("UPDATE processes SET heartbeat_at = ? WHERE id = ?", [now, process_id])

    def stop_process(self, process_id: str, now: float) -> None:
        """A clean exit: its rows are settled; keep the row a day for the record."""
        self.sqlite.execute(
            "UPDATE processes SET stopped_at = ?, heartbeat_at = ? WHERE id = ?",
            [now, now, process_id],
        )
        self.sqlite.execute(
            "DELETE FROM processes WHERE stopped_at IS NOT NULL AND stopped_at < ?",
            [now - 86400],
        )

    def adopt_orphans(
        self,
        owner: str,
        platforms: Iterable[str],
        expired_before: float,
        alive: Iterable[str] = (),
    ) -> list[Generation]:
        """Take over the draws in flight of processes that are gone (stopped, or silent since
        `expired_before` and not known to be `alive`) on `platforms`. One statement: each row
        is adopted once."""
        names, living = list(platforms), list(alive)
        if not names:
            return []
        marks = ",".join("?" for _ in names)
        with self.sqlite.atomic():
            rows = list(
                self.sqlite.query(
                    f"""UPDATE generations SET owner = ? WHERE status IN {_IN_FLIGHT}
                    AND platform IN ({marks}) AND (owner IS NULL OR (
                        owner NOT IN (
                            SELECT id FROM processes
                            WHERE stopped_at IS NULL AND heartbeat_at >= ?)
                        AND owner NOT IN (SELECT value FROM json_each(?))))
                    RETURNING id""",
                    [owner, *names, expired_before, json.dumps(living)],
                )
            )
        return [g for row in rows if (g := self.get(row["id"])) is not None]

    def settle_owned(self, owner: str) -> int:
        """At a clean exit: refund this process's draws that have no image yet, except those
        waiting on a submitted task (the next process resumes them)."""
        cursor = self.sqlite.execute(
            f"""UPDATE generations SET status = 'interrupted', error_kind = 'interrupted',
            finished_at = ? WHERE owner = ? AND status IN {_DRAWING} AND NOT {_TASK_PENDING}""",
            [time.time(), owner],
        )
        return cursor.rowcount

    def waits_on_task(self, generation_id: int) -> bool:
        """Whether a draw waits on a submitted task (a shutdown leaves it to be resumed)."""
        query = f"SELECT 1 FROM generations WHERE id = ? AND {_TASK_PENDING}"
        return self.sqlite.execute(query, [generation_id]).fetchone() is not None

    def settle_stale(self, older_than: float) -> int:
        """Refund draws with no image yet from before `older_than`: past every deadline,
        their owner is gone or stuck (a last resort; adoption normally settles them first).
        A drawn image is never refunded here: it may have reached the user."""
        cursor = self.sqlite.execute(
            f"""UPDATE generations SET status = 'interrupted', error_kind = 'interrupted',
            finished_at = ? WHERE status IN {_DRAWING} AND created_at < ?""",
            [time.time(), older_than],
        )
        return cursor.rowcount
