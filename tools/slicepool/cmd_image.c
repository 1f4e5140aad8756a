// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - images and their clones (Documentation/dm-slicepool-images.rst)
 *
 * An image is a volume of a format-3 pool whose "image" attribute is 1:
 * the module refuses a read-write table of it, a size change and a
 * migration, for good.  Its dm device "<pool>-<image>" is loaded
 * read-only.  Clones are stock dm-thin: one thin-pool per pool, the dm
 * device "<pool>-thinpool" over two volumes of the pool, "thinmeta" and
 * "thindata", and per clone a thin device "<pool>-<clone>" whose external
 * origin is the image's dm device.  A clone reads the image until it
 * writes a block; its writes stay in the thin-pool.
 *
 * Each clone is recorded in the pool's metadata (md3 CLONE record: name,
 * image, thin id, length), through the image volume's configfs attributes
 * clone_add and clone_remove; clone_list reads the records back and
 * "clones" is the image's reference count.  'image list' shows them, and
 * 'slicepool assemble' re-creates the thin-pool and every recorded clone
 * after a reboot (spt_image_assemble()).
 *
 * Crash order: a clone is recorded before dm-thin gets its thin device,
 * and its thin device is deleted before its record is removed.  So a
 * thin device always has a record (the pool never holds a clone nobody
 * can name), and a crash leaves at worst a record whose thin device does
 * not exist yet or any more: 'image remove-clone' removes such a record
 * (dm-thin's ENODATA for the delete is taken as done), and assemble says
 * so.  selftests/crashsim (clone_crash_order) checks every crash point.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libdevmapper.h>

#include "slicepool.h"
#include "assemble.h"

#define IMG_META		"thinmeta"	/* volume: the thin-pool's metadata */
#define IMG_DATA		"thindata"	/* volume: the thin-pool's data */
#define IMG_POOL		"thinpool"	/* dm device <pool>-thinpool */
#define IMG_BLOCK_SECTORS	128		/* thin-pool data block: 64 KiB */
#define IMG_DEF_META		(16ULL << 20)
#define IMG_DEF_DATA		(1024ULL << 20)
#define IMG_MIN_META		(2ULL << 20)
#define IMG_MAX_THIN_ID		((1U << 24) - 1)	/* dm-thin's limit */
#define IMG_DM_NAME		(2 * SPT_NAME_MAX + 2)
#define IMG_DM_MAX		128		/* DM_NAME_LEN */

/* A thin device of the pool's thin-pool, found in the dm tables. */
struct img_thin {
	char name[IMG_DM_MAX];		/* its dm name */
	u32 id;				/* thin device id in the thin-pool */
	u32 origin_major, origin_minor;	/* external origin, 0:0 for none */
	u64 sectors;
};

static void img_dm_failed(const char *what, const char *name)
{
	spt_err("cannot %s dm device '%s': %s (see dmesg)", what, name,
		spu_dm_last_error());
}

/* The table parameters of a volume's dm device (dm.c's form). */
static void img_vol_params(char *buf, size_t len, const char *pool,
			   const char *vol)
{
	snprintf(buf, len, "%s %s", pool, vol);
}

/*
 * Whether @pool/@vol is an image: 1, 0, or a negative errno with a
 * message (an error reading it, or a module without images).
 */
static int img_is_image(const char *pool, const char *vol)
{
	s64 v;
	int ret = cfs_read_s64(&v, "%s/volumes/%s/image", pool, vol);

	if (ret == -ENOENT) {
		spt_err("volume '%s/%s' has no 'image' attribute: the loaded dm-slicepool module has no images (load this version's module)",
			pool, vol);
		return ret;
	}
	if (ret) {
		spt_err("cannot read '%s/%s' image: %s", pool, vol,
			strerror(-ret));
		return ret;
	}
	return v == 1;
}

/*
 * 0 if @pool/@image exists and is an image, else SPT_EXIT_FAIL with a
 * message: the check of every command that takes an image.
 */
static int img_require(const char *pool, const char *image)
{
	int ret;

	if (spt_item_require(pool, "volume", image))
		return SPT_EXIT_FAIL;
	ret = img_is_image(pool, image);
	if (ret < 0)
		return SPT_EXIT_FAIL;
	if (!ret) {
		spt_err("volume '%s/%s' is not an image (make it one with 'slicepool image create %s %s')",
			pool, image, pool, image);
		return SPT_EXIT_FAIL;
	}
	return 0;
}

/* dm info of @name, with a message when device-mapper cannot say. */
static int img_dm_info(const char *name, struct spu_dm_info *info)
{
	if (!spu_dm_info(name, info))
		return 0;
	spt_err("cannot talk to device-mapper: %s (is dm-mod loaded and are you root?)",
		spu_dm_last_error());
	return -EIO;
}

/* A clone recorded in the pool's metadata (an image's clone_list line) */
struct img_rec {
	char name[SPT_NAME_MAX + 1];
	char image[SPT_NAME_MAX + 1];
	u32 id;
	u64 sectors;
};

/*
 * Every clone the pool records, image by image (free *@out).  Returns 0,
 * or a negative errno with a message.
 */
static int img_records(const char *pool, struct img_rec **out, size_t *n)
{
	struct img_rec *r = NULL;
	char **vols = NULL, *text, *line, *save;
	size_t nv = 0, cnt = 0, i;
	int ret;

	*out = NULL;
	*n = 0;
	ret = cfs_list(&vols, &nv, "%s/volumes", pool);
	for (i = 0; !ret && i < nv; i++) {
		text = NULL;
		ret = cfs_read(&text, "%s/volumes/%s/clone_list", pool, vols[i]);
		if (ret == -ENOENT) {
			spt_err("volume '%s/%s' has no 'clone_list' attribute: the loaded dm-slicepool module does not record clones (load this version's module)",
				pool, vols[i]);
			break;
		}
		for (line = strtok_r(ret ? NULL : text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			unsigned long long sec;
			unsigned int id;
			char name[SPT_NAME_MAX + 1];

			if (sscanf(line, "%32s %u %llu", name, &id, &sec) != 3) {
				spt_err("volume '%s/%s': unreadable clone_list line '%s'",
					pool, vols[i], line);
				ret = -EINVAL;
				break;
			}
			r = spt_realloc_array(r, cnt + 1, sizeof(*r));
			snprintf(r[cnt].name, sizeof(r[cnt].name), "%s", name);
			snprintf(r[cnt].image, sizeof(r[cnt].image), "%s",
				 vols[i]);
			r[cnt].id = id;
			r[cnt].sectors = sec;
			cnt++;
		}
		free(text);
	}
	if (ret && ret != -ENOENT && ret != -EINVAL)
		spt_err("cannot read the clones of pool '%s': %s", pool,
			strerror(-ret));
	cfs_free_list(vols, nv);
	if (ret) {
		free(r);
		return ret;
	}
	*out = r;
	*n = cnt;
	return 0;
}

/* The record of clone @name among @r[0..@n), or NULL */
static const struct img_rec *img_rec_find(const struct img_rec *r, size_t n,
					  const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(r[i].name, name))
			return &r[i];
	return NULL;
}

/* Records clone @name (thin @id, @sectors) of @image in the pool. */
static int img_register(const char *pool, const char *image,
			const char *name, u64 id, u64 sectors)
{
	char val[SPT_NAME_MAX + 48];
	int ret;

	snprintf(val, sizeof(val), "%s %llu %llu", name,
		 (unsigned long long)id, (unsigned long long)sectors);
	ret = cfs_write(val, "%s/volumes/%s/clone_add", pool, image);
	if (ret && ret != -EEXIST)
		spt_err("cannot record clone '%s' of '%s/%s': %s (see dmesg)",
			name, pool, image, strerror(-ret));
	return ret;
}

/* Removes the record of clone @name of @image. */
static int img_unregister(const char *pool, const char *image,
			  const char *name)
{
	int ret = cfs_write(name, "%s/volumes/%s/clone_remove", pool, image);

	if (ret)
		spt_err("cannot remove the record of clone '%s' of '%s/%s': %s (see dmesg)",
			name, pool, image, strerror(-ret));
	return ret;
}

/*
 * Every thin device on the thin-pool @pmajor:@pminor, sorted by dm name
 * (free *@out).  Returns 0 or -EIO.
 */
static int img_list_thins(u32 pmajor, u32 pminor, struct img_thin **out,
			  size_t *n)
{
	struct img_thin *t = NULL;
	struct dm_names *names;
	struct dm_task *dmt;
	unsigned int next = 0;
	size_t cnt = 0;
	int ret = 0;

	*out = NULL;
	*n = 0;
	dmt = dm_task_create(DM_DEVICE_LIST);
	if (!dmt || !dm_task_run(dmt)) {
		if (dmt)
			dm_task_destroy(dmt);
		return -EIO;
	}
	names = dm_task_get_names(dmt);
	for (; names && names->dev; names = (void *)((char *)names + next)) {
		struct spu_dm_info info;
		u32 a, b, id, c = 0, d = 0;
		int k;

		next = names->next;
		if (spu_dm_info(names->name, &info) || !info.live_table ||
		    strcmp(info.target, "thin"))
			goto skip;
		k = sscanf(info.params, "%u:%u %u %u:%u", &a, &b, &id, &c, &d);
		if (k < 3 || a != pmajor || b != pminor)
			goto skip;
		t = spt_realloc_array(t, cnt + 1, sizeof(*t));
		memset(&t[cnt], 0, sizeof(t[cnt]));
		snprintf(t[cnt].name, sizeof(t[cnt].name), "%s", names->name);
		t[cnt].id = id;
		if (k == 5) {
			t[cnt].origin_major = c;
			t[cnt].origin_minor = d;
		}
		t[cnt].sectors = info.length;
		cnt++;
skip:
		if (!next)
			break;
	}
	dm_task_destroy(dmt);
	*out = t;
	*n = cnt;
	return ret;
}

/* The thin-pool's dm info (@info->exists false when there is none). */
static int img_pool_info(const char *pool, struct spu_dm_info *info)
{
	char name[IMG_DM_NAME];
	int ret;

	spt_dm_name(pool, IMG_POOL, name, sizeof(name));
	ret = img_dm_info(name, info);
	if (!ret && info->exists && info->live_table &&
	    strcmp(info->target, "thin-pool")) {
		spt_err("dm device '%s' is a '%s' device, not the pool's thin-pool: rename or remove it",
			name, info->target);
		return -EEXIST;
	}
	if (!ret && info->exists && !info->live_table) {
		spt_err("dm device '%s' has no table: remove it (dmsetup remove %s)",
			name, name);
		return -EEXIST;
	}
	return ret;
}

/* Writes zeros over the first 4 KiB of @path (a new thin-pool metadata). */
static int img_zero_head(const char *path)
{
	void *buf;
	int fd, ret = 0;

	if (posix_memalign(&buf, 4096, 4096))
		return -ENOMEM;
	memset(buf, 0, 4096);
	fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, buf, 4096, 0) != 4096 || fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	if (ret)
		spt_err("cannot clear the head of %s: %s", path, strerror(-ret));
	return ret;
}

/*
 * The pool's thin-pool: its dm device if it exists, else made over the
 * volumes thinmeta and thindata (created with @meta and @data bytes when
 * neither exists; the metadata's head cleared, so that dm-thin formats
 * it).  @info gets the thin-pool's dm info.  Prints its own errors.
 */
static int img_thin_pool(const char *pool, u64 meta, u64 data,
			 struct spu_dm_info *info)
{
	char name[IMG_DM_NAME], mdev[IMG_DM_NAME], ddev[IMG_DM_NAME];
	char params[128], path[IMG_DM_NAME + 16];
	struct spu_dm_info mi, di;
	bool has_meta, has_data, made = false, had;
	u64 sectors;
	int ret;

	ret = img_pool_info(pool, info);
	if (ret || info->exists)
		return ret;
	has_meta = cfs_exists("%s/volumes/%s", pool, IMG_META);
	has_data = cfs_exists("%s/volumes/%s", pool, IMG_DATA);
	if (has_meta != has_data) {
		spt_err("pool '%s' has volume '%s' but not '%s': remove it ('slicepool vol remove %s/%s') to start a new thin-pool",
			pool, has_meta ? IMG_META : IMG_DATA,
			has_meta ? IMG_DATA : IMG_META, pool,
			has_meta ? IMG_META : IMG_DATA);
		return -ENOENT;
	}
	spt_dm_name(pool, IMG_META, mdev, sizeof(mdev));
	spt_dm_name(pool, IMG_DATA, ddev, sizeof(ddev));
	if (!has_meta) {
		ret = spt_vol_make(pool, IMG_META, meta);
		if (!ret) {
			ret = spt_vol_make(pool, IMG_DATA, data);
			if (ret)
				spt_vol_teardown(pool, IMG_META, false, &had);
		}
		if (ret)
			return ret;
		made = true;
		snprintf(path, sizeof(path), "/dev/mapper/%s", mdev);
		ret = img_zero_head(path);
		if (ret)
			goto undo;
	}
	ret = img_dm_info(mdev, &mi);
	if (!ret)
		ret = img_dm_info(ddev, &di);
	if (ret)
		goto undo;
	if (!mi.exists || !di.exists) {
		spt_err("the thin-pool's volumes of pool '%s' have no dm device ('slicepool assemble' makes them)",
			pool);
		ret = -ENODEV;
		goto undo;
	}
	sectors = di.length / IMG_BLOCK_SECTORS * IMG_BLOCK_SECTORS;
	if (!sectors) {
		spt_err("volume '%s/%s' is smaller than one thin-pool block (64 KiB)",
			pool, IMG_DATA);
		ret = -EINVAL;
		goto undo;
	}
	snprintf(params, sizeof(params), "%u:%u %u:%u %u 0", mi.major,
		 mi.minor, di.major, di.minor, IMG_BLOCK_SECTORS);
	spt_dm_name(pool, IMG_POOL, name, sizeof(name));
	ret = spt_dm_load(name, NULL, true, false, sectors, "thin-pool",
			  params);
	if (ret) {
		img_dm_failed("create the thin-pool", name);
		spt_err("(is dm-thin available? modprobe dm_thin_pool)");
		goto undo;
	}
	if (made)
		spt_info("created thin-pool %s over volumes %s/%s and %s/%s",
			 name, pool, IMG_META, pool, IMG_DATA);
	return img_dm_info(name, info);

undo:
	if (made) {
		spt_vol_teardown(pool, IMG_DATA, false, &had);
		spt_vol_teardown(pool, IMG_META, false, &had);
	}
	return ret;
}

/* Parses a size option: a multiple of 512 bytes, not 0; exits 2 if bad. */
static u64 img_size_opt(const struct spt_cmd *cmd, const char *opt,
			const char *arg)
{
	u64 v;
	int ret = spu_parse_size(arg, SPU_SIZE_MAX, &v);

	if (ret)
		spt_usage_fail(cmd, "--%s: '%s' %s", opt, arg,
			       spu_size_why(ret));
	if (!v || v % 512)
		spt_usage_fail(cmd, "--%s: '%s' is not a positive multiple of 512 bytes",
			       opt, arg);
	return v;
}

/* The arguments <pool> <@what> of a command without options (exit 2 if bad) */
static void img_args(const struct spt_cmd *cmd, int argc, char **argv,
		     const char *what, const char **pool, const char **name)
{
	spt_getopt_one(cmd, argc, argv, NULL, no_argument);
	spt_want_args(cmd, argc, argv, 2);
	*pool = argv[optind];
	*name = argv[optind + 1];
	spt_check_name(cmd, "pool", *pool);
	spt_check_name(cmd, what, *name);
}

/*
 * Makes @pool/@vol (@size bytes; its dm device @dm_name exists if @has_dm)
 * an image: its table first reloaded read-only (the module refuses the
 * flag while a read-write table is loaded), then "image" 1, the table
 * read-write again if the module refuses.  Without a dm device, the flag
 * first: spt_dm_create() then loads an image's table read-only.  0 or
 * SPT_EXIT_FAIL with a message.
 */
static int img_make_image(const char *pool, const char *vol,
			  const char *dm_name, s64 size, bool has_dm)
{
	char params[2 * SPT_NAME_MAX + 8];
	char *uuid = NULL;
	int ret;

	img_vol_params(params, sizeof(params), pool, vol);
	if (has_dm && spt_dm_load(dm_name, NULL, false, true, (u64)size / 512,
				  SPT_TARGET_NAME, params)) {
		img_dm_failed("reload read-only", dm_name);
		return SPT_EXIT_FAIL;
	}
	ret = cfs_write("1", "%s/volumes/%s/image", pool, vol);
	if (ret) {
		spt_err("cannot make '%s/%s' an image: %s (see dmesg)", pool,
			vol, strerror(-ret));
		if (has_dm &&
		    spt_dm_load(dm_name, NULL, false, false, (u64)size / 512,
				SPT_TARGET_NAME, params))
			img_dm_failed("reload read-write", dm_name);
		return SPT_EXIT_FAIL;
	}
	if (!has_dm) {
		if (!cfs_read(&uuid, "%s/volumes/%s/uuid", pool, vol))
			spt_strip(uuid);
		ret = spt_dm_create(dm_name, uuid, (u64)size / 512, pool, vol);
		free(uuid);
		if (ret) {
			img_dm_failed("create", dm_name);
			return SPT_EXIT_FAIL;
		}
	}
	return 0;
}

int cmd_image_create(const struct spt_cmd *cmd, int argc, char **argv)
{
	char dm_name[IMG_DM_NAME];
	const char *pool, *vol;
	struct spu_dm_info info;
	s64 size;
	int ret;

	img_args(cmd, argc, argv, "volume", &pool, &vol);
	if (spt_item_require(pool, "volume", vol))
		return SPT_EXIT_FAIL;
	ret = img_is_image(pool, vol);
	if (ret < 0)
		return SPT_EXIT_FAIL;
	spt_dm_name(pool, vol, dm_name, sizeof(dm_name));
	if (ret == 1) {
		spt_info("volume %s/%s is already an image", pool, vol);
		goto report;
	}
	ret = cfs_read_s64(&size, "%s/volumes/%s/size", pool, vol);
	if (ret || size <= 0) {
		spt_err("volume '%s/%s' has no size%s%s", pool, vol,
			ret ? ": " : "", ret ? strerror(-ret) : "");
		return SPT_EXIT_FAIL;
	}
	if (img_dm_info(dm_name, &info))
		return SPT_EXIT_FAIL;
	if (info.exists && info.live_table &&
	    strcmp(info.target, SPT_TARGET_NAME)) {
		spt_err("dm device '%s' is not a slicepool volume", dm_name);
		return SPT_EXIT_FAIL;
	}
	if (img_make_image(pool, vol, dm_name, size, info.exists))
		return SPT_EXIT_FAIL;
report:
	if (spt_json) {
		js_begin("image create", pool);
		js_str("image", vol);
		js_str("dm_device", dm_name);
		js_bool("read_only", true);
		js_end();
	} else {
		printf("volume %s/%s is an image: read-only, /dev/mapper/%s\n",
		       pool, vol, dm_name);
	}
	return SPT_EXIT_OK;
}

/* Highest thin id in use among @t[0..@n), or -1. */
static s64 img_max_id(const struct img_thin *t, size_t n)
{
	s64 max = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if ((s64)t[i].id > max)
			max = t[i].id;
	return max;
}

/*
 * Records clone @clone of @image and creates its thin device in the
 * thin-pool @tp_name, in that order (see the top of this file): ids from
 * @first up, skipping those the thin-pool's metadata already has (a
 * thin device of a clone made before clones were recorded).  Returns the
 * id, or -1 with a message and nothing left behind.
 */
static s64 img_create_thin(const char *pool, const char *image,
			   const char *clone, u64 sectors, const char *tp_name,
			   u64 first)
{
	char msg[48];
	u64 id;
	int ret = -ENOSPC;

	for (id = first; id <= IMG_MAX_THIN_ID; id++) {
		ret = img_register(pool, image, clone, id, sectors);
		if (ret == -EEXIST) {
			spt_err("cannot record clone '%s' of '%s/%s': its name or thin id %llu is taken (see dmesg)",
				clone, pool, image, (unsigned long long)id);
			return -1;
		}
		if (ret)
			return -1;
		snprintf(msg, sizeof(msg), "create_thin %llu",
			 (unsigned long long)id);
		ret = spu_dm_message(tp_name, msg, NULL, 0);
		if (!ret)
			return (s64)id;
		if (img_unregister(pool, image, clone))
			return -1;
		if (ret != -EEXIST)
			break;
	}
	spt_err("cannot create a thin device in '%s': %s (see dmesg; is the thin-pool full or read-only?)",
		tp_name, strerror(-ret));
	return -1;
}

int cmd_image_clone(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "thin-size", required_argument, NULL, 't' },
		{ "meta-size", required_argument, NULL, 'm' },
		{ "data-size", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	char img_dm[IMG_DM_NAME], clone_dm[IMG_DM_NAME], tp_dm[IMG_DM_NAME];
	u64 meta = IMG_DEF_META, data = IMG_DEF_DATA, thin = 0;
	const char *pool, *image, *clone;
	struct spu_dm_info ii, ci, tp;
	struct img_thin *thins;
	struct img_rec *recs;
	const struct img_rec *rc;
	char params[96], msg[48];
	size_t n, nr, i;
	s64 id, max;
	int c, ret;

	while ((c = spt_getopt(cmd, argc, argv, opts)) != -1) {
		if (c == 't')
			thin = img_size_opt(cmd, "thin-size", optarg);
		else if (c == 'm')
			meta = img_size_opt(cmd, "meta-size", optarg);
		else
			data = img_size_opt(cmd, "data-size", optarg);
	}
	spt_want_args(cmd, argc, argv, 3);
	pool = argv[optind];
	image = argv[optind + 1];
	clone = argv[optind + 2];
	spt_check_name(cmd, "pool", pool);
	spt_check_name(cmd, "image", image);
	spt_check_name(cmd, "clone", clone);
	if (meta < IMG_MIN_META)
		spt_usage_fail(cmd, "--meta-size: at least 2 MiB (dm-thin's metadata)");
	if (data < IMG_BLOCK_SECTORS * 512)
		spt_usage_fail(cmd, "--data-size: at least 64 KiB (one thin-pool block)");

	if (img_require(pool, image))
		return SPT_EXIT_FAIL;
	spt_dm_name(pool, image, img_dm, sizeof(img_dm));
	spt_dm_name(pool, clone, clone_dm, sizeof(clone_dm));
	if (img_dm_info(img_dm, &ii) || img_dm_info(clone_dm, &ci))
		return SPT_EXIT_FAIL;
	if (!ii.exists || !ii.live_table) {
		spt_err("image '%s/%s' has no dm device '%s' ('slicepool image create %s %s' loads it read-only)",
			pool, image, img_dm, pool, image);
		return SPT_EXIT_FAIL;
	}
	if (!strcmp(clone, IMG_POOL) || !strcmp(clone, IMG_META) ||
	    !strcmp(clone, IMG_DATA)) {
		spt_err("clone name '%s' is taken: the pool's thin-pool uses it",
			clone);
		return SPT_EXIT_FAIL;
	}
	if (cfs_exists("%s/volumes/%s", pool, clone) || ci.exists) {
		spt_err("clone name '%s' is taken: %s '%s' exists", clone,
			ci.exists ? "dm device" : "volume",
			ci.exists ? clone_dm : clone);
		return SPT_EXIT_FAIL;
	}
	if (img_records(pool, &recs, &nr))
		return SPT_EXIT_FAIL;
	rc = img_rec_find(recs, nr, clone);
	if (rc) {
		spt_err("clone name '%s' is taken: the pool records clone '%s' of image '%s' (thin id %u)",
			clone, clone, rc->image, rc->id);
		free(recs);
		return SPT_EXIT_FAIL;
	}
	if (!thin)
		thin = ii.length * 512;

	if (img_thin_pool(pool, meta, data, &tp)) {
		free(recs);
		return SPT_EXIT_FAIL;
	}
	spt_dm_name(pool, IMG_POOL, tp_dm, sizeof(tp_dm));
	if (img_list_thins(tp.major, tp.minor, &thins, &n)) {
		spt_err("cannot list the dm devices: %s", spu_dm_last_error());
		free(recs);
		return SPT_EXIT_FAIL;
	}
	max = img_max_id(thins, n);
	for (i = 0; i < nr; i++)
		if ((s64)recs[i].id > max)
			max = recs[i].id;
	free(thins);
	free(recs);
	id = img_create_thin(pool, image, clone, thin / 512, tp_dm,
			     (u64)(max + 1));
	if (id < 0)
		return SPT_EXIT_FAIL;
	snprintf(params, sizeof(params), "%u:%u %lld %u:%u", tp.major,
		 tp.minor, (long long)id, ii.major, ii.minor);
	ret = spt_dm_load(clone_dm, NULL, true, false, thin / 512, "thin",
			  params);
	if (ret) {
		img_dm_failed("create the clone", clone_dm);
		snprintf(msg, sizeof(msg), "delete %lld", (long long)id);
		if (spu_dm_message(tp_dm, msg, NULL, 0))
			spt_err("could not delete thin device %lld of '%s': its record stays ('slicepool image remove-clone %s %s' removes both)",
				(long long)id, tp_dm, pool, clone);
		else
			img_unregister(pool, image, clone);
		return SPT_EXIT_FAIL;
	}
	if (spt_json) {
		js_begin("image clone", pool);
		js_str("clone", clone);
		js_str("image", image);
		js_u64("thin_id", (u64)id);
		js_u64("size", thin);
		js_str("dm_device", clone_dm);
		js_str("thin_pool", tp_dm);
		js_end();
	} else {
		printf("clone %s of image %s/%s: /dev/mapper/%s, thin id %lld in %s, %llu bytes\n",
		       clone, pool, image, clone_dm, (long long)id, tp_dm,
		       (unsigned long long)thin);
	}
	return SPT_EXIT_OK;
}

/*
 * Deletes thin device @id of the thin-pool @tp_dm; one that does not
 * exist (a crash before its create or after its delete) counts as done.
 */
static int img_delete_thin(const char *tp_dm, u32 id)
{
	char msg[48];
	int ret;

	snprintf(msg, sizeof(msg), "delete %u", id);
	ret = spu_dm_message(tp_dm, msg, NULL, 0);
	if (ret == -ENODATA)
		ret = 0;
	if (ret)
		spt_err("cannot delete thin device %u in %s: %s", id, tp_dm,
			spu_dm_last_error());
	return ret;
}

int cmd_image_remove_clone(const struct spt_cmd *cmd, int argc, char **argv)
{
	char clone_dm[IMG_DM_NAME], tp_dm[IMG_DM_NAME];
	const struct img_rec *rc;
	struct spu_dm_info ci, tp;
	const char *pool, *clone;
	struct img_rec *recs;
	u32 a, b, id;
	size_t nr;
	bool dev;
	int ret = SPT_EXIT_FAIL;

	img_args(cmd, argc, argv, "clone", &pool, &clone);
	if (spt_pool_require(pool) || img_pool_info(pool, &tp))
		return SPT_EXIT_FAIL;
	spt_dm_name(pool, clone, clone_dm, sizeof(clone_dm));
	spt_dm_name(pool, IMG_POOL, tp_dm, sizeof(tp_dm));
	if (img_dm_info(clone_dm, &ci) || img_records(pool, &recs, &nr))
		return SPT_EXIT_FAIL;
	rc = img_rec_find(recs, nr, clone);
	dev = tp.exists && ci.exists && ci.live_table &&
	      !strcmp(ci.target, "thin") &&
	      sscanf(ci.params, "%u:%u %u", &a, &b, &id) == 3 &&
	      a == tp.major && b == tp.minor;
	if (!dev && !rc) {
		spt_err("pool '%s' has no clone '%s' (see 'slicepool image list %s')",
			pool, clone, pool);
		goto out;
	}
	if (rc)
		id = rc->id;
	if (!tp.exists) {
		spt_err("clone '%s' is recorded, but pool '%s' has no thin-pool loaded ('slicepool assemble' loads it)",
			clone, pool);
		goto out;
	}
	if (dev && ci.open_count > 0) {
		spt_err("clone '%s' is open (mounted or in use by %d opener(s)): close it first",
			clone_dm, ci.open_count);
		goto out;
	}
	if (dev && spu_dm_remove(clone_dm)) {
		img_dm_failed("remove", clone_dm);
		goto out;
	}
	/* The thin device first, then its record (see the top of the file) */
	if (img_delete_thin(tp_dm, id) ||
	    (rc && img_unregister(pool, rc->image, clone)))
		goto out;
	if (spt_json) {
		js_begin("image remove-clone", pool);
		js_str("clone", clone);
		js_u64("thin_id", id);
		js_end();
	} else {
		printf("removed clone %s/%s (thin id %u deleted)\n", pool,
		       clone, id);
	}
	ret = SPT_EXIT_OK;
out:
	free(recs);
	return ret;
}

/* An image of the pool, for 'image list'. */
struct img_image {
	char name[SPT_NAME_MAX + 1];
	s64 size;
	bool has_dm;
	s64 clones;		/* the module's reference count, -1: unknown */
};

/* Whether clone @r has its dm device */
static bool img_rec_dev(const char *pool, const struct img_rec *r)
{
	char dm[IMG_DM_NAME];
	struct spu_dm_info info;

	spt_dm_name(pool, r->name, dm, sizeof(dm));
	return !spu_dm_info(dm, &info) && info.exists;
}

static void img_print(const char *pool, const struct img_image *im,
		      size_t ni, const struct img_rec *r, size_t nr)
{
	static const char *const ih[] = { "IMAGE", "SIZE", "CLONES", "DEVICE" };
	static const char *const ch[] = { "CLONE", "IMAGE", "THIN_ID", "SIZE",
					  "DEVICE" };
	char sz[32], cnt[24], id[16], dev[IMG_DM_MAX + 16];
	struct spt_table *tb;
	size_t i;

	printf("pool %s: %zu image(s), %zu clone(s)\n", pool, ni, nr);
	if (ni) {
		tb = tbl_new(ARRAY_SIZE(ih), ih);
		for (i = 0; i < ni; i++) {
			spu_format_size(im[i].size < 0 ? 0 : (u64)im[i].size,
					false, sz, sizeof(sz));
			snprintf(cnt, sizeof(cnt), "%lld",
				 (long long)im[i].clones);
			snprintf(dev, sizeof(dev), "/dev/mapper/%s-%s", pool,
				 im[i].name);
			tbl_add(tb, im[i].name, sz,
				im[i].clones < 0 ? "-" : cnt,
				im[i].has_dm ? dev : "-");
		}
		tbl_print(tb, stdout, "  ");
		tbl_free(tb);
	}
	if (!nr)
		return;
	tb = tbl_new(ARRAY_SIZE(ch), ch);
	for (i = 0; i < nr; i++) {
		spu_format_size(r[i].sectors * 512, false, sz, sizeof(sz));
		snprintf(id, sizeof(id), "%u", r[i].id);
		snprintf(dev, sizeof(dev), "/dev/mapper/%s-%s", pool,
			 r[i].name);
		tbl_add(tb, r[i].name, r[i].image, id, sz,
			img_rec_dev(pool, &r[i]) ? dev : "-");
	}
	tbl_print(tb, stdout, "  ");
	tbl_free(tb);
}

static void img_json(const char *pool, const struct img_image *im, size_t ni,
		     const struct img_rec *r, size_t nr, const char *tp_dm)
{
	char dev[IMG_DM_NAME];
	size_t i, j;

	js_begin("image list", pool);
	js_str("thin_pool", tp_dm);
	js_open_arr("images");
	for (i = 0; i < ni; i++) {
		js_open_obj(NULL);
		js_str("name", im[i].name);
		js_s64("size", im[i].size);
		js_s64("clones", im[i].clones);
		spt_dm_name(pool, im[i].name, dev, sizeof(dev));
		js_str("dm_device", im[i].has_dm ? dev : NULL);
		js_open_arr("clone_names");
		for (j = 0; j < nr; j++)
			if (!strcmp(r[j].image, im[i].name))
				js_str(NULL, r[j].name);
		js_close();
		js_close();
	}
	js_close();
	js_open_arr("clones");
	for (i = 0; i < nr; i++) {
		js_open_obj(NULL);
		js_str("name", r[i].name);
		js_str("image", r[i].image);
		js_u64("thin_id", r[i].id);
		js_u64("size", r[i].sectors * 512);
		spt_dm_name(pool, r[i].name, dev, sizeof(dev));
		js_str("dm_device", img_rec_dev(pool, &r[i]) ? dev : NULL);
		js_close();
	}
	js_close();
	js_end();
}

int cmd_image_list(const struct spt_cmd *cmd, int argc, char **argv)
{
	char dm_name[IMG_DM_NAME], tp_dm[IMG_DM_NAME];
	struct img_image *im = NULL;
	struct img_rec *r = NULL;
	struct spu_dm_info info, tp;
	size_t nv = 0, ni = 0, nr = 0, i;
	char **vols = NULL;
	const char *pool;
	int ret;

	spt_getopt_one(cmd, argc, argv, NULL, no_argument);
	spt_want_args(cmd, argc, argv, 1);
	pool = argv[optind];
	spt_check_name(cmd, "pool", pool);
	if (spt_pool_require(pool) || img_pool_info(pool, &tp))
		return SPT_EXIT_FAIL;
	ret = cfs_list(&vols, &nv, "%s/volumes", pool);
	if (ret) {
		spt_err("cannot list the volumes of pool '%s': %s", pool,
			strerror(-ret));
		return SPT_EXIT_FAIL;
	}
	im = spt_realloc_array(NULL, nv ? nv : 1, sizeof(*im));
	for (i = 0; i < nv; i++) {
		ret = img_is_image(pool, vols[i]);
		if (ret < 0)
			goto out;
		if (!ret)
			continue;
		memset(&im[ni], 0, sizeof(im[ni]));
		snprintf(im[ni].name, sizeof(im[ni].name), "%s", vols[i]);
		if (cfs_read_s64(&im[ni].size, "%s/volumes/%s/size", pool,
				 vols[i]))
			im[ni].size = -1;
		if (cfs_read_s64(&im[ni].clones, "%s/volumes/%s/clones", pool,
				 vols[i]))
			im[ni].clones = -1;
		spt_dm_name(pool, vols[i], dm_name, sizeof(dm_name));
		ret = img_dm_info(dm_name, &info);
		if (ret)
			goto out;
		im[ni].has_dm = info.exists;
		ni++;
	}
	ret = img_records(pool, &r, &nr);
	if (ret)
		goto out;
	spt_dm_name(pool, IMG_POOL, tp_dm, sizeof(tp_dm));
	if (spt_json)
		img_json(pool, im, ni, r, nr, tp.exists ? tp_dm : NULL);
	else
		img_print(pool, im, ni, r, nr);
	ret = 0;
out:
	free(r);
	free(im);
	cfs_free_list(vols, nv);
	return ret ? SPT_EXIT_FAIL : SPT_EXIT_OK;
}

/* ---- Hot detection (Documentation/dm-slicepool.rst, "Hot detection") ---- */

#define IMG_HOT_MAX_REFS	16777216UL	/* the module's limits */
#define IMG_HOT_MAX_LAT_US	60000000UL
#define IMG_HOT_KEYS		"hot_refs, hot_read_latency_us or hot_mode"
#define IMG_HOT_MODES		"any, all, refs, latency or off"

static const char *const img_hot_modes[] = {
	"any", "all", "refs", "latency", "off",
};

/* An image's hot detection: its settings and the module's verdict. */
struct img_hot {
	s64 refs, lat_us;		/* hot_refs, hot_read_latency_us */
	char mode[16];			/* hot_mode */
	bool hot;
	unsigned long long clones, lat, lat_max;	/* measured, us */
};

/*
 * Reads @image's hot_* attributes and "hot" ("<0|1> clones=<n>
 * read_latency_us=<n> read_latency_max_us=<n>").  0, or SPT_EXIT_FAIL
 * with a message.
 */
static int img_hot_read(const char *pool, const char *image,
			struct img_hot *h)
{
	char *mode = NULL, *hot = NULL;
	int on = -1, n = 0, ret;

	memset(h, 0, sizeof(*h));
	ret = cfs_read_s64(&h->refs, "%s/volumes/%s/hot_refs", pool, image);
	if (ret == -ENOENT) {
		spt_err("volume '%s/%s' has no 'hot_refs' attribute: the loaded dm-slicepool module has no hot detection (load this version's module)",
			pool, image);
		return SPT_EXIT_FAIL;
	}
	if (!ret)
		ret = cfs_read_s64(&h->lat_us, "%s/volumes/%s/hot_read_latency_us",
				   pool, image);
	if (!ret)
		ret = cfs_read(&mode, "%s/volumes/%s/hot_mode", pool, image);
	if (!ret)
		ret = cfs_read(&hot, "%s/volumes/%s/hot", pool, image);
	if (ret) {
		spt_err("cannot read the hot detection of '%s/%s': %s", pool,
			image, strerror(-ret));
		goto out;
	}
	spt_strip(mode);
	snprintf(h->mode, sizeof(h->mode), "%s", mode);
	if (sscanf(hot, "%d clones=%llu read_latency_us=%llu read_latency_max_us=%llu%n",
		   &on, &h->clones, &h->lat, &h->lat_max, &n) != 4 ||
	    (on != 0 && on != 1) || (hot[n] && hot[n] != '\n')) {
		spt_err("volume '%s/%s': unreadable hot attribute '%s'", pool,
			image, hot);
		ret = -EINVAL;
		goto out;
	}
	h->hot = on;
out:
	free(mode);
	free(hot);
	return ret ? SPT_EXIT_FAIL : 0;
}

/* The pool and image named on the command line (usage errors exit 2). */
static void img_hot_args(const struct spt_cmd *cmd, int argc, char **argv,
			 int want, const char **pool, const char **image)
{
	spt_getopt_one(cmd, argc, argv, NULL, no_argument);
	if (argc - optind < want)
		spt_usage_fail(cmd, "missing argument");
	if (want == 2)
		spt_want_args(cmd, argc, argv, 2);
	*pool = argv[optind];
	*image = argv[optind + 1];
	spt_check_name(cmd, "pool", *pool);
	spt_check_name(cmd, "image", *image);
}

static void img_hot_print(const char *pool, const char *image,
			  const struct img_hot *h)
{
	if (spt_json) {
		js_begin("image status", pool);
		js_str("image", image);
		js_bool("hot", h->hot);
		js_u64("clones", h->clones);
		js_u64("read_latency_us", h->lat);
		js_u64("read_latency_max_us", h->lat_max);
		js_s64("hot_refs", h->refs);
		js_s64("hot_read_latency_us", h->lat_us);
		js_str("hot_mode", h->mode);
		js_end();
		return;
	}
	printf("image %s/%s: %s\n", pool, image, h->hot ? "hot" : "not hot");
	printf("  clones               %llu (hot_refs %lld)\n", h->clones,
	       (long long)h->refs);
	printf("  read latency         %llu us, max %llu us (hot_read_latency_us %lld)\n",
	       h->lat, h->lat_max, (long long)h->lat_us);
	printf("  hot_mode             %s\n", h->mode);
}

int cmd_image_status(const struct spt_cmd *cmd, int argc, char **argv)
{
	const char *pool, *image;
	struct img_hot h;

	img_hot_args(cmd, argc, argv, 2, &pool, &image);
	if (img_require(pool, image) || img_hot_read(pool, image, &h))
		return SPT_EXIT_FAIL;
	img_hot_print(pool, image, &h);
	return SPT_EXIT_OK;
}

/*
 * image set <pool> <image> KEY=VALUE...: every pair is checked before
 * any is written (a bad one is a usage error, nothing changed), then
 * written in the order given; the module refuses what the tool let pass
 * only if the volume changed meanwhile.
 */
int cmd_image_set(const struct spt_cmd *cmd, int argc, char **argv)
{
	const char *pool, *image, *eq;
	int i, k, first, ret;
	struct img_hot h;
	size_t klen;

	img_hot_args(cmd, argc, argv, 3, &pool, &image);
	first = optind + 2;
	for (i = first; i < argc; i++) {
		eq = strchr(argv[i], '=');
		klen = eq ? (size_t)(eq - argv[i]) : 0;
		if (!eq)
			spt_usage_fail(cmd, "'%s': KEY=VALUE expected (%s)",
				       argv[i], IMG_HOT_KEYS);
		if (klen == 8 && !strncmp(argv[i], "hot_refs", 8)) {
			spt_opt_ulong(cmd, "hot_refs", eq + 1, 1,
				      IMG_HOT_MAX_REFS);
		} else if (klen == 19 &&
			   !strncmp(argv[i], "hot_read_latency_us", 19)) {
			spt_opt_ulong(cmd, "hot_read_latency_us", eq + 1, 1,
				      IMG_HOT_MAX_LAT_US);
		} else if (klen == 8 && !strncmp(argv[i], "hot_mode", 8)) {
			for (k = 0; k < (int)ARRAY_SIZE(img_hot_modes); k++)
				if (!strcmp(eq + 1, img_hot_modes[k]))
					break;
			if (k == (int)ARRAY_SIZE(img_hot_modes))
				spt_usage_fail(cmd, "hot_mode: '%s' is not a mode (%s)",
					       eq + 1, IMG_HOT_MODES);
		} else {
			spt_usage_fail(cmd, "unknown setting '%.*s' (%s)",
				       (int)klen, argv[i], IMG_HOT_KEYS);
		}
	}
	if (img_require(pool, image))
		return SPT_EXIT_FAIL;
	for (i = first; i < argc; i++) {
		char key[24];

		eq = strchr(argv[i], '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]),
			 argv[i]);
		ret = cfs_write(eq + 1, "%s/volumes/%s/%s", pool, image, key);
		if (ret) {
			spt_err("cannot set %s of '%s/%s' to '%s': %s (see dmesg)",
				key, pool, image, eq + 1, strerror(-ret));
			return SPT_EXIT_FAIL;
		}
	}
	if (img_hot_read(pool, image, &h))
		return SPT_EXIT_FAIL;
	img_hot_print(pool, image, &h);
	return SPT_EXIT_OK;
}

/* ---- image copy: a new copy of an image, and its clones moved to it ---- */

#define IMG_COPY_CHUNK		(1024U * 1024)	/* bytes per read and write */
#define IMG_COPY_TRIES		99		/* default names <image>.copyN */
/*
 * Test-only knobs (Documentation/dm-slicepool-images.rst, "Failure"):
 * flip a byte of this slice of the copy before the verify, and load a
 * table with an origin that does not exist for this clone.
 */
#define IMG_ENV_CORRUPT		"SLICEPOOL_TEST_COPY_CORRUPT_SLICE"
#define IMG_ENV_BAD_RELOAD	"SLICEPOOL_TEST_COPY_FAIL_RELOAD"

/* A copy or verify pass, for its progress on stderr. */
struct img_pass {
	const char *what;	/* "copy", "verify" */
	u64 total, done;
	u64 t0;			/* ms */
	bool tty;
	int last;		/* last percentage drawn or logged */
};

static u64 img_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

static void img_pass_start(struct img_pass *ps, const char *what, u64 total)
{
	memset(ps, 0, sizeof(*ps));
	ps->what = what;
	ps->total = total;
	ps->t0 = img_now_ms();
	ps->tty = isatty(STDERR_FILENO) && !spt_json;
	ps->last = -1;
}

/*
 * Draws the pass's bar with its rate and ETA on a terminal; elsewhere a
 * line every 25%.  stderr only: stdout is the command's result.
 */
static void img_pass_show(struct img_pass *ps, u64 done)
{
	char sz[32], tot[32], bar[33];
	u64 ms = img_now_ms() - ps->t0;
	int pct = ps->total ? (int)(done * 100 / ps->total) : 100;
	double rate = ms ? (double)done * 1000.0 / (double)ms : 0;
	unsigned long eta;
	int i;

	ps->done = done;
	spu_format_size(done, false, sz, sizeof(sz));
	spu_format_size(ps->total, false, tot, sizeof(tot));
	if (!ps->tty) {
		if (pct / 25 != ps->last / 25 || ps->last < 0)
			spt_info("%s: %s of %s (%d%%)", ps->what, sz, tot, pct);
		ps->last = pct;
		return;
	}
	if (pct == ps->last && done != ps->total)
		return;
	ps->last = pct;
	for (i = 0; i < (int)sizeof(bar) - 1; i++)
		bar[i] = i < pct * ((int)sizeof(bar) - 1) / 100 ? '#' : '-';
	bar[sizeof(bar) - 1] = '\0';
	eta = rate > 0 ? (unsigned long)((double)(ps->total - done) / rate) : 0;
	fprintf(stderr, "\r\033[K%-6s [%s] %3d%%  %s of %s  ETA %lu:%02lu",
		ps->what, bar, pct, sz, tot, eta / 60, eta % 60);
	if (done == ps->total)
		fputs("\n", stderr);
	fflush(stderr);
}

/* Opens dm device @dm_name for O_DIRECT I/O; -errno with a message. */
static int img_open(const char *dm_name, int flags)
{
	char path[IMG_DM_NAME + 16];
	int fd;

	snprintf(path, sizeof(path), "/dev/mapper/%s", dm_name);
	fd = open(path, flags | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		spt_err("cannot open %s: %s", path, strerror(-fd));
	}
	return fd;
}

/* Reads or writes @len bytes at @off, whole; -errno (-EIO on a short one). */
static int img_io(int fd, bool wr, void *buf, size_t len, u64 off)
{
	ssize_t n = wr ? pwrite(fd, buf, len, (off_t)off) :
			 pread(fd, buf, len, (off_t)off);

	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EIO;
}

/*
 * Copies the first @bytes of image @src_dm into @dst_dm (read and write
 * loops with O_DIRECT, then fsync), keeping the CRC-32C of every slice
 * (@slice bytes, the last one maybe shorter) as read from the image in
 * @crc.  0 or a negative errno with a message.
 */
static int img_copy_data(const char *src_dm, const char *dst_dm, u64 bytes,
			 u64 slice, u32 *crc)
{
	struct img_pass ps;
	int in, out, ret = 0;
	u64 off, len;
	void *buf;

	if (posix_memalign(&buf, 4096, IMG_COPY_CHUNK))
		return -ENOMEM;
	in = img_open(src_dm, O_RDONLY);
	out = img_open(dst_dm, O_WRONLY);
	if (in < 0 || out < 0) {
		ret = in < 0 ? in : out;
		goto out;
	}
	img_pass_start(&ps, "copy", bytes);
	for (off = 0; off < bytes; off += len) {
		len = bytes - off < IMG_COPY_CHUNK ? bytes - off : IMG_COPY_CHUNK;
		ret = img_io(in, false, buf, len, off);
		if (ret) {
			spt_err("cannot read /dev/mapper/%s at byte %llu: %s",
				src_dm, (unsigned long long)off, strerror(-ret));
			goto out;
		}
		crc[off / slice] = md3_crc32c(off % slice ? crc[off / slice] : ~0U,
					      buf, len);
		ret = img_io(out, true, buf, len, off);
		if (ret) {
			spt_err("cannot write /dev/mapper/%s at byte %llu: %s",
				dst_dm, (unsigned long long)off, strerror(-ret));
			goto out;
		}
		img_pass_show(&ps, off + len);
	}
	if (fsync(out)) {
		ret = -errno;
		spt_err("cannot flush /dev/mapper/%s: %s", dst_dm, strerror(-ret));
	}
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(buf);
	return ret;
}

/*
 * Test only: flips the first byte of slice @env of the copy, so that the
 * verify sees a copy that differs from its image (an honest mismatch on
 * the device, found by reading it back).
 */
static int img_test_corrupt(const char *dst_dm, u64 bytes, u64 slice)
{
	const char *env = getenv(IMG_ENV_CORRUPT);
	unsigned long k;
	int fd, ret;
	u8 *buf;

	if (!env)
		return 0;
	if (spt_parse_ulong(env, 0, (bytes - 1) / slice, &k)) {
		spt_err("%s: '%s' is not a slice of the copy", IMG_ENV_CORRUPT,
			env);
		return -EINVAL;
	}
	spt_info("test: %s=%lu: flipping a byte of slice %lu of the copy",
		 IMG_ENV_CORRUPT, k, k);
	if (posix_memalign((void **)&buf, 4096, 4096))
		return -ENOMEM;
	fd = img_open(dst_dm, O_RDWR);
	ret = fd < 0 ? fd : img_io(fd, false, buf, 4096, k * slice);
	if (!ret) {
		buf[0] ^= 0xff;
		ret = img_io(fd, true, buf, 4096, k * slice);
	}
	if (!ret && fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

/*
 * Reads the copy @dst_dm back and compares the CRC-32C of every slice
 * with @crc (the image's).  0 when all match; -EILSEQ with a message
 * naming the slices that differ; another negative errno.
 */
static int img_verify(const char *dst_dm, u64 bytes, u64 slice,
		      const u32 *crc)
{
	u64 off, len, bad = 0, first = 0, nr = (bytes + slice - 1) / slice;
	struct img_pass ps;
	u32 c = ~0U, first_c = 0;
	int fd, ret = 0;
	void *buf;

	if (posix_memalign(&buf, 4096, IMG_COPY_CHUNK))
		return -ENOMEM;
	fd = img_open(dst_dm, O_RDONLY);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	img_pass_start(&ps, "verify", bytes);
	for (off = 0; off < bytes; off += len) {
		len = bytes - off < IMG_COPY_CHUNK ? bytes - off : IMG_COPY_CHUNK;
		ret = img_io(fd, false, buf, len, off);
		if (ret) {
			spt_err("cannot read /dev/mapper/%s at byte %llu: %s",
				dst_dm, (unsigned long long)off, strerror(-ret));
			break;
		}
		c = md3_crc32c(off % slice ? c : ~0U, buf, len);
		if ((off + len) % slice && off + len < bytes)
			continue;
		if (c != crc[off / slice] && !bad++) {
			first = off / slice;
			first_c = c;
		}
		img_pass_show(&ps, off + len);
	}
	close(fd);
	free(buf);
	if (!ret && bad) {
		spt_err("verify failed: %llu of %llu slice(s) of the copy differ from the image (the first: slice %llu, crc32c %08x, the image's %08x)",
			(unsigned long long)bad, (unsigned long long)nr,
			(unsigned long long)first, first_c, crc[first]);
		ret = -EILSEQ;
	}
	return ret;
}

/*
 * Points clone @r's thin device at the external origin @img_dm: the same
 * thin table with another origin, loaded, then resumed (device-mapper
 * suspends the device for the swap: I/O in flight completes, new I/O
 * waits, and the clone's own blocks stay in the thin-pool).  A clone
 * without a dm device has nothing to reload (assemble makes it from its
 * record).  @bad (test only): an origin that does not exist, refused by
 * dm-thin.  0 or a negative errno with a message.
 */
static int img_clone_origin(const char *pool, const struct img_rec *r,
			    const char *img_dm, bool bad)
{
	char dm[IMG_DM_NAME], params[96];
	struct spu_dm_info ci, ii;
	u32 a, b, id;
	int ret;

	spt_dm_name(pool, r->name, dm, sizeof(dm));
	if (img_dm_info(dm, &ci) || img_dm_info(img_dm, &ii))
		return -EIO;
	if (!ci.exists)
		return 0;
	if (!ci.live_table || strcmp(ci.target, "thin") ||
	    sscanf(ci.params, "%u:%u %u", &a, &b, &id) != 3 || id != r->id) {
		spt_err("dm device '%s' is not the thin device %u of clone '%s'",
			dm, r->id, r->name);
		return -EINVAL;
	}
	if (!ii.exists) {
		spt_err("image device '%s' does not exist", img_dm);
		return -ENODEV;
	}
	if (bad)
		snprintf(params, sizeof(params), "%u:%u %u 0:0", a, b, id);
	else
		snprintf(params, sizeof(params), "%u:%u %u %u:%u", a, b, id,
			 ii.major, ii.minor);
	ret = spu_dm_reload_resume(dm, ci.length, "thin", params);
	if (ret)
		spt_err("cannot reload clone '%s' (%s) with origin %s: %s (see dmesg)",
			r->name, dm, bad ? "0:0 (test)" : img_dm,
			spu_dm_last_error());
	return ret;
}

/*
 * Moves the record of clone @r from image @from to image @to: one write
 * of clone_move on @to, one md3 transaction (a crash leaves the clone
 * recorded for @from or for @to).  0 or a negative errno with a message.
 */
static int img_rec_move(const char *pool, const struct img_rec *r,
			const char *from, const char *to)
{
	int ret = cfs_write(r->name, "%s/volumes/%s/clone_move", pool, to);

	if (ret)
		spt_err("cannot move the record of clone '%s' from '%s/%s' to '%s/%s': %s (see dmesg)",
			r->name, pool, from, pool, to, strerror(-ret));
	return ret;
}

/* Moves clone @r to image @to (its origin, then its record). */
static int img_clone_move(const char *pool, const struct img_rec *r,
			  const char *from, const char *to, bool bad)
{
	char from_dm[IMG_DM_NAME], to_dm[IMG_DM_NAME];
	int ret;

	spt_dm_name(pool, from, from_dm, sizeof(from_dm));
	spt_dm_name(pool, to, to_dm, sizeof(to_dm));
	ret = img_clone_origin(pool, r, to_dm, bad);
	if (ret)
		return ret;
	ret = img_rec_move(pool, r, from, to);
	if (ret && img_clone_origin(pool, r, from_dm, false))
		spt_err("clone '%s' reads image '%s' but is recorded for '%s'",
			r->name, to, from);
	return ret;
}

/*
 * A free name for the copy of @image: <image>.copyN, the first N that
 * no volume, dm device or clone record of @pool has.  0, or -ENAMETOOLONG
 * / -EEXIST (the caller asks for --name).
 */
static int img_copy_name(const char *pool, const char *image,
			 const struct img_rec *r, size_t nr, char *out)
{
	char dm[IMG_DM_NAME];
	struct spu_dm_info info;
	int i;

	for (i = 1; i <= IMG_COPY_TRIES; i++) {
		if (snprintf(out, SPT_NAME_MAX + 1, "%s.copy%d", image, i) >
		    SPT_NAME_MAX)
			return -ENAMETOOLONG;
		spt_dm_name(pool, out, dm, sizeof(dm));
		if (cfs_exists("%s/volumes/%s", pool, out) ||
		    img_rec_find(r, nr, out) || spu_dm_info(dm, &info) ||
		    info.exists)
			continue;
		return 0;
	}
	return -EEXIST;
}

/* Whether @name is one of the names the clones' thin-pool uses. */
static bool img_reserved(const char *name)
{
	return !strcmp(name, IMG_POOL) || !strcmp(name, IMG_META) ||
	       !strcmp(name, IMG_DATA);
}

static void img_copy_report(const char *pool, const char *image,
			    const char *copy, u64 bytes, u64 nr_slices,
			    const struct img_rec *r, const size_t *moved,
			    size_t nm)
{
	s64 left = -1, got = -1;
	char dm[IMG_DM_NAME], sz[32], rm[2 * SPT_NAME_MAX + 32];
	size_t i;

	cfs_read_s64(&left, "%s/volumes/%s/clones", pool, image);
	cfs_read_s64(&got, "%s/volumes/%s/clones", pool, copy);
	spt_dm_name(pool, copy, dm, sizeof(dm));
	if (spt_json) {
		js_begin("image copy", pool);
		js_str("image", image);
		js_str("copy", copy);
		js_str("dm_device", dm);
		js_u64("size", bytes);
		js_u64("slices_verified", nr_slices);
		js_open_arr("clones_moved");
		for (i = 0; i < nm; i++)
			js_str(NULL, r[moved[i]].name);
		js_close();
		js_s64("image_clones", left);
		js_s64("copy_clones", got);
		js_bool("image_kept", true);
		js_end();
		return;
	}
	spu_format_size(bytes, false, sz, sizeof(sz));
	printf("image %s/%s copied to %s/%s: %s, %llu slice(s) verified, /dev/mapper/%s\n",
	       pool, image, pool, copy, sz, (unsigned long long)nr_slices, dm);
	printf("moved %zu clone(s) to %s:", nm, copy);
	for (i = 0; i < nm; i++)
		printf(" %s", r[moved[i]].name);
	printf("\nclones: %s %lld, %s %lld\n", image, (long long)left, copy,
	       (long long)got);
	snprintf(rm, sizeof(rm), "'slicepool vol remove %s/%s'", pool, image);
	if (!left)
		printf("image %s/%s has no clones left; it stays (remove it with %s)\n",
		       pool, image, rm);
}

int cmd_image_copy(const struct spt_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	char pool[SPT_NAME_MAX + 1], image[SPT_NAME_MAX + 1];
	char copy[SPT_NAME_MAX + 1] = "", img_dm[IMG_DM_NAME];
	char copy_dm[IMG_DM_NAME];
	const char *bad_reload = getenv(IMG_ENV_BAD_RELOAD);
	struct spu_dm_info ii;
	size_t nr = 0, nm = 0, i;
	struct img_rec *r = NULL;
	size_t *moved = NULL;
	s64 size, got, slice_mb;
	u64 slice, nslices;
	bool had, keep = false;
	u32 *crc = NULL;
	int c, ret;

	while ((c = spt_getopt(cmd, argc, argv, opts)) != -1) {
		spt_check_name(cmd, "copy", optarg);
		snprintf(copy, sizeof(copy), "%s", optarg);
	}
	spt_want_args(cmd, argc, argv, 1);
	spt_split_volspec(cmd, argv[optind], pool, image);

	if (img_require(pool, image))
		return SPT_EXIT_FAIL;
	spt_dm_name(pool, image, img_dm, sizeof(img_dm));
	if (img_dm_info(img_dm, &ii))
		return SPT_EXIT_FAIL;
	if (!ii.exists || !ii.live_table) {
		spt_err("image '%s/%s' has no dm device '%s' to copy from ('slicepool assemble' loads it)",
			pool, image, img_dm);
		return SPT_EXIT_FAIL;
	}
	if (cfs_read_s64(&size, "%s/volumes/%s/size", pool, image) ||
	    size <= 0 || cfs_read_s64(&slice_mb, "%s/slice_mb", pool) ||
	    slice_mb <= 0) {
		spt_err("cannot read the size of '%s/%s' or the slice size of pool '%s'",
			pool, image, pool);
		return SPT_EXIT_FAIL;
	}
	if (img_records(pool, &r, &nr))
		return SPT_EXIT_FAIL;
	ret = SPT_EXIT_FAIL;
	if (!copy[0]) {
		c = img_copy_name(pool, image, r, nr, copy);
		if (c) {
			spt_err("no free name <image>.copyN for a copy of '%s/%s': give one with --name",
				pool, image);
			goto out;
		}
	}
	spt_dm_name(pool, copy, copy_dm, sizeof(copy_dm));
	if (img_reserved(copy) || img_rec_find(r, nr, copy)) {
		spt_err("name '%s' is taken: %s", copy,
			img_reserved(copy) ? "the pool's thin-pool uses it" :
			"the pool records a clone of that name");
		goto out;
	}
	if (bad_reload && !img_rec_find(r, nr, bad_reload)) {
		spt_err("%s: '%s' is not a clone of pool '%s'",
			IMG_ENV_BAD_RELOAD, bad_reload, pool);
		goto out;
	}
	slice = (u64)slice_mb << 20;
	nslices = ((u64)size + slice - 1) / slice;
	crc = spt_zalloc(nslices * sizeof(*crc));
	moved = spt_zalloc((nr ? nr : 1) * sizeof(*moved));

	/* 1. The new volume, placed by the load ratio as any new volume. */
	spt_info("image copy %s/%s: creating volume %s/%s (%lld bytes)", pool,
		 image, pool, copy, (long long)size);
	if (spt_vol_make(pool, copy, (u64)size))
		goto out;
	if (cfs_read_s64(&got, "%s/volumes/%s/size", pool, copy) ||
	    got != size) {
		spt_err("volume '%s/%s' got %lld bytes, not the image's %lld",
			pool, copy, (long long)got, (long long)size);
		goto undo;
	}
	/* 2. The copy, then read-only, then the verify, then an image. */
	if (img_copy_data(img_dm, copy_dm, (u64)size, slice, crc) ||
	    img_test_corrupt(copy_dm, (u64)size, slice))
		goto undo;
	{
		char params[2 * SPT_NAME_MAX + 8];

		img_vol_params(params, sizeof(params), pool, copy);
		if (spt_dm_load(copy_dm, NULL, false, true, (u64)size / 512,
				SPT_TARGET_NAME, params)) {
			img_dm_failed("reload read-only", copy_dm);
			goto undo;
		}
	}
	if (img_verify(copy_dm, (u64)size, slice, crc)) {
		spt_err("image copy %s/%s: the copy %s/%s is removed; the clones stay on %s",
			pool, image, pool, copy, image);
		goto undo;
	}
	spt_info("verify: %llu slice(s) match the image", (unsigned long long)nslices);
	if (img_make_image(pool, copy, copy_dm, size, true))
		goto undo;

	/* 3. Every clone of the image, one by one. */
	for (i = 0; i < nr; i++) {
		if (strcmp(r[i].image, image))
			continue;
		spt_info("moving clone %s from %s to %s", r[i].name, image,
			 copy);
		if (img_clone_move(pool, &r[i], image, copy, bad_reload &&
				   !strcmp(bad_reload, r[i].name))) {
			spt_err("image copy %s/%s: moving clone '%s' failed; moving %zu clone(s) back to %s and removing the copy %s/%s",
				pool, image, r[i].name, nm, image, pool, copy);
			goto back;
		}
		moved[nm++] = i;
	}
	img_copy_report(pool, image, copy, (u64)size, nslices, r, moved, nm);
	ret = SPT_EXIT_OK;
	goto out;

back:
	while (nm--) {
		if (img_clone_move(pool, &r[moved[nm]], copy, image, false)) {
			spt_err("clone '%s' could not go back to image '%s': the copy %s/%s stays (it is verified and the clone's data is intact)",
				r[moved[nm]].name, image, pool, copy);
			keep = true;
		}
	}
undo:
	if (!keep && spt_vol_teardown(pool, copy, false, &had))
		spt_err("could not remove the half-made copy '%s/%s': remove it with 'slicepool vol remove %s/%s'",
			pool, copy, pool, copy);
	else if (!keep)
		spt_info("removed the copy %s/%s", pool, copy);
out:
	free(moved);
	free(crc);
	free(r);
	return ret;
}

/*
 * The assemble hook (tools/slicepool/assemble.c, once a format-3 pool's
 * volumes are started): the thin-pool over thinmeta and thindata and a
 * dm device for every recorded clone that has none.  A clone whose thin
 * device is gone (a crash in its add or remove) is reported, not made.
 */
void spt_image_assemble(struct asm_pool *p, bool dry_run)
{
	char dm[IMG_DM_NAME], img_dm[IMG_DM_NAME], params[96];
	struct spu_dm_info tp, ci, ii;
	struct img_rec *r;
	size_t nr, i;

	if (img_records(p->name, &r, &nr)) {
		asm_pool_err(p, "cannot read the pool's clones");
		return;
	}
	if (!nr)
		goto out;
	if (!cfs_exists("%s/volumes/%s", p->name, IMG_META) ||
	    !cfs_exists("%s/volumes/%s", p->name, IMG_DATA)) {
		asm_pool_err(p, "%zu clone(s) recorded, but volume %s or %s is missing: their thin-pool cannot be made",
			     nr, IMG_META, IMG_DATA);
		goto out;
	}
	if (dry_run) {
		spt_info("pool %s: would load the thin-pool and %zu recorded clone(s)",
			 p->name, nr);
		goto out;
	}
	if (img_thin_pool(p->name, 0, 0, &tp)) {
		asm_pool_err(p, "cannot load the thin-pool of the clones");
		goto out;
	}
	for (i = 0; i < nr; i++) {
		spt_dm_name(p->name, r[i].name, dm, sizeof(dm));
		spt_dm_name(p->name, r[i].image, img_dm, sizeof(img_dm));
		if (img_dm_info(dm, &ci) || img_dm_info(img_dm, &ii))
			break;
		if (ci.exists)
			continue;
		if (!ii.exists) {
			asm_pool_err(p, "clone %s: its image %s has no dm device",
				     r[i].name, r[i].image);
			continue;
		}
		snprintf(params, sizeof(params), "%u:%u %u %u:%u", tp.major,
			 tp.minor, r[i].id, ii.major, ii.minor);
		if (spt_dm_load(dm, NULL, true, false, r[i].sectors, "thin",
				params)) {
			asm_pool_err(p, "clone %s (thin id %u of image %s): cannot create dm device %s: %s; if its thin device is gone, 'slicepool image remove-clone %s %s' removes its record",
				     r[i].name, r[i].id, r[i].image, dm,
				     spu_dm_last_error(), p->name, r[i].name);
			continue;
		}
		spt_info("created clone %s (thin id %u of image %s)", dm,
			 r[i].id, r[i].image);
	}
out:
	free(r);
}
