"""The model catalog built from litellm's bundled cost map."""

from __future__ import annotations

import litellm
import pytest

from gateway.catalog import (
    CatalogQuery,
    catalog_models,
    catalog_modes,
    known_providers,
    parse_sort,
    search,
)


def by_id(model_id: str) -> object:
    return next(model for model in catalog_models() if model.id == model_id)


def test_catalog_gpt4o_entry() -> None:
    model = by_id("openai/gpt-4o")
    info = litellm.model_cost["gpt-4o"]

    assert model.provider == "openai"
    assert model.name == "gpt-4o"
    assert model.mode == "chat"
    assert model.max_input_tokens == info["max_input_tokens"]
    assert model.input_price_per_mtok == pytest.approx(
        info["input_cost_per_token"] * 1e6
    )
    assert model.output_price_per_mtok == pytest.approx(
        info["output_cost_per_token"] * 1e6
    )
    assert model.supports_vision is True


def test_catalog_ids_carry_provider_prefix() -> None:
    models = catalog_models()

    assert all(model.id.startswith(f"{model.provider}/") for model in models)
    assert len({model.id for model in models}) == len(models)


def test_catalog_skips_sample_spec() -> None:
    assert all("sample_spec" not in model.id for model in catalog_models())
    assert all(" " not in mode for mode in catalog_modes())


def test_known_providers_sorted() -> None:
    providers = known_providers()

    assert "openai" in providers
    assert "anthropic" in providers
    assert list(providers) == sorted(providers)


@pytest.mark.parametrize(
    ("query", "check"),
    [
        (CatalogQuery(provider="anthropic"), lambda m: m.provider == "anthropic"),
        (CatalogQuery(q="GPT-4O"), lambda m: "gpt-4o" in m.id.lower()),
        (CatalogQuery(mode="embedding"), lambda m: m.mode == "embedding"),
        (CatalogQuery(vision=True), lambda m: m.supports_vision),
        (CatalogQuery(vision=False), lambda m: not m.supports_vision),
        (CatalogQuery(reasoning=True), lambda m: m.supports_reasoning),
        (CatalogQuery(function_calling=True), lambda m: m.supports_function_calling),
        (
            CatalogQuery(min_context=1_000_000),
            lambda m: m.max_input_tokens >= 1_000_000,
        ),
        (
            CatalogQuery(max_input_price=0.5),
            lambda m: (
                m.input_price_per_mtok is not None and m.input_price_per_mtok <= 0.5
            ),
        ),
    ],
)
def test_search_filters(query: CatalogQuery, check: object) -> None:
    found = search(query)

    assert found
    assert len(found) < len(catalog_models())
    assert all(check(model) for model in found)  # type: ignore[operator]


def test_search_sorts_price_descending_missing_last() -> None:
    found = search(CatalogQuery(sort="-input_price"))
    prices = [model.input_price_per_mtok for model in found]
    present = [price for price in prices if price is not None]

    assert present == sorted(present, reverse=True)
    assert prices[: len(present)] == present
    assert len(found) == len(catalog_models())


def test_search_sorts_context_ascending() -> None:
    contexts = [
        model.max_input_tokens for model in search(CatalogQuery(sort="context"))
    ]
    present = [value for value in contexts if value is not None]

    assert present == sorted(present)


def test_search_sort_by_id_descending() -> None:
    ids = [model.id for model in search(CatalogQuery(provider="openai", sort="-id"))]

    assert ids == sorted(ids, reverse=True)


def test_parse_sort_rejects_unknown_field() -> None:
    with pytest.raises(ValueError, match="price"):
        parse_sort("price")
