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
# NAME is iops, seq, migrate, recopy, remote, remote-tunnel or md3 (Documentation/testing.rst,
# "Benchmarks"); without one, all of them run.  md3 runs on the host
# (build/crashsim --bench: the pool metadata at scale), the others in guests.  Knobs (environment,
# described there): SP_MEM, SP_BENCH_TIMEOUT, SP_BENCH_ROUNDS,
# SP_BENCH_RUNTIME, SP_BENCH_IOPS_ROUNDS, SP_BENCH_IOPS_RUNTIME,
# SP_BENCH_IOPS_QD, SP_BENCH_CAP_MBPS, SP_BENCH_MIG_ROUNDS, SP_BENCH_MIG_MB,
# SP_BENCH_MIG_LOADS, SP_BENCH_MIG_QD, SP_BENCH_MIG_IDLE, SP_BENCH_MIG_ARGS,
# SP_BENCH_RECOPY_MB,
# SP_BENCH_RECOPY_IOPS, SP_BENCH_RECOPY_RATE, SP_BENCH_RECOPY_CHUNK_KB.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
names=(iops seq migrate recopy remote remote-tunnel md3)

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
for k in SP_BENCH_IOPS_ROUNDS SP_BENCH_IOPS_RUNTIME SP_BENCH_IOPS_QD \
	 SP_BENCH_CAP_MBPS SP_BENCH_MIG_ROUNDS SP_BENCH_MIG_MB SP_BENCH_MIG_LOADS \
	 SP_BENCH_MIG_QD SP_BENCH_MIG_IDLE SP_BENCH_MIG_ARGS SP_BENCH_RECOPY_MB SP_BENCH_RECOPY_IOPS \
	 SP_BENCH_RECOPY_RATE SP_BENCH_RECOPY_CHUNK_KB; do
	[ -z "${!k:-}" ] || genv+=" $k=${!k}"
done

# iops and remote-tunnel run each in a guest of its own with one vCPU and
# QEMU's -icount (SP_BENCH_ICOUNT, its options; 0 for the wall clock):
# guest time then counts instructions, so the host's load does not reach
# the ratios (Documentation/testing.rst, "Benchmarks").  Through the
# tunnel, on the wall clock, the per-round ratios spread over ten times.
icount=${SP_BENCH_ICOUNT-shift=1,sleep=off}
[ "$icount" != 0 ] || icount=""
icount_sets=(iops remote-tunnel)
rest=${only:-${names[*]}}
rest=${rest// /,}
host_md3=""
if [[ ",$rest," == *,md3,* ]]; then
	host_md3=1
	rest=$(echo ",$rest," | sed 's/,md3,/,/; s/^,//; s/,$//')
fi
sessions=()
for s in "${icount_sets[@]}"; do
	if [ -n "$icount" ] && [[ ",$rest," == *",$s,"* ]]; then
		sessions+=("$s")
		rest=$(echo ",$rest," | sed "s/,$s,/,/; s/^,//; s/,\$//")
	fi
done
[ -z "$rest" ] || sessions+=("$rest")

stamp=$(date +%Y%m%d-%H%M%S)${only:+-${only//,/-}}
out=$top/build/bench-results
report=$out/bench-$stamp.txt
work=$top/build/bench/bench-$stamp
mkdir -p "$out"
: > "$report"
start=$SECONDS
rc=0
n=0
for set in "${sessions[@]}"; do
	n=$((n + 1))
	w=$work/$n
	ic=""
	smp=${SP_SMP:-}
	if [ -n "$icount" ] && [[ " ${icount_sets[*]} " == *" $set "* ]]; then
		ic=$icount
		smp=1
	fi
	# The guest writes its report into its results directory as well: the
	# console copy (teed here as it arrives) can lose characters on a busy host.
	SP_WORKDIR=$w SP_MEM=${SP_MEM:-3072} SP_DEMO_TIMEOUT=${SP_BENCH_TIMEOUT:-3000} \
		SP_GUEST_ENV="$genv SP_BENCH_ONLY=$set SP_BENCH_REPORT=report.txt" \
		SP_QEMU_CPU=${SP_QEMU_CPU:-max,-erms,-fsrm} SP_QEMU_ICOUNT=$ic \
		SP_SMP=$smp \
			"$top/selftests/run" --no-build --keep --demo tools/bench/guest-bench.sh |
		tee "$report.console.$n" || rc=$?
	[ -z "$ic" ] || echo "(guest: one vCPU, -icount $ic: times are guest instructions, not the host's clock)" >> "$report"
	[ ! -s "$w/a/results/report.log" ] || cat "$w/a/results/report.log" >> "${report%.txt}.log"
	if [ -s "$w/a/results/report.txt" ]; then
		cat "$w/a/results/report.txt" >> "$report"
	else
		cat "$report.console.$n" >> "$report"
	fi
done
# md3: the metadata at scale, on the host (simulated members).
if [ -n "$host_md3" ]; then
	{
		echo "== md3: pool metadata format 3 at scale (host, simulated members) =="
		"$top/build/crashsim" --bench
	} 2>&1 | tee -a "$report" || rc=1
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
	rm -rf "$work" "$report".console.*
else
	took+="; the console copies in ${report#"$top"/}.console.*, the guest's files in ${work#"$top"/}"
fi
echo "$took" | tee -a "$report"
exit "$rc"
