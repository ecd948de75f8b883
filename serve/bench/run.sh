#!/usr/bin/env bash
# Benchmark: `pipeline serve` against `mlflow models serve` (the stack's
# MLflow 3.x, default workers) on single-row POST /invocations, same model,
# same machine, one run. Prints one JSON line per measurement.
#
#   eval "$(scripts/stack env)"; serve/bench/run.sh [seconds]
#
# Needs PIPELINE_PYTHON (the MLflow 3.x virtualenv, with lightgbm and uvicorn).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/pipeline" ./pipeline
go build -o "$work/loadgen" ./serve/bench/loadgen
go run ./serve/bench/mkmodel "$work/model" "$work/request.json"

"$work/pipeline" serve --model "$work/model" --addr 127.0.0.1:18000 --poll 0 --log-level warn --drift-window 1000 2>"$work/serve.log" &
pids+=($!)
PATH="$(dirname "$PIPELINE_PYTHON"):$PATH" "$(dirname "$PIPELINE_PYTHON")/mlflow" models serve -m "$work/model" --env-manager local -h 127.0.0.1 -p 18001 >"$work/mlflow.log" 2>&1 &
pids+=($!)
for port in 18000 18001; do
	for _ in $(seq 240); do
		curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break
		sleep 0.5
	done
	curl -sf "http://127.0.0.1:$port/ping" >/dev/null || { echo "server on $port did not start" >&2; cat "$work"/*.log >&2; exit 1; }
done
# same answers first
a=$(curl -s -H 'Content-Type: application/json' --data @"$work/request.json" http://127.0.0.1:18000/invocations)
b=$(curl -s -H 'Content-Type: application/json' --data @"$work/request.json" http://127.0.0.1:18001/invocations)
echo "{\"pipeline_answer\": $a, \"mlflow_answer\": $b}"

lg() { "$work/loadgen" -body "$work/request.json" -d "${secs}s" "$@"; }
lg -name "pipeline serve" -url http://127.0.0.1:18000/invocations -c 16
lg -name "mlflow models serve" -url http://127.0.0.1:18001/invocations -c 16
lg -name "pipeline serve" -url http://127.0.0.1:18000/invocations -rate 1000
lg -name "mlflow models serve" -url http://127.0.0.1:18001/invocations -rate 50
