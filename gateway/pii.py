"""Detection of personal data and secrets in text, for the `pii` guardrail.

Each entity has a google-re2 pattern that finds candidates in linear time.
A check in Python then keeps only real ones. It uses the Luhn checksum for
card numbers, ISO 13616 mod-97 for IBANs, the `ipaddress` module for IP
addresses, and shape rules for phone numbers and secrets. Nothing here logs
or stores the text.
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

import re2

ENTITIES = ("email", "phone", "credit_card", "iban", "ip_address", "secret")

Span = tuple[int, int, str]
"""Start and end offsets of a match in the text, and its entity name."""


def compile_pattern(pattern: str) -> re2._Regexp:
    """Compile with google-re2, which raises `re2.error` without logging the pattern."""
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


@dataclass(frozen=True, slots=True)
class _Detector:
    entity: str
    pattern: re2._Regexp
    accept: Callable[[str, int, int], tuple[int, int] | None]
    """Returns the span to report for a candidate at `start:end`, or None to skip it."""
    group: int = 0

    def find(self, text: str) -> Iterator[Span]:
        for found in self.pattern.finditer(text):
            start, end = found.span(self.group)
            span = self.accept(text, start, end)
            if span is not None:
                yield span[0], span[1], self.entity


def find_entities(text: str, entities: Collection[str]) -> list[Span]:
    """Find every entity of the given kinds in `text`, sorted by position.

    A span inside a longer span of the same entity is dropped, such as the
    IPv4 part of `::ffff:192.0.2.1`.
    """
    spans: set[Span] = set()
    for detector in _DETECTORS:
        if detector.entity in entities:
            spans.update(detector.find(text))

    ordered = sorted(spans, key=lambda span: (span[0], -span[1]))
    outermost: list[Span] = []
    reach: dict[str, int] = {}
    for start, end, entity in ordered:
        if end <= reach.get(entity, -1):
            continue
        outermost.append((start, end, entity))
        reach[entity] = end
    return outermost


def _is_word_char(text: str, index: int) -> bool:
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


def _standalone(text: str, start: int, end: int) -> bool:
    """Tell whether no letter, digit or underscore touches the span on either side."""
    return not _is_word_char(text, start - 1) and not _is_word_char(text, end)


# Email addresses: a local part, "@", and a domain with a top-level label of
# at least two letters.
_EMAIL = compile_pattern(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}"
)


def _accept_email(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start] in "._%+-":
        start += 1
    if text[start] == "@" or _is_word_char(text, end):
        return None
    return start, end


# Phone candidates: a run of digits, spaces, dots, dashes and parentheses that
# starts with "+", "(" or a digit and ends with a digit. `_accept_phone`
# decides which runs are phone numbers.
_PHONE = compile_pattern(r"[+(]?\d[\d ().-]{5,22}\d")
_DATE_SEPARATORS = frozenset("./-")


def _accept_phone(text: str, start: int, end: int) -> tuple[int, int] | None:
    if not _standalone(text, start, end):
        return None
    if text[start - 1 : start] in ("+", ".", "-", "/"):
        return None
    if end < len(text) and text[end] in ".-" and _is_digit(text, end + 1):
        return None

    candidate = text[start:end]
    if candidate.count("(") != candidate.count(")"):
        return None
    groups = _digit_groups(candidate)
    digits = sum(len(group) for group in groups)
    if candidate.startswith("+"):
        return (start, end) if 8 <= digits <= 15 else None
    if len(groups) < 2 or _looks_like_date(candidate):
        return None
    return (start, end) if _national_phone(groups, digits) else None


def _is_digit(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isdigit()


def _digit_groups(candidate: str) -> list[str]:
    groups: list[str] = []
    current = ""
    for char in candidate:
        if char.isdigit():
            current += char
        elif current:
            groups.append(current)
            current = ""
    if current:
        groups.append(current)
    return groups


def _looks_like_date(candidate: str) -> bool:
    """Tell whether a candidate starts like 2024-01-15 or 15.01.2024."""
    head = candidate.split(" ", 1)[0]
    separators = {char for char in head if not char.isdigit()}
    if len(separators) != 1 or not separators <= _DATE_SEPARATORS:
        return False
    parts = [len(part) for part in head.split(separators.pop())]
    return parts[:3] in (
        [4, 2, 2],
        [4, 1, 2],
        [4, 2, 1],
        [2, 2, 4],
        [1, 2, 4],
        [2, 1, 4],
    )


def _national_phone(groups: list[str], digits: int) -> bool:
    """Accept North American 3-3-4 numbers and numbers with a leading trunk 0."""
    lengths = [len(group) for group in groups]
    if lengths == [3, 3, 4]:
        return True
    if lengths == [1, 3, 3, 4] and groups[0] == "1":
        return True
    if not groups[0].startswith("0") or not 9 <= digits <= 11:
        return False
    return min(lengths) >= 2 and max(lengths) <= 8


# Card candidates: groups of four with the last group one to seven digits
# long, the American Express 4-6-5 layout, or an unbroken run.
_CARD = compile_pattern(
    r"\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{1,7}|\d{4}[ -]\d{6}[ -]\d{4,5}|\d{13,19}"
)


def _accept_card(text: str, start: int, end: int) -> tuple[int, int] | None:
    if not _standalone(text, start, end):
        return None
    digits = [int(char) for char in text[start:end] if char.isdigit()]
    if not 13 <= len(digits) <= 19 or not any(digits):
        return None
    return (start, end) if luhn_valid(digits) else None


def luhn_valid(digits: list[int]) -> bool:
    """Check the Luhn checksum that payment card numbers carry in their last digit."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


# IBAN candidates: a country code, two check digits, and groups of letters and
# digits, written compact or in blocks of four.
_IBAN = compile_pattern(
    r"(?i)\b[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,4})?\b"
)

# IBAN lengths of common countries, from the ISO 13616 registry. Other
# countries are checked against the general 15 to 34 character range.
_IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27,
    "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25,
    "RO": 24, "SE": 24, "SI": 19, "SK": 24, "TR": 26,
}  # fmt: skip


def _accept_iban(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Accept the longest prefix of whole blocks that is a valid IBAN.

    The pattern may run into a following short word, as in
    "BE68 5390 0754 7034 from", so blocks are dropped from the end until the
    checksum holds.
    """
    blocks = text[start:end].split(" ")
    while blocks:
        candidate = " ".join(blocks)
        if iban_valid(candidate.replace(" ", "")):
            return start, start + len(candidate)
        blocks.pop()
    return None


def iban_valid(iban: str) -> bool:
    """Check an IBAN's length for its country and its ISO 13616 mod-97 checksum."""
    iban = iban.upper()
    expected = _IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


# IPv4 candidates are four dotted numbers. IPv6 candidates are hex groups with
# at least two colons, optionally ending in dotted IPv4 form (::ffff:192.0.2.1).
_IPV4 = compile_pattern(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_IPV6 = compile_pattern(r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}")


def _accept_ipv4(text: str, start: int, end: int) -> tuple[int, int] | None:
    if text[start - 1 : start] == "." or _continues_with_number(text, end):
        return None
    try:
        ipaddress.IPv4Address(text[start:end])
    except ValueError:
        return None
    return start, end


def _continues_with_number(text: str, end: int) -> bool:
    return text[end : end + 1] == "." and _is_digit(text, end + 1)


def _accept_ipv6(text: str, start: int, end: int) -> tuple[int, int] | None:
    while end > start and text[end - 1] == ":" and text[end - 2 : end] != "::":
        end -= 1
    before = text[start - 1 : start]
    if _is_word_char(text, start - 1) or before in (":", "."):
        return None
    if _is_word_char(text, end) or _continues_with_number(text, end):
        return None

    candidate = text[start:end]
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return None
    # A short compressed form without digits is more likely code (`a::b`).
    groups = [group for group in candidate.split(":") if group]
    if (
        "::" in candidate
        and len(groups) < 3
        and not any(c.isdigit() for c in candidate)
    ):
        return None
    return start, end


# Secrets with a known shape: OpenAI-style `sk-` keys (gateway keys included),
# AWS access key ids, GitHub, Slack, Google and Stripe tokens, JSON Web Tokens
# and PEM private key blocks.
_KNOWN_SECRETS = compile_pattern(
    "|".join(
        (
            r"\bsk-[A-Za-z0-9_-]{20,}",
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
            r"\bgh[pousr]_[A-Za-z0-9]{36,}",
            r"\bgithub_pat_[A-Za-z0-9_]{22,}",
            r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
            r"\bAIza[0-9A-Za-z_-]{35}",
            r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",
            r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)"
            r"-----END [A-Z ]*PRIVATE KEY-----",
        )
    )
)

# Other secrets: a long token right after a word such as "api_key", "token",
# "secret" or "password", with ":", "=" or whitespace between. Only the token
# is reported.
_LABELLED_SECRET = compile_pattern(
    r"(?i)\b(?:api[_-]?key|access[_-]?key|secret(?:[_-]?key)?|client[_-]?secret"
    r"|auth[_-]?token|access[_-]?token|token|password|passwd|bearer)"
    r"[\"']?\s*(?:[:=]|\s)\s*[\"']?([A-Za-z0-9_\-+/=.~]{16,})"
)
MIN_SECRET_ENTROPY = 3.0
"""Bits per character that a labelled token needs, so words and repeats are skipped."""


def _accept_known_secret(text: str, start: int, end: int) -> tuple[int, int] | None:
    # Random `sk-` keys contain digits, but a hyphenated phrase such as
    # "sk-learn-compatible-transformers" does not.
    if text.startswith("sk-", start) and not any(c.isdigit() for c in text[start:end]):
        return None
    return start, end


def _accept_labelled_secret(text: str, start: int, end: int) -> tuple[int, int] | None:
    token = text[start:end]
    has_letter = any(char.isalpha() for char in token)
    has_digit = any(char.isdigit() for char in token)
    if not (has_letter and has_digit) or shannon_entropy(token) < MIN_SECRET_ENTROPY:
        return None
    return start, end


def shannon_entropy(value: str) -> float:
    """Return the Shannon entropy of a string's characters, in bits per character."""
    counts = Counter(value)
    total = len(value)
    return -sum(count / total * math.log2(count / total) for count in counts.values())


_DETECTORS = (
    _Detector("email", _EMAIL, _accept_email),
    _Detector("phone", _PHONE, _accept_phone),
    _Detector("credit_card", _CARD, _accept_card),
    _Detector("iban", _IBAN, _accept_iban),
    _Detector("ip_address", _IPV4, _accept_ipv4),
    _Detector("ip_address", _IPV6, _accept_ipv6),
    _Detector("secret", _KNOWN_SECRETS, _accept_known_secret),
    _Detector("secret", _LABELLED_SECRET, _accept_labelled_secret, group=1),
)
