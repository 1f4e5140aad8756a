#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# powercut-replay.py [--from-mark N] [--every K] <log device> <replay device>
#                    <check command...>
#
# Replays a dm-log-writes log (format: drivers/md/dm-log-writes.c) onto the
# replay device, entry by entry.  After every FLUSH or FUA entry (a point
# where a power cut could leave exactly this on disk) it runs the check
# command with two more arguments: the number of marks seen so far and the
# point number.  With --from-mark N, points before the N-th mark are
# replayed but not checked.  With --every K (make check's sample; make
# check-full checks every point), only these points are checked: the first
# point after each mark (the state an operation starts from), every K-th
# point, and the last one.  Prints how long the checks took, then
# "points=N checked=C failed=M", and exits 1 if any check failed or none
# ran.
import os
import struct
import subprocess
import sys
import time

MAGIC = 0x6a736677736872
FLUSH, FUA, DISCARD, MARK = 1, 2, 4, 8

args = sys.argv[1:]
from_mark = 0
every = 1
while args and args[0].startswith('--'):
    if args[0] not in ('--from-mark', '--every'):
        sys.exit('powercut-replay.py: unknown option %s' % args[0])
    if len(args) < 2 or not args[1].isdigit() or (args[0] == '--every' and int(args[1]) < 1):
        sys.exit('powercut-replay.py: %s needs a number (got %r)'
                 % (args[0], args[1] if len(args) > 1 else ''))
    if args[0] == '--from-mark':
        from_mark = int(args[1])
    else:
        every = int(args[1])
    args = args[2:]
if len(args) < 3:
    sys.exit('usage: powercut-replay.py [--from-mark N] [--every K] LOG REPLAY CHECK...')
log, replay, check = args[0], args[1], args[2:]
lf = os.open(log, os.O_RDONLY)
rf = os.open(replay, os.O_RDWR)
magic, version, nr, ssz = struct.unpack('<QQQI', os.pread(lf, 28, 0))
if magic != MAGIC:
    sys.exit('not a dm-log-writes log: magic %x' % magic)


def entries():
    """Yield (index, sector, sectors, flags, data offset, mark name)."""
    pos = ssz			# the first entry follows the super sector
    for i in range(nr):
        sector, nsec, flags, dlen = struct.unpack('<QQQQ', os.pread(lf, 32, pos))
        name = None
        if flags & MARK:
            name = os.pread(lf, dlen, pos + 32).decode(errors='replace')
        pos += ssz
        yield i, sector, nsec, flags, pos, name
        if not flags & (MARK | DISCARD):
            pos += nsec * ssz


# First pass: which points to check.  A point is a FLUSH or FUA entry at or
# after the from-mark-th mark; the first one after each mark, every K-th and
# the last are checked.
chosen = set()
marks = points = 0
fresh = True
last = None
for i, _, _, flags, _, name in entries():
    if name is not None:
        marks += 1
        fresh = True
    elif flags & (FLUSH | FUA) and marks >= from_mark:
        points += 1
        last = i
        if fresh or points % every == 0:
            chosen.add(i)
        fresh = False
if last is not None:
    chosen.add(last)

# Second pass: replay, checking at the chosen points.
marks = point = checked = failed = 0
check_s = 0.0
for i, sector, nsec, flags, pos, name in entries():
    if name is not None:
        marks += 1
        print('# mark %d: %s (entry %d)' % (marks, name, i), flush=True)
        continue
    if flags & DISCARD:
        os.pwrite(rf, bytes(nsec * ssz), sector * ssz)
    elif nsec:
        os.pwrite(rf, os.pread(lf, nsec * ssz, pos), sector * ssz)
    if not flags & (FLUSH | FUA) or marks < from_mark:
        continue
    point += 1
    if i not in chosen:
        continue
    os.fsync(rf)
    checked += 1
    t0 = time.monotonic()
    rc = subprocess.run(check + [str(marks), str(point)]).returncode
    check_s += time.monotonic() - t0
    if rc:
        failed += 1
        print('# point %d (entry %d, %d marks): check failed' % (point, i, marks), flush=True)
if checked:
    print('# the %d checks took %.1f s, %.2f s each' % (checked, check_s, check_s / checked))
print('points=%d checked=%d failed=%d' % (points, checked, failed))
sys.exit(1 if failed or not checked else 0)
