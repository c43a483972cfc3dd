"""The records the store reads and writes: reservations, generations, limits and usage.

A generation's draw parameters travel as one DrawParams; `params_columns` and `params_of_row`
are the only places that know which columns hold it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import Any

from core.params import DEFAULT_MODEL, DrawParams, Watermark, WatermarkChoice


class Status(StrEnum):
    """A draw's phase. The first four hold quota; failed and interrupted were refunded."""

    RESERVED = "reserved"  # quota held, waiting for a relay slot
    GENERATING = "generating"  # the relay is drawing
    GENERATED = "generated"  # the images are stored; not yet delivered
    DELIVERED = "delivered"  # the platform has them (its references are recorded)
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # by a restart or a crash


DRAWING = (Status.RESERVED, Status.GENERATING)  # what the per-user in-flight limit counts
IN_FLIGHT = (*DRAWING, Status.GENERATED)  # not settled yet
COUNTED = (*IN_FLIGHT, Status.DELIVERED)  # holds quota


def sql_in(statuses: tuple[Status, ...]) -> str:
    """`('reserved', 'generating', …)` for SQL; the values are our own constants."""
    return "(" + ", ".join(f"'{status}'" for status in statuses) + ")"


@dataclass(frozen=True)
class Limits:
    """The limits one reservation is checked against; 0 switches a limit off."""

    user_daily: int = 0
    chat_daily: int = 0
    cooldown_seconds: int = 0
    in_flight: int = 0


@dataclass(frozen=True)
class NewGeneration:
    """Everything recorded when a draw is reserved: who, where, and what (`params`, with a
    concrete seed, and the watermark it resolved to)."""

    user_key: str
    chat_key: str
    platform: str
    day: str
    params: DrawParams
    watermark: Watermark
    source_key: str | None = None
    parent_id: int | None = None
    address: str | None = None  # where the platform can reach the asker later (opaque)
    owner: str | None = None  # the process drawing it
    cost: int = 1  # daily quota units one image of its model costs (core/models.py)


# The columns of generations that hold a DrawParams, one per field, named alike.
PARAM_COLUMNS = tuple(f.name for f in fields(DrawParams))


def params_columns(params: DrawParams, watermark: Watermark) -> dict[str, Any]:
    """A DrawParams as the columns that store it (the watermark as resolved, in JSON)."""
    values = {name: getattr(params, name) for name in PARAM_COLUMNS}
    values |= {"expand": int(params.expand), "super_res": int(params.super_res)}
    values["watermark"] = json.dumps(asdict(watermark), ensure_ascii=False)
    return values


def recorded_params(params: DrawParams, watermark: Watermark) -> DrawParams:
    """The params as their row will give them back: with the watermark as resolved."""
    choice = WatermarkChoice(
        watermark.enabled, watermark.text, watermark.position, watermark.opacity
    )
    return replace(params, watermark=choice)


def params_of_row(row: dict[str, Any]) -> DrawParams:
    """The DrawParams stored in a generations row: what a redo draws again."""
    values = {name: row.get(name) for name in PARAM_COLUMNS}
    values["model"] = row.get("model") or DEFAULT_MODEL  # rows from before models
    mark = json.loads(row["watermark"] or "{}")
    choice = WatermarkChoice(
        **{f.name: mark.get(f.name) for f in fields(WatermarkChoice) if f.name in mark}
    )
    return DrawParams(
        **values
        | {
            "prompt": row["prompt"] or "",
            "expand": bool(row["expand"]),
            "super_res": bool(row["super_res"]),
            "watermark": choice,
        }
    )


@dataclass(frozen=True)
class Generation:
    """One row of generations, as the rest of the code reads it."""

    id: int
    user_key: str
    chat_key: str
    platform: str
    day: str
    status: str
    params: DrawParams
    created_at: float
    finished_at: float | None
    error_kind: str | None
    relay_request_id: str | None
    relay_seconds: float | None
    image_paths: list[str]
    image_meta: list[dict[str, Any]]
    file_refs: dict[str, list[str]]
    parent_id: int | None
    source_key: str | None
    address: str | None = None
    owner: str | None = None
    cost: int = 1  # quota units per image (its model's cost when it was drawn)
    source_path: str | None = None  # an edit's input picture (core/sources.py)
    task_id: str | None = None  # an asynchronous model's task at the relay

    @property
    def has_image(self) -> bool:
        return self.status in (Status.GENERATED, Status.DELIVERED) or bool(self.image_paths)

    def relay_url(self, index: int) -> str | None:
        """The relay's own link to image `index` (it expires after about a day)."""
        meta = self.image_meta[index] if index < len(self.image_meta) else {}
        url = meta.get("url")
        return url if isinstance(url, str) else None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Generation:
        return cls(
            id=row["id"],
            user_key=row["user_key"],
            chat_key=row["chat_key"],
            platform=row["platform"],
            day=row["day"],
            status=row["status"],
            params=params_of_row(row),
            created_at=row["created_at"],
            finished_at=row["finished_at"],
            error_kind=row["error_kind"],
            relay_request_id=row["relay_request_id"],
            relay_seconds=row["relay_seconds"],
            image_paths=json.loads(row["image_paths"] or "[]"),
            image_meta=json.loads(row["image_meta"] or "[]"),
            file_refs=json.loads(row["file_refs"] or "{}"),
            parent_id=row["parent_id"],
            source_key=row["source_key"],
            address=row.get("address"),
            owner=row.get("owner"),
            cost=row.get("cost", 1),
            source_path=row.get("source_path"),
            task_id=row.get("task_id"),
        )


@dataclass(frozen=True)
class Reserved:
    generation_id: int


@dataclass(frozen=True)
class AlreadyHandled:
    """The same platform message was seen before (an edit or a redelivery)."""

    generation: Generation


@dataclass(frozen=True)
class Denied:
    """Why a reservation was refused: `reason` names the limit; `until` is when it frees up."""

    reason: str
    limit: int = 0
    used: int = 0
    until: float | None = None
    cost: int = 1  # what the refused draw would have cost


@dataclass(frozen=True)
class Usage:
    """One user's standing today."""

    used: int
    limit: int
    in_flight: int
    chat_used: int
    chat_limit: int


def unrecorded(
    new: NewGeneration,
    generation_id: int,
    paths: list[str],
    meta: list[dict[str, Any]],
    request_id: str | None,
    relay_seconds: float,
) -> Generation:
    """The generation as it will be recorded, for delivering before the record is written."""
    now = time.time()
    return Generation(
        id=generation_id,
        user_key=new.user_key,
        chat_key=new.chat_key,
        platform=new.platform,
        day=new.day,
        status=Status.GENERATED,
        params=recorded_params(new.params, new.watermark),
        created_at=now,
        finished_at=now,
        error_kind=None,
        relay_request_id=request_id,
        relay_seconds=relay_seconds,
        image_paths=paths,
        image_meta=meta,
        file_refs={},
        parent_id=new.parent_id,
        source_key=new.source_key,
        address=new.address,
        owner=new.owner,
        cost=new.cost,
    )
