// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool upgrade: convert a format-2 pool to metadata format 3,
 * offline, keeping every volume's map (no data moves).
 *
 * Documentation/dm-slicepool-metadata.rst, "Upgrading a format-2 pool",
 * gives the order of the writes and what an interrupted upgrade leaves;
 * Documentation/slicepool-tool.rst the command.  In short:
 *
 * 1. Read every member given (O_EXCL: none may be in use) with sb.c and
 *    decode the pool with fmt2.c (assemble's rules).  Every member must be
 *    given: a volume slice on no member given, or another format-2 member
 *    of the pool found among the block devices, is refused.
 * 2. Build the v3 state (members sorted by name get ids 0.., volumes
 *    sorted by name ids 1..) and create it on overlays of the devices in
 *    memory, assemble that (nowrite) and compare it with format 2: every
 *    volume must have exactly its format-2 map.  Nothing is written yet.
 * 3. Write the backup file: a text header, then the raw metadata area
 *    (every block before the data offset) of each member; fsync, link to
 *    its name (never over an existing file), fsync the directory.
 * 4. Phase A: replace block 0 (format 2's superblock) of each member by
 *    a mark (neither blank nor format 2 nor v3), in member order, each
 *    followed by a flush.
 * 5. Phase B: md3_create_pool_geoms() on the devices: per member, in
 *    member order, both label slots zeroed, flush, the checkpoint of the
 *    state (seq 1), flush, label B, flush, label A, flush.
 * 6. Assemble the devices (nowrite) and compare again.
 *
 * --resume reads the backup, matches the devices to its members, and
 * runs 2, 4, 5 and 6 again from the backup's format-2 areas: every write
 * is of the same bytes as before, so it finishes any interrupted run.
 * --restore writes the backup's areas back (block 0 last).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "md3dev.h"
#include "sp-format.h"

#define BACKUP_MAGIC	"slicepool-upgrade-backup 1"
/*
 * Phase A's block 0: neither blank nor a format-2 superblock, so that
 * the format-2 module and tool refuse or ignore the member (a blank block
 * 0 would let "member add" format it), and no v3 label either.
 */
#define UPG_MARK_MAGIC	SPT_UPGRADE_MARK_MAGIC
#define UPG_MARK_TEXT	"slicepool: an upgrade to metadata format 3 was interrupted here; finish it with 'slicepool upgrade --resume --backup FILE DEVICE...'\n"
#define STOP_ENV	"SLICEPOOL_TEST_STOP_AFTER_WRITES"

/* Phase A's block 0 (UPG_MARK_MAGIC, sealed like every metadata block). */
static void upg_mark(u8 *blk)
{
	struct sp_block_header *h = (void *)blk;

	memset(blk, 0, MD3_BLOCK_SIZE);
	h->magic = htole32(UPG_MARK_MAGIC);
	memcpy(blk + sizeof(*h), UPG_MARK_TEXT, sizeof(UPG_MARK_TEXT) - 1);
	h->crc = htole32(md3_crc32c(~0U, blk + 4, MD3_BLOCK_SIZE - 4));
}

/* Whether block 0 @blk is phase A's mark. */
static bool is_mark(const u8 *blk)
{
	u8 m[MD3_BLOCK_SIZE];

	upg_mark(m);
	return !memcmp(blk, m, MD3_BLOCK_SIZE);
}

/*
 * An in-memory overlay of a member's metadata (the rehearsal of step 2):
 * the blocks written, over the member's format-2 area (@base).  After the
 * rehearsal it holds exactly what the upgrade writes to the member.
 */
struct ovl {
	const u8 *base;
	u64 base_len;
	u64 n;
	u64 *nr;
	u8 *blk;
};

/* One member of the pool being converted, in member (name) order. */
struct upg_member {
	struct spt_md3dev *dev;		/* the device given for it */
	const char *path;
	u64 dev_bytes;
	u64 area_bytes;			/* metadata area: data_offset * 512 */
	u8 *area;			/* its format-2 area (from the backup) */
	u32 crc;
	u64 journal_blocks;		/* its v3 ring */
	char name[SPT_NAME_MAX + 1];
	char uuid[SPT_UUID_STR_LEN];
	const char *state;		/* resume/restore: what it held */
	struct ovl ov;			/* what the upgrade writes to it */
};

struct upg {
	bool dry_run, resume, no_scan;
	const char *backup;
	char backup_buf[PATH_MAX];
	u32 w_space, w_load, min_domains;
	struct spt_md3dev *devs;	/* as given */
	size_t nr_devs;
	struct spt_fmt2_pool f2;
	struct upg_member *mem;		/* f2.nr_members */
	size_t nr_mem;
	u64 hash;			/* the v3 state's, seq 1 */
	u64 want;			/* the backup's record of it */
	bool written;			/* a member was written */
	char why[4 * PATH_MAX + 1024];
};

/* ---- in-memory overlay of a device (the rehearsal of step 2) ---- */

/* The block @block the overlay holds, or NULL. */
static const u8 *ovl_find(const struct ovl *o, u64 block)
{
	u64 i;

	for (i = 0; i < o->n; i++)
		if (o->nr[i] == block)
			return o->blk + i * MD3_BLOCK_SIZE;
	return NULL;
}

static int ovl_read(void *ctx, u64 block, void *buf)
{
	struct ovl *o = ctx;
	const u8 *b = ovl_find(o, block);

	if (b)
		memcpy(buf, b, MD3_BLOCK_SIZE);
	else if (block < o->base_len / MD3_BLOCK_SIZE)
		memcpy(buf, o->base + block * MD3_BLOCK_SIZE, MD3_BLOCK_SIZE);
	else
		memset(buf, 0, MD3_BLOCK_SIZE);	/* the data area: not metadata */
	return 0;
}

static void ovl_free(struct ovl *o)
{
	free(o->nr);
	free(o->blk);
	memset(o, 0, sizeof(*o));
}

static int ovl_write(void *ctx, u64 block, const void *buf)
{
	struct ovl *o = ctx;
	u64 i;

	for (i = 0; i < o->n && o->nr[i] != block; i++)
		;
	if (i == o->n) {
		o->nr = spt_realloc_array(o->nr, o->n + 1, sizeof(*o->nr));
		o->blk = spt_realloc_array(o->blk, o->n + 1, MD3_BLOCK_SIZE);
		o->nr[o->n++] = block;
	}
	memcpy(o->blk + i * MD3_BLOCK_SIZE, buf, MD3_BLOCK_SIZE);
	return 0;
}

static int ovl_flush(void *ctx)
{
	(void)ctx;
	return 0;
}

static const struct md3_dev_ops ovl_ops = {
	.read = ovl_read, .write = ovl_write, .flush = ovl_flush,
};

/* ---- the v3 state of the format-2 pool ---- */

/* Whether the assembled @st holds exactly the pool @u->f2. */
static int compare(struct upg *u, const struct md3_pool *p)
{
	const struct md3_state *st = &p->st;
	const struct spt_fmt2_pool *f = &u->f2;
	char uuid[SPT_UUID_STR_LEN];
	size_t i;
	u64 l;

	if (p->verdict != MD3_MODE_RW || p->winner.seq != 1 ||
	    st->nr_members != f->nr_members || st->nr_volumes != f->nr_vols) {
		snprintf(u->why, sizeof(u->why),
			 "the v3 pool assembled as %d (seq %llu) with %u members and %llu volumes, not %zu and %zu (a bug of the tool: report it): %.900s",
			 p->verdict, (unsigned long long)p->winner.seq,
			 st->nr_members, (unsigned long long)st->nr_volumes,
			 f->nr_members, f->nr_vols, p->msg);
		return -EINVAL;
	}
	for (i = 0; i < f->nr_members; i++) {
		const struct md3_member *m = &st->members[i];
		const struct spt_disk_member *d = &f->members[i];

		spu_uuid_format(m->uuid, uuid);
		if (m->id != i || strcmp(m->name, d->sb.member_name) ||
		    strcasecmp(uuid, d->sb.member_uuid) ||
		    strcmp(md3_domain_label(st, m->domain) ?: "", d->sb.domain) ||
		    m->nr_slices != d->sb.nr_slices ||
		    m->data_offset != d->sb.data_offset) {
			snprintf(u->why, sizeof(u->why),
				 "member %s differs in the v3 pool (a bug of the tool: report it)",
				 d->sb.member_name);
			return -EINVAL;
		}
	}
	for (i = 0; i < f->nr_vols; i++) {
		const struct md3_volume *v = &st->vols[i];
		const struct spt_fmt2_vol *w = &f->vols[i];

		spu_uuid_format(v->uuid, uuid);
		if (v->id != i + 1 || strcmp(v->name, w->rec.name) ||
		    strcasecmp(uuid, w->rec.uuid) ||
		    v->size_bytes != w->rec.size ||
		    v->nr_slices != w->rec.nr_slices)
			goto bad;
		for (l = 0; l < v->nr_slices; l++)
			if (w->map[l].member < 0 ||
			    v->map[l].member != (u32)w->map[l].member ||
			    v->map[l].pslice != w->map[l].physical)
				goto bad;
	}
	if (st->nr_moves)
		goto bad;
	return 0;
bad:
	snprintf(u->why, sizeof(u->why),
		 "volume %s differs in the v3 pool (a bug of the tool: report it)",
		 f->vols[i].rec.name);
	return -EINVAL;
}

/*
 * Creates the v3 pool of @u->f2 on @devs (the overlays or the devices)
 * and checks it by a nowrite assembly.  0, or -errno with @u->why.
 */
static int create_v3(struct upg *u, struct md3_dev *devs)
{
	static const char nofit[] =
		" (a member's journal or slices do not fit: keep the pool in format 2)";
	const struct spt_fmt2_pool *f = &u->f2;
	struct md3_assemble_opts o = { .nowrite = true, .have_uuid = true };
	struct md3_pool_rec rec = { 0 };
	struct md3_state init;
	struct md3_pool p = { 0 }, a;
	struct md3_geom *g;
	const char **doms;
	u8 *uuids;
	size_t i;
	u64 l;
	int r;

	md3_state_init(&init);
	g = spt_zalloc(f->nr_members * sizeof(*g));
	doms = spt_zalloc(f->nr_members * sizeof(*doms));
	uuids = spt_zalloc(f->nr_members * MD3_UUID_LEN);
	init.vols = spt_zalloc((f->nr_vols + 1) * sizeof(*init.vols));
	init.nr_volumes = f->nr_vols;
	spu_uuid_parse(f->uuid, rec.uuid);
	snprintf(rec.name, sizeof(rec.name), "%s", f->name);
	rec.slice_sectors = f->slice_sectors;
	rec.next_volume_id = f->nr_vols + 1;
	rec.w_space = u->w_space;
	rec.w_load = u->w_load;
	rec.min_domains = u->min_domains;
	for (i = 0; i < f->nr_members; i++) {
		const struct spu_fmt2_sb *sb = &f->members[i].sb;

		g[i].data_offset = sb->data_offset;
		g[i].nr_slices = sb->nr_slices;
		g[i].slice_sectors = sb->slice_sectors;
		doms[i] = sb->domain;
		spu_uuid_parse(sb->member_uuid, uuids + i * MD3_UUID_LEN);
		devs[i].name = sb->member_name;
	}
	for (i = 0; i < f->nr_vols; i++) {
		const struct spt_fmt2_vol *w = &f->vols[i];
		struct md3_volume *v = &init.vols[i];

		v->id = i + 1;
		v->size_bytes = w->rec.size;
		v->nr_slices = w->rec.nr_slices;
		spu_uuid_parse(w->rec.uuid, v->uuid);
		snprintf(v->name, sizeof(v->name), "%s", w->rec.name);
		v->map = spt_zalloc((v->nr_slices + 1) * sizeof(*v->map));
		for (l = 0; l < v->nr_slices; l++) {
			v->map[l].member = (u32)w->map[l].member;
			v->map[l].pslice = w->map[l].physical;
		}
	}
	r = md3_create_pool_geoms(&p, &rec, devs, uuids, doms,
				  (u32)f->nr_members, g, true, &init);
	if (r) {
		snprintf(u->why, sizeof(u->why),
			 "the v3 pool cannot be created: %s%s%s", strerror(-r),
			 r == -ENOSPC ? nofit : "",
			 u->written ? "" : "; nothing was written");
	} else {
		u->hash = p.st.hash;
		for (i = 0; i < u->nr_mem; i++)
			u->mem[i].journal_blocks = p.devs[i].chain.journal_blocks;
	}
	md3_pool_free(&p);
	if (!r) {
		memcpy(o.pool_uuid, rec.uuid, MD3_UUID_LEN);
		r = md3_assemble(&a, devs, (u32)f->nr_members, &o);
		if (r)
			snprintf(u->why, sizeof(u->why),
				 "the v3 pool cannot be read back: %s",
				 strerror(-r));
		else
			r = compare(u, &a);
		md3_pool_free(&a);
	}
	for (i = 0; i < f->nr_vols; i++)
		free(init.vols[i].map);
	free(init.vols);
	free(uuids);
	free(doms);
	free(g);
	return r;
}

/*
 * create_v3() on the members' devices, or (@overlay) on in-memory overlays
 * of their format-2 areas.
 */
static int create_v3_on(struct upg *u, bool overlay)
{
	struct md3_dev *devs = spt_zalloc(u->nr_mem * sizeof(*devs));
	size_t i;
	int r;

	for (i = 0; i < u->nr_mem; i++) {
		struct ovl *o = &u->mem[i].ov;

		if (!overlay) {
			devs[i] = u->mem[i].dev->md;
			continue;
		}
		ovl_free(o);
		o->base = u->mem[i].area;
		o->base_len = u->mem[i].area_bytes;
		devs[i].ops = &ovl_ops;
		devs[i].ctx = o;
		devs[i].dev_sectors = u->mem[i].dev_bytes >> 9;
	}
	r = create_v3(u, devs);
	free(devs);
	return r;
}

/*
 * Step 2: the whole creation on in-memory overlays of the members'
 * format-2 areas; each overlay then holds what the upgrade writes.
 */
static int rehearse(struct upg *u)
{
	return create_v3_on(u, true);
}

/* ---- reading the format-2 pool ---- */

/* Refuses missing slices, double claims and a geometry v3 cannot keep. */
static int check_pool(struct upg *u)
{
	const struct spt_fmt2_pool *f = &u->f2;
	size_t i, n;
	u64 l;

	for (i = 0; i < f->nr_vols; i++) {
		const struct spt_fmt2_vol *v = &f->vols[i];
		char list[256] = "";

		if (v->twice) {
			snprintf(u->why, sizeof(u->why),
				 "volume %s: %llu logical slice(s) claimed twice by one attempt (corrupt metadata): repair the pool in format 2 first",
				 v->rec.name, (unsigned long long)v->twice);
			return -EINVAL;
		}
		if (!v->missing)
			continue;
		for (l = 0, n = 0; l < v->rec.nr_slices; l++)
			if (v->map[l].member < 0 && n < sizeof(list) - 24)
				n += snprintf(list + n, sizeof(list) - n, " %llu",
					      (unsigned long long)l);
		snprintf(u->why, sizeof(u->why),
			 "volume %s: logical slice(s)%s are on no member given: a member of pool %s is missing; give every member (all the devices 'slicepool assemble' used for the pool)",
			 v->rec.name, list, f->name);
		return -ENXIO;
	}
	for (i = 0; i < f->nr_members; i++)
		if (f->members[i].sb.data_offset % MD3_DATA_ALIGN_SECTORS ||
		    f->members[i].sb.data_offset <
		    (MD3_JOURNAL_START + MD3_MIN_JOURNAL) * (MD3_BLOCK_SIZE / 512)) {
			snprintf(u->why, sizeof(u->why),
				 "member %s: data offset %llu leaves no room for a v3 journal",
				 f->members[i].sb.member_name,
				 (unsigned long long)f->members[i].sb.data_offset);
			return -EINVAL;
		}
	return 0;
}

/* Whether @path names the same device as one given. */
static bool given(const struct upg *u, const char *path)
{
	struct stat a, b;
	size_t i;

	if (stat(path, &a))
		return false;
	for (i = 0; i < u->nr_devs; i++) {
		if (stat(u->devs[i].path, &b))
			continue;
		if (S_ISBLK(a.st_mode) && S_ISBLK(b.st_mode) ?
		    a.st_rdev == b.st_rdev :
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return true;
	}
	return false;
}

/* Whether member @uuid is one given (another path to it: a stacked device). */
static bool member_given(const struct upg *u, const char *uuid)
{
	size_t i;

	for (i = 0; i < u->f2.nr_members; i++)
		if (!strcasecmp(u->f2.members[i].sb.member_uuid, uuid))
			return true;
	return false;
}

/*
 * Other format-2 members of the pool among the block devices (those
 * /proc/partitions lists): a member not given is refused by name.
 */
static int scan_others(struct upg *u)
{
	char line[256], name[128], path[PATH_MAX + 8], why[640];
	unsigned long long kib;
	unsigned int ma, mi;
	struct spt_disk_member m;
	FILE *f = fopen("/proc/partitions", "re");
	int r = 0;

	if (!f)
		return 0;
	while (!r && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %llu %127s", &ma, &mi, &kib, name) != 4 ||
		    kib < 1024)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", name);
		if (given(u, path) || spt_md_read_dev(path, &m, why, sizeof(why)))
			continue;
		if (!strcasecmp(m.sb.pool_uuid, u->f2.uuid) &&
		    !member_given(u, m.sb.member_uuid)) {
			snprintf(u->why, sizeof(u->why),
				 "member %s of pool %s is on %s, which was not given: give every member (add %s), or use --no-scan if it is not part of the pool",
				 m.sb.member_name, u->f2.name, path, path);
			r = -ENXIO;
		}
		spt_disk_member_free(&m);
	}
	fclose(f);
	return r;
}

static int read_area(struct upg_member *m, struct spt_md3dev *d, char *why,
		     size_t whylen)
{
	int r;

	m->area = spt_zalloc(m->area_bytes);
	r = spt_md3dev_pread(d, 0, m->area, m->area_bytes);
	if (r)
		snprintf(why, whylen,
			 "%s: cannot read its metadata area: %s (check the device)",
			 d->path, strerror(-r));
	m->crc = md3_crc32c(~0U, m->area, m->area_bytes);
	return r;
}

/*
 * The format-2 pool of the @n members @ms read (status @r) into u->f2,
 * which takes @ms over; @ms freed here if @r.
 */
static int build_f2(struct upg *u, struct spt_disk_member *ms, size_t n, int r)
{
	size_t i;

	if (!r)
		return spt_fmt2_build(ms, n, &u->f2, u->why, sizeof(u->why));
	for (i = 0; i < n; i++)
		spt_disk_member_free(&ms[i]);
	free(ms);
	return r;
}

/* Step 1 for an upgrade: the members as given. */
static int read_given(struct upg *u)
{
	struct spt_disk_member *ms;
	struct md3_chain c;
	size_t i;
	u8 *blk = spt_zalloc(MD3_BLOCK_SIZE);
	int r = 0;

	ms = spt_zalloc(u->nr_devs * sizeof(*ms));
	for (i = 0; i < u->nr_devs && !r; i++) {
		struct spt_md3dev *d = &u->devs[i];

		r = spt_md3dev_pread(d, 0, blk, MD3_BLOCK_SIZE);
		if (r) {
			snprintf(u->why, sizeof(u->why),
				 "%s: cannot read: %s (check the device)",
				 d->path, strerror(-r));
			break;
		}
		if (is_mark(blk)) {
			snprintf(u->why, sizeof(u->why),
				 "%s: an upgrade of its pool to format 3 was interrupted: finish it with 'slicepool upgrade --resume --backup FILE' and every member (or go back with --restore FILE)",
				 d->path);
			r = -EINVAL;
			break;
		}
		if (le32toh(((struct sp_block_header *)blk)->magic) != SP_SB_MAGIC) {
			if (!md3_read_member(&d->md, &c) &&
			    c.kind != MD3_CHAIN_BLANK)
				snprintf(u->why, sizeof(u->why),
					 "%s is already in metadata format 3: nothing to upgrade ('slicepool inspect %s' shows it; if an upgrade was interrupted, run 'slicepool upgrade --resume --backup FILE' with every member)",
					 d->path, d->path);
			else
				snprintf(u->why, sizeof(u->why),
					 "%s has no format-2 superblock: not a member, or an upgrade of its pool was interrupted (then run 'slicepool upgrade --resume --backup FILE' with every member)",
					 d->path);
			md3_chain_free(&c);
			r = -EINVAL;
			break;
		}
		r = spt_md_read_dev(d->path, &ms[i], u->why, sizeof(u->why));
		if (r) {
			char tmp[sizeof(u->why)];

			snprintf(tmp, sizeof(tmp), "%s", u->why);
			snprintf(u->why, sizeof(u->why),
				 "%.256s: %.600s: its format-2 metadata is refused; repair it (or restore it) first",
				 d->path, r == -EINVAL ? tmp : strerror(-r));
		}
	}
	free(blk);
	return build_f2(u, ms, u->nr_devs, r);
}

/* The upg_member of each member of @u->f2, in member order. */
static int setup_members(struct upg *u)
{
	size_t i, j;
	int r;

	u->nr_mem = u->f2.nr_members;
	u->mem = spt_zalloc(u->nr_mem * sizeof(*u->mem));
	for (i = 0; i < u->nr_mem; i++) {
		const struct spt_disk_member *d = &u->f2.members[i];
		struct upg_member *m = &u->mem[i];

		for (j = 0; j < u->nr_devs; j++)
			if (!strcmp(u->devs[j].path, d->device))
				m->dev = &u->devs[j];
		m->path = m->dev->path;
		m->dev_bytes = m->dev->md.dev_sectors << 9;
		m->area_bytes = d->sb.data_offset << 9;
		snprintf(m->name, sizeof(m->name), "%s", d->sb.member_name);
		snprintf(m->uuid, sizeof(m->uuid), "%s", d->sb.member_uuid);
		r = read_area(m, m->dev, u->why, sizeof(u->why));
		if (r)
			return r;
	}
	return 0;
}

/* ---- the backup file ---- */

/*
 * Writes the backup: the header, then each member's area.  Written to a
 * temporary name, synced, then linked to @u->backup, which must not exist.
 */
static int write_backup(struct upg *u)
{
	static const char exists[] =
		"an interrupted upgrade's backup? run --resume with it, or give another --backup";
	char tmp[PATH_MAX + 32];
	size_t i;
	FILE *f;
	int r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", u->backup, (int)getpid());
	f = fopen(tmp, "wxe");
	if (!f) {
		r = -errno;
		goto fail;
	}
	fprintf(f, "%s\npool %s %s\nslice_sectors %llu\n", BACKUP_MAGIC,
		u->f2.uuid, u->f2.name, (unsigned long long)u->f2.slice_sectors);
	fprintf(f, "settings %u %u %u\nv3 1 %016llx\nmembers %zu\n", u->w_space,
		u->w_load, u->min_domains, (unsigned long long)u->hash, u->nr_mem);
	for (i = 0; i < u->nr_mem; i++)
		fprintf(f, "member %zu %s %s %llu %llu %08x %s\n", i,
			u->mem[i].name, u->mem[i].uuid,
			(unsigned long long)u->mem[i].dev_bytes,
			(unsigned long long)u->mem[i].area_bytes, u->mem[i].crc,
			u->mem[i].path);
	fprintf(f, "end\n");
	for (i = 0; i < u->nr_mem; i++)
		if (fwrite(u->mem[i].area, 1, u->mem[i].area_bytes, f) !=
		    u->mem[i].area_bytes)
			break;
	if (fflush(f) || ferror(f) || fsync(fileno(f)))
		r = -errno ?: -EIO;
	if (fclose(f) && !r)
		r = -errno;
	if (!r && link(tmp, u->backup))
		r = -errno;
	unlink(tmp);
	if (!r)
		r = spu_fsync_dir_of(u->backup);
	if (!r)
		return 0;
fail:
	snprintf(u->why, sizeof(u->why),
		 "cannot write the backup file %s: %s; nothing was written to the members (%s)",
		 u->backup, strerror(-r),
		 r == -EEXIST ? exists : "give a writable place with --backup FILE");
	return r;
}

/* Reads the backup @path into @u (members, areas); 0 or -errno + why. */
static int read_backup(struct upg *u, const char *path)
{
	char line[PATH_MAX + 256], name[SPT_NAME_MAX + 1], uuid[SPT_UUID_STR_LEN];
	unsigned long long a, b;
	unsigned int crc;
	size_t i, idx;
	int n, r = -EINVAL;
	FILE *f = fopen(path, "re");

	if (!f) {
		r = -errno;
		snprintf(u->why, sizeof(u->why), "cannot read the backup %s: %s",
			 path, strerror(-r));
		return r;
	}
	if (!fgets(line, sizeof(line), f) ||
	    strncmp(line, BACKUP_MAGIC "\n", sizeof(BACKUP_MAGIC)))
		goto bad;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "pool %36s %32s", u->f2.uuid, u->f2.name) != 2)
		goto bad;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "slice_sectors %llu", &a) != 1)
		goto bad;
	u->f2.slice_sectors = a;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "settings %u %u %u", &u->w_space, &u->w_load,
		   &u->min_domains) != 3 || u->w_space > 100 || u->w_load > 100 ||
	    !u->min_domains || u->min_domains > SPT_MAX_MEMBERS)
		goto bad;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "v3 1 %llx", &a) != 1)
		goto bad;
	u->hash = a;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "members %zu", &u->nr_mem) != 1 || !u->nr_mem ||
	    u->nr_mem > 65536)
		goto bad;
	u->mem = spt_zalloc(u->nr_mem * sizeof(*u->mem));
	for (i = 0; i < u->nr_mem; i++) {
		struct upg_member *m = &u->mem[i];

		if (!fgets(line, sizeof(line), f) ||
		    sscanf(line, "member %zu %32s %36s %llu %llu %x %n", &idx,
			   name, uuid, &a, &b, &crc, &n) != 6 || idx != i ||
		    !b || b % MD3_BLOCK_SIZE || b > a || b > (64ULL << 30))
			goto bad;
		line[strcspn(line, "\n")] = 0;
		m->path = spt_strdup(line + n);
		snprintf(m->name, sizeof(m->name), "%s", name);
		snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
		m->dev_bytes = a;
		m->area_bytes = b;
		m->crc = crc;
	}
	if (!fgets(line, sizeof(line), f) || strcmp(line, "end\n"))
		goto bad;
	for (i = 0; i < u->nr_mem; i++) {
		struct upg_member *m = &u->mem[i];

		m->area = spt_zalloc(m->area_bytes);
		if (fread(m->area, 1, m->area_bytes, f) != m->area_bytes ||
		    md3_crc32c(~0U, m->area, m->area_bytes) != m->crc)
			goto bad;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	snprintf(u->why, sizeof(u->why),
		 "%s is not a complete slicepool upgrade backup (a damaged or truncated file, or another file)",
		 path);
	return r;
}

/* Decodes the backup's format-2 areas with sb.c, through a memfd each. */
static int decode_backup(struct upg *u)
{
	struct spt_disk_member *ms = spt_zalloc(u->nr_mem * sizeof(*ms));
	char path[64];
	size_t i;
	int fd, r = 0;

	for (i = 0; i < u->nr_mem && !r; i++) {
		struct upg_member *m = &u->mem[i];

		fd = memfd_create("slicepool-backup", MFD_CLOEXEC);
		if (fd < 0 || write(fd, m->area, m->area_bytes) !=
		    (ssize_t)m->area_bytes) {
			r = -errno ?: -EIO;
			snprintf(u->why, sizeof(u->why), "memfd: %s", strerror(-r));
		} else {
			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			r = spt_md_read_dev(path, &ms[i], u->why, sizeof(u->why));
			snprintf(ms[i].device, sizeof(ms[i].device), "%.255s",
				 m->dev ? m->dev->path : m->path);
		}
		if (fd >= 0)
			close(fd);
	}
	r = build_f2(u, ms, u->nr_mem, r);
	for (i = 0; !r && i < u->nr_mem; i++)
		if (strcmp(u->f2.members[i].sb.member_name, u->mem[i].name)) {
			snprintf(u->why, sizeof(u->why),
				 "the backup's members are not in member order: not a backup this tool wrote");
			r = -EINVAL;
		}
	return r;
}

/*
 * Whether block @b (@x) of a member is one the member held at some point
 * of the upgrade: the backup's @y, the upgrade's @w (NULL: not written),
 * zeros (blocks 0 and 1: the label slots' zeroing), phase A's mark (block
 * 0); or a block torn between them, each 512-byte sector one of those.
 */
static bool block_ok(u64 b, const u8 *x, const u8 *y, const u8 *w)
{
	static const u8 zero[MD3_BLOCK_SIZE];
	u8 mark[MD3_BLOCK_SIZE];
	unsigned int o;

	upg_mark(mark);
	for (o = 0; o < MD3_BLOCK_SIZE; o += 512)
		if (memcmp(x + o, y + o, 512) &&
		    (!w || memcmp(x + o, w + o, 512)) &&
		    (b >= MD3_JOURNAL_START || memcmp(x + o, zero + o, 512)) &&
		    (b || memcmp(x + o, mark + o, 512)))
			return false;
	return true;
}

/*
 * What device @d holds relative to backup member @m: "format-2" (the
 * backup's area, unchanged), "format-3" (the upgrade's v3 state, seq 1,
 * complete), "partial" (each block the backup's, one the upgrade writes,
 * or torn between them), or NULL: another device, or a v3 pool that has
 * moved on (*@seq > 1).  The rehearsal must have filled @m->ov.
 */
static const char *match(struct upg *u, struct upg_member *m,
			 struct spt_md3dev *d, u64 *seq)
{
	u8 uu[MD3_UUID_LEN], pu[MD3_UUID_LEN], *area;
	const char *res = NULL;
	struct md3_chain c;
	u64 b, nb = m->area_bytes / MD3_BLOCK_SIZE;

	*seq = 0;
	if ((d->md.dev_sectors << 9) != m->dev_bytes)
		return NULL;
	area = spt_zalloc(m->area_bytes);
	if (spt_md3dev_pread(d, 0, area, m->area_bytes))
		goto out;
	if (!memcmp(area, m->area, m->area_bytes)) {
		res = "format-2";
		goto out;
	}
	spu_uuid_parse(m->uuid, uu);
	spu_uuid_parse(u->f2.uuid, pu);
	if (!md3_read_member(&d->md, &c)) {
		if (c.kind == MD3_CHAIN_OK && c.nlinks &&
		    !memcmp(c.member_uuid, uu, MD3_UUID_LEN) &&
		    !memcmp(c.pool_uuid, pu, MD3_UUID_LEN)) {
			*seq = c.links[c.nlinks - 1].seq;
			if (*seq == 1 && c.links[c.nlinks - 1].hash == u->want)
				res = "format-3";
		}
		md3_chain_free(&c);
	}
	if (res || *seq > 1)
		goto out;
	for (b = 0; b < nb; b++)
		if (!block_ok(b, area + b * MD3_BLOCK_SIZE,
			      m->area + b * MD3_BLOCK_SIZE, ovl_find(&m->ov, b)))
			goto out;
	res = "partial";
out:
	free(area);
	return res;
}

/* Resume and restore: the device given for each backup member. */
static int match_all(struct upg *u)
{
	size_t i, j, k;
	const char *res;
	u64 seq;

	for (i = 0; i < u->nr_mem; i++) {
		struct upg_member *m = &u->mem[i];

		for (j = 0, k = 0; j < u->nr_devs; j++) {
			res = match(u, m, &u->devs[j], &seq);
			if (seq > 1) {
				snprintf(u->why, sizeof(u->why),
					 "member %s (%s) is in format 3 and the pool has committed transactions since the upgrade (seq %llu): the upgrade is complete and the backup is out of date; nothing to do",
					 m->name, u->devs[j].path,
					 (unsigned long long)seq);
				return -EEXIST;
			}
			if (!res)
				continue;
			k++;
			/* several candidates: the one at the recorded path */
			if (!m->dev || !strcmp(u->devs[j].path, m->path)) {
				m->dev = &u->devs[j];
				m->state = res;
			}
		}
		if (k > 1 && strcmp(m->dev->path, m->path)) {
			snprintf(u->why, sizeof(u->why),
				 "%zu of the devices given could be member %s (recorded as %s): give the devices at the paths the backup records",
				 k, m->name, m->path);
			return -EINVAL;
		}
		if (!m->dev) {
			snprintf(u->why, sizeof(u->why),
				 "member %s (recorded as %s, %llu bytes) was not given, or the device given for it holds other data: give every member of the backup",
				 m->name, m->path, (unsigned long long)m->dev_bytes);
			return -ENXIO;
		}
	}
	for (j = 0; j < u->nr_devs; j++) {
		for (i = 0; i < u->nr_mem && u->mem[i].dev != &u->devs[j]; i++)
			;
		if (i == u->nr_mem) {
			snprintf(u->why, sizeof(u->why),
				 "%s is no member of the backup's pool %s: leave it out",
				 u->devs[j].path, u->f2.name);
			return -EINVAL;
		}
		for (k = i + 1; k < u->nr_mem; k++)
			if (u->mem[k].dev == &u->devs[j]) {
				snprintf(u->why, sizeof(u->why),
					 "%s matches members %s and %s: give each member's device",
					 u->devs[j].path, u->mem[i].name,
					 u->mem[k].name);
				return -EINVAL;
			}
	}
	return 0;
}

/* ---- writing ---- */

static int flush_dev(struct upg *u, struct upg_member *m)
{
	int r = spt_md3dev_flush(m->dev);

	if (r)
		snprintf(u->why, sizeof(u->why), "%s: flush failed: %s",
			 m->path, strerror(-r));
	return r;
}

/* Phase A: format 2's superblock of every member replaced by the mark. */
static int phase_a(struct upg *u)
{
	u8 *mark = spt_zalloc(MD3_BLOCK_SIZE);
	size_t i;
	int r = 0;

	upg_mark(mark);
	u->written = true;
	for (i = 0; i < u->nr_mem && !r; i++) {
		r = spt_md3dev_pwrite(u->mem[i].dev, 0, mark, MD3_BLOCK_SIZE);
		if (r)
			snprintf(u->why, sizeof(u->why), "%s: write failed: %s",
				 u->mem[i].path, strerror(-r));
		else
			r = flush_dev(u, &u->mem[i]);
	}
	free(mark);
	return r;
}

/* Phase B: the v3 pool on the devices; then read back and compared. */
static int phase_b(struct upg *u)
{
	return create_v3_on(u, false);
}

/* --restore: each member's area back, block 0 last. */
static int write_back(struct upg *u)
{
	size_t i;
	int r = 0;

	u->written = true;
	for (i = 0; i < u->nr_mem && !r; i++) {
		struct upg_member *m = &u->mem[i];

		r = spt_md3dev_pwrite(m->dev, MD3_BLOCK_SIZE,
				      m->area + MD3_BLOCK_SIZE,
				      m->area_bytes - MD3_BLOCK_SIZE);
		if (!r)
			r = spt_md3dev_flush(m->dev);
		if (!r)
			r = spt_md3dev_pwrite(m->dev, 0, m->area, MD3_BLOCK_SIZE);
		if (!r)
			r = spt_md3dev_flush(m->dev);
		if (r)
			snprintf(u->why, sizeof(u->why),
				 "%s: writing the backup back failed: %s; run the same --restore again",
				 m->path, strerror(-r));
	}
	return r;
}

/* ---- output ---- */

static void report(struct upg *u, const char *action, const char *result)
{
	char hash[24];
	size_t i;

	if (spt_json) {
		js_begin(action, u->f2.name);
		js_str("uuid", u->f2.uuid);
		js_bool("dry_run", u->dry_run);
		js_str("backup", u->backup);
		js_str("result", result);
		snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)u->hash);
		js_str("v3_hash", hash);
		js_open_arr("members");
		for (i = 0; i < u->nr_mem; i++) {
			const struct upg_member *m = &u->mem[i];

			js_open_obj(NULL);
			js_u64("id", i);
			js_str("name", m->name);
			js_str("uuid", m->uuid);
			js_str("device", m->dev ? m->dev->path : m->path);
			js_str("found", m->state);
			if (u->f2.nr_members == u->nr_mem) {
				js_str("domain", u->f2.members[i].sb.domain);
				js_u64("slices", u->f2.members[i].sb.nr_slices);
				js_u64("data_offset", u->f2.members[i].sb.data_offset);
			}
			js_u64("journal_blocks", m->journal_blocks);
			js_close();
		}
		js_close();
		js_open_arr("volumes");
		for (i = 0; i < u->f2.nr_vols; i++) {
			js_open_obj(NULL);
			js_u64("id", i + 1);
			js_str("name", u->f2.vols[i].rec.name);
			js_u64("slices", u->f2.vols[i].rec.nr_slices);
			js_close();
		}
		js_close();
		js_end();
		return;
	}
	printf("%s pool %s (uuid %s), %zu member(s), %zu volume(s): %s\n",
	       action, u->f2.name, u->f2.uuid, u->nr_mem, u->f2.nr_vols, result);
	for (i = 0; i < u->nr_mem; i++) {
		const struct upg_member *m = &u->mem[i];

		printf("  member %zu %s on %s", i, m->name,
		       m->dev ? m->dev->path : m->path);
		if (u->f2.nr_members == u->nr_mem)
			printf(": domain %s, %llu slices, data at sector %llu",
			       u->f2.members[i].sb.domain,
			       (unsigned long long)u->f2.members[i].sb.nr_slices,
			       (unsigned long long)u->f2.members[i].sb.data_offset);
		if (m->journal_blocks)
			printf(", journal %llu blocks",
			       (unsigned long long)m->journal_blocks);
		if (m->state)
			printf(" (found %s)", m->state);
		putchar('\n');
	}
	for (i = 0; i < u->f2.nr_vols; i++)
		printf("  volume %zu %s: %llu slices, map kept\n", i + 1,
		       u->f2.vols[i].rec.name,
		       (unsigned long long)u->f2.vols[i].rec.nr_slices);
	printf("  backup: %s\n", u->backup);
}

/* ---- the command ---- */

static int open_devs(struct upg *u, int argc, char **argv, bool rw)
{
	size_t i;
	int r;

	u->nr_devs = (size_t)(argc - optind);
	u->devs = spt_zalloc(u->nr_devs * sizeof(*u->devs));
	for (i = 0; i < u->nr_devs; i++)
		u->devs[i].fd = -1;
	for (i = 0; i < u->nr_devs; i++) {
		r = spt_md3dev_open(&u->devs[i], argv[optind + i],
				    SPT_MD3DEV_EXCL | (rw ? SPT_MD3DEV_RW : 0),
				    u->why, sizeof(u->why));
		if (r)
			return r;
	}
	return 0;
}

static void free_upg(struct upg *u)
{
	size_t i;

	for (i = 0; i < u->nr_devs; i++)
		spt_md3dev_close(&u->devs[i]);
	for (i = 0; i < u->nr_mem; i++) {
		free(u->mem[i].area);
		ovl_free(&u->mem[i].ov);
	}
	free(u->devs);
	free(u->mem);
	spt_fmt2_free(&u->f2);
}

static int do_upgrade(struct upg *u)
{
	int r = read_given(u);

	if (!r)
		r = check_pool(u);
	if (!r && !u->no_scan)
		r = scan_others(u);
	if (!r)
		r = setup_members(u);
	if (!r && !u->backup) {
		snprintf(u->backup_buf, sizeof(u->backup_buf),
			 "slicepool-upgrade-%s-%s.backup", u->f2.name, u->f2.uuid);
		u->backup = u->backup_buf;
	}
	if (!r)
		r = rehearse(u);
	if (!r && !u->dry_run && !access(u->backup, F_OK)) {
		snprintf(u->why, sizeof(u->why),
			 "the backup file %s exists: it may be the backup of an interrupted upgrade (run --resume --backup %s), or name another file with --backup",
			 u->backup, u->backup);
		r = -EEXIST;
	}
	if (r || u->dry_run)
		return r;
	r = write_backup(u);
	if (!r)
		r = phase_a(u);
	if (!r)
		r = phase_b(u);
	return r;
}

/*
 * --resume and --restore: the backup decoded and rehearsed (so that each
 * member's overlay holds what the upgrade writes), then the devices
 * matched to its members.
 */
static int do_resume(struct upg *u, bool restoring)
{
	int r = read_backup(u, u->backup);

	u->want = u->hash;
	if (!r)
		r = decode_backup(u);
	if (!r)
		r = rehearse(u);
	if (!r && u->hash != u->want)
		spt_warn("the v3 state differs from the one the backup records (%016llx, not %016llx): another version of the tool? every member is written again with it",
			 (unsigned long long)u->hash, (unsigned long long)u->want);
	if (!r)
		r = match_all(u);
	if (r || u->dry_run)
		return r;
	if (restoring)
		return write_back(u);
	if (!r)
		r = phase_a(u);
	if (!r)
		r = phase_b(u);
	return r;
}

int cmd_upgrade(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backup", required_argument, NULL, 'b' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "resume", no_argument, NULL, 'r' },
		{ "restore", required_argument, NULL, 'R' },
		{ "no-scan", no_argument, NULL, 'S' },
		{ "weight-space", required_argument, NULL, 's' },
		{ "weight-load", required_argument, NULL, 'l' },
		{ "min-domains", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	struct upg u = { .w_space = 50, .w_load = 50, .min_domains = 2 };
	const char *restore_file = NULL, *action, *env;
	int c, r;

	while ((c = spt_getopt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case 'b':
			u.backup = optarg;
			break;
		case 'n':
			u.dry_run = true;
			break;
		case 'r':
			u.resume = true;
			break;
		case 'R':
			restore_file = optarg;
			break;
		case 'S':
			u.no_scan = true;
			break;
		case 's':
			u.w_space = spt_opt_ulong(cmd, "--weight-space", optarg, 0, 100);
			break;
		case 'l':
			u.w_load = spt_opt_ulong(cmd, "--weight-load", optarg, 0, 100);
			break;
		case 'm':
			u.min_domains = spt_opt_ulong(cmd, "--min-domains", optarg, 1,
						      SPT_MAX_MEMBERS);
			break;
		}
	}
	if (optind >= argc)
		spt_usage_fail(cmd, "missing argument: give every member of the pool");
	if (u.resume && restore_file)
		spt_usage_fail(cmd, "--resume and --restore cannot be given together");
	if (u.resume && !u.backup)
		spt_usage_fail(cmd,
			       "--resume needs --backup FILE, the backup the interrupted upgrade wrote");
	if (restore_file && u.backup)
		spt_usage_fail(cmd,
			       "--restore FILE names the backup: --backup is not used with it");
	env = getenv(STOP_ENV);
	if (env)
		spt_md3dev_stop_after(strtoull(env, NULL, 10));
	if (restore_file)
		u.backup = restore_file;
	action = restore_file ? "restore" : u.resume ? "resume" : "upgrade";
	r = open_devs(&u, argc, argv, !u.dry_run);
	if (!r)
		r = restore_file || u.resume ? do_resume(&u, restore_file) :
		    do_upgrade(&u);
	if (r && u.written && !restore_file) {
		spt_err("%s failed: %s", action, u.why);
		spt_err("the members are partly written; the backup %s holds their format-2 metadata: once the devices work, finish with 'slicepool upgrade --resume --backup %s DEVICE...' or go back with 'slicepool upgrade --restore %s DEVICE...'",
			u.backup, u.backup, u.backup);
		free_upg(&u);
		return SPT_EXIT_FAIL;
	}
	if (r) {
		spt_err("%s %s: %s", action, u.written ? "failed" : "refused",
			u.why);
		free_upg(&u);
		return SPT_EXIT_FAIL;
	}
	report(&u, action, u.dry_run ? "planned (nothing written)" :
	       restore_file ? "restored to format 2" :
	       "upgraded to format 3");
	free_upg(&u);
	return SPT_EXIT_OK;
}
