"""Admin writes of provider keys and endpoints: checks, store calls, snapshot reloads.

Every write runs under `WRITE_LOCK`, so two requests cannot both take a slug or
both count as the first endpoint, and ends with `runtime.reload()` so the
data plane sees the change at once.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gateway.admin_checks import (
    require_api_base,
    require_model,
    require_provider,
    require_slug,
)
from gateway.admin_schemas import (
    EndpointCreate,
    EndpointUpdate,
    ProviderKeyCreate,
    ProviderKeyUpdate,
)
from gateway.admin_views import endpoint_view, provider_key_view
from gateway.catalog import known_providers
from gateway.errors import Conflict, InvalidRequest, NotFound
from gateway.models import Endpoint
from gateway.snapshot import resolve_target
from gateway.store import Store, StoredProviderKey

if TYPE_CHECKING:
    from gateway.runtime import Runtime

WRITE_LOCK = threading.RLock()


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def reject_nulls(changes: dict[str, Any], fields: Iterable[str]) -> None:
    """Raise for a PATCH that sets a required field to null."""
    for field in fields:
        if field in changes and changes[field] is None:
            raise InvalidRequest(
                f"{field} cannot be null; send a value or leave the field out.",
                param=field,
            )


def require_unique_name(kind: str, name: str, others: Iterable[str]) -> None:
    if name.lower() in {other.lower() for other in others}:
        raise Conflict(
            f"A {kind} named '{name}' already exists; choose another name.",
            param="name",
        )


# Provider keys


def list_provider_keys(runtime: Runtime) -> list[dict[str, Any]]:
    counts = Counter(item.provider_key_id for item in runtime.store.list_endpoints())
    return [
        provider_key_view(
            key, runtime.secret_box.decrypt(key.secret_encrypted), counts[key.id]
        )
        for key in runtime.store.list_provider_keys()
    ]


def get_provider_key(
    store: Store, key_id: str, param: str | None = None
) -> StoredProviderKey:
    key = store.get_provider_key(key_id)
    if key is not None:
        return key
    message = f"Provider key '{key_id}' not found; GET /admin/provider-keys lists them."
    if param is not None:
        raise InvalidRequest(message, param=param)
    raise NotFound(message, code="not_found")


def provider_key_json(runtime: Runtime, key_id: str) -> dict[str, Any]:
    key = get_provider_key(runtime.store, key_id)
    count = sum(
        1 for item in runtime.store.list_endpoints() if item.provider_key_id == key_id
    )
    return provider_key_view(
        key, runtime.secret_box.decrypt(key.secret_encrypted), count
    )


def create_provider_key(runtime: Runtime, body: ProviderKeyCreate) -> dict[str, Any]:
    store = runtime.store
    with WRITE_LOCK:
        names = [key.name for key in store.list_provider_keys()]
        require_unique_name("provider key", body.name, names)
        key = StoredProviderKey(
            id=new_id("pk"),
            name=body.name,
            provider=require_provider(body.provider),
            secret_encrypted=runtime.secret_box.encrypt(
                body.api_key.get_secret_value()
            ),
            api_base=require_api_base(body.api_base),
            created_at=utc_now(),
        )
        store.insert_provider_key(key)
        runtime.reload()
    return provider_key_json(runtime, key.id)


def update_provider_key(
    runtime: Runtime, key_id: str, body: ProviderKeyUpdate
) -> dict[str, Any]:
    store = runtime.store
    changes = body.changes()
    reject_nulls(changes, ("name", "provider", "api_key"))
    with WRITE_LOCK:
        current = get_provider_key(store, key_id)
        if "name" in changes:
            others = [
                key.name for key in store.list_provider_keys() if key.id != key_id
            ]
            require_unique_name("provider key", changes["name"], others)
        if "provider" in changes:
            changes["provider"] = require_provider(changes["provider"])
            _check_endpoint_models(store, current.id, changes["provider"])
        if "api_key" in changes:
            secret = changes.pop("api_key").get_secret_value()
            changes["secret_encrypted"] = runtime.secret_box.encrypt(secret)
        if "api_base" in changes:
            changes["api_base"] = require_api_base(changes["api_base"])
        store.update_provider_key(key_id, changes)
        runtime.reload()
    return provider_key_json(runtime, key_id)


def delete_provider_key(runtime: Runtime, key_id: str) -> dict[str, Any]:
    store = runtime.store
    with WRITE_LOCK:
        key = get_provider_key(store, key_id)
        users = [
            item.slug
            for item in store.list_endpoints()
            if item.provider_key_id == key_id
        ]
        if users:
            raise Conflict(
                f"Provider key '{key.name}' ({key_id}) is used by endpoints "
                f"{', '.join(users)}; move them to another provider key or "
                "delete them first.",
                code="in_use",
            )
        store.delete_provider_key(key_id)
        runtime.reload()
    return {"id": key_id, "deleted": True}


def _check_endpoint_models(store: Store, key_id: str, provider: str) -> None:
    for endpoint in store.list_endpoints():
        if endpoint.provider_key_id != key_id:
            continue
        try:
            require_model(endpoint.model, provider)
        except InvalidRequest as exc:
            raise InvalidRequest(
                f"Endpoint '{endpoint.slug}' uses this key: {exc.message}",
                param="provider",
            ) from None


# Endpoints


def endpoint_json(store: Store, endpoint: Endpoint) -> dict[str, Any]:
    key = store.get_provider_key(endpoint.provider_key_id)
    key_provider = key.provider if key is not None else ""
    target = resolve_target(endpoint.model, key_provider, known_providers())
    return endpoint_view(endpoint, target)


def list_endpoints(runtime: Runtime) -> list[dict[str, Any]]:
    return [
        endpoint_json(runtime.store, item) for item in runtime.store.list_endpoints()
    ]


def get_endpoint(store: Store, endpoint_id: str) -> Endpoint:
    endpoint = store.get_endpoint(endpoint_id)
    if endpoint is None:
        raise NotFound(
            f"Endpoint '{endpoint_id}' not found; GET /admin/endpoints lists them.",
            code="not_found",
        )
    return endpoint


def create_endpoint(
    runtime: Runtime, body: EndpointCreate
) -> tuple[dict[str, Any], bool]:
    """Create an endpoint; the flag is True when no endpoint existed before."""
    store = runtime.store
    with WRITE_LOCK:
        existing = store.list_endpoints()
        slug = _free_slug(existing, body.slug, own_id=None)
        key = get_provider_key(store, body.provider_key_id, param="provider_key_id")
        endpoint = Endpoint(
            id=new_id("ep"),
            slug=slug,
            display_name=body.display_name or slug,
            provider_key_id=key.id,
            model=require_model(body.model, key.provider),
            system_prompt=body.system_prompt or None,
            temperature=body.temperature,
            max_tokens=body.max_tokens,
            fallback_endpoint_ids=_fallbacks(
                existing, body.fallback_endpoint_ids, None
            ),
            rpm_limit=body.rpm_limit,
            active=body.active,
            created_at=utc_now(),
        )
        store.insert_endpoint(endpoint)
        runtime.reload()
    return endpoint_json(store, endpoint), not existing


def update_endpoint(
    runtime: Runtime, endpoint_id: str, body: EndpointUpdate
) -> dict[str, Any]:
    store = runtime.store
    changes = body.changes()
    reject_nulls(
        changes, ("slug", "provider_key_id", "model", "active", "fallback_endpoint_ids")
    )
    with WRITE_LOCK:
        current = get_endpoint(store, endpoint_id)
        existing = store.list_endpoints()
        if "slug" in changes:
            changes["slug"] = _free_slug(existing, changes["slug"], own_id=endpoint_id)
        key_id = changes.get("provider_key_id", current.provider_key_id)
        key = get_provider_key(store, key_id, param="provider_key_id")
        changes["model"] = require_model(
            changes.get("model", current.model), key.provider
        )
        if "fallback_endpoint_ids" in changes:
            requested = changes["fallback_endpoint_ids"]
            changes["fallback_endpoint_ids"] = _fallbacks(
                existing, requested, endpoint_id
            )
        if "display_name" in changes and not changes["display_name"]:
            changes["display_name"] = changes.get("slug", current.slug)
        store.update_endpoint(endpoint_id, changes)
        if changes.get("slug", current.slug) != current.slug:
            _rename_in_keys(store, current.slug, changes["slug"])
        runtime.reload()
    return endpoint_json(store, get_endpoint(store, endpoint_id))


def delete_endpoint(runtime: Runtime, endpoint_id: str) -> dict[str, Any]:
    store = runtime.store
    with WRITE_LOCK:
        endpoint = get_endpoint(store, endpoint_id)
        users = [
            item.slug
            for item in store.list_endpoints()
            if endpoint_id in item.fallback_endpoint_ids
        ]
        if users:
            raise Conflict(
                f"Endpoint '{endpoint.slug}' is a fallback of {', '.join(users)}; "
                "remove it from their fallback_endpoint_ids first.",
                code="in_use",
            )
        store.delete_endpoint(endpoint_id)
        runtime.reload()
    return {"id": endpoint_id, "deleted": True}


def _rename_in_keys(store: Store, old_slug: str, new_slug: str) -> None:
    """Replace a renamed slug in every key's `allowed_endpoints`, keeping access."""
    for key in store.list_virtual_keys():
        if old_slug not in key.allowed_endpoints:
            continue
        renamed = (
            new_slug if slug == old_slug else slug for slug in key.allowed_endpoints
        )
        store.update_virtual_key(
            key.id, {"allowed_endpoints": tuple(dict.fromkeys(renamed))}
        )


def _free_slug(existing: list[Endpoint], slug: str, own_id: str | None) -> str:
    require_slug(slug)
    if any(item.slug == slug and item.id != own_id for item in existing):
        raise Conflict(
            f"An endpoint with slug '{slug}' already exists; pick another slug "
            "or check one with GET /admin/endpoints/check-slug.",
            param="slug",
        )
    return slug


def _fallbacks(
    existing: list[Endpoint], requested: list[str], own_id: str | None
) -> tuple[str, ...]:
    known = {item.id for item in existing}
    for fallback_id in requested:
        if fallback_id == own_id:
            raise InvalidRequest(
                "An endpoint cannot be its own fallback; "
                "remove its id from fallback_endpoint_ids.",
                param="fallback_endpoint_ids",
            )
        if fallback_id not in known:
            raise InvalidRequest(
                f"Fallback endpoint '{fallback_id}' not found; "
                "use ids from GET /admin/endpoints.",
                param="fallback_endpoint_ids",
            )
    return tuple(dict.fromkeys(requested))
