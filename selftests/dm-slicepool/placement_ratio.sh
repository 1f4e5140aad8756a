#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Placement by load ratio (Documentation/dm-slicepool.rst, "Placement"):
#  - workloads 75 and 25 (pinned with load_override), 4 slices -> 1 and 3;
#  - a domain at workload 100 gets 0 slices with min_domains=1, but 1 slice
#    with min_domains=2;
#  - three domains at 0/50/100 and 10 slices -> 7/3/0;
#  - free-space-only policy: a half-full domain vs an empty one -> 3/7;
#  - the rule is deterministic: the same request gives the same split.
. "$(dirname "$0")/lib.sh"

sp_disks 3
ktap_header
ktap_plan 8
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"

P='pr'
sp_pool $P 4
echo 0 > "$SP_CFG"/$P/weight_space || sp_die "weight_space 0"
echo 100 > "$SP_CFG"/$P/weight_load || sp_die "weight_load 100"
sp_member $P m0 "${DISKS[0]}" dA 75
sp_member $P m1 "${DISKS[1]}" dB 25

sp_volume $P a 16M
ktap_check "75/25 gives 1/3 (m0=$(sp_map_count $P a m0) m1=$(sp_map_count $P a m1))" \
	[ "$(sp_map_count $P a m0)" -eq 1 -a "$(sp_map_count $P a m1)" -eq 3 ]
sp_volume $P a2 16M
ktap_check "the same request again gives the same split (deterministic)" \
	[ "$(sp_map_count $P a2 m0)" -eq 1 -a "$(sp_map_count $P a2 m1)" -eq 3 ]

echo 100 > "$SP_CFG"/$P/members/m0/load_override
echo 0 > "$SP_CFG"/$P/members/m1/load_override
echo 1 > "$SP_CFG"/$P/min_domains
sp_volume $P b 16M
ktap_check "workload 100 domain gets 0 slices with min_domains=1" \
	[ "$(sp_map_count $P b m0)" -eq 0 -a "$(sp_map_count $P b m1)" -eq 4 ]
echo 2 > "$SP_CFG"/$P/min_domains
sp_volume $P c 16M
ktap_check "min_domains=2 still spreads over 2 domains (m0=$(sp_map_count $P c m0))" \
	[ "$(sp_map_count $P c m0)" -eq 1 -a "$(sp_map_domains $P c)" -eq 2 ]

sp_member $P m2 "${DISKS[2]}" dC 50
echo 0 > "$SP_CFG"/$P/members/m0/load_override
echo 100 > "$SP_CFG"/$P/members/m1/load_override
sp_volume $P d 40M
ktap_check "three domains at 0/50/100 give 7/3/0 ($(sp_map_count $P d m0)/$(sp_map_count $P d m2)/$(sp_map_count $P d m1))" \
	[ "$(sp_map_count $P d m0)" -eq 7 -a "$(sp_map_count $P d m2)" -eq 3 -a "$(sp_map_count $P d m1)" -eq 0 ]
sp_teardown
sp_wipe "${DISKS[@]:0:2}"

# Free space only: fill m0 to 127 of its slices first (load-only policy),
# then switch to weight_space=100: W(m0) = 50 (127/254 used), W(m1) = 0,
# weights 50 : 100 of 10 slices -> 3.33 / 6.67 -> 3 / 7.  A 1 GiB disk
# has 254 slices of 4 MiB on format 3: its data starts at 5 MiB (two
# labels and a 4 MiB journal, rounded up to 1 MiB).
P='pf'
sp_pool $P 4
echo 0 > "$SP_CFG"/$P/weight_space
echo 100 > "$SP_CFG"/$P/weight_load
echo 1 > "$SP_CFG"/$P/min_domains
sp_member $P m0 "${DISKS[0]}" dA 0
sp_member $P m1 "${DISKS[1]}" dB 100
sp_volume $P fill 508M
tot=$(cat "$SP_CFG"/$P/members/m0/total_slices)
ktap_check "fill volume on m0 only ($(sp_map_count $P fill m0) slices of $tot)" \
	[ "$(sp_map_count $P fill m0)" -eq 127 -a "$tot" -eq 254 ]
echo 100 > "$SP_CFG"/$P/weight_space
echo 0 > "$SP_CFG"/$P/weight_load
grep . "$SP_CFG"/$P/domains | sed 's/^/# domains: /'
ktap_check "domains attribute reports space workloads (dA 50, dB 0)" \
	grep -qx 'dA 1 254 127 0 50' "$SP_CFG"/$P/domains
sp_volume $P s 40M
ktap_check "free-space-only policy gives 3/7 ($(sp_map_count $P s m0)/$(sp_map_count $P s m1))" \
	[ "$(sp_map_count $P s m0)" -eq 3 -a "$(sp_map_count $P s m1)" -eq 7 ]

sp_unload
ktap_finish
