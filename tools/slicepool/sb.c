// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - reading and checking member metadata in user space
 *
 * The layout is dm-slicepool/sp-format.h: a superblock in block 0, the
 * volume record table in blocks 1..SP_VOL_BLOCKS, then owner_blocks
 * blocks of owner records. Every block carries a header whose crc covers
 * bytes 4..4095 with crc32c(0xffffffff, ...), no final inversion, and
 * whose blocknr is the block's own number. A block that fails any check
 * makes the whole member refused, as the kernel refuses it.
 */
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slicepool.h"
#include "sp-format.h"

static_assert(sizeof(struct sp_superblock) <= SP_BLOCK_SIZE);
static_assert(sizeof(struct sp_vol_record) == SP_VOL_RECORD_SIZE);
static_assert(sizeof(struct sp_vol_block) <= SP_BLOCK_SIZE);
static_assert(sizeof(struct sp_owner_record) == SP_OWNER_RECORD_SIZE);
static_assert(sizeof(struct sp_owner_block) <= SP_BLOCK_SIZE);

static bool mem_is_zero(const void *p, size_t len)
{
	const u8 *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

struct md_reader {
	int fd;
	bool direct;
	const char *path;
	u8 *buf;		/* SP_BLOCK_SIZE, aligned for O_DIRECT */
};

static int md_open(struct md_reader *r, const char *path)
{
	r->path = path;
	r->direct = true;
	r->fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (r->fd < 0 && errno == EINVAL) {
		r->direct = false;
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (r->fd < 0)
		return -errno;
	if (posix_memalign((void **)&r->buf, SP_BLOCK_SIZE, SP_BLOCK_SIZE)) {
		close(r->fd);
		return -ENOMEM;
	}
	return 0;
}

/* Reads one block; returns 0, -ENODATA past the end, or -errno. */
static int md_read_block(struct md_reader *r, u64 blocknr)
{
	ssize_t n;

	for (;;) {
		n = pread(r->fd, r->buf, SP_BLOCK_SIZE,
			  (off_t)(blocknr * SP_BLOCK_SIZE));
		if (n < 0 && errno == EINVAL && r->direct) {
			/* Files on some file systems refuse O_DIRECT reads. */
			close(r->fd);
			r->direct = false;
			r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
			if (r->fd < 0)
				return -errno;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n < 0)
		return -errno;
	if (n != SP_BLOCK_SIZE)
		return -ENODATA;
	return 0;
}

static void md_close(struct md_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
}

/*
 * Reads block @bnr of the table @what into r->buf and checks it (magic
 * @magic).  Returns 0 for a valid block, 1 for one that is all zero (never
 * written: no records), or -EINVAL with @why set.
 */
static int md_read_table_block(struct md_reader *r, u64 bnr, u32 magic,
			       const char *what, char *why, size_t whylen)
{
	int ret = md_read_block(r, bnr);

	if (ret) {
		snprintf(why, whylen, "%s block %llu: %s", what,
			 (unsigned long long)bnr,
			 ret == -ENODATA ? "short read" : strerror(-ret));
		return -EINVAL;
	}
	if (mem_is_zero(r->buf, SP_BLOCK_SIZE))
		return 1;
	return spu_fmt2_check_block(r->buf, magic, bnr, what, why, whylen);
}

/* Takes record @idx of a table, in block @bnr: 0 or -EINVAL. */
typedef int md_record_fn(struct spt_disk_member *m, const void *rec,
			 u64 bnr, u64 idx, char *why, size_t whylen);

/*
 * Reads the table @what: @nblocks blocks of magic @magic from block
 * @start, each holding as many records of @rec_size bytes as fit after
 * its header, and hands each record to @record; a block that is all zero
 * was never written and has no records.  Stops at the first error.
 */
static int read_table(struct md_reader *r, const char *what, u32 magic,
		      u64 start, u64 nblocks, size_t rec_size,
		      md_record_fn *record, struct spt_disk_member *m,
		      char *why, size_t whylen)
{
	size_t hdr = sizeof(struct sp_block_header);
	unsigned int j, per_block = (SP_BLOCK_SIZE - hdr) / rec_size;
	u64 i;
	int ret;

	for (i = 0; i < nblocks; i++) {
		u64 bnr = start + i;

		ret = md_read_table_block(r, bnr, magic, what, why, whylen);
		if (ret < 0)
			return ret;
		if (ret)
			continue;
		for (j = 0; j < per_block; j++) {
			ret = record(m, r->buf + hdr + j * rec_size, bnr,
				     i * per_block + j, why, whylen);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int vol_record(struct spt_disk_member *m, const void *r, u64 bnr,
		      u64 idx, char *why, size_t whylen)
{
	const struct sp_vol_record *rec = r;
	unsigned int j = idx % SP_VOLS_PER_BLOCK;
	u32 state = le32toh(rec->state);
	struct spt_disk_vol *dv;

	if (state == SP_VOL_FREE)
		return 0;
	m->vols = spt_realloc_array(m->vols, m->nr_vols + 1, sizeof(*m->vols));
	dv = &m->vols[m->nr_vols++];
	memset(dv, 0, sizeof(*dv));
	spu_uuid_format(rec->uuid, dv->uuid);
	if (!spu_fmt2_copy_name(dv->name, rec->name, true)) {
		snprintf(why, whylen,
			 "volume table block %llu, record %u: bad volume name",
			 (unsigned long long)bnr, j);
		return -EINVAL;
	}
	dv->size = le64toh(rec->size_bytes);
	dv->nr_slices = le64toh(rec->nr_slices);
	dv->generation = le64toh(rec->generation);
	dv->started = le64toh(rec->started);
	dv->state = state;
	if (sp_fences_decode(rec, &dv->fences)) {
		snprintf(why, whylen,
			 "volume table block %llu, record %u: invalid fences",
			 (unsigned long long)bnr, j);
		return -EINVAL;
	}
	return 0;
}

/* Record @p of the owner table is the owner of physical slice @p. */
static int owner_record(struct spt_disk_member *m, const void *r, u64 bnr,
			u64 p, char *why, size_t whylen)
{
	const struct sp_owner_record *o = r;
	struct spt_disk_owner *d;

	(void)bnr;
	(void)why;
	(void)whylen;
	if (p >= m->sb.nr_slices || mem_is_zero(o->vol_uuid, SP_UUID_LEN))
		return 0;
	m->owners = spt_realloc_array(m->owners, m->nr_owners + 1,
				      sizeof(*m->owners));
	d = &m->owners[m->nr_owners++];
	spu_uuid_format(o->vol_uuid, d->vol_uuid);
	d->physical = p;
	d->logical = le64toh(o->logical);
	d->generation = le64toh(o->generation);
	return 0;
}

/* read_table()'s layout of a block is the format's. */
static_assert(offsetof(struct sp_vol_block, rec) ==
	      sizeof(struct sp_block_header) &&
	      SP_VOLS_PER_BLOCK == (SP_BLOCK_SIZE - sizeof(struct sp_block_header)) /
	      sizeof(struct sp_vol_record), "sp_vol_block");
static_assert(offsetof(struct sp_owner_block, rec) ==
	      sizeof(struct sp_block_header) &&
	      SP_OWNERS_PER_BLOCK == (SP_BLOCK_SIZE - sizeof(struct sp_block_header)) /
	      sizeof(struct sp_owner_record), "sp_owner_block");

/*
 * Reads and checks all metadata of the device at @path. Returns 0,
 * -ENODATA (not a slicepool member), -EINVAL (refused, @why says why) or
 * another negative errno when the device cannot be read.
 */
int spt_md_read_dev(const char *path, struct spt_disk_member *m,
		    char *why, size_t whylen)
{
	struct md_reader r = { .fd = -1 };
	int ret;

	memset(m, 0, sizeof(*m));
	snprintf(m->device, sizeof(m->device), "%s", path);
	why[0] = '\0';
	ret = md_open(&r, path);
	if (ret)
		return ret;
	ret = md_read_block(&r, SP_SB_BLOCK);
	if (!ret)
		ret = spu_fmt2_sb_parse(r.buf, SP_BLOCK_SIZE, &m->sb, why, whylen);
	if (!ret)
		ret = read_table(&r, "volume table", SP_VOL_MAGIC,
				 SP_VOL_TABLE_START, SP_VOL_BLOCKS,
				 sizeof(struct sp_vol_record), vol_record, m,
				 why, whylen);
	if (!ret)
		ret = read_table(&r, "owner table", SP_OWNER_MAGIC,
				 SP_OWNER_TABLE_START, m->sb.owner_blocks,
				 sizeof(struct sp_owner_record), owner_record, m,
				 why, whylen);
	md_close(&r);
	if (ret)
		spt_disk_member_free(m);
	return ret;
}

void spt_disk_member_free(struct spt_disk_member *m)
{
	free(m->vols);
	free(m->owners);
	m->vols = NULL;
	m->owners = NULL;
	m->nr_vols = 0;
	m->nr_owners = 0;
}
