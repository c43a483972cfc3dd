"""The command menu (setMyCommands): the one place in the adapter that names commands.

The replies themselves, and what each command does, are core's."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

log = logging.getLogger(__name__)

MENU = {
    "en": [
        ("draw", "Draw a picture: /draw <prompt> --size 768x512"),
        ("redo", "Draw one of yours again: /redo [number]"),
        ("original", "Send one of yours again, free: /original <number>"),
        ("cancel", "Drop your drawings that wait or run (refunded)"),
        ("models", "The models you can draw with"),
        ("model", "This chat's model, or choose it: /model <name>"),
        ("history", "Your recent drawings"),
        ("quota", "How many images you have left today"),
        ("help", "Every command; /help draw for every option"),
        ("forget", "Delete your prompts and images"),
    ],
    "zh": [
        ("draw", "画图:/draw <提示词> --size 768x512"),
        ("redo", "重画你的作品:/redo [编号]"),
        ("original", "免费重新发送原图:/original <编号>"),
        ("cancel", "取消排队中或正在生成的图(不扣额度)"),
        ("models", "可用的模型"),
        ("model", "查看或设置本聊天的模型:/model <名称>"),
        ("history", "你最近的作品"),
        ("quota", "今天还剩多少张"),
        ("help", "全部命令;/help draw 查看画图选项"),
        ("forget", "删除你的提示词和图片"),
    ],
}


async def register_commands(bot: Bot) -> None:
    """The command menu in English (default) and Chinese (`zh` clients)."""
    for lang, code in (("en", None), ("zh", "zh")):
        commands = [BotCommand(name, text) for name, text in MENU[lang]]
        try:
            await bot.set_my_commands(commands, language_code=code)
        except TelegramError as error:
            log.warning("setMyCommands (%s) failed: %s", lang, error)
