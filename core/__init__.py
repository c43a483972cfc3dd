"""drawbot's core: parsing, drawing, storage and every user-facing text; no platform code."""

from core.account import Account, caption
from core.admin import Admin, AdminContext
from core.command import UsageError, parse_draw, split_command
from core.config import ConfigError, Settings
from core.params import DrawParams, Watermark, WatermarkChoice
from core.relay import RelayClient, RelayError
from core.root import Core
from core.service import Delivered, DrawService, Place, Refused, Requester

__all__ = [
    "Account",
    "Admin",
    "AdminContext",
    "ConfigError",
    "Core",
    "Delivered",
    "DrawParams",
    "DrawService",
    "Place",
    "Refused",
    "RelayClient",
    "RelayError",
    "Requester",
    "Settings",
    "UsageError",
    "Watermark",
    "WatermarkChoice",
    "caption",
    "parse_draw",
    "split_command",
]
