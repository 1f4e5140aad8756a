#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The slicepool-agent binary on the host, without a kernel: usage and
# exit codes, keygen (and --psk), check-config refusals (an old shared
# key_file, a preshared key that is not one), two
# daemons on 127.0.0.1 (a lends from a fake slicepool configfs tree, b
# does not) that greet and heartbeat each other, the client verbs, a
# refusal (exit 3), a node without a key (no reply, logged by the daemon),
# one daemon per state directory, a silent peer (SIGSTOP) excluded from
# new grants and back when heard again (SIGCONT), a key rotation with
# SIGHUP, and a clean stop on SIGTERM.  resize: its usage errors (exit 2),
# a grant not borrowed (exit 1), and one a does not know, asked over the
# wire (exit 3, nothing recorded).  revoke, unfence and release-fenced,
# requests to the daemon's control socket: usage errors (exit 2), a grant
# the daemon never lent and a daemon that does not lend (exit 3).
. "$SP_TOP/selftests/remote/lib.sh"

AGENT=$SP_TOP/nvmet-remote-ns/agent/slicepool-agent
if [ ! -x "$AGENT" ]; then
	make -s -C "$SP_TOP" agent || sp_die "cannot build $AGENT"
fi
T=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# A fake slicepool tree: pool pa, 64 MiB slices, 8 free; b's pool pb.
remote_fake_tree "$T"

write_conf() {	# write_conf <node> <port> <peer> <peer port> <key> [lines...]
	local f=$T/$1.conf
	{
		echo "node $1"
		echo "listen 127.0.0.1 $2"
		echo "peer_key $3 $5"
		echo "state_dir $T/state-$1"
		echo "hostnqn $HOSTNQN"
		echo "heartbeat 1"
		echo "peer $3 127.0.0.1 $4"
		shift 5
		printf '%s\n' "$@"
	} > "$f"
}

# expect <description> <exit code wanted> <text wanted> <exit code> <output>
expect() {
	if [ "$4" -eq "$2" ] && [[ $5 == *"$3"* ]]; then
		ktap_ok "$1"
	else
		printf '%s\n' "exit $4: $5" | sed 's/^/# /'
		ktap_fail "$1"
	fi
}

ktap_header
ktap_plan 63

"$AGENT" --help | grep -q "borrow PEER SIZE"
ktap_check "--help lists the commands" [ "${PIPESTATUS[0]}" -eq 0 ]
"$AGENT" --help | grep -q "resize GRANT SIZE"
ktap_check "--help lists resize" [ "${PIPESTATUS[0]}" -eq 0 ]
"$AGENT" frobnicate > /dev/null 2>&1
ktap_check "an unknown command exits 2" [ $? -eq 2 ]

"$AGENT" --help | grep -q "keygen \[FILE\]"
ktap_check "--help lists keygen" [ "${PIPESTATUS[0]}" -eq 0 ]
"$AGENT" --help | grep -q "To rotate a key without"
ktap_check "--help says how to rotate a key" [ "${PIPESTATUS[0]}" -eq 0 ]
"$AGENT" keygen "$T/key" && "$AGENT" genkey "$T/key2"
expect "keygen writes a key of mode 600" 0 "600 64" 0 \
	"$(stat -c %a "$T/key") $(tr -d '\n' < "$T/key" | wc -c)"
cp "$T/key" "$T/key.before"
out=$("$AGENT" keygen "$T/key" 2>&1)
expect "keygen does not overwrite a key (exit 1)" 1 "File exists" $? "$out"
ktap_check "the key is unchanged" cmp -s "$T/key" "$T/key.before"
ktap_check "two keys differ" [ "$(cat "$T/key")" != "$(cat "$T/key2")" ]
"$AGENT" keygen --psk "$T/psk"
expect "keygen --psk writes 32 bytes of base64, mode 600" 0 "600 44 32" 0 \
	"$(stat -c %a "$T/psk") $(tr -d '\n' < "$T/psk" | wc -c) $(base64 -d < "$T/psk" | wc -c)"
out=$("$AGENT" keygen --psk "$T/psk" 2>&1)
expect "keygen --psk does not overwrite a key (exit 1)" 1 "File exists" $? "$out"

write_conf a "$PA" b "$PB" "$T/key" "pool pa" "max_grants 4"
write_conf b "$PB" a "$PA" "$T/key" "pool pb" "lend no" \
	"heartbeat_timeout 3" "io_timeout 1"
write_conf c "$PB" a "$PA" "$T/key2" "pool pb" "lend no"
write_conf e "$PB" a "$PA" "$T/key" "pool nopool" "lend no"
out=$("$AGENT" -c "$T/a.conf" check-config 2>&1)
expect "check-config accepts a" 0 "node a, listening on 127.0.0.1:$PA, lending from pool pa" $? "$out"

cp "$T/key" "$T/key-open"
chmod 644 "$T/key-open"
write_conf d "$PB" a "$PA" "$T/key-open"
out=$("$AGENT" -c "$T/d.conf" check-config 2>&1)
expect "a key file others can read is refused (exit 2)" 2 "mode 0644" $? "$out"
printf 'node a\nlisten 127.0.0.1 1\npeer_key b %s\nretries 3\n' "$T/key" > "$T/bad.conf"
out=$("$AGENT" -c "$T/bad.conf" check-config 2>&1)
expect "an unknown key is refused with its line (exit 2)" 2 \
	"line 4: unknown key 'retries'" $? "$out"
# A tunnel's keys: a preshared key that is not exactly a WireGuard key.
wgkey=crryTD8I8pIeC6p0fz+ELNVU42OvFXGP4oaRd4ktZFU=
cp "$T/psk" "$T/wg.key"
printf 'node a\nlisten 127.0.0.1 1\ntunnel 10.98.0.1/24 51820\ntunnel_key %s\npeer_tunnel b %s 10.0.0.2:51820 10.98.0.2\npeer_tunnel_psk b %s\n' \
	"$T/wg.key" "$wgkey" "$T/psk" > "$T/tun.conf"
out=$("$AGENT" -c "$T/tun.conf" check-config 2>&1)
expect "check-config reads a preshared key" 0 \
	"peer_tunnel b 10.98.0.2 via 10.0.0.2:51820, preshared key $T/psk" $? "$out"
"$AGENT" keygen > "$T/psk-hex"
chmod 600 "$T/psk-hex"
sed -i "s|^peer_tunnel_psk b .*|peer_tunnel_psk b $T/psk-hex|" "$T/tun.conf"
out=$("$AGENT" -c "$T/tun.conf" check-config 2>&1)
expect "a preshared key in hex is refused, named (exit 2)" 2 \
	"peer_tunnel_psk b: $T/psk-hex is not a WireGuard preshared key" $? "$out"
printf 'node a\nlisten 127.0.0.1 1\nkey_file %s\n' "$T/key" > "$T/old.conf"
out=$("$AGENT" -c "$T/old.conf" check-config 2>&1)
expect "an old shared key_file is refused with how to convert (exit 2)" 2 \
	"write 'peer_key NAME $T/key' for each peer" $? "$out"

"$AGENT" -c "$T/a.conf" daemon > "$T/a.log" 2>&1 &
PIDS+=($!)
PID_A=$!
"$AGENT" -c "$T/b.conf" daemon > "$T/b.log" 2>&1 &
PIDS+=($!)
ktap_check "daemon a listens" wait_log "$T/a.log" "node a listening on 127.0.0.1:$PA, lending from pool pa"
ktap_check "daemon b listens" wait_log "$T/b.log" "node b listening on 127.0.0.1:$PB, not lending"
out=$("$AGENT" -c "$T/a.conf" daemon 2>&1)
expect "a second daemon on the same state directory is refused" 1 \
	"another slicepool-agent runs" $? "$out"
ktap_check "a sees b up (heartbeats)" wait_log "$T/a.log" "peer b (127.0.0.1:$PB) is up"
ktap_check "b sees a up (heartbeats)" wait_log "$T/b.log" "peer a (127.0.0.1:$PA) is up"

out=$("$AGENT" -c "$T/b.conf" heartbeat a 2>&1)
expect "heartbeat: a can lend 512 MiB" 0 \
	"lendable 536870912 bytes (512 MiB), 0 grant(s)" $? "$out"
out=$("$AGENT" -c "$T/b.conf" hello a 2>&1)
expect "hello: a's peer list has a and b" 0 \
	"peer a 127.0.0.1 $PA"$'\n'"peer b 127.0.0.1 $PB" $? "$out"
out=$("$AGENT" -c "$T/b.conf" peers a 2>&1)
expect "peers a: the same list" 0 "peer b 127.0.0.1 $PB" $? "$out"
out=$("$AGENT" -c "$T/b.conf" peers 2>&1)
expect "peers: b's own table" 0 "peer a 127.0.0.1 $PA configured" $? "$out"

out=$("$AGENT" -c "$T/b.conf" borrow a 1T 2>&1)
expect "borrowing 1 TiB is refused by a (exit 3, no space)" 3 \
	"a refused: no space" $? "$out"
ktap_check "a logs the refusal" wait_log "$T/a.log" "request from b .* for 1 TiB refused: no space"
out=$("$AGENT" -c "$T/e.conf" borrow a 64M 2>&1)
expect "borrowing into a pool that does not exist: refused before asking" 1 \
	"pool nopool does not exist here" $? "$out"
out=$("$AGENT" -c "$T/b.conf" status 2>&1)
expect "status: the refused borrow is recorded as released" 0 \
	"released   from a" $? "$out"

# revoke, unfence, release-fenced: requests to the running daemon.
out=$("$AGENT" -c "$T/a.conf" revoke 12ab 2>&1)
expect "revoke of a bad grant id: exit 2, naming it" 2 "GRANT '12ab': 16 hex digits" $? "$out"
out=$("$AGENT" -c "$T/a.conf" unfence 2>&1)
expect "unfence without a grant: exit 2" 2 "unfence takes GRANT (16 hex digits)" $? "$out"
out=$("$AGENT" -c "$T/a.conf" revoke 00000000000000ab 2>&1)
expect "revoke of a grant a never lent: refused by the daemon (exit 3)" 3 \
	"slicepool-agent: revoke: no grant 00000000000000ab lent here" $? "$out"
out=$("$AGENT" -c "$T/a.conf" release-fenced 00000000000000ab 2>&1)
expect "release-fenced of a grant a never lent: exit 3" 3 \
	"slicepool-agent: release-fenced: no grant 00000000000000ab lent here" $? "$out"
out=$("$AGENT" -c "$T/b.conf" revoke 00000000000000ab 2>&1)
expect "revoke on b, which does not lend: exit 3" 3 \
	"slicepool-agent: revoke: node b does not lend" $? "$out"

# resize: usage, then a grant b borrowed (by hand: its member and its
# namespace in fake trees) that a does not know.
out=$("$AGENT" -c "$T/b.conf" resize 00000000000000ab 2>&1)
expect "resize without a size: exit 2" 2 "resize takes GRANT SIZE" $? "$out"
out=$("$AGENT" -c "$T/b.conf" resize 12ab 512M 2>&1)
expect "resize of a bad grant id: exit 2, naming it" 2 "GRANT '12ab': 16 hex digits" $? "$out"
out=$("$AGENT" -c "$T/b.conf" resize 00000000000000ab 1000 2>&1)
expect "resize to 1000 bytes: exit 2" 2 "SIZE '1000': a multiple of 4 KiB" $? "$out"
out=$("$AGENT" -c "$T/b.conf" resize 00000000000000ab 1GiB 2>&1)
expect "resize to 1GiB: exit 2, the kernel's size grammar, naming it" 2 \
	"SIZE '1GiB' is not a size (bytes, or a number with K, M, G or T)" $? "$out"
out=$("$AGENT" -c "$T/b.conf" resize 00000000000000cd 512M 2>&1)
expect "resize of a grant b never borrowed: exit 1" 1 \
	"no borrowed grant 00000000000000cd" $? "$out"
U=1b4e28ba-2fa1-11d2-883f-0016d3cca4ab
SUB=nqn.2026-11.io.slicepool:grant:a:00000000000000ab
mkdir -p "$T/sp/pb/members/rm-00000000000000ab" "$T/sys/block/nvme9n1/device"
echo 0 > "$T/sp/pb/members/rm-00000000000000ab/revalidate_size"
echo "$U" > "$T/sys/block/nvme9n1/uuid"
echo "$SUB" > "$T/sys/block/nvme9n1/device/subsysnqn"
echo $((256 << 11)) > "$T/sys/block/nvme9n1/size"
echo "borrow 00000000000000ab active a 268435456 0 rm-00000000000000ab $U 0123456789abcdef0123456789abcdef 1700000000 $HOSTNQN $SUB 127.0.0.1 4420 1" \
	>> "$T/state-b/borrowed"
out=$(SLICEPOOL_SYSFS=$T/sys "$AGENT" -c "$T/b.conf" resize 00000000000000ab 512M 2>&1)
expect "resize of a grant a does not know: refused by a (exit 3)" 3 \
	"a refused: unknown grant: no grant 00000000000000ab" $? "$out"
ktap_check "a logs the refused resize" \
	wait_log "$T/a.log" "resize of 00000000000000ab from b .* refused: unknown grant"
out=$("$AGENT" -c "$T/b.conf" status 2>&1)
expect "status: b's grant is still 256 MiB" 0 \
	"00000000000000ab active     from a        256 MiB" $? "$out"

# wait_peers <conf> <text>: up to 10 s for 'peers' to say it.
wait_peers() {
	local t=0
	until "$AGENT" -c "$1" peers 2>&1 | grep -q -- "$2"; do
		sleep 0.2
		t=$((t + 1))
		[ $t -lt 50 ] || return 1
	done
}
ktap_check "peers: b's daemon found a up" \
	wait_peers "$T/b.conf" "peer a 127.0.0.1 $PA configured up (heard"
kill -STOP "$PID_A"
ktap_check "a silent (SIGSTOP): b logs it down after heartbeat_timeout" \
	wait_log "$T/b.log" "peer a (127.0.0.1:$PA) is down: not heard for"
out=$("$AGENT" -c "$T/b.conf" peers 2>&1)
expect "peers: a is down, excluded" 0 \
	"peer a 127.0.0.1 $PA configured down (not heard for" $? "$out"
out=$("$AGENT" -c "$T/b.conf" borrow a 64M 2>&1)
expect "borrow a 64M: refused, a is down (exit 3)" 3 \
	"peer a is down: not heard for" $? "$out"
out=$("$AGENT" -c "$T/b.conf" borrow 64M 2>&1)
expect "borrow 64M: a is not chosen (exit 3)" 3 \
	"no peer can lend 64 MiB now: peer a is down" $? "$out"
kill -CONT "$PID_A"
ktap_check "a heard again (SIGCONT): b logs it up again" \
	wait_log "$T/b.log" "peer a (127.0.0.1:$PA) is up again"
ktap_check "peers: a is up again" \
	wait_peers "$T/b.conf" "peer a 127.0.0.1 $PA configured up (heard"
out=$("$AGENT" -c "$T/b.conf" borrow 1T 2>&1)
expect "borrow 1T: a is asked again, and cannot lend that much (exit 3)" 3 \
	"no peer can lend 1 TiB now: a: up, lendable 512 MiB, 0 grant(s)" $? "$out"

out=$("$AGENT" -c "$T/c.conf" heartbeat a 2>&1)
expect "a node a has no key for gets no reply (exit 1)" 1 "without a reply" $? "$out"
ktap_check "a logs the frame from a node without a key" wait_log "$T/a.log" \
	"claims to come from c, which has no key here"

# Rotation without a restart: b's next key added to a.conf, SIGHUP.
"$AGENT" keygen "$T/key3"
sed "s|^peer_key a .*|peer_key a $T/key3|" "$T/b.conf" > "$T/b3.conf"
out=$("$AGENT" -c "$T/b3.conf" heartbeat a 2>&1)
expect "b's new key is not accepted before a knows it (exit 1)" 1 \
	"without a reply" $? "$out"
sed -i "s|^peer_key b .*|peer_key b $T/key $T/key3|" "$T/a.conf"
kill -HUP "$PID_A"
ktap_check "SIGHUP: a reloads its keys" wait_log "$T/a.log" \
	"SIGHUP: keys of 1 peer(s) reloaded"
"$AGENT" -c "$T/b3.conf" heartbeat a > /dev/null 2>&1
ktap_check "rotating: b's next key is accepted" [ $? -eq 0 ]
"$AGENT" -c "$T/b.conf" heartbeat a > /dev/null 2>&1
ktap_check "rotating: b's current key still is" [ $? -eq 0 ]
sed -i "s|^peer_key b .*|peer_key b $T/key3|" "$T/a.conf"
kill -HUP "$PID_A"
reloads() { grep -c "SIGHUP: keys of 1 peer(s) reloaded" "$T/a.log"; }
t=0
while [ "$(reloads)" -lt 2 ] && [ $t -lt 50 ]; do
	sleep 0.2
	t=$((t + 1))
done
ktap_check "SIGHUP again: reloaded without the old key" [ "$(reloads)" -eq 2 ]
t=0
until ! "$AGENT" -c "$T/b.conf" heartbeat a > /dev/null 2>&1; do
	sleep 0.2
	t=$((t + 1))
	[ $t -lt 50 ] || break
done
ktap_check "the old key is refused once removed" [ $t -lt 50 ]
"$AGENT" -c "$T/b3.conf" heartbeat a > /dev/null 2>&1
ktap_check "the new key is accepted" [ $? -eq 0 ]
printf 'peer_key b %s/nokey\n' "$T" >> "$T/a.conf"
kill -HUP "$PID_A"
ktap_check "a reload that fails keeps the keys in use" wait_log "$T/a.log" \
	"SIGHUP: configuration not reloaded, the old one stays in force"
"$AGENT" -c "$T/b3.conf" heartbeat a > /dev/null 2>&1
ktap_check "the new key is still accepted" [ $? -eq 0 ]

kill "$PID_A"
wait "$PID_A"
expect "SIGTERM stops a cleanly (exit 0)" 0 "info: stopped" $? "$(cat "$T/a.log")"
sed 's/^/#   a: /' "$T/a.log"
ktap_finish
