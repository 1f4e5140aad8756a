// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: the slicepool target's status (INFO, TABLE, IMA) and its
 * messages.  The grammar is written once, in "Status" and "Messages" of
 * Documentation/dm-slicepool.rst.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "sp-target.h"

static void sp_sum_stats(struct sp_volume *v, struct sp_stats *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		struct sp_stats *s = per_cpu_ptr(v->stats, cpu);

		sum->reads += READ_ONCE(s->reads);
		sum->writes += READ_ONCE(s->writes);
		sum->read_sectors += READ_ONCE(s->read_sectors);
		sum->write_sectors += READ_ONCE(s->write_sectors);
	}
}

/* The position of @m in @map's holders (sorted by index), or nr_holders. */
static unsigned int sp_holder_pos(const struct sp_vmap *map,
				  const struct sp_member *m)
{
	unsigned int lo = 0, hi = map->nr_holders, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (map->holders[mid]->index < m->index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < map->nr_holders && map->holders[lo] == m ?
		lo : map->nr_holders;
}

/*
 * INFO: <reads> <writes> <read_sectors> <write_sectors> <io_errors>
 *       <missing_slices> <#members> {<member>:<slices>:<online|failed>}...
 *       migration <none | job fields (the migration's status hook)>
 * The members listed are those holding slices within the table, by
 * index.  Their counts are in an array of one u32 per holder, allocated
 * here (not in I/O; GFP_NOIO, as the table may be suspended): if it
 * cannot be, none is listed.
 */
void sp_target_status(struct dm_target *ti, status_type_t type,
		      unsigned int status_flags, char *result,
		      unsigned int maxlen)
{
	struct sp_target *t = ti->private;
	unsigned int sz = 0, k, listed = 0, nh, cap = 0, noio;
	u32 *n = NULL;
	u64 i, missing = 0;
	struct sp_stats s;
	struct sp_vmap *map;

	switch (type) {
	case STATUSTYPE_INFO:
		sp_sum_stats(t->vol, &s);
		/* The members from one map (valid under RCU). */
		rcu_read_lock();
		map = rcu_dereference(t->vol->map);
		nh = map ? map->nr_holders : 0;
		/* Room for the counts of the map read last (a retry is rare). */
		while (nh > cap) {
			rcu_read_unlock();
			kvfree(n);
			noio = memalloc_noio_save();
			n = kvcalloc(nh, sizeof(*n), GFP_KERNEL);
			memalloc_noio_restore(noio);
			cap = n ? nh : 0;
			rcu_read_lock();
			map = rcu_dereference(t->vol->map);
			nh = map ? map->nr_holders : 0;
			if (!n)
				break;
		}
		/* Here n, if set, has room for nh counts. */
		for (i = 0; i < t->nr_slices; i++) {
			if (!map || i >= map->nr || !map->e[i].m) {
				missing++;
				continue;
			}
			k = n ? sp_holder_pos(map, map->e[i].m) : nh;
			if (k < nh)
				n[k]++;
		}
		for (k = 0; n && k < nh; k++)
			if (n[k])
				listed++;
		DMEMIT("%llu %llu %llu %llu %lld %llu %u", s.reads, s.writes,
		       s.read_sectors, s.write_sectors,
		       (long long)atomic64_read(&t->vol->io_errors), missing,
		       listed);
		for (k = 0; n && k < nh; k++) {
			struct sp_member *m = map->holders[k];

			if (!n[k])
				continue;
			DMEMIT(" %s:%u:%s", config_item_name(&m->item), n[k],
			       READ_ONCE(m->failed) ? "failed" : "online");
		}
		rcu_read_unlock();
		kvfree(n);
		/* An image (read-only tables only): clones, hot detection */
		if (!t->rw && READ_ONCE(t->vol->image)) {
			DMEMIT(" image %llu", READ_ONCE(t->vol->clones));
			sp_hot_status(t->vol, result, maxlen, &sz);
		}
		if (sp_hooks)
			sp_hooks->status(t->vol, result, maxlen, &sz);
		else
			DMEMIT(" migration none");
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s", t->pool->name, t->vol->name);
		if (t->features_given) {
			DMEMIT(" %u", t->nr_features);
			if (t->ignore_discard)
				DMEMIT(" ignore_discard");
		}
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",pool_name=%s,volume_name=%s,ignore_discard=%c;",
		       t->pool->name, t->vol->name,
		       t->ignore_discard ? 'y' : 'n');
		break;
	}
}

int sp_target_message(struct dm_target *ti, unsigned int argc, char **argv,
		      char *result, unsigned int maxlen)
{
	struct sp_target *t = ti->private;
	int cpu;

	if (argc >= 1 && !strcasecmp(argv[0], "migrate") && sp_hooks)
		return sp_hooks->message(t->vol, argc - 1, argv + 1, result,
					 maxlen);
	if (argc == 1 && !strcasecmp(argv[0], "stats_reset")) {
		for_each_possible_cpu(cpu)
			memset(per_cpu_ptr(t->vol->stats, cpu), 0,
			       sizeof(struct sp_stats));
		atomic64_set(&t->vol->io_errors, 0);
		return 0;
	}
	if (argc >= 1 && !strcasecmp(argv[0], "stats_reset"))
		sp_err("message stats_reset takes no arguments, got %u",
		       argc - 1);
	else
		sp_err("unknown message '%s'", argc ? argv[0] : "");
	return -EINVAL;
}
