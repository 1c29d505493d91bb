#!/usr/bin/env bash
# The run command (README): installs what is missing, builds, and starts the local stack on
# its built-in defaults. Ctrl-C stops every process it started.
#
# Today the stack is the development broker (aiops-devbroker) and, once built, the simulated
# cluster (kube-sim, demo scenario). The five pipeline services join it as they are built.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build.sh
BIN=${BUILD_DIR:-build}/bin
RUN_DIR=${RUN_DIR:-.run}
mkdir -p "$RUN_DIR/logs"
pids=()

cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping ${#pids[@]} processes..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped; logs are in $RUN_DIR/logs"
}
trap cleanup INT TERM EXIT

# start NAME CMD...: runs CMD in the background, its output in $RUN_DIR/logs/NAME.log
start() {
  local name=$1
  shift
  "$@" >"$RUN_DIR/logs/$name.log" 2>&1 &
  pids+=($!)
}

wait_for_file() {
  local file=$1 what=$2
  for _ in $(seq 1 300); do
    [ -s "$file" ] && return 0
    sleep 0.1
  done
  echo "error: $what did not start; see $RUN_DIR/logs" >&2
  exit 1
}

rm -f "$RUN_DIR/bootstrap"
start aiops-devbroker "$BIN/aiops-devbroker" --bootstrap-file "$RUN_DIR/bootstrap"
wait_for_file "$RUN_DIR/bootstrap" aiops-devbroker
BOOTSTRAP=$(cat "$RUN_DIR/bootstrap")

KUBECONFIG_OUT=""
if [ -x "$BIN/kube-sim" ] && [ -f tools/kube-sim/scenarios/demo.yaml ]; then
  KUBECONFIG_OUT="$RUN_DIR/kubeconfig"
  rm -f "$KUBECONFIG_OUT"
  start kube-sim "$BIN/kube-sim" --scenario tools/kube-sim/scenarios/demo.yaml \
    --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG_OUT"
  wait_for_file "$KUBECONFIG_OUT" kube-sim
fi

cat <<INFO

AIOps local stack is running.
  Kafka (development broker, in memory): $BOOTSTRAP
  Audit trail:    $BIN/aiopsctl audit --bootstrap $BOOTSTRAP --from-beginning --follow
INFO
if [ -n "$KUBECONFIG_OUT" ]; then
  cat <<INFO
  Simulated cluster (kube-sim, demo scenario):
                  kubectl --kubeconfig $KUBECONFIG_OUT get pods -A
INFO
fi
cat <<INFO
  Logs:           $RUN_DIR/logs/
  Pipeline services (detector, collector, proposer, approver, executor) are not built yet;
  this command starts them as soon as they exist.

Press Ctrl-C to stop everything.
INFO

# Stop when the user presses Ctrl-C or any started process dies.
while true; do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "a process exited unexpectedly (pid $pid); see $RUN_DIR/logs" >&2
      exit 1
    fi
  done
  sleep 1
done
