"""Sentences about talking to the bot: the command list of /help and /start, unknown commands,
and what is true to say when the image service cannot be reached or used.

Part of the table in core/messages.py. `cmd_<name>` is the one line /help and /start show for
the user command `<name>` of core/front.py's COMMANDS."""

from __future__ import annotations

CHAT_TEXTS: dict[str, dict[str, str]] = {
    # one line per user command, in COMMANDS order
    "cmd_draw": {
        "en": "/draw <prompt> [options]: draw a picture (/help draw lists the options)",
        "zh": "/draw <提示词> [选项]:画一张图(/help draw 查看全部选项)",
    },
    "cmd_redo": {
        "en": "/redo [number]: your last drawing again with the same seed (or drawing #number)",
        "zh": "/redo [编号]:用相同种子重画最近一张(或指定编号的作品)",
    },
    "cmd_original": {
        "en": "/original <number>: the file of a drawing again, free",
        "zh": "/original <编号>:免费重新获取作品原图",
    },
    "cmd_cancel": {
        "en": "/cancel: stop your drawings that wait or run; they do not count",
        "zh": "/cancel:取消你排队中或正在生成的图,不扣额度",
    },
    "cmd_model": {
        "en": "/model [name]: this chat's model, or choose it (a group's admins)",
        "zh": "/model [名称]:查看或设置本聊天的默认模型(群内需管理员)",
    },
    "cmd_models": {
        "en": "/models: the models you can draw with: sizes, cost, editing",
        "zh": "/models:可用的模型及其尺寸、额度消耗、能否改图",
    },
    "cmd_start": {"en": "/start: the welcome message", "zh": "/start:欢迎信息"},
    "cmd_help": {
        "en": "/help [command]: this list; /help draw: every drawing option",
        "zh": "/help [命令]:本列表;/help draw:全部画图选项",
    },
    "cmd_quota": {
        "en": "/quota: how many pictures you have left today",
        "zh": "/quota:今天还剩多少张",
    },
    "cmd_history": {
        "en": "/history: your recent drawings and their numbers",
        "zh": "/history:你最近的作品及编号",
    },
    "cmd_forget": {
        "en": "/forget: delete your prompts and pictures",
        "zh": "/forget:删除你的提示词和图片",
    },
    "help": {
        "en": "Commands:\n{commands}",
        "zh": "命令:\n{commands}",
    },
    "help_admin_pointer": {
        "en": "Admins: /admin lists the admin commands.",
        "zh": "管理员:/admin 查看管理命令。",
    },
    "unknown_command": {
        "en": "/{command} is not a command of this bot.{hint} Send /help for every command.",
        "zh": "/{command} 不是本机器人的命令。{hint}发送 /help 查看全部命令。",
    },
    "unknown_command_hint": {
        "en": " Did you mean /{suggestion}?",
        "zh": "你是不是想用 /{suggestion}?",
    },
    "unknown_command_draw": {
        "en": " To draw, write /draw and the prompt.",
        "zh": "画图请写 /draw 加提示词。",
    },
    "missing_id": {
        "en": "Which drawing? Write /{command} 12 with a number from /history.",
        "zh": "要哪一张?请写 /{command} 12,编号见 /history。",
    },
    # what /original says when the file is gone and the prompt with it (after /forget)
    "image_and_prompt_gone": {
        "en": "Drawing #{id} is no longer kept (neither its file nor its prompt), "
        "so it can neither be sent nor drawn again.",
        "zh": "作品 #{id} 的文件和提示词都已不再保存,无法重新发送,也无法重画。",
    },
    # the relay cannot be reached at all: refused, no such host (a timeout is `unreachable`)
    "cannot_connect": {
        "en": "The bot cannot reach its image service at all right now (it refuses connections "
        "or cannot be found). Please try again later; no quota was used.",
        "zh": "机器人现在完全连不上绘图服务(连接被拒绝或找不到服务器),请稍后再试,本次不扣额度。",
    },
    # bad_key / no_balance where no admin of the asker's platform is configured to be told
    "bad_key_untold": {
        "en": "The bot is misconfigured (its image service key was rejected), so it cannot draw "
        "until its operator fixes that. No quota was used.",
        "zh": "机器人配置有误(绘图服务密钥无效),在运营者修复前无法画图。本次不扣额度。",
    },
    "no_balance_untold": {
        "en": "The bot's image service account is out of balance, so it cannot draw until its "
        "operator tops it up. No quota was used.",
        "zh": "机器人的绘图服务余额不足,在运营者充值前无法画图。本次不扣额度。",
    },
    # the models (core/model_views.py)
    "models_title": {"en": "Models here:", "zh": "可用模型:"},
    "models_line": {
        "en": "• {name}{label}: sizes {sizes} (default {size}), {cost} per image, {edits}{marks}",
        "zh": "• {name}{label}:尺寸 {sizes}(默认 {size}),每张 {cost} 点额度,{edits}{marks}",
    },
    "models_edits": {"en": "edits pictures", "zh": "可改图"},
    "models_no_edits": {"en": "draws from text", "zh": "仅文生图"},
    "models_default": {"en": "default", "zh": "默认"},
    "models_chat": {"en": "this chat's default", "zh": "本聊天默认"},
    "models_hint": {
        "en": "Draw with one: /draw <prompt> --model NAME. Set this chat's: /model NAME.",
        "zh": "指定模型:/draw <提示词> --model 名称。设置本聊天默认:/model 名称。",
    },
    "model_current": {
        "en": "This chat draws with {model}. Choose another with /model NAME ({names}); "
        "/models describes them.",
        "zh": "本聊天使用 {model} 画图。用 /model 名称 更换({names});/models 查看详情。",
    },
    "model_set": {
        "en": "This chat now draws with {model}, {cost} per image; a draw can still name "
        "another with --model.",
        "zh": "本聊天现在默认使用 {model},每张 {cost} 点额度;画图时仍可用 --model 另选。",
    },
    "model_not_admin": {
        "en": "Only this group's admins can choose its model. You can still draw with any "
        "model: /draw <prompt> --model NAME.",
        "zh": "只有群管理员可以设置本群的模型。你仍可在画图时指定:/draw <提示词> --model 名称。",
    },
    "model_note_cost": {"en": "{label} · {cost} units", "zh": "{label} · {cost} 点额度"},
}
