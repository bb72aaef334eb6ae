"""Write the benchmark results from bench/results into docs/benchmarks.md and its chart.

The page's prose is written by hand. This script replaces only the text
between the `<!-- results:NAME -->` and `<!-- /results:NAME -->` markers, so
rerunning it after a benchmark updates the numbers and nothing else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bench.chart import load_chart

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PAGE = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "benchmarks-load.svg"
RPS_TARGET = 3.0
P50_TARGET = 1 / 3


def read(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def machine_line(machine: dict[str, str]) -> str:
    return (
        f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; "
        f"Linux {machine['kernel']}, Python {machine['python']}; litellm "
        f"{machine['gateway_litellm']} in the gateway and {machine['proxy_litellm']} "
        f"in LiteLLM Proxy; {machine['nginx']}; {machine['wrk']}"
    )


def load_section(report: dict[str, Any]) -> str:
    settings = report["settings"]
    lines = [
        f"Measured on: {machine_line(report['machine'])}.",
        "",
        f"Each cell is the median of {settings['rounds']} runs of "
        f"{settings['seconds_per_run']:g} s. Services pinned to CPU "
        f"{settings['service_cpus']}, nginx and wrk to CPU {settings['driver_cpus']}. "
        f"1-minute load average {settings.get('load_average_before', '?')} before and "
        f"{settings.get('load_average_after', '?')} after; whole run "
        f"{settings['elapsed_seconds'] / 60:.1f} min.",
        "",
        "| mode | conns | nginx req/s | LiteLLM req/s | gateway req/s | ratio "
        "| LiteLLM p50 / p99 ms | gateway p50 / p99 ms | p50 ratio "
        "| added p50 ms LiteLLM / gateway | errors LiteLLM / gateway |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [_load_row(row) for row in report["rows"]]
    peaks = report["peak_rss_mib"]
    lines += [
        "",
        f"Peak memory (VmHWM of the process tree): gateway {peaks['gateway']:.0f} MiB, "
        f"LiteLLM Proxy {peaks['litellm']:.0f} MiB.",
        "",
        *target_lines(report["rows"]),
    ]
    return "\n".join(lines)


def _load_row(row: dict[str, Any]) -> str:
    ours, theirs, nginx = row["gateway"], row["litellm"], row["nginx"]
    return (
        f"| {row['mode']} | {row['connections']} | {nginx['rps']:,.0f} "
        f"| {theirs['rps']:,.1f} | {ours['rps']:,.1f} | {row['rps_ratio']:.2f}x "
        f"| {theirs['p50_ms']:.2f} / {theirs['p99_ms']:.2f} "
        f"| {ours['p50_ms']:.2f} / {ours['p99_ms']:.2f} | {row['p50_ratio']:.2f} "
        f"| {theirs['added_p50_ms']:.2f} / {ours['added_p50_ms']:.2f} "
        f"| {_errors(theirs)} / {_errors(ours)} |"
    )


def _errors(cell: dict[str, Any]) -> str:
    return f"{cell['non_2xx'] + cell['socket_errors']}"


def target_lines(rows: list[dict[str, Any]]) -> list[str]:
    """State for each mode whether the two speed targets were met."""
    lines = []
    for row in rows:
        ours = row["gateway"]
        errors = ours["non_2xx"] + ours["socket_errors"]
        if row["connections"] == 10:
            met = row["rps_ratio"] >= RPS_TARGET and errors == 0
            lines.append(
                f"- {row['mode']}, 10 connections: {row['rps_ratio']:.2f}x LiteLLM "
                f"Proxy's requests per second with {errors} errors "
                f"(target at least {RPS_TARGET:g}x, no errors): "
                f"{'met' if met else 'NOT met'}."
            )
        if row["connections"] == 1:
            met = row["p50_ratio"] <= P50_TARGET
            lines.append(
                f"- {row['mode']}, 1 connection: p50 latency {row['p50_ratio']:.2f} of "
                f"LiteLLM Proxy's (target at most 0.33): {'met' if met else 'NOT met'}."
            )
    return lines


def micro_section() -> str:
    lines = [
        "| benchmark | case | result | target |",
        "| --- | --- | ---: | ---: |",
    ]
    acl, auth = read("micro_acl"), read("micro_auth")
    if acl:
        for case, value in acl["cases"].items():
            lines.append(
                f"| ACL `decide` | {case} | {value['median_us']:.2f} µs | < 5 µs |"
            )
    if auth:
        for case, value in auth["cases"].items():
            lines.append(
                f"| key authentication | {case} | {value['median_us']:.2f} µs | |"
            )
    writer = read("micro_logwriter")
    if writer:
        lines.append(
            f"| log writer | {writer['rows']:,} rows into DuckDB, none dropped "
            f"| {writer['rows_per_second']:,.0f} rows/s | |"
        )
    lines += _query_rows(read("micro_analytics"), "analytics, 1M rows", "< 150 ms")
    lines += _query_rows(read("micro_catalog"), "catalog", "< 50 ms")
    machine = (acl or auth or writer or {}).get("machine")
    if machine:
        lines += ["", f"Measured on: {machine_line(machine)}."]
    return "\n".join(lines)


def _query_rows(result: dict[str, Any] | None, label: str, target: str) -> list[str]:
    if not result:
        return []
    rows = []
    for case, value in result.get("queries", {}).items():
        shown = (
            f"{value['median_ms']:.1f} ms" if "median_ms" in value else value["error"]
        )
        rows.append(f"| {label} | {case} | {shown} | {target} |")
    return rows


def replace_block(page: str, name: str, body: str) -> str:
    pattern = re.compile(
        rf"(<!-- results:{name} -->\n).*?(\n<!-- /results:{name} -->)", re.DOTALL
    )
    if not pattern.search(page):
        raise SystemExit(f"docs/benchmarks.md has no '<!-- results:{name} -->' block")
    return pattern.sub(lambda match: match.group(1) + body + match.group(2), page)


def main() -> int:
    page = PAGE.read_text()
    load = read("load")
    if load:
        page = replace_block(page, "load", load_section(load))
        CHART.write_text(load_chart(load["rows"]))
    page = replace_block(page, "micro", micro_section())
    PAGE.write_text(page)
    print(f"updated {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
