"""Admin writes of virtual keys and guardrails.

A key's plain secret exists only in the response that creates or rotates
it; the store keeps its SHA-256 hash and display prefix.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gateway.admin_checks import (
    ACCESS_FIELDS,
    require_access_list,
    require_known_endpoints,
)
from gateway.admin_objects import (
    WRITE_LOCK,
    new_id,
    reject_nulls,
    require_unique_name,
    utc_now,
)
from gateway.admin_schemas import (
    GuardrailCreate,
    GuardrailUpdate,
    VirtualKeyCreate,
    VirtualKeyUpdate,
)
from gateway.admin_views import guardrail_view, virtual_key_view
from gateway.errors import Conflict, InvalidRequest, NotFound
from gateway.keys import generate_key
from gateway.models import Guardrail, VirtualKey
from gateway.store import Store

if TYPE_CHECKING:
    from gateway.runtime import Runtime


# Virtual keys


def key_json(runtime: Runtime, key: VirtualKey) -> dict[str, Any]:
    now = utc_now()
    spend, period_start = runtime.ledger.current_spend(key, now)
    return virtual_key_view(key, spend, period_start, now)


def list_virtual_keys(runtime: Runtime) -> list[dict[str, Any]]:
    return [key_json(runtime, key) for key in runtime.store.list_virtual_keys()]


def get_virtual_key(store: Store, key_id: str) -> VirtualKey:
    key = store.get_virtual_key(key_id)
    if key is None:
        raise NotFound(
            f"Virtual key '{key_id}' not found; GET /admin/virtual-keys lists them.",
            code="not_found",
        )
    return key


def create_virtual_key(runtime: Runtime, body: VirtualKeyCreate) -> dict[str, Any]:
    fields = _checked_key_fields(body.changes())
    with WRITE_LOCK:
        _require_unique_key_name(runtime.store, body.name, own_id=None)
        _check_endpoint_slugs(runtime.store, fields, kept=())
        key, plain = insert_virtual_key(runtime.store, body.name, fields)
        runtime.reload()
    return {**key_json(runtime, key), "key": plain}


def insert_virtual_key(
    store: Store, name: str, fields: dict[str, Any]
) -> tuple[VirtualKey, str]:
    """Store a new key and return it with its plain secret, which is not stored."""
    plain, key_hash, prefix = generate_key()
    key = VirtualKey(
        id=new_id("vk"),
        name=name,
        key_hash=key_hash,
        key_prefix=prefix,
        created_at=utc_now(),
        **fields,
    )
    store.insert_virtual_key(key)
    return key, plain


def update_virtual_key(
    runtime: Runtime, key_id: str, body: VirtualKeyUpdate
) -> dict[str, Any]:
    changes = body.changes()
    reject_nulls(changes, ("name", "budget_period", *ACCESS_FIELDS))
    fields = _checked_key_fields(changes)
    if "name" in changes:
        fields["name"] = changes["name"]
    with WRITE_LOCK:
        current = get_virtual_key(runtime.store, key_id)
        if "name" in fields:
            _require_unique_key_name(runtime.store, fields["name"], own_id=key_id)
        _check_endpoint_slugs(runtime.store, fields, current.allowed_endpoints)
        runtime.store.update_virtual_key(key_id, fields)
        runtime.reload()
    return key_json(runtime, get_virtual_key(runtime.store, key_id))


def revoke_virtual_key(runtime: Runtime, key_id: str) -> dict[str, Any]:
    with WRITE_LOCK:
        get_virtual_key(runtime.store, key_id)
        runtime.store.update_virtual_key(key_id, {"active": False})
        runtime.reload()
    return key_json(runtime, get_virtual_key(runtime.store, key_id))


def rotate_virtual_key(runtime: Runtime, key_id: str) -> dict[str, Any]:
    with WRITE_LOCK:
        key = get_virtual_key(runtime.store, key_id)
        if not key.active:
            raise Conflict(
                f"Virtual key '{key_id}' is revoked and cannot be rotated; "
                "create a new key.",
                code="key_revoked",
            )
        plain, key_hash, prefix = generate_key()
        runtime.store.update_virtual_key(
            key_id, {"key_hash": key_hash, "key_prefix": prefix}
        )
        runtime.reload()
    rotated = dataclasses.replace(key, key_hash=key_hash, key_prefix=prefix)
    return {**key_json(runtime, rotated), "key": plain}


def _checked_key_fields(changes: dict[str, Any]) -> dict[str, Any]:
    fields = {name: value for name, value in changes.items() if name != "name"}
    for field in ACCESS_FIELDS:
        if field in fields:
            fields[field] = require_access_list(field, fields[field] or [])
    if fields.get("budget_period") is None:
        fields.pop("budget_period", None)
    expires_at = fields.get("expires_at")
    if isinstance(expires_at, datetime):
        fields["expires_at"] = _future_utc(expires_at)
    return fields


def _check_endpoint_slugs(
    store: Store, fields: dict[str, Any], kept: tuple[str, ...]
) -> None:
    # Runs under WRITE_LOCK, so no endpoint is renamed or deleted meanwhile.
    if "allowed_endpoints" not in fields:
        return
    slugs = {endpoint.slug for endpoint in store.list_endpoints()}
    require_known_endpoints(fields["allowed_endpoints"], slugs, kept)


def _future_utc(moment: datetime) -> datetime:
    moment = (
        moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    )
    if moment <= utc_now():
        raise InvalidRequest(
            f"expires_at {moment.isoformat()} is in the past; "
            "send a future time or null.",
            param="expires_at",
        )
    return moment


def _require_unique_key_name(store: Store, name: str, own_id: str | None) -> None:
    # Revoked keys keep their row for the logs but give up their name.
    others = [
        key.name for key in store.list_virtual_keys() if key.active and key.id != own_id
    ]
    require_unique_name("virtual key", name, others)


# Guardrails


def get_guardrail(store: Store, guardrail_id: str) -> Guardrail:
    guardrail = store.get_guardrail(guardrail_id)
    if guardrail is None:
        raise NotFound(
            f"Guardrail '{guardrail_id}' not found; GET /admin/guardrails lists them.",
            code="not_found",
        )
    return guardrail


def checked_guardrail_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    from gateway.guardrails import validate_config

    try:
        return dict(validate_config(kind, config))
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="config") from None


def create_guardrail(runtime: Runtime, body: GuardrailCreate) -> dict[str, Any]:
    guardrail = Guardrail(
        id=new_id("gr"),
        name=body.name,
        kind=body.kind,
        scope=body.scope,
        action=body.action,
        config=checked_guardrail_config(body.kind, body.config),
        active=body.active,
        created_at=utc_now(),
    )
    with WRITE_LOCK:
        names = [item.name for item in runtime.store.list_guardrails()]
        require_unique_name("guardrail", body.name, names)
        runtime.store.insert_guardrail(guardrail)
        runtime.reload()
    return guardrail_view(guardrail)


def update_guardrail(
    runtime: Runtime, guardrail_id: str, body: GuardrailUpdate
) -> dict[str, Any]:
    changes = body.changes()
    reject_nulls(changes, ("name", "kind", "scope", "action", "active", "config"))
    with WRITE_LOCK:
        current = get_guardrail(runtime.store, guardrail_id)
        if "name" in changes:
            others = [
                g.name for g in runtime.store.list_guardrails() if g.id != guardrail_id
            ]
            require_unique_name("guardrail", changes["name"], others)
        if "kind" in changes or "config" in changes:
            kind = changes.get("kind", current.kind)
            config = changes.get(
                "config", current.config if kind == current.kind else {}
            )
            changes["config"] = checked_guardrail_config(kind, config)
        runtime.store.update_guardrail(guardrail_id, changes)
        runtime.reload()
    return guardrail_view(get_guardrail(runtime.store, guardrail_id))


def delete_guardrail(runtime: Runtime, guardrail_id: str) -> dict[str, Any]:
    with WRITE_LOCK:
        get_guardrail(runtime.store, guardrail_id)
        runtime.store.delete_guardrail(guardrail_id)
        runtime.reload()
    return {"id": guardrail_id, "deleted": True}
