#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan+UBSan) into build-fuzz/ (or
# $FUZZ_BUILD_DIR) and runs each for FUZZ_SECONDS (default 20) on a copy of its seed corpus.
# A finding fails the run and leaves the input under <build>/fuzz/run/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
CC=clang CXX=clang++ cmake -S . -B "$FUZZ_BUILD_DIR" -DAIOPS_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAIOPS_WERROR="${AIOPS_WERROR:-ON}" >/dev/null
# Only the fuzzers and what they link (protos, common, four service cores).
cmake --build "$FUZZ_BUILD_DIR" -j "$JOBS" --target fuzz
cd "$FUZZ_BUILD_DIR"
# One fuzzer per core: on a 2-core machine two at a time use the machine and no more.
ctest --output-on-failure -L fuzz -j "${TEST_JOBS:-2}" "$@"
