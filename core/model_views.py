"""The models as users see them: /models, a chat's default model (/model), and the short
note naming a picture's model in captions and /history."""

from __future__ import annotations

from core import messages
from core.models import DEFAULT_TABLE, Model, ModelTable
from core.request import Place, Request
from core.service import DrawService
from core.store import Store

RESET_WORDS = ("default", "reset", "默认")  # `/model default`: back to the deployment's


def model_note(name: str, table: ModelTable, lang: str) -> str:
    """`Jimeng 3.1 · 2 units` for a picture of model `name`; "" without MODELS_FILE (the
    captions and /history stay as they were before models)."""
    if table == DEFAULT_TABLE:
        return ""
    model = table.get(name)
    if model is None:  # a model the operator has since removed: its name is all we have
        return name
    if model.cost == 1:
        return model.shown
    return messages.text("model_note_cost", lang, label=model.shown, cost=model.cost)


class ModelViews:
    """/models and /model for one deployment's table and its chats' choices."""

    def __init__(self, service: DrawService) -> None:
        self.service = service
        self.store = service.store

    @property
    def table(self) -> ModelTable:
        return self.service.settings.models

    async def chat_model(self, place: Place) -> Model:
        """The chat's default model; the deployment's when it chose none or one since gone."""
        if len(self.table.models) == 1:
            return self.table.default  # nothing to choose from: no trip to the store
        return self.table.model(await self.store.run(Store.chat_model, place.key))

    async def listing(self, place: Place, lang: str) -> str:
        """/models: every model with its sizes, cost and whether it edits pictures, the
        deployment's default and this chat's marked."""
        chat = await self.chat_model(place)
        lines = [messages.text("models_title", lang)]
        for model in self.table.models:
            marks = []
            if model is self.table.default:
                marks.append(messages.text("models_default", lang))
            if model is chat and chat is not self.table.default:
                marks.append(messages.text("models_chat", lang))
            lines.append(
                messages.text(
                    "models_line",
                    lang,
                    name=model.name,
                    label=f" ({model.label})" if model.label else "",
                    sizes=model.sizes_text,
                    size=f"{model.default_size[0]}x{model.default_size[1]}",
                    cost=model.cost,
                    edits=messages.text("models_edits" if model.edits else "models_no_edits", lang),
                    marks="".join(f" ← {mark}" for mark in marks),
                )
            )
        lines.append(messages.text("models_hint", lang))
        return "\n".join(lines)

    async def choose(self, request: Request, args: str, lang: str) -> str:
        """/model: the chat's model and the choices; /model NAME sets it (a group's admins,
        anyone in a private chat); /model default goes back to the deployment's."""
        name = args.strip()
        if not name:
            chat = await self.chat_model(request.place)
            return messages.text(
                "model_current",
                lang,
                model=_named(chat),
                names=", ".join(self.table.names),
            )
        reset = name.casefold() in RESET_WORDS
        model = self.table.default if reset else self.table.get(name)
        if model is None:
            suggestion = self.table.suggest(name)
            hint = messages.text("unknown_flag_hint", lang, suggestion=suggestion)
            return messages.text(
                "unknown_model",
                lang,
                value=name[:40],
                hint=hint if suggestion else "",
                models=", ".join(self.table.names),
            )
        if not await self._may_choose(request):
            return messages.text("model_not_admin", lang)
        await self.store.run(Store.set_chat, request.place.key, model=None if reset else model.name)
        return messages.text("model_set", lang, model=_named(model), cost=model.cost)

    async def _may_choose(self, request: Request) -> bool:
        if not request.place.is_group:
            return True
        if request.requester.key in self.service.settings.admin_ids:
            return True
        return await request.is_chat_admin()


def _named(model: Model) -> str:
    return f"{model.name} ({model.label})" if model.label else model.name
