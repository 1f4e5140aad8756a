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
 *
 * A grown volume gets a table of its new length (reload and resume, as
 * "slicepool vol resize" does).  Before that, its new range is zeroed
 * through a second, short-lived device of the new length, "<pool>-<vol>-grow"
 * (dm UUID "SLICEPOOL-<volume uuid>-grow"): the volume's own device, which
 * nvmet exports, never shows a range that was not zeroed.
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

void spa_dm_path_aside(const char *pool, const char *vol, char *buf,
		       size_t len)
{
	snprintf(buf, len, "/dev/mapper/%s-%s" SPA_DM_ASIDE, pool, vol);
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

/*
 * The device of volume @vol, "<pool>-<vol>", or its aside device
 * "<pool>-<vol>-grow" when @aside.
 */
static void dm_name(const char *pool, const char *vol, bool aside, char *buf,
		    size_t len)
{
	snprintf(buf, len, "%s-%s%s", pool, vol, aside ? SPA_DM_ASIDE : "");
}

static struct dm_task *task(int type, const char *pool, const char *vol,
			    bool aside)
{
	char name[2 * SPA_NAME_MAX + 16];
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
	dm_name(pool, vol, aside, name, sizeof(name));
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

static bool add_table(struct dm_task *dmt, const char *pool, const char *vol,
		      u64 sectors)
{
	char params[2 * SPA_NAME_MAX + 2];

	snprintf(params, sizeof(params), "%s %s", pool, vol);
	return dm_task_add_target(dmt, 0, sectors, "slicepool", params);
}

static int make_dev(const char *pool, const char *vol, bool aside,
		    const char *uuid, u64 sectors, char *why, size_t wlen)
{
	char dmuuid[64], name[2 * SPA_NAME_MAX + 16];
	struct dm_task *dmt;
	int ret = -EIO;

	pthread_mutex_lock(&dm_lock);
	dmt = task(DM_DEVICE_CREATE, pool, vol, aside);
	if (!dmt)
		goto out;
	snprintf(dmuuid, sizeof(dmuuid), "SLICEPOOL-%s%s", uuid,
		 aside ? SPA_DM_ASIDE : "");
	if (dm_task_set_uuid(dmt, dmuuid) && add_table(dmt, pool, vol, sectors))
		ret = run_with_cookie(dmt);
	dm_task_destroy(dmt);
out:
	dm_name(pool, vol, aside, name, sizeof(name));
	if (ret && why)
		snprintf(why, wlen, "cannot create dm device %s: %s", name,
			 last_error());
	pthread_mutex_unlock(&dm_lock);
	return ret;
}

int spa_dm_create(const char *pool, const char *vol, const char *uuid,
		  u64 sectors, char *why, size_t wlen)
{
	return make_dev(pool, vol, false, uuid, sectors, why, wlen);
}

int spa_dm_create_aside(const char *pool, const char *vol, const char *uuid,
			u64 sectors, char *why, size_t wlen)
{
	return make_dev(pool, vol, true, uuid, sectors, why, wlen);
}

int spa_dm_reload(const char *pool, const char *vol, u64 sectors, char *why,
		  size_t wlen)
{
	char saved[sizeof(dm_error)];
	struct dm_task *dmt;
	int ret = -EIO;

	pthread_mutex_lock(&dm_lock);
	dmt = task(DM_DEVICE_RELOAD, pool, vol, false);
	if (!dmt)
		goto out;
	if (add_table(dmt, pool, vol, sectors) && dm_task_run(dmt))
		ret = 0;
	dm_task_destroy(dmt);
	if (ret)
		goto out;
	dmt = task(DM_DEVICE_RESUME, pool, vol, false);
	ret = dmt ? run_with_cookie(dmt) : -EIO;
	if (dmt)
		dm_task_destroy(dmt);
	if (ret) {
		/* Drop the inactive table: it must not pin the new length. */
		memcpy(saved, dm_error, sizeof(saved));
		dmt = task(DM_DEVICE_CLEAR, pool, vol, false);
		if (dmt) {
			dm_task_run(dmt);
			dm_task_destroy(dmt);
		}
		memcpy(dm_error, saved, sizeof(dm_error));
	}
out:
	if (ret && why)
		snprintf(why, wlen, "cannot reload dm device %s-%s with %llu sectors: %s",
			 pool, vol, sectors, last_error());
	pthread_mutex_unlock(&dm_lock);
	return ret;
}

static int exists(const char *pool, const char *vol, bool aside)
{
	struct dm_task *dmt;
	struct dm_info di;
	int ret = -EIO;

	pthread_mutex_lock(&dm_lock);
	dmt = task(DM_DEVICE_INFO, pool, vol, aside);
	if (dmt) {
		if (dm_task_run(dmt) && dm_task_get_info(dmt, &di))
			ret = di.exists ? 1 : 0;
		dm_task_destroy(dmt);
	}
	pthread_mutex_unlock(&dm_lock);
	return ret;
}

int spa_dm_exists(const char *pool, const char *vol)
{
	return exists(pool, vol, false);
}

static int remove_dev(const char *pool, const char *vol, bool aside,
		      char *why, size_t wlen)
{
	char name[2 * SPA_NAME_MAX + 16];
	struct dm_task *dmt;
	int ret = -EIO;

	if (exists(pool, vol, aside) == 0)
		return 0;
	pthread_mutex_lock(&dm_lock);
	dmt = task(DM_DEVICE_REMOVE, pool, vol, aside);
	if (dmt) {
		dm_task_retry_remove(dmt);
		ret = run_with_cookie(dmt);
		dm_task_destroy(dmt);
	}
	dm_name(pool, vol, aside, name, sizeof(name));
	if (ret && why)
		snprintf(why, wlen, "cannot remove dm device %s: %s", name,
			 last_error());
	pthread_mutex_unlock(&dm_lock);
	return ret;
}

int spa_dm_remove(const char *pool, const char *vol, char *why, size_t wlen)
{
	return remove_dev(pool, vol, false, why, wlen);
}

int spa_dm_remove_aside(const char *pool, const char *vol, char *why,
			size_t wlen)
{
	return remove_dev(pool, vol, true, why, wlen);
}
