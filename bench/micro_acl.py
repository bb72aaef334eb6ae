"""Micro-benchmark: `gateway.acl` decisions with compiled rules. Target < 5 µs.

`decide` is what the request path calls: a repeated question is answered
from the rules' memo. `evaluate` is the first decision for a question.
"""

from __future__ import annotations

from typing import Any

from bench.micro import per_call_us, save
from gateway.acl import compile_rules, decide, evaluate
from gateway.models import VirtualKey

TARGET_US = 5.0
KEY = VirtualKey(
    id="key-1",
    name="bench",
    key_hash="0" * 64,
    key_prefix="sk-gw-bench0",
    allowed_endpoints=("chat-*", "support-bot", "embed-small"),
    allowed_models=("gpt-4o*", "claude-3-5-*", "openrouter/meta-llama/*", "llama-3*"),
    blocked_models=("gpt-3.5*", "openai/gpt-4o-audio*", "*-preview"),
    allowed_providers=("openai", "anthropic", "openrouter", "groq"),
    blocked_providers=("bedrock*",),
)
CASES = {
    "allowed, qualified model": ("chat-main", "openai", "gpt-4o-mini"),
    "allowed, nested model name": (
        "chat-llama",
        "openrouter",
        "meta-llama/llama-3-70b",
    ),
    "denied by blocked_models glob": ("chat-old", "openai", "gpt-3.5-turbo"),
    "denied by allowed_providers": ("chat-x", "mistral", "mistral-large"),
    "denied by allowed_endpoints": ("other", "openai", "gpt-4o"),
}


def main() -> int:
    rules = compile_rules(KEY)
    results = {}
    for label, (slug, provider, model) in CASES.items():
        for kind, function in (("decide", decide), ("first decision", evaluate)):

            def call(
                slug: str = slug,
                provider: str = provider,
                model: str = model,
                function: Any = function,
            ) -> Any:
                return function(
                    rules, endpoint_slug=slug, provider=provider, model=model
                )

            outcome = call()
            timing = per_call_us(call, 100_000)
            results[f"{kind}, {label}"] = {**timing, "allowed": outcome.allowed}
    worst = max(
        item["median_us"] for name, item in results.items() if name.startswith("decide")
    )
    save("acl", {"target_us": TARGET_US, "worst_median_us": worst, "cases": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
