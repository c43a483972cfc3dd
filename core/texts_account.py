"""Sentences about one's account and the bot's administration: quota, history, the queue,
admin commands, statistics, alerts. Part of the table in core/messages.py."""

from __future__ import annotations

ACCOUNT_TEXTS: dict[str, dict[str, str]] = {
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
    # the same where models cost different numbers of units per image (MODELS_FILE)
    "quota_units": {
        "en": "Today you have used {used} of {limit} units; {left} left. Each model costs "
        "its own number of units per image (/models). Resets at {reset} ({zone}).",
        "zh": "今天已用 {used}/{limit} 点额度,剩余 {left} 点;不同模型每张消耗不同(/models)。"
        "将于 {reset}({zone})重置。",
    },
    "quota_units_unlimited": {
        "en": "Today you have used {used} units; there is no daily limit.",
        "zh": "今天已用 {used} 点额度,没有每日上限。",
    },
    "quota_chat_units": {
        "en": "This chat: {used} of {limit} units today.",
        "zh": "本群今天:{used}/{limit} 点额度。",
    },
    "history_empty": {
        "en": "You have no drawings yet. Try /draw a cat in a spacesuit",
        "zh": "你还没有作品。试试 /draw 穿宇航服的猫",
    },
    "history_title": {"en": "Your recent drawings:", "zh": "你最近的作品:"},
    "history_line": {
        "en": "#{id} {when} · {status} · {model}{size} · seed {seed}\n   {prompt}",
        "zh": "#{id} {when} · {status} · {model}{size} · 种子 {seed}\n   {prompt}",
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
        "Images by model, last 7 days: {models}\n"
        "Mean relay time: {mean}\nKnown users: {users}\n"
        "Relay window: {window} at once (at most {ceiling}); {pushbacks} push-backs, "
        "{waiting} waiting now.",
        "zh": "今天:{today} 张,失败 {today_failed} 次。近 7 天:{week} 张,失败 {week_failed} 次。\n"
        "失败原因:{failures}\n活跃用户:{top}\n近 7 天各模型张数:{models}\n"
        "平均生成耗时:{mean}\n用户总数:{users}\n"
        "并发窗口:{window}(上限 {ceiling});被限流 {pushbacks} 次,当前排队 {waiting}。",
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
    # the queue
    "queued": {
        "en": "⏳ You are #{position} in the queue; about {wait} s to go.",
        "zh": "⏳ 你排在第 {position} 位,预计还需约 {wait} 秒。",
    },
    "drawing_for": {
        "en": "🎨 Drawing… ({size}) {elapsed} s so far; it usually takes about {usual} s.",
        "zh": "🎨 正在画图…({size})已 {elapsed} 秒,通常约需 {usual} 秒。",
    },
    "button_cancel": {"en": "✖ Cancel", "zh": "✖ 取消"},
    "cancelled": {
        "en": "Drawing #{id} was cancelled; no quota was used.",
        "zh": "作品 #{id} 已取消,本次不扣额度。",
    },
    "cancel_done": {
        "en": "Cancelled {count} drawing(s); no quota was used.",
        "zh": "已取消 {count} 张图,不扣额度。",
    },
    "nothing_to_cancel": {
        "en": "You have no drawing waiting or in progress.",
        "zh": "你没有排队中或正在生成的图。",
    },
    "cancel_not_yours": {
        "en": "Only the person who asked for this drawing can cancel it.",
        "zh": "只有发起这张图的人可以取消它。",
    },
}
