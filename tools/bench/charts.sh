#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# charts.sh REPORT [OUTDIR]: one PNG chart per benchmark of a make bench
# report, drawn with gnuplot.  The report's SERIES lines (bench-lib.sh's
# series()) carry the per-round ratios:
#
#   SERIES <chart> | <label> | <le|ge> <target> or - | <v1> <v2> ...
#
# Each chart shows, per series, every round as a point, the median as a
# bar, the target (if any) as a red mark and the line of parity (1.0).
# It writes <report without .txt>-<chart>.png (or into OUTDIR) and prints
# the paths.  Exit 0 with a note when the report has no SERIES line.
set -euo pipefail

die() {
	echo "charts.sh: $*" >&2
	exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	die "usage: charts.sh REPORT [OUTDIR]"
fi
report=$1
[ -r "$report" ] || die "cannot read the report '$report'"
command -v gnuplot > /dev/null || die "gnuplot is missing: run 'make deps'"
base=$(basename "${report%.txt}")
outdir=${2:-$(dirname "$report")}
mkdir -p "$outdir"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Split the SERIES lines by chart: <tmp>/<n>.series holds "label|target|values".
awk -v dir="$tmp" '
	/^(RESULT )?SERIES / {
		sub(/^(RESULT )?SERIES /, "")
		n = split($0, f, /[ \t]*\|[ \t]*/)
		if (n != 4 || f[1] == "" || f[2] == "") {
			printf "charts.sh: malformed SERIES line: %s\n", $0 > "/dev/stderr"
			bad = 1
			next
		}
		if (!(f[1] in id)) {
			id[f[1]] = ++charts
			print f[1] > (dir "/" charts ".name")
		}
		print f[2] "|" f[3] "|" f[4] >> (dir "/" id[f[1]] ".series")
	}
	END { exit bad }
' "$report" || die "the report has malformed SERIES lines"

shopt -s nullglob
names=("$tmp"/*.name)
if [ ${#names[@]} -eq 0 ]; then
	echo "charts.sh: no SERIES line in $report: no chart drawn"
	exit 0
fi

for nf in "${names[@]}"; do
	n=${nf%.name}
	chart=$(cat "$nf")
	safe=$(printf '%s' "$chart" | tr -c 'A-Za-z0-9._-' '_')
	png=$outdir/$base-$safe.png
	# Points (x, value), medians (x, median), targets (x, target), tics.
	awk -F'|' -v pts="$n.pts" -v med="$n.med" -v tgt="$n.tgt" -v tics="$n.tics" '
		{
			x = NR
			k = split($3, v, " ")
			m = 0
			for (i = 1; i <= k; i++) {
				if (v[i] == "nan" || v[i] !~ /^[0-9.eE+-]+$/)
					continue
				a[++m] = v[i] + 0
				# Spread the rounds a little around x, in round order.
				printf "%.3f %s\n", x - 0.15 + 0.3 * (i - 1) / (k > 1 ? k - 1 : 1), v[i] > pts
			}
			# Median of the numeric values (insertion sort; few rounds).
			for (i = 2; i <= m; i++) {
				t = a[i]
				for (j = i - 1; j >= 1 && a[j] > t; j--)
					a[j + 1] = a[j]
				a[j + 1] = t
			}
			if (m > 0)
				printf "%d %s\n", x, (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 > med
			if ($2 ~ /^(le|ge) /) {
				split($2, t2, " ")
				printf "%d %s\n", x, t2[2] > tgt
			}
			gsub(/"/, "", $1)
			printf "%s\"%s\" %d", (NR > 1 ? ", " : ""), $1, x > tics
			last = x
		}
		END { printf "%d\n", last > (tics ".n") }
	' "$n.series"
	count=$(cat "$n.tics.n")
	: >> "$n.pts"
	: >> "$n.med"
	: >> "$n.tgt"
	plots="'$n.pts' using 1:2 with points pt 7 ps 1.2 lc rgb '#4a78b5' title 'rounds'"
	[ -s "$n.med" ] && plots+=", '$n.med' using 1:2:(0.25) with xerrorbars pt -1 lw 3 lc rgb 'black' title 'median'"
	[ -s "$n.tgt" ] && plots+=", '$n.tgt' using 1:2 with points pt 9 ps 2 lc rgb '#c0392b' title 'target'"
	plots+=", 1 with lines dt 2 lc rgb '#888888' title 'parity (1.0)'"
	gnuplot <<- EOF || die "gnuplot failed for chart '$chart'"
		set terminal pngcairo size $((320 + 170 * count)),560 noenhanced font ',10'
		set output '$png'
		set title "$chart (ratios per round; $base)"
		set xrange [0.4:$count + 0.6]
		set yrange [0:*]
		set ylabel 'ratio'
		set grid ytics
		set key outside bottom center horizontal
		set xtics rotate by -20 ($(cat "$n.tics"))
		plot $plots
	EOF
	[ -s "$png" ] || die "gnuplot wrote no image for chart '$chart'"
	echo "$png"
done
