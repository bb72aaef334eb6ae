"""Micro-benchmark: catalog search over litellm's bundled model map. Target < 50 ms."""

from __future__ import annotations

import time

from bench.micro import save, timed_ms
from gateway.catalog import CatalogQuery, catalog_models, search

TARGET_MS = 50.0
QUERIES = {
    "everything, sorted by id": CatalogQuery(),
    "text search 'gpt-4o'": CatalogQuery(q="gpt-4o"),
    "provider anthropic, chat": CatalogQuery(provider="anthropic", mode="chat"),
    "vision + tools, 100k context, by input price": CatalogQuery(
        vision=True, function_calling=True, min_context=100_000, sort="input_price"
    ),
    "reasoning, max $5 input, by -context": CatalogQuery(
        reasoning=True, max_input_price=5.0, sort="-context"
    ),
}


def main() -> int:
    started = time.perf_counter()
    models = catalog_models()
    first_load_ms = (time.perf_counter() - started) * 1000
    results = {}
    for label, query in QUERIES.items():
        try:
            matches = len(search(query))
        except ValueError as exc:
            results[label] = {"error": str(exc)}
            continue
        results[label] = {
            **timed_ms(lambda query=query: search(query), repeats=20),
            "matches": matches,
        }
    worst = max(item.get("median_ms", 0.0) for item in results.values())
    save(
        "catalog",
        {
            "target_ms": TARGET_MS,
            "models": len(models),
            "first_load_ms": first_load_ms,
            "worst_median_ms": worst,
            "queries": results,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
