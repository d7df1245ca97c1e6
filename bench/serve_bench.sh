#!/usr/bin/env bash
# Serve benchmark (issue #19): `mlpipe serve` with the churn example's saved model, one
# Telco customer per request, keep-alive, wrk at 4, 8 and 16 connections for 10 s each;
# prints requests/s and the p50 / p90 / p99 latency wrk measures (--latency).
#
# Usage: bench/serve_bench.sh [--threads N] [--duration 10s] [--port 18080] [--debug]
# (--debug uses the debug build: a smoke test of the script, not a figure.)
# Needs wrk (Debian package `wrk`). Run on a quiet machine: the client shares the cores.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
THREADS=""
DURATION="10s"
PORT=18080
PROFILE=release
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --debug) PROFILE=debug; shift ;;
    *) echo "usage: $0 [--threads N] [--duration 10s] [--port 18080]" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }

cd "$ROOT"
echo "== building the CLI and the churn example ($PROFILE)"
if [ "$PROFILE" = release ]; then
  cargo build --release -p mlpipe-cli && cargo build --release --example churn >/dev/null
else
  cargo build -p mlpipe-cli && cargo build --example churn >/dev/null
fi
MODEL="$ROOT/target/serve_bench_model"
echo "== fitting and saving the churn model to $MODEL"
"./target/$PROFILE/examples/churn" --model-dir "$MODEL" >/dev/null

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The first customer of data/telco_churn/telco_customer_churn.csv (7590-VHVEG).
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"customerID":"7590-VHVEG","gender":"Female","SeniorCitizen":0,"Partner":"Yes","Dependents":"No","tenure":1,"PhoneService":"No","MultipleLines":"No phone service","InternetService":"DSL","OnlineSecurity":"No","OnlineBackup":"Yes","DeviceProtection":"No","TechSupport":"No","StreamingTV":"No","StreamingMovies":"No","Contract":"Month-to-month","PaperlessBilling":"Yes","PaymentMethod":"Electronic check","MonthlyCharges":29.85,"TotalCharges":29.85}'
LUA

ARGS=(serve --model "$MODEL" --addr "127.0.0.1:$PORT")
[ -n "$THREADS" ] && ARGS+=(--threads "$THREADS")
"./target/$PROFILE/mlpipe" "${ARGS[@]}" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$WORK/server.log" 2>/dev/null && break
  sleep 0.1
done
grep "listening on" "$WORK/server.log" || { cat "$WORK/server.log" >&2; exit 1; }
# One request first: the answer must be a prediction, not an error.
curl -sf -H 'Content-Type: application/json' \
  --data "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$WORK/post.lua")" \
  "http://127.0.0.1:$PORT/predict" || { echo "the server did not answer" >&2; exit 1; }
echo
echo "== $(uptime)"
printf "%-6s %12s %10s %10s %10s\n" conns "req/s" p50 p90 p99
for C in 4 8 16; do
  OUT="$(wrk -t 2 -c "$C" -d "$DURATION" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT/predict")"
  echo "$OUT" > "$WORK/wrk_c$C.txt"
  RPS="$(echo "$OUT" | awk '/^Requests\/sec:/ {print $2}')"
  P50="$(echo "$OUT" | awk '$1 == "50%" {print $2}')"
  P90="$(echo "$OUT" | awk '$1 == "90%" {print $2}')"
  P99="$(echo "$OUT" | awk '$1 == "99%" {print $2}')"
  ERRS="$(echo "$OUT" | grep -E "Non-2xx|Socket errors" || true)"
  printf "%-6s %12s %10s %10s %10s %s\n" "$C" "$RPS" "$P50" "$P90" "$P99" "$ERRS"
done
echo "== $(uptime)"
