"""Read-only admin views of the snapshot: access decisions, catalog, guardrail tests.

Every access decision comes from `acl.decide`, the function the data plane uses.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from gateway import acl
from gateway.admin_keys import checked_guardrail_config
from gateway.admin_schemas import AclExplain, GuardrailTest
from gateway.catalog import (
    CatalogModel,
    CatalogQuery,
    catalog_modes,
    catalog_providers,
    known_providers,
    parse_sort,
    search,
)
from gateway.errors import InvalidRequest, NotFound
from gateway.models import Guardrail
from gateway.snapshot import Snapshot, Target, resolve_target

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def key_rules(snapshot: Snapshot, key_id: str) -> acl.KeyRules:
    rules = snapshot.rules.get(key_id)
    if rules is None:
        raise NotFound(
            f"Virtual key '{key_id}' not found; GET /admin/virtual-keys lists them.",
            code="not_found",
        )
    return rules


def explain_access(runtime: Runtime, body: AclExplain) -> dict[str, Any]:
    """Decide one key against an endpoint slug or a `provider/model` id."""
    if (body.endpoint is None) == (body.model is None):
        raise InvalidRequest(
            "Send exactly one of endpoint (a slug) or model (such as 'openai/gpt-4o').",
            param="endpoint" if body.endpoint is not None else "model",
        )
    snapshot = runtime.snapshot
    rules = key_rules(snapshot, body.key_id)
    slug = body.endpoint
    target = (
        _endpoint_target(snapshot, slug)
        if slug is not None
        else _model_target(body.model)
    )
    decision = acl.decide(
        rules, endpoint_slug=slug, provider=target.provider, model=target.model
    )
    return {
        "allowed": decision.allowed,
        "code": decision.code,
        "rule": decision.rule,
        "entry": decision.entry,
        "reason": decision.reason,
        "provider": target.provider,
        "model": target.model,
    }


def _endpoint_target(snapshot: Snapshot, slug: str) -> Target:
    endpoint = snapshot.endpoints_by_slug.get(slug)
    if endpoint is None:
        raise NotFound(
            f"Endpoint '{slug}' not found; GET /admin/endpoints lists the slugs.",
            code="not_found",
        )
    return snapshot.targets[endpoint.id]


def _model_target(model: str | None) -> Target:
    text = (model or "").strip()
    prefix, slash, rest = text.partition("/")
    if not slash or not rest or prefix.lower() not in known_providers():
        raise InvalidRequest(
            f"Invalid model '{text}': use 'provider/model' with a litellm provider id, "
            "such as 'openai/gpt-4o'.",
            param="model",
        )
    return resolve_target(text, prefix, known_providers())


def catalog_page(
    runtime: Runtime,
    query: CatalogQuery,
    *,
    key_id: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """Return one catalog page; with `key_id`, each model gets that key's decision."""
    try:
        parse_sort(query.sort)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="sort") from None
    snapshot = runtime.snapshot
    rules = key_rules(snapshot, key_id) if key_id else None
    slugs = _slugs_by_model(snapshot)
    models = search(query)
    page = models[offset : offset + limit]
    return {
        "total": len(models),
        "data": [_model_json(model, slugs, rules) for model in page],
        "providers": list(catalog_providers()),
        "modes": list(catalog_modes()),
    }


def _slugs_by_model(snapshot: Snapshot) -> dict[str, list[str]]:
    slugs: dict[str, list[str]] = defaultdict(list)
    for endpoint_id, target in snapshot.targets.items():
        slugs[target.qualified].append(snapshot.endpoints_by_id[endpoint_id].slug)
    return slugs


def _model_json(
    model: CatalogModel, slugs: dict[str, list[str]], rules: acl.KeyRules | None
) -> dict[str, Any]:
    allowed: bool | None = None
    denied_by: str | None = None
    if rules is not None:
        decision = acl.decide(
            rules, endpoint_slug=None, provider=model.provider, model=model.name
        )
        allowed = decision.allowed
        denied_by = decision.rule
    return {
        "id": model.id,
        "provider": model.provider,
        "name": model.name,
        "mode": model.mode,
        "max_input_tokens": model.max_input_tokens,
        "max_output_tokens": model.max_output_tokens,
        "input_price_per_mtok": model.input_price_per_mtok,
        "output_price_per_mtok": model.output_price_per_mtok,
        "supports_vision": model.supports_vision,
        "supports_function_calling": model.supports_function_calling,
        "supports_reasoning": model.supports_reasoning,
        "endpoints": sorted(slugs.get(model.id, ())),
        "allowed": allowed,
        "denied_by": denied_by,
    }


def scan_text(runtime: Runtime, body: GuardrailTest) -> dict[str, Any]:
    """Scan a text with the active guardrails, or with one unsaved definition."""
    from gateway.guardrails import compile_guardrails

    guardrails = runtime.snapshot.guardrails
    draft = body.guardrail
    if draft is not None:
        unsaved = Guardrail(
            id="gr_unsaved",
            name=draft.name,
            kind=draft.kind,
            scope=draft.scope,
            action=draft.action,
            config=checked_guardrail_config(draft.kind, draft.config),
            active=True,
        )
        guardrails = compile_guardrails([unsaved])
    result: dict[str, Any] = guardrails.scan(body.text, body.scope).to_dict()
    return result
