"""EnvReader: typed values from the environment, every problem collected (core/config.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.access import read_keys
from core.config import PLACEHOLDER, SETTINGS, Secret
from core.models import DEFAULT_TABLE, ModelTable, ModelTableError, load_models

T = TypeVar("T")


class EnvReader:
    """Reads typed values from the environment and collects every problem.

    A setting with a default reads as its type: when its value is refused, the problem is
    noted and the default stands in (Settings is never returned with problems). A setting
    without one reads through an `optional_` reader, as the type or None."""

    def __init__(self, env: Mapping[str, str], need_relay: bool = True) -> None:
        self.env = env
        self.need_relay = need_relay  # False: a required setting may be unset
        self.problems: list[str] = []
        self.defaults = {s.name: s for s in SETTINGS}

    def raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is None or value.strip() == "":
            value = self.defaults[name].default
        if value is None and self.defaults[name].required and self.need_relay:
            self.problems.append(f"{name} is required: {self.defaults[name].help}")
        return None if value is None else value.strip()

    def not_placeholder(self, name: str) -> None:
        """A value still as .env.example gives it (`https://your-relay.example.com`) is a
        problem: it would fail only at the first draw, and then obscurely."""
        value = self.env.get(name) or ""
        if PLACEHOLDER.search(value.strip()):
            self.problems.append(
                f"{name} is still the example value from .env.example: {self.defaults[name].help}"
            )

    def _optional(self, name: str, convert: Callable[[str], T], expects: str) -> T | None:
        """The value converted, or None when unset or refused (a problem is noted)."""
        value = self.raw(name)
        if value is None:
            return None
        try:
            return convert(value)
        except (ValueError, KeyError):
            self.problems.append(f"{name} must be {expects} (got {_shown(name, value)})")
            return None

    def _with_default(self, name: str, convert: Callable[[str], T], expects: str) -> T:
        """The value converted; the default (converted alike) when unset or refused."""
        value = self._optional(name, convert, expects)
        if value is not None:
            return value
        default = self.defaults[name].default
        if default is None:
            raise LookupError(f"{name} has no default: read it with an optional_ reader")
        return convert(default)

    def text(self, name: str) -> str | None:
        return self.raw(name)

    def secret(self, name: str, telegram: bool = False) -> Secret | None:
        value = self.raw(name)
        if value is None:
            return None
        if telegram and (":" not in value or not value.split(":", 1)[0].isdigit()):
            self.problems.append(f"{name} must look like 123456:ABC-DEF... (from @BotFather)")
        return Secret(value)

    @staticmethod
    def _url(schemes: tuple[str, ...]) -> tuple[Callable[[str], str], str]:
        def convert(value: str) -> str:
            parts = urlsplit(value)
            if parts.scheme not in schemes or not parts.netloc:
                raise ValueError(value)
            return value

        return convert, f"a URL starting with {' or '.join(schemes)}://"

    def url(self, name: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
        return self._with_default(name, *self._url(schemes))

    def optional_url(self, name: str, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
        return self._optional(name, *self._url(schemes))

    def path(self, name: str) -> str:
        value = self.raw(name) or "/volcv"
        if not value.startswith("/"):
            self.problems.append(f"{name} must start with / (got {value!r})")
        return value.rstrip("/") or "/"

    @staticmethod
    def _integer(low: int, high: int) -> tuple[Callable[[str], int], str]:
        def convert(value: str) -> int:
            number = int(value)
            if not low <= number <= high:
                raise ValueError(value)
            return number

        return convert, f"a whole number from {low} to {high}"

    def integer(self, name: str, low: int, high: int) -> int:
        return self._with_default(name, *self._integer(low, high))

    def optional_integer(self, name: str, low: int, high: int) -> int | None:
        return self._optional(name, *self._integer(low, high))

    def number(self, name: str, low: float, high: float) -> float:
        def convert(value: str) -> float:
            number = float(value)
            if not low <= number <= high:
                raise ValueError(value)
            return number

        return self._with_default(name, convert, f"a number from {low:g} to {high:g}")

    def switch(self, name: str) -> bool:
        table = {"on": True, "off": False, "true": True, "false": False, "1": True, "0": False}
        table |= {"yes": True, "no": False}
        return self._with_default(name, lambda v: table[v.lower()], "on or off")

    def choice(self, name: str, options: Mapping[str, T]) -> T:
        return self._with_default(name, lambda v: options[v.lower()], " or ".join(options))

    def zone(self, name: str) -> str:
        def convert(value: str) -> str:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(value) from exc
            return value

        return self._with_default(name, convert, "an IANA time zone such as UTC or Asia/Shanghai")

    def admins(self, name: str) -> frozenset[str]:
        value = self.raw(name) or ""
        found: set[str] = set()
        for item in filter(None, (part.strip() for part in value.split(","))):
            platform, _, user_id = item.partition(":")
            # console:<login name> makes the terminal's user an admin (python -m bots console)
            console = platform.lower() == "console" and bool(user_id) and " " not in user_id
            if not console and (
                platform.lower() not in ("telegram", "discord") or not user_id.isdigit()
            ):
                self.problems.append(
                    f"{name} entries must be telegram:<user id>, discord:<user id> or "
                    f"console:<login name> (got {item!r})"
                )
                continue
            found.add(f"{platform.lower()}:{user_id}")
        return frozenset(found)

    def models(self, name: str) -> ModelTable:
        """The model table at the file `name` points to; Jimeng 2.1 alone when unset."""
        value = self.raw(name)
        if value is None:
            return DEFAULT_TABLE
        try:
            return load_models(Path(value))
        except ModelTableError as exc:
            self.problems += [f"{name}: {problem}" for problem in exc.problems]
            return DEFAULT_TABLE

    def keys(self, name: str, chat: bool = False) -> frozenset[str]:
        keys, bad = read_keys(self.raw(name) or "", chat=chat)
        form = "telegram:<id>, discord:<id> or console:<name>"
        self.problems += [f"{name} entries must be {form} (got {item!r})" for item in bad]
        return keys


def _shown(name: str, value: str) -> str:
    hidden = ("KEY", "TOKEN", "SECRET", "PROXY")  # a proxy URL may carry a password
    return "a hidden value" if any(word in name for word in hidden) else repr(value)
