"""Every sentence a user reads, in Chinese and English, in one table."""

from __future__ import annotations

import re
import string
from typing import Any

LANGUAGES = ("zh", "en")

USAGE_EN = """Usage: /draw <prompt> [options]
  --size WxH       width and height, each 256–768 (default 512x512); also 768×512, 768*512
  --ar W:H         aspect ratio, largest size that fits (e.g. --ar 3:2 → 768x512)
  --seed N         0–2147483647, to reproduce an image (default: random)
  --steps N        1–200 sampling steps (default 25)
  --scale X        1–10, how closely to follow the prompt (default 3.5)
  --no-expand      do not let the model expand the prompt (--expand turns it back on)
  --no-sr          no super-resolution: output at the asked size, not doubled (--sr: on)
  --watermark "T"  mark the image with text T; --no-watermark to leave it unmarked
  --wm-pos tl|tr|bl|br, --wm-opacity 0–1   where and how visible the watermark is
Example: /draw a red fox in the snow, watercolor --size 768x512 --seed 42"""

USAGE_ZH = """用法:/draw <提示词> [选项]
  --size 宽x高      宽、高各 256–768(默认 512x512),也可写 768×512、768*512
  --ar 宽:高        画幅比例,自动取最大尺寸(如 --ar 3:2 → 768x512)
  --seed 数字       0–2147483647,用于复现图片(默认随机)
  --steps 数字      采样步数 1–200(默认 25)
  --scale 数字      1–10,贴合提示词的程度(默认 3.5)
  --no-expand       关闭提示词扩写(--expand 开启)
  --no-sr           关闭超分:按所选尺寸输出,不放大一倍(--sr 开启)
  --watermark "文字"  添加自定义水印;--no-watermark 不加水印
  --wm-pos tl|tr|bl|br、--wm-opacity 0–1   水印位置与不透明度
示例:/draw 雪地里的红狐狸,水彩 --size 768x512 --seed 42"""

TEXTS: dict[str, dict[str, str]] = {
    "usage": {"en": USAGE_EN, "zh": USAGE_ZH},
    "start": {
        "en": "Hi {name}! I draw pictures with Jimeng 2.1.\n\n{usage}\n\n"
        "Other commands: /quota, /history, /redo, /help",
        "zh": "你好,{name}!我用即梦 2.1 画图。\n\n{usage}\n\n"
        "其他命令:/quota、/history、/redo、/help",
    },
    "empty_prompt": {
        "en": "Tell me what to draw.\n\n{usage}",
        "zh": "请告诉我要画什么。\n\n{usage}",
    },
    "unknown_flag": {
        "en": "Unknown option {flag}.{hint} Send /help for every option.",
        "zh": "未知选项 {flag}。{hint}发送 /help 查看全部选项。",
    },
    "unknown_flag_hint": {"en": " Did you mean {suggestion}?", "zh": "你是不是想用 {suggestion}?"},
    "bad_size": {
        "en": "Size {value!r} is not possible: width and height must each be {min}–{max}, "
        "written like --size 768x512.",
        "zh": "尺寸 {value!r} 不可用:宽和高都须在 {min}–{max} 之间,例如 --size 768x512。",
    },
    "bad_ratio": {
        "en": "Aspect ratio {value!r} is not possible: use W:H between 1:3 and 3:1, like --ar 3:2.",
        "zh": "画幅比例 {value!r} 不可用:请用 1:3 到 3:1 之间的 宽:高,例如 --ar 3:2。",
    },
    "bad_number": {
        "en": "{flag} must be from {min} to {max} (got {value!r}).",
        "zh": "{flag} 须在 {min} 到 {max} 之间(收到 {value!r})。",
    },
    "missing_value": {
        "en": "{flag} needs a value. Send /help for details.",
        "zh": "{flag} 后面需要一个值。发送 /help 查看用法。",
    },
    "size_conflict": {
        "en": "Use either --size or --ar, not both.",
        "zh": "--size 和 --ar 只能选一个。",
    },
    "prompt_too_long": {
        "en": "The prompt is {length} characters; the most is {max}. Please shorten it.",
        "zh": "提示词有 {length} 个字符,最多 {max} 个,请精简。",
    },
    "bad_watermark": {
        "en": 'Watermark text must be 1–{max} characters, e.g. --watermark "my bot".',
        "zh": '水印文字须为 1–{max} 个字符,例如 --watermark "我的机器人"。',
    },
    "bad_position": {
        "en": "Watermark position {value!r} is unknown: use tl, tr, bl or br.",
        "zh": "未知的水印位置 {value!r}:请用 tl、tr、bl 或 br。",
    },
    "watermark_locked": {
        "en": "This bot always adds its watermark; the watermark options are turned off here.",
        "zh": "本机器人固定添加水印,此处不能修改水印选项。",
    },
    # refusals before drawing
    "banned": {
        "en": "You are not allowed to draw with this bot.",
        "zh": "你已被禁止使用本机器人画图。",
    },
    "chat_disabled": {
        "en": "Drawing is turned off in this chat. An admin can turn it on with /enable.",
        "zh": "本群已关闭画图。管理员可发送 /enable 开启。",
    },
    "user_daily": {
        "en": "You have used all {limit} images for today. Your quota resets at {reset} ({zone}).",
        "zh": "你今天的 {limit} 张额度已用完,将于 {reset}({zone})重置。",
    },
    "chat_daily": {
        "en": "This chat has used all {limit} images for today. It resets at {reset} ({zone}).",
        "zh": "本群今天的 {limit} 张额度已用完,将于 {reset}({zone})重置。",
    },
    "in_flight": {
        "en": "You already have {limit} drawing(s) in progress. Wait for them to finish.",
        "zh": "你已有 {limit} 张图正在生成,请等它们完成后再试。",
    },
    "cooldown": {
        "en": "Please wait {seconds} s before your next drawing.",
        "zh": "请等待 {seconds} 秒后再画下一张。",
    },
    "shutting_down": {
        "en": "The bot is restarting. Please send your request again in a minute; "
        "nothing was charged.",
        "zh": "机器人正在重启,请稍后重新发送,本次不扣额度。",
    },
    "duplicate": {
        "en": "This message was already handled (drawing #{id}).",
        "zh": "这条消息已经处理过了(作品 #{id})。",
    },
    "unknown": {
        "en": "Drawing is not possible right now. Please try again later.",
        "zh": "暂时无法画图,请稍后再试。",
    },
    # failures of the relay; no quota was used
    "prompt_refused": {
        "en": "The model refused this prompt (content policy). Please rephrase it; "
        "no quota was used.",
        "zh": "提示词未通过内容审核,请修改后重试,本次不扣额度。",
    },
    "output_refused": {
        "en": "The image was blocked by the content filter. Try a different prompt or seed; "
        "no quota was used.",
        "zh": "生成的图片未通过内容审核,请换个提示词或种子重试,本次不扣额度。",
    },
    "busy": {
        "en": "The image service is busy right now. Please try again in a minute; "
        "no quota was used.",
        "zh": "绘图服务繁忙,请一分钟后重试,本次不扣额度。",
    },
    "internal": {
        "en": "The image service had an internal error. Please try again; no quota was used.",
        "zh": "绘图服务内部出错,请重试,本次不扣额度。",
    },
    "unreachable": {
        "en": "The image service did not answer in time. Please try again later; "
        "no quota was used.",
        "zh": "绘图服务没有及时响应,请稍后重试,本次不扣额度。",
    },
    "bad_key": {
        "en": "The bot is misconfigured (its image service key was rejected). "
        "The operator has been told; no quota was used.",
        "zh": "机器人配置有误(绘图服务密钥无效),已通知管理员,本次不扣额度。",
    },
    "no_balance": {
        "en": "The bot's image service account is out of balance. The operator has been told; "
        "no quota was used.",
        "zh": "机器人的绘图服务余额不足,已通知管理员,本次不扣额度。",
    },
    "bad_request": {
        "en": "The image service rejected these parameters. Please check them (/help); "
        "no quota was used.",
        "zh": "绘图服务拒绝了这些参数,请检查(/help),本次不扣额度。",
    },
    "no_image": {
        "en": "The image service returned no image. Please try again; no quota was used.",
        "zh": "绘图服务没有返回图片,请重试,本次不扣额度。",
    },
    "image": {
        "en": "The image could not be downloaded. Please try again; no quota was used.",
        "zh": "图片下载失败,请重试,本次不扣额度。",
    },
    "interrupted": {
        "en": "Your drawing was interrupted by a restart. Please send it again; no quota was used.",
        "zh": "机器人重启打断了你的绘图,请重新发送,本次不扣额度。",
    },
    "error": {
        "en": "Something went wrong while drawing. Please try again; no quota was used.",
        "zh": "画图时出错了,请重试,本次不扣额度。",
    },
    "refund_delayed": {
        "en": "Your drawing failed. It will not count against your quota, but the bot cannot "
        "record that right now, so /quota may count it for a few minutes.",
        "zh": "这次画图失败了,不会计入额度;但暂时无法记录,/quota 可能在几分钟内仍显示已用。",
    },
    "send_failed": {
        "en": "Picture #{id} was drawn but could not be sent here, so it did not count. "
        "It is kept: /original {id} sends it again, free.",
        "zh": "作品 #{id} 已生成但发送失败,不计入额度。"
        "图片已保存:发送 /original {id} 可免费重新获取。",
    },
    "too_large": {
        "en": "Image {n} ({size:.1f} MB) is over the {limit:.0f} MB upload limit here "
        "and could not be attached.",
        "zh": "第 {n} 张图({size:.1f} MB)超过此处 {limit:.0f} MB 的上传上限,无法附上。",
    },
    "too_large_link": {
        "en": "Image {n} ({size:.1f} MB) is over the {limit:.0f} MB upload limit here; "
        "it is at {url} for about a day.",
        "zh": "第 {n} 张图({size:.1f} MB)超过此处 {limit:.0f} MB 的上传上限,"
        "可在约一天内从 {url} 查看。",
    },
    # results and views
    "drawing": {"en": "Drawing… ({size})", "zh": "正在画图…({size})"},
    "caption": {
        "en": "{prompt}\n{size} · seed {seed} · #{id}",
        "zh": "{prompt}\n{size} · 种子 {seed} · #{id}",
    },
    "button_again": {"en": "🎲 Again", "zh": "🎲 再画一张"},
    "button_resize": {"en": "↔ Same seed, {size}", "zh": "↔ 同种子 {size}"},
    "button_original": {"en": "📄 Original file", "zh": "📄 原图"},
    "quota": {
        "en": "Today you have received {used} of {limit} images; {left} left. "
        "Resets at {reset} ({zone}).",
        "zh": "今天已生成 {used}/{limit} 张,剩余 {left} 张,将于 {reset}({zone})重置。",
    },
    "quota_unlimited": {
        "en": "Today you have received {used} images; there is no daily limit.",
        "zh": "今天已生成 {used} 张,没有每日上限。",
    },
    "quota_chat": {
        "en": "This chat: {used} of {limit} images today.",
        "zh": "本群今天:{used}/{limit} 张。",
    },
    "history_empty": {
        "en": "You have no drawings yet. Try /draw a cat in a spacesuit",
        "zh": "你还没有作品。试试 /draw 穿宇航服的猫",
    },
    "history_title": {"en": "Your recent drawings:", "zh": "你最近的作品:"},
    "history_line": {
        "en": "#{id} {when} · {status} · {size} · seed {seed}\n   {prompt}",
        "zh": "#{id} {when} · {status} · {size} · 种子 {seed}\n   {prompt}",
    },
    "history_hint": {
        "en": "/original <number> sends one again (free); /redo <number> draws it again "
        "with the same seed; /redo alone redraws your last.",
        "zh": "/original <编号> 免费重新发送原图;/redo <编号> 用相同种子重画;"
        "只发 /redo 重画最近一张。",
    },
    "status_reserved": {"en": "waiting", "zh": "排队中"},
    "status_generating": {"en": "drawing", "zh": "生成中"},
    "status_generated": {"en": "sending", "zh": "发送中"},
    "status_delivered": {"en": "done", "zh": "完成"},
    "status_failed": {"en": "failed", "zh": "失败"},
    "status_interrupted": {"en": "interrupted", "zh": "中断"},
    "not_found": {
        "en": "Drawing #{id} was not found (or is not yours).",
        "zh": "找不到作品 #{id}(或不属于你)。",
    },
    "bad_id": {
        "en": "{value!r} is not the number of a drawing. Write /{command} 12 with a number "
        "from /history.",
        "zh": "{value!r} 不是作品编号。请写 /{command} 12,编号见 /history。",
    },
    "nothing_to_redo": {
        "en": "There is nothing to redo yet. Draw something first with /draw.",
        "zh": "还没有可以重画的作品,先用 /draw 画一张吧。",
    },
    "prompt_gone": {
        "en": "The prompt of drawing #{id} is no longer kept, so it cannot be drawn again.",
        "zh": "作品 #{id} 的提示词已不再保存,无法重画。",
    },
    "image_gone": {
        "en": "The file of drawing #{id} is no longer kept. Use /redo {id} to draw it again.",
        "zh": "作品 #{id} 的文件已不再保存,可用 /redo {id} 重新生成。",
    },
    "forgotten": {
        "en": "Done: your prompts and images are deleted ({count} drawings). "
        "Usage counts stay, so quotas stay exact.",
        "zh": "已删除你的提示词和图片({count} 条记录)。用量计数保留,以保证额度准确。",
    },
    "not_admin": {
        "en": "Only the bot's admins can do that.",
        "zh": "只有机器人管理员可以这样做。",
    },
    "admin_done": {"en": "Done: {what}.", "zh": "已完成:{what}。"},
    "admin_limit_usage": {
        "en": "Write it as {p}limit user <user> <n|default>, {p}limit chat <n|default> "
        "(images per day in this chat), {p}limit member <n|default> (per user in this chat) "
        "or {p}limit cooldown <seconds|default>.",
        "zh": "请写作 {p}limit user <用户> <数量|default>、"
        "{p}limit chat <数量|default>(本群每日总量)、"
        "{p}limit member <数量|default>(本群每人每日)或 "
        "{p}limit cooldown <秒数|default>。",
    },
    "admin_watermark_usage": {
        "en": "Write it as {p}chatwatermark on|off|default [text].",
        "zh": "请写作 {p}chatwatermark on|off|default [文字]。",
    },
    "admin_name_user": {
        "en": "Name a user: an id like 12345, or reply to their message.",
        "zh": "请指明用户:写出 ID(如 12345),或回复其消息。",
    },
    "admin_not_user": {
        "en": "{value!r} is not a user id: use a number like 12345, "
        "or telegram:12345 / discord:12345.",
        "zh": "{value!r} 不是用户 ID:请写数字(如 12345),或 telegram:12345 / discord:12345。",
    },
    "admin_not_number": {
        "en": "{value!r} is not a number from 0 to {max}; use a whole number or 'default'.",
        "zh": "{value!r} 不是 0 到 {max} 之间的整数;请写整数或 default。",
    },
    "admin_usage": {
        "en": "Admin commands:\n"
        "{p}ban <user> [reason], {p}unban <user>\n"
        "{p}limit user <user> <n|default>  (admins)\n"
        "{p}limit chat|member|cooldown <n|default>  (this chat: its images per day, "
        "each member's, seconds between draws)\n"
        "{p}enable, {p}disable (drawing in this chat)\n"
        "{p}chatwatermark on|off|default [text]\n"
        "{p}stats, {p}balance\n"
        "<user> is an id like 12345 or telegram:12345 / discord:12345, or reply to their message.",
        "zh": "管理命令:\n"
        "{p}ban <用户> [原因]、{p}unban <用户>\n"
        "{p}limit user <用户> <数量|default>(管理员)\n"
        "{p}limit chat|member|cooldown <数量|default>(本群:每日总量、每人每日、两次间隔秒数)\n"
        "{p}enable、{p}disable(本群画图开关)\n"
        "{p}chatwatermark on|off|default [文字]\n"
        "{p}stats、{p}balance\n"
        "<用户> 可写 12345 或 telegram:12345 / discord:12345,也可回复其消息。",
    },
    "stats": {
        "en": "Today: {today} images, {today_failed} failed. Last 7 days: {week} images, "
        "{week_failed} failed.\nFailures by cause: {failures}\nTop users: {top}\n"
        "Mean relay time: {mean}\nKnown users: {users}",
        "zh": "今天:{today} 张,失败 {today_failed} 次。近 7 天:{week} 张,失败 {week_failed} 次。\n"
        "失败原因:{failures}\n活跃用户:{top}\n平均生成耗时:{mean}\n用户总数:{users}",
    },
    "balance": {
        "en": "Relay balance: {remaining:.2f} left of {total:.2f} (used {used:.2f}).",
        "zh": "中转余额:剩余 {remaining:.2f}(总额 {total:.2f},已用 {used:.2f})。",
    },
    "balance_unknown": {
        "en": "This relay does not report its balance.",
        "zh": "该中转站不提供余额查询。",
    },
    "admin_alert_bad_key": {
        "en": "⚠️ The relay rejected the API key (YUNAPI_API_KEY). Draws fail until it is fixed.",
        "zh": "⚠️ 中转站拒绝了 API 密钥(YUNAPI_API_KEY),修复前画图都会失败。",
    },
    "admin_alert_no_balance": {
        "en": "⚠️ The relay account is out of balance. Draws fail until it is topped up.",
        "zh": "⚠️ 中转账户余额不足,充值前画图都会失败。",
    },
}


def language(code: str | None, default: str = "zh") -> str:
    """`zh` for any Chinese locale, `en` for any other known one, else the default."""
    if not code:
        return default
    return "zh" if code.lower().startswith("zh") else "en"


class MessageError(LookupError):
    """A sentence asked for by a key not in TEXTS, or without a value its template needs."""


def placeholders(template: str) -> set[str]:
    """The names a template fills in: `{id}`, `{size:.1f}` and `{value!r}` give id, size, value."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            names.add(re.split(r"[.\[]", name, maxsplit=1)[0])
    return names


def text(key: str, lang: str, **values: Any) -> str:
    """The sentence `key` in `lang` (English for an unknown language), filled with `values`;
    `usage` is always available. Raises MessageError naming the key and what is missing."""
    entry = TEXTS.get(key)
    if entry is None:
        raise MessageError(f"there is no message {key!r}")
    template = entry.get(lang) or entry["en"]
    values.setdefault("usage", TEXTS["usage"].get(lang, USAGE_EN))
    missing = sorted(placeholders(template) - values.keys())
    if missing:
        needed = ", ".join(f"{{{name}}}" for name in missing)
        raise MessageError(f"message {key!r} ({lang}) was given no value for {needed}")
    try:
        return template.format(**values)
    except (IndexError, ValueError, TypeError, AttributeError, KeyError) as exc:
        raise MessageError(f"message {key!r} ({lang}) cannot be filled: {exc}") from exc
