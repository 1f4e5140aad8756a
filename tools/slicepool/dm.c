// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - device-mapper access through libdevmapper
 *
 * A volume <vol> of pool <pool> is exposed as the dm device "<pool>-<vol>"
 * (/dev/mapper/<pool>-<vol>) with the dm UUID "SLICEPOOL-<volume uuid>"
 * and the single-target table "0 <sectors> slicepool <pool> <vol>".
 *
 * libdevmapper's own log messages are captured rather than printed; the
 * last error is available from sp_dm_last_error() for our messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <libdevmapper.h>

#include "slicepool.h"

static char dm_last_error[512];

static void dm_log(int level, const char *file, int line, int dm_errno,
		   const char *fmt, ...)
{
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	/* Bits above the level are flags (stderr, once, ...). */
	if ((level & 7) > 3)
		return;
	va_start(ap, fmt);
	vsnprintf(dm_last_error, sizeof(dm_last_error), fmt, ap);
	va_end(ap);
}

void sp_dm_init(void)
{
	dm_log_with_errno_init(dm_log);
}

const char *sp_dm_last_error(void)
{
	if (!dm_last_error[0])
		return "device-mapper request failed";
	return dm_last_error;
}

void sp_dm_name(const char *pool, const char *vol, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%s", pool, vol);
}

/*
 * True when the kernel's device-mapper driver is present. Checked before
 * any libdevmapper call: without the driver libdevmapper would create
 * /dev/mapper/control with a guessed device number.
 */
static bool dm_driver_present(void)
{
	static int present = -1;
	char line[128];
	FILE *f;

	if (present >= 0)
		return present;
	present = 0;
	f = fopen("/proc/misc", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " device-mapper"))
			present = 1;
	fclose(f);
	return present;
}

static struct dm_task *task(int type, const char *name)
{
	struct dm_task *dmt;

	dm_last_error[0] = '\0';
	if (!dm_driver_present()) {
		snprintf(dm_last_error, sizeof(dm_last_error),
			 "the device-mapper driver is not loaded");
		return NULL;
	}
	dmt = dm_task_create(type);
	if (!dmt)
		return NULL;
	if (name && !dm_task_set_name(dmt, name)) {
		dm_task_destroy(dmt);
		return NULL;
	}
	return dmt;
}

/* Runs a task that creates or removes nodes, waiting for node updates. */
static int run_with_cookie(struct dm_task *dmt)
{
	u32 cookie = 0;
	int ok;

	if (!dm_task_set_cookie(dmt, &cookie, 0))
		return -EIO;
	ok = dm_task_run(dmt);
	/* Also called after a failure, to release the cookie. */
	dm_udev_wait(cookie);
	return ok ? 0 : -EIO;
}

/*
 * Fills @info for the dm device @name. Returns 0 (info->exists tells
 * whether the device exists) or -EIO when device-mapper cannot be asked.
 */
int sp_dm_info(const char *name, struct sp_dm_info *info)
{
	u64 start, length;
	char *type, *params;
	struct dm_task *dmt;
	struct dm_info di;

	memset(info, 0, sizeof(*info));
	dmt = task(DM_DEVICE_INFO, name);
	if (!dmt)
		return -EIO;
	if (!dm_task_run(dmt) || !dm_task_get_info(dmt, &di)) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	dm_task_destroy(dmt);
	if (!di.exists)
		return 0;
	info->exists = true;
	info->suspended = di.suspended;
	info->live_table = di.live_table;
	info->open_count = di.open_count;
	info->major = di.major;
	info->minor = di.minor;
	if (!di.live_table)
		return 0;

	dmt = task(DM_DEVICE_TABLE, name);
	if (!dmt)
		return -EIO;
	if (dm_task_run(dmt)) {
		dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
		info->length = length;
		snprintf(info->target, sizeof(info->target), "%s",
			 type ? type : "");
		snprintf(info->params, sizeof(info->params), "%s",
			 params ? params : "");
	}
	dm_task_destroy(dmt);

	dmt = task(DM_DEVICE_STATUS, name);
	if (!dmt)
		return -EIO;
	if (dm_task_run(dmt)) {
		dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
		snprintf(info->status, sizeof(info->status), "%s",
			 params ? params : "");
	}
	dm_task_destroy(dmt);
	return 0;
}

static int add_table(struct dm_task *dmt, u64 sectors, const char *pool,
		     const char *vol)
{
	char params[2 * SP_NAME_MAX + 8];

	snprintf(params, sizeof(params), "%s %s", pool, vol);
	if (!dm_task_add_target(dmt, 0, sectors, SP_TARGET_NAME, params))
		return -ENOMEM;
	return 0;
}

int sp_dm_create(const char *name, const char *uuid, u64 sectors,
		 const char *pool, const char *vol)
{
	char dmuuid[129];	/* DM_UUID_LEN */
	struct dm_task *dmt;
	int ret;

	dmt = task(DM_DEVICE_CREATE, name);
	if (!dmt)
		return -EIO;
	if (uuid && *uuid) {
		snprintf(dmuuid, sizeof(dmuuid), "%s%s", SP_DM_UUID_PREFIX,
			 uuid);
		if (!dm_task_set_uuid(dmt, dmuuid)) {
			dm_task_destroy(dmt);
			return -EINVAL;
		}
	}
	ret = add_table(dmt, sectors, pool, vol);
	if (!ret)
		ret = run_with_cookie(dmt);
	dm_task_destroy(dmt);
	return ret;
}

/* Loads a table of the new length and resumes: an online resize. */
int sp_dm_reload_resume(const char *name, u64 sectors, const char *pool,
			const char *vol)
{
	char saved[sizeof(dm_last_error)];
	struct dm_task *dmt;
	int ret;

	dmt = task(DM_DEVICE_RELOAD, name);
	if (!dmt)
		return -EIO;
	ret = add_table(dmt, sectors, pool, vol);
	if (!ret && !dm_task_run(dmt))
		ret = -EIO;
	dm_task_destroy(dmt);
	if (ret)
		return ret;

	dmt = task(DM_DEVICE_RESUME, name);
	if (!dmt)
		return -EIO;
	ret = run_with_cookie(dmt);
	dm_task_destroy(dmt);
	if (!ret)
		return 0;

	/* Drop the loaded table so that it does not pin the new length. */
	memcpy(saved, dm_last_error, sizeof(saved));
	dmt = task(DM_DEVICE_CLEAR, name);
	if (dmt) {
		dm_task_run(dmt);
		dm_task_destroy(dmt);
	}
	memcpy(dm_last_error, saved, sizeof(saved));
	return ret;
}

int sp_dm_remove(const char *name)
{
	struct dm_task *dmt;
	int ret;

	dmt = task(DM_DEVICE_REMOVE, name);
	if (!dmt)
		return -EIO;
	dm_task_retry_remove(dmt);
	ret = run_with_cookie(dmt);
	dm_task_destroy(dmt);
	return ret;
}

/*
 * Sends the target message @msg to sector 0 of @name (what "dmsetup
 * message <name> 0 <msg>" does). @resp, if not NULL, gets the target's
 * reply. Returns 0 or the negative errno the target refused it with.
 */
int sp_dm_message(const char *name, const char *msg, char *resp, size_t len)
{
	struct dm_task *dmt;
	const char *r;
	int ret = 0;

	dmt = task(DM_DEVICE_TARGET_MSG, name);
	if (!dmt)
		return -EIO;
	if (!dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, msg)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	if (!dm_task_run(dmt)) {
		ret = -dm_task_get_errno(dmt);
		if (!ret)
			ret = -EIO;
	} else if (resp && len) {
		r = dm_task_get_message_response(dmt);
		snprintf(resp, len, "%s", r ? r : "");
	}
	dm_task_destroy(dmt);
	return ret;
}

/*
 * The whole status parameters of the slicepool table of @name, in a
 * malloc'ed string. Returns 0, -ENODEV when the device does not exist or
 * has no live slicepool table, or -EIO.
 */
int sp_dm_status_text(const char *name, char **out)
{
	char *type = NULL, *params = NULL;
	struct dm_task *dmt;
	u64 start, length;
	int ret = 0;

	dmt = task(DM_DEVICE_STATUS, name);
	if (!dmt)
		return -EIO;
	if (!dm_task_run(dmt)) {
		ret = dm_task_get_errno(dmt) == ENXIO ? -ENODEV : -EIO;
		dm_task_destroy(dmt);
		return ret;
	}
	dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
	if (!type || strcmp(type, SP_TARGET_NAME))
		ret = -ENODEV;
	else
		*out = sp_strdup(params ? params : "");
	dm_task_destroy(dmt);
	return ret;
}
