#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: run tools/bench/guest-bench.sh in a bench guest and keep its
# report in build/bench-results/.  Under TCG absolute speeds mean nothing:
# every figure is a median ratio against a peer measured in the same guest,
# interleaved and repeated.  Not a test: it prints, it does not judge.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench-results
mkdir -p "$out"
report=$out/bench-$(date +%Y%m%d-%H%M%S).txt
SP_MEM=${SP_MEM:-3072} SP_DEMO_TIMEOUT=${SP_BENCH_TIMEOUT:-3000} \
	SP_GUEST_ENV="SP_BENCH_ROUNDS=${SP_BENCH_ROUNDS:-5} SP_BENCH_RUNTIME=${SP_BENCH_RUNTIME:-6}" \
	"$top/selftests/run" --no-build --demo tools/bench/guest-bench.sh | tee "$report"
echo "report kept in ${report#"$top"/}"
