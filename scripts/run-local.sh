#!/usr/bin/env bash
# The run command (README): installs what is missing (apt-get), builds, and starts the whole
# local pipeline with `aiops-local up`: the development broker, kube-sim with the demo scenario
# and the five services with the built-in runbook proposer. Ctrl-C stops every process it
# started. Arguments are passed to `aiops-local up`, e.g.
#   ./scripts/run-local.sh --auto-approve low
#   ./scripts/run-local.sh --llm-url http://127.0.0.1:11434 --llm-model qwen2.5:7b-instruct
#   ./scripts/run-local.sh --kubeconfig ~/.kube/config --context kind-aiops
# State (bootstrap, kubeconfig, approver.addr, token, logs/) goes to $AIOPS_LOCAL_DIR
# (default .aiops-local).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build.sh
BIN=${BUILD_DIR:-build}/bin
exec "$BIN/aiops-local" up --dir "${AIOPS_LOCAL_DIR:-.aiops-local}" "$@"
