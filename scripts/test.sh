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
cd - >/dev/null
# Then the fuzzers (separate clang + sanitizer build; scripts/fuzz.sh), on the full run only:
# a subset (`-L unit`, `-R X`) is run to check that subset. SKIP_FUZZ=1 skips them too.
if [ $# -eq 0 ] && [ "${SKIP_FUZZ:-0}" != 1 ]; then
  ./scripts/fuzz.sh
fi
