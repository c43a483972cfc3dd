"""drawbot's core: parsing, drawing, storage and every user-facing text; no platform code.

Adapters use `Core.open` and `Core.front`: a `Request` in, an `Answer` out."""

from core.answer import Action, Answer, Button, Pictures, Receipt, Say
from core.config import ConfigError, Settings
from core.params import DrawParams, Watermark, WatermarkChoice
from core.request import Place, Request, Requester
from core.root import Core

__all__ = [
    "Action",
    "Answer",
    "Button",
    "ConfigError",
    "Core",
    "DrawParams",
    "Pictures",
    "Place",
    "Receipt",
    "Request",
    "Requester",
    "Say",
    "Settings",
    "Watermark",
    "WatermarkChoice",
]
