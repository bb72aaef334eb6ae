"""Load benchmark: the gateway and LiteLLM Proxy in front of one nginx upstream.

Run with `bench/run.sh` (which installs nginx, wrk and LiteLLM Proxy first) or
`python -m bench.load --help`. CPU 0 runs the service under test and CPU 1
runs nginx and wrk, so on a 2-core machine the load generator and the
upstream never take CPU time from the service being measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.contenders import PLAIN_MODEL, STREAM_MODEL, Contender, Gateway, LiteLLMProxy
from bench.machine import describe_machine
from bench.procs import free_port
from bench.upstream import Nginx
from bench.wrk import WrkResult, run_wrk

RESULTS = Path(__file__).with_name("results")
MODES = ("plain", "stream")
CHAT_PATH = "/v1/chat/completions"
# Above this 1-minute load average, other work competes with the benchmark.
BUSY_LOAD = 1.5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=8, help="length of one wrk run"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of every configuration"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[1, 10, 50],
        help="wrk connections",
    )
    parser.add_argument("--service-cpus", default="0", help="CPU list for the services")
    parser.add_argument("--driver-cpus", default="1", help="CPU list for nginx and wrk")
    parser.add_argument("--output", type=Path, default=RESULTS / "load.json")
    return parser.parse_args(argv)


def write_bodies(folder: Path) -> dict[str, Path]:
    bodies = {}
    for mode, model in (("plain", PLAIN_MODEL), ("stream", STREAM_MODEL)):
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": "Say hello to the benchmark."}],
            "max_tokens": 16,
        }
        if mode == "stream":
            body["stream"] = True
        bodies[mode] = folder / f"{mode}.json"
        bodies[mode].write_text(json.dumps(body))
    return bodies


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    if load_before > BUSY_LOAD:
        print(
            f"warning: the 1-minute load average is {load_before:.1f}; other processes "
            "compete for the CPUs and the results will be noisy",
            flush=True,
        )
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        workdir = Path(tmp)
        nginx = Nginx(workdir / "nginx", free_port(), cpus=args.driver_cpus).start()
        contenders: list[Contender] = []
        try:
            for kind in (LiteLLMProxy, Gateway):
                name = "litellm" if kind is LiteLLMProxy else "gateway"
                contenders.append(
                    kind(name, workdir, args.service_cpus, nginx.url).start()
                )
                print(f"started {name} on {contenders[-1].url}", flush=True)
            runs = drive_all(args, nginx, contenders, write_bodies(workdir))
            peaks = {c.name: c.peak_rss_mib() for c in contenders}
        finally:
            for contender in contenders:
                contender.stop()
            nginx.stop()
    report = summarize(runs, peaks, args, time.monotonic() - started)
    report["settings"]["load_average_before"] = round(load_before, 2)
    report["settings"]["load_average_after"] = round(os.getloadavg()[0], 2)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


def drive_all(
    args: argparse.Namespace,
    nginx: Nginx,
    contenders: list[Contender],
    bodies: dict[str, Path],
) -> list[dict[str, Any]]:
    """Warm each service up, then run every configuration `rounds` times.

    The two services swap places every round, so drift over time hits both.
    """
    for contender in contenders:
        for mode in MODES:
            url = contender.url + CHAT_PATH
            run_wrk(url, bodies[mode], contender.api_key, 10, 3, args.driver_cpus)
    runs = []
    for round_index in range(args.rounds):
        ordered = contenders if round_index % 2 == 0 else contenders[::-1]
        for mode in MODES:
            for connections in args.concurrency:
                targets = [("nginx", f"{nginx.url}/{mode}{CHAT_PATH}", "")]
                targets += [(c.name, c.url + CHAT_PATH, c.api_key) for c in ordered]
                for name, url, key in targets:
                    result = run_wrk(
                        url,
                        bodies[mode],
                        key,
                        connections,
                        args.seconds,
                        args.driver_cpus,
                    )
                    runs.append(
                        _run_record(name, mode, connections, round_index, result)
                    )
                    _print_run(runs[-1])
    return runs


def _run_record(
    name: str, mode: str, connections: int, round_index: int, result: WrkResult
) -> dict[str, Any]:
    return {
        "target": name,
        "load_average": round(os.getloadavg()[0], 2),
        "mode": mode,
        "connections": connections,
        "round": round_index,
        **result.as_dict(),
    }


def _print_run(run: dict[str, Any]) -> None:
    print(
        f"round {run['round']} {run['mode']:6} c={run['connections']:<3} "
        f"{run['target']:8} {run['rps']:9.1f} req/s  p50 {run['p50_ms']:7.2f} ms  "
        f"p99 {run['p99_ms']:7.2f} ms  "
        f"non-2xx {run['non_2xx']}  socket errors {run['socket_errors']}",
        flush=True,
    )


def summarize(
    runs: list[dict[str, Any]],
    peaks: dict[str, float],
    args: argparse.Namespace,
    elapsed: float,
) -> dict[str, Any]:
    """Take the median of each metric over the rounds and add overheads and ratios."""
    rows = []
    for mode in MODES:
        for connections in args.concurrency:
            rows.append(_summary_row(runs, mode, connections))
    return {
        "machine": describe_machine(),
        "settings": {
            "seconds_per_run": args.seconds,
            "rounds": args.rounds,
            "service_cpus": args.service_cpus,
            "driver_cpus": args.driver_cpus,
            "elapsed_seconds": round(elapsed, 1),
        },
        "peak_rss_mib": {name: round(value, 1) for name, value in peaks.items()},
        "rows": rows,
        "runs": runs,
    }


def _summary_row(
    runs: list[dict[str, Any]], mode: str, connections: int
) -> dict[str, Any]:
    row: dict[str, Any] = {"mode": mode, "connections": connections}
    for target in ("nginx", "litellm", "gateway"):
        chosen = [
            r
            for r in runs
            if r["target"] == target
            and r["mode"] == mode
            and r["connections"] == connections
        ]
        row[target] = {
            "rps": statistics.median(r["rps"] for r in chosen),
            "p50_ms": statistics.median(r["p50_ms"] for r in chosen),
            "p99_ms": statistics.median(r["p99_ms"] for r in chosen),
            "non_2xx": sum(r["non_2xx"] for r in chosen),
            "socket_errors": sum(r["socket_errors"] for r in chosen),
            "requests": sum(r["requests"] for r in chosen),
        }
    for target in ("litellm", "gateway"):
        row[target]["added_p50_ms"] = row[target]["p50_ms"] - row["nginx"]["p50_ms"]
        row[target]["added_p99_ms"] = row[target]["p99_ms"] - row["nginx"]["p99_ms"]
    row["rps_ratio"] = row["gateway"]["rps"] / row["litellm"]["rps"]
    row["p50_ratio"] = row["gateway"]["p50_ms"] / row["litellm"]["p50_ms"]
    row["p99_ratio"] = row["gateway"]["p99_ms"] / row["litellm"]["p99_ms"]
    return row


if __name__ == "__main__":
    raise SystemExit(main())
