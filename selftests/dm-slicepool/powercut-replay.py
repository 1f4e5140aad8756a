#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# powercut-replay.py <log device> <replay device> <check command...>
#                    [--from-mark N]
#
# Replays a dm-log-writes log (format: drivers/md/dm-log-writes.c) onto the
# replay device, entry by entry.  After every FLUSH or FUA entry (a point
# where a power cut could leave exactly this on disk) it runs the check
# command with two more arguments: the number of marks seen so far and the
# point number.  With --from-mark N (the last two arguments), points before
# the N-th mark are replayed but not checked.  Prints "points=N failed=M"
# (checked points) and exits 1 if any check failed.
import os
import struct
import subprocess
import sys

MAGIC = 0x6a736677736872
FLUSH, FUA, DISCARD, MARK = 1, 2, 4, 8

log, replay, check = sys.argv[1], sys.argv[2], sys.argv[3:]
from_mark = 0
if len(check) > 2 and check[-2] == '--from-mark':
    from_mark = int(check[-1])
    check = check[:-2]
lf = os.open(log, os.O_RDONLY)
rf = os.open(replay, os.O_RDWR)
magic, version, nr, ssz = struct.unpack('<QQQI', os.pread(lf, 28, 0))
if magic != MAGIC:
    sys.exit('not a dm-log-writes log: magic %x' % magic)
pos = ssz			# first entry follows the super sector
marks = 0
points = failed = 0
for i in range(nr):
    sector, nsec, flags, dlen = struct.unpack('<QQQQ', os.pread(lf, 32, pos))
    pos += ssz
    if flags & MARK:
        name = os.pread(lf, dlen, pos - ssz + 32).decode(errors='replace')
        marks += 1
        print('# mark %d: %s (entry %d)' % (marks, name, i), flush=True)
        continue
    if flags & DISCARD:
        os.pwrite(rf, bytes(nsec * ssz), sector * ssz)
    elif nsec:
        os.pwrite(rf, os.pread(lf, nsec * ssz, pos), sector * ssz)
        pos += nsec * ssz
    if flags & (FLUSH | FUA):
        os.fsync(rf)
        if marks < from_mark:
            continue
        points += 1
        if subprocess.run(check + [str(marks), str(points)]).returncode:
            failed += 1
            print('# point %d (entry %d, %d marks): check failed' % (points, i, marks), flush=True)
print('points=%d failed=%d' % (points, failed))
sys.exit(1 if failed or not points else 0)
