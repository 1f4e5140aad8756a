// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - running live migrations (shared by migrate, rebalance and
 * vol resize --from-heaviest)
 *
 * A migration is a job of the volume's dm target, started with the target
 * message "migrate start <range> <dest> <key>=<value>..." and followed
 * through the "migration ..." fields of its status line
 * (Documentation/dm-slicepool.rst, "Live migration"). Both go through
 * libdevmapper (dm.c). When the module refuses something it logs why:
 * the kernel log lines it wrote meanwhile are read from /dev/kmsg and
 * shown with the error.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slicepool.h"

#define POLL_MS		250	/* status polling period while waiting */
#define RATE_WINDOW_MS	1000	/* copy rate measured over this window */

/* ---- signals ---- */

/* Lock-free, hence async-signal-safe (C11 7.14.1.1). */
static atomic_int mig_signal;

static void on_signal(int sig)
{
	atomic_store(&mig_signal, sig);
}

/*
 * SIGINT and SIGTERM set a flag instead of ending the tool, so that a
 * migration being waited for can be aborted first.
 */
void spt_mig_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool spt_mig_interrupted(void)
{
	return atomic_load(&mig_signal) != 0;
}

/* ---- the kernel's reasons ---- */

static int kmsg_fd = -1;
static u64 start_ms;		/* when the last start message was sent */
static u64 now_ms(void);

/* Starts collecting kernel log lines (from now on). */
static void kmsg_open(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0 && lseek(kmsg_fd, 0, SEEK_END) < 0) {
		close(kmsg_fd);
		kmsg_fd = -1;
	}
}

/*
 * Prints the slicepool lines the kernel logged since kmsg_open() and
 * stops collecting. Returns how many were printed.
 */
static int kmsg_report(void)
{
	char buf[2048], *msg, *end;
	int count = 0;
	ssize_t n;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		n = read(kmsg_fd, buf, sizeof(buf) - 1);
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue;	/* overwritten records, or a signal */
		if (n <= 0)
			break;
		buf[n] = '\0';
		/* "<prio>,<seq>,<usec>,<flags>;<text>\n" */
		msg = strchr(buf, ';');
		if (!msg)
			continue;
		msg++;
		end = strchr(msg, '\n');
		if (end)
			*end = '\0';
		if (strstr(msg, "slicepool")) {
			spt_err("kernel: %s", msg);
			count++;
		}
	}
	close(kmsg_fd);
	kmsg_fd = -1;
	return count;
}

static void kmsg_close(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = -1;
}

/* ---- status ---- */

/*
 * Reads the migration fields of the status of dm device @dm_name.
 * Returns 0, -ENODEV (no device or no slicepool table), -ENODATA (the
 * module reports no migration fields), -EINVAL (unparsable) or -EIO.
 */
int spt_mig_read(const char *dm_name, struct spt_mig_status *ms)
{
	char *text;
	int ret;

	ret = spt_dm_status_text(dm_name, &text);
	if (ret)
		return ret;
	ret = spt_mig_status_parse(text, ms);
	free(text);
	return ret;
}

void spt_mig_req_init(struct spt_mig_req *req)
{
	memset(req, 0, sizeof(*req));
	req->all = true;
	req->rate = -1;
	req->chunk_kb = SPT_MIG_CHUNK_KB;
	req->threshold = -1;
	req->max_passes = -1;
	req->depth = -1;
	req->busy_share = -1;
}

void spt_mig_json(const char *key, const struct spt_mig_status *ms)
{
	js_open_obj(key);
	js_str("state", ms->state);
	js_str("mode", ms->mode);
	js_u64("first", ms->first);
	js_u64("last", ms->last);
	js_str("dest", ms->dest);
	js_u64("pass", ms->pass);
	js_u64("cursor", ms->cursor);
	js_u64("planned", ms->planned);
	js_u64("remaining", ms->remaining);
	js_u64("dirty", ms->dirty);
	js_u64("writes_seen", ms->writes_seen);
	js_u64("dirty_set", ms->dirty_set);
	js_u64("filtered", ms->filtered);
	js_u64("cleared", ms->cleared);
	js_u64("copied", ms->copied);
	js_u64("recopied", ms->recopied);
	js_u64("bytes_copied", ms->bytes_copied);
	js_u64("rate", ms->rate);
	js_u64("hold_us", (u64)ms->hold_us);
	js_int("error", ms->error);
	js_bool("mirror", ms->mirror);
	js_u64("mirrored", ms->mirrored);
	js_u64("busy_share", ms->busy_share);
	js_u64("paced_ms", ms->paced_ms);
	js_close();
}

/* ---- checks before a start ---- */

static void range_str(const struct spt_mig_req *req, char *buf, size_t len)
{
	if (req->all)
		snprintf(buf, len, "all");
	else if (req->first == req->last)
		snprintf(buf, len, "%llu", (unsigned long long)req->first);
	else
		snprintf(buf, len, "%llu-%llu", (unsigned long long)req->first,
			 (unsigned long long)req->last);
}

static bool member_healthy(const struct spt_member *m)
{
	return m->enable == 1 && m->state && !strcmp(m->state, "online");
}

/* A member that can be a destination: healthy and not draining. */
static bool member_takes(const struct spt_member *m)
{
	return member_healthy(m) && m->drain != 1;
}

/* Whether one of slices @first..@last of @map is on member @name. */
static bool range_on(const struct spt_map_entry *map, u64 first, u64 last,
		     const char *name)
{
	u64 i;

	for (i = first; i <= last; i++)
		if (!strcmp(map[i].member, name))
			return true;
	return false;
}

/*
 * Checks a migration request against the pool before anything is sent,
 * with the errors the module would give, said in the tool's words.
 * Prints the error; returns 0 or a negative errno.
 */
int spt_mig_check(const char *pool, const char *vol, const char *dm_name,
		  const struct spt_mig_req *req)
{
	const struct spt_member *cand[SPT_STATUS_MEMBERS];
	struct spt_map_entry *map = NULL;
	struct spt_mig_status ms;
	size_t i, k, n = 0, nc = 0;
	struct spu_dm_info info;
	u64 first, last, avail = 0;
	struct spt_pool p;
	int ret;

	if (spt_item_require(pool, "volume", vol))
		return -ENOENT;
	if (spu_dm_info(dm_name, &info)) {
		spt_err("cannot talk to device-mapper: %s (is dm-mod loaded and are you root?)",
			spu_dm_last_error());
		return -EIO;
	}
	if (!info.exists || !info.live_table) {
		spt_err("volume '%s/%s' has no dm device with a table: a migration runs in the volume's dm target (create it with 'slicepool assemble')",
			pool, vol);
		return -ENODEV;
	}
	if (strcmp(info.target, SPT_TARGET_NAME)) {
		spt_err("dm device '%s' is not a slicepool volume (its target is '%s')",
			dm_name, info.target);
		return -ENODEV;
	}
	ret = spt_mig_read(dm_name, &ms);
	if (ret == -ENODATA) {
		spt_err("the loaded dm-slicepool module has no live migration (no migration fields in the status of '%s'): load a newer module",
			dm_name);
		return ret;
	}
	if (ret) {
		spt_err("cannot read the status of dm device '%s': %s", dm_name,
			strerror(-ret));
		return ret;
	}
	if (spt_mig_running(&ms)) {
		spt_err("volume '%s/%s' is already migrating (slices %llu-%llu to %s, %s): wait for it, follow it with 'slicepool migrate %s/%s --status' or stop it with --abort",
			pool, vol, (unsigned long long)ms.first,
		       (unsigned long long)ms.last, ms.dest, ms.state, pool,
		       vol);
		return -EBUSY;
	}

	ret = spt_vol_map_read(pool, vol, &map, &n);
	if (ret) {
		spt_err("cannot read the map of '%s/%s'", pool, vol);
		return -EIO;
	}
	ret = spt_pool_load(pool, &p);
	if (ret) {
		spt_err("cannot read pool '%s': %s", pool, strerror(-ret));
		free(map);
		return ret;
	}
	ret = -EINVAL;
	first = req->all ? 0 : req->first;
	last = req->all ? (n ? n - 1 : 0) : req->last;
	if (!n || last >= n) {
		spt_err("volume '%s/%s' has %zu slices (0..%lld): there is no slice %llu",
			pool, vol, n, (long long)n - 1,
		       (unsigned long long)last);
		goto out;
	}
	if (p.slice_mb <= 0 || ((u64)p.slice_mb * 1024) % req->chunk_kb) {
		spt_err("--chunk-kb %lu does not divide the slice size of pool '%s' (%lld MiB): use a divisor of %lld",
			req->chunk_kb, pool, (long long)p.slice_mb,
		       (long long)p.slice_mb * 1024);
		goto out;
	}
	for (i = first; i <= last; i++) {
		if (!map[i].member[0]) {
			spt_err("slice %zu of '%s/%s' is missing (its member is absent): bring the member back with 'slicepool assemble' first",
				i, pool, vol);
			ret = -EIO;
			goto out;
		}
	}

	/* The destination's members, as the module chooses them. */
	for (k = 0; k < p.nr_members && nc < ARRAY_SIZE(cand); k++) {
		const struct spt_member *m = &p.members[k];

		if (!strcmp(req->dest, SPT_MIG_AUTO)) {
			if (member_takes(m) && !range_on(map, first, last, m->name))
				cand[nc++] = m;
		} else if (!strncmp(req->dest, "domain:", 7)) {
			if (m->domain && !strcmp(m->domain, req->dest + 7) &&
			    member_takes(m))
				cand[nc++] = m;
		} else if (!strcmp(m->name, req->dest)) {
			if (!member_takes(m)) {
				spt_err("member '%s' of pool '%s' is %s: a destination must be an enabled, online member that is not draining (see 'slicepool status %s')",
					m->name, pool,
				       m->enable != 1 ? "disabled" :
				       member_healthy(m) ? "draining" : m->state,
				       pool);
				ret = -ENODEV;
				goto out;
			}
			cand[nc++] = m;
		}
	}
	if (!nc) {
		if (!strcmp(req->dest, SPT_MIG_AUTO))
			spt_err("pool '%s' has no enabled, online member that is not draining besides those that hold slices %llu-%llu of '%s'",
				pool, (unsigned long long)first,
				(unsigned long long)last, vol);
		else if (!strncmp(req->dest, "domain:", 7))
			spt_err("pool '%s' has no enabled, online member in domain '%s' (see the domains in 'slicepool status %s')",
				pool, req->dest + 7, pool);
		else
			spt_err("pool '%s' has no member '%s' (see 'slicepool status %s'; a domain is given as domain:<label>)",
				pool, req->dest, pool);
		ret = -ENODEV;
		goto out;
	}
	for (i = first; nc == 1 && i <= last; i++) {
		if (!strcmp(map[i].member, cand[0]->name)) {
			spt_err("slice %zu of '%s/%s' is already on member '%s': choose another destination, or --slices without it",
				i, pool, vol, cand[0]->name);
			goto out;
		}
	}
	for (k = 0; k < nc; k++)
		avail += cand[k]->free_slices > 0 ? (u64)cand[k]->free_slices : 0;
	if (avail < last - first + 1) {
		spt_err("destination %s has %llu free slices, %llu needed: add members to it (slicepool member add), free space there, or migrate fewer slices (--slices)",
			req->dest, (unsigned long long)avail,
		       (unsigned long long)(last - first + 1));
		ret = -ENOSPC;
		goto out;
	}
	ret = 0;
out:
	spt_pool_free(&p);
	free(map);
	return ret;
}

/* ---- start ---- */

/* What to do about a refused "migrate start". */
static void start_hint(int err)
{
	switch (err) {
	case EBUSY:
		spt_err("the volume is already migrating, or is being resized: see 'slicepool migrate <pool>/<vol> --status'");
		break;
	case ENOSPC:
		spt_err("the destination has too few free slices: add members to it, or migrate fewer slices (--slices)");
		break;
	case ENODEV:
		spt_err("the destination is not an enabled, healthy member or domain of the pool: see 'slicepool status'");
		break;
	case EIO:
		spt_err("a slice of the range is missing: bring its member back with 'slicepool assemble'");
		break;
	case EINVAL:
		spt_err("the module refused an argument; if it says that the destination's logical block size is above a table's, reload the volume's table (dmsetup reload + resume with the same table)");
		break;
	}
}

/* Appends " <key>=<value>" to @msg unless @value is -1 (the default). */
static int add_opt(char *msg, size_t size, int len, const char *key,
		   long value)
{
	if (value < 0 || len >= (int)size)
		return len;
	return len + snprintf(msg + len, size - len, " %s=%ld", key, value);
}

/*
 * Sends "migrate start" for @req. On a refusal prints why (with the
 * kernel's own log lines) and returns the negative errno.
 */
int spt_mig_start(const char *pool, const char *vol, const char *dm_name,
		  const struct spt_mig_req *req)
{
	char msg[256], range[48];
	int len, ret;

	range_str(req, range, sizeof(range));
	len = snprintf(msg, sizeof(msg), "migrate start %s %s chunk_kb=%lu",
		       range, req->dest, req->chunk_kb);
	if (req->mode)
		len += snprintf(msg + len, sizeof(msg) - len, " mode=%s",
				req->mode);
	if (req->mirror)
		len += snprintf(msg + len, sizeof(msg) - len, " mirror=%s",
				req->mirror);
	len = add_opt(msg, sizeof(msg), len, "rate", req->rate);
	len = add_opt(msg, sizeof(msg), len, "threshold", req->threshold);
	len = add_opt(msg, sizeof(msg), len, "max_passes", req->max_passes);
	len = add_opt(msg, sizeof(msg), len, "depth", req->depth);
	add_opt(msg, sizeof(msg), len, "busy_share", req->busy_share);

	kmsg_open();
	start_ms = now_ms();
	ret = spu_dm_message(dm_name, msg, NULL, 0);
	if (ret) {
		spt_err("the module refused to migrate '%s/%s' slices %s to %s: %s",
			pool, vol, range, req->dest, strerror(-ret));
		if (!kmsg_report())
			spt_err("the kernel log says why: see dmesg | grep slicepool");
		start_hint(-ret);
		return ret;
	}
	return 0;
}

/* ---- waiting, with progress ---- */

static u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	/* A signal cuts the sleep short; the caller looks at the flag. */
	nanosleep(&ts, NULL);
}

struct progress {
	bool tty;
	bool drawn;		/* a bar is on the terminal line */
	u64 pass;
	char state[16];
	u64 win_ms, win_bytes;	/* start of the rate window */
	double rate;		/* bytes/s, smoothed; 0 unknown */
};

/*
 * A batch: several jobs, one after another, shown as one bar with one
 * ETA (spt_mig_batch_run()).  The progress is kept across the jobs.
 */
struct batch {
	const char *label;	/* "evacuate p1/m1", "migrate p1/v1" */
	unsigned int job, nr_jobs;	/* job from 1 */
	u64 total;		/* bytes of pass 1 of every job */
	u64 done;		/* bytes of pass 1 of the jobs that ended */
	u64 cur;		/* bytes of pass 1 of the running job */
	u64 copied;		/* bytes copied by the jobs that ended */
	struct progress pr;
};

static void fmt_eta(char *buf, size_t len, double secs)
{
	unsigned long s = (unsigned long)(secs + 0.5);

	if (s >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60,
			 s % 60);
	else
		snprintf(buf, len, "%lu:%02lu", s / 60, s % 60);
}

/*
 * Draws the progress of the job of @ms: alone (@b NULL), by its current
 * pass; in a batch, the batch's pass-1 bytes (a job in a later pass counts
 * as copied) and the bytes copied by every job so far.
 */
static void progress_update(struct progress *pr, const struct batch *b,
			    const char *pool, const char *vol,
			    const struct spt_mig_status *ms,
			    unsigned long chunk_kb, u64 t)
{
	char copied[32], rate[32], eta[32], bar[33], what[256];
	u64 chunk = (u64)chunk_kb * 1024, bytes = ms->bytes_copied;
	u64 planned = ms->planned * chunk, left = ms->remaining * chunk;
	unsigned int pct, i, fill;

	if (b) {
		/* A job past its first pass counts as copied. */
		u64 job_done = ms->pass > 1 ? b->cur : planned - left;

		bytes += b->copied;
		planned = b->total;
		left = b->total - b->done - (job_done < b->cur ? job_done : b->cur);
		snprintf(what, sizeof(what), "%s: job %u of %u, %s/%s slices %llu-%llu",
			 b->label, b->job, b->nr_jobs, pool, vol,
			 (unsigned long long)ms->first,
			 (unsigned long long)ms->last);
	} else {
		snprintf(what, sizeof(what), "migrate %s/%s", pool, vol);
	}
	/* The copy rate, over windows of a second, smoothed. */
	if (t - pr->win_ms >= RATE_WINDOW_MS) {
		double r = (double)(bytes - pr->win_bytes) * 1000.0 /
			   (double)(t - pr->win_ms);

		pr->rate = pr->rate > 0 ? (pr->rate + r) / 2 : r;
		pr->win_ms = t;
		pr->win_bytes = bytes;
	}
	pct = planned ? (unsigned int)((planned - left) * 100 / planned) : 100;
	spu_format_size(bytes, false, copied, sizeof(copied));

	if (!pr->tty) {
		/* One line per pass, and one when the switch begins. */
		if (ms->pass != pr->pass && !strcmp(ms->state, "copying"))
			spt_info("%s: pass %llu: %llu chunks to copy (%s copied so far, %u%% done)",
				 what, (unsigned long long)ms->pass,
				(unsigned long long)ms->planned, copied, pct);
		if (strcmp(ms->state, pr->state) &&
		    !strcmp(ms->state, "switching"))
			spt_info("%s: switching: writes to the moving slices are held until the last dirty chunks are copied and the move is committed",
				 what);
		pr->pass = ms->pass;
		snprintf(pr->state, sizeof(pr->state), "%s", ms->state);
		return;
	}

	fill = pct * (sizeof(bar) - 1) / 100;
	for (i = 0; i < sizeof(bar) - 1; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[sizeof(bar) - 1] = '\0';
	if (pr->rate > 0) {
		spu_format_size((u64)pr->rate, false, rate, sizeof(rate));
		fmt_eta(eta, sizeof(eta), (double)left / pr->rate);
	} else {
		snprintf(rate, sizeof(rate), "-");
		snprintf(eta, sizeof(eta), "-:--");
	}
	if (!b && !strcmp(ms->state, "switching"))
		snprintf(eta, sizeof(eta), "switching");
	if (b)
		fprintf(stderr, "\r\033[K[%s] %3u%% job %u/%u  %s copied  %s/s  ETA %s",
			bar, pct, b->job, b->nr_jobs, copied, rate, eta);
	else
		fprintf(stderr, "\r\033[K[%s] %3u%% pass %llu  %s copied  %s/s  ETA %s",
			bar, pct, (unsigned long long)ms->pass, copied, rate,
			eta);
	fflush(stderr);
	pr->drawn = true;
}

static void progress_clear(struct progress *pr)
{
	if (pr->drawn)
		fputs("\r\033[K", stderr);
	pr->drawn = false;
}

/*
 * Waits until the job of @dm_name ends, showing its progress on stderr
 * (as part of batch @b when it is not NULL).
 * SIGINT or SIGTERM (after spt_mig_catch_signals()) sends "migrate abort";
 * if the switch has begun already, the job is waited for still, and a
 * second signal stops waiting. Returns 0 when the job ended "done", 1
 * when it ended "aborted" or "failed" (res->st says which; nothing is
 * printed: see spt_mig_print_failure()), or a negative errno when the
 * status could not be followed (printed; -EINTR: stopped waiting).
 */
static int mig_wait(const char *pool, const char *vol, const char *dm_name,
		    unsigned long chunk_kb, struct spt_mig_result *res,
		    struct batch *b)
{
	struct progress one, *prp = b ? &b->pr : &one;
	bool abort_sent = false;
	u64 t0 = start_ms ? start_ms : now_ms(), t;
	int ret;

	if (!b) {
		memset(&one, 0, sizeof(one));
		one.tty = isatty(STDERR_FILENO);
		one.win_ms = t0;
	}
	res->interrupted = false;
	for (;;) {
		ret = spt_mig_read(dm_name, &res->st);
		t = now_ms();
		res->duration_ms = t - t0;
		if (ret) {
			progress_clear(prp);
			spt_err("cannot read the migration status of dm device '%s' any more: %s (was the device removed? a job stops when the volume's last table goes)",
				dm_name, strerror(-ret));
			kmsg_close();
			return ret;
		}
		if (!res->st.job) {
			progress_clear(prp);
			spt_err("dm device '%s' reports no migration job", dm_name);
			kmsg_close();
			return -ENOENT;
		}
		if (!spt_mig_running(&res->st))
			break;
		progress_update(prp, b, pool, vol, &res->st, chunk_kb, t);
		if (atomic_load(&mig_signal) && !abort_sent) {
			abort_sent = true;
			res->interrupted = true;
			atomic_store(&mig_signal, 0);
			progress_clear(prp);
			spt_info("interrupted: aborting the migration of %s/%s",
				 pool, vol);
			ret = spu_dm_message(dm_name, "migrate abort", NULL, 0);
			if (ret == -EBUSY)
				spt_warn("the switch of %s/%s has begun and cannot be aborted: waiting for it to end (interrupt again to stop waiting)",
					 pool, vol);
			else if (ret && ret != -EINVAL)
				spt_warn("migrate abort: %s", strerror(-ret));
			continue;
		}
		if (atomic_load(&mig_signal) && abort_sent) {
			progress_clear(prp);
			spt_err("stopped waiting; the job of %s/%s goes on in the kernel: see 'slicepool migrate %s/%s --status'",
				pool, vol, pool, vol);
			kmsg_close();
			return -EINTR;
		}
		sleep_ms(POLL_MS);
	}
	progress_clear(prp);
	if (!strcmp(res->st.state, "done")) {
		kmsg_close();
		return 0;
	}
	return 1;
}

int spt_mig_wait(const char *pool, const char *vol, const char *dm_name,
		 unsigned long chunk_kb, struct spt_mig_result *res)
{
	return mig_wait(pool, vol, dm_name, chunk_kb, res, NULL);
}

/*
 * Explains a job that did not end "done" (after spt_mig_wait()), with the
 * kernel's log lines.
 */
void spt_mig_print_failure(const char *pool, const char *vol,
			   const struct spt_mig_result *res)
{
	const struct spt_mig_status *ms = &res->st;

	if (!strcmp(ms->state, "aborted")) {
		spt_err("the migration of %s/%s was aborted%s: the volume stays on its source, the destination slices were freed",
			pool, vol, res->interrupted ? " (interrupted)" : "");
		kmsg_close();
		return;
	}
	spt_err("the migration of %s/%s failed (%s%s%s): the volume stays on its source",
		pool, vol, ms->state,
	       ms->error ? ", " : "", ms->error ? strerror(-ms->error) : "");
	if (!kmsg_report())
		spt_err("see dmesg | grep slicepool for the kernel's reason");
	spt_err("check the members' state ('slicepool status %s': a failed member, I/O errors in dmesg) before trying again",
		pool);
}

/*
 * Checks, starts and waits for one migration of @pool/@vol. Returns like
 * spt_mig_wait(): 0 done, 1 aborted or failed (not printed yet), or a
 * negative errno, printed (also a refusal before the job started).
 */
int spt_mig_run(const char *pool, const char *vol,
		const struct spt_mig_req *req, struct spt_mig_result *res)
{
	char dm_name[2 * SPT_NAME_MAX + 2];
	int ret;

	memset(res, 0, sizeof(*res));
	spt_dm_name(pool, vol, dm_name, sizeof(dm_name));
	ret = spt_mig_check(pool, vol, dm_name, req);
	if (ret)
		return ret;
	ret = spt_mig_start(pool, vol, dm_name, req);
	if (ret)
		return ret;
	return spt_mig_wait(pool, vol, dm_name, req->chunk_kb, res);
}

/*
 * Runs @jobs of @pool one after another (each checked, started and
 * waited for) to @tmpl->dest with @tmpl's other settings, shown as one
 * progress bar with one ETA, labelled @label; @slice_bytes is the pool's
 * slice size.  Stops at the first job that does not end "done", and
 * before the next job after SIGINT or SIGTERM.  jobs[i].ran and
 * jobs[i].res say what ran.  Returns 0 (all done), 1 (the last job that
 * ran ended aborted or failed, not printed: spt_mig_print_failure()),
 * -EINTR (interrupted between two jobs, not printed) or another negative
 * errno (printed: a refusal, or the status could not be followed).
 */
int spt_mig_batch_run(const char *pool, const char *label,
		      struct spt_mig_job *jobs, size_t n,
		      const struct spt_mig_req *tmpl, u64 slice_bytes)
{
	char dm_name[2 * SPT_NAME_MAX + 2];
	struct spt_mig_req req;
	struct batch b;
	size_t i;
	int ret = 0;

	memset(&b, 0, sizeof(b));
	b.label = label;
	b.nr_jobs = (unsigned int)n;
	for (i = 0; i < n; i++) {
		jobs[i].ran = false;
		memset(&jobs[i].res, 0, sizeof(jobs[i].res));
		b.total += (jobs[i].last - jobs[i].first + 1) * slice_bytes;
	}
	b.pr.tty = isatty(STDERR_FILENO);
	b.pr.win_ms = now_ms();
	for (i = 0; i < n; i++) {
		struct spt_mig_job *j = &jobs[i];

		if (spt_mig_interrupted())
			return -EINTR;
		req = *tmpl;
		req.all = false;
		req.first = j->first;
		req.last = j->last;
		spt_dm_name(pool, j->vol, dm_name, sizeof(dm_name));
		ret = spt_mig_check(pool, j->vol, dm_name, &req);
		if (!ret)
			ret = spt_mig_start(pool, j->vol, dm_name, &req);
		if (ret)
			return ret;
		j->ran = true;
		b.job = (unsigned int)i + 1;
		b.cur = (j->last - j->first + 1) * slice_bytes;
		b.pr.pass = 0;
		b.pr.state[0] = '\0';
		ret = mig_wait(pool, j->vol, dm_name, req.chunk_kb, &j->res, &b);
		if (ret)
			return ret;
		/* Interrupted when the job could no longer be aborted. */
		if (j->res.interrupted)
			return -EINTR;
		b.done += (j->last - j->first + 1) * slice_bytes;
		b.copied += j->res.st.bytes_copied;
	}
	return 0;
}

/*
 * Moves logical slice @logical of @pool/@vol to @dest (a member or
 * domain:<label>) with the other settings of @req: spt_mig_run() and its
 * return.  When the move is done, @to_member names the member that holds
 * the slice now, read back from the volume's map ("" if it cannot be).
 */
int spt_mig_move_slice(const char *pool, const char *vol, u64 logical,
		       const char *dest, struct spt_mig_req *req,
		       struct spt_mig_result *res, char *to_member, size_t len)
{
	struct spt_map_entry *map;
	size_t n;
	int ret;

	req->all = false;
	req->first = logical;
	req->last = logical;
	snprintf(req->dest, sizeof(req->dest), "%s", dest);
	ret = spt_mig_run(pool, vol, req, res);
	to_member[0] = '\0';
	if (!ret && !spt_vol_map_read(pool, vol, &map, &n)) {
		if (logical < n)
			snprintf(to_member, len, "%s", map[logical].member);
		free(map);
	}
	return ret;
}
