"""Profile a service under wrk load with py-spy and print where its CPU time goes.

    python -m bench.profile gateway plain      # or: litellm stream, ...

Starts nginx and the chosen service pinned like the load benchmark, warms it
up, then samples it with `py-spy record` (py-spy from bench/requirements.txt)
for `--seconds` while wrk drives 10 connections. Prints the functions with
the most samples, by own time and including callees, and keeps the collapsed
stacks in bench/results/raw/ for a flame graph tool.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.contenders import Gateway, LiteLLMProxy
from bench.load import CHAT_PATH, write_bodies
from bench.procs import free_port, pinned
from bench.upstream import Nginx
from bench.wrk import run_wrk

RAW = Path(__file__).with_name("results") / "raw"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("service", choices=["gateway", "litellm"])
    parser.add_argument("mode", choices=["plain", "stream"])
    parser.add_argument("--seconds", type=int, default=10, help="seconds to sample")
    parser.add_argument("--top", type=int, default=25, help="functions to print")
    return parser.parse_args(argv)


def record(
    pid: int, seconds: int, output: Path, children: bool
) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "250"]
    command += ["-f", "raw", "-o", str(output), "--nonblocking"]
    if children:
        command.append("--subprocesses")
    return subprocess.Popen(pinned(command, "1"), stdout=subprocess.DEVNULL)


def summarize(collapsed: Path, top: int) -> None:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    total = sum(own.values()) or 1
    for title, counter in (("own time", own), ("including callees", inclusive)):
        print(f"--- {title} ({total} samples)")
        for frame, count in counter.most_common(top):
            print(f"{count / total * 100:5.1f}%  {frame[:140]}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    RAW.mkdir(parents=True, exist_ok=True)
    output = RAW / f"profile-{args.service}-{args.mode}.txt"
    kind = Gateway if args.service == "gateway" else LiteLLMProxy
    with tempfile.TemporaryDirectory(prefix="gateway-profile-") as tmp:
        workdir = Path(tmp)
        nginx = Nginx(workdir / "nginx", free_port(), cpus="1").start()
        service = kind(args.service, workdir, "0", nginx.url)
        try:
            service.start()
            body = write_bodies(workdir)[args.mode]
            url = service.url + CHAT_PATH
            run_wrk(url, body, service.api_key, 10, 5, "1")
            assert service.process is not None
            spy = record(
                service.process.pid, args.seconds, output, kind is LiteLLMProxy
            )
            time.sleep(0.5)
            print(run_wrk(url, body, service.api_key, 10, args.seconds - 1, "1"))
            spy.wait()
        finally:
            service.stop()
            nginx.stop()
    summarize(output, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
