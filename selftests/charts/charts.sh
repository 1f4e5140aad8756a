#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench draws one PNG chart per benchmark from the SERIES lines of its
# report (tools/bench/charts.sh): every series of a chart is drawn, a
# malformed line is refused, and a report without series draws nothing.
. "$SP_TOP/selftests/lib/ktap.sh"

charts=$SP_TOP/tools/bench/charts.sh
command -v gnuplot > /dev/null || sp_die "gnuplot is missing: run 'make deps'"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# png_size FILE: "W H" from the PNG's IHDR chunk.
png_size() {
	od -An -tu1 -j16 -N8 "$1" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4, $5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }'
}

ktap_header
ktap_plan 8

cat > "$tmp/bench-x.txt" <<'R'
slicepool benchmarks (a sample report)
SERIES iops | 4k-randread slicepool/dm-linear | ge 0.97 | 0.95 0.99 1.01 0.93 0.97
SERIES iops | 4k-randread slicepool/dm-thin | - | 1.2 1.3 1.25 1.1 1.22
SERIES iops | 4k-randwrite slicepool/dm-linear | ge 0.97 | 1.02 0.9 0.94 nan 1.1
SERIES iops | 4k-randwrite slicepool/dm-thin | - | 1.0 1.1 1.05 1.02 0.98
RESULT 4k-randread-iops slicepool/dm-linear median 0.97 (target >= 0.97) PASS
SERIES migrate-qd8 | time slicepool/pvmove | le 0.50 | 0.41 0.38 0.45
R
out=$("$charts" "$tmp/bench-x.txt" "$tmp/out") && rc=0 || rc=$?
ktap_check "charts.sh draws the sample report (exit $rc)" [ "$rc" -eq 0 ]
mapfile -t pngs < <(cd "$tmp/out" && ls ./*.png 2> /dev/null)
ktap_check "one PNG per chart: ${pngs[*]} (want bench-x-iops.png and bench-x-migrate-qd8.png)" \
	test "${#pngs[@]}" -eq 2 -a -s "$tmp/out/bench-x-iops.png" -a -s "$tmp/out/bench-x-migrate-qd8.png"
ktap_check "it prints the path of each chart it drew" \
	[ "$(echo "$out" | sort | tr '\n' ' ')" = "$tmp/out/bench-x-iops.png $tmp/out/bench-x-migrate-qd8.png " ]
sig=$(od -An -tx1 -N8 "$tmp/out/bench-x-iops.png" | tr -d ' \n')
ktap_check "the chart is a PNG (signature $sig)" [ "$sig" = 89504e470d0a1a0a ]
# The width grows with the number of series: 4 series against 1.
read -r w4 _ < <(png_size "$tmp/out/bench-x-iops.png")
read -r w1 _ < <(png_size "$tmp/out/bench-x-migrate-qd8.png")
ktap_check "a chart has room for every series (4 series: ${w4}px wide, 1 series: ${w1}px)" \
	test "$w4" -eq $((320 + 170 * 4)) -a "$w1" -eq $((320 + 170))

printf 'SERIES iops | only a label\n' > "$tmp/bad.txt"
"$charts" "$tmp/bad.txt" "$tmp/bad" > "$tmp/bad.out" 2>&1 && rc=0 || rc=$?
ktap_check "a malformed SERIES line is refused (exit $rc): $(head -n 1 "$tmp/bad.out")" \
	test "$rc" -eq 2 -a -z "$(ls "$tmp/bad" 2> /dev/null)"
ktap_check "the refusal names the line" \
	grep -q 'malformed SERIES line: iops | only a label' "$tmp/bad.out"

printf 'RESULT nothing to draw\n' > "$tmp/none.txt"
out=$("$charts" "$tmp/none.txt" "$tmp/none") && rc=0 || rc=$?
ktap_check "a report without SERIES lines draws nothing and says so (exit $rc)" \
	test "$rc" -eq 0 -a -z "$(ls "$tmp/none" 2> /dev/null)" -a "$out" != "${out#*no SERIES line}"
ktap_finish
