"""Guardrails: PII detection, keywords, regex, scopes, actions, masks, config checks."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.guardrails import (
    GuardrailSet,
    Match,
    compile_guardrails,
    mask_text,
    validate_config,
)
from gateway.models import Guardrail
from gateway.pii import ENTITIES, find_entities, iban_valid, luhn_valid


def guardrail(
    kind: str = "pii",
    config: dict[str, Any] | None = None,
    *,
    scope: str = "both",
    action: str = "mask",
    gid: str = "gr_1",
    active: bool = True,
) -> Guardrail:
    return Guardrail(
        id=gid,
        name=f"{kind} {action}",
        kind=kind,  # type: ignore[arg-type]
        scope=scope,  # type: ignore[arg-type]
        action=action,  # type: ignore[arg-type]
        config=config or {},
        active=active,
    )


def found(text: str, entity: str) -> list[str]:
    return [text[start:end] for start, end, _ in find_entities(text, [entity])]


@pytest.mark.parametrize(
    ("entity", "text", "expected"),
    [
        (
            "email",
            "write to jane.doe+news@example.co.uk today",
            "jane.doe+news@example.co.uk",
        ),
        ("email", "ops@mail-1.example.org.", "ops@mail-1.example.org"),
        ("phone", "call +1 415 555 0132 now", "+1 415 555 0132"),
        ("phone", "call (415) 555-0132 now", "(415) 555-0132"),
        ("phone", "call 415-555-0132 now", "415-555-0132"),
        ("phone", "call 415.555.0132 now", "415.555.0132"),
        ("phone", "ring 020 7946 0958 in London", "020 7946 0958"),
        ("phone", "Paris: 06 12 34 56 78", "06 12 34 56 78"),
        ("phone", "Berlin +49 30 1234567", "+49 30 1234567"),
        ("phone", "E.164 +442079460958", "+442079460958"),
        ("credit_card", "card 4111 1111 1111 1111 exp", "4111 1111 1111 1111"),
        ("credit_card", "card 4111-1111-1111-1111", "4111-1111-1111-1111"),
        ("credit_card", "card 4111111111111111.", "4111111111111111"),
        ("credit_card", "amex 3782 822463 10005", "3782 822463 10005"),
        ("credit_card", "amex 378282246310005", "378282246310005"),
        (
            "iban",
            "IBAN DE89 3704 0044 0532 0130 00 please",
            "DE89 3704 0044 0532 0130 00",
        ),
        ("iban", "GB82WEST12345698765432", "GB82WEST12345698765432"),
        ("iban", "to be68 5390 0754 7034", "be68 5390 0754 7034"),
        ("iban", "pay BE68 5390 0754 7034 from me", "BE68 5390 0754 7034"),
        ("ip_address", "host 192.168.1.10 is up", "192.168.1.10"),
        ("ip_address", "dns 8.8.8.8.", "8.8.8.8"),
        ("ip_address", "v6 2001:db8::8a2e:370:7334 here", "2001:db8::8a2e:370:7334"),
        ("ip_address", "loopback ::1", "::1"),
        ("ip_address", "link fe80::1%eth0", "fe80::1"),
        ("ip_address", "mapped ::ffff:192.0.2.1 end", "::ffff:192.0.2.1"),
        (
            "secret",
            "key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t",
            "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t",
        ),
        (
            "secret",
            "use sk-gw-Q2xW9eR4tY7uI1oP3aS6dF8g",
            "sk-gw-Q2xW9eR4tY7uI1oP3aS6dF8g",
        ),
        ("secret", "aws AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        (
            "secret",
            "gh ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
            "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        ),
        ("secret", 'api_key="Zx9fK2mQ7pL4vR8tW1yB"', "Zx9fK2mQ7pL4vR8tW1yB"),
        (
            "secret",
            "Authorization: Bearer a1B2c3D4e5F6g7H8i9J0kL",
            "a1B2c3D4e5F6g7H8i9J0kL",
        ),
        ("secret", "password: Kq8vN2xL5pR9tW3z", "Kq8vN2xL5pR9tW3z"),
    ],
)
def test_pii_entity_found(entity: str, text: str, expected: str) -> None:
    assert found(text, entity) == [expected]


@pytest.mark.parametrize(
    ("entity", "text"),
    [
        ("email", "not an address: a@b, @example.com, user@localhost"),
        ("phone", "order 12345 shipped"),
        ("phone", "dated 2024-01-15 and 15.01.2024 and 01-02-2024"),
        ("phone", "the local number 555-0132"),
        ("phone", "id 4155550132 without separators"),
        ("phone", "version 1.2.3.4 and 10.0.0.1"),
        ("phone", "card 4111 1111 1111 1111"),
        ("phone", "time 12:30:45"),
        ("phone", "digits 0 1 2 3 4 5 6 7 8 9"),
        ("phone", "ISBN 978-3-16-148410-0"),
        ("phone", "prices 0.50 0.75 1.25 2.00"),
        ("credit_card", "card 4111 1111 1111 1112 fails Luhn"),
        ("credit_card", "zeros 0000 0000 0000 0000"),
        ("credit_card", "short 4111 1111 111"),
        ("credit_card", "inside a longer number 41111111111111110000000"),
        ("iban", "DE89 3704 0044 0532 0130 01 has bad check digits"),
        ("iban", "DE89 3704 0044 0532 0130 has the wrong length for DE"),
        ("iban", "words like AB12 CDEF GHIJ are not accounts"),
        ("ip_address", "999.1.1.1 and 256.256.256.256"),
        ("ip_address", "version 1.2.3.4.5"),
        ("ip_address", "zero-padded 010.001.001.001"),
        ("ip_address", "time 12:30:45 and mac 00:1a:2b:3c:4d:5e"),
        ("ip_address", "C++ std::vector and a::b"),
        ("secret", "sk-short and sk-"),
        ("secret", "uses sk-learn-compatible-transformers"),
        ("secret", "task-abcdefghij0123456789abcdef"),
        ("secret", "token=aaaaaaaaaaaaaaaaaaaa"),
        ("secret", "password: correcthorsebatterystaple"),
        ("secret", "the token is here"),
        ("secret", "AKIA1234"),
    ],
)
def test_pii_entity_not_found(entity: str, text: str) -> None:
    assert found(text, entity) == []


def test_pii_short_labelled_token_ignored() -> None:
    # A labelled token needs 16 characters from letters, digits and a few
    # URL-safe symbols, so "&" ends this one after 9.
    assert found("password: Tr0ub4dor&3", "secret") == []


def test_pii_private_key_block() -> None:
    text = (
        "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n"
        "-----END RSA PRIVATE KEY-----\nend"
    )
    spans = find_entities(text, ["secret"])
    assert len(spans) == 1
    start, end, _ = spans[0]
    assert text[start:end].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert text[start:end].endswith("-----END RSA PRIVATE KEY-----")


def test_pii_nested_span_dropped() -> None:
    # The IPv4 tail of an IPv4-mapped IPv6 address is not reported twice.
    assert found("mapped ::ffff:192.0.2.1", "ip_address") == ["::ffff:192.0.2.1"]


def test_pii_only_requested_entities() -> None:
    text = "mail a@example.com from 10.0.0.1"
    assert [entity for _, _, entity in find_entities(text, ["email"])] == ["email"]
    assert [entity for _, _, entity in find_entities(text, ENTITIES)] == [
        "email",
        "ip_address",
    ]


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)],
)
def test_luhn_valid_cases(number: str, valid: bool) -> None:
    assert luhn_valid([int(char) for char in number]) is valid


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("DE89370400440532013000", True),
        ("de89370400440532013000", True),
        ("DE89370400440532013001", False),
        ("GB82WEST12345698765432", True),
        ("NO9386011117947", True),
        ("DE8937040044053201300", False),
    ],
)
def test_iban_valid_cases(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid


@pytest.mark.parametrize(
    ("words", "text", "expected"),
    [
        (["class"], "a class of its own", ["class"]),
        (["class"], "a classic car", []),
        (["class"], "subclass", []),
        (["class"], "CLASS dismissed", ["CLASS"]),
        (["class"], "class_name", []),
        (["project x"], "about Project   X today", ["Project   X"]),
        (["project x"], "about project xy", []),
        (["c++"], "I write C++.", ["C++"]),
        (["c++"], "c++x", ["c++"]),
        ([".net"], "asp.net core", [".net"]),
        (["secret"], "xsecret secretx secret_ 2secret", []),
        (["secret"], "secret secret,secret", ["secret", "secret", "secret"]),
        (["secret"], "é secret été", ["secret"]),
        (["naïve"], "naïve naïves", ["naïve"]),
        ([".net"], "we use .NET here", [".NET"]),
        (["café"], "un café noir", ["café"]),
        (["caf"], "un café noir", []),
        (["secret"], "secret-sauce and top secret", ["secret", "secret"]),
        (["project", "project x"], "the project x plan", ["project x"]),
        (["a.b"], "axb a.b", ["a.b"]),
    ],
)
def test_keyword_whole_words(words: list[str], text: str, expected: list[str]) -> None:
    guardrails = compile_guardrails([guardrail("keyword", {"words": words})])
    result = guardrails.scan(text, "input")
    assert [text[match.start : match.end] for match in result.matches] == expected


def test_keyword_many_matches_in_long_text() -> None:
    guardrails = compile_guardrails([guardrail("keyword", {"words": ["secret"]})])
    text = "the secret plan é " * 20_000
    result = guardrails.scan(text, "input")
    assert len(result.matches) == 20_000
    assert result.text.count("[REDACTED]") == 20_000


def test_regex_matches_and_masks() -> None:
    guardrails = compile_guardrails([guardrail("regex", {"pattern": r"ACME-\d{4}"})])
    result = guardrails.scan("ticket ACME-1234 and ACME-99", "output")
    assert result.blocked is False
    assert result.text == "ticket [REDACTED] and ACME-99"
    assert [(match.start, match.end, match.entity) for match in result.matches] == [
        (7, 16, None)
    ]


def test_regex_hostile_pattern_finishes() -> None:
    # RE2 runs in time linear in the text, so a pattern that makes a
    # backtracking engine take exponential time still returns.
    guardrails = compile_guardrails(
        [guardrail("regex", {"pattern": "(a+)+$"}, action="block")]
    )
    text = "a" * 50_000 + "!"
    result = guardrails.scan(text, "input")
    assert result.blocked is False
    assert result.matches == []


@pytest.mark.parametrize(
    ("scope", "direction", "applies"),
    [
        ("input", "input", True),
        ("input", "output", False),
        ("output", "input", False),
        ("output", "output", True),
        ("both", "input", True),
        ("both", "output", True),
    ],
)
def test_scope_selects_direction(scope: str, direction: str, applies: bool) -> None:
    guardrails = compile_guardrails(
        [guardrail("keyword", {"words": ["x"]}, scope=scope)]
    )
    result = guardrails.scan("say x", direction)  # type: ignore[arg-type]
    assert bool(result.matches) is applies
    assert guardrails.applies(direction) is applies  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("actions", "blocked", "text"),
    [
        (["mask"], False, "mail [REDACTED_EMAIL]"),
        (["block"], True, "mail a@example.com"),
        (["mask", "block"], True, "mail [REDACTED_EMAIL]"),
        (["block", "mask"], True, "mail [REDACTED_EMAIL]"),
    ],
)
def test_actions_block_wins(actions: list[str], blocked: bool, text: str) -> None:
    items = [
        guardrail("pii", {"entities": ["email"]}, action=action, gid=f"gr_{index}")
        for index, action in enumerate(actions)
    ]
    result = compile_guardrails(items).scan("mail a@example.com", "input")
    assert result.blocked is blocked
    assert result.text == text
    assert len(result.matches) == len(actions)


def test_match_fields() -> None:
    guardrails = compile_guardrails(
        [guardrail("pii", {"entities": ["email"]}, gid="gr_mail")]
    )
    result = guardrails.scan("to a@example.com", "input")
    assert result.matches == [
        Match(
            guardrail_id="gr_mail",
            name="pii mask",
            kind="pii",
            action="mask",
            entity="email",
            start=3,
            end=16,
        )
    ]
    assert result.to_dict()["matches"][0]["entity"] == "email"


def test_mask_adjacent_matches_kept_apart() -> None:
    items = [
        guardrail("regex", {"pattern": "foo"}, gid="gr_a"),
        guardrail("regex", {"pattern": "bar"}, gid="gr_b"),
    ]
    result = compile_guardrails(items).scan("foobar!", "input")
    assert result.text == "[REDACTED][REDACTED]!"
    assert [(match.start, match.end) for match in result.matches] == [(0, 3), (3, 6)]


def test_mask_overlapping_matches_merged() -> None:
    items = [
        guardrail("pii", {"entities": ["email"]}, gid="gr_pii"),
        guardrail("keyword", {"words": ["example"]}, gid="gr_kw"),
    ]
    result = compile_guardrails(items).scan("to bob@example.com now", "input")
    assert result.text == "to [REDACTED_EMAIL] now"
    assert [match.guardrail_id for match in result.matches] == ["gr_pii", "gr_kw"]


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([], "abcdefghij"),
        ([(0, 10, "email")], "[REDACTED_EMAIL]"),
        ([(2, 4, None), (4, 6, None)], "ab[REDACTED][REDACTED]ghij"),
        ([(2, 6, "phone"), (3, 5, None)], "ab[REDACTED_PHONE]ghij"),
        ([(2, 5, "iban"), (4, 8, None)], "ab[REDACTED_IBAN]ij"),
        ([(1, 3, None), (2, 4, None), (3, 9, "secret")], "a[REDACTED]j"),
        ([(9, 10, "ip_address")], "abcdefghi[REDACTED_IP_ADDRESS]"),
    ],
)
def test_mask_text_positions(
    spans: list[tuple[int, int, str | None]], expected: str
) -> None:
    matches = [
        Match("gr", "n", "pii", "mask", entity, start, end)
        for start, end, entity in spans
    ]
    assert mask_text("abcdefghij", matches) == expected


def test_mask_keeps_unicode_offsets() -> None:
    guardrails = compile_guardrails([guardrail("pii", {"entities": ["email"]})])
    text = "héllo wörld ✓ a@example.com ✓"
    result = guardrails.scan(text, "input")
    assert result.text == "héllo wörld ✓ [REDACTED_EMAIL] ✓"
    match = result.matches[0]
    assert text[match.start : match.end] == "a@example.com"


def test_guardrail_set_empty() -> None:
    empty = GuardrailSet()
    assert empty.empty is True
    assert bool(empty) is False
    assert len(empty) == 0
    result = empty.scan("mail a@example.com", "input")
    assert result.blocked is False
    assert result.text == "mail a@example.com"
    assert result.matches == []


def test_compile_skips_inactive() -> None:
    items = [
        guardrail("keyword", {"words": ["x"]}, active=False),
        guardrail("keyword", {"words": ["y"]}, gid="gr_2"),
    ]
    guardrails = compile_guardrails(items)
    assert len(guardrails) == 1
    assert guardrails.empty is False
    assert guardrails.scan("x y", "input").text == "x [REDACTED]"


def test_compile_rejects_bad_stored_config() -> None:
    with pytest.raises(ValueError, match=r"Guardrail gr_bad .*Invalid regex pattern"):
        compile_guardrails([guardrail("regex", {"pattern": "(a"}, gid="gr_bad")])


def test_scan_rejects_unknown_direction() -> None:
    guardrails = compile_guardrails([guardrail("keyword", {"words": ["x"]})])
    with pytest.raises(ValueError, match="Unknown scan direction 'both'"):
        guardrails.scan("x", "both")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "config", "expected"),
    [
        ("pii", {}, {"entities": list(ENTITIES)}),
        (
            "pii",
            {"entities": [" Email ", "iban", "email"]},
            {"entities": ["email", "iban"]},
        ),
        (
            "keyword",
            {"words": [" Project  X ", "project x", "secret"]},
            {"words": ["Project X", "secret"]},
        ),
        ("regex", {"pattern": r"ACME-\d+"}, {"pattern": r"ACME-\d+"}),
    ],
)
def test_validate_config_normalizes(
    kind: str, config: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert validate_config(kind, config) == expected


@pytest.mark.parametrize(
    ("kind", "config", "message"),
    [
        (
            "toxicity",
            {},
            "Unknown guardrail kind 'toxicity'; use one of: pii, keyword, regex.",
        ),
        (
            "pii",
            {"entites": ["email"]},
            "Unknown setting 'entites' in config of a pii guardrail",
        ),
        (
            "pii",
            {"entities": ["emial"]},
            "Unknown PII entity 'emial' in entities; did you mean 'email'?",
        ),
        (
            "pii",
            {"entities": ["passport"]},
            "Unknown PII entity 'passport' in entities; Use: email",
        ),
        ("pii", {"entities": []}, "entities is empty"),
        ("pii", {"entities": "email"}, "entities must be a list of strings"),
        ("keyword", {}, "A keyword guardrail needs words"),
        ("keyword", {"words": []}, "A keyword guardrail needs words"),
        (
            "keyword",
            {"words": ["ok", "  "]},
            "words[1] is '  '; every word must be a non-empty string.",
        ),
        ("keyword", {"words": ["ok", 3]}, "words[1] is 3"),
        ("keyword", {"words": ["x" * 201]}, "words[0] is longer than 200 characters"),
        ("regex", {}, "A regex guardrail needs pattern"),
        ("regex", {"pattern": ""}, "A regex guardrail needs pattern"),
        ("regex", {"pattern": "(a"}, "Invalid regex pattern '(a': missing ): (a."),
        (
            "regex",
            {"pattern": r"(?<=a)b"},
            "Invalid regex pattern '(?<=a)b': invalid perl operator",
        ),
        (
            "regex",
            {"pattern": r"(a)\1"},
            "Invalid regex pattern '(a)\\1': invalid escape sequence",
        ),
        ("regex", {"pattern": "a*"}, "Regex pattern 'a*' matches the empty string"),
        ("regex", {"pattern": "x" * 2001}, "keep it to 2000 or fewer"),
    ],
)
def test_validate_config_errors(
    kind: str, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        validate_config(kind, config)
    assert message in str(caught.value)


def test_validate_config_rejects_non_object() -> None:
    with pytest.raises(
        ValueError, match="config of a pii guardrail must be a JSON object"
    ):
        validate_config("pii", ["email"])  # type: ignore[arg-type]
