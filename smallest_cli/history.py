"""The chat history: conversations and their messages in one SQLite database.

It lives in the user data dir (`SMALLEST_DATA_DIR` overrides it) as `history.db`. The
schema is versioned with `PRAGMA user_version`: each entry of MIGRATIONS brings a database
one version up, in a transaction, so a database written by an older release is upgraded
on first use. WAL mode and a busy timeout let two terminals write at once: each write is
one short transaction, and a writer that finds the database locked waits for it.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smallest_cli.errors import UsageError

DATABASE_NAME = "history.db"
BUSY_TIMEOUT_MS = 10_000

MIGRATIONS: tuple[str, ...] = (
    # 1: conversations and their messages, in order
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT 'electron'
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        created REAL NOT NULL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER
    );
    CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
    CREATE INDEX conversations_by_update ON conversations(updated);
    """,
)


def data_dir() -> Path:
    """The directory for the history database."""
    from smallest_cli.files import user_dir

    return user_dir("data", override="SMALLEST_DATA_DIR")


@dataclass(frozen=True)
class Conversation:
    id: str
    created: float
    updated: float
    title: str
    messages: int = 0


@dataclass(frozen=True)
class Message:
    role: str
    content: str
    created: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def wire(self) -> dict[str, str]:
        """The message as the API takes it."""
        return {"role": self.role, "content": self.content}


class History:
    """The history database, opened (and migrated) on first use."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / DATABASE_NAME
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA foreign_keys = ON")
            _migrate(db)
        except sqlite3.DatabaseError as exc:
            raise UsageError(
                f"cannot use the chat history {self.path}: {exc}",
                hint="move the file away to start a new history, or pass --no-log",
            ) from None
        except OSError as exc:
            raise UsageError(
                f"cannot create the chat history in {self.path.parent}: {exc.strerror or exc}",
                hint="set SMALLEST_DATA_DIR to a writable directory, or pass --no-log",
            ) from None
        return db

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so that two writers queue
        on the busy timeout instead of failing when one upgrades a read lock."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- conversations ----------------------------------------------------------------

    def new_conversation(self, title: str) -> str:
        conversation_id = uuid.uuid4().hex[:12]
        now = time.time()
        with self._writing() as db:
            db.execute(
                "INSERT INTO conversations (id, created, updated, title) VALUES (?, ?, ?, ?)",
                (conversation_id, now, now, _title(title)),
            )
        return conversation_id

    def latest(self) -> str | None:
        row = self.db.execute(
            "SELECT id FROM conversations ORDER BY updated DESC, rowid DESC LIMIT 1"
        ).fetchone()
        return str(row[0]) if row else None

    def find(self, conversation_id: str) -> str:
        """The full id of the conversation `conversation_id` names (a unique prefix will
        do), or a UsageError."""
        if not conversation_id:
            raise UsageError("no conversation id given", hint="see `smallest history list`")
        rows = self.db.execute(
            "SELECT id FROM conversations WHERE substr(id, 1, ?) = ? ORDER BY id = ? DESC LIMIT 2",
            (len(conversation_id), conversation_id, conversation_id),
        ).fetchall()
        if rows and (rows[0][0] == conversation_id or len(rows) == 1):
            return str(rows[0][0])
        if not rows:
            raise UsageError(
                f"no conversation {conversation_id!r} in the chat history",
                hint="see `smallest history list`",
            )
        raise UsageError(
            f"{conversation_id!r} names more than one conversation", hint="give more of the id"
        )

    def conversations(self, limit: int | None = None) -> list[Conversation]:
        rows = self.db.execute(
            "SELECT c.id, c.created, c.updated, c.title, COUNT(m.id) FROM conversations c "
            "LEFT JOIN messages m ON m.conversation_id = c.id GROUP BY c.id "
            "ORDER BY c.updated DESC, c.rowid DESC LIMIT ?",
            (-1 if limit is None else limit,),
        ).fetchall()
        return [Conversation(*row) for row in rows]

    def conversation(self, conversation_id: str) -> Conversation:
        found = self.find(conversation_id)
        return next(c for c in self.conversations() if c.id == found)

    def messages(self, conversation_id: str) -> list[Message]:
        rows = self.db.execute(
            "SELECT role, content, created, prompt_tokens, completion_tokens FROM messages "
            "WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        return [Message(*row) for row in rows]

    def add(self, conversation_id: str, *messages: Message) -> None:
        """Append messages to a conversation, in one transaction."""
        now = time.time()
        with self._writing() as db:
            db.executemany(
                "INSERT INTO messages (conversation_id, role, content, created, prompt_tokens, "
                "completion_tokens) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        conversation_id,
                        m.role,
                        m.content,
                        m.created or now,
                        m.prompt_tokens,
                        m.completion_tokens,
                    )
                    for m in messages
                ],
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))

    def delete(self, conversation_id: str) -> str:
        found = self.find(conversation_id)
        with self._writing() as db:
            db.execute("DELETE FROM messages WHERE conversation_id = ?", (found,))
            db.execute("DELETE FROM conversations WHERE id = ?", (found,))
        return found

    def export(self, conversation_id: str) -> dict[str, Any]:
        """A conversation as a JSON-ready object."""
        conversation = self.conversation(conversation_id)
        return {
            "id": conversation.id,
            "title": conversation.title,
            "created": _iso(conversation.created),
            "updated": _iso(conversation.updated),
            "messages": [
                {
                    "role": m.role,
                    "content": m.content,
                    "created": _iso(m.created),
                    **({"prompt_tokens": m.prompt_tokens} if m.prompt_tokens is not None else {}),
                    **(
                        {"completion_tokens": m.completion_tokens}
                        if m.completion_tokens is not None
                        else {}
                    ),
                }
                for m in self.messages(conversation.id)
            ],
        }


def _migrate(db: sqlite3.Connection) -> None:
    """Bring the schema up to len(MIGRATIONS), one version per transaction."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(
            f"it was written by a newer smallest-cli (schema {version}); upgrade smallest-cli"
        )
    while version < len(MIGRATIONS):
        db.execute("BEGIN IMMEDIATE")
        current = int(db.execute("PRAGMA user_version").fetchone()[0])
        if current != version:  # another process migrated meanwhile
            db.execute("ROLLBACK")
            version = current
            continue
        try:
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        version += 1


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 60 else line[:59] + "…"


def _iso(timestamp: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")
