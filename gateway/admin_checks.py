"""Checks of admin input that go beyond types: slugs, provider names, model ids.

Each check raises `InvalidRequest` with the field as `param` and a message
that names the bad value and what to send instead.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from gateway import acl
from gateway.catalog import known_providers
from gateway.errors import InvalidRequest

SLUG_MAX_LENGTH = 63
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SLUG_RULE = (
    "use 1 to 63 lower case letters, digits and dashes, "
    "starting and ending with a letter or digit"
)
ACCESS_FIELDS = acl.FIELDS


@dataclass(frozen=True)
class SlugCheck:
    slug: str
    valid: bool
    available: bool
    message: str
    suggestion: str | None


def slug_problem(slug: str) -> str | None:
    """Return why `slug` is not a valid endpoint slug, or None when it is."""
    if _SLUG.fullmatch(slug):
        return None
    if not slug:
        return "The slug is empty; " + _SLUG_RULE + "."
    if len(slug) > SLUG_MAX_LENGTH:
        return f"The slug is {len(slug)} characters long; " + _SLUG_RULE + "."
    return f"Invalid slug '{slug}': " + _SLUG_RULE + "."


def suggest_slug(text: str, taken: set[str]) -> str | None:
    """Turn `text` into a free valid slug, or None when no letter or digit is left."""
    base = re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")
    base = base[:SLUG_MAX_LENGTH].strip("-")
    if not base:
        return None
    candidate = base
    number = 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate = base[: SLUG_MAX_LENGTH - len(suffix)].rstrip("-") + suffix
        number += 1
    return candidate


def check_slug(slug: str, taken: set[str]) -> SlugCheck:
    """Describe whether `slug` may name a new endpoint, for checking as it is typed."""
    problem = slug_problem(slug)
    if problem is not None:
        return SlugCheck(slug, False, False, problem, suggest_slug(slug, taken))
    if slug in taken:
        message = f"An endpoint with slug '{slug}' already exists; pick another slug."
        return SlugCheck(slug, True, False, message, suggest_slug(slug, taken))
    return SlugCheck(slug, True, True, f"Slug '{slug}' is available.", None)


def require_slug(slug: str) -> str:
    problem = slug_problem(slug)
    if problem is not None:
        raise InvalidRequest(problem, param="slug")
    return slug


def require_provider(provider: str, param: str = "provider") -> str:
    """Return the provider id in lower case, or raise naming the closest known id."""
    name = provider.strip().lower()
    known = known_providers()
    if name in known:
        return name
    close = difflib.get_close_matches(name, known, n=1)
    hint = (
        f"did you mean '{close[0]}'?" if close else "GET /admin/providers lists them."
    )
    raise InvalidRequest(
        f"Unknown provider '{provider}'; use a litellm provider id, {hint}",
        param=param,
    )


def require_model(model: str, key_provider: str) -> str:
    """Return the model id; reject a provider prefix that differs from the key's."""
    if not model or any(character.isspace() for character in model):
        raise InvalidRequest(
            f"Invalid model '{model}': use a litellm model id without spaces, "
            "such as 'openai/gpt-4o'.",
            param="model",
        )
    prefix, slash, _ = model.partition("/")
    prefix = prefix.lower()
    if slash and prefix in known_providers() and prefix != key_provider:
        raise InvalidRequest(
            f"Model '{model}' is for provider '{prefix}', but the provider key "
            f"is for '{key_provider}'; pick a provider key for '{prefix}' or a "
            f"model that starts with '{key_provider}/'.",
            param="model",
        )
    return model


def require_api_base(api_base: str | None) -> str | None:
    if api_base is None or api_base == "":
        return None
    if not re.match(r"https?://[^\s/]+", api_base):
        raise InvalidRequest(
            f"Invalid api_base '{api_base}': use an http:// or https:// URL, "
            "or leave it empty for the provider's default.",
            param="api_base",
        )
    return api_base.rstrip("/")


def require_access_list(field: str, entries: list[str]) -> tuple[str, ...]:
    """Normalize one of a key's access lists, raising with the field as `param`."""
    try:
        return tuple(acl.validate_entries(field, entries, known_providers()))
    except ValueError as exc:
        raise InvalidRequest(str(exc), param=field) from None


def require_known_endpoints(
    entries: tuple[str, ...], slugs: Collection[str], kept: Collection[str] = ()
) -> tuple[str, ...]:
    """Return a key's `allowed_endpoints`, rejecting a slug that names no endpoint.

    Wildcard entries pass unchecked, because they may be meant for endpoints
    created later. Entries in `kept` also pass, because the key lists them
    already, so a key whose endpoint was deleted can still be edited.
    """
    for entry in entries:
        if "*" in entry or entry in slugs or entry in kept:
            continue
        close = difflib.get_close_matches(entry, list(slugs), n=1)
        hint = "create the endpoint first, then add its slug."
        if close:
            hint = f"did you mean '{close[0]}'?"
        raise InvalidRequest(
            f"Endpoint '{entry}' in allowed_endpoints not found; {hint}",
            param="allowed_endpoints",
        )
    return entries
