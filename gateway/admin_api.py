"""The admin REST API under `/admin`: routes only, behind the admin key.

Route functions are plain `def`, so FastAPI runs them in its thread pool and
DuckDB work never blocks the event loop. Writes and their checks live in
`admin_objects` and `admin_keys`. The playground route is in `playground`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from gateway import admin_keys, admin_objects, analytics
from gateway.admin_auth import require_admin
from gateway.admin_checks import check_slug
from gateway.admin_explain import catalog_page, explain_access, scan_text
from gateway.admin_schemas import (
    AclExplain,
    EndpointCreate,
    EndpointUpdate,
    GuardrailCreate,
    GuardrailTest,
    GuardrailUpdate,
    ProviderKeyCreate,
    ProviderKeyUpdate,
    VirtualKeyCreate,
    VirtualKeyUpdate,
)
from gateway.admin_views import guardrail_view, log_view
from gateway.catalog import CatalogQuery, known_providers
from gateway.errors import InvalidRequest, NotFound
from gateway.onboarding import onboarding
from gateway.runtime import Runtime
from gateway.store import BreakdownBy, Bucket, ExportFormat, LogFilter

router = APIRouter(
    prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)]
)

Json = dict[str, Any]
MAX_LOG_PAGE = 1000
# DuckDB takes OFFSET as a BIGINT, so a larger offset would fail in the query.
MAX_LOG_OFFSET = 2**63 - 1
_EXPORT_TYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


# Provider keys


@router.get("/providers")
def list_providers() -> Json:
    return {"data": list(known_providers())}


@router.get("/provider-keys")
def list_provider_keys(runtime: RuntimeDep) -> Json:
    return {"data": admin_objects.list_provider_keys(runtime)}


@router.post("/provider-keys", status_code=201)
def create_provider_key(body: ProviderKeyCreate, runtime: RuntimeDep) -> Json:
    return admin_objects.create_provider_key(runtime, body)


@router.get("/provider-keys/{key_id}")
def get_provider_key(key_id: str, runtime: RuntimeDep) -> Json:
    return admin_objects.provider_key_json(runtime, key_id)


@router.patch("/provider-keys/{key_id}")
def update_provider_key(
    key_id: str, body: ProviderKeyUpdate, runtime: RuntimeDep
) -> Json:
    return admin_objects.update_provider_key(runtime, key_id, body)


@router.delete("/provider-keys/{key_id}")
def delete_provider_key(key_id: str, runtime: RuntimeDep) -> Json:
    return admin_objects.delete_provider_key(runtime, key_id)


# Endpoints


@router.get("/endpoints")
def list_endpoints(runtime: RuntimeDep) -> Json:
    return {"data": admin_objects.list_endpoints(runtime)}


@router.get("/endpoints/check-slug")
def check_endpoint_slug(slug: str, runtime: RuntimeDep) -> Json:
    taken = {item.slug for item in runtime.store.list_endpoints()}
    result = check_slug(slug.strip(), taken)
    return {
        "slug": result.slug,
        "valid": result.valid,
        "available": result.available,
        "message": result.message,
        "suggestion": result.suggestion,
    }


@router.post("/endpoints", status_code=201)
def create_endpoint(
    body: EndpointCreate, request: Request, runtime: RuntimeDep
) -> Json:
    """Create an endpoint; the first one also gets a virtual key, returned once."""
    with admin_objects.WRITE_LOCK:
        view, first = admin_objects.create_endpoint(runtime, body)
        if not first:
            return view
        key, plain = admin_keys.insert_virtual_key(
            runtime.store,
            f"{view['slug']} default key",
            {"allowed_endpoints": (view["slug"],)},
        )
        runtime.reload()
    view["generated_key"] = {
        "id": key.id,
        "name": key.name,
        "key": plain,
        "key_prefix": key.key_prefix,
        "gateway_url": _gateway_url(runtime, request),
        "slug": view["slug"],
    }
    return view


@router.get("/endpoints/{endpoint_id}")
def get_endpoint(endpoint_id: str, runtime: RuntimeDep) -> Json:
    endpoint = admin_objects.get_endpoint(runtime.store, endpoint_id)
    return admin_objects.endpoint_json(runtime.store, endpoint)


@router.patch("/endpoints/{endpoint_id}")
def update_endpoint(
    endpoint_id: str, body: EndpointUpdate, runtime: RuntimeDep
) -> Json:
    return admin_objects.update_endpoint(runtime, endpoint_id, body)


@router.delete("/endpoints/{endpoint_id}")
def delete_endpoint(endpoint_id: str, runtime: RuntimeDep) -> Json:
    return admin_objects.delete_endpoint(runtime, endpoint_id)


def _gateway_url(runtime: Runtime, request: Request) -> str:
    base = runtime.settings.public_url or str(request.base_url)
    base = base.rstrip("/")
    return base if base.endswith("/v1") else f"{base}/v1"


# Virtual keys


@router.get("/virtual-keys")
def list_virtual_keys(runtime: RuntimeDep) -> Json:
    return {"data": admin_keys.list_virtual_keys(runtime)}


@router.post("/virtual-keys", status_code=201)
def create_virtual_key(body: VirtualKeyCreate, runtime: RuntimeDep) -> Json:
    return admin_keys.create_virtual_key(runtime, body)


@router.get("/virtual-keys/{key_id}")
def get_virtual_key(key_id: str, runtime: RuntimeDep) -> Json:
    return admin_keys.key_json(
        runtime, admin_keys.get_virtual_key(runtime.store, key_id)
    )


@router.patch("/virtual-keys/{key_id}")
def update_virtual_key(
    key_id: str, body: VirtualKeyUpdate, runtime: RuntimeDep
) -> Json:
    return admin_keys.update_virtual_key(runtime, key_id, body)


@router.delete("/virtual-keys/{key_id}")
def revoke_virtual_key(key_id: str, runtime: RuntimeDep) -> Json:
    return admin_keys.revoke_virtual_key(runtime, key_id)


@router.post("/virtual-keys/{key_id}/rotate")
def rotate_virtual_key(key_id: str, runtime: RuntimeDep) -> Json:
    return admin_keys.rotate_virtual_key(runtime, key_id)


# Guardrails


@router.get("/guardrails")
def list_guardrails(runtime: RuntimeDep) -> Json:
    return {"data": [guardrail_view(item) for item in runtime.store.list_guardrails()]}


@router.post("/guardrails", status_code=201)
def create_guardrail(body: GuardrailCreate, runtime: RuntimeDep) -> Json:
    return admin_keys.create_guardrail(runtime, body)


@router.post("/guardrails/test")
def test_guardrails(body: GuardrailTest, runtime: RuntimeDep) -> Json:
    return scan_text(runtime, body)


@router.get("/guardrails/{guardrail_id}")
def get_guardrail(guardrail_id: str, runtime: RuntimeDep) -> Json:
    return guardrail_view(admin_keys.get_guardrail(runtime.store, guardrail_id))


@router.patch("/guardrails/{guardrail_id}")
def update_guardrail(
    guardrail_id: str, body: GuardrailUpdate, runtime: RuntimeDep
) -> Json:
    return admin_keys.update_guardrail(runtime, guardrail_id, body)


@router.delete("/guardrails/{guardrail_id}")
def delete_guardrail(guardrail_id: str, runtime: RuntimeDep) -> Json:
    return admin_keys.delete_guardrail(runtime, guardrail_id)


# Access rules, catalog and onboarding


@router.post("/acl/explain")
def explain(body: AclExplain, runtime: RuntimeDep) -> Json:
    return explain_access(runtime, body)


@router.get("/catalog")
def catalog(
    runtime: RuntimeDep,
    q: str | None = None,
    provider: str | None = None,
    mode: str | None = None,
    vision: bool | None = None,
    function_calling: bool | None = None,
    reasoning: bool | None = None,
    min_context: Annotated[int | None, Query(ge=0)] = None,
    max_input_price: Annotated[float | None, Query(ge=0)] = None,
    sort: str = "id",
    key_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Json:
    query = CatalogQuery(
        q=q,
        provider=provider,
        mode=mode,
        vision=vision,
        function_calling=function_calling,
        reasoning=reasoning,
        min_context=min_context,
        max_input_price=max_input_price,
        sort=sort,
    )
    return catalog_page(runtime, query, key_id=key_id, limit=limit, offset=offset)


@router.get("/onboarding")
def get_onboarding(runtime: RuntimeDep) -> Json:
    return onboarding(runtime.store, runtime.playground_succeeded)


# Logs and analytics


def log_filter(
    start: datetime | None = None,
    end: datetime | None = None,
    key_id: str | None = None,
    endpoint: str | None = None,
    model: str | None = None,
    status: str | None = None,
    source: Literal["api", "playground"] | None = None,
) -> LogFilter:
    return LogFilter(
        start=start,
        end=end,
        key_id=key_id,
        endpoint=endpoint,
        model=model,
        status=_status_filter(status),
        source=source,
    )


def time_filter(
    start: datetime | None = None, end: datetime | None = None
) -> LogFilter:
    return LogFilter(start=start, end=end)


LogFilterDep = Annotated[LogFilter, Depends(log_filter)]
TimeFilterDep = Annotated[LogFilter, Depends(time_filter)]


def _status_filter(status: str | None) -> Literal["ok", "error"] | int | None:
    if status is None or status == "":
        return None
    if status in ("ok", "error"):
        return "ok" if status == "ok" else "error"
    if status.isdigit() and 100 <= int(status) <= 599:
        return int(status)
    raise InvalidRequest(
        f"Invalid status '{status}': use 'ok', 'error' or an HTTP status such as 429.",
        param="status",
    )


@router.get("/logs")
def list_logs(
    runtime: RuntimeDep,
    where: LogFilterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LOG_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_LOG_OFFSET)] = 0,
) -> Json:
    bodies = runtime.settings.store_bodies
    total, rows = runtime.store.query_logs(
        where, limit=limit, offset=offset, with_bodies=bodies
    )
    return {"total": total, "data": [log_view(row) for row in rows]}


@router.get("/logs/export")
def export_logs(
    runtime: RuntimeDep, where: LogFilterDep, format: ExportFormat = "csv"
) -> Response:
    bodies = runtime.settings.store_bodies
    content = runtime.store.export_logs(where, format, with_bodies=bodies)
    disposition = f'attachment; filename="request-logs.{format}"'
    return Response(
        content,
        media_type=_EXPORT_TYPES[format],
        headers={"Content-Disposition": disposition},
    )


@router.get("/logs/{request_id}")
def get_log(request_id: str, runtime: RuntimeDep) -> Json:
    row = runtime.store.get_log(request_id, with_bodies=runtime.settings.store_bodies)
    if row is None:
        raise NotFound(
            f"Request '{request_id}' not found in the request log; "
            "rows are written every GATEWAY_LOG_FLUSH_SECONDS, so retry shortly.",
            code="not_found",
        )
    return log_view(row)


@router.get("/analytics/summary")
def analytics_summary(runtime: RuntimeDep, where: TimeFilterDep) -> Json:
    return analytics.summary(runtime.store, where)


@router.get("/analytics/timeseries")
def analytics_timeseries(
    runtime: RuntimeDep, where: TimeFilterDep, bucket: Bucket = "hour"
) -> Json:
    return analytics.timeseries(runtime.store, where, bucket)


@router.get("/analytics/breakdown")
def analytics_breakdown(
    runtime: RuntimeDep,
    where: TimeFilterDep,
    by: BreakdownBy = "model",
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> Json:
    return analytics.breakdown(runtime.store, where, by, limit)
