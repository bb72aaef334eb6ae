"""Access rules: every rule of `decide` and `validate_entries`, as tables of cases."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.acl import (
    FIELDS,
    MAX_REMEMBERED_DECISIONS,
    Decision,
    KeyRules,
    compile_rules,
    decide,
    describe,
    evaluate,
    glob_to_regex,
    validate_entries,
)
from gateway.models import VirtualKey

KNOWN_PROVIDERS = (
    "openai",
    "anthropic",
    "azure",
    "azure_ai",
    "bedrock",
    "gemini",
    "groq",
    "mistral",
    "ollama",
    "openrouter",
)


def rules(**lists: Any) -> KeyRules:
    key = VirtualKey(
        id="vk_test", name="test", key_hash="0" * 64, key_prefix="sk-gw-test", **lists
    )
    return compile_rules(key)


def check(
    key_rules: KeyRules, provider: str, model: str, endpoint_slug: str | None = None
) -> Decision:
    return decide(
        key_rules, endpoint_slug=endpoint_slug, provider=provider, model=model
    )


# (key lists, provider, model, expected allowed)
MODEL_AND_PROVIDER_CASES: list[tuple[dict[str, Any], str, str, bool]] = [
    # Empty lists restrict nothing.
    ({}, "openai", "gpt-4o", True),
    ({}, "bedrock", "anthropic.claude-3", True),
    # Exact bare entries match the model from any provider.
    ({"allowed_models": ("gpt-4o",)}, "openai", "gpt-4o", True),
    ({"allowed_models": ("gpt-4o",)}, "azure", "gpt-4o", True),
    ({"allowed_models": ("gpt-4o",)}, "openai", "gpt-4o-mini", False),
    ({"blocked_models": ("gpt-4o",)}, "azure", "gpt-4o", False),
    # Qualified entries match only from their provider.
    ({"allowed_models": ("openai/gpt-4o",)}, "openai", "gpt-4o", True),
    ({"allowed_models": ("openai/gpt-4o",)}, "azure", "gpt-4o", False),
    ({"blocked_models": ("openai/gpt-4o",)}, "azure", "gpt-4o", True),
    ({"blocked_models": ("openai/gpt-4o",)}, "openai", "gpt-4o", False),
    # Case and whitespace of entries and of the request do not matter.
    ({"allowed_models": ("  GPT-4o ",)}, "openai", "gpt-4o", True),
    ({"allowed_models": ("gpt-4o",)}, " OpenAI ", " GPT-4O ", True),
    ({"blocked_models": (" OpenAI/GPT-4o",)}, "openai", "gpt-4o", False),
    ({"blocked_providers": (" OPENAI ",)}, "openai", "gpt-4o", False),
    ({"allowed_providers": ("Anthropic",)}, "ANTHROPIC", "claude-3", True),
    # Wildcards.
    ({"allowed_models": ("gpt-4o*",)}, "openai", "gpt-4o", True),
    ({"allowed_models": ("gpt-4o*",)}, "openai", "gpt-4o-mini-2024-07-18", True),
    ({"allowed_models": ("gpt-4o*",)}, "openai", "gpt-4", False),
    ({"allowed_models": ("*-mini",)}, "openai", "gpt-4o-mini", True),
    ({"allowed_models": ("*-mini",)}, "openai", "gpt-4o-mini-tts", False),
    ({"allowed_models": ("gpt-*-mini",)}, "openai", "gpt-4o-mini", True),
    ({"allowed_models": ("gpt-*-mini",)}, "openai", "gpt-mini", False),
    ({"allowed_models": ("*",)}, "groq", "llama3-8b", True),
    ({"allowed_models": ("anthropic/*",)}, "anthropic", "claude-3-5-haiku", True),
    ({"allowed_models": ("anthropic/*",)}, "bedrock", "claude-3-5-haiku", False),
    ({"allowed_models": ("*/gpt-4o",)}, "azure", "gpt-4o", True),
    ({"allowed_models": ("*/gpt-4o",)}, "azure", "gpt-4o-mini", False),
    ({"allowed_models": ("azure*/gpt-4o",)}, "azure_ai", "gpt-4o", True),
    ({"allowed_providers": ("azure*",)}, "azure_ai", "gpt-4o", True),
    ({"allowed_providers": ("azure*",)}, "openai", "gpt-4o", False),
    ({"blocked_providers": ("*",)}, "openai", "gpt-4o", False),
    # A wildcard never reaches across "/" into another provider's name.
    ({"allowed_models": ("bedrock/*",)}, "bedrockz", "x", False),
    ({"allowed_models": ("bedrock/*",)}, "bedrock", "x", True),
    ({"blocked_models": ("bedrock/*",)}, "bedrockz", "x", True),
    ({"allowed_models": ("bedrock*/x",)}, "bedrockz", "x", True),
    (
        {"allowed_models": ("*/llama-3-70b",)},
        "openrouter",
        "meta-llama/llama-3-70b",
        False,
    ),
    # Models whose name has a "/" of its own, served by an aggregator.
    ({"allowed_models": ("llama-3*",)}, "openrouter", "meta-llama/llama-3-70b", True),
    ({"blocked_models": ("gpt-4o",)}, "openrouter", "openai/gpt-4o", False),
    ({"blocked_models": ("meta*",)}, "openrouter", "meta-llama/llama-3-70b", False),
    (
        {"allowed_models": ("openrouter/*",)},
        "openrouter",
        "meta-llama/llama-3-70b",
        True,
    ),
    (
        {"allowed_models": ("openrouter/meta-llama/*",)},
        "openrouter",
        "meta-llama/llama-3-70b",
        True,
    ),
    (
        {"allowed_models": ("openrouter/meta-llama/*",)},
        "openrouter",
        "openai/gpt-4o",
        False,
    ),
    ({"allowed_models": ("openai/gpt-4o",)}, "openrouter", "openai/gpt-4o", False),
    ({"allowed_models": ("llama-3*",)}, "openrouter", "meta-llama/codellama-3", False),
    # Block beats allow, for models and for providers.
    (
        {"allowed_models": ("gpt-4o*",), "blocked_models": ("gpt-4o-audio*",)},
        "openai",
        "gpt-4o-audio-preview",
        False,
    ),
    (
        {"allowed_models": ("gpt-4o*",), "blocked_models": ("gpt-4o-audio*",)},
        "openai",
        "gpt-4o-mini",
        True,
    ),
    (
        {"allowed_providers": ("openai",), "blocked_providers": ("openai",)},
        "openai",
        "gpt-4o",
        False,
    ),
    (
        {"allowed_models": ("openai/gpt-4o",), "blocked_providers": ("openai",)},
        "openai",
        "gpt-4o",
        False,
    ),
    # Provider and model lists must both pass.
    (
        {"allowed_providers": ("openai",), "allowed_models": ("claude-*",)},
        "openai",
        "gpt-4o",
        False,
    ),
    (
        {"allowed_providers": ("anthropic",), "allowed_models": ("claude-*",)},
        "anthropic",
        "claude-3",
        True,
    ),
    ({"allowed_providers": ("anthropic",)}, "openai", "gpt-4o", False),
    ({"blocked_providers": ("anthropic",)}, "openai", "gpt-4o", True),
]


@pytest.mark.parametrize(
    ("lists", "provider", "model", "allowed"), MODEL_AND_PROVIDER_CASES
)
def test_decide_models_and_providers(
    lists: dict[str, Any], provider: str, model: str, allowed: bool
) -> None:
    decision = check(rules(**lists), provider, model)
    assert decision.allowed is allowed, decision.reason


# (key lists, endpoint slug, provider, model, code, rule, entry)
DENIAL_CASES: list[
    tuple[dict[str, Any], str | None, str, str, str, str, str | None]
] = [
    (
        {"allowed_endpoints": ("gpt4o",)},
        "cheap",
        "openai",
        "gpt-4o",
        "endpoint_not_allowed",
        "allowed_endpoints",
        None,
    ),
    (
        {"blocked_providers": ("open*",)},
        None,
        "openai",
        "gpt-4o",
        "provider_not_allowed",
        "blocked_providers",
        "open*",
    ),
    (
        {"allowed_providers": ("anthropic",)},
        None,
        "openai",
        "gpt-4o",
        "provider_not_allowed",
        "allowed_providers",
        None,
    ),
    (
        {"blocked_models": ("gpt-4o*",)},
        None,
        "openai",
        "gpt-4o",
        "model_not_allowed",
        "blocked_models",
        "gpt-4o*",
    ),
    (
        {"blocked_models": ("openai/gpt-4o",)},
        None,
        "openai",
        "gpt-4o",
        "model_not_allowed",
        "blocked_models",
        "openai/gpt-4o",
    ),
    (
        {"allowed_models": ("claude-*",)},
        None,
        "openai",
        "gpt-4o",
        "model_not_allowed",
        "allowed_models",
        None,
    ),
    # The endpoint list is checked first, then providers, then models.
    (
        {"allowed_endpoints": ("a",), "blocked_providers": ("openai",)},
        "b",
        "openai",
        "gpt-4o",
        "endpoint_not_allowed",
        "allowed_endpoints",
        None,
    ),
    (
        {"blocked_providers": ("openai",), "blocked_models": ("gpt-4o",)},
        None,
        "openai",
        "gpt-4o",
        "provider_not_allowed",
        "blocked_providers",
        "openai",
    ),
    (
        {"allowed_providers": ("groq",), "blocked_models": ("gpt-4o",)},
        None,
        "openai",
        "gpt-4o",
        "provider_not_allowed",
        "allowed_providers",
        None,
    ),
    (
        {"blocked_models": ("gpt-4o",), "allowed_models": ("claude-*",)},
        None,
        "openai",
        "gpt-4o",
        "model_not_allowed",
        "blocked_models",
        "gpt-4o",
    ),
]


@pytest.mark.parametrize(
    ("lists", "slug", "provider", "model", "code", "rule", "entry"), DENIAL_CASES
)
def test_decide_denial_fields(
    lists: dict[str, Any],
    slug: str | None,
    provider: str,
    model: str,
    code: str,
    rule: str,
    entry: str | None,
) -> None:
    decision = check(rules(**lists), provider, model, endpoint_slug=slug)
    assert decision.allowed is False
    assert decision.code == code
    assert decision.rule == rule
    assert decision.entry == entry


@pytest.mark.parametrize(
    ("lists", "slug", "allowed"),
    [
        ({}, "anything", True),
        ({"allowed_endpoints": ("gpt4o", "cheap")}, "cheap", True),
        ({"allowed_endpoints": ("gpt4o",)}, "cheap", False),
        ({"allowed_endpoints": ("gpt4o",)}, " GPT4O ", True),
        ({"allowed_endpoints": ("chat-*",)}, "chat-main", True),
        ({"allowed_endpoints": ("chat-*",)}, "support-chat", False),
        ({"allowed_endpoints": ("gpt4o",)}, None, True),
    ],
)
def test_decide_endpoint_whitelist(
    lists: dict[str, Any], slug: str | None, allowed: bool
) -> None:
    decision = check(rules(**lists), "openai", "gpt-4o", endpoint_slug=slug)
    assert decision.allowed is allowed, decision.reason


def test_decide_alias_slug_still_denied() -> None:
    # The endpoint `cheap` points at gpt-4o; its slug is allowed, its model is not.
    key_rules = rules(allowed_endpoints=("cheap",), blocked_models=("gpt-4o",))
    decision = check(key_rules, "openai", "gpt-4o", endpoint_slug="cheap")
    assert decision.allowed is False
    assert decision.code == "model_not_allowed"
    assert decision.entry == "gpt-4o"


@pytest.mark.parametrize(
    ("lists", "provider", "model", "reason"),
    [
        (
            {},
            "openai",
            "gpt-4o",
            "allowed: no model or provider rule restricts openai/gpt-4o",
        ),
        (
            {"allowed_models": ("gpt-4o*",)},
            "openai",
            "gpt-4o",
            "allowed: gpt-4o matches 'gpt-4o*' in allowed_models",
        ),
        (
            {"allowed_models": ("openai/*",)},
            "openai",
            "gpt-4o",
            "allowed: openai/gpt-4o matches 'openai/*' in allowed_models",
        ),
        (
            {"allowed_providers": ("openai",)},
            "openai",
            "gpt-4o",
            "allowed: provider 'openai' matches 'openai' in allowed_providers",
        ),
        (
            {"blocked_models": ("gpt-4o*",)},
            "openai",
            "gpt-4o",
            "gpt-4o matches 'gpt-4o*' in blocked_models",
        ),
        (
            {"blocked_providers": ("openai",)},
            "openai",
            "gpt-4o",
            "provider 'openai' matches 'openai' in blocked_providers",
        ),
        (
            {"allowed_providers": ("anthropic", "groq")},
            "openai",
            "gpt-4o",
            "provider 'openai' is not in allowed_providers (anthropic, groq)",
        ),
        (
            {"allowed_models": ("claude-*",)},
            "openai",
            "gpt-4o",
            "openai/gpt-4o matches no entry in allowed_models (claude-*)",
        ),
    ],
)
def test_decide_reason_text(
    lists: dict[str, Any], provider: str, model: str, reason: str
) -> None:
    assert check(rules(**lists), provider, model).reason == reason


def test_decide_endpoint_reason_names_slug() -> None:
    decision = check(
        rules(allowed_endpoints=("gpt4o",)), "openai", "gpt-4o", endpoint_slug="cheap"
    )
    assert decision.reason == "endpoint 'cheap' is not in allowed_endpoints (gpt4o)"


def test_decide_allowed_has_no_code() -> None:
    decision = check(rules(allowed_models=("gpt-4o",)), "openai", "gpt-4o")
    assert decision == Decision(
        allowed=True,
        code=None,
        rule=None,
        entry=None,
        reason="allowed: gpt-4o matches 'gpt-4o' in allowed_models",
    )


def test_decision_is_frozen() -> None:
    decision = check(rules(), "openai", "gpt-4o")
    with pytest.raises(AttributeError):
        decision.allowed = False  # type: ignore[misc]


def test_compile_rules_normalizes_lists() -> None:
    key_rules = rules(
        allowed_models=(" GPT-4o ", "gpt-4o", "", "  "), blocked_providers=("Bedrock",)
    )
    described = describe(key_rules)
    assert list(described) == list(FIELDS)
    assert described["allowed_models"] == ["gpt-4o"]
    assert described["blocked_providers"] == ["bedrock"]
    assert described["allowed_endpoints"] == []


@pytest.mark.parametrize(
    ("glob", "value", "matches"),
    [
        ("a*b*c", "abc", True),
        ("a*b*c", "axxbyyc", True),
        ("a*b*c", "acb", False),
        ("a*b*b", "ab", False),
        ("a*b*b", "abb", True),
        ("*a*a*a*a*a*a*a*a*b", "a" * 200, False),
        ("gpt.4o", "gpt-4o", False),
        ("x+y", "x+y", True),
    ],
)
def test_glob_to_regex_cases(glob: str, value: str, matches: bool) -> None:
    import re

    assert bool(re.match(glob_to_regex(glob) + r"\Z", value)) is matches


@pytest.mark.parametrize(
    ("field", "entries", "expected"),
    [
        (
            "allowed_models",
            [" GPT-4o ", "gpt-4o", "", "anthropic/*"],
            ["gpt-4o", "anthropic/*"],
        ),
        (
            "blocked_models",
            ["*/gpt-4o", "azure*/gpt-4o"],
            ["*/gpt-4o", "azure*/gpt-4o"],
        ),
        (
            "allowed_models",
            ["openrouter/meta-llama/llama-3-70b"],
            ["openrouter/meta-llama/llama-3-70b"],
        ),
        (
            "allowed_models",
            ["anthropic.claude-3-5-sonnet-20240620-v1:0"],
            ["anthropic.claude-3-5-sonnet-20240620-v1:0"],
        ),
        (
            "allowed_models",
            ["vertex_ai/claude-3-5-sonnet@20240620"],
            ["vertex_ai/claude-3-5-sonnet@20240620"],
        ),
        ("allowed_providers", ["OpenAI", "azure*"], ["openai", "azure*"]),
        ("blocked_providers", [], []),
        ("allowed_endpoints", ["GPT4o", "chat-*"], ["gpt4o", "chat-*"]),
    ],
)
def test_validate_entries_normalizes(
    field: str, entries: list[str], expected: list[str]
) -> None:
    known = (*KNOWN_PROVIDERS, "vertex_ai")
    assert validate_entries(field, entries, known) == expected


@pytest.mark.parametrize(
    ("field", "entries", "message"),
    [
        (
            "blocked_providers",
            ["opnai"],
            "Unknown provider 'opnai' in blocked_providers; did you mean 'openai'?",
        ),
        (
            "allowed_providers",
            ["antropic"],
            "Unknown provider 'antropic' in allowed_providers; "
            "did you mean 'anthropic'?",
        ),
        (
            "allowed_providers",
            ["xyzzy"],
            "Unknown provider 'xyzzy' in allowed_providers; use a provider id",
        ),
        (
            "allowed_providers",
            ["zz*"],
            "Provider pattern 'zz*' in allowed_providers matches no known provider",
        ),
        (
            "allowed_providers",
            ["openai/gpt-4o"],
            "Invalid entry 'openai/gpt-4o' in allowed_providers",
        ),
        (
            "allowed_models",
            ["opnai/gpt-4o"],
            "Unknown provider 'opnai' in entry 'opnai/gpt-4o' of allowed_models",
        ),
        ("allowed_models", ["opnai/gpt-4o"], "did you mean 'openai/gpt-4o'?"),
        ("allowed_models", ["xyzzy/gpt-4o"], "or write the bare model name 'gpt-4o'"),
        (
            "blocked_models",
            ["meta-llama/llama-3-70b"],
            "such as 'openrouter/meta-llama/llama-3-70b'",
        ),
        (
            "allowed_models",
            ["gpt 4o"],
            "Invalid entry 'gpt 4o' in allowed_models: use only",
        ),
        (
            "allowed_models",
            ["gpt-4o;drop"],
            "Invalid entry 'gpt-4o;drop' in allowed_models",
        ),
        ("allowed_models", ["gpt-4o**"], "'**' is not supported"),
        ("allowed_models", ["openai//gpt-4o"], "empty part"),
        ("allowed_models", ["openai/"], "empty part"),
        ("blocked_models", ["/gpt-4o"], "empty part"),
        (
            "allowed_endpoints",
            ["cheap_model"],
            "Invalid entry 'cheap_model' in allowed_endpoints",
        ),
        ("allowed_models", ["x" * 201], "longer than 200 characters"),
        ("allowed_modles", ["gpt-4o"], "Unknown access list 'allowed_modles'"),
    ],
)
def test_validate_entries_errors(field: str, entries: list[str], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate_entries(field, entries, KNOWN_PROVIDERS)
    assert message in str(caught.value)


def test_validate_entries_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="allowed_models must be a list of strings"):
        validate_entries("allowed_models", ["gpt-4o", 4], KNOWN_PROVIDERS)  # type: ignore[list-item]


def test_decide_remembers_same_answer_as_evaluate() -> None:
    rules = compile_rules(
        VirtualKey(
            id="vk_memo",
            name="memo",
            key_hash="0" * 64,
            key_prefix="sk-gw-memo00",
            blocked_models=("gpt-3.5*",),
        )
    )
    for model in ("gpt-4o", "gpt-3.5-turbo", "gpt-4o"):
        first = decide(rules, endpoint_slug="chat", provider="openai", model=model)
        again = decide(rules, endpoint_slug="chat", provider="openai", model=model)
        fresh = evaluate(rules, endpoint_slug="chat", provider="openai", model=model)
        assert again is first
        assert first == fresh
    assert len(rules.decisions) == 2


def test_decide_memory_is_bounded() -> None:
    rules = compile_rules(
        VirtualKey(
            id="vk_many", name="many", key_hash="0" * 64, key_prefix="sk-gw-many00"
        )
    )
    for number in range(MAX_REMEMBERED_DECISIONS + 10):
        decide(rules, endpoint_slug=None, provider="openai", model=f"m{number}")
    assert len(rules.decisions) <= MAX_REMEMBERED_DECISIONS
