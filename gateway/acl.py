"""Access decisions: which endpoints, providers and models a virtual key may use.

Everything here is pure. `compile_rules` turns a key's five lists into a
`KeyRules` once, when the configuration snapshot is built, and `decide`
checks one request per call with set lookups and at most a few regex matches.

Matching rules:

- Entries match case-insensitively after trimming, and an empty list
  restricts nothing.
- `*` matches any run of characters, except where noted below. Each list's
  globs are compiled into one regex that cannot backtrack badly (see
  `glob_to_regex`), so a hostile entry cannot slow decisions down.
- A bare entry (`gpt-4o`, `gpt-4o*`) names a model from any provider. It is
  matched against the whole model name and against the model name's last
  `/`-separated part. So `llama-3*` matches `meta-llama/llama-3-70b` served by
  `openrouter`, and blocking `gpt-4o` also blocks `openai/gpt-4o` served by
  `openrouter`.
- A qualified entry (`openai/gpt-4o`, `anthropic/*`) is split at its first `/`
  into a provider part and a model part. The provider part is matched against
  the resolved provider alone, so a `*` in it never reaches past the `/` and
  `bedrock/*` does not match `bedrockz/x`. The model part is matched against
  the whole model name, where `*` may span `/`, so `openrouter/*` covers
  `openrouter/meta-llama/llama-3-70b`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gateway.models import VirtualKey

ENDPOINT_FIELD = "allowed_endpoints"
MODEL_FIELDS = ("allowed_models", "blocked_models")
PROVIDER_FIELDS = ("allowed_providers", "blocked_providers")
FIELDS = (ENDPOINT_FIELD, *MODEL_FIELDS, *PROVIDER_FIELDS)
MAX_ENTRY_LENGTH = 200

_ENTRY_CHARACTERS = {
    ENDPOINT_FIELD: re.compile(r"[a-z0-9*-]+"),
    "allowed_models": re.compile(r"[a-z0-9._:@+*/-]+"),
    "blocked_models": re.compile(r"[a-z0-9._:@+*/-]+"),
    "allowed_providers": re.compile(r"[a-z0-9._*-]+"),
    "blocked_providers": re.compile(r"[a-z0-9._*-]+"),
}
_CHARACTER_HINTS = {
    ENDPOINT_FIELD: "lower case letters, digits, '-' and '*'",
    "allowed_models": "letters, digits, '.', '_', ':', '@', '+', '-', '/' and '*'",
    "blocked_models": "letters, digits, '.', '_', ':', '@', '+', '-', '/' and '*'",
    "allowed_providers": "letters, digits, '.', '_', '-' and '*'",
    "blocked_providers": "letters, digits, '.', '_', '-' and '*'",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one access check, with the rule and entry that decided it."""

    allowed: bool
    code: str | None
    """OpenAI error code when denied: `endpoint_not_allowed`, `provider_not_allowed` or
    `model_not_allowed`. None when allowed."""
    rule: str | None
    """The key field that denied the request, such as `blocked_models`.

    None when allowed."""
    entry: str | None
    """The entry that matched a block list.

    None when allowed, and when an allow list matched nothing."""
    reason: str
    """One sentence naming the value, the rule and the entry."""


_ANY = ".*"
_WITHIN_SEGMENT = "[^/]*"


def glob_to_regex(glob: str, star: str = _ANY) -> str:
    """Translate a glob whose only special character is `*` into a regex.

    `star` is what one `*` may match. Each middle piece sits in an atomic
    group after a lazy `star`, so it binds to its first occurrence and the
    regex never backtracks into it. First occurrences are enough because a
    `*` matches any run, so an earlier piece never rules out a later one.
    Matching time is therefore about the name's length times the number of
    pieces, whatever the entry looks like.
    """
    pieces = glob.split("*")
    if len(pieces) == 1:
        return re.escape(glob)

    parts = [re.escape(pieces[0])]
    parts += [f"(?>{star}?{re.escape(piece)})" for piece in pieces[1:-1] if piece]
    parts.append(star + re.escape(pieces[-1]))
    return "".join(parts)


def _qualified_regex(entry: str) -> str:
    provider, _, model = entry.partition("/")
    return f"{glob_to_regex(provider, _WITHIN_SEGMENT)}/{glob_to_regex(model)}"


@dataclass(frozen=True, slots=True)
class _Matcher:
    """Exact entries in a set, and every glob entry in one compiled alternation."""

    exact: frozenset[str]
    pattern: re.Pattern[str] | None
    entry_by_group: Mapping[str, str]

    @classmethod
    def build(cls, entries: Iterable[str], translate: Callable[[str], str]) -> _Matcher:
        entries = tuple(entries)
        exact = frozenset(entry for entry in entries if "*" not in entry)
        globs = [entry for entry in entries if "*" in entry]
        if not globs:
            return cls(exact, None, {})

        groups = {f"g{index}": entry for index, entry in enumerate(globs)}
        alternatives = (
            f"(?P<{name}>{translate(entry)})" for name, entry in groups.items()
        )
        pattern = re.compile("(?:" + "|".join(alternatives) + r")\Z", re.DOTALL)
        return cls(exact, pattern, MappingProxyType(groups))

    def find(self, value: str) -> str | None:
        """Return the entry that matches `value`, or None."""
        if value in self.exact:
            return value
        if self.pattern is None:
            return None
        found = self.pattern.match(value)
        if found is None or found.lastgroup is None:
            return None
        return self.entry_by_group[found.lastgroup]


def _name_matcher(entries: Iterable[str]) -> _Matcher:
    return _Matcher.build(entries, glob_to_regex)


@dataclass(frozen=True, slots=True)
class _ModelMatcher:
    """Bare and qualified entries of `allowed_models` or `blocked_models`."""

    bare: _Matcher
    qualified: _Matcher

    @classmethod
    def build(cls, entries: Iterable[str]) -> _ModelMatcher:
        entries = tuple(entries)
        bare = _name_matcher(entry for entry in entries if "/" not in entry)
        qualified = (entry for entry in entries if "/" in entry)
        return cls(bare, _Matcher.build(qualified, _qualified_regex))

    def find(self, model: str, qualified: str) -> tuple[str, str] | None:
        """Return the matching entry and the value it matched, or None.

        The value is the bare model for a bare entry and `provider/model`
        for a qualified one, so a reason reads like the entry it quotes.
        """
        entry = self.bare.find(model)
        if entry is None and "/" in model:
            entry = self.bare.find(model.rpartition("/")[2])
        if entry is not None:
            return entry, model

        entry = self.qualified.find(qualified)
        return (entry, qualified) if entry is not None else None


@dataclass(frozen=True, slots=True)
class KeyRules:
    """A virtual key's access lists, normalized and compiled for `decide`."""

    allowed_endpoints: tuple[str, ...]
    allowed_models: tuple[str, ...]
    blocked_models: tuple[str, ...]
    allowed_providers: tuple[str, ...]
    blocked_providers: tuple[str, ...]
    endpoint_allow: _Matcher
    model_allow: _ModelMatcher
    model_block: _ModelMatcher
    provider_allow: _Matcher
    provider_block: _Matcher
    listed: Mapping[str, str]
    """Each list joined with ", ", built once for the reasons that `decide` writes."""
    decisions: dict[tuple[str | None, str, str], Decision] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Decisions already made with these rules; see `decide`."""


def normalize_entries(entries: Iterable[str]) -> tuple[str, ...]:
    """Trim and lower-case entries, then drop empty ones and repeats, keeping order."""
    cleaned = (entry.strip().lower() for entry in entries)
    return tuple(dict.fromkeys(entry for entry in cleaned if entry))


def compile_rules(key: VirtualKey) -> KeyRules:
    """Compile a key's five access lists for `decide`.

    Entries are normalized here as well, so rules stored before validation
    existed still match case-insensitively.
    """
    endpoints = normalize_entries(key.allowed_endpoints)
    allowed_models = normalize_entries(key.allowed_models)
    blocked_models = normalize_entries(key.blocked_models)
    allowed_providers = normalize_entries(key.allowed_providers)
    blocked_providers = normalize_entries(key.blocked_providers)
    return KeyRules(
        allowed_endpoints=endpoints,
        allowed_models=allowed_models,
        blocked_models=blocked_models,
        allowed_providers=allowed_providers,
        blocked_providers=blocked_providers,
        endpoint_allow=_name_matcher(endpoints),
        model_allow=_ModelMatcher.build(allowed_models),
        model_block=_ModelMatcher.build(blocked_models),
        provider_allow=_name_matcher(allowed_providers),
        provider_block=_name_matcher(blocked_providers),
        listed=MappingProxyType(
            {
                "allowed_endpoints": ", ".join(endpoints),
                "allowed_models": ", ".join(allowed_models),
                "allowed_providers": ", ".join(allowed_providers),
            }
        ),
    )


# Distinct (endpoint, provider, model) triples remembered per key. Real keys
# see a handful; the bound only stops arbitrary explain calls from growing it.
MAX_REMEMBERED_DECISIONS = 4096


def decide(
    rules: KeyRules, *, endpoint_slug: str | None, provider: str, model: str
) -> Decision:
    """Decide like `evaluate`, and remember the decision for these rules.

    Rules are immutable and rebuilt whenever the key changes, so a decision
    stays valid for as long as its `KeyRules` lives. A request for an endpoint
    decided before costs one dictionary lookup.
    """
    question = (endpoint_slug, provider, model)
    known = rules.decisions.get(question)
    if known is not None:
        return known
    decision = evaluate(
        rules, endpoint_slug=endpoint_slug, provider=provider, model=model
    )
    if len(rules.decisions) >= MAX_REMEMBERED_DECISIONS:
        rules.decisions.clear()
    rules.decisions[question] = decision
    return decision


def evaluate(
    rules: KeyRules, *, endpoint_slug: str | None, provider: str, model: str
) -> Decision:
    """Decide whether a key may send a request to `provider` and `model`.

    `provider` is the endpoint's resolved provider and `model` the model name
    without the provider prefix, so an endpoint slug that aliases a blocked
    model is still denied. `endpoint_slug` is checked against
    `allowed_endpoints` when given; pass None to ask about a model alone.
    Checks run in this order, and the first that fails decides: the endpoint
    list, `blocked_providers`, `allowed_providers`, `blocked_models`,
    `allowed_models`. So a block entry wins over any allow entry.
    """
    if endpoint_slug is not None and rules.allowed_endpoints:
        denied = _check_endpoint(rules, endpoint_slug.strip().lower())
        if denied is not None:
            return denied

    provider = provider.strip().lower()
    model = model.strip().lower()
    qualified = f"{provider}/{model}"
    denied = _check_providers(rules, provider)
    if denied is not None:
        return denied

    if rules.blocked_models:
        blocked = rules.model_block.find(model, qualified)
        if blocked is not None:
            entry, value = blocked
            reason = f"{value} matches '{entry}' in blocked_models"
            return _deny("model_not_allowed", "blocked_models", entry, reason)

    if not rules.allowed_models:
        return _allowed_without_model_rule(rules, provider, qualified)
    allowed = rules.model_allow.find(model, qualified)
    if allowed is None:
        listed = rules.listed["allowed_models"]
        reason = f"{qualified} matches no entry in allowed_models ({listed})"
        return _deny("model_not_allowed", "allowed_models", None, reason)
    entry, value = allowed
    return _allow(f"allowed: {value} matches '{entry}' in allowed_models")


def _deny(code: str, rule: str, entry: str | None, reason: str) -> Decision:
    return Decision(False, code, rule, entry, reason)


def _allow(reason: str) -> Decision:
    return Decision(True, None, None, None, reason)


def _check_endpoint(rules: KeyRules, slug: str) -> Decision | None:
    if rules.endpoint_allow.find(slug) is not None:
        return None
    listed = rules.listed["allowed_endpoints"]
    reason = f"endpoint '{slug}' is not in allowed_endpoints ({listed})"
    return _deny("endpoint_not_allowed", "allowed_endpoints", None, reason)


def _check_providers(rules: KeyRules, provider: str) -> Decision | None:
    if rules.blocked_providers:
        entry = rules.provider_block.find(provider)
        if entry is not None:
            reason = f"provider '{provider}' matches '{entry}' in blocked_providers"
            return _deny("provider_not_allowed", "blocked_providers", entry, reason)

    if not rules.allowed_providers:
        return None
    if rules.provider_allow.find(provider) is not None:
        return None
    listed = rules.listed["allowed_providers"]
    reason = f"provider '{provider}' is not in allowed_providers ({listed})"
    return _deny("provider_not_allowed", "allowed_providers", None, reason)


def _allowed_without_model_rule(
    rules: KeyRules, provider: str, qualified: str
) -> Decision:
    if not rules.allowed_providers:
        return _allow(f"allowed: no model or provider rule restricts {qualified}")
    entry = rules.provider_allow.find(provider)
    return _allow(
        f"allowed: provider '{provider}' matches '{entry}' in allowed_providers"
    )


def describe(rules: KeyRules) -> dict[str, list[str]]:
    """Return the normalized lists by field name, for pages and the admin API."""
    return {field: list(getattr(rules, field)) for field in FIELDS}


def validate_entries(
    field: str, entries: list[str], known_providers: Collection[str]
) -> list[str]:
    """Check and normalize one access list before a key is saved.

    Returns the entries trimmed, lower-cased and without empty ones or
    duplicates. Raises ValueError naming the field and the first bad entry.
    An entry is bad when it has a character outside the field's set, `**`,
    or an empty part around a `/`. It is also bad when a provider name is not
    in `known_providers`, which applies to provider lists and to the part
    before the `/` of a qualified model entry. A provider glob must match at
    least one known provider.
    """
    if field not in FIELDS:
        raise ValueError(
            f"Unknown access list '{field}'; use one of: {', '.join(FIELDS)}."
        )
    if isinstance(entries, str) or not all(isinstance(entry, str) for entry in entries):
        raise ValueError(f'{field} must be a list of strings, such as ["gpt-4o"].')

    known = frozenset(name.strip().lower() for name in known_providers)
    normalized = list(normalize_entries(entries))
    for entry in normalized:
        _check_syntax(field, entry)
        if field in PROVIDER_FIELDS:
            _check_provider(field, entry, entry, known)
        elif field in MODEL_FIELDS and "/" in entry:
            _check_provider(field, entry.partition("/")[0], entry, known)
    return normalized


def _check_syntax(field: str, entry: str) -> None:
    if len(entry) > MAX_ENTRY_LENGTH:
        raise ValueError(
            f"Entry '{entry[:40]}...' in {field} is longer than "
            f"{MAX_ENTRY_LENGTH} characters; shorten it or use a '*' wildcard."
        )
    if not _ENTRY_CHARACTERS[field].fullmatch(entry):
        raise ValueError(
            f"Invalid entry '{entry}' in {field}: use only {_CHARACTER_HINTS[field]}."
        )
    if "**" in entry:
        raise ValueError(
            f"Invalid entry '{entry}' in {field}: '**' is not supported; "
            "use a single '*', which already matches any run of characters."
        )
    if "" in entry.split("/"):
        raise ValueError(
            f"Invalid entry '{entry}' in {field}: it has an empty part before, "
            "between or after '/'; write 'provider/model' or a bare model name."
        )


def _check_provider(
    field: str, provider: str, entry: str, known: frozenset[str]
) -> None:
    if "*" in provider:
        pattern = re.compile(glob_to_regex(provider) + r"\Z")
        if any(pattern.match(name) for name in known):
            return
        raise ValueError(
            f"Provider pattern '{provider}' in {field} matches no known provider; "
            "check the spelling against the ids that GET /admin/providers returns."
        )
    if provider in known:
        return
    raise ValueError(_unknown_provider_message(field, provider, entry, known))


def _unknown_provider_message(
    field: str, provider: str, entry: str, known: frozenset[str]
) -> str:
    close = difflib.get_close_matches(provider, sorted(known), n=1)
    if entry == provider:
        if close:
            return (
                f"Unknown provider '{provider}' in {field}; did you mean '{close[0]}'?"
            )
        return (
            f"Unknown provider '{provider}' in {field}; "
            "use a provider id that GET /admin/providers returns, such as 'openai'."
        )

    # The part before "/" may be a misspelt provider, or the organisation in a
    # model name such as meta-llama/llama-3-70b, so the message covers both.
    model = entry.partition("/")[2]
    last_part = entry.rpartition("/")[2]
    typo_hint = f"If it is a typo, did you mean '{close[0]}/{model}'? " if close else ""
    return (
        f"Unknown provider '{provider}' in entry '{entry}' of {field}: an entry "
        f"with '/' starts with a provider id. {typo_hint}For a model name that "
        f"contains '/', put the provider first, such as 'openrouter/{entry}', "
        f"or write the bare model name '{last_part}'."
    )
