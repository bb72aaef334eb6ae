"""The ordered checks that every data plane and playground request passes.

Order: parse (in `request_body`), authenticate, resolve the endpoint, the
endpoint whitelist, the model and provider ACL for the endpoint and every
fallback, rate limits, budget reservation, input guardrails. Only then does
`upstream` call a provider. `finish` settles the spend and writes the one
log row that every request gets, denied ones included.

Everything here reads the in-memory snapshot; nothing touches the database.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway import pricing
from gateway.acl import decide
from gateway.errors import (
    AuthenticationFailed,
    ContentBlocked,
    GatewayError,
    NotFound,
    PermissionDenied,
)
from gateway.guardrails import Direction
from gateway.keys import hash_key
from gateway.models import KEY_PREFIX, Endpoint, LogRow, ProviderKey, Source, VirtualKey
from gateway.runtime import Runtime
from gateway.snapshot import Snapshot, Target
from gateway.spend import Reservation

logger = logging.getLogger(__name__)

# Stands in for a key when an admin uses the playground without `key_id`: it
# has no limits of its own, so only the endpoint's rpm limit applies.
ADMIN_KEY = VirtualKey(id="", name="admin", key_hash="", key_prefix="admin")
API_KEY_HEADERS = ("api-key", "x-api-key")
_OTHER_SCHEMES = frozenset({"basic", "digest", "negotiate", "ntlm", "token"})
# A rough tokens-per-character ratio for limits and budget reservations,
# before the provider reports real counts. Settling replaces it.
_CHARS_PER_TOKEN = 4
_TOKENS_PER_MESSAGE = 4


@dataclass(frozen=True, slots=True)
class Candidate:
    """One endpoint that may serve the request: the primary or a fallback."""

    endpoint: Endpoint
    target: Target
    provider_key: ProviderKey


@dataclass
class Call:
    """One request's state, from arrival to its log row."""

    request_id: str
    source: Source
    started: float
    ts: datetime
    stream: bool = False
    key: VirtualKey | None = None
    endpoint_slug: str | None = None
    target: Target | None = None
    reservation: Reservation | None = None
    guardrail_actions: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    admitted_tokens: int = 0
    cost_usd: float = 0.0
    upstream_ms: float = 0.0
    status: int = 200
    error_code: str | None = None
    request_body: str | None = None
    response_body: str | None = None
    finished: bool = False

    @property
    def latency_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def fail(self, status: int, code: str) -> None:
        self.status = status
        self.error_code = code


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex[:24]}"


def start_call(request_id: str, source: Source) -> Call:
    return Call(request_id, source, time.perf_counter(), datetime.now(UTC))


def api_key_from(headers: Mapping[str, str]) -> str | None:
    """Return the key of `Authorization: Bearer`, `api-key` or `x-api-key`, if any."""
    header = headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    for name in API_KEY_HEADERS:
        value = headers.get(name)
        if value and value.strip():
            return value.strip()
    return None


def authenticate(
    snapshot: Snapshot, headers: Mapping[str, str], now: datetime
) -> VirtualKey:
    """Return the calling virtual key, or raise 401 naming what is wrong with it."""
    token = api_key_from(headers)
    authorization = headers.get("authorization", "").strip()
    if token is None and authorization:
        raise _malformed_authorization(authorization)
    if token is None:
        raise AuthenticationFailed(
            "Missing API key. Send 'Authorization: Bearer sk-gw-...' with a "
            "virtual key from the workbench.",
            code="missing_api_key",
        )
    key = (
        snapshot.keys_by_hash.get(hash_key(token))
        if token.startswith(KEY_PREFIX)
        else None
    )
    if key is None:
        raise AuthenticationFailed(
            "Invalid API key: it is not a virtual key of this gateway. "
            "Check it for typos, or create a key in the workbench.",
            code="invalid_api_key",
        )
    check_key_usable(key, now)
    return key


def _malformed_authorization(header: str) -> AuthenticationFailed:
    # Only a known scheme name is echoed: a bare key has no scheme, and its
    # first word must not reach the response.
    scheme = header.partition(" ")[0]
    problem = "it has no Bearer scheme"
    if scheme.lower() == "bearer":
        problem = "the Bearer token is empty"
    elif scheme.lower() in _OTHER_SCHEMES:
        problem = f"it uses the '{scheme}' scheme, not Bearer"
    return AuthenticationFailed(
        f"Malformed Authorization header: {problem}. Send 'Authorization: "
        "Bearer sk-gw-...' with a virtual key from the workbench.",
        code="invalid_api_key",
    )


def check_key_usable(key: VirtualKey, now: datetime) -> None:
    """Raise 401 when the key is revoked or past its expiry time."""
    if not key.active:
        raise AuthenticationFailed(
            f"Key {key.key_prefix} was revoked. Use another key, or create a new one "
            "in the workbench.",
            code="key_revoked",
        )
    expires_at = key.expires_at
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= now:
        raise AuthenticationFailed(
            f"Key {key.key_prefix} expired at {expires_at:%Y-%m-%dT%H:%M:%SZ}. Extend "
            "its expires_at, or use another key.",
            code="key_expired",
        )


def key_prefix_hint(
    snapshot: Snapshot, headers: Mapping[str, str]
) -> VirtualKey | None:
    """Find the sender's key without raising, to attribute a rejected body's log row."""
    token = api_key_from(headers)
    if token is None or not token.startswith(KEY_PREFIX):
        return None
    return snapshot.keys_by_hash.get(hash_key(token))


def resolve_route(
    snapshot: Snapshot, key: VirtualKey | None, slug: str
) -> list[Candidate]:
    """Return the endpoint and its usable fallbacks, in the order to try them.

    The primary endpoint must be active, whitelisted and allowed by the
    key's model and provider rules. A fallback that is inactive, missing or
    denied by those rules is left out, so it is never tried. The whitelist
    (`allowed_endpoints`) applies to the slug the client sent, not to
    fallbacks, which the endpoint's configuration chooses.
    """
    endpoint = snapshot.endpoints_by_slug.get(slug)
    if endpoint is None or not endpoint.active:
        raise NotFound(
            f"No active endpoint '{slug[:80]}'. Send an endpoint slug as 'model'; "
            "GET /v1/models lists the ones this key may use.",
            code="model_not_found",
            param="model",
        )
    primary = _candidate(snapshot, endpoint)
    _check_access(snapshot, key, primary)

    route = [primary]
    for fallback_id in endpoint.fallback_endpoint_ids:
        fallback = snapshot.endpoints_by_id.get(fallback_id)
        if fallback is None or not fallback.active or fallback.id == endpoint.id:
            continue
        candidate = _candidate(snapshot, fallback)
        if _allowed(snapshot, key, candidate, endpoint_slug=None):
            route.append(candidate)
    return route


def _candidate(snapshot: Snapshot, endpoint: Endpoint) -> Candidate:
    target = snapshot.targets[endpoint.id]
    provider_key = snapshot.provider_keys[endpoint.provider_key_id]
    return Candidate(endpoint, target, provider_key)


def _check_access(
    snapshot: Snapshot, key: VirtualKey | None, candidate: Candidate
) -> None:
    if key is None or key is ADMIN_KEY:
        return
    target = candidate.target
    decision = decide(
        snapshot.rules[key.id],
        endpoint_slug=candidate.endpoint.slug,
        provider=target.provider,
        model=target.model,
    )
    if decision.allowed:
        return
    raise PermissionDenied(
        f"Key {key.key_prefix} may not use endpoint '{candidate.endpoint.slug}': "
        f"{decision.reason}. Ask an admin to change the key's {decision.rule}.",
        code=decision.code or "model_not_allowed",
        param="model",
    )


def _allowed(
    snapshot: Snapshot,
    key: VirtualKey | None,
    candidate: Candidate,
    endpoint_slug: str | None,
) -> bool:
    if key is None or key is ADMIN_KEY:
        return True
    decision = decide(
        snapshot.rules[key.id],
        endpoint_slug=endpoint_slug,
        provider=candidate.target.provider,
        model=candidate.target.model,
    )
    return decision.allowed


def allowed_slugs(snapshot: Snapshot, key: VirtualKey) -> list[Candidate]:
    """Return the active endpoints that the key may call, sorted by slug."""
    usable = []
    for slug in sorted(snapshot.endpoints_by_slug):
        endpoint = snapshot.endpoints_by_slug[slug]
        if not endpoint.active or endpoint.id not in snapshot.targets:
            continue
        candidate = _candidate(snapshot, endpoint)
        if _allowed(snapshot, key, candidate, endpoint_slug=slug):
            usable.append(candidate)
    return usable


def estimate_prompt_tokens(texts: list[str], messages: int) -> int:
    """Estimate prompt tokens from characters; cheap enough for every request."""
    characters = sum(len(text) for text in texts)
    return characters // _CHARS_PER_TOKEN + messages * _TOKENS_PER_MESSAGE


def worst_case_cost(
    route: list[Candidate], prompt_tokens: int, max_tokens: int | None
) -> float:
    """Price the request on the most expensive candidate that might serve it."""
    worst = 0.0
    for candidate in route:
        model = candidate.target.litellm_model
        price = pricing.price(model)
        completion = max_tokens or price.max_output_tokens or 0
        worst = max(worst, pricing.cost(model, prompt_tokens, completion))
    return worst


def admit(
    runtime: Runtime,
    call: Call,
    key: VirtualKey,
    route: list[Candidate],
    prompt_tokens: int,
    max_tokens: int | None,
) -> None:
    """Apply rate limits, then reserve the worst-case cost against the key's budget."""
    call.admitted_tokens = prompt_tokens + (max_tokens or 0)
    runtime.limiter.check_request(key, route[0].endpoint, call.admitted_tokens)
    if key is ADMIN_KEY:
        return
    amount = worst_case_cost(route, prompt_tokens, max_tokens)
    call.reservation = runtime.ledger.reserve(key, amount, call.ts)


def guard_messages(
    snapshot: Snapshot, call: Call, messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Scan every message's text with the input guardrails.

    Returns the messages with masked text in place, copying only the ones
    that change. Raises 400 `content_blocked` when a blocking guardrail
    matches anywhere, so nothing of the request is forwarded.
    """
    guarded = []
    blocked = False
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            text, hit = guard_text(snapshot, call, content, "input")
            blocked = blocked or hit
            if text != content:
                message = {**message, "content": text}
        elif isinstance(content, list):
            parts, hit = _guard_parts(snapshot, call, content)
            blocked = blocked or hit
            if parts is not content:
                message = {**message, "content": parts}
        guarded.append(message)
    raise_if_blocked(blocked, call)
    return guarded


def _guard_parts(
    snapshot: Snapshot, call: Call, parts: list[Any]
) -> tuple[list[Any], bool]:
    changed = False
    blocked = False
    guarded = []
    for part in parts:
        if isinstance(part, dict) and part.get("type") == "text":
            text, hit = guard_text(snapshot, call, part["text"], "input")
            blocked = blocked or hit
            if text != part["text"]:
                part = {**part, "text": text}
                changed = True
        guarded.append(part)
    return (guarded if changed else parts), blocked


def guard_text(
    snapshot: Snapshot, call: Call, text: str, direction: Direction
) -> tuple[str, bool]:
    """Scan one text; return it with mask matches replaced, and whether one blocks."""
    result = snapshot.guardrails.scan(text, direction)
    for match in result.matches:
        note = f"{direction}:{match.action}:{match.name}"
        if note not in call.guardrail_actions:
            call.guardrail_actions.append(note)
    return result.text, result.blocked


def message_texts(messages: list[dict[str, Any]]) -> list[str]:
    """Return the text of every message, from string content and text parts."""
    texts = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(
                part["text"]
                for part in content
                if isinstance(part, dict) and isinstance(part.get("text"), str)
            )
    return texts


def raise_if_blocked(blocked: bool, call: Call) -> None:
    if not blocked:
        return
    names = [
        a.split(":", 2)[2]
        for a in call.guardrail_actions
        if a.startswith("input:block:")
    ]
    raise ContentBlocked(
        f"The request was blocked by the input guardrail {', '.join(names)}. "
        "Remove the matching content and retry.",
        param="messages",
    )


def finish(runtime: Runtime, call: Call) -> None:
    """Settle the spend and write the request's log row and log line, once."""
    if call.finished:
        return
    call.finished = True
    if call.reservation is not None:
        runtime.ledger.settle(call.reservation, call.cost_usd)
    if call.source == "playground" and call.status == 200:
        runtime.playground_succeeded = True
    key = call.key
    if key is not None and key.tpm_limit is not None and call.admitted_tokens:
        used = call.prompt_tokens + call.completion_tokens
        runtime.limiter.record_usage(key, call.admitted_tokens, used)
    target = call.target
    latency = call.latency_ms
    runtime.log_writer.add(_log_row(call, key, target, latency))
    # Server-side failures are warnings, so they stand out from denied requests.
    level = logging.WARNING if call.status >= 500 else logging.INFO
    logger.log(
        level,
        "%s key=%s endpoint=%s status=%d code=%s latency_ms=%.1f",
        call.request_id,
        key.key_prefix if key is not None else "-",
        call.endpoint_slug or "-",
        call.status,
        call.error_code or "-",
        latency,
    )


def _log_row(
    call: Call, key: VirtualKey | None, target: Target | None, latency: float
) -> LogRow:
    real_key = key is not None and key is not ADMIN_KEY
    return LogRow(
        request_id=call.request_id,
        ts=call.ts,
        source=call.source,
        status=call.status,
        key_id=key.id if real_key and key is not None else None,
        key_prefix=key.key_prefix if real_key and key is not None else None,
        endpoint=call.endpoint_slug,
        provider=target.provider if target is not None else None,
        model=target.model if target is not None else None,
        error_code=call.error_code,
        prompt_tokens=call.prompt_tokens,
        completion_tokens=call.completion_tokens,
        cost_usd=call.cost_usd,
        latency_ms=latency,
        upstream_ms=call.upstream_ms,
        stream=call.stream,
        guardrail_actions=list(call.guardrail_actions),
        request_body=call.request_body,
        response_body=call.response_body,
    )


def record_error(call: Call, exc: BaseException) -> None:
    """Copy an exception's status and code into the call, for its log row."""
    if isinstance(exc, GatewayError):
        call.fail(exc.status_code, exc.code)
    else:
        call.fail(500, "internal_error")
