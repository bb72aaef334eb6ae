"""A fixed OpenAI-compatible upstream served by nginx, so the provider costs ~nothing.

`/plain/v1/chat/completions` returns one chat completion as JSON and
`/stream/v1/chat/completions` returns a fixed server-sent event body: three
content chunks, a usage chunk and `data: [DONE]`. Both ignore the request
body, so the plain and streaming endpoints of each gateway point at
different `api_base` paths.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.procs import wait_for_port

MODEL = "gpt-4o-mini"
COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1700000000,
    "model": MODEL,
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello from the benchmark upstream.",
            },
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
}


def _chunk(delta: dict[str, str], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def stream_body() -> str:
    """Return the SSE body: role, two text pieces, finish, usage, then `[DONE]`."""
    events = [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"content": "Hello from the "}),
        _chunk({"content": "benchmark upstream."}),
        _chunk({}, finish="stop"),
        {**_chunk({}), "choices": [], "usage": COMPLETION["usage"]},
    ]
    lines = [
        f"data: {json.dumps(event, separators=(',', ':'))}\n\n" for event in events
    ]
    return "".join(lines) + "data: [DONE]\n\n"


def nginx_config(prefix: Path, port: int) -> str:
    plain = json.dumps(COMPLETION, separators=(",", ":"))
    user = "user root root;\n" if os.getuid() == 0 else ""
    return f"""{user}worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_temp_path {prefix}/body;
    server {{
        listen 127.0.0.1:{port} reuseport backlog=4096;
        location = /plain/v1/chat/completions {{
            default_type application/json;
            return 200 '{plain}';
        }}
        location = /stream/v1/chat/completions {{
            default_type text/event-stream;
            add_header Cache-Control no-cache;
            return 200 '{stream_body()}';
        }}
        location / {{ return 404 '{{"error":{{"message":"not found"}}}}'; }}
    }}
}}
"""


@dataclass
class Nginx:
    prefix: Path
    port: int
    cpus: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.prefix.mkdir(parents=True, exist_ok=True)
        config = self.prefix / "nginx.conf"
        config.write_text(nginx_config(self.prefix, self.port))
        command = [binary, "-c", str(config), "-p", str(self.prefix)]
        if self.cpus:
            command = ["taskset", "-c", self.cpus, *command]
        log = (self.prefix / "stdout.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, self.prefix / "error.log")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
