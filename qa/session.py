"""A browser session's conversation, bounded: at most `max_turns` questions and `max_chat_bytes` bytes of its page
(every answer sends the whole conversation to the browser, and the session keeps it in the server's memory). When
a question would pass either, it is not answered or not kept, and the conversation says why and what to do."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from qa.config import ServerSettings
from qa.present import Turn, conversation_html

AFTER_LIMIT = "Export the quotes you want to keep, then press Clear chat to start a new conversation."


@dataclass(frozen=True)
class Conversation:
    """The turns a session keeps, and the conversation's HTML to show (ending with a notice when a limit refused
    the last question)."""

    turns: list[Turn]
    html: str


def limit_notice(message: str) -> str:
    return f'<p class="message limit" role="status">{escape(message)}</p>'


def turns_left(turns: list[Turn], server: ServerSettings) -> str | None:
    """Why the session takes no further question (None: it takes one)."""
    if len(turns) >= server.max_turns:
        return f"This conversation has reached {server.max_turns} questions, the limit of one conversation. {AFTER_LIMIT}"
    return None


def with_turn(turns: list[Turn], turn: Turn, server: ServerSettings) -> Conversation:
    """The conversation with `turn` added, or as it was with a notice when that would pass max_chat_bytes."""
    longer = turns + [turn]
    page = conversation_html(longer)
    if len(page.encode()) <= server.max_chat_bytes:
        return Conversation(longer, page)
    return refused(turns, f"This answer would take the conversation past {server.max_chat_bytes:,} bytes, the limit "
                          f"of one conversation. {AFTER_LIMIT}")


def refused(turns: list[Turn], message: str) -> Conversation:
    return Conversation(turns, conversation_html(turns) + limit_notice(message))
