"""The draw parameters of Jimeng 2.1 (high_aes_general_v21_L) and the relay JSON they become."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

REQ_KEY = "high_aes_general_v21_L"
MODEL_VERSION = "general_v2.1_L"
SCHEDULE_CONF = "general_v20_9B_pe"

SIZE_MIN, SIZE_MAX = 256, 768
STEPS_MIN, STEPS_MAX = 1, 200
SCALE_MIN, SCALE_MAX = 1.0, 10.0
SEED_MAX = 2**31 - 1
PROMPT_MAX = 800

DEFAULT_SIZE = 512
DEFAULT_MODEL = "jimeng21"
DEFAULT_STEPS = 25
DEFAULT_SCALE = 3.5

WATERMARK_POSITIONS: dict[str, int] = {
    "bottom-right": 0,
    "br": 0,
    "0": 0,
    "bottom-left": 1,
    "bl": 1,
    "1": 1,
    "top-left": 2,
    "tl": 2,
    "2": 2,
    "top-right": 3,
    "tr": 3,
    "3": 3,
}


@dataclass(frozen=True)
class Watermark:
    """logo_info: whether to mark the image, with what text, where and how visibly."""

    enabled: bool = True
    text: str | None = None
    position: int = 0
    language: int = 0
    opacity: float = 0.3

    def to_logo_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "add_logo": self.enabled,
            "position": self.position,
            "language": self.language,
            "opacity": self.opacity,
        }
        if self.text:
            info["logo_text_content"] = self.text
        return info


@dataclass(frozen=True)
class WatermarkChoice:
    """What a user asked of the watermark; None fields keep the chat or deployment default."""

    enabled: bool | None = None
    text: str | None = None
    position: int | None = None
    opacity: float | None = None

    def apply(self, base: Watermark) -> Watermark:
        return replace(
            base,
            enabled=base.enabled if self.enabled is None else self.enabled,
            text=self.text if self.text is not None else base.text,
            position=base.position if self.position is None else self.position,
            opacity=base.opacity if self.opacity is None else self.opacity,
        )

    @property
    def is_default(self) -> bool:
        return self == WatermarkChoice()


@dataclass(frozen=True)
class DrawParams:
    """One request to draw: what the user asked, with the seed's defaults."""

    prompt: str
    width: int = DEFAULT_SIZE
    height: int = DEFAULT_SIZE
    seed: int | None = None
    steps: int = DEFAULT_STEPS
    scale: float = DEFAULT_SCALE
    expand: bool = True
    super_res: bool = True
    watermark: WatermarkChoice = WatermarkChoice()
    model: str = DEFAULT_MODEL  # a name in the deployment's model table (core/models.py)

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    def with_seed(self, seed: int) -> DrawParams:
        return replace(self, seed=seed)

    def to_payload(self, watermark: Watermark, req_key: str = REQ_KEY) -> dict[str, Any]:
        """The relay's JSON body (Volcengine CVProcess); the seed must be concrete by now,
        -1 means random."""
        seed = -1 if self.seed is None else self.seed
        return {
            "req_key": req_key,
            "prompt": self.prompt,
            "model_version": MODEL_VERSION,
            "req_schedule_conf": SCHEDULE_CONF,
            "llm_seed": seed,
            "seed": seed,
            "scale": self.scale,
            "ddim_steps": self.steps,
            "width": self.width,
            "height": self.height,
            "use_pre_llm": self.expand,
            "use_sr": self.super_res,
            "return_url": True,
            "logo_info": watermark.to_logo_info(),
        }
