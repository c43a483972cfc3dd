"""The Discord command surface: slash commands, their options, zh-CN localisations, buttons.

Declarations only: every callback hands the interaction to `Handlers`
(bots/discord_handlers.py), reached through `interaction.client.handlers`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import Choice, Range
from discord.app_commands import locale_str as L

from core.params import SCALE_MAX, SCALE_MIN, SEED_MAX, STEPS_MAX, STEPS_MIN

if TYPE_CHECKING:
    from bots.discord_handlers import Handlers

SIZES = {
    "512x512": "1:1",
    "768x768": "1:1",
    "768x512": "3:2",
    "512x768": "2:3",
    "768x432": "16:9",
    "432x768": "9:16",
    "768x576": "4:3",
    "576x768": "3:4",
}

# English text -> Simplified Chinese, for names (lowercase, no spaces) and descriptions.
ZH_CN = {
    "draw": "画图",
    "Draw a picture with Jimeng 2.1": "用即梦 2.1 画一张图",
    "prompt": "提示词",
    "What to draw (--flags such as --size 768x512 work here too)": (
        "要画什么(也可以直接写 --size 768x512 等选项)"
    ),
    "size": "尺寸",
    "Width x height, each 256–768, e.g. 768x512": "宽x高,各 256–768,例如 768x512",
    "seed": "种子",
    "Seed, to reproduce an image (default: random)": "种子,用于复现图片(默认随机)",
    "steps": "步数",
    "Sampling steps, 1–200 (default 25)": "采样步数 1–200(默认 25)",
    "scale": "相关性",
    "How closely to follow the prompt, 1–10 (default 3.5)": "贴合提示词的程度 1–10(默认 3.5)",
    "expand": "扩写",
    "Let the model expand the prompt (default on)": "让模型扩写提示词(默认开启)",
    "super_res": "超分",
    "Super-resolution: output twice the size (default on)": "超分辨率:输出放大一倍(默认开启)",
    "watermark": "水印",
    "Mark the image with this text": "用这段文字作水印",
    "no_watermark": "无水印",
    "Leave the image unmarked": "不加水印",
    "redo": "重画",
    "Draw one of your pictures again with the same seed": "用相同种子重画你的一张图",
    "id": "编号",
    "Number of the drawing (see /history); default: your last": (
        "作品编号(见 /history),默认最近一张"
    ),
    "original": "原图",
    "Send one of your pictures again, free": "免费重新发送你的一张原图",
    "Number of the drawing (see /history)": "作品编号(见 /history)",
    "each member here": "本服务器每位成员",
    "cooldown seconds here": "本服务器两次画图间隔(秒)",
    "history": "历史",
    "Your recent drawings": "你最近的作品",
    "quota": "额度",
    "How many images you have left today": "今天还剩多少张",
    "help": "帮助",
    "How to use the bot": "使用说明",
    "forget": "删除记录",
    "Delete your prompts and images": "删除你的提示词和图片",
    "admin": "管理",
    "Bot administration": "机器人管理",
    "ban": "封禁",
    "Stop a user from drawing": "禁止某用户画图",
    "unban": "解封",
    "Let a user draw again": "允许某用户重新画图",
    "user": "用户",
    "The user": "用户",
    "reason": "原因",
    "Why (kept in the database)": "原因(记录在数据库中)",
    "limit": "限额",
    "Set a daily limit for a user or this server": "设置用户或本服务器的每日限额",
    "scope": "范围",
    "A user or this server": "用户或本服务器",
    "this server": "本服务器",
    "value": "数值",
    "Images per day, or 'default'": "每日张数,或 default",
    "enable": "开启",
    "Turn drawing on in this server": "在本服务器开启画图",
    "disable": "关闭",
    "Turn drawing off in this server": "在本服务器关闭画图",
    "chatwatermark": "服务器水印",
    "This server's default watermark": "本服务器的默认水印",
    "mode": "模式",
    "on, off, or back to the bot's default": "开、关或恢复机器人默认",
    "on": "开",
    "off": "关",
    "default": "默认",
    "text": "文字",
    "Watermark text (up to 50 characters)": "水印文字(最多 50 个字符)",
    "stats": "统计",
    "Usage statistics": "使用统计",
    "balance": "余额",
    "The relay account's balance": "中转账户余额",
}


class Translator(app_commands.Translator):
    """Localises every `locale_str` of the command tree into Simplified Chinese."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is not discord.Locale.chinese:
            return None
        return ZH_CN.get(string.message)


def handlers(interaction: discord.Interaction) -> Handlers:
    return interaction.client.handlers  # type: ignore[attr-defined, no-any-return]


def quoted(text: str) -> str:
    """`text` as one value for parse_draw, in quotes it does not contain."""
    for opening, closing in (('"', '"'), ("“", "”"), ("「", "」"), ("『", "』"), ("'", "'")):
        if closing not in text:
            return f"{opening}{text}{closing}"
    return '"' + text.replace('"', "'") + '"'


def draw_text(
    prompt: str,
    *,
    size: str | None = None,
    seed: int | None = None,
    steps: int | None = None,
    scale: float | None = None,
    expand: bool | None = None,
    super_res: bool | None = None,
    watermark: str | None = None,
    no_watermark: bool | None = None,
) -> str:
    """The options as the `--flags` parse_draw reads; they follow (and so win over) the prompt's."""
    parts = [prompt]
    if size:
        parts += ["--size", size.strip()]
    if seed is not None:
        parts += ["--seed", str(seed)]
    if steps is not None:
        parts += ["--steps", str(steps)]
    if scale is not None:
        parts += ["--scale", f"{scale:g}"]
    if expand is not None:
        parts.append("--expand" if expand else "--no-expand")
    if super_res is not None:
        parts.append("--sr" if super_res else "--no-sr")
    if watermark:
        parts += ["--watermark", quoted(watermark)]
    if no_watermark:
        parts.append("--no-watermark")
    return " ".join(parts)


# -- /draw and the user's own commands -----------------------------------------------------


@app_commands.command(name=L("draw"), description=L("Draw a picture with Jimeng 2.1"))
@app_commands.rename(
    prompt=L("prompt"),
    size=L("size"),
    seed=L("seed"),
    steps=L("steps"),
    scale=L("scale"),
    expand=L("expand"),
    super_res=L("super_res"),
    watermark=L("watermark"),
    no_watermark=L("no_watermark"),
)
@app_commands.describe(
    prompt=L("What to draw (--flags such as --size 768x512 work here too)"),
    size=L("Width x height, each 256–768, e.g. 768x512"),
    seed=L("Seed, to reproduce an image (default: random)"),
    steps=L("Sampling steps, 1–200 (default 25)"),
    scale=L("How closely to follow the prompt, 1–10 (default 3.5)"),
    expand=L("Let the model expand the prompt (default on)"),
    super_res=L("Super-resolution: output twice the size (default on)"),
    watermark=L("Mark the image with this text"),
    no_watermark=L("Leave the image unmarked"),
)
async def draw(
    interaction: discord.Interaction,
    prompt: str,
    size: str | None = None,
    seed: Range[int, 0, SEED_MAX] | None = None,
    steps: Range[int, STEPS_MIN, STEPS_MAX] | None = None,
    scale: Range[float, SCALE_MIN, SCALE_MAX] | None = None,
    expand: bool | None = None,
    super_res: bool | None = None,
    watermark: Range[str, 1, 50] | None = None,
    no_watermark: bool | None = None,
) -> None:
    text = draw_text(
        prompt,
        size=size,
        seed=seed,
        steps=steps,
        scale=scale,
        expand=expand,
        super_res=super_res,
        watermark=watermark,
        no_watermark=no_watermark,
    )
    await handlers(interaction).draw(interaction, text)


@draw.autocomplete("size")
async def size_choices(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
    """Common sizes first; whatever the user typed is offered too (the parser judges it)."""
    typed = current.strip()[:20]
    squeezed = re.sub(r"\s+", "", typed).lower()
    found = [Choice(name=f"{s} ({r})", value=s) for s, r in SIZES.items() if squeezed in s]
    if typed and squeezed not in SIZES:
        found.insert(0, Choice(name=typed, value=typed))
    return found[:25]


@app_commands.command(
    name=L("redo"), description=L("Draw one of your pictures again with the same seed")
)
@app_commands.rename(generation_id=L("id"))
@app_commands.describe(generation_id=L("Number of the drawing (see /history); default: your last"))
async def redo(
    interaction: discord.Interaction, generation_id: Range[int, 1] | None = None
) -> None:
    await handlers(interaction).redo(interaction, generation_id)


@app_commands.command(name=L("original"), description=L("Send one of your pictures again, free"))
@app_commands.rename(generation_id=L("id"))
@app_commands.describe(generation_id=L("Number of the drawing (see /history)"))
async def original(interaction: discord.Interaction, generation_id: Range[int, 1]) -> None:
    await handlers(interaction).original(interaction, generation_id)


def _text_command(name: str, description: str) -> app_commands.Command[Any, Any, None]:
    async def callback(interaction: discord.Interaction) -> None:
        await handlers(interaction).text(interaction, name)

    return app_commands.Command(name=L(name), description=L(description), callback=callback)


USER_COMMANDS: list[app_commands.Command[Any, Any, None]] = [
    draw,
    redo,
    original,
    _text_command("history", "Your recent drawings"),
    _text_command("quota", "How many images you have left today"),
    _text_command("help", "How to use the bot"),
    _text_command("forget", "Delete your prompts and images"),
]

# -- /admin ---------------------------------------------------------------------------------

admin = app_commands.Group(name=L("admin"), description=L("Bot administration"))


def _user_key(user: discord.abc.User) -> str:
    return f"discord:{user.id}"


@admin.command(name=L("ban"), description=L("Stop a user from drawing"))
@app_commands.rename(user=L("user"), reason=L("reason"))
@app_commands.describe(user=L("The user"), reason=L("Why (kept in the database)"))
async def ban(
    interaction: discord.Interaction, user: discord.User, reason: str | None = None
) -> None:
    args = [_user_key(user)] + ([reason] if reason else [])
    await handlers(interaction).admin(interaction, "ban", args)


@admin.command(name=L("unban"), description=L("Let a user draw again"))
@app_commands.rename(user=L("user"))
@app_commands.describe(user=L("The user"))
async def unban(interaction: discord.Interaction, user: discord.User) -> None:
    await handlers(interaction).admin(interaction, "unban", [_user_key(user)])


@admin.command(name=L("limit"), description=L("Set a daily limit for a user or this server"))
@app_commands.rename(scope=L("scope"), value=L("value"), user=L("user"))
@app_commands.describe(
    scope=L("A user or this server"), value=L("Images per day, or 'default'"), user=L("The user")
)
@app_commands.choices(
    scope=[
        Choice(name=L("user"), value="user"),
        Choice(name=L("this server"), value="chat"),
        Choice(name=L("each member here"), value="member"),
        Choice(name=L("cooldown seconds here"), value="cooldown"),
    ]
)
async def limit(
    interaction: discord.Interaction,
    scope: Choice[str],
    value: str,
    user: discord.User | None = None,
) -> None:
    args = [scope.value] + ([_user_key(user)] if user and scope.value == "user" else []) + [value]
    await handlers(interaction).admin(interaction, "limit", args)


@admin.command(name=L("chatwatermark"), description=L("This server's default watermark"))
@app_commands.rename(mode=L("mode"), text=L("text"))
@app_commands.describe(
    mode=L("on, off, or back to the bot's default"), text=L("Watermark text (up to 50 characters)")
)
@app_commands.choices(
    mode=[Choice(name=L(m), value=m) for m in ("on", "off", "default")],
)
async def chatwatermark(
    interaction: discord.Interaction, mode: Choice[str], text: Range[str, 1, 50] | None = None
) -> None:
    args = [mode.value] + ([text] if text else [])
    await handlers(interaction).admin(interaction, "chatwatermark", args)


def _admin_command(name: str, description: str) -> None:
    async def callback(interaction: discord.Interaction) -> None:
        await handlers(interaction).admin(interaction, name, [])

    admin.add_command(
        app_commands.Command(name=L(name), description=L(description), callback=callback)
    )


_admin_command("enable", "Turn drawing on in this server")
_admin_command("disable", "Turn drawing off in this server")
_admin_command("stats", "Usage statistics")
_admin_command("balance", "The relay account's balance")


def install(tree: app_commands.CommandTree[Any]) -> None:
    for command in USER_COMMANDS:
        tree.add_command(command)
    tree.add_command(admin)


# -- buttons --------------------------------------------------------------------------------


class DrawButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"drawbot:(?P<action>again|resize|original):(?P<id>\d+)",
):
    """A result button; the generation id lives in the custom_id, so it works after restarts."""

    def __init__(self, action: str, generation_id: int, label: str | None = None) -> None:
        style = discord.ButtonStyle.primary if action == "again" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"drawbot:{action}:{generation_id}"
            )
        )
        self.action = action
        self.generation_id = generation_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> DrawButton:
        return cls(match["action"], int(match["id"]), getattr(item, "label", None))

    async def callback(self, interaction: discord.Interaction) -> None:
        await handlers(interaction).button(interaction, self.action, self.generation_id)
