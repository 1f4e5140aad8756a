#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The tool's errors against the real module: each refused operation exits
# 1 with a message that says what to do, and leaves nothing half made.
. "$(dirname "$0")/lib.sh"

sp_disks 3
ktap_header
ktap_plan 26
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"

P=er
sp_rc 0 "setup: pool create" pool create $P --slice-mb 16 --min-domains 2
sp member add $P m0 --path "${DISKS[0]}" --domain dA
sp member add $P m1 --path "${DISKS[1]}" --domain dB

sp_rc 1 "pool create of an existing pool is refused" pool create $P
ktap_check "... saying it exists" err_has "already exists"

sp_rc 1 "member add of a device already in the pool is refused" \
	member add $P m9 --path "${DISKS[0]}" --domain dC
ktap_check "... saying the device is in use, and m9 is not left behind" \
	test -n "$(grep -F 'already' "$ERR")" -a ! -d "$SP_CFG/$P/members/m9"

sp_rc 1 "member add of a missing device is refused" \
	member add $P m9 --path /dev/does-not-exist --domain dC
ktap_check "... and m9 is not left behind" test ! -d "$SP_CFG/$P/members/m9"

sp_rc 1 "member add with an existing member name is refused" \
	member add $P m0 --path "${DISKS[2]}" --domain dC

sp_rc 1 "vol create larger than the pool is refused" \
	vol create $P/big --size 100G
ktap_check "... saying the pool has too few free slices" \
	err_has "too few free slices"
ktap_check "... and the volume is not left behind" \
	test ! -d "$SP_CFG/$P/volumes/big" -a -z "$(cat "$SP_CFG/$P/discovered")"

sp_rc 0 "setup: vol create er/v --size 64M" vol create $P/v --size 64M
sp_rc 1 "vol create of an existing volume is refused" vol create $P/v --size 16M

sp_rc 1 "member remove of a member holding slices is refused" member remove $P m0
ktap_check "... and the member stays enabled" \
	test "$(attr $P/members/m0/enable)" = 1

sp_rc 1 "pool remove with volumes is refused" pool remove $P
ktap_check "... pointing at vol remove or --unbind" err_has "--unbind"

exec 9< /dev/mapper/er-v
sp_rc 1 "vol remove of an open dm device is refused" vol remove $P/v
ktap_check "... saying it is open, and the volume is kept" \
	test -n "$(grep -F 'is open' "$ERR")" -a -d "$SP_CFG/$P/volumes/v"
exec 9<&-

sp_rc 0 "setup: vol create er/w, then unbind it" vol create $P/w --size 32M
sp vol remove --unbind $P/w
sp_rc 1 "vol create with the name of an unbound volume is refused" \
	vol create $P/w --size 16M
ktap_check "... pointing at assemble, and w stays unbound with its size" \
	test -n "$(grep -F 'slicepool assemble' "$ERR")" -a ! -d "$SP_CFG/$P/volumes/w" \
	-a -n "$(grep "^w .* $((32 << 20))\$" "$SP_CFG/$P/discovered")"

sp_rc 1 "vol resize of an unknown volume is refused" vol resize $P/nope --size 1G
sp_rc 2 "a bad size is a usage error" vol resize $P/v --size 1.5G

sp_rc 1 "commands on an unknown pool are refused" status nope

sp_rc 0 "cleanup: pool remove --unbind" pool remove --unbind $P
sp_teardown
ktap_finish
