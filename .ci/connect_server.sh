#!/usr/bin/env bash
# Starts or stops a local Spark Connect server (Spark 4.3 from the pip `pyspark` package) for
# the `connect` tests: loopback only, local[2], 2 GB driver, no UI.
#
#   .ci/connect_server.sh start PYTHON [PORT]   # waits until the port answers (at most 180 s)
#   .ci/connect_server.sh stop  PYTHON [PORT]
#
# PYTHON is a python with pyspark 4.x installed (CI's venv has 4.3.0; other versions' venvs
# work the same, one server per port). State (logs, pid, warehouse) lives in
# target/connect-server/PORT/, never inside the venv. Then run the tests with
#   MLPIPE_SPARK_CONNECT=sc://127.0.0.1:PORT cargo test --features connect --test integration connect::
set -euo pipefail
cd "$(dirname "$0")/.."

action="${1:?usage: $0 start|stop PYTHON [PORT]}"
python="${2:?usage: $0 start|stop PYTHON [PORT]}"
port="${3:-15002}"
state="$PWD/target/connect-server/$port"
mkdir -p "$state/logs" "$state/pids" "$state/wh"

SPARK_HOME="$("$python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
export SPARK_HOME SPARK_LOCAL_IP=127.0.0.1 SPARK_LOG_DIR="$state/logs" SPARK_PID_DIR="$state/pids"
# Make the pyspark scripts use this python, not whatever `python3` is on PATH.
export PYSPARK_PYTHON="$python"
# The server itself, not a Connect client to one (Spark 4.1+ reads this).
export SPARK_CONNECT_MODE=0
# The pip packages of Spark 4.0-4.2 have no start-connect-server.sh (4.3's has); what it
# runs, spark-daemon.sh with the server class, is in every one of them.
CLASS=org.apache.spark.sql.connect.service.SparkConnectServer

case "$action" in
start)
    "$SPARK_HOME/sbin/spark-daemon.sh" submit "$CLASS" 1 --name "Spark Connect server" \
        --master 'local[2]' --driver-memory 2g \
        --conf spark.connect.grpc.binding.address=127.0.0.1 \
        --conf "spark.connect.grpc.binding.port=$port" \
        --conf spark.ui.enabled=false \
        --conf "spark.sql.warehouse.dir=$state/wh" >/dev/null
    for _ in $(seq 1 180); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "Spark Connect server listening on sc://127.0.0.1:$port"
            exit 0
        fi
        sleep 1
    done
    echo "Spark Connect server did not open port $port within 180 s; its log:" >&2
    tail -n 40 "$state"/logs/*.out >&2 || true
    "$SPARK_HOME/sbin/spark-daemon.sh" stop "$CLASS" 1 || true
    exit 1
    ;;
stop)
    "$SPARK_HOME/sbin/spark-daemon.sh" stop "$CLASS" 1 || true
    ;;
*)
    echo "usage: $0 start|stop PYTHON [PORT]" >&2
    exit 2
    ;;
esac
