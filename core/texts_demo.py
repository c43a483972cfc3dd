"""Sentences of the terminal chat and its offline demo (python -m bots console / demo).
Part of the table in core/messages.py."""

from __future__ import annotations

DEMO_TEXTS: dict[str, dict[str, str]] = {
    "console_banner": {
        "en": "drawbot console: type /draw <prompt>, /help, /models, /quota, /history or /quit "
        "(images go to {folder}/)",
        "zh": "drawbot 终端:输入 /draw <描述>、/help、/models、/quota、/history,或 /quit 退出"
        "(图片保存在 {folder}/)",
    },
    "console_admin": {
        "en": "You are an admin here ({who} is in ADMIN_IDS): /stats, /balance, /ban, /limit "
        "work too.",
        "zh": "你在这里是管理员({who} 在 ADMIN_IDS 中):/stats、/balance、/ban、/limit 也可用。",
    },
    "demo_banner": {
        "en": "drawbot demo: no key and no settings needed, nothing leaves this computer. "
        "An offline relay on {address} draws placeholder pictures labelled DEMO, with the "
        "prompt, size and seed written on them. The database and images are kept under "
        "{folder}/ (your real database is not touched); here each user may draw {limit} "
        "images a day.",
        "zh": "drawbot 演示:无需密钥和任何设置,不连接外网。{address} 上的离线中转站会画出标有 "
        "DEMO 的占位图片,上面写着描述、尺寸和种子。数据库和图片保存在 {folder}/(不会动到正式"
        "数据库);这里每人每天可画 {limit} 张。",
    },
    "demo_try": {
        "en": "Try: /draw a red fox in the snow --size 768x512 --seed 42, then /quota, "
        "/history, /redo, /original 1 and /help. For the admin commands (/stats, /balance), "
        "start it as ADMIN_IDS=console:{name} python -m bots demo",
        "zh": "试试:/draw 雪地里的红狐狸 --size 768x512 --seed 42,然后 /quota、/history、"
        "/redo、/original 1 和 /help。想试管理命令(/stats、/balance),这样启动:"
        "ADMIN_IDS=console:{name} python -m bots demo",
    },
}
