// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the dm device of a lent volume (libdevmapper)
 *
 * Same conventions as the slicepool tool (Documentation/slicepool-tool.rst):
 * the volume <vol> of pool <pool> is the dm device "<pool>-<vol>" with the
 * dm UUID "SLICEPOOL-<volume uuid>" and the table
 * "0 <sectors> slicepool <pool> <vol>".  The UUID prefix also keeps
 * "slicepool assemble" from scanning the device for members (it holds the
 * borrower's member metadata).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <libdevmapper.h>

#include "agent.h"

static pthread_mutex_t dm_lock = PTHREAD_MUTEX_INITIALIZER;	/* dm_error */
static char dm_error[512];

static void dm_log(int level, const char *file, int line, int dm_errno,
		   const char *fmt, ...)
{
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	if ((level & 7) > 3)
		return;
	va_start(ap, fmt);
	vsnprintf(dm_error, sizeof(dm_error), fmt, ap);
	va_end(ap);
}

void spa_dm_init(void)
{
	dm_log_with_errno_init(dm_log);
}

void spa_dm_path(const char *pool, const char *vol, char *buf, size_t len)
{
	snprintf(buf, len, "/dev/mapper/%s-%s", pool, vol);
}

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

static struct dm_task *task(int type, const char *pool, const char *vol)
{
	char name[2 * SPA_NAME_MAX + 2];
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
	snprintf(name, sizeof(name), "%s-%s", pool, vol);
	if (!dm_task_set_name(dmt, name)) {
		dm_task_destroy(dmt);
		return NULL;
	}
	return dmt;
}

static int run_with_cookie(struct dm_task *dmt)
{
	u32 cookie = 0;
	int ok;

	if (!dm_task_set_cookie(dmt, &cookie, 0))
		return -EIO;
	ok = dm_task_run(dmt);
	dm_udev_wait(cookie);
	return ok ? 0 : -EIO;
}

static const char *last_error(void)
{
	return dm_error[0] ? dm_error : "device-mapper request failed";
}

int spa_dm_create(const char *pool, const char *vol, const char *uuid,
		  u64 sectors, char *why, size_t wlen)
{
	char params[2 * SPA_NAME_MAX + 2], dmuuid[64];
	struct dm_task *dmt;
	int ret = -EIO;

	pthread_mutex_lock(&dm_lock);
	dmt = task(DM_DEVICE_CREATE, pool, vol);
	if (!dmt)
		goto out;
	snprintf(dmuuid, sizeof(dmuuid), "SLICEPOOL-%s", uuid);
	snprintf(params, sizeof(params), "%s %s", pool, vol);
	if (dm_task_set_uuid(dmt, dmuuid) &&
	    dm_task_add_target(dmt, 0, sectors, "slicepool", params))
		ret = run_with_cookie(dmt);
	dm_task_destroy(dmt);
out:
	if (ret && why)
		snprintf(why, wlen, "cannot create dm device %s-%s: %s", pool,
			 vol, last_error());
	pthread_mutex_unlock(&dm_lock);
	return ret;
}

int spa_dm_remove(const char *pool, const char *vol, char *why, size_t wlen)
{
	struct dm_task *dmt;
	int ret = -EIO;

	if (spa_dm_exists(pool, vol) == 0)
		return 0;
	pthread_mutex_lock(&dm_lock);
	dmt = task(DM_DEVICE_REMOVE, pool, vol);
	if (dmt) {
		dm_task_retry_remove(dmt);
		ret = run_with_cookie(dmt);
		dm_task_destroy(dmt);
	}
	if (ret && why)
		snprintf(why, wlen, "cannot remove dm device %s-%s: %s", pool,
			 vol, last_error());
	pthread_mutex_unlock(&dm_lock);
	return ret;
}

int spa_dm_exists(const char *pool, const char *vol)
{
	struct dm_task *dmt;
	struct dm_info di;
	int ret = -EIO;

	pthread_mutex_lock(&dm_lock);
	dmt = task(DM_DEVICE_INFO, pool, vol);
	if (dmt) {
		if (dm_task_run(dmt) && dm_task_get_info(dmt, &di))
			ret = di.exists ? 1 : 0;
		dm_task_destroy(dmt);
	}
	pthread_mutex_unlock(&dm_lock);
	return ret;
}
