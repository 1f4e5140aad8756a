/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool: shared in-memory structures.
 *
 * Locking (see "Locking" in Documentation/dm-slicepool.rst):
 *  - sp_pools_lock (mutex) protects sp_pools, the list of pools.
 *  - pool->lock (mutex) protects everything in a pool that is not
 *    marked otherwise: its member and volume lists, every member's
 *    geometry (nr_slices, dev_sectors), owner array, free count and
 *    free_hint, every volume's size, md3 id and table bookkeeping, and
 *    every md3 call of the pool (one metadata operation at a time, like
 *    dm-era's single metadata worker).  sp_md3_sync() replaces the
 *    owner arrays, nr_slices and nr_free together after every md3
 *    operation, a member's growth included.  iterate_devices takes it
 *    too (dm core calls it at table load and resume, never with it
 *    held).
 *    Order: sp_pools_lock before pool->lock before sp_drain_lock
 *    (sp-target.c).  configfs_depend_item() is never called with either
 *    of the first two held.
 *  - volume->map is published with rcu_assign_pointer() under pool->lock
 *    and read in the I/O path under rcu_read_lock(); an old map is freed
 *    with kvfree_rcu().
 *  - Member lifetime: the I/O path reaches members only through a
 *    volume's map (e[].m, holders[]), never through a pointer of its own.
 *    A flush fanned out by a worker (sp-flush.c) holds a reference on
 *    the map it reads (sp_vmap_get()), so that its holders[] stays while
 *    it sleeps, and is counted in the I/O epoch like a bio.
 *    A member is in a published map only while it is enabled.  Disabling
 *    it (sp_member_disable()) publishes maps without it, then
 *    sp_pool_drain_io(): a grace period (no map() still reads an old map)
 *    and the wait for every bio map() counted before (data and flushes)
 *    to complete; only then its device is closed.  Its struct is freed at
 *    the configfs release, which needs it disabled (an enabled member is
 *    pinned with configfs_depend_item()).  So a member pointer read from
 *    a map under rcu_read_lock() is valid until rcu_read_unlock(), and
 *    the member of a bio map() sent on (pbd->m) until its end_io.
 *  - Member load fields are written only by the load worker (under
 *    pool->lock) and read with READ_ONCE().
 */
#ifndef DM_SLICEPOOL_CORE_H
#define DM_SLICEPOOL_CORE_H

#include <linux/configfs.h>
#include <linux/device-mapper.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/slab.h>

#include "compat.h"
#include "sp-hot.h"

#define DM_MSG_PREFIX "slicepool"

/* dmesg lines: "device-mapper: slicepool: ..." */
#define sp_err(fmt, ...)	DMERR(fmt, ##__VA_ARGS__)
#define sp_warn(fmt, ...)	DMWARN(fmt, ##__VA_ARGS__)
#define sp_info(fmt, ...)	DMINFO(fmt, ##__VA_ARGS__)

#define SP_NAME_MAX		32	/* pool, member, volume, domain names */
#define SP_UUID_LEN		16
#define SP_MAX_VOL_SLICES	0x7fffffffU	/* logical slices per volume */
/*
 * Enabled members per pool (and so the member indexes, placement
 * candidates and a map's holders, at most).  Nothing of this size is on
 * the stack: see "Limits" in Documentation/dm-slicepool.rst.
 */
#define SP_MAX_MEMBERS		4096
#define SP_LOAD_AUTO		(-1)

struct sp_pool;
struct sp_volume;
struct sp_mig;
struct sp_mdev;
struct md3_pool;

/* A volume's state (struct sp_volume.state). */
enum sp_vol_state {
	SP_VOL_FREE = 0,	/* not created yet */
	SP_VOL_LIVE = 1,
	SP_VOL_DELETED = 2,	/* deleted; a new size re-creates it */
};

/*
 * What a physical slice is used for, derived from the md3 state by
 * sp_md3_sync() (and set by allocation until the next sync).
 */
enum sp_owner_state {
	SP_OWN_FREE = 0,	/* free */
	SP_OWN_VALID,		/* in a volume's map */
	SP_OWN_ORPHAN,		/* allocated, not yet in a map */
	SP_OWN_MOVING,		/* migration destination */
};

/* Owner of one physical slice of a member. */
struct sp_owner {
	u8 uuid[SP_UUID_LEN];
	u64 logical;
	enum sp_owner_state state;
};

struct sp_member {
	struct config_item item;
	struct sp_pool *pool;
	struct list_head list;		/* in pool->members */

	/* Parameters, writable only while disabled (pool->lock). */
	char *path;
	char domain[SP_NAME_MAX + 1];

	/* State below: pool->lock unless noted. */
	bool enabled;
	/*
	 * Bit in pool->index_map while enabled, below SP_MAX_MEMBERS: the
	 * order of a map's holders[] and of the status.  Reused after a
	 * disable.
	 */
	unsigned int index;
	/* Scratch marks of sp-pool.c (pool->mark_gen), pool->lock. */
	u64 map_mark;
	u64 dom_mark;
	bool failed;			/* I/O error seen; set in end_io */
	/*
	 * Draining (configfs "drain"): no new slice goes to it, neither by
	 * allocation nor as a migration destination; its slices stay until
	 * they are moved off.  A copy of the state's MD3_MEMBER_DRAIN, set
	 * by the sync (sp-md3pool.c) under pool->lock; read unlocked.
	 */
	bool draining;
	atomic64_t io_errors;
	struct sp_bdev bdev;
	struct dm_dev ddev;		/* handed to iterate_devices */
	u64 dev_sectors;		/* at the last sync */
	u64 nr_slices;			/* grows with revalidate_size */
	u64 nr_free;
	u64 free_hint;			/* no free slice below this index */
	sector_t data_offset;
	struct sp_owner *owners;	/* nr_slices entries, replaced on sync */

	/* The metadata (sp-md3pool.c), pool->lock. */
	struct sp_mdev *mdev;		/* md3's access to the device */
	u32 md3_id;			/* member id in the md3 state */

	/* Load (see sp-load.c). */
	int load_override;		/* SP_LOAD_AUTO or 0..100 */
	u32 load_fp;			/* measured, percent << SP_LOAD_SHIFT */
	unsigned long last_ticks;	/* io_ticks at last sample */
	unsigned long last_jiffies;

	/* Automatic probe of a failed member (see sp-probe.c), pool->lock. */
	bool probe_noted;		/* its failure is logged, probes due */
	unsigned int probe_fails;	/* failed probes in a row, up to 6 */
	unsigned long probe_next;	/* jiffies of the next probe */
};

/* One logical slice: where it lives; m == NULL means missing. */
struct sp_extent {
	struct sp_member *m;
	sector_t start;
};

/*
 * A volume's map: logical slice i is e[i].  Immutable once published
 * (sp_map_publish()); freed with kvfree_rcu() when its last reference
 * goes: the publication's, dropped when a new map replaces it, or a flush
 * worker's (sp_vmap_get()).
 */
struct sp_vmap {
	struct rcu_head rcu;
	refcount_t ref;
	u64 nr;
	/*
	 * The members that hold slices of e[], each once, by ascending
	 * m->index: the flush set.  Valid as e[].m is.  The array follows
	 * e[] in the same allocation, min(nr, SP_MAX_MEMBERS) entries.
	 */
	unsigned int nr_holders;
	struct sp_member **holders;
	struct sp_extent e[];
};

/*
 * A reference on the map @map read under rcu_read_lock(), or false if its
 * last one went (a newer map is published: read v->map again).
 */
static inline bool sp_vmap_get(struct sp_vmap *map)
{
	return refcount_inc_not_zero(&map->ref);
}

static inline void sp_vmap_put(struct sp_vmap *map)
{
	if (map && refcount_dec_and_test(&map->ref))
		kvfree_rcu(map, rcu);
}

/*
 * Bios map() sent to a member (data and flush clones) and not yet
 * completed, per I/O epoch (see sp_volume_drain_io()).
 */
struct sp_inflight {
	long n[2];
};

struct sp_stats {
	u64 reads;
	u64 writes;
	u64 read_sectors;
	u64 write_sectors;
};

struct sp_vol_item {
	struct config_item item;
	struct sp_volume *vol;
};

struct sp_volume {
	struct kref kref;
	struct sp_pool *pool;
	struct list_head list;		/* in pool->volumes */
	char name[SP_NAME_MAX + 1];
	u8 uuid[SP_UUID_LEN];

	/* pool->lock */
	struct sp_vol_item *vitem;	/* NULL: not bound to configfs */
	u64 size_bytes;
	u64 nr_slices;
	u32 state;			/* enum sp_vol_state */
	u64 md3_id;			/* id in the md3 state, 0: none */
	/*
	 * Whether it is an image and its clone count, copies of the
	 * state's (written under pool->lock, read by status unlocked).
	 */
	bool image;
	u64 clones;
	struct sp_hot hot;		/* an image's hot detection (sp-hot.c) */
	struct list_head targets;	/* struct sp_target, one per table */
	unsigned int live_tables;	/* targets constructed on it */
	sector_t max_table_len;		/* largest len among them */

	struct sp_vmap __rcu *map;
	struct sp_stats __percpu *stats;
	atomic64_t io_errors;

	/*
	 * I/O epochs (sp-target.c): flipped under sp_drain_lock, read in
	 * map() under RCU.
	 */
	u8 io_epoch;
	struct sp_inflight __percpu *inflight;

	/* Migration (sp-mig-*.c). */
	/*
	 * Serialises migration control (start, step, switch request, abort,
	 * extents) and protects mig_last's replacement.  Order: before
	 * pool->lock.
	 */
	struct mutex mig_lock;
	struct sp_mig __rcu *mig;	/* running job, read in the I/O path */
	/* Last job, for status: set under mig_lock, read under RCU. */
	struct sp_mig __rcu *mig_last;
};

struct sp_pool {
	struct config_group group;
	struct config_group members_group;
	struct config_group volumes_group;
	struct list_head list;		/* in sp_pools, sp_pools_lock */
	char name[SP_NAME_MAX + 1];

	struct mutex lock;		/* see top of file */
	u8 uuid[SP_UUID_LEN];
	u32 slice_mb;
	u32 weight_space;
	u32 weight_load;
	u32 min_domains;
	u32 online_probe_s;		/* sp-probe.c; written under lock */
	unsigned int nr_enabled;
	DECLARE_BITMAP(index_map, SP_MAX_MEMBERS); /* enabled members' */
	u64 mark_gen;			/* last of the members' scratch marks */
	u64 reclaimed;			/* slices freed by the last reclaim */
	/*
	 * Metadata format 3 (sp-md3pool.c): @md3 the assembled pool (NULL
	 * while no member is enabled), every md3 call on it under
	 * pool->lock; @md3_rw whether the last assembly came up
	 * read-write (else no volume is published).  @md3_holds: the
	 * sources of committed moves that I/O may still reach, kept from
	 * every allocation until the switch releases them (in memory only,
	 * pool->lock; "Moves" in sp-md3pool.c).
	 */
	struct md3_pool *md3;
	bool md3_rw;
	/*
	 * configfs prefer (sp_md3_set_prefer()): at a fork of the members'
	 * journals the branch of member @prefer_id wins (@prefer: set).
	 * Under pool->lock.
	 */
	bool prefer;
	u32 prefer_id;
	struct list_head md3_holds;
	struct list_head members;
	struct list_head volumes;
};

static inline sector_t sp_slice_sectors(struct sp_pool *pool)
{
	return (sector_t)pool->slice_mb << (20 - SECTOR_SHIFT);
}

/* sp-target.c / module */
extern struct mutex sp_pools_lock;
extern struct list_head sp_pools;

/* sp-configfs.c */
extern struct configfs_subsystem sp_subsys;
int sp_configfs_init(void);
void sp_configfs_exit(void);

/* sp-pool.c (the pool model; its internal interface is sp-pool.h) */
struct sp_volume *sp_volume_new(struct sp_pool *pool, const char *name,
				const u8 *uuid);
void sp_volume_put(struct sp_volume *v);
struct sp_volume *sp_volume_find_uuid(struct sp_pool *pool, const u8 *uuid);
struct sp_volume *sp_volume_find_name(struct sp_pool *pool, const char *name);
void sp_pool_free_volumes(struct sp_pool *pool);
u64 sp_volume_present(struct sp_volume *v);
u32 sp_member_load(struct sp_member *m);

/* sp-member.c */
int sp_member_enable(struct sp_member *m);
int sp_member_disable(struct sp_member *m);
int sp_member_revalidate_size(struct sp_member *m);
int sp_member_remove(struct sp_member *m);
int sp_member_online(struct sp_member *m, bool automatic);
u64 sp_member_max_slices(struct sp_member *m);

/* sp-resize.c */
int sp_volume_resize(struct sp_volume *v, u64 bytes);

/* sp-md3pool.c: persist the pool's settings (once a member is enabled) */
int sp_md3_settings(struct sp_pool *pool);
/* sp-md3asm.c: force a read-only pool read-write (configfs force) */
int sp_md3_force(struct sp_pool *pool);
/* sp-md3asm.c: set (@on) or clear the pool's prefer (configfs prefer) */
int sp_md3_set_prefer(struct sp_pool *pool, bool on, u32 id);
/* sp-md3pool.c: a volume of copies > 1 is not bound (-EOPNOTSUPP) */
int sp_md3_vol_bindable(struct sp_volume *v);
/* sp-md3pool.c: images (Documentation/dm-slicepool-images.rst) */
bool sp_md3_vol_image(struct sp_volume *v);
int sp_md3_vol_make_image(struct sp_volume *v);
u64 sp_md3_vol_clones(struct sp_volume *v);
int sp_md3_clone_add(struct sp_volume *v, const char *name, u32 thin_id,
		     u64 sectors);
int sp_md3_clone_remove(struct sp_volume *v, const char *name);
int sp_md3_clone_move(struct sp_volume *v, const char *name);
void sp_md3_for_each_clone(struct sp_volume *v,
			   void (*fn)(void *arg, const char *name, u32 thin_id,
				      u64 sectors),
			   void *arg);

/* sp-move.c: reserve a move's destinations */
int sp_move_reserve(struct sp_volume *v, u64 first, u64 count,
		    const char *dest, struct sp_extent *src,
		    struct sp_extent *dst);
/*
 * sp-md3move.c: a move's transactions, pool->lock held.  Begin: the
 * reserved destinations become the state's pending move (on failure the
 * caller aborts); abort: a move that will not be committed, its
 * destinations freed; commit: [first, first + count) goes to @dst, one
 * transaction; release: after a committed move, once no I/O reaches the
 * sources any more.
 */
int sp_md3_move_begin(struct sp_volume *v, u64 first, u64 count,
		      const struct sp_extent *dst, bool mirror);
void sp_md3_move_abort(struct sp_volume *v, u64 first);
int sp_md3_move_commit(struct sp_volume *v, u64 first, u64 count,
		       const struct sp_extent *dst);
void sp_md3_move_release(struct sp_volume *v, u64 first);

/* sp-load.c */
#define SP_LOAD_SHIFT	10
void sp_load_start(void);
void sp_load_stop(void);

/* sp-probe.c */
void sp_probe_start(void);
void sp_probe_stop(void);
void sp_load_member_init(struct sp_member *m);

/* sp-target.c */
int sp_target_init(void);
void sp_target_exit(void);
void sp_volume_drain_io(struct sp_volume *v);
void sp_pool_drain_io(struct sp_pool *pool);
unsigned int sp_target_rw_tables(struct sp_volume *v);

/* sp-mig-ctl.c */
int sp_mig_init(void);
void sp_mig_exit(void);

#endif /* DM_SLICEPOOL_CORE_H */
