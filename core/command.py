"""parse_draw: the text after /draw, as people really type it, into DrawParams."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from core import messages
from core.models import DEFAULT_TABLE, SIDE_LIMIT, Model, ModelTable
from core.numbers import read_decimal, read_int
from core.params import (
    PROMPT_MAX,
    SCALE_MAX,
    SCALE_MIN,
    SEED_MAX,
    STEPS_MAX,
    STEPS_MIN,
    WATERMARK_POSITIONS,
    DrawParams,
    WatermarkChoice,
)


@dataclass
class UsageError(Exception):
    """Input we cannot draw from; `reason` names the sentence in messages.py, `values` fill
    it."""

    reason: str
    values: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.reason} {self.values}"

    def text(self, lang: str) -> str:
        """The sentence for the user, with a 'did you mean' hint where there is one."""
        values = dict(self.values)
        suggestion = values.get("suggestion")
        hint = messages.text("unknown_flag_hint", lang, suggestion=suggestion)
        values["hint"] = hint if suggestion else ""
        return messages.text(self.reason, lang, **values)


# Dashes that phones and Chinese input methods turn `--` into.
_DASHES = re.compile(r"^(?:--|——|—|–|－－|－|‐‐|−−|―)(?=[^\W\d_])")
# A name in another script (`--模型`) is an option only when it is one of ours: Chinese
# writing uses `——` as a dash before words (`一只猫 ——在月光下`), and those are the prompt.
_FLAG = re.compile(r"^--([^\W\d_][\w-]*)(?:[=＝](.*))?$", re.S)
_TOKEN = re.compile(r"\S+")
_QUOTES = {'"': '"', "“": "”", "'": "'", "‘": "’", "「": "」", "『": "』"}
# Width and height, each read by read_int (any script's digits, any length).
_SIZE = re.compile(r"^(\S+?)\s*[x×X*✕✖﹡ｘＸ＊]\s*(\S+)$")
_SIZE_TAIL = re.compile(r"\s*[x×X*✕✖﹡ｘＸ＊]?\s*\d+(?=\s|$)")
_RATIO = re.compile(r"^(\d{1,3}(?:\.\d+)?)\s*[:/x×X]\s*(\d{1,3}(?:\.\d+)?)$")


# Characters that draw nothing: controls, format marks (zero-width space, bidi marks, BOM),
# spaces and separators, and the blank letters used to fake a non-empty text.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _invisible(text: str) -> bool:
    """Whether `text` shows nothing at all (the empty string included)."""
    return all(
        char.isspace()
        or char in _BLANK_LETTERS
        or unicodedata.category(char) in _INVISIBLE_CATEGORIES
        for char in text
    )


def _without_controls(text: str) -> str:
    """`text` without control characters (NUL, ESC, ...) and byte-order marks. Other format
    marks stay: the zero-width joiner builds emoji, bidi marks order right-to-left text."""
    return "".join(c for c in text if c != "\ufeff" and unicodedata.category(c) != "Cc")


@dataclass(frozen=True)
class Flag:
    """One option: its canonical name, aliases, and how it changes the params."""

    name: str
    aliases: tuple[str, ...]
    takes_value: bool
    apply: Callable[[dict[str, Any], str], None]


def _shown(value: str, limit: int = 24) -> str:
    """A value as quoted back in an error: a 5,000-digit number would not fit in a chat."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _size(state: dict[str, Any], value: str) -> None:
    """Read the sides; whether the model draws them is judged once the model is known."""
    value = value.strip()
    match = _SIZE.match(value)
    sides = (match[1], match[2]) if match else (value, value)
    width, height = (read_int(side, 1, SIDE_LIMIT) for side in sides)
    state["size"] = (_shown(value), None if width is None or height is None else (width, height))
    state["sized_by"] = state.get("sized_by", set()) | {"size"}


def _ratio(state: dict[str, Any], value: str) -> None:
    value = unicodedata.normalize("NFKC", value).strip()
    match = _RATIO.match(value)
    if match is None or float(match[1]) <= 0 or float(match[2]) <= 0:
        raise UsageError("bad_ratio", {"value": _shown(value)})
    state["ratio"] = (_shown(value), float(match[1]), float(match[2]))
    state["sized_by"] = state.get("sized_by", set()) | {"ar"}


def _model(state: dict[str, Any], value: str) -> None:
    state["model"] = _without_controls(value).strip()


def _sized(state: dict[str, Any], model: Model, table: ModelTable) -> tuple[int, int]:
    """The size asked for (--size or --ar), checked against `model`; its default if none.
    Alone in the table (no MODELS_FILE) the sentences are those of Jimeng 2.1's range."""
    alone = len(table.models) == 1
    if "ratio" in state:
        shown, rw, rh = state["ratio"]
        size = model.size_for_ratio(rw, rh)
        if size is None:
            if alone:
                raise UsageError("bad_ratio", {"value": shown})
            raise UsageError(
                "bad_ratio_model", {"value": shown, "model": model.name, "sizes": model.sizes_text}
            )
        return size
    if "size" not in state:
        return model.default_size
    shown, size = state["size"]
    if size is not None and model.allows(*size):
        return size  # type: ignore[no-any-return]
    if model.sizes:
        raise UsageError(
            "bad_size_list", {"value": shown, "model": model.name, "sizes": model.sizes_text}
        )
    values = {"value": shown, "min": model.min_side, "max": model.max_side}
    if alone:
        raise UsageError("bad_size", values)
    width, height = model.size_for_ratio(3, 2) or model.default_size
    raise UsageError(
        "bad_size_model", values | {"model": model.name, "example": f"{width}x{height}"}
    )


def _integer(key: str, flag: str, low: int, high: int) -> Callable[[dict[str, Any], str], None]:
    def apply(state: dict[str, Any], value: str) -> None:
        number = read_int(value, low, high)
        if number is None:
            raise UsageError(
                "bad_number", {"flag": flag, "value": _shown(value), "min": low, "max": high}
            )
        state[key] = number

    return apply


def _scale(state: dict[str, Any], value: str) -> None:
    number = read_decimal(value, SCALE_MIN, SCALE_MAX)
    if number is None:
        raise UsageError(
            "bad_number",
            {"flag": "--scale", "value": _shown(value), "min": SCALE_MIN, "max": SCALE_MAX},
        )
    state["scale"] = number


def _setter(key: str, value: Any) -> Callable[[dict[str, Any], str], None]:
    def apply(state: dict[str, Any], _: str) -> None:
        state[key] = value

    return apply


def _watermark_text(state: dict[str, Any], value: str) -> None:
    text = _without_controls(value).strip()
    if _invisible(text) or len(text) > 50:
        raise UsageError("bad_watermark", {"max": 50})
    state["wm_enabled"], state["wm_text"] = True, text


def _watermark_position(state: dict[str, Any], value: str) -> None:
    position = WATERMARK_POSITIONS.get(value.strip().lower())
    if position is None:
        raise UsageError("bad_position", {"value": _shown(value)})
    state["wm_position"] = position


def _watermark_opacity(state: dict[str, Any], value: str) -> None:
    number = read_decimal(value, 0.0, 1.0)
    if number is None:
        raise UsageError(
            "bad_number", {"flag": "--wm-opacity", "value": _shown(value), "min": 0, "max": 1}
        )
    state["wm_opacity"] = number


FLAGS: tuple[Flag, ...] = (
    Flag("size", ("s", "res", "resolution", "尺寸"), True, _size),
    Flag("ar", ("aspect", "ratio", "aspect-ratio"), True, _ratio),
    Flag("model", ("m", "模型"), True, _model),
    Flag("seed", (), True, _integer("seed", "--seed", 0, SEED_MAX)),
    Flag("steps", ("step", "ddim-steps"), True, _integer("steps", "--steps", STEPS_MIN, STEPS_MAX)),
    Flag("scale", ("cfg", "guidance", "cfg-scale"), True, _scale),
    Flag("expand", ("pre-llm", "use-pre-llm", "llm"), False, _setter("expand", True)),
    Flag("no-expand", ("no-pre-llm", "raw", "no-llm"), False, _setter("expand", False)),
    Flag("sr", ("super-res", "use-sr", "hd", "upscale"), False, _setter("super_res", True)),
    Flag("no-sr", ("no-super-res", "no-hd", "no-upscale"), False, _setter("super_res", False)),
    Flag("watermark", ("wm", "logo"), True, _watermark_text),
    Flag("no-watermark", ("no-wm", "no-logo", "nowm"), False, _setter("wm_enabled", False)),
    Flag("wm-pos", ("watermark-position", "wm-position"), True, _watermark_position),
    Flag("wm-opacity", ("watermark-opacity",), True, _watermark_opacity),
)
_BY_NAME = {alias: flag for flag in FLAGS for alias in (flag.name, *flag.aliases)}
# `--watermark` alone (no text) turns the watermark on with the default label.
_OPTIONAL_VALUE = {"watermark"}


def flag_names() -> list[str]:
    return [flag.name for flag in FLAGS]


def _normalise(token: str) -> str:
    """Turn phone and IME dashes into `--`, and a lone ASCII `-` before a known flag too."""
    token = _DASHES.sub("--", token)
    if token.startswith("-") and not token.startswith("--"):
        name = token[1:].split("=", 1)[0].lower()
        if name in _BY_NAME:
            token = "-" + token
    return token


def _flag_of(token: str) -> re.Match[str] | None:
    """`token` as an option (`--size`, `——ar=3:2`, `--模型`), or None: it is prompt text."""
    found = _FLAG.match(_normalise(token))
    if found is None or found[1].isascii():
        return found
    return found if found[1].lower() in _BY_NAME else None


def _size_with_tail(value: str, tail: str, low: int, high: int) -> str | None:
    """`768` + ` x 512` or ` 512` as one size, if that is what they make (each side from
    `low` to `high`, the sides some model of the table draws); else None."""
    joined = value + tail
    if _SIZE.match(joined.strip()):
        return joined.strip()
    first, second = read_int(value, low, high), read_int(tail, low, high)
    if first is not None and second is not None:
        return f"{first}x{second}"
    return None


def _read_value(text: str, position: int) -> tuple[str, int] | None:
    """The value starting at `position`: a quoted run, or the next token."""
    while position < len(text) and text[position].isspace():
        position += 1
    if position >= len(text):
        return None
    closing = _QUOTES.get(text[position])
    if closing is not None:
        end = text.find(closing, position + 1)
        if end != -1:
            return text[position + 1 : end], end + 1
    match = _TOKEN.match(text, position)
    assert match is not None
    return match.group(), match.end()


def _unquote(value: str) -> str:
    if len(value) >= 2 and _QUOTES.get(value[0]) == value[-1]:
        return value[1:-1]
    return value


def parse_draw(
    text: str, models: ModelTable = DEFAULT_TABLE, chat_model: str | None = None
) -> DrawParams:
    """Parse `/draw` arguments; raise UsageError naming what is wrong and how to fix it.
    The model is --model's (any case), else the chat's default `chat_model` while `models`
    has it, else the table's default; the size is checked against that model."""
    state: dict[str, Any] = {}
    prompt_parts: list[str] = []
    position = 0
    low = min(model.min_side for model in models.models)
    high = max(model.max_side for model in models.models)
    while (match := _TOKEN.search(text, position)) is not None:
        token, position = match.group(), match.end()
        flag_match = _flag_of(token)
        if flag_match is None:
            prompt_parts.append(_without_controls(token))
            continue
        name, inline = flag_match[1].lower().replace("_", "-"), flag_match[2]
        flag = _BY_NAME.get(name)
        if flag is None:
            close = difflib.get_close_matches(name, list(_BY_NAME), n=1, cutoff=0.6)
            suggestion = f"--{_BY_NAME[close[0]].name}" if close else None
            raise UsageError(
                "unknown_flag", {"flag": _shown(f"--{name}"), "suggestion": suggestion}
            )
        if not flag.takes_value:
            flag.apply(state, "")
            continue
        if inline is not None:
            # `--watermark="two words"`: the quoted value runs on past this token.
            value: str | None = _unquote(inline)
            if inline[:1] in _QUOTES:
                value, position = _read_value(text, position - len(inline)) or (value, position)
        else:
            found = _read_value(text, position)
            value = None
            if found is not None and not (flag.name in _OPTIONAL_VALUE and _flag_of(found[0])):
                value, position = found
            if value is not None and _flag_of(value) and flag.name != "watermark":
                value = None
            # `--size 768 x 512`, and `--size 768 512` when the second number is a height.
            tail = _SIZE_TAIL.match(text, position) if flag.name == "size" and value else None
            if tail and value:
                joined = _size_with_tail(value, tail[0], low, high)
                if joined is not None:
                    value, position = joined, tail.end()
        if value is None:
            if flag.name in _OPTIONAL_VALUE:
                state["wm_enabled"] = True
                continue
            raise UsageError("missing_value", {"flag": f"--{flag.name}"})
        flag.apply(state, value)
    if len(state.get("sized_by", ())) > 1:
        raise UsageError("size_conflict", {})
    model = _chosen(state, models, chat_model)
    state["width"], state["height"] = _sized(state, model, models)
    prompt = " ".join(part for part in prompt_parts if part)
    if _invisible(prompt):
        raise UsageError("empty_prompt", {})
    if len(prompt) > PROMPT_MAX:
        raise UsageError("prompt_too_long", {"max": PROMPT_MAX, "length": len(prompt)})
    return _build(prompt, state, DrawParams(prompt=prompt, model=model.name))


def _chosen(state: dict[str, Any], models: ModelTable, chat_model: str | None) -> Model:
    """--model's model, or the chat's default, or the table's; an unknown name is an error
    listing the models, with the closest one."""
    if "model" not in state:
        return models.model(chat_model)
    name = state["model"]
    model = models.get(name) if name else None
    if model is None:
        names, suggestion = ", ".join(models.names), models.suggest(name) if name else None
        values = {"value": _shown(name), "models": names, "suggestion": suggestion}
        raise UsageError("unknown_model", values)
    return model


def _build(prompt: str, state: dict[str, Any], base: DrawParams) -> DrawParams:
    watermark = WatermarkChoice(
        enabled=state.get("wm_enabled", base.watermark.enabled),
        text=state.get("wm_text", base.watermark.text),
        position=state.get("wm_position", base.watermark.position),
        opacity=state.get("wm_opacity", base.watermark.opacity),
    )
    return replace(
        base,
        prompt=prompt,
        width=state.get("width", base.width),
        height=state.get("height", base.height),
        seed=state.get("seed", base.seed),
        steps=state.get("steps", base.steps),
        scale=state.get("scale", base.scale),
        expand=state.get("expand", base.expand),
        super_res=state.get("super_res", base.super_res),
        watermark=watermark,
    )


# The name ends at anything that is not ASCII word: `/draw一只猫` and `/draw，一只猫` are draws.
_COMMAND = re.compile(
    r"^[/／]([A-Za-z_][A-Za-z0-9_]*)(?:@([A-Za-z0-9_]+))?(?![A-Za-z0-9_@])[\s:：,，]*(.*)$", re.S
)


def split_command(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """`/draw@bot a cat` -> ("draw", "a cat"); None if not a command, or one for another bot."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    name, target, rest = match[1].lower(), match[2], match[3]
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    return name, rest.strip()
