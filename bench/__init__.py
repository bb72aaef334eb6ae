"""Benchmarks: the gateway against LiteLLM Proxy, and micro-benchmarks of its parts."""
