"""The image models a deployment offers: the operator's table (MODELS_FILE), or Jimeng 2.1 alone.

The table is a TOML file, one `[[model]]` per model (see `.env.example` and the README):

    default = "jimeng21"

    [[model]]
    name = "jimeng21"            # what users type after --model
    api = "volc-sync"            # volc-sync | volc-async | openai
    id = "high_aes_general_v21_L"  # the req_key (Volcengine) or the model (OpenAI images)
    sizes = "256-768"            # a range of sides, or a list: "1024x1024, 1536x1024"
    default_size = "512x512"     # optional; in the sizes
    edits = false                # whether it takes an input image (editing by reply)
    cost = 1                     # units of the daily quota one image costs
    label = "Jimeng 2.1"         # optional; shown in /models and captions
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from core.params import DEFAULT_MODEL, REQ_KEY


class Family(StrEnum):
    """How a model is called: the relay API family its client speaks."""

    VOLC_SYNC = "volc-sync"  # POST {path}?Action=CVProcess (the seed)
    VOLC_ASYNC = "volc-async"  # CVSync2AsyncSubmitTask, then CVSync2AsyncGetResult
    OPENAI = "openai"  # POST /v1/images/generations, /v1/images/edits


Size = tuple[int, int]


@dataclass(frozen=True)
class Model:
    """One model of the table: how users name it, how it is called, what it accepts."""

    name: str
    family: Family
    model_id: str  # the req_key (Volcengine) or the `model` field (OpenAI images)
    cost: int = 1  # units of the daily quota one image costs
    min_side: int = 256
    max_side: int = 768
    sizes: tuple[Size, ...] = ()  # a fixed list; empty: any WxH with sides in the range
    default_size: Size = (512, 512)
    edits: bool = False  # takes an input image
    label: str = ""

    @property
    def shown(self) -> str:
        """The name people read (captions, /models)."""
        return self.label or self.name

    def allows(self, width: int, height: int) -> bool:
        if self.sizes:
            return (width, height) in self.sizes
        return self.min_side <= width <= self.max_side and self.min_side <= height <= self.max_side

    @property
    def sizes_text(self) -> str:
        """The sizes as an error or /models names them: `256–768` or `1024x1024, 1536x1024`."""
        if self.sizes:
            return ", ".join(f"{w}x{h}" for w, h in self.sizes)
        return f"{self.min_side}–{self.max_side}"

    def size_for_ratio(self, rw: float, rh: float) -> Size | None:
        """The largest size with ratio rw:rh this model draws (sides multiples of 8), or, for
        a fixed list, the listed size nearest that ratio; None when no size fits."""
        if rw <= 0 or rh <= 0:
            return None
        if self.sizes:
            ratio = rw / rh
            return min(self.sizes, key=lambda s: (abs(s[0] / s[1] - ratio), -s[0] * s[1]))
        if rw >= rh:
            width, height = self.max_side, round(self.max_side * rh / rw / 8) * 8
        else:
            width, height = round(self.max_side * rw / rh / 8) * 8, self.max_side
        if min(width, height) < self.min_side:
            return None
        return width, height


JIMENG_21 = Model(
    name=DEFAULT_MODEL,
    family=Family.VOLC_SYNC,
    model_id=REQ_KEY,
    label="Jimeng 2.1",
)


@dataclass(frozen=True)
class ModelTable:
    """The models of this deployment, in the table's order, and the one used by default."""

    models: tuple[Model, ...] = (JIMENG_21,)
    default_name: str = JIMENG_21.name
    _by_name: dict[str, Model] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {m.name.casefold(): m for m in self.models})

    @property
    def default(self) -> Model:
        return self._by_name[self.default_name.casefold()]

    def get(self, name: str) -> Model | None:
        """The model called `name` (any case), or None."""
        return self._by_name.get(name.strip().casefold())

    def model(self, name: str | None) -> Model:
        """The model called `name`; the default when unnamed or no longer in the table."""
        return (self.get(name) if name else None) or self.default

    def suggest(self, name: str) -> str | None:
        """The closest model name, for 'did you mean'."""
        close = difflib.get_close_matches(name.casefold(), list(self._by_name), n=1, cutoff=0.5)
        return self._by_name[close[0]].name if close else None

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.models]

    @property
    def editors(self) -> list[Model]:
        """The models that take an input image."""
        return [m for m in self.models if m.edits]


DEFAULT_TABLE = ModelTable()

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$", re.IGNORECASE)
_RANGE = re.compile(r"^\s*(\d{2,5})\s*[-–]\s*(\d{2,5})\s*$")
_SIZE = re.compile(r"^\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*$")
_KEYS = {"name", "api", "id", "sizes", "default_size", "edits", "cost", "label"}
SIDE_LIMIT = 8192


class ModelTableError(ValueError):
    """What is wrong with a table: every problem, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_models(path: Path) -> ModelTable:
    """Read and check the table at `path`; ModelTableError lists every problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelTableError([f"cannot read {path} ({exc.strerror or exc})"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ModelTableError([f"{path} is not valid TOML ({exc})"]) from None
    return parse_models(data)


def parse_models(data: dict[str, Any]) -> ModelTable:
    """A table from its TOML data; ModelTableError lists every problem."""
    problems: list[str] = []
    entries = data.get("model")
    if not isinstance(entries, list) or not entries:
        raise ModelTableError(["no [[model]] entries: the table needs at least one model"])
    unknown = sorted(set(data) - {"model", "default"})
    if unknown:
        problems.append(f"unknown top-level keys {unknown} (allowed: default, model)")
    models: list[Model] = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(f"model {number}: must be a [[model]] table")
            continue
        model = _model(entry, f"model {number}", problems)
        if model is None:
            continue
        if any(m.name.casefold() == model.name.casefold() for m in models):
            problems.append(f"model {number}: the name {model.name!r} is used twice")
            continue
        models.append(model)
    default = data.get("default", models[0].name if models else "")
    if not isinstance(default, str) or (
        models and default.casefold() not in {m.name.casefold() for m in models}
    ):
        problems.append(f"default = {default!r} is not one of the models' names")
    if problems or not models:
        raise ModelTableError(problems or ["no valid model"])
    return ModelTable(tuple(models), str(default))


def _model(entry: dict[str, Any], where: str, problems: list[str]) -> Model | None:
    before = len(problems)
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        problems.append(f"{where}: unknown keys {unknown} (allowed: {', '.join(sorted(_KEYS))})")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(f"{where}: name must be 1-32 letters, digits, '.', '_' or '-'")
        name = "?"
    else:
        where = f"{where} ({name})"
    api = entry.get("api")
    families = ", ".join(f.value for f in Family)
    if api not in {f.value for f in Family}:
        problems.append(f"{where}: api must be one of {families} (got {api!r})")
    model_id = entry.get("id")
    if not isinstance(model_id, str) or not model_id.strip():
        problems.append(f"{where}: id (the req_key or OpenAI model) is required")
    cost = entry.get("cost", 1)
    if isinstance(cost, bool) or not isinstance(cost, int) or not 0 <= cost <= 1000:
        problems.append(f"{where}: cost must be a whole number from 0 to 1000 (got {cost!r})")
    edits = entry.get("edits", False)
    if not isinstance(edits, bool):
        problems.append(f"{where}: edits must be true or false (got {edits!r})")
    label = entry.get("label", "")
    if not isinstance(label, str) or len(label) > 40:
        problems.append(f"{where}: label must be text of at most 40 characters")
    low, high, sizes = _sizes(entry.get("sizes", "256-768"), where, problems)
    default_size = _default_size(entry.get("default_size"), low, high, sizes, where, problems)
    if len(problems) > before:
        return None
    return Model(
        name=str(name),
        family=Family(str(api)),
        model_id=str(model_id).strip(),
        cost=int(cost),
        min_side=low,
        max_side=high,
        sizes=sizes,
        default_size=default_size,
        edits=bool(edits),
        label=str(label).strip(),
    )


def _sizes(value: Any, where: str, problems: list[str]) -> tuple[int, int, tuple[Size, ...]]:
    """`"256-768"` (a range of sides) or `"1024x1024, 1536x1024"` (a list)."""
    text = value if isinstance(value, str) else ""
    if (match := _RANGE.match(text)) is not None:
        low, high = int(match[1]), int(match[2])
        if 64 <= low <= high <= SIDE_LIMIT:
            return low, high, ()
    else:
        listed = [_SIZE.match(part) for part in text.split(",")]
        sizes = tuple((int(m[1]), int(m[2])) for m in listed if m is not None)
        if (
            sizes
            and len(sizes) == len(listed)
            and all(64 <= side <= SIDE_LIMIT for size in sizes for side in size)
        ):
            sides = [side for size in sizes for side in size]
            return min(sides), max(sides), sizes
    problems.append(
        f'{where}: sizes must be a range of sides like "256-768" or a list like '
        f'"1024x1024, 1536x1024", sides 64 to {SIDE_LIMIT} (got {value!r})'
    )
    return 256, 768, ()


def _default_size(
    value: Any, low: int, high: int, sizes: tuple[Size, ...], where: str, problems: list[str]
) -> Size:
    if value is None:
        if sizes:
            return sizes[0]
        side = min(max(512, low), high)
        return side, side
    match = _SIZE.match(value) if isinstance(value, str) else None
    size = (int(match[1]), int(match[2])) if match else None
    fits = size is not None and (
        size in sizes if sizes else all(low <= side <= high for side in size)
    )
    if size is None or not fits:
        problems.append(f'{where}: default_size must be one of its sizes, like "512x512"')
        return sizes[0] if sizes else (low, low)
    return size
