"""A strict fake of the Telegram Bot API, served over real HTTP on 127.0.0.1 (aiohttp).

The real python-telegram-bot ``Application`` runs against it unchanged::

    async with FakeTelegram(token="123:ABC") as tg:
        app = (
            ApplicationBuilder()
            .token(tg.token)
            .base_url(f"{tg.base_url}/bot")
            .base_file_url(f"{tg.base_url}/file/bot")
            .build()
        )
        tg.user_sends(text="/draw a cat", user_id=1)
        sent = await tg.wait_for_sent(lambda m: m.chat_id == 1)

Telegram's checks are reproduced where bots usually get them wrong: entity parsing (HTML,
MarkdownV2, Markdown) with Telegram's error texts, text/caption limits counted in UTF-16 code
units after parsing, reply targets, callback data size, file identifiers, image validity,
"message is not modified", callback query answers, getUpdates offsets and conflicts.

Deliberate differences from Telegram (all stricter or narrower, never laxer):

* HTML: a raw ``&`` that does not start an entity is refused (``strict_ampersand=True``);
  Telegram accepts it, but its documentation forbids it.
* sendMediaGroup needs 2-10 items as documented (Telegram sends a single item as a plain
  message); only photo and document items are faked. Extra ``reply_markup`` is ignored like
  Telegram does, and noted in :attr:`FakeTelegram.ignored_params`.
* Photos must be real PNG/JPEG/GIF/WEBP images (size read from the header).
* URLs are fetched only from 127.0.0.1/localhost; other hosts answer "failed to get HTTP URL
  content".
* Unknown or unimplemented methods answer 404 "Not Found" (PTB raises ``InvalidToken`` or
  ``EndPointNotFound``) and are listed in :attr:`FakeTelegram.unknown_methods`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import mimetypes
import re
import secrets
import socket
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

__all__ = [
    "ApiCall",
    "ApiError",
    "EntityParseError",
    "FakeTelegram",
    "SentMessage",
    "image_size",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]

_LOG = logging.getLogger(__name__)

JSON = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)

ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
ERR_QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
ERR_WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
ERR_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
ERR_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status == ``error_code``."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        """The JSON body Telegram sends for this error."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(text: str) -> ApiError:
    """A 400 error with Telegram's ``Bad Request:`` prefix."""
    return ApiError(400, f"Bad Request: {text}")


class EntityParseError(ValueError):
    """Text could not be parsed with the given parse_mode (Telegram's message, no prefix)."""


# --------------------------------------------------------------------------------------------
# Text helpers: UTF-16 lengths and entity parsing (modelled on TDLib's parsers)
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram counts in."""
    return len(text.encode("utf-16-le")) // 2


def _u16_at(data: bytes | bytearray, byte_pos: int) -> int:
    """UTF-16 offset of UTF-8 byte position ``byte_pos`` (a character boundary) in ``data``."""
    return utf16_len(bytes(data[:byte_pos]).decode("utf-8", "replace"))


def _entity(kind: str, offset: int, length: int, **extra: Any) -> JSON:
    """A MessageEntity dict."""
    return {"type": kind, "offset": offset, "length": length, **extra}


def _sorted_entities(entities: list[JSON]) -> list[JSON]:
    """Entities ordered like Telegram returns them (by offset, longer first)."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_HTML_SPACE = frozenset(b" \t\r\n\x0b")
_HTML_TOKEN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_HTML_NAMED = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
_HTML_ENTITY_RE = re.compile(rb"&(?:#x([0-9a-fA-F]{1,8})|#([0-9]{1,9})|([a-zA-Z]+));?")
_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}


def _decode_html_entity(data: bytes, pos: int) -> tuple[str, int] | None:
    """Decode an HTML entity at ``pos`` the way Telegram does; None if there is none."""
    match = _HTML_ENTITY_RE.match(data, pos)
    if match is None:
        return None
    hex_digits, dec_digits, name = match.groups()
    if name is not None:
        char = _HTML_NAMED.get(name)
        return (char, match.end()) if char is not None else None
    code = int(hex_digits, 16) if hex_digits is not None else int(dec_digits)
    if code == 0 or code >= 0x10FFFF:
        return None
    if 0xD800 <= code <= 0xDFFF:
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    return chr(code), match.end()


@dataclass
class _OpenTag:
    name: str
    begin: int  # byte offset of "<" in the input
    out_pos: int  # byte offset in the output
    attrs: dict[str, str]


class _HtmlParser:
    """Telegram's HTML subset: tags, attributes and entities, with TDLib's error messages."""

    def __init__(self, text: str, strict_ampersand: bool) -> None:
        self.data = text.encode("utf-8")
        self.strict_ampersand = strict_ampersand
        self.pos = 0
        self.out = bytearray()
        self.stack: list[_OpenTag] = []
        self.entities: list[JSON] = []

    def at(self, index: int) -> int:
        """Byte at ``index`` or 0 past the end (C-string semantics)."""
        return self.data[index] if index < len(self.data) else 0

    def skip_spaces(self) -> None:
        while self.pos < len(self.data) and self.data[self.pos] in _HTML_SPACE:
            self.pos += 1

    def parse(self) -> tuple[str, list[JSON]]:
        while self.pos < len(self.data):
            char = self.data[self.pos]
            if char == ord("&"):
                self.ampersand()
            elif char == ord("<"):
                if self.at(self.pos + 1) == ord("/"):
                    self.end_tag()
                else:
                    self.start_tag()
            else:
                self.out.append(char)
                self.pos += 1
        if self.stack:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        for entity in self.entities:
            entity.pop("_language", None)
        return bytes(self.out).decode("utf-8"), _sorted_entities(self.entities)

    def ampersand(self) -> None:
        decoded = _decode_html_entity(self.data, self.pos)
        if decoded is not None:
            char, self.pos = decoded
            self.out += char.encode("utf-8")
            return
        if self.strict_ampersand:
            raise EntityParseError(
                f'Unescaped "&" at byte offset {self.pos} (write &amp;; the fake is stricter '
                "than Telegram here, as the Bot API documentation asks)"
            )
        self.out.append(ord("&"))
        self.pos += 1

    def start_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        while self.pos < len(self.data) and self.data[self.pos] not in _HTML_SPACE | {ord(">")}:
            self.pos += 1
        if self.pos >= len(self.data):
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        name = self.data[begin + 1 : self.pos].decode("utf-8", "replace").lower()
        if name not in _HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {begin}')
        attrs = self.attributes(name, begin)
        self.pos += 1  # ">"
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
            )
        self.stack.append(_OpenTag(name, begin, len(self.out), attrs))

    def attributes(self, tag: str, begin: int) -> dict[str, str]:
        attrs: dict[str, str] = {}
        while self.at(self.pos) != ord(">"):
            self.skip_spaces()
            if self.at(self.pos) == ord(">"):
                break
            attr_begin = self.pos
            stop = _HTML_SPACE | {ord("="), ord(">")}
            while self.pos < len(self.data) and self.data[self.pos] not in stop:
                self.pos += 1
            name = self.data[attr_begin : self.pos].decode("utf-8", "replace").lower()
            if not name:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                )
            self.skip_spaces()
            if self.at(self.pos) != ord("="):
                if tag == "blockquote" and name == "expandable":
                    attrs[name] = ""
                    continue
                if self.pos >= len(self.data):
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {begin}'
                )
            self.pos += 1
            self.skip_spaces()
            if self.pos >= len(self.data):
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            attrs[name] = self.attribute_value()
            if self.pos >= len(self.data):
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        return attrs

    def attribute_value(self) -> str:
        quote = self.at(self.pos)
        if quote not in (ord('"'), ord("'")):
            token_begin = self.pos
            while self.at(self.pos) in _HTML_TOKEN:
                self.pos += 1
            if self.pos < len(self.data) and self.data[self.pos] not in _HTML_SPACE | {ord(">")}:
                raise EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
            return self.data[token_begin : self.pos].decode("utf-8", "replace").lower()
        self.pos += 1
        value = bytearray()
        while self.pos < len(self.data) and self.data[self.pos] != quote:
            decoded = _decode_html_entity(self.data, self.pos)
            if self.data[self.pos] == ord("&") and decoded is not None:
                char, self.pos = decoded
                value += char.encode("utf-8")
            else:
                value.append(self.data[self.pos])
                self.pos += 1
        if self.pos < len(self.data):
            self.pos += 1  # closing quote
        return bytes(value).decode("utf-8", "replace")

    def end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        self.pos += 2
        while self.pos < len(self.data) and self.data[self.pos] not in _HTML_SPACE | {ord(">")}:
            self.pos += 1
        name = self.data[begin + 2 : self.pos].decode("utf-8", "replace").lower()
        self.skip_spaces()
        if self.at(self.pos) != ord(">"):
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        self.pos += 1
        top = self.stack[-1]
        if name and name != top.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{top.name}>", '
                f'found "</{name}>"'
            )
        self.stack.pop()
        self.close(top)

    def close(self, tag: _OpenTag) -> None:
        offset = _u16_at(self.out, tag.out_pos)
        length = _u16_at(self.out, len(self.out)) - offset
        if length <= 0:
            return
        if tag.name in _HTML_SIMPLE:
            self.entities.append(_entity(_HTML_SIMPLE[tag.name], offset, length))
        elif tag.name == "a":
            self.close_link(tag, offset, length)
        elif tag.name == "tg-emoji":
            emoji_id = tag.attrs.get("emoji-id", "")
            self.entities.append(_entity("custom_emoji", offset, length, custom_emoji_id=emoji_id))
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
            self.entities.append(_entity(kind, offset, length))
        elif tag.name == "pre":
            self.close_pre(offset, length)
        elif tag.name == "code":
            self.close_code(tag, offset, length)

    def close_link(self, tag: _OpenTag, offset: int, length: int) -> None:
        url = tag.attrs.get("href") or bytes(self.out[tag.out_pos :]).decode("utf-8")
        match = re.fullmatch(r"tg://user\?id=(\d+)", url)
        if match:
            user = {"id": int(match.group(1)), "is_bot": False, "first_name": ""}
            self.entities.append(_entity("text_mention", offset, length, user=user))
        elif url.strip():
            self.entities.append(_entity("text_link", offset, length, url=url))

    def close_code(self, tag: _OpenTag, offset: int, length: int) -> None:
        language = tag.attrs.get("class", "")
        code = _entity("code", offset, length)
        parent = self.stack[-1] if self.stack else None
        inside_pre = parent is not None and parent.name == "pre" and parent.out_pos == tag.out_pos
        if language.startswith("language-") and inside_pre:
            code["_language"] = language.removeprefix("language-")
        self.entities.append(code)

    def close_pre(self, offset: int, length: int) -> None:
        """A <pre> wrapping exactly one <code class="language-x"> becomes pre+language."""
        last = self.entities[-1] if self.entities else None
        if (
            last is not None
            and last["type"] == "code"
            and "_language" in last
            and (last["offset"], last["length"]) == (offset, length)
        ):
            self.entities.pop()
            self.entities.append(_entity("pre", offset, length, language=last["_language"]))
        else:
            self.entities.append(_entity("pre", offset, length))


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSON]]:
    """Parse Telegram HTML into (plain text, entities); raises :class:`EntityParseError`."""
    return _HtmlParser(text, strict_ampersand).parse()


_MDV2_RESERVED = frozenset(b"_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _MdOpen:
    kind: str
    begin: int
    out_pos: int
    language: str = ""


class _MarkdownV2Parser:
    """Telegram's MarkdownV2, with TDLib's error messages for the common mistakes."""

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8")
        self.pos = 0
        self.out = bytearray()
        self.stack: list[_MdOpen] = []
        self.entities: list[JSON] = []
        self.quote_start: int | None = None

    def at(self, index: int) -> int:
        return self.data[index] if index < len(self.data) else 0

    def parse(self) -> tuple[str, list[JSON]]:
        while self.pos < len(self.data):
            self.step()
        if self.stack:
            top = self.stack[-1]
            raise EntityParseError(
                f"Can't find end of {_MDV2_NAMES[top.kind]} entity at byte offset {top.begin}"
            )
        self.close_quote()
        return bytes(self.out).decode("utf-8"), _sorted_entities(self.entities)

    def step(self) -> None:
        char = self.data[self.pos]
        if char == ord("\\") and 0 < self.at(self.pos + 1) <= 126:
            self.out.append(self.data[self.pos + 1])
            self.pos += 2
            return
        top = self.stack[-1].kind if self.stack else None
        in_code = top in ("code", "pre", "pre_code")
        if char == ord("\n"):
            self.newline()
            return
        if char not in _MDV2_RESERVED or (in_code and char != ord("`")):
            self.out.append(char)
            self.pos += 1
            return
        if top is not None and self.ends(top):
            self.close()
            return
        self.open(char)

    def newline(self) -> None:
        if self.quote_start is not None and self.at(self.pos + 1) != ord(">"):
            self.close_quote()
        self.out.append(ord("\n"))
        self.pos += 1

    def close_quote(self) -> None:
        if self.quote_start is None:
            return
        offset = _u16_at(self.out, self.quote_start)
        length = _u16_at(self.out, len(self.out)) - offset
        if length > 0:
            self.entities.append(_entity("blockquote", offset, length))
        self.quote_start = None

    def ends(self, kind: str) -> bool:
        char, nxt = self.data[self.pos], self.at(self.pos + 1)
        if kind == "italic":
            return char == ord("_") and nxt != ord("_")
        if kind == "underline":
            return char == ord("_") and nxt == ord("_")
        if kind == "spoiler":
            return char == ord("|") and nxt == ord("|")
        if kind in ("pre", "pre_code"):
            return self.data[self.pos : self.pos + 3] == b"```"
        closing = {
            "bold": "*",
            "strikethrough": "~",
            "code": "`",
            "text_link": "]",
            "custom_emoji": "]",
        }
        return char == ord(closing[kind])

    def open(self, char: int) -> None:
        begin, nxt = self.pos, self.at(self.pos + 1)
        single = {ord("*"): "bold", ord("~"): "strikethrough", ord("["): "text_link"}
        if char in single:
            self.push(single[char], begin, 1)
        elif char == ord("_"):
            self.push(
                "underline" if nxt == ord("_") else "italic", begin, 2 if nxt == ord("_") else 1
            )
        elif char == ord("|") and nxt == ord("|"):
            self.push("spoiler", begin, 2)
        elif char == ord("!") and nxt == ord("["):
            self.push("custom_emoji", begin, 2)
        elif char == ord("`"):
            self.open_code(begin)
        elif char == ord(">") and (begin == 0 or self.data[begin - 1] == ord("\n")):
            if self.quote_start is None:
                self.quote_start = len(self.out)
            self.pos += 1
        else:
            raise EntityParseError(
                f"Character '{chr(char)}' is reserved and must be escaped with the preceding '\\'"
            )

    def push(self, kind: str, begin: int, width: int, language: str = "") -> None:
        self.stack.append(_MdOpen(kind, begin, len(self.out), language))
        self.pos += width

    def open_code(self, begin: int) -> None:
        if self.data[begin : begin + 3] != b"```":
            self.push("code", begin, 1)
            return
        self.pos = begin + 3
        end = self.pos
        while end < len(self.data) and self.data[end] not in _HTML_SPACE | {ord("`")}:
            end += 1
        language = ""
        if end != self.pos and end < len(self.data) and self.data[end] != ord("`"):
            language = self.data[self.pos : end].decode("utf-8", "replace")
            self.pos = end
        if self.at(self.pos) in (ord("\n"), ord("\r")):
            pair = self.at(self.pos + 1) in (ord("\n"), ord("\r"))
            self.pos += 2 if pair and self.at(self.pos + 1) != self.at(self.pos) else 1
        kind = "pre_code" if language else "pre"
        self.stack.append(_MdOpen(kind, begin, len(self.out), language))

    def close(self) -> None:
        top = self.stack.pop()
        width = {"underline": 2, "spoiler": 2, "pre": 3, "pre_code": 3}.get(top.kind, 1)
        self.pos += width
        offset = _u16_at(self.out, top.out_pos)
        length = _u16_at(self.out, len(self.out)) - offset
        if top.kind in ("text_link", "custom_emoji"):
            url = self.link_url(top)
            if length > 0 and top.kind == "custom_emoji":
                emoji = re.fullmatch(r"tg://emoji\?id=(\d+)", url or "")
                if emoji is None:
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                self.entities.append(
                    _entity("custom_emoji", offset, length, custom_emoji_id=emoji.group(1))
                )
            elif length > 0 and url:
                self.entities.append(_entity("text_link", offset, length, url=url))
            return
        if length <= 0:
            return
        if top.kind == "pre_code":
            self.entities.append(_entity("pre", offset, length, language=top.language))
        else:
            self.entities.append(_entity(top.kind, offset, length))

    def link_url(self, top: _MdOpen) -> str:
        if self.at(self.pos) != ord("("):
            return bytes(self.out[top.out_pos :]).decode("utf-8")
        self.pos += 1
        url_begin = self.pos
        url = bytearray()
        while self.pos < len(self.data) and self.data[self.pos] != ord(")"):
            if self.data[self.pos] == ord("\\") and 0 < self.at(self.pos + 1) <= 126:
                self.pos += 1
            url.append(self.data[self.pos])
            self.pos += 1
        if self.pos >= len(self.data):
            raise EntityParseError(f"Can't find end of a URL at byte offset {url_begin}")
        self.pos += 1
        return bytes(url).decode("utf-8", "replace")


def parse_markdown_v2(text: str) -> tuple[str, list[JSON]]:
    """Parse MarkdownV2 into (plain text, entities); raises :class:`EntityParseError`."""
    return _MarkdownV2Parser(text).parse()


def parse_markdown(text: str) -> tuple[str, list[JSON]]:
    """Parse legacy Markdown (v1): ``*bold* _italic_ `code` ```pre``` [text](url)``."""
    data = text.encode("utf-8")
    out = bytearray()
    entities: list[JSON] = []
    pos = 0
    while pos < len(data):
        char = data[pos]
        if char == ord("\\") and pos + 1 < len(data) and data[pos + 1] in b"_*`[":
            out.append(data[pos + 1])
            pos += 2
            continue
        if char not in b"_*`[":
            out.append(char)
            pos += 1
            continue
        pos = _markdown_v1_entity(data, pos, out, entities)
    return bytes(out).decode("utf-8"), _sorted_entities(entities)


def _markdown_v1_entity(data: bytes, begin: int, out: bytearray, entities: list[JSON]) -> int:
    """Parse one legacy Markdown entity starting at ``begin``; returns the next position."""
    char = data[begin]
    is_pre = data[begin : begin + 3] == b"```"
    end_char = ord("]") if char == ord("[") else char
    pos = begin + (3 if is_pre else 1)
    language = ""
    if is_pre:
        end = pos
        while end < len(data) and data[end] not in b" \t\r\n`":
            end += 1
        if end != pos and end < len(data) and data[end] != ord("`"):
            language, pos = data[pos:end].decode("utf-8", "replace"), end
        if pos < len(data) and data[pos] in b"\r\n":
            pos += 1
    start = len(out)
    while pos < len(data) and (data[pos] != end_char or (is_pre and data[pos : pos + 3] != b"```")):
        out.append(data[pos])
        pos += 1
    if pos >= len(data):
        raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
    pos += 3 if is_pre else 1
    offset = _u16_at(out, start)
    length = _u16_at(out, len(out)) - offset
    if char == ord("[") and pos < len(data) and data[pos] == ord("("):
        close = data.find(b")", pos)
        if close < 0:
            raise EntityParseError(f"Can't find end of a URL at byte offset {pos + 1}")
        url = data[pos + 1 : close].decode("utf-8", "replace")
        pos = close + 1
    else:
        url = bytes(out[start:]).decode("utf-8")
    if length <= 0:
        return pos
    if is_pre:
        extra = {"language": language} if language else {}
        entities.append(_entity("pre", offset, length, **extra))
    elif char == ord("`"):
        entities.append(_entity("code", offset, length))
    elif char == ord("["):
        entities.append(_entity("text_link", offset, length, url=url))
    else:
        entities.append(_entity("italic" if char == ord("_") else "bold", offset, length))
    return pos


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Strip leading/trailing whitespace like Telegram and shift/clip the entities."""
    stripped = text.strip(" \t\r\n")
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip(" \t\r\n"))])
    size = utf16_len(stripped)
    result: list[JSON] = []
    for ent in entities:
        start = max(ent["offset"] - shift, 0)
        end = min(ent["offset"] + ent["length"] - shift, size)
        if end > start:
            result.append({**ent, "offset": start, "length": end - start})
    return stripped, result


def format_text(
    text: str, parse_mode: str | None, entities: list[JSON] | None, *, strict_ampersand: bool
) -> tuple[str, list[JSON]]:
    """Apply ``parse_mode`` (or explicit entities) and trim; raises :class:`ApiError`."""
    mode = (parse_mode or "").strip().lower()
    try:
        if mode == "html":
            plain, found = parse_html(text, strict_ampersand=strict_ampersand)
        elif mode == "markdownv2":
            plain, found = parse_markdown_v2(text)
        elif mode == "markdown":
            plain, found = parse_markdown(text)
        elif mode == "":
            plain, found = text, list(entities or [])
        else:
            raise bad_request("unsupported parse_mode")
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from exc
    return _trim(plain, found)


_COMMAND_RE = re.compile(r"(?<![\w/<>])/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{3,32}))?(?![\w/<>])")
_MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{3,32})(?!\w)")


def detect_entities(text: str) -> list[JSON]:
    """Entities Telegram adds to a user's message: bot_command and mention."""
    found: list[JSON] = []
    for regex, kind in ((_COMMAND_RE, "bot_command"), (_MENTION_RE, "mention")):
        for match in regex.finditer(text):
            offset = utf16_len(text[: match.start()])
            found.append(_entity(kind, offset, utf16_len(match.group(0))))
    return _sorted_entities(found)


# --------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 24:
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None


def _gif_size(data: bytes) -> tuple[int, int] | None:
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 10:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return width, height


def _webp_size(data: bytes) -> tuple[int, int] | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """``(format, width, height)`` of a PNG, JPEG, GIF or WEBP image; None otherwise."""
    for fmt, probe in (
        ("png", _png_size),
        ("jpeg", _jpeg_size),
        ("gif", _gif_size),
        ("webp", _webp_size),
    ):
        size = probe(data)
        if size is not None:
            return fmt, size[0], size[1]
    return None


# --------------------------------------------------------------------------------------------
# Records visible to tests
# --------------------------------------------------------------------------------------------


@dataclass
class ApiCall:
    """One Bot API request as the fake received it (``status`` is None while running)."""

    method: str
    params: JSON
    at: float
    status: int | None = None
    description: str | None = None


@dataclass
class SentMessage:
    """A message the bot sent (one record per send call; a media group is one record)."""

    method: str
    chat_id: int
    message_id: int
    kind: str
    text: str | None
    caption: str | None
    parse_mode: str | None
    reply_markup: JSON | None
    reply_to_message_id: int | None
    files: list[bytes]
    params: JSON
    at: float
    message: JSON
    messages: list[JSON] = field(default_factory=list)

    @property
    def visible_text(self) -> str | None:
        """Text or caption as users see it (after entity parsing)."""
        return self.message.get("text", self.message.get("caption"))

    @property
    def message_ids(self) -> list[int]:
        """All message ids of this send (several for a media group)."""
        return [m["message_id"] for m in self.messages] or [self.message_id]

    def buttons(self) -> list[JSON]:
        """Inline keyboard buttons, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]


@dataclass
class StoredFile:
    """A file known to the fake (uploaded, fetched or sent by a user)."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo" or "document"
    data: bytes
    file_path: str
    width: int = 0
    height: int = 0
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _Pending:
    update: JSON
    redelivered: bool = False
    delivered: bool = False


@dataclass
class _Injected:
    method: str | None
    remaining: int
    error: ApiError


@dataclass
class _Upload:
    data: bytes
    filename: str | None
    content_type: str | None


# --------------------------------------------------------------------------------------------
# Request parameters
# --------------------------------------------------------------------------------------------


class _Params:
    """Request parameters from JSON, urlencoded or multipart bodies, with typed getters."""

    def __init__(self, values: Mapping[str, Any], uploads: Mapping[str, _Upload]) -> None:
        self.values = dict(values)
        self.uploads = dict(uploads)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def string(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def parsed(self, name: str, error: str) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(error) from None


async def _read_params(request: web.Request) -> _Params:
    """Collect query, JSON, urlencoded and multipart parameters (files kept apart)."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, _Upload] = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            values.update(body)
        else:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[name] = _Upload(value.file.read(), value.filename, value.content_type)
                else:
                    values[name] = value
    return _Params(values, uploads)


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------

_METHODS: dict[str, tuple[str, str]] = {}


def _api(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a coroutine method as the handler of Bot API method ``name``."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        _METHODS[name.lower()] = (name, func.__name__)
        return func

    return register


class FakeTelegram:
    """A fake Telegram Bot API server for one bot, plus helpers that act as users.

    Args:
        token: the bot token (``<bot id>:<secret>``).
        bot_username: the bot's @username (without ``@``).
        bot_name: the bot's first name.
        privacy_mode: like BotFather's privacy mode; in groups the bot then gets only commands,
            mentions of it and replies to its messages (unless it is an administrator).
        strict_ampersand: refuse a raw ``&`` in HTML (stricter than Telegram, see module doc).
        callback_answer_timeout: seconds within which a callback query must be answered.
        first_update_id: the first ``update_id`` handed out.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        bot_username: str = "drawbot_test_bot",
        *,
        bot_name: str = "Drawbot Test",
        privacy_mode: bool = True,
        strict_ampersand: bool = True,
        callback_answer_timeout: float = 15.0,
        first_update_id: int = 1,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.privacy_mode = privacy_mode
        self.strict_ampersand = strict_ampersand
        self.callback_answer_timeout = callback_answer_timeout

        self.sent: list[SentMessage] = []
        self.edits: list[SentMessage] = []
        self.calls: list[ApiCall] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.callback_answers: list[JSON] = []
        self.deleted: list[tuple[int, int]] = []
        self.ignored_params: list[tuple[str, str]] = []
        self.internal_errors: list[BaseException] = []
        self.unknown_methods: list[str] = []
        self.webhook_url = ""

        self._chats: dict[int, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._members: dict[int, set[int]] = {}
        self._admins: dict[int, set[int]] = {}
        self._owners: dict[int, int] = {}
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], JSON] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._group_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)
        self._callbacks: dict[str, JSON] = {}
        self._injected: list[_Injected] = []

        self._next_update_id = first_update_id
        self._updates: dict[int, JSON] = {}
        self._pending: list[_Pending] = []
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0

        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    # ----------------------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (PTB: ``base_url=f"{base_url}/bot"``)."""
        if not self.port:
            raise RuntimeError("FakeTelegram is not started; use 'async with FakeTelegram()'")
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Full method URL prefix, e.g. ``http://127.0.0.1:PORT/bot123:ABC``."""
        return f"{self.base_url}/bot{self.token}"

    async def start(self) -> None:
        """Start serving on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._closing = False

    async def close(self) -> None:
        """Wake long polls and stop the server."""
        self._closing = True
        self._notify()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _notify(self) -> None:
        """Wake everyone waiting for a change (long polls, wait_for_*)."""
        self._changed.set()
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------- test-side: chats

    def add_chat(
        self,
        chat_id: int,
        chat_type: str = "private",
        *,
        title: str | None = None,
        first_name: str = "User",
        username: str | None = None,
        is_forum: bool = False,
    ) -> JSON:
        """Make a chat known (private chats need ``chat_id`` == user id, groups < 0)."""
        if chat_type == "private":
            if chat_id <= 0:
                raise ValueError("private chats have the user's (positive) id")
            chat: JSON = {"id": chat_id, "type": "private", "first_name": first_name}
            if username:
                chat["username"] = username
        elif chat_type in ("group", "supergroup", "channel"):
            if chat_id >= 0:
                raise ValueError(f"{chat_type} chats have negative ids")
            chat = {"id": chat_id, "type": chat_type, "title": title or f"Chat {chat_id}"}
            if username:
                chat["username"] = username
            if is_forum:
                chat["is_forum"] = True
        else:
            raise ValueError(f"unknown chat type {chat_type!r}")
        existing = self._chats.get(chat_id)
        if existing is not None and existing["type"] == chat["type"]:
            if title is not None:
                existing["title"] = title
            return existing
        self._chats[chat_id] = chat
        return chat

    def set_admins(self, chat_id: int, user_ids: Iterable[int], owner: int | None = None) -> None:
        """Set a group's administrators (include ``bot_id`` to make the bot an admin)."""
        admins = set(user_ids) | ({owner} if owner is not None else set())
        for user_id in admins - {self.bot_id}:
            self._user(user_id)
        self._admins[chat_id] = admins
        if owner is not None:
            self._owners[chat_id] = owner

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """Simulate the user blocking (or unblocking) the bot: sends then get 403."""
        if blocked:
            self._blocked.add(user_id)
        else:
            self._blocked.discard(user_id)

    def _user(
        self,
        user_id: int,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> JSON:
        """The user dict for ``user_id``, created or updated."""
        user = self._users.setdefault(
            user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        )
        if first_name is not None:
            user["first_name"] = first_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        return user

    # ------------------------------------------------------------------ test-side: updates

    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update (an ``update_id`` is assigned if missing); returns it."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        self._updates[update["update_id"]] = update
        self._pending.append(_Pending(update))
        self._notify()
        return update

    def redeliver(self, update_id: int) -> JSON:
        """Queue an already delivered update again, with the same ``update_id``."""
        update = self._updates[update_id]
        self._pending.append(_Pending(copy.deepcopy(update), redelivered=True))
        self._notify()
        return update

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by the bot."""
        return [p.update for p in self._pending]

    def user_sends(
        self,
        text: str | None = None,
        user_id: int = 1,
        chat_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "en",
        first_name: str | None = None,
        username: str | None = None,
        reply_to: JSON | SentMessage | int | None = None,
        message_thread_id: int | None = None,
        *,
        photo: bytes | None = None,
        document: bytes | None = None,
        file_name: str = "file.bin",
        chat_title: str | None = None,
    ) -> JSON:
        """A user writes to the bot; queues a ``message`` update and returns the message.

        With ``photo``/``document`` the text becomes the caption. Bot commands and mentions
        get their entities. In groups with privacy mode, messages the bot would not see are
        stored but not delivered.
        """
        chat_id = user_id if chat_id is None and chat_type == "private" else chat_id
        if chat_id is None:
            raise ValueError("group chats need an explicit negative chat_id")
        if chat_type == "private" and chat_id != user_id:
            raise ValueError("in a private chat chat_id must equal user_id")
        user = self._user(user_id, first_name, username, language_code)
        if chat_type == "private":
            chat = self.add_chat(
                chat_id, "private", first_name=user["first_name"], username=user.get("username")
            )
        else:
            chat = self.add_chat(chat_id, chat_type, title=chat_title)
        self._members.setdefault(chat_id, set()).add(user_id)
        message = self._new_message(chat, user)
        if message_thread_id is not None:
            message["message_thread_id"] = message_thread_id
            message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = self._reply_snapshot(chat_id, reply_to)
        self._attach_user_content(message, text, photo, document, file_name)
        self._store(message)
        if self._bot_sees(message):
            self.push_update({"message": copy.deepcopy(message)})
        else:
            _LOG.info("privacy mode: the bot does not see message %s", message["message_id"])
        return copy.deepcopy(message)

    def _attach_user_content(
        self,
        message: JSON,
        text: str | None,
        photo: bytes | None,
        document: bytes | None,
        file_name: str,
    ) -> None:
        """Fill text/caption and media of a user message."""
        key = "caption" if photo is not None or document is not None else "text"
        if text:
            message[key] = text
            entities = detect_entities(text)
            if entities:
                message[f"{key}_entities" if key == "caption" else "entities"] = entities
        if photo is not None:
            stored = self._store_photo(photo)
            message["photo"] = self._photo_sizes(stored)
        elif document is not None:
            stored = self._store_file("document", document, file_name, None)
            message["document"] = self._document_json(stored)
        elif not text:
            raise ValueError("a message needs text, a photo or a document")

    def user_edits(self, message: JSON, text: str) -> JSON:
        """The user edits their message; queues an ``edited_message`` update."""
        key = (message["chat"]["id"], message["message_id"])
        stored = self._messages.get(key)
        if stored is None:
            raise ValueError(f"message {key} does not exist (deleted?)")
        field_name = "caption" if "caption" in stored or "photo" in stored else "text"
        stored[field_name] = text
        entities_key = "caption_entities" if field_name == "caption" else "entities"
        stored.pop(entities_key, None)
        entities = detect_entities(text)
        if entities:
            stored[entities_key] = entities
        stored["edit_date"] = int(time.time())
        if self._bot_sees(stored):
            self.push_update({"edited_message": copy.deepcopy(stored)})
        return copy.deepcopy(stored)

    def user_clicks(
        self, message: JSON | SentMessage, data: str, user_id: int | None = None
    ) -> str:
        """A user presses the inline button with ``callback_data == data``; returns the query id.

        Only buttons present on the message's current keyboard can be pressed.
        """
        chat_id, message_id = self._message_key(message)
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise ValueError(f"message {message_id} in chat {chat_id} does not exist")
        rows = (stored.get("reply_markup") or {}).get("inline_keyboard") or []
        datas = [b.get("callback_data") for row in rows for b in row]
        if data not in datas:
            raise ValueError(f"no button with callback_data {data!r} on the message: {datas}")
        if user_id is None:
            if stored["chat"]["type"] != "private":
                raise ValueError("user_id is required for clicks in groups")
            user_id = chat_id
        query_id = str(4_000_000_000_000 + next(self._callback_counter))
        self._callbacks[query_id] = {"answered": False, "at": time.monotonic()}
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": copy.deepcopy(self._user(user_id)),
                    "message": copy.deepcopy(stored),
                    "chat_instance": str(abs(chat_id) * 7 + 13),
                    "data": data,
                }
            }
        )
        return query_id

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """The user deletes a message (Telegram sends bots no update for that)."""
        self._messages.pop((chat_id, message_id), None)

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """The current state of a stored message (after edits), or None if deleted."""
        stored = self._messages.get((chat_id, message_id))
        return copy.deepcopy(stored) if stored is not None else None

    def file_bytes(self, file_id: str) -> bytes:
        """The content of a stored file."""
        return self._files[file_id].data

    # ------------------------------------------------------------------- test-side: faults

    def flood(self, method: str | None = None, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` (any if None) with 429."""
        error = ApiError(
            429,
            f"Too Many Requests: retry after {retry_after}",
            {"retry_after": retry_after},
        )
        self._injected.append(_Injected(method.lower() if method else None, times, error))

    def fail(
        self,
        method: str | None,
        status: int = 500,
        description: str = "Internal Server Error",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (any if None) with an error."""
        error = ApiError(status, description)
        self._injected.append(_Injected(method.lower() if method else None, times, error))

    def _take_injected(self, method: str) -> ApiError | None:
        for rule in self._injected:
            if rule.remaining > 0 and rule.method in (None, method.lower()):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._injected.remove(rule)
                return rule.error
        return None

    # ------------------------------------------------------------------- test-side: waiting

    async def wait_until(
        self,
        probe: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109 (test-facing API)
        what: str = "a condition",
    ) -> Any:
        """Wait until ``probe()`` returns something truthy (re-checked on every change)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = probe()
            if found:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def wait_for_sent(
        self,
        predicate: Callable[[SentMessage], bool] = lambda m: True,
        timeout: float = 5.0,  # noqa: ASYNC109 (test-facing API)
        since: int = 0,
    ) -> SentMessage:
        """The first bot-sent message (from index ``since`` of :attr:`sent`) matching."""

        def probe() -> SentMessage | None:
            return next((m for m in self.sent[since:] if predicate(m)), None)

        try:
            return await self.wait_until(probe, timeout, "a sent message")
        except TimeoutError as exc:
            summary = [(m.method, m.chat_id, m.kind, m.visible_text) for m in self.sent[since:]]
            raise TimeoutError(f"{exc}; sent so far: {summary}") from None

    async def wait_for_edit(
        self,
        predicate: Callable[[SentMessage], bool] = lambda m: True,
        timeout: float = 5.0,  # noqa: ASYNC109 (test-facing API)
        since: int = 0,
    ) -> SentMessage:
        """The first editMessage* record (from index ``since`` of :attr:`edits`) matching."""

        def probe() -> SentMessage | None:
            return next((m for m in self.edits[since:] if predicate(m)), None)

        return await self.wait_until(probe, timeout, "an edit")

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] = lambda c: True,
        timeout: float = 5.0,  # noqa: ASYNC109 (test-facing API)
        since: int = 0,
    ) -> ApiCall:
        """The first finished call of ``method`` (from index ``since``) matching."""

        def probe() -> ApiCall | None:
            return next(
                (
                    c
                    for c in self.calls[since:]
                    if c.method.lower() == method.lower() and c.status is not None and predicate(c)
                ),
                None,
            )

        return await self.wait_until(probe, timeout, f"a {method} call")

    async def wait_delivered(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 (test-facing API)
        """Wait until every queued update was handed out by getUpdates at least once."""
        await self.wait_until(
            lambda: all(p.delivered for p in self._pending) or None,
            timeout,
            "the bot to fetch all updates",
        )

    def calls_of(self, method: str) -> list[ApiCall]:
        """Calls of one method (case-insensitive)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[JSON] | None:
        """Commands set for a scope key (see :meth:`_scope_key`) and language."""
        return self.commands.get((scope, language_code))

    # ----------------------------------------------------------------------------- HTTP layer

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not re.fullmatch(r"\d+:[\w-]+", token):
            return self._error_response(ApiError(404, "Not Found"))
        if token != self.token:
            return self._error_response(ApiError(401, "Unauthorized"))
        method_name = request.match_info["method"]
        known = _METHODS.get(method_name.lower())
        call = ApiCall(known[0] if known else method_name, {}, time.monotonic())
        self.calls.append(call)
        try:
            params = await _read_params(request)
            call.params = {**params.values, **{k: "<upload>" for k in params.uploads}}
            if known is None:
                _LOG.warning("FakeTelegram: unknown or unimplemented method %s", method_name)
                self.unknown_methods.append(method_name)
                raise ApiError(404, "Not Found")
            injected = self._take_injected(known[0])
            if injected is not None:
                raise injected
            result = await getattr(self, known[1])(params)
        except ApiError as exc:
            self._finish(call, exc.status, exc.description)
            return self._error_response(exc)
        except asyncio.CancelledError:
            self._finish(call, 499, "client closed the request")
            raise
        except Exception as exc:  # a bug in the fake: make it visible
            _LOG.exception("FakeTelegram failed on %s", call.method)
            self.internal_errors.append(exc)
            self._finish(call, 500, repr(exc))
            return self._error_response(ApiError(500, "Internal Server Error"))
        self._finish(call, 200, None)
        return web.json_response({"ok": True, "result": result})

    def _finish(self, call: ApiCall, status: int, description: str | None) -> None:
        call.status = status
        call.description = description
        self._notify()

    @staticmethod
    def _error_response(error: ApiError) -> web.Response:
        return web.json_response(error.payload(), status=error.status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # --------------------------------------------------------------------------- chat helpers

    def _chat(self, params: _Params, name: str = "chat_id") -> JSON:
        """The chat a request targets (by id or @username)."""
        raw = params.values.get(name)
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        text = str(raw).strip()
        chat: JSON | None
        if text.startswith("@"):
            chat = next((c for c in self._chats.values() if c.get("username") == text[1:]), None)
        else:
            try:
                chat = self._chats.get(int(text))
            except ValueError:
                chat = None
        if chat is None:
            raise bad_request("chat not found")
        if chat["type"] == "private" and chat["id"] in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _new_message(self, chat: JSON, sender: JSON) -> JSON:
        return {
            "message_id": self._next_message_id(chat["id"]),
            "from": copy.deepcopy(sender),
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
        }

    def _store(self, message: JSON) -> None:
        self._messages[(message["chat"]["id"], message["message_id"])] = message

    @staticmethod
    def _message_key(message: JSON | SentMessage) -> tuple[int, int]:
        if isinstance(message, SentMessage):
            return message.chat_id, message.message_id
        return message["chat"]["id"], message["message_id"]

    def _reply_snapshot(self, chat_id: int, target: JSON | SentMessage | int) -> JSON:
        message_id = target if isinstance(target, int) else self._message_key(target)[1]
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise ValueError(f"reply target {message_id} does not exist in chat {chat_id}")
        snapshot = copy.deepcopy(stored)
        snapshot.pop("reply_to_message", None)
        return snapshot

    def _bot_sees(self, message: JSON) -> bool:
        """Privacy mode: what a bot receives from a group."""
        chat = message["chat"]
        if chat["type"] == "private" or not self.privacy_mode:
            return True
        if self.bot_id in self._admins.get(chat["id"], set()):
            return True
        text = message.get("text") or message.get("caption") or ""
        command = _COMMAND_RE.match(text)
        if command and text.startswith("/"):
            target = command.group(2)
            return target is None or target.lower() == self.bot_username.lower()
        replied = message.get("reply_to_message") or {}
        if replied.get("from", {}).get("id") == self.bot_id:
            return True
        return f"@{self.bot_username.lower()}" in text.lower()

    def _is_admin(self, chat_id: int, user_id: int) -> bool:
        return user_id in self._admins.get(chat_id, set())

    # ---------------------------------------------------------------------- send validation

    def _formatted(
        self, params: _Params, key: str, *, required: bool
    ) -> tuple[str | None, list[JSON]]:
        """Parsed text (key "text") or caption (key "caption") with entities, checked."""
        raw = params.string(key)
        entities_key = "entities" if key == "text" else "caption_entities"
        entities = params.parsed(entities_key, f"can't parse {entities_key} JSON object")
        if raw is None or raw == "":
            if required:
                raise bad_request("message text is empty")
            return None, []
        plain, found = format_text(
            raw,
            params.string("parse_mode"),
            entities if isinstance(entities, list) else None,
            strict_ampersand=self.strict_ampersand,
        )
        limit = MAX_TEXT if key == "text" else MAX_CAPTION
        if utf16_len(plain) > limit:
            raise bad_request(
                "message is too long" if key == "text" else "message caption is too long"
            )
        if not plain:
            if required:
                raise bad_request("message text is empty")
            return None, []
        return plain, found

    def _reply_markup(self, params: _Params) -> JSON | None:
        """The validated reply_markup parameter."""
        markup = params.parsed("reply_markup", "can't parse reply keyboard markup JSON object")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"])
        return markup

    @staticmethod
    def _check_inline_keyboard(rows: Any) -> None:
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "inline_keyboard" must be of type Array'
            )
        actions = (
            "url",
            "callback_data",
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        )
        for button in (b for row in rows for b in row):
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            if not any(k in button for k in actions):
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA:
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not re.match(r"(https?|tg)://\S+", str(url)):
                raise bad_request("BUTTON_URL_INVALID")

    def _reply_target(self, params: _Params, chat: JSON) -> tuple[int | None, JSON | None]:
        """(requested reply id, snapshot of the replied message or None)."""
        reply = params.parsed("reply_parameters", "can't parse reply parameters JSON object")
        allow = params.flag("allow_sending_without_reply")
        message_id = params.integer("reply_to_message_id")
        target_chat = chat["id"]
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = allow or reply.get("allow_sending_without_reply") is True
            if reply.get("chat_id") not in (None, chat["id"], str(chat["id"])):
                target_chat = self._chat(_Params({"chat_id": reply["chat_id"]}, {}))["id"]
        if message_id is None:
            return None, None
        stored = self._messages.get((target_chat, int(message_id)))
        if stored is None:
            if not allow:
                raise bad_request("message to be replied not found")
            return int(message_id), None
        snapshot = copy.deepcopy(stored)
        snapshot.pop("reply_to_message", None)
        return int(message_id), snapshot

    def _bot_message(
        self,
        chat: JSON,
        params: _Params,
        content: JSON,
        markup: JSON | None,
        reply: JSON | None,
    ) -> JSON:
        """Create, store and return a message sent by the bot."""
        message = self._new_message(chat, self.bot_user)
        thread = params.integer("message_thread_id")
        if thread is not None and chat["type"] == "supergroup":
            message["message_thread_id"] = thread
            message["is_topic_message"] = bool(chat.get("is_forum"))
        if reply is not None:
            message["reply_to_message"] = reply
        message.update(content)
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        self._store(message)
        return message

    def _record_sent(
        self,
        method: str,
        kind: str,
        params: _Params,
        message: JSON,
        files: list[bytes],
        reply_id: int | None,
        markup: JSON | None,
        messages: list[JSON] | None = None,
    ) -> None:
        caption = params.string("caption")
        if messages:  # a media group: the first raw item caption stands for the album
            media = params.parsed("media", "can't parse media JSON object")
            caption = next((m["caption"] for m in media if m.get("caption")), None)
        self.sent.append(
            SentMessage(
                method=method,
                chat_id=message["chat"]["id"],
                message_id=message["message_id"],
                kind=kind,
                text=params.string("text"),
                caption=caption,
                parse_mode=params.string("parse_mode"),
                reply_markup=markup,
                reply_to_message_id=reply_id,
                files=files,
                params=dict(params.values),
                at=time.monotonic(),
                message=copy.deepcopy(message),
                messages=copy.deepcopy(messages or []),
            )
        )
        self._notify()

    # ---------------------------------------------------------------------------- files

    def _new_file_ids(self, kind: str) -> tuple[str, str]:
        prefix = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI"}[kind]
        return prefix + secrets.token_urlsafe(24), "AQAD" + secrets.token_urlsafe(8)

    def _store_file(
        self, kind: str, data: bytes, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        file_id, unique_id = self._new_file_ids(kind)
        number = next(self._file_counter)
        ext = file_name.rpartition(".")[2] if file_name and "." in file_name else "bin"
        folder = "photos" if kind == "photo" else "documents"
        path = f"{folder}/file_{number}.{ext}"
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        stored = StoredFile(
            file_id, unique_id, kind, data, path, file_name=file_name, mime_type=mime_type
        )
        self._files[file_id] = stored
        self._files_by_path[path] = stored
        return stored

    def _store_photo(self, data: bytes) -> StoredFile:
        """Validate and store an image as a photo (Telegram refuses what it can't decode)."""
        if not data:
            raise bad_request("file must be non-empty")
        if len(data) > MAX_PHOTO_BYTES:
            raise bad_request("PHOTO_SAVE_FILE_INVALID")
        info = image_size(data)
        if info is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        fmt, width, height = info
        if width <= 0 or height <= 0 or width + height > 10000:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        if max(width, height) / min(width, height) > 20:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        stored = self._store_file("photo", data, f"photo.{fmt}", f"image/{fmt}")
        stored.width, stored.height = width, height
        return stored

    def _photo_sizes(self, stored: StoredFile) -> list[JSON]:
        """PhotoSize list: scaled thumbnails plus the full size (largest last)."""
        sizes: list[JSON] = []
        longest = max(stored.width, stored.height)
        for limit in (90, 320, 800):
            if longest > limit:
                scale = limit / longest
                thumb = StoredFile(
                    *self._new_file_ids("photo"),
                    kind="photo",
                    data=stored.data,
                    file_path=stored.file_path,
                    width=max(1, round(stored.width * scale)),
                    height=max(1, round(stored.height * scale)),
                    mime_type=stored.mime_type,
                )
                self._files[thumb.file_id] = thumb
                sizes.append(self._photo_size_json(thumb, len(stored.data) * limit // longest))
        sizes.append(self._photo_size_json(stored, len(stored.data)))
        return sizes

    @staticmethod
    def _photo_size_json(stored: StoredFile, size: int) -> JSON:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": stored.width,
            "height": stored.height,
            "file_size": max(size, 1),
        }

    @staticmethod
    def _document_json(stored: StoredFile) -> JSON:
        doc: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            doc["file_name"] = stored.file_name
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        return doc

    async def _fetch_url(self, url: str) -> tuple[bytes, str | None, str | None]:
        """Download a URL like Telegram would; only loopback hosts are really fetched."""
        host = urlsplit(url).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise bad_request(
                "failed to get HTTP URL content (the fake only fetches 127.0.0.1 URLs)"
            )
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                if resp.status != 200:
                    raise bad_request("failed to get HTTP URL content")
                data = await resp.read()
                name = urlsplit(url).path.rpartition("/")[2] or None
                return data, name, resp.content_type
        except aiohttp.ClientError:
            raise bad_request("failed to get HTTP URL content") from None

    async def _input_file(
        self, params: _Params, value: Any, field_name: str, kind: str
    ) -> StoredFile:
        """Resolve an upload, ``attach://`` part, URL or file_id into a stored file."""
        upload = params.uploads.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = params.uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(ERR_WRONG_FILE.removeprefix("Bad Request: "))
        if upload is not None:
            return self._new_upload(kind, upload.data, upload.filename, upload.content_type)
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {kind} in the request")
        if re.match(r"https?://", value):
            data, name, content_type = await self._fetch_url(value)
            if kind == "photo" and image_size(data) is None:
                raise bad_request("wrong type of the web page content")
            return self._new_upload(kind, data, name, content_type)
        stored = self._files.get(value.strip())
        if stored is None:
            raise bad_request(ERR_WRONG_FILE.removeprefix("Bad Request: "))
        if stored.kind != kind:
            raise bad_request(
                f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}"
            )
        return stored

    def _new_upload(
        self, kind: str, data: bytes, file_name: str | None, content_type: str | None
    ) -> StoredFile:
        if kind == "photo":
            return self._store_photo(data)
        if not data:
            raise bad_request("file must be non-empty")
        if len(data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        if content_type in (None, "application/octet-stream") and file_name:
            content_type = mimetypes.guess_type(file_name)[0] or content_type
        return self._store_file("document", data, file_name, content_type)

    # ========================================================================= API methods

    @_api("getMe")
    async def _get_me(self, params: _Params) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @_api("logOut")
    async def _log_out(self, params: _Params) -> bool:
        return True

    @_api("close")
    async def _close(self, params: _Params) -> bool:
        return True

    @_api("setWebhook")
    async def _set_webhook(self, params: _Params) -> bool:
        url = params.string("url") or ""
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        return True

    @_api("deleteWebhook")
    async def _delete_webhook(self, params: _Params) -> bool:
        self.webhook_url = ""
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        return True

    @_api("getWebhookInfo")
    async def _get_webhook_info(self, params: _Params) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    # ---------------------------------------------------------------------------- updates

    @_api("getUpdates")
    async def _get_updates(self, params: _Params) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(409, ERR_CONFLICT_WEBHOOK)
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        allowed = params.parsed("allowed_updates", "can't parse allowed_updates JSON array")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll ends with 409 Conflict
        self._confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, ERR_CONFLICT_POLL)
            batch = self._take(limit)
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def _confirm(self, offset: int | None) -> None:
        """Forget confirmed updates (``update_id < offset``), as Telegram does."""
        if offset is None or offset == 0:
            return
        if offset < 0:
            self._pending = self._pending[offset:]
            return
        self._pending = [
            p
            for p in self._pending
            if p.update["update_id"] >= offset or (p.redelivered and not p.delivered)
        ]

    def _take(self, limit: int) -> list[JSON]:
        """Up to ``limit`` pending updates of allowed types, in update_id order."""
        self._pending = [p for p in self._pending if self._allowed(p.update)]
        chosen = sorted(self._pending, key=lambda p: p.update["update_id"])[:limit]
        for pending in chosen:
            pending.delivered = True
        if chosen:
            self._notify()
        return [copy.deepcopy(p.update) for p in chosen]

    def _allowed(self, update: JSON) -> bool:
        kinds = [k for k in update if k != "update_id"]
        return any(k in self._allowed_updates for k in kinds)

    # ------------------------------------------------------------------------- sending

    @_api("sendMessage")
    async def _send_message(self, params: _Params) -> JSON:
        chat = self._chat(params)
        text, entities = self._formatted(params, "text", required=True)
        markup = self._reply_markup(params)
        reply_id, reply = self._reply_target(params, chat)
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        preview = params.parsed("link_preview_options", "can't parse link preview options")
        if isinstance(preview, dict):
            content["link_preview_options"] = preview
        message = self._bot_message(chat, params, content, markup, reply)
        self._record_sent("sendMessage", "text", params, message, [], reply_id, markup)
        return message

    @_api("sendPhoto")
    async def _send_photo(self, params: _Params) -> JSON:
        chat = self._chat(params)
        caption, entities = self._formatted(params, "caption", required=False)
        markup = self._reply_markup(params)
        reply_id, reply = self._reply_target(params, chat)
        stored = await self._input_file(params, params.values.get("photo"), "photo", "photo")
        content: JSON = {"photo": self._photo_sizes(stored)}
        self._add_caption(content, caption, entities, params)
        message = self._bot_message(chat, params, content, markup, reply)
        self._record_sent("sendPhoto", "photo", params, message, [stored.data], reply_id, markup)
        return message

    @_api("sendDocument")
    async def _send_document(self, params: _Params) -> JSON:
        chat = self._chat(params)
        caption, entities = self._formatted(params, "caption", required=False)
        markup = self._reply_markup(params)
        reply_id, reply = self._reply_target(params, chat)
        value = params.values.get("document")
        stored = await self._input_file(params, value, "document", "document")
        content: JSON = {"document": self._document_json(stored)}
        self._add_caption(content, caption, entities, params)
        message = self._bot_message(chat, params, content, markup, reply)
        self._record_sent(
            "sendDocument", "document", params, message, [stored.data], reply_id, markup
        )
        return message

    @staticmethod
    def _add_caption(
        content: JSON, caption: str | None, entities: list[JSON], params: _Params
    ) -> None:
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
            if params.flag("show_caption_above_media"):
                content["show_caption_above_media"] = True
        if params.flag("has_spoiler"):
            content["has_media_spoiler"] = True

    @_api("sendMediaGroup")
    async def _send_media_group(self, params: _Params) -> list[JSON]:
        chat = self._chat(params)
        media = params.parsed("media", "can't parse media JSON object")
        if not isinstance(media, list) or not media:
            raise bad_request("there are no messages to send")
        if len(media) > 10:
            raise bad_request("too many messages to send as an album")
        if len(media) < 2:
            raise bad_request("media group must include 2-10 items (Bot API documentation)")
        kinds = {item.get("type") if isinstance(item, dict) else None for item in media}
        if not kinds <= {"photo", "document"}:
            raise bad_request(f"unsupported media type in the fake: {sorted(map(str, kinds))}")
        if "document" in kinds and len(kinds) > 1:
            raise bad_request("document can't be mixed with other media types")
        for key in ("reply_markup",):
            if params.has(key):
                self.ignored_params.append(("sendMediaGroup", key))
        reply_id, reply = self._reply_target(params, chat)
        prepared = [await self._media_item(params, item) for item in media]
        group_id = str(13_000_000_000_000_000 + next(self._group_counter))
        messages: list[JSON] = []
        for content in prepared:
            content["media_group_id"] = group_id
            messages.append(self._bot_message(chat, params, content, None, reply))
        files = [self._content_bytes(content) for content in prepared]
        self._record_sent(
            "sendMediaGroup", "media_group", params, messages[0], files, reply_id, None, messages
        )
        return messages

    async def _media_item(self, params: _Params, item: JSON) -> JSON:
        """Validate one InputMedia and build its message content."""
        sub = _Params(
            {
                "caption": item.get("caption"),
                "parse_mode": item.get("parse_mode"),
                "caption_entities": item.get("caption_entities"),
            },
            {},
        )
        caption, entities = self._formatted(sub, "caption", required=False)
        kind = item["type"]
        stored = await self._input_file(params, item.get("media"), f"__media_{kind}", kind)
        content: JSON
        if kind == "photo":
            content = {"photo": self._photo_sizes(stored)}
        else:
            content = {"document": self._document_json(stored)}
        self._add_caption(content, caption, entities, _Params(item, {}))
        return content

    def _content_bytes(self, content: JSON) -> bytes:
        media = content["photo"][-1] if "photo" in content else content["document"]
        return self._files[media["file_id"]].data

    @_api("sendChatAction")
    async def _send_chat_action(self, params: _Params) -> bool:
        chat = self._chat(params)
        action = params.string("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat["id"], action))
        return True

    # ------------------------------------------------------------------------- editing

    def _editable(self, params: _Params) -> JSON:
        """The stored bot message an edit request targets."""
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID (inline messages are not faked)")
        chat = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        stored = self._messages.get((chat["id"], message_id))
        if stored is None:
            raise bad_request("message to edit not found")
        if stored.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        return stored

    def _apply_edit(
        self, method: str, params: _Params, stored: JSON, changes: JSON, markup: JSON | None
    ) -> JSON:
        """Apply ``changes`` (None values delete keys) or fail with "not modified"."""
        updated = copy.deepcopy(stored)
        for key, value in changes.items():
            if value is None:
                updated.pop(key, None)
            else:
                updated[key] = value
        if markup is not None and "inline_keyboard" in markup:
            updated["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        else:
            updated.pop("reply_markup", None)
        if updated == stored:
            raise bad_request(ERR_NOT_MODIFIED.removeprefix("Bad Request: "))
        updated["edit_date"] = int(time.time())
        stored.clear()
        stored.update(updated)
        self.edits.append(
            SentMessage(
                method=method,
                chat_id=stored["chat"]["id"],
                message_id=stored["message_id"],
                kind=method,
                text=params.string("text"),
                caption=params.string("caption"),
                parse_mode=params.string("parse_mode"),
                reply_markup=markup,
                reply_to_message_id=None,
                files=[],
                params=dict(params.values),
                at=time.monotonic(),
                message=copy.deepcopy(stored),
            )
        )
        self._notify()
        return copy.deepcopy(stored)

    @_api("editMessageText")
    async def _edit_message_text(self, params: _Params) -> JSON:
        stored = self._editable(params)
        text, entities = self._formatted(params, "text", required=True)
        markup = self._reply_markup(params)
        if "text" not in stored:
            raise bad_request("there is no text in the message to edit")
        changes: JSON = {"text": text, "entities": entities or None}
        return self._apply_edit_keeping_date("editMessageText", params, stored, changes, markup)

    @_api("editMessageCaption")
    async def _edit_message_caption(self, params: _Params) -> JSON:
        stored = self._editable(params)
        caption, entities = self._formatted(params, "caption", required=False)
        markup = self._reply_markup(params)
        if "text" in stored:
            raise bad_request("there is no caption in the message to edit")
        changes: JSON = {"caption": caption, "caption_entities": entities or None}
        return self._apply_edit_keeping_date("editMessageCaption", params, stored, changes, markup)

    @_api("editMessageReplyMarkup")
    async def _edit_message_reply_markup(self, params: _Params) -> JSON:
        stored = self._editable(params)
        markup = self._reply_markup(params)
        return self._apply_edit_keeping_date("editMessageReplyMarkup", params, stored, {}, markup)

    def _apply_edit_keeping_date(
        self, method: str, params: _Params, stored: JSON, changes: JSON, markup: JSON | None
    ) -> JSON:
        """Compare without ``edit_date`` so a second identical edit is "not modified"."""
        edit_date = stored.pop("edit_date", None)
        try:
            return self._apply_edit(method, params, stored, changes, markup)
        except ApiError:
            if edit_date is not None:
                stored["edit_date"] = edit_date
            raise

    @_api("deleteMessage")
    async def _delete_message(self, params: _Params) -> bool:
        chat = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        stored = self._messages.get((chat["id"], message_id))
        if stored is None:
            raise bad_request("message to delete not found")
        own = stored.get("from", {}).get("id") == self.bot_id
        if chat["type"] != "private" and not own and not self._is_admin(chat["id"], self.bot_id):
            raise bad_request("message can't be deleted")
        del self._messages[(chat["id"], message_id)]
        self.deleted.append((chat["id"], message_id))
        self._notify()
        return True

    # -------------------------------------------------------------------- callback queries

    @_api("answerCallbackQuery")
    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.string("callback_query_id") or ""
        query = self._callbacks.get(query_id)
        if query is None or query["answered"]:
            raise bad_request(ERR_QUERY_INVALID.removeprefix("Bad Request: "))
        if time.monotonic() - query["at"] > self.callback_answer_timeout:
            raise bad_request(ERR_QUERY_INVALID.removeprefix("Bad Request: "))
        text = params.string("text") or ""
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers.append(dict(params.values))
        self._notify()
        return True

    # ---------------------------------------------------------------------------- files

    @_api("getFile")
    async def _get_file(self, params: _Params) -> JSON:
        file_id = params.string("file_id")
        if not file_id:
            raise bad_request("file_id not specified")
        stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        self._files_by_path.setdefault(stored.file_path, stored)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # ---------------------------------------------------------------------------- commands

    def _scope_key(self, params: _Params) -> tuple[str, str]:
        """(scope key, language) e.g. ("default", ""), ("chat:-100", "en")."""
        scope = params.parsed("scope", "can't parse BotCommandScope JSON object") or {
            "type": "default"
        }
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            key = kind
        elif kind in ("chat", "chat_administrators"):
            key = f"{kind}:{scope.get('chat_id')}"
        elif kind == "chat_member":
            key = f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
        else:
            raise bad_request("wrong BotCommandScope type specified")
        language = params.string("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return key, language

    @_api("setMyCommands")
    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.parsed("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            description = str(command.get("description", "")).strip()
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(params)
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True

    @_api("getMyCommands")
    async def _get_my_commands(self, params: _Params) -> list[JSON]:
        return copy.deepcopy(self.commands.get(self._scope_key(params), []))

    @_api("deleteMyCommands")
    async def _delete_my_commands(self, params: _Params) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    # ------------------------------------------------------------------------ chats/members

    @_api("getChat")
    async def _get_chat(self, params: _Params) -> JSON:
        chat = self._chat(params)
        return {
            **copy.deepcopy(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _member_json(self, chat: JSON, user_id: int) -> JSON:
        """A ChatMember for ``user_id`` in ``chat``."""
        user = self.bot_user if user_id == self.bot_id else self._users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if chat["type"] == "private":
            if user_id not in (chat["id"], self.bot_id):
                raise bad_request("user not found")
            return {"status": "member", "user": copy.deepcopy(user)}
        if self._owners.get(chat["id"]) == user_id:
            return {"status": "creator", "user": copy.deepcopy(user), "is_anonymous": False}
        if self._is_admin(chat["id"], user_id):
            return self._admin_json(user)
        if user_id == self.bot_id or user_id in self._members.get(chat["id"], set()):
            return {"status": "member", "user": copy.deepcopy(user)}
        return {"status": "left", "user": copy.deepcopy(user)}

    @staticmethod
    def _admin_json(user: JSON) -> JSON:
        rights = (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
        )
        member: JSON = {
            "status": "administrator",
            "user": copy.deepcopy(user),
            "can_be_edited": False,
            "is_anonymous": False,
            "can_promote_members": False,
        }
        member.update(dict.fromkeys(rights, True))
        return member

    @_api("getChatMember")
    async def _get_chat_member(self, params: _Params) -> JSON:
        chat = self._chat(params)
        user_id = params.integer("user_id")
        if user_id is None:
            raise bad_request("invalid user_id specified")
        return self._member_json(chat, user_id)

    @_api("getChatAdministrators")
    async def _get_chat_administrators(self, params: _Params) -> list[JSON]:
        chat = self._chat(params)
        if chat["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = sorted(self._admins.get(chat["id"], set()))
        return [self._member_json(chat, user_id) for user_id in admins]
