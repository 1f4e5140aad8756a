#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: run tools/bench/guest-bench.sh in a bench guest and keep its
# report in build/bench-results/.  Under TCG absolute speeds mean nothing:
# every figure is a median ratio against a peer measured in the same guest,
# interleaved and repeated.  Not a test: it prints, it does not judge.
#
#   tools/bench/benchmarks.sh [NAME...]
#
# NAME is iops, seq, migrate, recopy or remote (Documentation/testing.rst,
# "Benchmarks"); without one, all of them run.  Knobs (environment,
# described there): SP_MEM, SP_BENCH_TIMEOUT, SP_BENCH_ROUNDS,
# SP_BENCH_RUNTIME, SP_BENCH_IOPS_ROUNDS, SP_BENCH_IOPS_RUNTIME,
# SP_BENCH_IOPS_QD, SP_BENCH_CAP_MBPS, SP_BENCH_MIG_ROUNDS, SP_BENCH_MIG_MB,
# SP_BENCH_MIG_LOADS, SP_BENCH_MIG_QD, SP_BENCH_MIG_IDLE, SP_BENCH_MIG_ARGS,
# SP_BENCH_RECOPY_MB,
# SP_BENCH_RECOPY_IOPS, SP_BENCH_RECOPY_RATE, SP_BENCH_RECOPY_CHUNK_KB.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
names=(iops seq migrate recopy remote)

only=""
for n in "$@"; do
	case " ${names[*]} " in
	*" $n "*) only+=${only:+,}$n ;;
	*)
		echo "benchmarks.sh: unknown benchmark '$n' (one of: ${names[*]})" >&2
		exit 2
		;;
	esac
done

# Knobs passed to the guest (sp_env_NAME=value on its command line).
genv="SP_BENCH_ROUNDS=${SP_BENCH_ROUNDS:-5} SP_BENCH_RUNTIME=${SP_BENCH_RUNTIME:-6}"
[ -z "$only" ] || genv+=" SP_BENCH_ONLY=$only"
for k in SP_BENCH_IOPS_ROUNDS SP_BENCH_IOPS_RUNTIME SP_BENCH_IOPS_QD \
	 SP_BENCH_CAP_MBPS SP_BENCH_MIG_ROUNDS SP_BENCH_MIG_MB SP_BENCH_MIG_LOADS \
	 SP_BENCH_MIG_QD SP_BENCH_MIG_IDLE SP_BENCH_MIG_ARGS SP_BENCH_RECOPY_MB SP_BENCH_RECOPY_IOPS \
	 SP_BENCH_RECOPY_RATE SP_BENCH_RECOPY_CHUNK_KB; do
	[ -z "${!k:-}" ] || genv+=" $k=${!k}"
done

stamp=$(date +%Y%m%d-%H%M%S)${only:+-${only//,/-}}
out=$top/build/bench-results
report=$out/bench-$stamp.txt
work=$top/build/bench/bench-$stamp
mkdir -p "$out"
start=$SECONDS
rc=0
# The guest writes its report into its results directory as well: the
# console copy (teed here as it arrives) can lose characters on a busy host.
SP_WORKDIR=$work SP_MEM=${SP_MEM:-3072} SP_DEMO_TIMEOUT=${SP_BENCH_TIMEOUT:-3000} \
	SP_GUEST_ENV="$genv SP_BENCH_REPORT=report.txt" \
	SP_QEMU_CPU=${SP_QEMU_CPU:-max,-erms,-fsrm} \
		"$top/selftests/run" --no-build --keep --demo tools/bench/guest-bench.sh |
	tee "$report.console" || rc=$?
[ ! -s "$work/a/results/report.log" ] || cp "$work/a/results/report.log" "${report%.txt}.log"
if [ -s "$work/a/results/report.txt" ]; then
	cp "$work/a/results/report.txt" "$report"
else
	cp "$report.console" "$report"
fi
took="bench took $((SECONDS - start)) s; report kept in ${report#"$top"/}"
# One PNG chart per benchmark next to the report (ratios of every round).
if charts=$("$top/tools/bench/charts.sh" "$report"); then
	[ -z "$charts" ] || took+="; charts: $(echo "$charts" | sed "s|^$top/||" | tr '\n' ' ')"
else
	took+="; drawing the charts failed"
	rc=1
fi
if [ "$rc" -eq 0 ]; then
	rm -rf "$work" "$report.console"
else
	took+="; the console copy in ${report#"$top"/}.console, the guest's files in ${work#"$top"/}"
fi
echo "$took" | tee -a "$report"
exit "$rc"
