"""Print the requirements of litellm's `proxy` extra, one a line.

`bench/run.sh` first tries `pip install litellm[proxy]==VERSION`. That fails
when the extra pins litellm's companion distributions (`litellm-proxy`,
`litellm-proxy-extras`, `litellm-enterprise`) at versions that the package
index lacks. The script then installs `litellm==VERSION` and `pip install -r`
of this output: every other requirement of the extra as litellm states it,
without `litellm-proxy` (the proxy's code ships inside the litellm wheel), and
the other companions unpinned, so pip takes the newest version the index has.
"""

from __future__ import annotations

from importlib import metadata

from packaging.requirements import Requirement

SKIPPED = {"litellm-proxy"}


def proxy_requirements() -> list[str]:
    lines = []
    for text in metadata.requires("litellm") or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.name in SKIPPED:
            continue
        if not requirement.marker.evaluate({"extra": "proxy"}):
            continue
        requirement.marker = None
        if requirement.name.startswith("litellm-"):
            requirement.specifier = type(requirement.specifier)()
        lines.append(str(requirement))
    return lines


if __name__ == "__main__":
    print("\n".join(proxy_requirements()))
