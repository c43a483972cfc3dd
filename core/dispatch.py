"""Dispatcher: takes each reserved draw through the fair queue to the relay and back.

A draw the relay pushes back (busy: 50430, 50429, HTTP 429) is not failed: the window narrows
and the draw goes back to the front of its user's line, after a pause that grows with each
push-back it meets (stamina runs these attempts, as it runs the relay client's own retries).
A draw that cannot get through in time (its answer must still reach the user: Discord's
follow-ups expire after 15 minutes) fails as busy and is refunded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace

import stamina

from core.progress import Reporter
from core.queue import FairQueue, RelayWindow, Ticket
from core.relay import RelayClient, RelayResult
from core.relay_errors import RelayBusy
from core.relay_job import RelayJob, TaskSink

log = logging.getLogger(__name__)

FIRST_PAUSE = 0.25
LONGEST_PAUSE = 8.0


class QueueTimeout(Exception):
    """No place at the relay within the queue's deadline."""


class Dispatcher:
    """The relay window, the fair queue, and the walk of one draw through them."""

    def __init__(self, relay: RelayClient, ceiling: int, queue_seconds: float) -> None:
        self.relay = relay
        self.window = RelayWindow(ceiling)
        self.queue = FairQueue(self.window)
        self.queue_seconds = queue_seconds
        self.wasted = 0  # relay calls answered busy

    async def generate(
        self,
        ticket: Ticket,
        job: RelayJob,
        reporter: Reporter | None,
        on_first_turn: Callable[[], object],
        *,
        download: bool = True,
        on_task: TaskSink | None = None,
    ) -> RelayResult:
        """Wait for the draw's turn and call the relay; after a push-back, wait again.
        `download` and `on_task`: as RelayClient.generate."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.queue_seconds
        submitted: list[str] = []  # an asynchronous task, once the relay has one for this draw

        def told(task_id: str) -> None:
            submitted.append(task_id)
            if on_task is not None:
                on_task(task_id)

        def pushed_back(error: Exception) -> bool | float:
            if not isinstance(error, RelayBusy):
                return False
            log.info("generation %d pushed back by the relay; waiting again", ticket.generation_id)
            return error.retry_after if error.retry_after is not None else True

        try:
            async for attempt in stamina.retry_context(
                on=pushed_back,
                attempts=None,
                timeout=self.queue_seconds,
                wait_initial=FIRST_PAUSE,
                wait_max=LONGEST_PAUSE,
                wait_jitter=FIRST_PAUSE,
            ):
                with attempt:
                    again = attempt.num > 1
                    # pushed back after its task was submitted: poll that task, never redraw
                    turn = replace(job, task_id=submitted[-1]) if submitted else job
                    return await self._turn(
                        ticket, turn, reporter, on_first_turn, deadline, again, download, told
                    )
        except QueueTimeout:
            raise RelayBusy(f"no place at the relay within {self.queue_seconds:.0f}s") from None
        raise AssertionError("stamina ends with a result or the last error")

    async def _turn(
        self,
        ticket: Ticket,
        job: RelayJob,
        reporter: Reporter | None,
        on_first_turn: Callable[[], object],
        deadline: float,
        again: bool,
        download: bool,
        on_task: TaskSink | None,
    ) -> RelayResult:
        try:
            async with asyncio.timeout_at(deadline):
                await self.queue.wait_turn(ticket, first=again)
        except TimeoutError:
            raise QueueTimeout from None
        try:
            if not again:
                on_first_turn()  # records the phase in the background: not on the way
            if reporter is not None:
                await reporter.at_relay()
            result = await self.relay.generate(
                job, retry_busy=False, download=download, on_task=on_task
            )
        except RelayBusy:
            self.wasted += 1
            self.window.pushed_back(self.queue.at_relay, ticket.epoch)
            raise
        finally:
            self.queue.done()
        self.queue.relay_seconds.append(result.seconds)
        self.window.accepted_one()
        return result
