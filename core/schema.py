"""The database schema, as sqlite-utils Migrations applied in order at start-up."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("drawbot")


@migrations()
def m001_initial(sqlite: Database) -> None:
    """Users, chats, generations and once-only notices."""
    sqlite.table("users").create(
        {
            "key": str,
            "platform": str,
            "user_id": str,
            "name": str,
            "language": str,
            "banned": int,
            "ban_reason": str,
            "daily_limit": int,
            "created_at": float,
            "last_seen_at": float,
        },
        pk="key",
        defaults={"banned": 0},
        not_null={"platform", "user_id"},
    )
    sqlite.table("chats").create(
        {
            "key": str,
            "platform": str,
            "chat_id": str,
            "title": str,
            "is_group": int,
            "enabled": int,
            "daily_limit": int,
            "user_daily_limit": int,
            "cooldown_seconds": int,
            "watermark": int,
            "watermark_text": str,
            "created_at": float,
            "last_seen_at": float,
        },
        pk="key",
        defaults={"enabled": 1, "is_group": 0},
        not_null={"platform", "chat_id"},
    )
    sqlite.table("generations").create(
        {
            "id": int,
            "source_key": str,
            "user_key": str,
            "chat_key": str,
            "platform": str,
            "day": str,
            "status": str,
            "images": int,
            "prompt": str,
            "width": int,
            "height": int,
            "seed": int,
            "steps": int,
            "scale": float,
            "expand": int,
            "super_res": int,
            "watermark": str,
            "parent_id": int,
            "error_kind": str,
            "error_code": str,
            "error_detail": str,
            "relay_request_id": str,
            "relay_seconds": float,
            "attempts": int,
            "rephrased": str,
            "image_meta": str,
            "image_paths": str,
            "file_refs": str,
            "forgotten": int,
            "created_at": float,
            "finished_at": float,
        },
        pk="id",
        defaults={"images": 1, "forgotten": 0},
        not_null={"user_key", "chat_key", "platform", "day", "status", "created_at"},
    )
    sqlite.table("generations").create_index(["source_key"], unique=True)
    sqlite.table("generations").create_index(["user_key", "day", "status"])
    sqlite.table("generations").create_index(["chat_key", "day", "status"])
    sqlite.table("generations").create_index(["status", "platform"])
    sqlite.table("generations").create_index(["created_at"])
    sqlite.table("notices").create({"key": str, "sent_at": float}, pk="key")


@migrations()
def m002_phases_and_owners(sqlite: Database) -> None:
    """Each draw records its phase and the process that owns it; processes beat a heartbeat.

    Statuses become phases: pending -> generating, succeeded -> delivered."""
    sqlite.table("processes").create(
        {
            "id": str,
            "pid": int,
            "host": str,
            "platforms": str,
            "started_at": float,
            "heartbeat_at": float,
            "stopped_at": float,
        },
        pk="id",
    )
    generations = sqlite.table("generations")
    generations.add_column("owner", str)
    generations.add_column("address", str)
    generations.add_column("delivered_at", float)
    sqlite.execute("UPDATE generations SET status = 'generating' WHERE status = 'pending'")
    sqlite.execute("UPDATE generations SET status = 'delivered' WHERE status = 'succeeded'")
    generations.create_index(["owner", "status"])


@migrations()
def m003_access_lists(sqlite: Database) -> None:
    """What bot admins add at run time to ALLOWED_USERS / ALLOWED_CHATS (kind user or chat)
    and to BLOCKED_WORDS (each word as typed and in the folded form it is matched in)."""
    sqlite.table("allowed").create(
        {"kind": str, "key": str, "added_by": str, "added_at": float}, pk=("kind", "key")
    )
    sqlite.table("blocked_words").create(
        {"folded": str, "word": str, "added_by": str, "added_at": float}, pk="folded"
    )


@migrations()
def m004_models(sqlite: Database) -> None:
    """Each draw names its model (the table's name), what one image of it cost in daily quota
    units, an asynchronous model's task id, and the input picture an edit started from;
    each chat may choose its default model."""
    generations = sqlite.table("generations")
    generations.add_column("model", str, not_null_default="jimeng21")
    generations.add_column("cost", int, not_null_default=1)
    generations.add_column("task_id", str)
    generations.add_column("source_path", str)
    sqlite.table("chats").add_column("model", str)
