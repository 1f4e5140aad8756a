// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool migration copy index: which chunks are dirty.
 *
 * A migration job copies N chunks from the source to the destination in
 * passes.  A chunk is a configurable number of sectors; this code only
 * sees chunk indexes 0..N-1 and decides, chunk by chunk, what must be
 * copied (again).
 *
 * State of a job.
 *  - The plan: the chunks to copy in this pass.  Pass 1 copies the plan
 *    made at job start (M1, set with sp_cpx_plan_range() or
 *    sp_cpx_plan_bitmap() before the first claim).
 *  - The cursor.  The copy claims the planned chunks in ascending index
 *    order (sp_cpx_claim_next()).  A claim moves the cursor past the chunk,
 *    and the chunk is in flight until its copy completes
 *    (sp_cpx_copy_done() or sp_cpx_copy_failed()).  A planned chunk is
 *    thus unclaimed (at or beyond the cursor), in flight, or copied (or
 *    failed), and only moves forward in that order.
 *  - Two dirty bitmaps, used ping-pong.  The active one (M2) records the
 *    chunks written during this pass.  The passive one holds this pass's
 *    plan as it was at the start of the pass (M1 in pass 1, the chunks
 *    dirtied in pass k-1 in pass k).  The passive bitmap does not change
 *    during a pass; it is what a user-space migration server fetches, as
 *    extents of set bits, page by page (sp_cpx_next_extents()).
 *  - Counters: writes seen, dirty bits newly set (0 -> 1), chunk writes
 *    filtered, bits cleared by claims (clear mode), copies completed,
 *    chunks re-copied (copies completed in passes >= 2), copies failed,
 *    and the pass number, from 1.
 *
 * Recording a write.  The caller reports each completed user write to the
 * job's chunks with sp_cpx_write_done(first chunk, number of chunks).  For
 * each chunk c the write covers:
 *  - filter mode (the default): if c is planned in this pass and not yet
 *    claimed, no bit is set and the filtered count goes up by one, because
 *    the copy will read c later, and the new data with it.  Otherwise (c
 *    is copied, in flight, or not planned in this pass) c's bit is set in
 *    the active bitmap.
 *  - clear mode: c's bit is always set; when the copy claims c, c's bit is
 *    cleared in the active bitmap.
 *  - none mode: c's bit is always set.  This is the baseline.
 * Filter mode never sets a bit that none mode would not set.
 *
 * Ordering rule, and why no write is lost.
 *  1. The copy CLAIMS a chunk before it READS it: the read of chunk c is
 *     issued only after sp_cpx_claim_next() has returned c.
 *  2. A user write is accounted at its COMPLETION: the caller calls
 *     sp_cpx_write_done() from the write's end_io, when its data is on the
 *     source, whatever its status (a failed write may have changed part of
 *     the data).  A write split into several bios may be reported per bio.
 *     Discards and write-zeroes change data too and are reported alike.
 *  3. Claims and write completions are serialised by the same lock (the
 *     per-job spinlock), so for a given write and chunk one comes first:
 *     - The write completes before the claim.  The claim, and so the read,
 *       come after the write's data is on the source: the copy reads the
 *       new data and no bit is needed.  This is the only case filter mode
 *       filters (the chunk is planned and still unclaimed when the write
 *       completes) and the only case clear mode clears.
 *     - The write completes after the claim, including a write that lands
 *       between the claim and the read, during the read, or after the
 *       copy.  The copy may have read the old data.  The chunk is then in
 *       flight or copied, never unclaimed, so its bit is set in every mode
 *       and the next pass copies it again.
 *  A write to a chunk outside this pass's plan is not read by this pass,
 *  so its bit is set in every mode.
 * By induction over the passes this gives the invariant: at the end of
 * every pass, each chunk either holds on the destination every write to it
 * that has completed, or has its bit set in the active bitmap (the next
 * pass's plan).  Writes not yet completed are handled by the same rule when
 * they complete.  The caller must ensure that: the chunks left out of M1
 * are current on the destination (or need no move) when it starts
 * reporting writes; it reports every write that completes from then on,
 * including writes issued before the job started, and starts no later than
 * the first claim; and the copy reads the source itself, after the claim
 * (no data cached before it).
 *
 * Mirrored writes.  A caller may also write a user write to both the
 * source and the destination (as dm-raid1 does while it resynchronises) and
 * report it with sp_cpx_mirror_done().  It passes "overlapped" when a copy
 * of one of the write's chunks was in flight at any time between the
 * write's start and its completion (the copy may have read the old data
 * and written it over the new data on the destination), or when the write
 * reached the source only.  Otherwise, for each chunk c of the write, every
 * copy of c either completed before the write started, so the write's data
 * lands on the destination after it, or was claimed after the write
 * completed, so it reads the new data: the destination holds the write and
 * no bit is needed.  An overlapped write is recorded like a plain one, and
 * the rule above applies.  Mirroring keeps chunks that were already copied
 * from becoming dirty again, so the passes converge under steady writes.
 * A write whose chunks are all planned and unclaimed need not be mirrored
 * (sp_cpx_ahead()): the filter drops it or, if the cursor passes it before
 * it completes, it is recorded.
 *
 * End of a pass.  Once the copy has claimed and completed every planned
 * chunk, sp_cpx_end_pass() swaps the bitmaps: the active bitmap becomes the
 * passive one and the plan of the next pass; the old passive bitmap is
 * cleared and becomes the active one; the cursor goes back to chunk 0 and
 * the pass number goes up by one.  It returns the number of chunks planned
 * for the next pass; the caller converges when that is below its threshold
 * or after its maximum number of passes.  A pass with unclaimed or in-flight
 * chunks cannot end (-EBUSY): its unclaimed chunks would be dropped.
 *
 * Switch.  To finish, the caller holds new writes to the migrating chunks
 * and waits until every write already issued to them has completed and has
 * been reported.  It then completes the current pass, ends it, and copies
 * the plan of one last pass.  No write completes during that last pass, so
 * it ends with nothing dirty (sp_cpx_end_pass() returns 0) and the
 * destination is current.
 *
 * Failed copies.  sp_cpx_copy_failed() takes a claimed chunk out of flight
 * without counting it as copied and sets its bit in the active bitmap, in
 * every mode, so that the next pass copies it again (a caller may abort
 * instead).
 *
 * Memory and cost.  The caller allocates sp_cpx_mem_bytes(N) bytes when
 * the job starts and frees them when it ends: three bitmaps of N bits
 * (plan, two dirty), each rounded up to whole longs, about 3 bits per chunk
 * (e.g. 6 MiB for 1 TiB in 64 KiB chunks).  Nothing here allocates, sleeps
 * or locks; every call must be made under the job's lock, which must be
 * irq-safe if end_io runs in interrupt context.  sp_cpx_write_done() costs
 * O(chunks written); sp_cpx_copy_done() and sp_cpx_copy_failed() O(1);
 * sp_cpx_claim_next() O(distance to the next planned chunk / BITS_PER_LONG),
 * O(N / BITS_PER_LONG) over a whole pass; sp_cpx_init(), the plan functions
 * and sp_cpx_end_pass() O(N / BITS_PER_LONG); sp_cpx_next_extents()
 * O(chunks scanned / BITS_PER_LONG).  A job has at most SP_CPX_MAX_CHUNKS
 * chunks.
 */
#include "copyidx.h"

static unsigned long sp_cpx_longs(unsigned long nr_chunks)
{
	return BITS_TO_LONGS(nr_chunks);
}

/**
 * sp_cpx_mem_bytes() - memory needed by a job
 * @nr_chunks: chunks in the job
 *
 * Return: bytes of bitmap memory sp_cpx_init() needs for @nr_chunks chunks,
 * aligned as unsigned long, or 0 if @nr_chunks is 0 or too large.
 */
size_t sp_cpx_mem_bytes(unsigned long nr_chunks)
{
	if (!nr_chunks || nr_chunks > SP_CPX_MAX_CHUNKS)
		return 0;
	return 3 * sp_cpx_longs(nr_chunks) * sizeof(unsigned long);
}

/**
 * sp_cpx_init() - start a job with an empty plan
 * @j:         the job
 * @nr_chunks: chunks in the job, 1..SP_CPX_MAX_CHUNKS
 * @mode:      enum sp_cpx_mode
 * @mem:       sp_cpx_mem_bytes(@nr_chunks) bytes, owned by the caller until
 *             the job ends
 *
 * The job is in pass 1 with nothing planned; plan it with
 * sp_cpx_plan_range() or sp_cpx_plan_bitmap() before the first claim.
 *
 * Return: 0, or -EINVAL for a bad @nr_chunks or @mode (@j untouched).
 */
int sp_cpx_init(struct sp_cpx *j, unsigned long nr_chunks,
		enum sp_cpx_mode mode, unsigned long *mem)
{
	unsigned long longs = sp_cpx_longs(nr_chunks);

	if (!nr_chunks || nr_chunks > SP_CPX_MAX_CHUNKS)
		return -EINVAL;
	if (mode != SP_CPX_FILTER && mode != SP_CPX_CLEAR &&
	    mode != SP_CPX_NONE)
		return -EINVAL;

	*j = (struct sp_cpx) {
		.plan = mem,
		.dirty = { mem + longs, mem + 2 * longs },
		.mode = mode,
		.nr_chunks = nr_chunks,
		.pass = 1,
	};
	bitmap_zero(j->plan, nr_chunks);
	bitmap_zero(j->dirty[0], nr_chunks);
	bitmap_zero(j->dirty[1], nr_chunks);
	return 0;
}

/* The plan may change only before the first claim of pass 1. */
static bool sp_cpx_plannable(const struct sp_cpx *j)
{
	return j->pass == 1 && !j->cursor && !j->nr_inflight && !j->copied;
}

static void sp_cpx_plan_update(struct sp_cpx *j)
{
	j->nr_planned = bitmap_weight(j->plan, j->nr_chunks);
	j->nr_pending = j->nr_planned;
	bitmap_copy(j->dirty[!j->active], j->plan, j->nr_chunks);
}

/**
 * sp_cpx_plan_range() - add chunks to the plan of pass 1
 * @j:     the job
 * @first: first chunk
 * @count: number of chunks
 *
 * Return: 0, -EINVAL if the range is not inside the job, -EBUSY after the
 * first claim.
 */
int sp_cpx_plan_range(struct sp_cpx *j, unsigned long first,
		      unsigned long count)
{
	if (!sp_cpx_plannable(j))
		return -EBUSY;
	if (first > j->nr_chunks || count > j->nr_chunks - first)
		return -EINVAL;
	bitmap_set(j->plan, first, count);
	sp_cpx_plan_update(j);
	return 0;
}

/**
 * sp_cpx_plan_bitmap() - set the plan of pass 1 from a bitmap
 * @j:   the job
 * @map: bitmap of nr_chunks bits; bits beyond nr_chunks are ignored
 *
 * Replaces the plan.
 *
 * Return: 0, or -EBUSY after the first claim.
 */
int sp_cpx_plan_bitmap(struct sp_cpx *j, const unsigned long *map)
{
	if (!sp_cpx_plannable(j))
		return -EBUSY;
	bitmap_copy_clear_tail(j->plan, map, j->nr_chunks);
	sp_cpx_plan_update(j);
	return 0;
}

/**
 * sp_cpx_claim_next() - claim the next planned chunk for copying
 * @j:     the job
 * @chunk: output, the claimed chunk
 *
 * The chunk is in flight from now until sp_cpx_copy_done() or
 * sp_cpx_copy_failed(); its read must be issued after this call.  In clear
 * mode its dirty bit is cleared.
 *
 * Return: true if a chunk was claimed, false if this pass's plan is
 * exhausted (@chunk untouched).
 */
bool sp_cpx_claim_next(struct sp_cpx *j, unsigned long *chunk)
{
	unsigned long c;

	if (!j->nr_pending)
		return false;
	c = find_next_bit(j->plan, j->nr_chunks, j->cursor);
	if (c >= j->nr_chunks) {
		/* nr_pending disagrees with the plan: cannot happen */
		j->nr_pending = 0;
		j->cursor = j->nr_chunks;
		return false;
	}
	j->cursor = c + 1;
	j->nr_pending--;
	j->nr_inflight++;
	if (j->mode == SP_CPX_CLEAR &&
	    __test_and_clear_bit(c, j->dirty[j->active])) {
		j->nr_dirty--;
		j->cleared++;
	}
	*chunk = c;
	return true;
}

/*
 * Take @chunk out of flight; -EINVAL (nothing changes) if it is not in
 * flight: not claimed, or its copy already finished.
 */
static int sp_cpx_land(struct sp_cpx *j, unsigned long chunk)
{
	if (chunk >= j->cursor || !test_bit(chunk, j->plan))
		return -EINVAL;
	__clear_bit(chunk, j->plan);
	j->nr_inflight--;
	return 0;
}

/**
 * sp_cpx_copy_done() - the copy of a claimed chunk has completed
 * @j:     the job
 * @chunk: a chunk in flight
 *
 * Return: 0, or -EINVAL if @chunk is not in flight (nothing changes).
 */
int sp_cpx_copy_done(struct sp_cpx *j, unsigned long chunk)
{
	if (sp_cpx_land(j, chunk))
		return -EINVAL;
	j->copied++;
	if (j->pass >= 2)
		j->recopied++;
	return 0;
}

static void sp_cpx_mark(struct sp_cpx *j, unsigned long chunk)
{
	if (!__test_and_set_bit(chunk, j->dirty[j->active])) {
		j->nr_dirty++;
		j->dirty_set++;
	}
}

/**
 * sp_cpx_copy_failed() - the copy of a claimed chunk has failed
 * @j:     the job
 * @chunk: a chunk in flight
 *
 * Takes @chunk out of flight and sets its dirty bit, in every mode, so the
 * next pass copies it again.
 *
 * Return: 0, or -EINVAL if @chunk is not in flight (nothing changes).
 */
int sp_cpx_copy_failed(struct sp_cpx *j, unsigned long chunk)
{
	if (sp_cpx_land(j, chunk))
		return -EINVAL;
	j->failed++;
	sp_cpx_mark(j, chunk);
	return 0;
}

/**
 * sp_cpx_write_done() - a user write has completed (the end_io hook)
 * @j:     the job
 * @first: first chunk the write covers
 * @count: number of chunks it covers
 *
 * Records the write by the mode's rule.  Chunks at or beyond nr_chunks are
 * ignored; a write that covers none of the job's chunks is not counted.
 */
void sp_cpx_write_done(struct sp_cpx *j, unsigned long first,
		       unsigned long count)
{
	unsigned long c, end;

	if (first >= j->nr_chunks || !count)
		return;
	end = count < j->nr_chunks - first ? first + count : j->nr_chunks;
	j->writes_seen++;
	for (c = first; c < end; c++) {
		if (j->mode == SP_CPX_FILTER && c >= j->cursor &&
		    test_bit(c, j->plan)) {
			j->filtered++;
			continue;
		}
		sp_cpx_mark(j, c);
	}
}

/**
 * sp_cpx_mirror_done() - a mirrored user write has completed
 * @j:          the job
 * @first:      first chunk the write covers
 * @count:      number of chunks it covers
 * @overlapped: a copy of one of these chunks was in flight at some time
 *              between the write's start and its completion, or the write
 *              reached only the source
 *
 * A mirrored write is written to the source and to the destination (see
 * "Mirrored writes" above).  Without overlap it is on both sides and needs
 * no bit: it is counted in @mirrored.  With overlap it is recorded as
 * sp_cpx_write_done() records a plain write.
 */
void sp_cpx_mirror_done(struct sp_cpx *j, unsigned long first,
			unsigned long count, bool overlapped)
{
	if (overlapped) {
		sp_cpx_write_done(j, first, count);
		return;
	}
	if (first >= j->nr_chunks || !count)
		return;
	j->writes_seen++;
	j->mirrored++;
}

/**
 * sp_cpx_ahead() - would the filter drop a write completing now?
 * @j:     the job
 * @first: first chunk the write covers
 * @count: number of chunks it covers
 *
 * Return: true in filter mode if every chunk in the range is planned in
 * this pass and not yet claimed.  Such a write need not be mirrored: if it
 * completes before the claim of its chunks the copy reads it, and if not
 * sp_cpx_write_done() sets their bits.
 */
bool sp_cpx_ahead(const struct sp_cpx *j, unsigned long first,
		  unsigned long count)
{
	unsigned long c;

	if (j->mode != SP_CPX_FILTER || first >= j->nr_chunks || !count ||
	    count > j->nr_chunks - first)
		return false;
	for (c = first; c < first + count; c++)
		if (c < j->cursor || !test_bit(c, j->plan))
			return false;
	return true;
}

/**
 * sp_cpx_end_pass() - end this pass and plan the next one
 * @j: the job
 *
 * Swaps the dirty bitmaps: the chunks dirtied in this pass become the
 * passive bitmap and the next pass's plan, the new active bitmap is
 * cleared, the cursor goes back to 0 and the pass number goes up.
 *
 * Return: the number of chunks planned for the next pass, or -EBUSY if this
 * pass still has unclaimed or in-flight chunks (nothing changes).
 */
long sp_cpx_end_pass(struct sp_cpx *j)
{
	if (j->nr_pending || j->nr_inflight)
		return -EBUSY;
	j->active = !j->active;
	bitmap_zero(j->dirty[j->active], j->nr_chunks);
	bitmap_copy(j->plan, j->dirty[!j->active], j->nr_chunks);
	j->nr_planned = j->nr_dirty;
	j->nr_pending = j->nr_dirty;
	j->nr_dirty = 0;
	j->cursor = 0;
	j->pass++;
	return (long)j->nr_planned;
}

/**
 * sp_cpx_next_extents() - runs of set bits of the passive dirty bitmap
 * @j:    the job
 * @from: first chunk to look at
 * @out:  output, up to @max runs in ascending order
 * @max:  size of @out
 * @next: output, where to continue: the end of the last run returned, or
 *        nr_chunks once the scan has reached the end
 *
 * A run that starts before @from is reported from @from.  Page through the
 * bitmap by calling again with @from = *@next until *@next is nr_chunks.
 * The passive bitmap changes only in sp_cpx_end_pass(): a reader that pages
 * it across several calls must restart if the pass number has changed.
 *
 * Return: the number of runs stored in @out.
 */
unsigned int sp_cpx_next_extents(const struct sp_cpx *j, unsigned long from,
				 struct sp_cpx_extent *out, unsigned int max,
				 unsigned long *next)
{
	const unsigned long *map = sp_cpx_passive(j);
	unsigned long pos = from < j->nr_chunks ? from : j->nr_chunks;
	unsigned long s, e;
	unsigned int n = 0;

	while (n < max) {
		s = find_next_bit(map, j->nr_chunks, pos);
		if (s >= j->nr_chunks) {
			pos = j->nr_chunks;
			break;
		}
		e = find_next_zero_bit(map, j->nr_chunks, s + 1);
		out[n].start = s;
		out[n].len = e - s;
		n++;
		pos = e;
	}
	*next = pos;
	return n;
}
