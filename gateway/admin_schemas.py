"""Request bodies of the admin API.

Pydantic checks types and ranges, and FastAPI returns 422 naming the
field when one fails. Checks that need the store (known ids, free slugs,
provider names) happen in `gateway.admin_objects` and return 400.
Unknown fields are rejected, so a misspelt field name is not silently
ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from gateway.models import BudgetPeriod, GuardrailAction, GuardrailKind, GuardrailScope


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    def changes(self) -> dict[str, Any]:
        """Return the fields that the request set, for a PATCH."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ProviderKeyCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    provider: str = Field(min_length=1, max_length=100)
    api_key: SecretStr = Field(min_length=1, max_length=10_000)
    api_base: str | None = Field(default=None, max_length=2000)


class ProviderKeyUpdate(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    provider: str | None = Field(default=None, min_length=1, max_length=100)
    api_key: SecretStr | None = Field(default=None, min_length=1, max_length=10_000)
    api_base: str | None = Field(default=None, max_length=2000)


class EndpointCreate(_Body):
    slug: str = Field(min_length=1, max_length=200)
    provider_key_id: str = Field(min_length=1, max_length=100)
    model: str = Field(min_length=1, max_length=300)
    display_name: str | None = Field(default=None, max_length=200)
    system_prompt: str | None = Field(default=None, max_length=100_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    fallback_endpoint_ids: list[str] = Field(default_factory=list, max_length=10)
    rpm_limit: int | None = Field(default=None, gt=0)
    active: bool = True


class EndpointUpdate(_Body):
    slug: str | None = Field(default=None, min_length=1, max_length=200)
    provider_key_id: str | None = Field(default=None, min_length=1, max_length=100)
    model: str | None = Field(default=None, min_length=1, max_length=300)
    display_name: str | None = Field(default=None, max_length=200)
    system_prompt: str | None = Field(default=None, max_length=100_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    fallback_endpoint_ids: list[str] | None = Field(default=None, max_length=10)
    rpm_limit: int | None = Field(default=None, gt=0)
    active: bool | None = None


class _KeyFields(_Body):
    allowed_endpoints: list[str] | None = None
    allowed_models: list[str] | None = None
    blocked_models: list[str] | None = None
    allowed_providers: list[str] | None = None
    blocked_providers: list[str] | None = None
    max_budget_usd: float | None = Field(default=None, ge=0)
    budget_period: BudgetPeriod | None = None
    rpm_limit: int | None = Field(default=None, gt=0)
    tpm_limit: int | None = Field(default=None, gt=0)
    expires_at: datetime | None = None


class VirtualKeyCreate(_KeyFields):
    name: str = Field(min_length=1, max_length=200)


class VirtualKeyUpdate(_KeyFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class GuardrailCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    kind: GuardrailKind
    scope: GuardrailScope = "both"
    action: GuardrailAction = "block"
    active: bool = True
    config: dict[str, Any] = Field(default_factory=dict)


class GuardrailUpdate(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: GuardrailKind | None = None
    scope: GuardrailScope | None = None
    action: GuardrailAction | None = None
    active: bool | None = None
    config: dict[str, Any] | None = None


class GuardrailDraft(GuardrailCreate):
    """An unsaved guardrail for a dry run; it needs no name."""

    name: str = Field(default="unsaved guardrail", min_length=1, max_length=200)


class GuardrailTest(_Body):
    text: str = Field(max_length=1_000_000)
    scope: Literal["input", "output"] = "input"
    guardrail: GuardrailDraft | None = None


class AclExplain(_Body):
    key_id: str = Field(min_length=1, max_length=100)
    endpoint: str | None = Field(default=None, min_length=1, max_length=200)
    model: str | None = Field(default=None, min_length=1, max_length=300)
