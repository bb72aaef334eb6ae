"""The model catalog, read from litellm's bundled cost map, and litellm's provider list.

`gateway/__init__.py` makes litellm read the copy of the map that ships with
the package, so the catalog works offline and changes only with the litellm
version. The map is turned into small records once, with one presorted copy
per sort order, so a query is a filter over a tuple of a few thousand
records.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

SortField = Literal["id", "input_price", "output_price", "context"]
SORT_FIELDS: tuple[SortField, ...] = ("id", "input_price", "output_price", "context")
_PER_MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """One model of the cost map; prices are USD per million tokens."""

    id: str
    provider: str
    name: str
    mode: str | None
    max_input_tokens: int | None
    max_output_tokens: int | None
    input_price_per_mtok: float | None
    output_price_per_mtok: float | None
    supports_vision: bool
    supports_function_calling: bool
    supports_reasoning: bool


@dataclass(frozen=True)
class CatalogQuery:
    """Filters of `search`; `None` filters nothing. `sort` may start with `-`."""

    q: str | None = None
    provider: str | None = None
    mode: str | None = None
    vision: bool | None = None
    function_calling: bool | None = None
    reasoning: bool | None = None
    min_context: int | None = None
    max_input_price: float | None = None
    sort: str = "id"


@functools.cache
def known_providers() -> tuple[str, ...]:
    """Return litellm's provider ids, sorted."""
    import litellm

    return tuple(
        sorted(str(getattr(item, "value", item)) for item in litellm.provider_list)
    )


@functools.cache
def catalog_models() -> tuple[CatalogModel, ...]:
    """Return every model of the cost map that names its provider, sorted by id."""
    import litellm

    models: dict[str, CatalogModel] = {}
    for key, info in litellm.model_cost.items():
        model = _catalog_model(key, info)
        if model is not None and model.id not in models:
            models[model.id] = model
    return tuple(sorted(models.values(), key=lambda model: model.id))


@functools.cache
def catalog_providers() -> tuple[str, ...]:
    return tuple(sorted({model.provider for model in catalog_models()}))


@functools.cache
def catalog_modes() -> tuple[str, ...]:
    return tuple(sorted({model.mode for model in catalog_models() if model.mode}))


def search(query: CatalogQuery) -> list[CatalogModel]:
    """Return the models that pass every filter, in the query's sort order."""
    keep = _filters(query)
    return [
        model for model in _sorted_models(query.sort) if all(f(model) for f in keep)
    ]


def parse_sort(sort: str) -> str:
    """Return `sort` if it names a sort field, with an optional `-`; else raise."""
    if sort.removeprefix("-") not in SORT_FIELDS:
        choices = ", ".join(SORT_FIELDS)
        raise ValueError(
            f"unknown sort '{sort}'; use one of {choices}, with '-' for descending"
        )
    return sort


@functools.cache
def _sorted_models(sort: str) -> tuple[CatalogModel, ...]:
    field = parse_sort(sort).removeprefix("-")
    descending = sort.startswith("-")
    models = catalog_models()
    if field == "id":
        return tuple(reversed(models)) if descending else models

    value = _SORT_VALUES[field]
    present = [model for model in models if value(model) is not None]
    missing = [model for model in models if value(model) is None]
    # Python's sort is stable, so equal values keep id order in both directions.
    present.sort(key=lambda model: value(model) or 0.0, reverse=descending)
    return tuple(present + missing)


_SORT_VALUES: Mapping[str, Callable[[CatalogModel], float | None]] = {
    "input_price": lambda model: model.input_price_per_mtok,
    "output_price": lambda model: model.output_price_per_mtok,
    "context": lambda model: model.max_input_tokens,
}


def _filters(query: CatalogQuery) -> list[Callable[[CatalogModel], bool]]:
    keep: list[Callable[[CatalogModel], bool]] = []
    if query.q:
        needle = query.q.strip().lower()
        keep.append(lambda model: needle in model.id.lower())
    if query.provider:
        provider = query.provider.strip().lower()
        keep.append(lambda model: model.provider == provider)
    if query.mode:
        keep.append(lambda model: model.mode == query.mode)
    if query.vision is not None:
        keep.append(lambda model: model.supports_vision is query.vision)
    if query.function_calling is not None:
        keep.append(
            lambda model: model.supports_function_calling is query.function_calling
        )
    if query.reasoning is not None:
        keep.append(lambda model: model.supports_reasoning is query.reasoning)
    if query.min_context is not None:
        minimum = query.min_context
        keep.append(lambda model: (model.max_input_tokens or 0) >= minimum)
    if query.max_input_price is not None:
        ceiling = query.max_input_price
        keep.append(
            lambda model: (
                model.input_price_per_mtok is not None
                and model.input_price_per_mtok <= ceiling
            )
        )
    return keep


def _catalog_model(key: str, info: Mapping[str, Any]) -> CatalogModel | None:
    provider = info.get("litellm_provider")
    # `sample_spec` documents the map's fields, so its provider is a sentence.
    if not isinstance(provider, str) or not provider or " " in provider:
        return None
    model_id = key if key.startswith(f"{provider}/") else f"{provider}/{key}"
    return CatalogModel(
        id=model_id,
        provider=provider,
        name=model_id.removeprefix(f"{provider}/"),
        mode=info.get("mode"),
        max_input_tokens=_int(info.get("max_input_tokens") or info.get("max_tokens")),
        max_output_tokens=_int(info.get("max_output_tokens")),
        input_price_per_mtok=_per_million(info.get("input_cost_per_token")),
        output_price_per_mtok=_per_million(info.get("output_cost_per_token")),
        supports_vision=bool(info.get("supports_vision")),
        supports_function_calling=bool(info.get("supports_function_calling")),
        supports_reasoning=bool(info.get("supports_reasoning")),
    )


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _per_million(value: Any) -> float | None:
    if not isinstance(value, int | float):
        return None
    # Rounded so that 2.5e-06 shows as 2.5 rather than 2.4999999999999996.
    return round(float(value) * _PER_MILLION, 9)
