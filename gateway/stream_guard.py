"""Output guardrails for streamed replies.

A match can span chunks, so while any guardrail scans output the relay
buffers the provider's chunks and scans each choice's whole text before it
sends anything. When nothing matched, the chunks go out unchanged. Otherwise
each choice is rewritten as one chunk with the masked text, or with empty
content and `finish_reason` `content_filter` when a block rule matched, as an
unstreamed reply would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gateway.pipeline import Call, guard_text
from gateway.snapshot import Snapshot

BLOCKED_FINISH = "content_filter"


def guarded_chunks(
    snapshot: Snapshot, call: Call, buffered: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Return the chunks to send for a buffered stream, after output guardrails."""
    texts = _texts_by_choice(buffered)
    outcomes: dict[int, tuple[str, bool]] = {}
    for index, text in texts.items():
        guarded, blocked = guard_text(snapshot, call, text, "output")
        if blocked or guarded != text:
            outcomes[index] = ("" if blocked else guarded, blocked)
    if not outcomes:
        return buffered
    return list(_rewritten(buffered, texts, outcomes))


def _texts_by_choice(buffered: list[dict[str, Any]]) -> dict[int, str]:
    parts: dict[int, list[str]] = {}
    for data in buffered:
        for choice in data.get("choices") or ():
            content = (choice.get("delta") or {}).get("content")
            if isinstance(content, str):
                parts.setdefault(int(choice.get("index", 0)), []).append(content)
    return {index: "".join(pieces) for index, pieces in parts.items()}


def _rewritten(
    buffered: list[dict[str, Any]],
    texts: dict[int, str],
    outcomes: dict[int, tuple[str, bool]],
) -> Iterator[dict[str, Any]]:
    """Send each choice's text in one chunk, then its finish, then the usage."""
    header = {name: buffered[0][name] for name in ("id", "object", "created", "model")}
    finishes = _finish_reasons(buffered)
    for index in sorted(texts):
        text, blocked = outcomes.get(index, (texts[index], False))
        delta = {"role": "assistant", "content": text}
        yield {**header, "choices": [{"index": index, "delta": delta}]}
        finish = BLOCKED_FINISH if blocked else finishes.get(index, "stop")
        yield {
            **header,
            "choices": [{"index": index, "delta": {}, "finish_reason": finish}],
        }
    for data in buffered:
        if "usage" in data and not data.get("choices"):
            yield data


def _finish_reasons(buffered: list[dict[str, Any]]) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for data in buffered:
        for choice in data.get("choices") or ():
            reason = choice.get("finish_reason")
            if reason:
                reasons[int(choice.get("index", 0))] = reason
    return reasons
