"""What a user asks about their own drawings: quota, history, redo, the original, forget."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime

from core import messages
from core.answer import resize_choice
from core.kept import load_images, remove_files
from core.model_views import model_note
from core.outcome import Delivered, Outcome, Refused
from core.records import Generation
from core.request import Place, Progress, Requester
from core.service import DrawService
from core.sources import kept_source
from core.store import Store


class Account:
    """The user's side of the store, rendered as sentences."""

    def __init__(self, service: DrawService) -> None:
        self.service = service
        self.store = service.store

    async def quota(self, requester: Requester, place: Place, *, lang: str | None = None) -> str:
        """Today's usage against the limits; in units where models cost more than one."""
        lang = lang or self.service.lang(requester)
        units = any(model.cost != 1 for model in self.service.settings.models.models)
        limits = await self.store.run(
            Store.effective_limits, requester.key, place.key, self.service.base_limits()
        )
        usage = await self.store.run(
            Store.usage, requester.key, place.key, self.service.today(), limits
        )
        reset = self.service.next_reset().strftime("%H:%M")
        zone = self.service.settings.timezone
        if usage.limit:
            line = messages.text(
                "quota_units" if units else "quota",
                lang,
                used=usage.used,
                limit=usage.limit,
                left=max(0, usage.limit - usage.used),
                reset=reset,
                zone=zone,
            )
        else:
            line = messages.text(
                "quota_units_unlimited" if units else "quota_unlimited", lang, used=usage.used
            )
        if usage.chat_limit:
            line += "\n" + messages.text(
                "quota_chat_units" if units else "quota_chat",
                lang,
                used=usage.chat_used,
                limit=usage.chat_limit,
            )
        return line

    async def history(
        self, requester: Requester, limit: int = 10, *, lang: str | None = None
    ) -> tuple[str, list[Generation]]:
        lang = lang or self.service.lang(requester)
        rows = await self.store.run(Store.history, requester.key, limit)
        if not rows:
            return messages.text("history_empty", lang), []
        zone, table = self.service.settings.zone, self.service.settings.models
        lines = [messages.text("history_title", lang)]
        for row in rows:
            prompt = (
                row.params.prompt if len(row.params.prompt) <= 60 else row.params.prompt[:59] + "…"
            )
            note = model_note(row.params.model, table, lang)
            lines.append(
                messages.text(
                    "history_line",
                    lang,
                    id=row.id,
                    when=datetime.fromtimestamp(row.created_at, zone).strftime("%m-%d %H:%M"),
                    status=messages.text(f"status_{row.status}", lang),
                    model=f"{note} · " if note else "",
                    size=f"{row.params.width}x{row.params.height}",
                    seed=row.params.seed,
                    prompt=prompt,
                )
            )
        lines.append(messages.text("history_hint", lang))
        return "\n".join(lines), rows

    async def own(
        self, requester: Requester, generation_id: int | None, lang: str
    ) -> Generation | Refused:
        """The requester's generation by id, or their latest one."""
        if generation_id is None:
            rows = await self.store.run(Store.history, requester.key, 1)
            if not rows:
                return Refused("nothing_to_redo", messages.text("nothing_to_redo", lang))
            return rows[0]
        generation = await self.store.run(Store.get, generation_id)
        if generation is None or generation.user_key != requester.key:
            return Refused("not_found", messages.text("not_found", lang, id=generation_id))
        return generation

    async def redo(
        self,
        requester: Requester,
        place: Place,
        generation_id: int | None,
        *,
        new_seed: bool = False,
        turn: bool = False,
        size: tuple[int, int] | None = None,
        source_key: str | None = None,
        anyone: bool = False,
        lang: str | None = None,
        progress: Progress | None = None,
        address: str | None = None,
    ) -> Outcome:
        """Draw a generation again: same seed by default, a new one, the other shape (`turn`,
        see resize_choice) or another size on request. With `anyone`, another user's
        generation may be redrawn where it was posted (a button under it in a group)."""
        lang = lang or self.service.lang(requester)
        if anyone and generation_id is not None:
            found = await self.store.run(Store.get, generation_id)
            posted_here = found is not None and found.chat_key == place.key
            generation: Generation | Refused = (
                found
                if found is not None and (posted_here or found.user_key == requester.key)
                else Refused(
                    "not_found",
                    messages.text("not_found", lang, id=generation_id),
                )
            )
        else:
            generation = await self.own(requester, generation_id, lang)
        if isinstance(generation, Refused):
            return generation
        if not generation.params.prompt:  # forgotten, or past PROMPT_RETENTION_DAYS
            return Refused("prompt_gone", messages.text("prompt_gone", lang, id=generation.id))
        picture = None
        if generation.source_path is not None:  # an edit: from its input, if it is kept
            picture = kept_source(generation.source_path)
            if picture is None:
                return Refused("source_gone", messages.text("source_gone", lang, id=generation.id))
        # Its own model again; one the operator has since removed gives way to the default,
        # at a size of that model's nearest the picture's shape.
        model = self.service.settings.models.model(generation.params.model)
        params = replace(generation.params, model=model.name)
        if new_seed:
            params = replace(params, seed=None)
        if turn:
            size = resize_choice(generation, model)
        elif size is None and not model.allows(params.width, params.height):
            size = model.size_for_ratio(params.width, params.height) or model.default_size
        if size is not None:
            params = replace(params, width=size[0], height=size[1])
        return await self.service.draw(
            requester,
            place,
            params,
            source_key=source_key,
            parent_id=generation.id,
            lang=lang,
            progress=progress,
            address=address,
            picture=picture,
        )

    async def original(
        self,
        requester: Requester,
        generation_id: int,
        place: Place | None = None,
        *,
        lang: str | None = None,
    ) -> Outcome:
        """The stored files of a generation, never charged: one's own, or one that was posted
        in `place` (the 'original file' button under someone else's picture)."""
        lang = lang or self.service.lang(requester)
        generation = await self.store.run(Store.get, generation_id)
        visible = generation is not None and (
            generation.user_key == requester.key
            or (place is not None and generation.chat_key == place.key)
        )
        if generation is None or not visible or not generation.has_image:
            return Refused("not_found", messages.text("not_found", lang, id=generation_id))
        images = await self.service.keeper.kept(generation_id) or await asyncio.to_thread(
            load_images, generation
        )
        if not images:  # without its prompt too (forgotten), /redo cannot help either
            said = "image_gone" if generation.params.prompt else "image_and_prompt_gone"
            return Refused("image_gone", messages.text(said, lang, id=generation_id))
        return Delivered(generation, images, repeat=True)

    async def forget(self, requester: Requester, *, lang: str | None = None) -> str:
        lang = lang or self.service.lang(requester)
        rows = await self.store.run(Store.history, requester.key, 100_000)
        paths = await self.store.run(Store.forget_user, requester.key)
        await asyncio.to_thread(remove_files, paths)
        return messages.text("forgotten", lang, count=len(rows))
