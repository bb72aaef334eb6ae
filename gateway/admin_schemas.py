"""Request bodies of the admin API.

Pydantic checks types and ranges, and FastAPI returns 422 naming the
field when one fails. Checks that need the store (known ids, free slugs,
provider names) happen in `gateway.admin_objects` and return 400. The
slug rule is checked there too, so that every slug error states it.
Unknown fields are rejected, so a misspelt field name is not silently
ignored.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from gateway.admin_checks import SLUG_MAX_LENGTH
from gateway.models import BudgetPeriod, GuardrailAction, GuardrailKind, GuardrailScope

# DuckDB stores limits and token counts in INTEGER columns, which are 32-bit
# signed, so a larger value would fail when it is written.
MAX_INTEGER = 2_147_483_647
# A per-key budget above this is a typo, not a budget.
MAX_BUDGET_USD = 1_000_000_000.0
NAME_MAX_LENGTH = 200
SECRET_MAX_LENGTH = 10_000
# C0 and C1 control characters and the bidirectional embedding, override and
# isolate characters, which can make a name display differently from its
# stored text.
_HIDDEN_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _reject_hidden_characters(value: str, info: ValidationInfo) -> str:
    match = _HIDDEN_CHARACTERS.search(value)
    if match is None:
        return value
    character = match.group()
    kind = "control" if character <= "\x9f" else "bidirectional formatting"
    raise PydanticCustomError(
        "name_character",
        "{field} contains the {kind} character {code} at position "
        "{position}; remove it, since names cannot contain control or "
        "bidirectional formatting characters",
        {
            "field": info.field_name,
            "kind": kind,
            "code": f"U+{ord(character):04X}",
            "position": match.start(),
        },
    )


def _check_secret(value: SecretStr) -> SecretStr:
    secret = value.get_secret_value()
    if not secret.strip():
        raise PydanticCustomError(
            "secret_empty",
            "the api_key is empty; paste the provider's secret key",
        )
    if len(secret) > SECRET_MAX_LENGTH:
        raise PydanticCustomError(
            "secret_too_long",
            "the api_key is {length} characters long, over the maximum of "
            "{maximum}; check that only the provider's secret key was pasted",
            {"length": len(secret), "maximum": SECRET_MAX_LENGTH},
        )
    return value


Name = Annotated[
    str,
    Field(min_length=1, max_length=NAME_MAX_LENGTH),
    AfterValidator(_reject_hidden_characters),
]
DisplayName = Annotated[
    str,
    Field(max_length=NAME_MAX_LENGTH),
    AfterValidator(_reject_hidden_characters),
]
ProviderSecret = Annotated[SecretStr, AfterValidator(_check_secret)]
PositiveLimit = Annotated[int, Field(gt=0, le=MAX_INTEGER)]
Temperature = Annotated[float, Field(ge=0, le=2, allow_inf_nan=False)]
BudgetUsd = Annotated[float, Field(ge=0, le=MAX_BUDGET_USD, allow_inf_nan=False)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _require_object(cls, data: Any) -> Any:
        if isinstance(data, dict | BaseModel):
            return data
        raise PydanticCustomError(
            "object_type",
            "it must be a JSON object, not a JSON {kind}",
            {"kind": _json_type(data)},
        )

    def changes(self) -> dict[str, Any]:
        """Return the fields that the request set, for a PATCH."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else type(value).__name__


class ProviderKeyCreate(_Body):
    name: Name
    provider: str = Field(min_length=1, max_length=100)
    api_key: ProviderSecret
    api_base: str | None = Field(default=None, max_length=2000)


class ProviderKeyUpdate(_Body):
    name: Name | None = None
    provider: str | None = Field(default=None, min_length=1, max_length=100)
    api_key: ProviderSecret | None = None
    api_base: str | None = Field(default=None, max_length=2000)


class EndpointCreate(_Body):
    slug: str
    provider_key_id: str = Field(min_length=1, max_length=100)
    model: str = Field(min_length=1, max_length=300)
    display_name: DisplayName | None = None
    system_prompt: str | None = Field(default=None, max_length=100_000)
    temperature: Temperature | None = None
    max_tokens: PositiveLimit | None = None
    fallback_endpoint_ids: list[str] = Field(default_factory=list, max_length=10)
    rpm_limit: PositiveLimit | None = None
    active: bool = True


class EndpointUpdate(_Body):
    slug: str | None = None
    provider_key_id: str | None = Field(default=None, min_length=1, max_length=100)
    model: str | None = Field(default=None, min_length=1, max_length=300)
    display_name: DisplayName | None = None
    system_prompt: str | None = Field(default=None, max_length=100_000)
    temperature: Temperature | None = None
    max_tokens: PositiveLimit | None = None
    fallback_endpoint_ids: list[str] | None = Field(default=None, max_length=10)
    rpm_limit: PositiveLimit | None = None
    active: bool | None = None


class _KeyFields(_Body):
    allowed_endpoints: list[str] | None = None
    allowed_models: list[str] | None = None
    blocked_models: list[str] | None = None
    allowed_providers: list[str] | None = None
    blocked_providers: list[str] | None = None
    max_budget_usd: BudgetUsd | None = None
    budget_period: BudgetPeriod | None = None
    rpm_limit: PositiveLimit | None = None
    tpm_limit: PositiveLimit | None = None
    expires_at: datetime | None = None


class VirtualKeyCreate(_KeyFields):
    name: Name


class VirtualKeyUpdate(_KeyFields):
    name: Name | None = None


class GuardrailCreate(_Body):
    name: Name
    kind: GuardrailKind
    scope: GuardrailScope = "both"
    action: GuardrailAction = "block"
    active: bool = True
    config: dict[str, Any] = Field(default_factory=dict)


class GuardrailUpdate(_Body):
    name: Name | None = None
    kind: GuardrailKind | None = None
    scope: GuardrailScope | None = None
    action: GuardrailAction | None = None
    active: bool | None = None
    config: dict[str, Any] | None = None


class GuardrailDraft(GuardrailCreate):
    """An unsaved guardrail for a dry run; it needs no name."""

    name: Name = "unsaved guardrail"


class GuardrailTest(_Body):
    text: str = Field(max_length=1_000_000)
    scope: Literal["input", "output"] = "input"
    guardrail: GuardrailDraft | None = None


class AclExplain(_Body):
    key_id: str = Field(min_length=1, max_length=100)
    endpoint: str | None = Field(default=None, min_length=1, max_length=SLUG_MAX_LENGTH)
    model: str | None = Field(default=None, min_length=1, max_length=300)
