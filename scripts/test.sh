#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds, runs every unit and
# integration test. Benchmarks (label bench) are built but not run here: see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
cd "$BUILD_DIR"
# Integration tests start real processes; two at a time fits a 2-core machine.
ctest --output-on-failure --label-exclude bench -j "${TEST_JOBS:-2}" --timeout 900 "$@"
