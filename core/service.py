"""DrawService: the one place that orders check -> reserve -> relay -> images -> settle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from core import messages
from core.access import Access
from core.config import Settings
from core.dispatch import Dispatcher
from core.images import Image
from core.keeper import Download, Keeper
from core.kept import load_images
from core.ledger import Ledger, WriteFailed
from core.outcome import Delivered, Outcome, Refused, refusal
from core.params import SEED_MAX, DrawParams
from core.progress import Reporter
from core.queue import Ticket
from core.records import (
    DRAWING,
    AlreadyHandled,
    Denied,
    Generation,
    Limits,
    NewGeneration,
    Reserved,
    Status,
    unrecorded,
)
from core.relay import RelayClient, RelayResult
from core.relay_errors import RelayError
from core.relay_job import RelayJob
from core.request import Picture, Place, Progress, Requester
from core.secrets import scrub_secrets
from core.sources import Sources
from core.store import Store, limits_of
from core.store_thread import StoreThread
from core.upkeep import watermark_of

log = logging.getLogger(__name__)

AlertSink = Callable[[str, str], Awaitable[None]]
# A draw must be answered within this many seconds of the request (Discord: 15 minutes).
QUEUE_DEADLINE = 14 * 60.0


class DrawService:
    """Draws for every adapter, sharing one store, one relay client and one concurrency cap."""

    def __init__(
        self, settings: Settings, store: StoreThread, relay: RelayClient, owner: str = "local"
    ) -> None:
        self.settings = settings
        self.store = store
        self.owner = owner  # this process, in the processes table
        self.ledger = Ledger(store)
        self.relay = relay
        queue_seconds = max(30.0, QUEUE_DEADLINE - settings.relay_timeout)
        self.dispatcher = Dispatcher(relay, settings.max_concurrent_draws, queue_seconds)
        self.queue = self.dispatcher.queue
        self._running: dict[int, tuple[str, asyncio.Task[Any] | None]] = {}
        self._cancelled: set[int] = set()
        self._tasks: set[asyncio.Task[Outcome]] = set()
        self._closing = False
        self.alert_sinks: list[AlertSink] = []
        self.access = Access(settings, store)  # private mode and blocked words
        self.keeper = Keeper(relay, self.ledger, settings)
        self.sources = Sources(settings, store, self.ledger)  # pictures to edit
        self.download_later: set[str] = set()  # adapters answered before the download (keeper)

    # -- language and time ---------------------------------------------------------------

    def lang(self, requester: Requester) -> str:
        return messages.language(requester.language_code, self.settings.default_language)

    def today(self, now: float | None = None) -> str:
        moment = datetime.fromtimestamp(time.time() if now is None else now, self.settings.zone)
        return moment.date().isoformat()

    def next_reset(self, now: float | None = None) -> datetime:
        moment = datetime.fromtimestamp(time.time() if now is None else now, self.settings.zone)
        return datetime.combine(
            moment.date() + timedelta(days=1), datetime.min.time(), moment.tzinfo
        )

    def base_limits(self) -> Limits:
        s = self.settings
        return Limits(
            s.daily_limit, s.chat_daily_limit, s.cooldown_seconds, s.max_in_flight_per_user
        )

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    # -- drawing -------------------------------------------------------------------------

    async def draw(
        self,
        requester: Requester,
        place: Place,
        params: DrawParams,
        *,
        source_key: str | None = None,
        parent_id: int | None = None,
        lang: str | None = None,
        progress: Progress | None = None,
        address: str | None = None,
        picture: Picture | None = None,
    ) -> Outcome:
        """Draw `params` for `requester` in `place`; every path ends in Delivered or Refused.
        `progress` shows its place in line and time at the relay; `picture`: core/sources.py."""
        lang = lang or self.lang(requester)
        if self._closing:
            return Refused("shutting_down", messages.text("shutting_down", lang))
        locked = not self.settings.watermark_user_control and parent_id is None
        if locked and not params.watermark.is_default:
            return Refused("watermark_locked", messages.text("watermark_locked", lang))
        if refused := await self.access.refusal(requester, place, params.prompt, lang):
            return refused  # before any reservation: nothing is charged
        start = await self.sources.start(place, params, picture, lang)
        if isinstance(start, Refused):
            return start  # the picture to edit is refused: nothing is charged either
        task = asyncio.create_task(
            self._draw(requester, place, *start, source_key, parent_id, lang, progress, address)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(task)

    async def _draw(
        self,
        requester: Requester,
        place: Place,
        params: DrawParams,
        source: Image | None,  # the picture to edit
        source_key: str | None,
        parent_id: int | None,
        lang: str,
        progress: Progress | None,
        address: str | None,
    ) -> Outcome:
        draw_id = uuid.uuid4().hex[:8]
        if params.seed is None:
            params = params.with_seed(random.randint(0, SEED_MAX))
        reserving = asyncio.ensure_future(
            self.ledger.write(
                self._reserve, requester, place, params, source_key, parent_id, address
            )
        )
        try:
            reservation, new = await asyncio.shield(reserving)
        except WriteFailed:  # the database is locked or full: nothing was reserved
            return Refused("store_busy", messages.text("store_busy", lang))
        except asyncio.CancelledError:
            # Interrupted by shutdown while reserving: release the reservation it may hold.
            with contextlib.suppress(WriteFailed):
                reservation, _ = await reserving
                if isinstance(reservation, Reserved):
                    await self._settle_failure(
                        reservation.generation_id, "interrupted", None, draw_id
                    )
            return Refused("interrupted", messages.text("interrupted", lang))
        if isinstance(reservation, Denied):
            return refusal(reservation, lang, self.next_reset(), self.settings)
        if isinstance(reservation, AlreadyHandled):
            return await self._repeat(reservation.generation, lang)
        generation_id = reservation.generation_id
        await self.sources.keep(self.keeper.folder(), generation_id, source)
        log.info(
            "draw %s reserved generation=%d user=%s chat=%s source=%s size=%s seed=%s",
            draw_id,
            generation_id,
            requester.key,
            place.key,
            source_key,
            params.size,
            params.seed,
        )
        ticket = Ticket(requester.key, place.key, generation_id)
        reporter = Reporter(progress, self.queue, ticket, lang, params.size) if progress else None
        if reporter is not None:
            await reporter.reserved()
        self._running[generation_id] = (requester.key, asyncio.current_task())
        try:
            result = await self.dispatcher.generate(
                ticket,
                RelayJob(self.settings.models.model(params.model), params, new.watermark, source),
                reporter,
                lambda: self.ledger.later(Store.start_generating, generation_id),
                download=requester.platform not in self.download_later,
                on_task=lambda tid: self.ledger.later(Store.record_task, generation_id, tid),
            )
        except (RelayError, asyncio.CancelledError, Exception) as error:
            return await self._failed(generation_id, error, lang, draw_id, requester.platform)
        finally:
            self._running.pop(generation_id, None)
            if reporter is not None:
                await reporter.close()
        generation, later = await self._record_images(generation_id, new, result)
        log.info(
            "draw %s generated generation=%d relay_request_id=%s relay=%.2fs",
            draw_id,
            generation_id,
            result.request_id,
            result.seconds,
        )
        return Delivered(generation, result.images, later=later)

    async def _failed(
        self, generation_id: int, error: BaseException, lang: str, draw_id: str, platform: str
    ) -> Refused:
        """Refund a draw that produced nothing, and say why (only what is true: while the
        refund cannot be recorded, the user is not told that no quota was used)."""
        if isinstance(error, RelayError):
            kind = error.reason
        elif isinstance(error, asyncio.CancelledError):
            kind = "cancelled" if generation_id in self._cancelled else "interrupted"
            self._cancelled.discard(generation_id)
            waits = kind == "interrupted" and self._closing  # its task may finish upstream
            if waits and await self.store.run(Store.waits_on_task, generation_id):
                return Refused("resumes", messages.text("resumes", lang))  # next process's
        else:
            log.error("draw %s failed unexpectedly", draw_id, exc_info=error)
            kind = "error"
        settling = asyncio.ensure_future(self._settle_failure(generation_id, kind, error, draw_id))
        try:
            recorded = await asyncio.shield(settling)
        except asyncio.CancelledError:
            recorded = await settling
        said = kind
        if kind in ("bad_key", "no_balance"):
            await self._alert(kind)
            # "the operator has been told" only where an admin of this platform is alerted
            said = kind if self.settings.admins_on(platform) else f"{kind}_untold"
        text = messages.text(said if recorded else "refund_delayed", lang, id=generation_id)
        return Refused(kind, text, generation_id=generation_id)

    async def _record_images(
        self, generation_id: int, new: NewGeneration, result: RelayResult
    ) -> tuple[Generation, Download | None]:
        """Keep and record the images; when the record cannot be written yet, they are
        delivered all the same and the write goes on in the background. Images not downloaded
        (sent by link) are kept by the keeper once recorded: its task."""
        paths, meta, generation = await self.keeper.record_generated(generation_id, result)
        if generation is None:
            log.warning(
                "generation %d: delivered before its record could be written", generation_id
            )
            generation = unrecorded(
                new, generation_id, paths, meta, result.request_id, result.seconds
            )
        later = (
            None
            if result.images
            else self.keeper.start(generation_id, result.image_urls, now=False)
        )
        return generation, later

    def cancel(self, user_key: str, generation_id: int | None = None) -> int | None:
        """Drop the asker's draws that wait or run here (one, or all): they end refunded
        with the 'cancelled' sentence. How many; None if that one is someone else's."""
        chosen = [
            (gid, owner, task)
            for gid, (owner, task) in self._running.items()
            if gid == generation_id or (generation_id is None and owner == user_key)
        ]
        if any(owner != user_key for _, owner, _ in chosen):
            return None  # only a button names one: it is someone else's
        for gid, _, task in chosen:
            self._cancelled.add(gid)
            if task is not None:
                task.cancel()
        return len(chosen)

    def _reserve(
        self,
        store: Store,
        requester: Requester,
        place: Place,
        params: DrawParams,
        source_key: str | None,
        parent_id: int | None,
        address: str | None,
    ) -> tuple[Reserved | AlreadyHandled | Denied, NewGeneration]:
        """On the store thread, in one transaction: who and where, the watermark, the quota."""
        assert params.seed is not None
        with store.sqlite.atomic():
            user = store.touch_user(requester.key, requester.name, requester.language_code)
            chat = store.touch_chat(place.key, place.title, place.is_group)
            watermark = params.watermark.apply(watermark_of(chat, self.settings.watermark))
            limits = limits_of(user, chat, self.base_limits())
            new = NewGeneration(
                user_key=requester.key,
                chat_key=place.key,
                platform=requester.platform,
                day=self.today(),
                params=params,
                watermark=watermark,
                source_key=source_key,
                parent_id=parent_id,
                address=address,
                owner=self.owner,
                cost=self.settings.models.model(params.model).cost,
            )
            return store.reserve(new, limits), new

    async def _settle_failure(
        self, generation_id: int, kind: str, error: BaseException | None, draw_id: str
    ) -> bool:
        """Refund: failed (or interrupted). False when the record must wait (disk trouble)."""
        code = getattr(error, "code", None)
        request_id = getattr(error, "request_id", None)
        status = "interrupted" if kind == "interrupted" else "failed"
        # what the relay (or the connection) said, with every secret cut in every shape
        detail = None if error is None else scrub_secrets(str(error), self.settings.secrets())
        log.warning(
            "draw %s %s generation=%d kind=%s relay_request_id=%s%s",
            draw_id,
            status,
            generation_id,
            kind,
            request_id,
            f": {detail[:300]}" if detail else "",
        )
        settled = await self.ledger.write_or_later(
            Store.settle_failure,
            generation_id,
            kind=kind,
            code=None if code is None else str(code),
            detail=detail,
            request_id=request_id,
            status=status,
        )
        return settled is not None

    async def _repeat(self, generation: Generation, lang: str) -> Outcome:
        """A message seen before: send its images again, or say how it ended. Never charges."""
        if generation.status in DRAWING:
            return Refused(
                "duplicate", messages.text("duplicate", lang, id=generation.id), silent=True
            )
        if generation.status in (Status.GENERATED, Status.DELIVERED):
            images = await self.keeper.kept(generation.id) or await asyncio.to_thread(
                load_images, generation
            )
            if images:
                return Delivered(generation, images, repeat=True)
        kind = generation.error_kind or "duplicate"
        return Refused(
            kind, messages.text(kind, lang, id=generation.id), generation_id=generation.id
        )

    async def _alert(self, kind: str) -> None:
        """Tell the admins once an hour, not once per failing draw."""
        if not await self.store.run(Store.claim_notice, f"alert:{kind}", 3600.0):
            return
        for sink in self.alert_sinks:
            try:
                await sink(
                    kind, messages.text(f"admin_alert_{kind}", self.settings.default_language)
                )
            except Exception:
                log.exception("admin alert failed")

    # -- shutdown ------------------------------------------------------------------------

    async def close(self, grace: float | None = None) -> int:
        """Refuse new draws, let running ones finish within `grace`, interrupt the rest."""
        self._closing = True
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        running, late = set(self._tasks), set[asyncio.Task[Outcome]]()
        if running:
            log.info("waiting up to %.0fs for %d draws in flight", grace, len(running))
            _, late = await asyncio.wait(running, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=10)
        await self.keeper.close(grace)  # the kept copies of what was sent by link
        return len(late)
