"""Placeholder pictures for the offline demo relay (bots/demo.py): no model, just a PNG that
says DEMO and shows what was asked (prompt, size, seed). Core-free; Pillow only."""

from __future__ import annotations

import functools
import io
import random

from PIL import Image, ImageDraw, ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
# Watermark corners as the relay numbers them (core/params.py WATERMARK_POSITIONS).
BOTTOM_RIGHT, BOTTOM_LEFT, TOP_LEFT, TOP_RIGHT = 0, 1, 2, 3


@functools.cache
def font(size: int) -> Font:
    """Pillow's built-in font (no file on disk needed), at `size` pixels."""
    return ImageFont.load_default(size=size)


@functools.cache
def _missing_glyph(size: int) -> bytes:
    """What the font draws for a character it has no glyph for (its 'tofu' box)."""
    return _mask(size, "\U0010fffd")


def _mask(size: int, character: str) -> bytes:
    mask = font(size).getmask(character)
    return bytes(str(mask.size), "ascii") + bytes(mask)


@functools.cache
def drawable(character: str, size: int = 24) -> bool:
    """Whether the built-in font has a glyph for `character`."""
    return character.isspace() or _mask(size, character) != _missing_glyph(size)


def shown(prompt: str) -> str:
    """The prompt as the built-in font can write it. That font has Latin letters only: Chinese
    (and most accented) characters would come out as empty boxes, and no CJK font can be
    counted on being installed, so each run of characters it cannot draw becomes one '…'
    (the console prints the whole prompt with the picture anyway). No transliteration."""
    out: list[str] = []
    for character in " ".join(prompt.split()):
        if drawable(character):
            out.append(character)
        elif not out or out[-1] != "…":
            out.append("…")
    return "".join(out)


def wrap(text: str, face: Font, width: float, lines: int) -> list[str]:
    """`text` in at most `lines` lines no wider than `width` (breaking long words too)."""
    found: list[str] = []
    current = ""
    for character in text:
        if face.getlength(current + character) <= width:
            current += character
            continue
        cut = current.rfind(" ")
        if character != " " and cut > 0:
            found.append(current[:cut])
            current = current[cut + 1 :] + character
        else:
            found.append(current)
            current = "" if character == " " else character
    if current.strip():
        found.append(current)
    found = [line.strip() for line in found if line.strip()]
    if len(found) > lines:
        found = [*found[: lines - 1], found[lines - 1].rstrip() + "…"]
    return found


def placeholder_png(
    prompt: str,
    width: int,
    height: int,
    seed: int,
    *,
    asked: tuple[int, int] | None = None,
    mark: str | None = None,
    mark_position: int = BOTTOM_RIGHT,
    mark_opacity: float = 0.3,
) -> bytes:
    """A `width` x `height` PNG, the same for the same arguments: a pattern chosen by `seed`,
    DEMO, the prompt, the size asked (`asked`, before super-resolution) and the seed written
    on it, and `mark` (the watermark text) in its corner at its opacity."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), _colour(rng, 90, 200))
    shapes = Image.new("RGBA", (width, height))
    pen = ImageDraw.Draw(shapes)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(min(width, height) // 10, min(width, height) // 3)
        box = (x - r, y - r, x + r, y + r)
        fill = (*_colour(rng, 40, 255), 110)
        if rng.random() < 0.5:
            pen.ellipse(box, fill=fill)
        else:
            pen.rectangle(box, fill=fill)
    image.paste(shapes, mask=shapes)

    short = min(width, height)
    title_size, body_size = max(16, short // 6), max(10, short // 22)
    title, body = font(title_size), font(body_size)
    margin = short // 16
    band = ImageDraw.Draw(image, "RGBA")
    band.rectangle((0, 0, width, height), fill=(0, 0, 0, 70))
    y = margin
    band.text((margin, y), "DEMO", font=title, fill="white", stroke_width=2, stroke_fill="black")
    y += int(title_size * 1.2)
    asked_w, asked_h = asked or (width, height)
    size = f"{asked_w}x{asked_h}"
    if (asked_w, asked_h) != (width, height):
        size += f" -> {width}x{height}"  # super-resolution
    lines = [*wrap(shown(prompt), body, width - 2 * margin, 6), "", size, f"seed {seed}"]
    for line in lines:
        band.text((margin, y), line, font=body, fill="white", stroke_width=1, stroke_fill="black")
        y += int(body_size * 1.3)
    if mark:
        _watermark(image, shown(mark), font(max(10, short // 28)), mark_position, mark_opacity)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _colour(rng: random.Random, low: int, high: int) -> tuple[int, int, int]:
    return (rng.randint(low, high), rng.randint(low, high), rng.randint(low, high))


def _watermark(image: Image.Image, text: str, face: Font, position: int, opacity: float) -> None:
    layer = Image.new("RGBA", image.size)
    pen = ImageDraw.Draw(layer)
    left, top, right, bottom = pen.textbbox((0, 0), text, font=face)
    pad = max(4, image.height // 60)
    x = pad if position in (BOTTOM_LEFT, TOP_LEFT) else image.width - (right - left) - pad
    y = pad if position in (TOP_LEFT, TOP_RIGHT) else image.height - (bottom - top) - pad
    alpha = max(0, min(255, round(255 * opacity)))
    pen.text((x - left, y - top), text, font=face, fill=(255, 255, 255, alpha))
    image.paste(layer, mask=layer)
