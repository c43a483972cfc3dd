"""The zh-CN names and descriptions of the Discord command tree, and its Translator."""

from __future__ import annotations

import discord
from discord import app_commands

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
    "model": "模型",
    "The model to draw with (default: this chat's, see /models)": (
        "用哪个模型画(默认本聊天的,见 /models)"
    ),
    "This chat's model, or choose it (a server's admins)": "查看或设置本聊天的模型(服务器管理员)",
    "name": "名称",
    "The model this chat draws with from now on": "本聊天今后默认使用的模型",
    "models": "模型列表",
    "The models you can draw with": "可用的模型",
    "image": "图片",
    "A picture to edit (with a model that edits pictures)": "要编辑的图片(需可编辑图片的模型)",
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
    "cancel": "取消",
    "Drop your drawings that wait or run (refunded)": "取消排队中或正在生成的图(不扣额度)",
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
    "allowed": "名单",
    "Who may draw in private mode": "私人模式下谁可以画图",
    "blockwords": "屏蔽词列表",
    "The words refused in prompts": "提示词中不允许的词",
    "allow": "允许",
    "Private mode: let a user or server draw": "私人模式:允许某用户或本服务器画图",
    "disallow": "取消允许",
    "Undo an allow": "撤销一次允许",
    "this_server": "本服务器",
    "This server instead of a user": "本服务器(而不是某个用户)",
    "blockword": "屏蔽词",
    "Refuse prompts with this word": "拒绝含有这个词的提示词",
    "unblockword": "取消屏蔽词",
    "Undo a blockword": "撤销一个屏蔽词",
    "word": "词",
    "The word (several separated by commas)": "要屏蔽的词(多个用逗号分隔)",
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
