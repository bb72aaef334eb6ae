"""Integration snippets: complete curl, Python and Node programs for one endpoint.

Given the plain key (right after it is created) a snippet embeds it. Otherwise
the program reads the key from GATEWAY_API_KEY and a comment names the key's
prefix, so the user knows which key to paste.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

API_KEY_VARIABLE = "GATEWAY_API_KEY"
SAMPLE_PROMPT = "Say hello in one short sentence."


@dataclass(frozen=True)
class Snippet:
    """One runnable program, with the language name that `st.code` highlights."""

    label: str
    language: str
    code: str


def build_snippets(
    gateway_url: str,
    slug: str,
    api_key: str | None = None,
    key_prefix: str | None = None,
) -> list[Snippet]:
    """Return the Python, Node and curl programs for `slug`, in that order.

    `gateway_url` is the OpenAI base URL of the gateway, ending in `/v1`. Python
    comes first because the first tab is the one shown without a click.
    """
    url = gateway_url.rstrip("/")
    return [
        Snippet("Python", "python", python_snippet(url, slug, api_key, key_prefix)),
        Snippet("Node", "javascript", node_snippet(url, slug, api_key, key_prefix)),
        Snippet("curl", "bash", curl_snippet(url, slug, api_key, key_prefix)),
    ]


def curl_snippet(
    url: str, slug: str, api_key: str | None, key_prefix: str | None
) -> str:
    body = json.dumps(
        {"model": slug, "messages": [{"role": "user", "content": SAMPLE_PROMPT}]}
    )
    if api_key:
        key_line = f"{API_KEY_VARIABLE}='{api_key}'"
    else:
        hint = (
            f"the virtual key that starts with {key_prefix}"
            if key_prefix
            else "a virtual key"
        )
        key_line = f': "${{{API_KEY_VARIABLE}:?Set {API_KEY_VARIABLE} to {hint}}}"'
    return (
        "#!/bin/sh\n"
        f"{_key_comment('#', api_key, key_prefix)}\n"
        f"{key_line}\n"
        f"curl -sS {url}/chat/completions \\\n"
        f'  -H "Authorization: Bearer ${API_KEY_VARIABLE}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{body}'\n"
    )


def python_snippet(
    url: str, slug: str, api_key: str | None, key_prefix: str | None
) -> str:
    key_expression = (
        json.dumps(api_key) if api_key else f'os.environ["{API_KEY_VARIABLE}"]'
    )
    imports = "from openai import OpenAI\n"
    if not api_key:
        # Only the program that reads the key from the environment needs `os`.
        imports = f"import os\n\n{imports}"
    return (
        f"{imports}"
        "\n"
        f"{_key_comment('#', api_key, key_prefix)}\n"
        "client = OpenAI(\n"
        f"    base_url={json.dumps(url)},\n"
        f"    api_key={key_expression},\n"
        ")\n"
        "response = client.chat.completions.create(\n"
        f"    model={json.dumps(slug)},\n"
        f'    messages=[{{"role": "user", "content": {json.dumps(SAMPLE_PROMPT)}}}],\n'
        ")\n"
        "print(response.choices[0].message.content)\n"
    )


def node_snippet(
    url: str, slug: str, api_key: str | None, key_prefix: str | None
) -> str:
    key_expression = (
        json.dumps(api_key) if api_key else f"process.env.{API_KEY_VARIABLE}"
    )
    return (
        'const { OpenAI } = require("openai");\n'
        "\n"
        f"{_key_comment('//', api_key, key_prefix)}\n"
        "const client = new OpenAI({\n"
        f"  baseURL: {json.dumps(url)},\n"
        f"  apiKey: {key_expression},\n"
        "});\n"
        "\n"
        "async function main() {\n"
        "  const response = await client.chat.completions.create({\n"
        f"    model: {json.dumps(slug)},\n"
        f'    messages: [{{ role: "user", content: {json.dumps(SAMPLE_PROMPT)} }}],\n'
        "  });\n"
        "  console.log(response.choices[0].message.content);\n"
        "}\n"
        "\n"
        "main().catch((error) => {\n"
        "  console.error(error.message);\n"
        "  process.exit(1);\n"
        "});\n"
    )


def _key_comment(mark: str, api_key: str | None, key_prefix: str | None) -> str:
    if api_key:
        return f"{mark} The gateway shows this key only once. Keep it secret."
    if key_prefix:
        return (
            f"{mark} Set {API_KEY_VARIABLE} to the key that starts with {key_prefix}."
        )
    return f"{mark} Set {API_KEY_VARIABLE} to a key that may use this endpoint."
