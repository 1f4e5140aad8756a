// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: flushes of the slicepool target.
 *
 * Flushes.  dm core sends one empty REQ_PREFLUSH bio per flush
 * (num_flush_bios = 1); it must reach every member that holds a slice of
 * the volume when it is mapped: the holders of the volume's current map,
 * any number up to SP_MAX_MEMBERS, members enabled after the table was
 * loaded included.  With no holder map() completes it; with one it remaps
 * it there, like data; with more it queues it to the table's flush work
 * on sp_flush_wq (WQ_MEM_RECLAIM), which fans it out: one child flush per
 * holder from sp_flush_bs, each allocated (GFP_NOIO) only after the one
 * before was submitted, so that the bio_set's reserve always suffices,
 * and the flush completes when every child has, with the first error.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/workqueue.h>

#include "sp-target.h"

/* The workqueue and the bio_set of the fan-out. */
static struct workqueue_struct *sp_flush_wq;
static struct bio_set sp_flush_bs;

/* A child flush: the bio is last, sp_flush_bs's front_pad before it. */
struct sp_flush_child {
	struct sp_volume *v;
	struct sp_member *m;		/* open while the parent is counted */
	struct bio bio;
};

static void sp_flush_child_end(struct bio *c)
{
	struct sp_flush_child *fc = container_of(c, struct sp_flush_child,
						 bio);
	struct bio *parent = c->bi_private;
	blk_status_t err = c->bi_status;

	sp_member_io_error(fc->v, fc->m, err);
	/* As bio_chain_endio(): some child's error is the parent's. */
	if (err && !READ_ONCE(parent->bi_status))
		WRITE_ONCE(parent->bi_status, err);
	bio_put(c);
	bio_endio(parent);
}

/*
 * Send the flush @bio on to every holder of @t's volume's map, and
 * complete it when they all have.  Counted in the I/O epoch (the holders
 * stay open until it completes), with a reference on the map (its
 * holders[] stays while the children are allocated, which may sleep).
 */
static void sp_flush_fan_out(struct sp_target *t, struct bio *bio)
{
	struct sp_pbd *pbd = dm_per_bio_data(bio, sizeof(*pbd));
	struct sp_volume *v = t->vol;
	struct sp_vmap *map;
	struct blk_plug plug;
	unsigned int k;

	rcu_read_lock();
	pbd->epoch = sp_io_epoch(v);
	this_cpu_inc(v->inflight->n[pbd->epoch]);
	/* A map whose last reference went is replaced already: read again. */
	do {
		map = rcu_dereference(v->map);
	} while (map && !sp_vmap_get(map));
	rcu_read_unlock();
	if (!map) {
		bio_endio(bio);
		return;
	}
	blk_start_plug(&plug);
	for (k = 0; k < map->nr_holders; k++) {
		struct sp_member *m = map->holders[k];
		struct sp_flush_child *fc;
		struct bio *c;

		c = bio_alloc_bioset(m->bdev.bdev, 0, bio->bi_opf, GFP_NOIO,
				     &sp_flush_bs);
		fc = container_of(c, struct sp_flush_child, bio);
		fc->v = v;
		fc->m = m;
		bio_clone_blkg_association(c, bio);
		c->bi_end_io = sp_flush_child_end;
		c->bi_private = bio;
		bio_inc_remaining(bio);
		submit_bio_noacct(c);
	}
	blk_finish_plug(&plug);
	sp_vmap_put(map);
	bio_endio(bio);
}

void sp_flush_work(struct work_struct *work)
{
	struct sp_target *t = container_of(work, struct sp_target,
					   flush_work);
	struct bio_list bios;
	struct bio *bio;

	spin_lock_irq(&t->flush_lock);
	bios = t->flush_bios;
	bio_list_init(&t->flush_bios);
	spin_unlock_irq(&t->flush_lock);
	while ((bio = bio_list_pop(&bios)))
		sp_flush_fan_out(t, bio);
}

/*
 * map() of an empty flush: completed (no holder), remapped to the one
 * holder, or queued for sp_flush_work() (more than one).
 */
int sp_map_flush(struct sp_target *t, struct bio *bio, struct sp_pbd *pbd)
{
	struct sp_volume *v = t->vol;
	struct sp_member *m = NULL;
	struct sp_vmap *map;
	unsigned long flags;
	unsigned int nh;
	u8 epoch;

	rcu_read_lock();
	epoch = sp_io_epoch(v);
	map = rcu_dereference(v->map);
	nh = map ? map->nr_holders : 0;
	if (nh == 1) {
		/* Counted: @m stays open until it completes (drain). */
		m = map->holders[0];
		pbd->epoch = epoch;
		this_cpu_inc(v->inflight->n[epoch]);
	}
	rcu_read_unlock();
	if (m) {
		pbd->m = m;
		bio_set_dev(bio, m->bdev.bdev);
		return DM_MAPIO_REMAPPED;
	}
	if (!nh) {
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
	spin_lock_irqsave(&t->flush_lock, flags);
	bio_list_add(&t->flush_bios, bio);
	spin_unlock_irqrestore(&t->flush_lock, flags);
	queue_work(sp_flush_wq, &t->flush_work);
	return DM_MAPIO_SUBMITTED;
}

int sp_flush_init(void)
{
	int r;

	sp_flush_wq = alloc_workqueue("slicepool_flush", WQ_MEM_RECLAIM, 0);
	if (!sp_flush_wq)
		return -ENOMEM;
	r = bioset_init(&sp_flush_bs, BIO_POOL_SIZE,
			offsetof(struct sp_flush_child, bio), 0);
	if (r)
		destroy_workqueue(sp_flush_wq);
	return r;
}

void sp_flush_exit(void)
{
	bioset_exit(&sp_flush_bs);
	destroy_workqueue(sp_flush_wq);
}
