#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel log helpers for the selftests (sourced, not run).  A test never
# clears the kernel log (the runner reads all of it, every WARN included):
# it writes a unique mark to /dev/kmsg before the action and then looks only
# at what was logged after the mark.
#
#   kmsg_mark              log a new mark "sp-test: mark <pid>.<n>.<random>" (dies
#                          if it cannot be written, or is not in the log
#                          afterwards when writes may be dropped)
#   kmsg_since             print the kernel log after the last mark
#   kmsg_has ERE           a line logged since the last mark matches ERE
#   kmsg_has_text TEXT     a line logged since the last mark holds TEXT
#   kmsg_count ERE         how many lines since the last mark match ERE

KMSG_SEQ=0
KMSG_MARK=""

kmsg_mark() {
	local f=/proc/sys/kernel/printk_devkmsg v=
	# Writes to /dev/kmsg are rate limited by default (10 per 5 s): a
	# dropped mark would hide what follows it.  Guests are the tests' own.
	{ read -r v < "$f"; } 2>/dev/null
	if [ "$v" = ratelimit ]; then
		echo on > "$f" 2>/dev/null
		{ read -r v < "$f"; } 2>/dev/null
	fi
	KMSG_SEQ=$((KMSG_SEQ + 1))
	KMSG_MARK="sp-test: mark $$.$KMSG_SEQ.$RANDOM$RANDOM"
	if ! echo "$KMSG_MARK" > /dev/kmsg; then
		echo "# FATAL: cannot write the mark '$KMSG_MARK' to /dev/kmsg"
		exit 1
	fi
	# With printk_devkmsg "on", devkmsg_write() stores the record in the
	# log before the write returns; only "ratelimit" and "off" drop a write
	# and still report success.  So the log itself is read back for the
	# first mark of a shell (the whole chain works here) and for every
	# mark while the setting is not "on".
	if [ "$v" != on ] || [ "$KMSG_SEQ" -eq 1 ]; then
		if [ -z "$(kmsg_since_mark)" ]; then
			echo "# FATAL: the mark '$KMSG_MARK' is not in the kernel log"
			exit 1
		fi
	fi
}

# The log from the (last) line ending with the mark on, that line included.
kmsg_since_mark() {
	[ -n "$KMSG_MARK" ] || return 0
	dmesg | awk -v m="$KMSG_MARK" '
		length($0) >= length(m) && substr($0, length($0) - length(m) + 1) == m {
			n = 0
			found = 1
		}
		found { buf[n++] = $0 }
		END { for (i = 0; i < n; i++) print buf[i] }'
}

kmsg_since() {
	kmsg_since_mark | tail -n +2
}

kmsg_has() {
	kmsg_since | grep -Eq -- "$1"
}

kmsg_count() {
	kmsg_since | grep -Ec -- "$1"
}

kmsg_has_text() {	# kmsg_has_text TEXT: a line since the last mark holds TEXT
	kmsg_since | grep -qF -- "$1"
}

# Refusals checked in a batch: reading the log costs several programs
# (much under TCG), so a test that makes many refusals records each with
# kmsg_try and reads the log once with kmsg_tried.
#
# kmsg_try DESC PATTERN CMD...: runs CMD between a mark before it and one
# after it, and records whether it succeeded.
KT_desc=()
KT_pat=()
KT_mark=()
KT_end=()
KT_acc=()
kmsg_try() {
	KT_desc+=("$1")
	KT_pat+=("$2")
	shift 2
	kmsg_mark
	KT_mark+=("$KMSG_MARK")
	if "$@" 2>/dev/null; then KT_acc+=(1); else KT_acc+=(0); fi
	kmsg_mark
	KT_end+=("$KMSG_MARK")
}

# kmsg_tried JUDGE: reads the log once and, for each command recorded
# since the last kmsg_tried, in order, runs JUDGE DESC PATTERN ACCEPTED
# LOG, where ACCEPTED is 1 if the command succeeded and LOG is the kernel
# log between its two marks (the lines after the line ending with the
# first mark, before the line ending with the second), or unset (fewer
# arguments) if a mark is missing from the log.  Then forgets them.
#
# One awk cuts the log: bash's own ${log#*MARK} is quadratic in the
# length of the log (minutes for a few hundred KiB under TCG).  awk prints
# "<i> <line>" for each line of command i's segment, "<i> ." once for each
# command whose marks are both in the log, in that order.
kmsg_tried() {
	local i seg line
	local -a segs found
	[ ${#KT_desc[@]} -gt 0 ] || return 0
	while IFS= read -r line; do
		i=${line%% *}
		line=${line#* }
		case $line in
		.) found[i]=1 ;;
		*) segs[i]+=${segs[i]:+$'\n'}${line#?} ;;
		esac
	done < <(dmesg | awk -v n="${#KT_desc[@]}" '
		NR == FNR { mark[NR] = $0; at[$0]; next }	# start 1, end 1, start 2, ...
		{
			line[FNR] = $0
			k = index($0, "sp-test: mark ")
			m = substr($0, k)
			if (k && (m in at) && !(m in seen))
				seen[m] = FNR
		}
		END {
			for (i = 0; i < n; i++) {
				s = mark[2 * i + 1]; e = mark[2 * i + 2]
				if (!(s in seen) || !(e in seen) || seen[e] <= seen[s])
					continue
				print i, "."
				for (j = seen[s] + 1; j < seen[e]; j++)
					print i, ">" line[j]
			}
		}' <(for i in "${!KT_desc[@]}"; do
			printf '%s\n%s\n' "${KT_mark[i]}" "${KT_end[i]}"
		done) -)
	for i in "${!KT_desc[@]}"; do
		if [ -n "${found[i]:-}" ]; then
			seg=${segs[i]:-}
			"$1" "${KT_desc[i]}" "${KT_pat[i]}" "${KT_acc[i]}" "$seg"
		else
			"$1" "${KT_desc[i]}" "${KT_pat[i]}" "${KT_acc[i]}"
		fi
	done
	KT_desc=()
	KT_pat=()
	KT_mark=()
	KT_end=()
	KT_acc=()
}

# write_err FILE VALUE: "ok" if writing VALUE to FILE succeeds, else the
# error's text (strerror).
write_err() {
	local e
	if e=$( { echo "$2" > "$1"; } 2>&1 ); then
		echo ok
	else
		echo "${e##*: }"
	fi
}

# Refused writes checked in a batch: kmsg_try_write DESC FILE VALUE ERROR
# TEXT records that writing VALUE to FILE must fail with ERROR (strerror)
# and log a line holding TEXT; "kmsg_tried kmsg_judge_refused" checks
# them all with one read of the log.
_kmsg_wrong_or_ok() {	# fails only if the write fails with ERROR
	test "$(write_err "$1" "$2")" != "$3"
}
kmsg_try_write() {
	kmsg_try "$1, with a dmesg line" "$5" _kmsg_wrong_or_ok "$2" "$3" "$4"
}
# kmsg_judge_refused DESC TEXT ACCEPTED [LOG]: the judge for kmsg_tried.
kmsg_judge_refused() {
	if [ "$3" = 1 ]; then
		ktap_fail "$1 (accepted, or refused with another error)"
	elif [ $# -lt 4 ] || ! grep -qF -- "$2" <<< "$4"; then
		ktap_fail "$1 (no kernel log line '$2' after its mark)"
	else
		ktap_ok "$1"
	fi
}
