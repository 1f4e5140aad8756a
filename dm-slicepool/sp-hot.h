/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool: hot detection of images (sp-hot.c).
 *
 * The target measures the read latency of an image: map() stamps each
 * read of an image volume (pbd->hot_start), end_io folds its latency
 * into the volume's struct sp_hot.  The settings (configfs hot_refs,
 * hot_read_latency_us, hot_mode) say when the image counts as hot; the
 * module reports it (status, configfs "hot") and does nothing else: the
 * agent decides.  See "Hot detection" in Documentation/dm-slicepool.rst.
 */
#ifndef DM_SLICEPOOL_HOT_H
#define DM_SLICEPOOL_HOT_H

#include <linux/atomic.h>
#include <linux/blk_types.h>
#include <linux/configfs.h>
#include <linux/timekeeping.h>

struct sp_volume;

/* The defaults of the settings (a setting of 0 means its default). */
#define SP_HOT_DEF_REFS		8
#define SP_HOT_DEF_LAT_US	20000
#define SP_HOT_MAX_REFS		16777216U	/* dm-thin: 2^24 thin ids */
#define SP_HOT_MAX_LAT_US	60000000U	/* 60 s */
/*
 * The measurement's window: a read older than this no longer counts (the
 * average restarts from the next read, and reads 0 until then); the
 * maximum is that of the reads completed in the current window and the
 * one before.
 */
#define SP_HOT_WINDOW_NS	(10ULL * NSEC_PER_SEC)

enum sp_hot_mode {
	SP_HOT_ANY = 0,		/* default: either condition */
	SP_HOT_ALL,		/* both */
	SP_HOT_REFS,		/* the clone count only */
	SP_HOT_LATENCY,		/* the read latency only */
	SP_HOT_OFF,		/* never hot */
	SP_HOT_NR_MODES,
};

/*
 * Per volume (struct sp_volume.hot), zeroed with it.
 *
 * Settings: written under pool->lock with WRITE_ONCE(), read with
 * READ_ONCE(); 0 means the default.  In memory only.
 *
 * Measurement: written by end_io of the volume's reads without a lock
 * (atomics, no loop but the maximum's compare-and-swap), read by status
 * and configfs; each value is consistent on its own, not with the others.
 */
struct sp_hot {
	u32 refs;		/* hot_refs, 0: SP_HOT_DEF_REFS */
	u32 lat_us;		/* hot_read_latency_us, 0: SP_HOT_DEF_LAT_US */
	u32 mode;		/* enum sp_hot_mode */
	atomic64_t avg_ns;	/* moving average (1/8 per read) */
	atomic64_t last_ns;	/* ktime of the last read folded in, 0: none */
	atomic64_t win_start;	/* ktime the current window began */
	atomic64_t win_max_ns;	/* the largest latency in it */
	atomic64_t prev_max_ns;	/* the largest in the window before */
};

/*
 * map(): the start of a read of an image (pbd->hot_start), else 0, which
 * end_io takes as "not measured".  A clock read, no lock, no allocation.
 */
static inline u64 sp_hot_read_start(const struct bio *bio, bool image)
{
	if (likely(!image) || bio_op(bio) != REQ_OP_READ)
		return 0;
	return ktime_get_ns();
}

/* end_io of a read that map() stamped with @start and that succeeded */
void sp_hot_read_done(struct sp_hot *h, u64 start);

/* status: " <read_latency_us> <read_latency_max_us> <hot>" of an image */
void sp_hot_status(struct sp_volume *v, char *result, unsigned int maxlen,
		   unsigned int *szp);

/*
 * The show and store functions of the volume attributes hot_refs,
 * hot_read_latency_us, hot_mode and hot: sp-configfs-vol.c declares the
 * attributes with CONFIGFS_ATTR() and lists them in sp_vol_attrs.
 */
ssize_t sp_vol_hot_refs_show(struct config_item *item, char *page);
ssize_t sp_vol_hot_refs_store(struct config_item *item, const char *page,
			      size_t count);
ssize_t sp_vol_hot_read_latency_us_show(struct config_item *item, char *page);
ssize_t sp_vol_hot_read_latency_us_store(struct config_item *item,
					 const char *page, size_t count);
ssize_t sp_vol_hot_mode_show(struct config_item *item, char *page);
ssize_t sp_vol_hot_mode_store(struct config_item *item, const char *page,
			      size_t count);
ssize_t sp_vol_hot_show(struct config_item *item, char *page);

#endif /* DM_SLICEPOOL_HOT_H */
