#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hot detection of an image (Documentation/dm-slicepool.rst, "Hot
# detection"): the pool's one member is a dm-delay device, so the
# image's reads can be made slow.  A new image is not hot and its settings read
# their defaults (hot_refs 8, hot_read_latency_us 20000, hot_mode any).
# Mode refs: with hot_refs 3 it is not hot with 2 clones, hot with 3
# (configfs "hot", the status line, 'slicepool image status').  Mode
# latency: fast reads are measured (a latency above 0) but do not make
# it hot; reads through a 200 ms read delay raise the measured latency
# past hot_read_latency_us 50000 and make it hot.  Mode all needs both:
# with one clone less it is not hot, though any (latency alone) still
# is.  Bad values are refused (configfs: EINVAL or ERANGE and a dmesg
# line naming the value, the setting unchanged; 'image set': exit 2),
# and a volume that is not an image takes no setting.  Skipped (exit 4)
# without dm-delay.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_disks 1
modprobe dm_delay 2> /dev/null
dmsetup targets 2> /dev/null | grep -q '^delay ' ||
	sp_skip "dm-delay is not available (no delay target, no dm_delay module)"

P=hp
C=$SP_CFG/$P/volumes
IMG=/dev/mapper/$P-img
DELAY_MS=200

cli_start 1 40 hd0

RAW=${DISKS[0]}
SZ=$(blockdev --getsz "$RAW") || sp_die "size of $RAW"
dmsetup create hd0 --table "0 $SZ delay $RAW 0 0" ||
	sp_die "cannot create dm-delay device hd0"

# delay MS: the member's reads take MS milliseconds more (writes none).
delay() {
	dmsetup reload hd0 --table "0 $SZ delay $RAW 0 $1 $RAW 0 0" &&
		dmsetup resume hd0
}

# hot: the first word of img's "hot" (0 or 1); hot_val KEY: its KEY=.
hot() {
	awk '{ print $1 }' "$C/img/hot"
}
hot_val() {
	tr ' ' '\n' < "$C/img/hot" | sed -n "s/^$1=//p"
}

# st N: the Nth field after "image" in img's status (1 clones, 2 latency,
# 3 max latency, 4 hot).
st() {
	dmsetup status $P-img |
		awk -v n="$1" '{ for (i = 1; i < NF; i++) if ($i == "image") print $(i + n) }'
}

# hot_is V: configfs and the status line both say V (0 or 1).
hot_is() {
	test "$(hot)" = "$1" && test "$(st 4)" = "$1"
}

# hot_tool V: so do they and 'image status'.
hot_tool() {
	local word=hot
	[ "$1" = 1 ] || word="not hot"
	hot_is "$1" && "$SP" image status $P img > "$OUT" 2> "$ERR" &&
		test "$(head -n 1 "$OUT")" = "image $P/img: $word"
}

add_clone() {	# add_clone NAME ID: a clone record of 4 MiB
	echo "$1 $2 8192" > "$C/img/clone_add"
}

sp pool create $P --slice-mb 2 --min-domains 1 || sp_die "pool create"
sp member add $P m0 --path /dev/mapper/hd0 --domain dA || sp_die "member add"
sp vol create $P/img --size 4M || sp_die "vol create img"
sp vol create $P/plain --size 2M || sp_die "vol create plain"
fill "$IMG" 4

sp_rc 1 "image status of a volume that is not an image exits 1" \
	image status $P plain

sp image create $P img || sp_die "image create"
ktap_check "the defaults: hot_refs 8, hot_read_latency_us 20000, hot_mode any" \
	test "$(<"$C/img/hot_refs") $(<"$C/img/hot_read_latency_us") $(<"$C/img/hot_mode")" = "8 20000 any"
ktap_check "a new image with no clone is not hot (hot 0 clones=0)" \
	test "$(hot) $(hot_val clones)" = "0 0"
ktap_check "... nor in its status (image 0 ... 0)" test "$(st 1) $(st 4)" = "0 0"
sp_rc 0 "image status exits 0" image status $P img
ktap_check "... and says 'not hot'" test "$(head -n 1 "$OUT")" = "image $P/img: not hot"

# ---- refs ----
sp_rc 0 "image set hot_mode=refs hot_refs=3 exits 0" \
	image set $P img hot_mode=refs hot_refs=3
ktap_check "... configfs reads refs and 3" \
	test "$(<"$C/img/hot_mode") $(<"$C/img/hot_refs")" = "refs 3"
add_clone c1 1 || sp_die "clone_add c1"
add_clone c2 2 || sp_die "clone_add c2"
ktap_check "2 clones, hot_refs 3: not hot (configfs, status, image status)" hot_tool 0
add_clone c3 3 || sp_die "clone_add c3"
ktap_check "3 clones, hot_refs 3: hot (configfs, status, image status)" hot_tool 1
ktap_check "... hot reads clones=3" test "$(hot_val clones)" = 3
"$SP" --json image status $P img > "$OUT" 2> "$ERR"
ktap_check "image status --json: hot true, clones 3, hot_refs 3, hot_mode refs" \
	json 'd["hot"] is True and d["clones"] == 3 and d["hot_refs"] == 3 and d["hot_mode"] == "refs" and d["image"] == "img"'

# ---- latency ----
sp_rc 0 "image set hot_mode=latency hot_read_latency_us=50000 exits 0" \
	image set $P img hot_mode=latency hot_read_latency_us=50000
dd if="$IMG" of=/dev/null bs=4k count=16 iflag=direct status=none ||
	sp_die "cannot read the image"
lat=$(hot_val read_latency_us)
echo "# fast reads: read_latency_us $lat, max $(hot_val read_latency_max_us)"
ktap_check "fast reads are measured: read_latency_us is above 0" test "$lat" -gt 0
ktap_check "... below 50000" test "$lat" -lt 50000
ktap_check "... not hot by latency (configfs, status)" hot_is 0

delay $DELAY_MS || sp_die "cannot slow the members down"
# Reads of 200 ms each for a minute at most, while the checks below run.
dd if="$IMG" of=/dev/null bs=4k count=300 iflag=direct status=none &
rd=$!
for _ in $(seq 60); do
	[ "$(hot_val read_latency_us)" -lt 50000 ] || break
	sleep 0.5
done
lat=$(hot_val read_latency_us)
max=$(hot_val read_latency_max_us)
echo "# slow reads: read_latency_us $lat, max $max"
ktap_check "reads through a ${DELAY_MS} ms delay: read_latency_us reaches 50000" \
	test "$lat" -ge 50000
ktap_check "... read_latency_max_us is at least 190000" test "$max" -ge 190000
ktap_check "... the status shows an average of at least 50000 too" \
	test "$(st 2)" -ge 50000
ktap_check "... hot by latency (configfs, status, image status)" hot_tool 1

# ---- all ----
echo all > "$C/img/hot_mode" || sp_die "hot_mode all"
ktap_check "mode all, 3 clones and slow reads: hot" hot_is 1
echo c3 > "$C/img/clone_remove" || sp_die "clone_remove c3"
ktap_check "mode all, 2 clones and slow reads: not hot" hot_is 0
echo refs > "$C/img/hot_mode" || sp_die "hot_mode refs"
ktap_check "... not hot in mode refs either" hot_is 0
echo any > "$C/img/hot_mode" || sp_die "hot_mode any"
ktap_check "... but hot in mode any (latency alone)" hot_is 1
echo off > "$C/img/hot_mode" || sp_die "hot_mode off"
ktap_check "... and never in mode off" hot_is 0
kill "$rd" 2> /dev/null
wait "$rd" 2> /dev/null
delay 0 || sp_die "cannot end the delay"

# ---- refusals ----
# The kernel log is read once for all of them (kmsg_try, kmsg_tried).
kmsg_try_write "hot_refs 0 is refused (ERANGE)" "$C/img/hot_refs" 0 \
	"Numerical result out of range" \
	"slicepool: volume img: hot_refs '0' out of range (1..16777216)"
kmsg_try_write "hot_refs 99999999999 is refused (ERANGE)" "$C/img/hot_refs" \
	99999999999 "Numerical result out of range" \
	"slicepool: volume img: hot_refs '99999999999' out of range (1..16777216)"
kmsg_try_write "hot_refs abc is refused (EINVAL)" "$C/img/hot_refs" abc \
	"Invalid argument" \
	"slicepool: volume img: invalid hot_refs 'abc' (a number, 1..16777216)"
kmsg_try_write "hot_read_latency_us -5 is refused (EINVAL)" \
	"$C/img/hot_read_latency_us" -5 "Invalid argument" \
	"slicepool: volume img: invalid hot_read_latency_us '-5' (a number, 1..60000000)"
kmsg_try_write "hot_read_latency_us 60000001 is refused (ERANGE)" \
	"$C/img/hot_read_latency_us" 60000001 "Numerical result out of range" \
	"slicepool: volume img: hot_read_latency_us '60000001' out of range (1..60000000)"
kmsg_try_write "hot_mode fast is refused (EINVAL)" "$C/img/hot_mode" fast \
	"Invalid argument" \
	"slicepool: volume img: invalid hot_mode 'fast' (any, all, refs, latency or off)"
kmsg_try_write "hot_refs of a volume that is not an image is refused (EINVAL)" \
	"$C/plain/hot_refs" 2 "Invalid argument" \
	"$P: volume plain: hot_refs refused: the volume is not an image (write 1 to its image attribute first)"
kmsg_tried kmsg_judge_refused
ktap_check "... and the settings stay 3, 50000, off" \
	test "$(<"$C/img/hot_refs") $(<"$C/img/hot_read_latency_us") $(<"$C/img/hot_mode")" = "3 50000 off"
ktap_check "hot is read-only" test "$(write_err "$C/img/hot" 1)" = "Permission denied"

sp_rc 2 "image set hot_refs=0 exits 2" image set $P img hot_refs=0
ktap_check "... naming the value" \
	test "$(head -n 1 "$ERR")" = "slicepool: hot_refs: 0 is out of range (1..16777216)"
sp_rc 2 "image set of an unknown setting exits 2" image set $P img hot=1
sp_rc 2 "image set hot_refs=2 hot_mode=x changes nothing (exit 2)" \
	image set $P img hot_refs=2 hot_mode=x
ktap_check "... hot_refs stays 3" test "$(<"$C/img/hot_refs")" = 3
sp_rc 1 "image set of a volume that is not an image exits 1" \
	image set $P plain hot_refs=2
ktap_finish
