"""Token prices from litellm's bundled cost map, for budgets and request costs.

A model that the map does not list costs nothing: its requests are still
metered in tokens, but they never move a budget.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

import litellm


class Price(NamedTuple):
    """USD per token of one model, and its maximum completion length.

    It unpacks as `(input_per_token, output_per_token, max_output_tokens)`.
    """

    input_per_token: float
    output_per_token: float
    max_output_tokens: int | None


FREE = Price(0.0, 0.0, None)


@lru_cache(maxsize=4096)
def price(litellm_model: str) -> Price:
    """Look up the price of a litellm model id such as `openai/gpt-4o`.

    The cost map keys most models by their bare name (`gpt-4o`) and some by
    the qualified id (`azure/gpt-4o`), so both are tried. A bare name only
    counts when the map lists it under the same provider.
    """
    entry = _cost_entry(litellm_model)
    if entry is None:
        return FREE
    return Price(
        input_per_token=_number(entry.get("input_cost_per_token")),
        output_per_token=_number(entry.get("output_cost_per_token")),
        max_output_tokens=_whole(entry.get("max_output_tokens")),
    )


def cost(litellm_model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """Return the USD cost of a request with these token counts."""
    model_price = price(litellm_model)
    return (
        prompt_tokens * model_price.input_per_token
        + completion_tokens * model_price.output_per_token
    )


def _cost_entry(litellm_model: str) -> dict[str, Any] | None:
    table: dict[str, Any] = litellm.model_cost
    entry = table.get(litellm_model)
    if isinstance(entry, dict):
        return entry

    provider, slash, bare = litellm_model.partition("/")
    if not slash:
        return None
    entry = table.get(bare)
    if not isinstance(entry, dict):
        return None
    if str(entry.get("litellm_provider", "")).lower() != provider.lower():
        return None
    return entry


def _number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return 0.0


def _whole(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
