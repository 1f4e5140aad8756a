// SPDX-License-Identifier: GPL-2.0
/*
 * libspu - device-mapper through libdevmapper (see spu.h)
 *
 * libdevmapper's log messages are captured, not printed: the last error
 * of the calling thread is kept for the caller's own message.  Callers
 * that use libdevmapper from several threads serialise their calls
 * (slicepool-agent holds its dm lock around each one).  libdevmapper's
 * prototypes take uint64_t, which is where this file uses it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdevmapper.h>

#include "spu.h"

/* The last error libdevmapper reported in this thread. */
static __thread char dm_error[512];

static void dm_log(int level, const char *file, int line, int dm_errno,
		   const char *fmt, ...)
{
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	/* Errors and worse only; bits above the level are flags. */
	if ((level & 7) > 3)
		return;
	va_start(ap, fmt);
	vsnprintf(dm_error, sizeof(dm_error), fmt, ap);
	va_end(ap);
}

void spu_dm_init(void)
{
	dm_log_with_errno_init(dm_log);
}

const char *spu_dm_last_error(void)
{
	return dm_error[0] ? dm_error : "device-mapper request failed";
}

/*
 * Whether the kernel's device-mapper driver is present.  Asked before any
 * libdevmapper call: without the driver, libdevmapper would make
 * /dev/mapper/control with a guessed device number.
 */
static bool driver_present(void)
{
	char line[128];
	bool found = false;
	FILE *f;

	f = fopen("/proc/misc", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " device-mapper"))
			found = true;
	fclose(f);
	return found;
}

static struct dm_task *task(int type, const char *name)
{
	struct dm_task *dmt;

	dm_error[0] = '\0';
	if (!driver_present()) {
		snprintf(dm_error, sizeof(dm_error),
			 "the device-mapper driver is not loaded");
		return NULL;
	}
	dmt = dm_task_create(type);
	if (!dmt)
		return NULL;
	if (!dm_task_set_name(dmt, name)) {
		dm_task_destroy(dmt);
		return NULL;
	}
	return dmt;
}

/* Run a task that makes or removes a node, and wait for the node. */
static int run_with_cookie(struct dm_task *dmt)
{
	u32 cookie = 0;
	int ok;

	if (!dm_task_set_cookie(dmt, &cookie, 0))
		return -EIO;
	ok = dm_task_run(dmt);
	/* Also after a failure, to release the cookie. */
	dm_udev_wait(cookie);
	return ok ? 0 : -EIO;
}

int spu_dm_create(const char *name, const char *uuid, u64 sectors,
		  const char *target, const char *params)
{
	struct dm_task *dmt;
	int ret = 0;

	dmt = task(DM_DEVICE_CREATE, name);
	if (!dmt)
		return -EIO;
	if (uuid && *uuid && !dm_task_set_uuid(dmt, uuid))
		ret = -EINVAL;
	else if (!dm_task_add_target(dmt, 0, sectors, target, params))
		ret = -ENOMEM;
	if (!ret)
		ret = run_with_cookie(dmt);
	dm_task_destroy(dmt);
	return ret;
}

int spu_dm_reload_resume(const char *name, u64 sectors,
			 const char *target, const char *params)
{
	char saved[sizeof(dm_error)];
	struct dm_task *dmt;
	int ret = 0;

	dmt = task(DM_DEVICE_RELOAD, name);
	if (!dmt)
		return -EIO;
	if (!dm_task_add_target(dmt, 0, sectors, target, params))
		ret = -ENOMEM;
	else if (!dm_task_run(dmt))
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
	memcpy(saved, dm_error, sizeof(saved));
	dmt = task(DM_DEVICE_CLEAR, name);
	if (dmt) {
		dm_task_run(dmt);
		dm_task_destroy(dmt);
	}
	memcpy(dm_error, saved, sizeof(saved));
	return ret;
}

int spu_dm_remove(const char *name)
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

int spu_dm_exists(const char *name)
{
	struct dm_task *dmt;
	struct dm_info di;
	int ret = -EIO;

	dmt = task(DM_DEVICE_INFO, name);
	if (!dmt)
		return -EIO;
	if (dm_task_run(dmt) && dm_task_get_info(dmt, &di))
		ret = di.exists ? 1 : 0;
	dm_task_destroy(dmt);
	return ret;
}

/* The first target of @name's live table (type) or status (params). */
static void first_target(int type, const char *name, u64 *length,
			 char *ttype, size_t tlen, char *params, size_t plen)
{
	char *t = NULL, *p = NULL;
	uint64_t start, len = 0;
	struct dm_task *dmt;

	dmt = task(type, name);
	if (!dmt)
		return;
	if (dm_task_run(dmt)) {
		dm_get_next_target(dmt, NULL, &start, &len, &t, &p);
		if (length)
			*length = len;
		if (ttype)
			snprintf(ttype, tlen, "%s", t ? t : "");
		snprintf(params, plen, "%s", p ? p : "");
	}
	dm_task_destroy(dmt);
}

int spu_dm_info(const char *name, struct spu_dm_info *info)
{
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
	first_target(DM_DEVICE_TABLE, name, &info->length, info->target,
		     sizeof(info->target), info->params, sizeof(info->params));
	first_target(DM_DEVICE_STATUS, name, NULL, NULL, 0, info->status,
		     sizeof(info->status));
	return 0;
}

int spu_dm_message(const char *name, const char *msg, char *resp,
		   size_t len)
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

int spu_dm_status(const char *name, const char *target, char **out)
{
	char *type = NULL, *params = NULL;
	uint64_t start, length;
	struct dm_task *dmt;
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
	if (!type || strcmp(type, target)) {
		ret = -ENODEV;
	} else {
		*out = strdup(params ? params : "");
		if (!*out)
			ret = -ENOMEM;
	}
	dm_task_destroy(dmt);
	return ret;
}
