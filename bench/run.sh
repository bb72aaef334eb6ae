#!/usr/bin/env bash
# Run every benchmark and rewrite the results in docs/benchmarks.md.
#   bench/run.sh            load benchmark against LiteLLM Proxy, then the micro-benchmarks
#   bench/run.sh micro      micro-benchmarks only
#   bench/run.sh load ARGS  load benchmark only; ARGS go to `python -m bench.load`
#   bench/run.sh profile gateway|litellm plain|stream
#                           py-spy profile of one service under load
# Installs nginx and wrk with apt-get (as root) and LiteLLM Proxy into
# bench/.venv-litellm when they are missing. Takes about 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-venv.sh
ensure_venv requirements-dev.txt
[ -x .venv/bin/py-spy ] ||
  .venv/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt

what=${1:-all}
[ $# -gt 0 ] && shift

install_debian_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    echo "Missing ${missing[*]}: run 'sudo apt-get install ${missing[*]}' and try again." >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# LiteLLM Proxy at the litellm version that the gateway pins, in its own venv
# so that it never becomes a dependency of the product.
install_litellm_proxy() {
  local venv=bench/.venv-litellm version stamp
  version=$(sed -n 's/^litellm==//p' requirements.txt)
  stamp="$venv/.installed-litellm-proxy-$version"
  [ -f "$stamp" ] && return
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  local pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
  if "${pip[@]}" "litellm[proxy]==$version"; then
    echo "litellm[proxy]==$version" >"$stamp"
    return
  fi
  echo "litellm[proxy]==$version is not installable here; installing litellm==$version" \
    "and the proxy extra's other requirements (see bench/proxy_requirements.py)." >&2
  "${pip[@]}" "litellm==$version"
  "$venv/bin/python" bench/proxy_requirements.py >"$venv/proxy-requirements.txt"
  "${pip[@]}" -r "$venv/proxy-requirements.txt"
  echo "litellm==$version with the proxy extra minus litellm-proxy" >"$stamp"
}

run_load() {
  install_debian_tools
  install_litellm_proxy
  .venv/bin/python -m bench.load "$@"
}

run_micro() {
  for name in acl auth logwriter analytics catalog; do
    .venv/bin/python -m "bench.micro_$name"
  done
}

case "$what" in
  all) run_load "$@"; run_micro ;;
  load) run_load "$@" ;;
  micro) run_micro ;;
  profile) install_debian_tools; install_litellm_proxy; exec .venv/bin/python -m bench.profile "$@" ;;
  *) echo "usage: bench/run.sh [all|load|micro|profile] [arguments]" >&2; exit 2 ;;
esac
.venv/bin/python -m bench.report
