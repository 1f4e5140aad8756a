// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the lending quota
 *
 * A grant takes whole slices: bytes = ceil(size / slice) * slice.  It is
 * reserved under the quota lock before its volume is made, so that two
 * requests for the last free space can never both pass the check:
 *
 *   free     = free slices of the enabled, online members (configfs) * slice
 *   pass if  bytes + reserved + keep_free <= free
 *        and lend_max == 0 or lent + reserved + bytes <= lend_max
 *        and grants + pending < max_grants
 *
 * "reserved" counts grants between their check and their volume's
 * creation (after which configfs's free count includes them: commit) or
 * their failure (cancel).  The kernel checks the space again when the
 * volume's size is written, so a volume made meanwhile by someone else
 * makes the grant fail cleanly with ENOSPC, never overcommit.
 *
 * Growing a grant (resize) reserves the whole slices it takes more the
 * same way, max_grants aside (no grant is added), until its volume has
 * them (grown) or the resize failed (cancel_grow).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "agent.h"

void spa_quota_init(struct spa_quota *q, u64 keep_free, u64 lend_max,
		    unsigned int max_grants)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	q->keep_free = keep_free;
	q->lend_max = lend_max;
	q->max_grants = max_grants;
}

void spa_quota_destroy(struct spa_quota *q)
{
	pthread_mutex_destroy(&q->lock);
}

/*
 * A grant of @size bytes that takes @old bytes now (0: a new grant) needs
 * the whole slices it takes more; reserved when they fit.
 */
static int reserve(struct spa_quota *q, const char *pool, u64 old, u64 size,
		   u64 *bytes, char *why, size_t wlen)
{
	char a[32], b[32], c[32], what[48];
	struct spu_space s;
	u64 total, need, avail;
	int ret;

	pthread_mutex_lock(&q->lock);
	ret = spu_pool_space(pool, &s, why, wlen);
	if (ret)
		goto out;
	total = (size + s.slice_bytes - 1) / s.slice_bytes * s.slice_bytes;
	need = total > old ? total - old : 0;
	avail = s.free_slices * s.slice_bytes;
	avail = avail > q->reserved ? avail - q->reserved : 0;
	avail = avail > q->keep_free ? avail - q->keep_free : 0;
	if (!old && q->grants + q->pending >= q->max_grants) {
		ret = -EDQUOT;
		snprintf(why, wlen, "this node already lends %u grants (max_grants %u)",
			 q->grants + q->pending, q->max_grants);
		goto out;
	}
	if (q->lend_max && q->lent + q->reserved + need > q->lend_max) {
		spu_format_size(q->lent + q->reserved, true, a, sizeof(a));
		spu_format_size(need, true, b, sizeof(b));
		spu_format_size(q->lend_max, true, c, sizeof(c));
		ret = -EDQUOT;
		snprintf(why, wlen, "lending %s more to the %s lent would pass lend_max %s",
			 b, a, c);
		goto out;
	}
	if (need > avail) {
		spu_format_size(size, true, a, sizeof(a));
		spu_format_size(need, true, b, sizeof(b));
		spu_format_size(avail, true, c, sizeof(c));
		ret = -ENOSPC;
		snprintf(what, sizeof(what), old ? "growing to %s" : "%s asked",
			 a);
		snprintf(why, wlen, "%s takes %llu %sslices (%s); pool %s can lend %s",
			 what, need / s.slice_bytes, old ? "more " : "", b, pool,
			 c);
		goto out;
	}
	q->reserved += need;
	if (!old)
		q->pending++;
	*bytes = old + need;
out:
	pthread_mutex_unlock(&q->lock);
	return ret;
}

int spa_quota_reserve(struct spa_quota *q, const char *pool, u64 size,
		      u64 *bytes, char *why, size_t wlen)
{
	return reserve(q, pool, 0, size, bytes, why, wlen);
}

int spa_quota_reserve_grow(struct spa_quota *q, const char *pool,
			   u64 old_bytes, u64 size, u64 *bytes, char *why,
			   size_t wlen)
{
	if (!old_bytes)
		return spu_reason(why, wlen, -EINVAL, "a grant of 0 bytes");
	return reserve(q, pool, old_bytes, size, bytes, why, wlen);
}

void spa_quota_commit(struct spa_quota *q, u64 bytes)
{
	pthread_mutex_lock(&q->lock);
	q->reserved -= bytes;
	q->pending--;
	q->lent += bytes;
	q->grants++;
	pthread_mutex_unlock(&q->lock);
}

void spa_quota_cancel(struct spa_quota *q, u64 bytes)
{
	pthread_mutex_lock(&q->lock);
	q->reserved -= bytes;
	q->pending--;
	pthread_mutex_unlock(&q->lock);
}

void spa_quota_grown(struct spa_quota *q, u64 more)
{
	pthread_mutex_lock(&q->lock);
	q->reserved -= more;
	q->lent += more;
	pthread_mutex_unlock(&q->lock);
}

void spa_quota_cancel_grow(struct spa_quota *q, u64 more)
{
	pthread_mutex_lock(&q->lock);
	q->reserved -= more;
	pthread_mutex_unlock(&q->lock);
}

void spa_quota_return(struct spa_quota *q, u64 bytes)
{
	pthread_mutex_lock(&q->lock);
	q->lent = q->lent > bytes ? q->lent - bytes : 0;
	if (q->grants)
		q->grants--;
	pthread_mutex_unlock(&q->lock);
}

u64 spa_quota_lendable(struct spa_quota *q, const char *pool)
{
	struct spu_space s;
	u64 avail = 0, used, room;

	pthread_mutex_lock(&q->lock);
	if (!spu_pool_space(pool, &s, NULL, 0)) {
		avail = s.free_slices * s.slice_bytes;
		avail = avail > q->reserved ? avail - q->reserved : 0;
		avail = avail > q->keep_free ? avail - q->keep_free : 0;
		if (q->lend_max) {
			used = q->lent + q->reserved;
			room = q->lend_max > used ? q->lend_max - used : 0;
			if (avail > room)
				avail = room;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return avail;
}
