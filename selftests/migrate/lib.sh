#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the live migration selftests (sourced, not run): those of
# the dm-slicepool tests, plus mig_field (selftests/lib/migstatus.sh).
. "$SP_TOP/selftests/dm-slicepool/lib.sh"

. "$SP_TOP/selftests/lib/migstatus.sh"

# mig_slice_md5 <pool> <slice MiB> <map line>: md5 of the physical slice a
# line of the volume's map points to, read from the raw disk of its member
# (member mN is DISKS[N]), past the member's data_offset.
mig_slice_md5() {
	local _l m p off
	read -r _l m p <<< "$3"
	off=$(cat "$SP_CFG/$1/members/$m/data_offset")
	dd if="${DISKS[${m#m}]}" bs=1M skip=$(((off >> 20) + p * $2)) count="$2" \
		iflag=direct status=none | md5sum
}

# mig_slices_differ <pool> <slice MiB> <map before> <map after>: how many
# logical slices differ between their physical slice in the first map and
# in the second (source and destination of a move); dies if the two maps
# do not have the same number of lines or have none.
mig_slices_differ() {
	local -a b a
	local i bad=0
	mapfile -t b <<< "$3"
	mapfile -t a <<< "$4"
	if [ -z "$3" ] || [ ${#b[@]} -ne ${#a[@]} ]; then
		sp_die "maps to compare differ in length: ${#b[@]} and ${#a[@]} lines"
	fi
	for i in "${!b[@]}"; do
		[ "$(mig_slice_md5 "$1" "$2" "${b[i]}")" = "$(mig_slice_md5 "$1" "$2" "${a[i]}")" ] ||
			bad=$((bad + 1))
	done
	echo "$bad"
}
