"""JSON shapes of admin API objects. Secrets leave here only masked.

Times are ISO 8601 strings in UTC with a `Z` suffix.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gateway.models import Endpoint, Guardrail, VirtualKey, mask_secret

if TYPE_CHECKING:
    from gateway.snapshot import Target
    from gateway.store import StoredProviderKey

# Sums of float costs carry binary noise such as 0.00022000000000000003.
# Responses round to 1e-10 USD, which drops that noise. The store keeps the
# unrounded amounts.
USD_DECIMALS = 10


def usd(amount: float) -> float:
    """Round a USD amount for a response."""
    return round(amount, USD_DECIMALS)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def provider_key_view(
    key: StoredProviderKey, plain_secret: str, endpoint_count: int
) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "provider": key.provider,
        "api_key_masked": mask_secret(plain_secret),
        "api_base": key.api_base,
        "created_at": iso(key.created_at),
        "endpoint_count": endpoint_count,
    }


def endpoint_view(endpoint: Endpoint, target: Target) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "slug": endpoint.slug,
        "display_name": endpoint.display_name,
        "provider_key_id": endpoint.provider_key_id,
        "provider": target.provider,
        "model": endpoint.model,
        "system_prompt": endpoint.system_prompt,
        "temperature": endpoint.temperature,
        "max_tokens": endpoint.max_tokens,
        "fallback_endpoint_ids": list(endpoint.fallback_endpoint_ids),
        "rpm_limit": endpoint.rpm_limit,
        "active": endpoint.active,
        "created_at": iso(endpoint.created_at),
    }


def key_status(key: VirtualKey, now: datetime) -> str:
    if not key.active:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def virtual_key_view(
    key: VirtualKey, spend_usd: float, period_start: datetime, now: datetime
) -> dict[str, Any]:
    """Describe a key without its secret; only `key_prefix` identifies it."""
    return {
        "id": key.id,
        "name": key.name,
        "key_prefix": key.key_prefix,
        "allowed_endpoints": list(key.allowed_endpoints),
        "allowed_models": list(key.allowed_models),
        "blocked_models": list(key.blocked_models),
        "allowed_providers": list(key.allowed_providers),
        "blocked_providers": list(key.blocked_providers),
        "max_budget_usd": key.max_budget_usd,
        "budget_period": key.budget_period,
        "spend_usd": usd(spend_usd),
        "period_start": iso(period_start),
        "rpm_limit": key.rpm_limit,
        "tpm_limit": key.tpm_limit,
        "expires_at": iso(key.expires_at),
        "status": key_status(key, now),
        "created_at": iso(key.created_at),
    }


def guardrail_view(guardrail: Guardrail) -> dict[str, Any]:
    return {
        "id": guardrail.id,
        "name": guardrail.name,
        "kind": guardrail.kind,
        "scope": guardrail.scope,
        "action": guardrail.action,
        "config": guardrail.config,
        "active": guardrail.active,
        "created_at": iso(guardrail.created_at),
    }


def log_view(row: Mapping[str, Any]) -> dict[str, Any]:
    view = {**row, "ts": iso(row["ts"])}
    if view.get("cost_usd") is not None:
        view["cost_usd"] = usd(view["cost_usd"])
    return view
