"""A small typed client of the admin API and the data plane, used by the workbench.

It speaks HTTP only: the workbench never opens the gateway's database. Every
error the service returns is raised as `ClientError` with the service's own
message, so pages can show it as worded.

    client = GatewayClient.from_env()
    keys = client.list_virtual_keys()
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:4000"
DEFAULT_DATA_DIR = "data"
DEFAULT_TIMEOUT_SECONDS = 60.0

Record = dict[str, Any]


class ClientError(Exception):
    """An error from the gateway, or from reaching it (then `status` is 0)."""

    def __init__(
        self, status: int, code: str | None, message: str, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param

    def __str__(self) -> str:
        return self.message


class ChatStream:
    """The text deltas of a streamed chat; `usage` and `gateway` are set once it ends.

    stream = client.playground_stream("gpt4o", messages)
    text = "".join(stream)
    stream.gateway["cost_usd"]
    """

    def __init__(self, client: httpx.Client, url: str, body: Record) -> None:
        self._client = client
        self._url = url
        self._body = body
        self.usage: Record | None = None
        self.gateway: Record | None = None

    def __iter__(self) -> Iterator[str]:
        with self._client.stream("POST", self._url, json=self._body) as response:
            if response.is_error:
                response.read()
                raise error_from_response(response)
            for line in response.iter_lines():
                chunk = _sse_data(line)
                if chunk is None:
                    continue
                if "error" in chunk:
                    raise _error_from_body(502, chunk)
                yield from self._read_chunk(chunk)

    def _read_chunk(self, chunk: Record) -> Iterator[str]:
        self.usage = chunk.get("usage") or self.usage
        self.gateway = chunk.get("gateway") or self.gateway
        for choice in chunk.get("choices") or []:
            text = (choice.get("delta") or {}).get("content")
            if text:
                yield text


class GatewayClient:
    """The admin API (with the admin key) and the data plane (with a virtual key)."""

    def __init__(
        self,
        base_url: str,
        admin_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {admin_key}"},
            timeout=timeout,
        )

    @classmethod
    def from_env(cls) -> GatewayClient:
        """Build a client from GATEWAY_URL and GATEWAY_ADMIN_KEY.

        Without GATEWAY_ADMIN_KEY it reads the `admin_key` file that the service
        writes under GATEWAY_DATA_DIR (default `data/`) on its first start.
        """
        url = os.environ.get("GATEWAY_URL") or DEFAULT_URL
        admin_key = os.environ.get("GATEWAY_ADMIN_KEY")
        if admin_key:
            return cls(url, admin_key)
        key_file = (
            Path(os.environ.get("GATEWAY_DATA_DIR") or DEFAULT_DATA_DIR) / "admin_key"
        )
        try:
            return cls(url, key_file.read_text().strip())
        except OSError:
            raise ClientError(
                0,
                "missing_admin_key",
                f"No admin key: GATEWAY_ADMIN_KEY is not set and {key_file} "
                "is missing. Start the gateway once so that it writes the file, "
                "or set GATEWAY_ADMIN_KEY.",
            ) from None

    @property
    def public_url(self) -> str:
        """The OpenAI base URL that apps use, such as `http://127.0.0.1:4000/v1`."""
        return f"{self.base_url}/v1"

    def close(self) -> None:
        self._http.close()

    # Provider keys

    def list_provider_keys(self) -> list[Record]:
        return self._data("GET", "/admin/provider-keys")

    def create_provider_key(
        self, name: str, provider: str, api_key: str, api_base: str | None = None
    ) -> Record:
        body = {
            "name": name,
            "provider": provider,
            "api_key": api_key,
            "api_base": api_base,
        }
        return self._call("POST", "/admin/provider-keys", json=_without_none(body))

    def update_provider_key(self, key_id: str, **fields: Any) -> Record:
        return self._call("PATCH", f"/admin/provider-keys/{key_id}", json=fields)

    def delete_provider_key(self, key_id: str) -> None:
        self._call("DELETE", f"/admin/provider-keys/{key_id}")

    def providers(self) -> list[str]:
        return [str(name) for name in self._data("GET", "/admin/providers")]

    # Endpoints

    def list_endpoints(self) -> list[Record]:
        return self._data("GET", "/admin/endpoints")

    def create_endpoint(self, **fields: Any) -> Record:
        """Create an endpoint. The first one also returns `generated_key`, once."""
        return self._call("POST", "/admin/endpoints", json=fields)

    def update_endpoint(self, endpoint_id: str, **fields: Any) -> Record:
        return self._call("PATCH", f"/admin/endpoints/{endpoint_id}", json=fields)

    def delete_endpoint(self, endpoint_id: str) -> None:
        self._call("DELETE", f"/admin/endpoints/{endpoint_id}")

    def check_slug(self, slug: str) -> Record:
        """Return `{slug, valid, available, message, suggestion}` for a slug."""
        return self._call("GET", "/admin/endpoints/check-slug", params={"slug": slug})

    # Virtual keys

    def list_virtual_keys(self) -> list[Record]:
        return self._data("GET", "/admin/virtual-keys")

    def create_virtual_key(self, name: str, **fields: Any) -> Record:
        """Create a key; the plain secret is in `key` of this response only."""
        return self._call("POST", "/admin/virtual-keys", json={"name": name, **fields})

    def update_virtual_key(self, key_id: str, **fields: Any) -> Record:
        return self._call("PATCH", f"/admin/virtual-keys/{key_id}", json=fields)

    def revoke_virtual_key(self, key_id: str) -> None:
        self._call("DELETE", f"/admin/virtual-keys/{key_id}")

    def rotate_virtual_key(self, key_id: str) -> Record:
        """Replace the key's secret, returned once in `key`; the old one stops."""
        return self._call("POST", f"/admin/virtual-keys/{key_id}/rotate")

    # Guardrails

    def list_guardrails(self) -> list[Record]:
        return self._data("GET", "/admin/guardrails")

    def create_guardrail(self, **fields: Any) -> Record:
        return self._call("POST", "/admin/guardrails", json=fields)

    def update_guardrail(self, guardrail_id: str, **fields: Any) -> Record:
        return self._call("PATCH", f"/admin/guardrails/{guardrail_id}", json=fields)

    def delete_guardrail(self, guardrail_id: str) -> None:
        self._call("DELETE", f"/admin/guardrails/{guardrail_id}")

    def test_guardrails(
        self, text: str, scope: str = "input", guardrail: Record | None = None
    ) -> Record:
        """Dry-run the active guardrails, or the unsaved `guardrail`, on a text."""
        body: Record = {"text": text, "scope": scope}
        if guardrail is not None:
            body["guardrail"] = guardrail
        return self._call("POST", "/admin/guardrails/test", json=body)

    # Access rules

    def explain(
        self, key_id: str, *, endpoint: str | None = None, model: str | None = None
    ) -> Record:
        """Decide whether a key may use an endpoint slug or a `provider/model`.

        The response names the rule and the entry that decided.
        """
        body = _without_none({"key_id": key_id, "endpoint": endpoint, "model": model})
        return self._call("POST", "/admin/acl/explain", json=body)

    # Logs and analytics

    def logs(self, **filters: Any) -> Record:
        """Return `{total, data}` newest first; filters as for `GET /admin/logs`."""
        return self._call("GET", "/admin/logs", params=_query(filters))

    def log(self, request_id: str) -> Record:
        return self._call("GET", f"/admin/logs/{request_id}")

    def export_logs(self, file_format: str = "csv", **filters: Any) -> bytes:
        params = _query({**filters, "format": file_format})
        return self._send("GET", "/admin/logs/export", params=params).content

    def analytics_summary(self, start: datetime | str, end: datetime | str) -> Record:
        params = _query({"start": start, "end": end})
        return self._call("GET", "/admin/analytics/summary", params=params)

    def analytics_timeseries(
        self, start: datetime | str, end: datetime | str, bucket: str = "day"
    ) -> list[Record]:
        params = _query({"start": start, "end": end, "bucket": bucket})
        return self._data("GET", "/admin/analytics/timeseries", params=params)

    def analytics_breakdown(
        self, by: str, start: datetime | str, end: datetime | str, limit: int = 10
    ) -> list[Record]:
        params = _query({"by": by, "start": start, "end": end, "limit": limit})
        return self._data("GET", "/admin/analytics/breakdown", params=params)

    # Catalog, onboarding, playground

    def catalog(self, **filters: Any) -> Record:
        """Return `{total, data, providers, modes}`; filters as for the route."""
        return self._call("GET", "/admin/catalog", params=_query(filters))

    def onboarding(self) -> Record:
        """Return `{steps: [{id, done}], next}` for the four getting-started steps."""
        return self._call("GET", "/admin/onboarding")

    def playground_chat(
        self, endpoint: str, messages: list[Record], **params: Any
    ) -> Record:
        """Send a playground request and return the chat completion plus `gateway`."""
        body = _without_none({"endpoint": endpoint, "messages": messages, **params})
        return self._call(
            "POST", "/admin/playground/chat", json={**body, "stream": False}
        )

    def playground_stream(
        self, endpoint: str, messages: list[Record], **params: Any
    ) -> ChatStream:
        """Stream a playground request. Iterate it for text, then read `gateway`."""
        body = _without_none({"endpoint": endpoint, "messages": messages, **params})
        return ChatStream(
            self._http, "/admin/playground/chat", {**body, "stream": True}
        )

    # Data plane, with a virtual key

    def models(self, api_key: str) -> list[str]:
        """Return the endpoint slugs that this virtual key may use."""
        rows = self._data("GET", "/v1/models", headers=_bearer(api_key))
        return [str(row["id"]) for row in rows]

    def chat(
        self, api_key: str, model: str, messages: list[Record], **params: Any
    ) -> Record:
        """Send a chat completion to the data plane as an app would."""
        body = {"model": model, "messages": messages, **params}
        return self._call(
            "POST", "/v1/chat/completions", json=body, headers=_bearer(api_key)
        )

    # Transport

    def _data(self, method: str, path: str, **kwargs: Any) -> list[Record]:
        return list(self._call(method, path, **kwargs).get("data") or [])

    def _call(self, method: str, path: str, **kwargs: Any) -> Record:
        response = self._send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return {}
        result: Record = response.json()
        return result

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ClientError(
                0, "timeout", f"The gateway at {self.base_url} did not answer in time."
            ) from None
        except httpx.TransportError as exc:
            raise ClientError(
                0,
                "connection_error",
                f"Could not reach the gateway at {self.base_url} "
                f"({type(exc).__name__}). Start it with "
                "`python -m gateway.proxy_server` or check GATEWAY_URL.",
            ) from None
        if response.is_error:
            raise error_from_response(response)
        return response


def error_from_response(response: httpx.Response) -> ClientError:
    """Map an error response to `ClientError`, keeping the service's wording."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()[:300] or response.reason_phrase
        return ClientError(
            response.status_code, None, f"HTTP {response.status_code}: {text}"
        )
    return _error_from_body(response.status_code, body)


def _error_from_body(status: int, body: Any) -> ClientError:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return ClientError(
            status, error.get("code"), str(error.get("message")), error.get("param")
        )
    detail = body.get("detail") if isinstance(body, dict) else body
    return ClientError(status, None, f"HTTP {status}: {detail}")


def _sse_data(line: str) -> Record | None:
    if not line.startswith("data:"):
        return None
    payload = line[len("data:") :].strip()
    if not payload or payload == "[DONE]":
        return None
    chunk: Record = json.loads(payload)
    return chunk


def _query(params: dict[str, Any]) -> dict[str, Any]:
    """Drop unset filters, write datetimes as ISO 8601 and booleans as true/false."""
    query: dict[str, Any] = {}
    for name, value in params.items():
        if value is None or value == "":
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        query[name] = value
    return query


def _without_none(fields: Record) -> Record:
    return {name: value for name, value in fields.items() if value is not None}


def _bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}
