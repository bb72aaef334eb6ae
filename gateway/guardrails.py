"""Content guardrails: PII, keyword and regex rules for request and response text.

`validate_config` checks a guardrail's settings when it is saved.
`compile_guardrails` turns the active guardrails into a `GuardrailSet` once
per configuration snapshot, and `GuardrailSet.scan` checks one text. Every
pattern runs on google-re2, so matching time grows linearly with the text,
whatever pattern a user saved. Nothing here logs or stores the scanned text.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import re2

from gateway.models import Guardrail
from gateway.pii import ENTITIES, compile_pattern, find_entities

Direction = Literal["input", "output"]
KINDS = ("pii", "keyword", "regex")
MAX_PATTERN_LENGTH = 2000
MAX_WORDS = 1000
MAX_WORD_LENGTH = 200
_SETTINGS = {"pii": ("entities",), "keyword": ("words",), "regex": ("pattern",)}


@dataclass(frozen=True, slots=True)
class Match:
    """One place in a text where a guardrail matched."""

    guardrail_id: str
    name: str
    kind: str
    action: str
    entity: str | None
    """The PII entity, such as `email`; None for keyword and regex guardrails."""
    start: int
    end: int
    """Character offsets in the scanned text, end exclusive."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "guardrail_id": self.guardrail_id,
            "name": self.name,
            "kind": self.kind,
            "action": self.action,
            "entity": self.entity,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The outcome of scanning one text."""

    blocked: bool
    """True when a guardrail with action `block` matched."""
    text: str
    """The text with every `mask` match replaced; the input unchanged when none."""
    matches: list[Match]
    """Every match of every applicable guardrail, ordered by position."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "blocked": self.blocked,
            "text": self.text,
            "matches": [match.to_dict() for match in self.matches],
        }


def validate_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """Check a guardrail's `config` for its kind and return it normalized.

    Raises ValueError naming the bad value and the fix: an unknown kind or
    setting, a PII entity this module cannot detect, an empty keyword list,
    or a regex pattern that RE2 rejects or that matches the empty string.
    """
    if kind not in KINDS:
        raise ValueError(
            f"Unknown guardrail kind '{kind}'; use one of: {', '.join(KINDS)}."
        )
    if not isinstance(config, dict):
        raise ValueError(f"config of a {kind} guardrail must be a JSON object.")
    for setting in config:
        if setting not in _SETTINGS[kind]:
            expected = ", ".join(_SETTINGS[kind])
            raise ValueError(
                f"Unknown setting '{setting}' in config of a {kind} guardrail; "
                f"use: {expected}."
            )

    if kind == "pii":
        return {"entities": _validate_entities(config.get("entities"))}
    if kind == "keyword":
        return {"words": _validate_words(config.get("words"))}
    return {"pattern": _validate_pattern(config.get("pattern"))}


def _validate_entities(value: object) -> list[str]:
    known = ", ".join(ENTITIES)
    if value is None:
        return list(ENTITIES)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"entities must be a list of strings from: {known}.")

    entities = list(dict.fromkeys(item.strip().lower() for item in value))
    if not entities:
        raise ValueError(
            f"entities is empty; list at least one of {known}, "
            "or leave it out to detect all."
        )
    for entity in entities:
        if entity not in ENTITIES:
            close = difflib.get_close_matches(entity, ENTITIES, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ValueError(
                f"Unknown PII entity '{entity}' in entities; {hint}Use: {known}."
            )
    return entities


def _validate_words(value: object) -> list[str]:
    example = 'such as ["confidential", "project x"]'
    if not isinstance(value, list) or not value:
        raise ValueError(
            f"A keyword guardrail needs words, a non-empty list of strings {example}."
        )
    if len(value) > MAX_WORDS:
        raise ValueError(
            f"words has {len(value)} entries; keep it to {MAX_WORDS} or fewer."
        )

    words: dict[str, str] = {}
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ValueError(
                f"words[{index}] is {item!r}; every word must be a non-empty string."
            )
        word = " ".join(item.split())
        if len(word) > MAX_WORD_LENGTH:
            raise ValueError(
                f"words[{index}] is longer than {MAX_WORD_LENGTH} characters; "
                "shorten it."
            )
        words.setdefault(word.casefold(), word)
    return list(words.values())


def _validate_pattern(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(
            "A regex guardrail needs pattern, a non-empty string such as 'ACME-\\d{6}'."
        )
    if len(value) > MAX_PATTERN_LENGTH:
        raise ValueError(
            f"pattern is {len(value)} characters long; "
            f"keep it to {MAX_PATTERN_LENGTH} or fewer."
        )

    try:
        compiled = compile_pattern(value)
    except re2.error as exc:
        raise ValueError(
            f"Invalid regex pattern '{value}': {_re2_message(exc)}. "
            "Patterns use RE2 syntax, which has no lookaround or backreferences; "
            "fix the syntax or rewrite the pattern without them."
        ) from exc
    if compiled.search("") is not None:
        raise ValueError(
            f"Regex pattern '{value}' matches the empty string, so it would match "
            "every text; require at least one character, for example with '+' "
            "instead of '*'."
        )
    return value


def _re2_message(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, bytes):
        return detail.decode("utf-8", "replace")
    return str(detail)


Finder = Callable[[str], Iterable[tuple[int, int, str | None]]]


@dataclass(frozen=True, slots=True)
class _Rule:
    guardrail: Guardrail
    find: Finder


def compile_guardrails(items: Sequence[Guardrail]) -> GuardrailSet:
    """Compile guardrails into a `GuardrailSet`, skipping inactive ones.

    Each config is validated again, so a row that bypassed `validate_config`
    raises ValueError naming the guardrail instead of failing during a scan.
    """
    rules: list[_Rule] = []
    for item in items:
        if not item.active:
            continue
        try:
            config = validate_config(item.kind, item.config)
        except ValueError as exc:
            raise ValueError(f"Guardrail {item.id} ({item.name!r}): {exc}") from exc
        rules.append(_Rule(item, _compile_finder(item.kind, config)))
    return GuardrailSet(rules)


def _compile_finder(kind: str, config: dict[str, Any]) -> Finder:
    if kind == "pii":
        entities = frozenset(config["entities"])
        return lambda text: find_entities(text, entities)
    if kind == "keyword":
        return _keyword_finder(config["words"])

    pattern = compile_pattern(config["pattern"])
    return lambda text: (
        (found.start(), found.end(), None)
        for found in pattern.finditer(text)
        if found.end() > found.start()
    )


def _keyword_finder(words: list[str]) -> Finder:
    """Build a finder for whole, case-insensitive occurrences of any of `words`.

    A keyword edge that is a letter, digit or `_` must not touch another
    one in the text, in any script. An edge that is punctuation needs no
    boundary, as with a regex `\\b`. Longer words come first in each
    alternation, so "project x" wins over "project" at the same position.
    """
    ordered = sorted(words, key=len, reverse=True)
    word_start = [word for word in ordered if _is_word_char(word, 0)]
    other_start = [word for word in ordered if not _is_word_char(word, 0)]
    patterns = []
    if word_start:
        # RE2 has no lookbehind, so the pattern consumes the character before
        # the word. NOTE: when an earlier match ends with that character, as
        # keyword "a-" does before "secret" in "a-secret", the later one is missed.
        alternatives = "|".join(_keyword_pattern(word) for word in word_start)
        patterns.append(
            compile_pattern(rf"(?i)(?:^|[^\p{{L}}\p{{N}}_])({alternatives})")
        )
    if other_start:
        alternatives = "|".join(_keyword_pattern(word) for word in other_start)
        patterns.append(compile_pattern(f"(?i)({alternatives})"))

    def find(text: str) -> Iterable[tuple[int, int, str | None]]:
        for pattern in patterns:
            for found in pattern.finditer(text):
                start, end = found.span(1)
                if _is_word_char(text, end - 1) and _is_word_char(text, end):
                    continue
                yield start, end, None

    return find


def _keyword_pattern(word: str) -> str:
    # RE2's `\b` treats only ASCII letters, digits and `_` as word characters,
    # so a word ending in another script is checked in `find` instead.
    body = r"\s+".join(re2.escape(part) for part in word.split())
    return body + (r"\b" if _is_ascii_word_char(word[-1]) else "")


def _is_ascii_word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def _is_word_char(text: str, index: int) -> bool:
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


class GuardrailSet:
    """The active guardrails, compiled and split by the direction they apply to.

    An empty set is falsy, so the data plane can skip scanning with one
    truth test.
    """

    __slots__ = ("_input", "_output", "_count")

    def __init__(self, rules: Iterable[_Rule] = ()) -> None:
        rules = tuple(rules)
        self._input = tuple(rule for rule in rules if rule.guardrail.scope != "output")
        self._output = tuple(rule for rule in rules if rule.guardrail.scope != "input")
        self._count = len(rules)

    @property
    def empty(self) -> bool:
        return self._count == 0

    def __bool__(self) -> bool:
        return self._count > 0

    def __len__(self) -> int:
        return self._count

    def applies(self, direction: Direction) -> bool:
        """Tell whether any guardrail scans text going in `direction`."""
        return bool(self._rules_for(direction))

    def scan(self, text: str, direction: Direction) -> ScanResult:
        """Scan `text` with every guardrail whose scope is `direction` or `both`.

        A block match wins over masks, but masks are still applied to the
        returned text so a dry run shows both.
        """
        rules = self._rules_for(direction)
        if not rules or not text:
            return ScanResult(blocked=False, text=text, matches=[])

        matches = [
            _match(rule.guardrail, start, end, entity)
            for rule in rules
            for start, end, entity in rule.find(text)
        ]
        matches.sort(key=lambda match: (match.start, -match.end))
        blocked = any(match.action == "block" for match in matches)
        masks = [match for match in matches if match.action == "mask"]
        return ScanResult(blocked=blocked, text=mask_text(text, masks), matches=matches)

    def _rules_for(self, direction: Direction) -> tuple[_Rule, ...]:
        if direction == "input":
            return self._input
        if direction == "output":
            return self._output
        raise ValueError(
            f"Unknown scan direction '{direction}'; use 'input' or 'output'."
        )


def _match(guardrail: Guardrail, start: int, end: int, entity: str | None) -> Match:
    return Match(
        guardrail_id=guardrail.id,
        name=guardrail.name,
        kind=guardrail.kind,
        action=guardrail.action,
        entity=entity,
        start=start,
        end=end,
    )


def mask_text(text: str, matches: Sequence[Match]) -> str:
    """Replace each match with `[REDACTED_<ENTITY>]`, or `[REDACTED]` without an entity.

    `matches` must be ordered by start, longest first. Overlapping matches
    are merged into one placeholder labelled by the first of them; adjacent
    matches keep one placeholder each.
    """
    if not matches:
        return text

    pieces: list[str] = []
    position = 0
    for match in matches:
        if match.start < position:
            position = max(position, match.end)
            continue
        pieces.append(text[position : match.start])
        pieces.append(placeholder(match.entity))
        position = match.end
    pieces.append(text[position:])
    return "".join(pieces)


def placeholder(entity: str | None) -> str:
    """Return the text that replaces a masked match, such as `[REDACTED_EMAIL]`."""
    return f"[REDACTED_{entity.upper()}]" if entity else "[REDACTED]"
