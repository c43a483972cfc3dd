"""Every sentence a user reads, in Chinese and English, in one table."""

from __future__ import annotations

import re
import string
from typing import Any

from core.texts_access import ACCESS_TEXTS
from core.texts_account import ACCOUNT_TEXTS
from core.texts_chat import CHAT_TEXTS
from core.texts_cli import CLI_TEXTS
from core.texts_demo import DEMO_TEXTS
from core.texts_draw import DRAW_TEXTS, USAGE_EN

LANGUAGES = ("zh", "en")

TEXTS: dict[str, dict[str, str]] = {
    **DRAW_TEXTS,
    **ACCOUNT_TEXTS,
    **ACCESS_TEXTS,
    **CHAT_TEXTS,
    **CLI_TEXTS,
    **DEMO_TEXTS,
}


def language(code: str | None, default: str = "zh") -> str:
    """`zh` for any Chinese locale, `en` for any other known one, else the default."""
    if not code:
        return default
    return "zh" if code.lower().startswith("zh") else "en"


class MessageError(LookupError):
    """A sentence asked for by a key not in TEXTS, or without a value its template needs."""


def placeholders(template: str) -> set[str]:
    """The names a template fills in: `{id}`, `{size:.1f}` and `{value!r}` give id, size, value."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            names.add(re.split(r"[.\[]", name, maxsplit=1)[0])
    return names


def text(key: str, lang: str, **values: Any) -> str:
    """The sentence `key` in `lang` (English for an unknown language), filled with `values`;
    `usage` is always available. Raises MessageError naming the key and what is missing."""
    entry = TEXTS.get(key)
    if entry is None:
        raise MessageError(f"there is no message {key!r}")
    template = entry.get(lang) or entry["en"]
    values.setdefault("usage", TEXTS["usage"].get(lang, USAGE_EN))
    missing = sorted(placeholders(template) - values.keys())
    if missing:
        needed = ", ".join(f"{{{name}}}" for name in missing)
        raise MessageError(f"message {key!r} ({lang}) was given no value for {needed}")
    try:
        return template.format(**values)
    except (IndexError, ValueError, TypeError, AttributeError, KeyError) as exc:
        raise MessageError(f"message {key!r} ({lang}) cannot be filled: {exc}") from exc
