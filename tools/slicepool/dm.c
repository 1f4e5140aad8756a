// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - a volume's device-mapper device
 *
 * A volume <vol> of pool <pool> is exposed as the dm device "<pool>-<vol>"
 * (/dev/mapper/<pool>-<vol>) with the dm UUID "SLICEPOOL-<volume uuid>"
 * and the single-target table "0 <sectors> slicepool <pool> <vol>".
 * libdevmapper itself is reached through libspu (tools/lib/spu-dm.c), which the
 * agent shares, except for read-only tables (spt_dm_load()): an image's
 * tables are always read-only.
 */
#include <stdint.h>
#include <libdevmapper.h>

#include "slicepool.h"

void spt_dm_name(const char *pool, const char *vol, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%s", pool, vol);
}

static void table_params(char *buf, size_t len, const char *pool,
			 const char *vol)
{
	snprintf(buf, len, "%s %s", pool, vol);
}

/*
 * Load the one-target table "0 @sectors @target @params" into @name,
 * read-only if @ro: created with it (dm uuid @uuid, if given) if @create,
 * else reloaded and resumed.  Returns 0 or -EIO (spu_dm_last_error()
 * says why).
 */
int spt_dm_load(const char *name, const char *uuid, bool create, bool ro,
		u64 sectors, const char *target, const char *params)
{
	struct dm_task *dmt;
	uint32_t cookie = 0;
	int ok;

	dmt = dm_task_create(create ? DM_DEVICE_CREATE : DM_DEVICE_RELOAD);
	if (!dmt)
		return -EIO;
	ok = dm_task_set_name(dmt, name) && (!ro || dm_task_set_ro(dmt)) &&
	     (!uuid || !*uuid || dm_task_set_uuid(dmt, uuid)) &&
	     dm_task_add_target(dmt, 0, sectors, target, params);
	if (ok && create) {
		ok = dm_task_set_cookie(dmt, &cookie, 0);
		if (ok) {
			ok = dm_task_run(dmt);
			dm_udev_wait(cookie);
		}
	} else if (ok) {
		ok = dm_task_run(dmt);
	}
	dm_task_destroy(dmt);
	if (!ok || create)
		return ok ? 0 : -EIO;

	dmt = dm_task_create(DM_DEVICE_RESUME);
	if (!dmt)
		return -EIO;
	ok = dm_task_set_name(dmt, name) &&
	     dm_task_set_cookie(dmt, &cookie, 0);
	if (ok) {
		ok = dm_task_run(dmt);
		dm_udev_wait(cookie);
	}
	dm_task_destroy(dmt);
	return ok ? 0 : -EIO;
}

/*
 * Whether @pool/@vol is an image: its tables are read-only (the module
 * refuses a read-write one; Documentation/dm-slicepool-images.rst).
 */
static bool vol_is_image(const char *pool, const char *vol)
{
	s64 v;

	return !cfs_read_s64(&v, "%s/volumes/%s/image", pool, vol) && v == 1;
}

int spt_dm_create(const char *name, const char *uuid, u64 sectors,
		  const char *pool, const char *vol)
{
	char dmuuid[129], params[2 * SPT_NAME_MAX + 8];	/* DM_UUID_LEN */

	dmuuid[0] = '\0';
	if (uuid && *uuid)
		snprintf(dmuuid, sizeof(dmuuid), "%s%s", SPT_DM_UUID_PREFIX,
			 uuid);
	table_params(params, sizeof(params), pool, vol);
	if (vol_is_image(pool, vol))
		return spt_dm_load(name, dmuuid, true, true, sectors,
				   SPT_TARGET_NAME, params);
	return spu_dm_create(name, dmuuid, sectors, SPT_TARGET_NAME, params);
}

/* Loads a table of the new length and resumes: an online resize. */
int spt_dm_reload_resume(const char *name, u64 sectors, const char *pool,
			 const char *vol)
{
	char params[2 * SPT_NAME_MAX + 8];

	table_params(params, sizeof(params), pool, vol);
	if (vol_is_image(pool, vol))
		return spt_dm_load(name, NULL, false, true, sectors,
				   SPT_TARGET_NAME, params);
	return spu_dm_reload_resume(name, sectors, SPT_TARGET_NAME, params);
}

/*
 * The whole status parameters of the slicepool table of @name, in a
 * malloc'ed string. Returns 0, -ENODEV when the device does not exist or
 * has no live slicepool table, or -EIO.
 */
int spt_dm_status_text(const char *name, char **out)
{
	return spu_dm_status(name, SPT_TARGET_NAME, out);
}
