#!/usr/bin/env bash
# Start the gateway service and the workbench together on the embedded DuckDB
# under data/. Ctrl-C stops both. GATEWAY_PORT, WORKBENCH_PORT and
# WORKBENCH_ADDRESS move them.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure-venv.sh
ensure_venv requirements.txt

export GATEWAY_PORT=${GATEWAY_PORT:-4000}
export GATEWAY_DATA_DIR=${GATEWAY_DATA_DIR:-data}
workbench_port=${WORKBENCH_PORT:-8501}
# The workbench acts with the admin key, so it listens on loopback unless
# WORKBENCH_ADDRESS names another address.
workbench_address=${WORKBENCH_ADDRESS:-127.0.0.1}
export GATEWAY_WORKBENCH_URL="http://${workbench_address}:${workbench_port}"
export GATEWAY_URL=${GATEWAY_URL:-http://127.0.0.1:${GATEWAY_PORT}}

.venv/bin/python -m gateway.proxy_server &
service=$!
trap 'kill "$service" 2>/dev/null; wait "$service" 2>/dev/null' EXIT INT TERM

for _ in $(seq 1 300); do
  if .venv/bin/python -c "import httpx,sys; httpx.get(sys.argv[1], timeout=1).raise_for_status()" \
    "$GATEWAY_URL/health" 2>/dev/null; then
    break
  fi
  kill -0 "$service" 2>/dev/null || { echo "The gateway service failed to start; see the lines above." >&2; exit 1; }
  sleep 0.2
done

echo "Workbench: http://${workbench_address}:${workbench_port}   Gateway: ${GATEWAY_URL}/v1"
.venv/bin/streamlit run Home.py --server.port "$workbench_port" \
  --server.address "$workbench_address" --server.headless true \
  --browser.gatherUsageStats false &
workbench=$!
trap 'kill "$service" "$workbench" 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

# When either process ends, stop the other, so nothing is left half running.
wait -n "$service" "$workbench" || true
if ! kill -0 "$service" 2>/dev/null; then
  echo "The gateway service stopped; stopping the workbench." >&2
fi
