// SPDX-License-Identifier: GPL-2.0
/*
 * libspu - logging (see spu.h), for the agent and the tool alike
 *
 * One line per event on stderr.  A command line program (the tool, the
 * agent's client commands) sets the plain style: "<ident>: <msg>", with
 * "warning: " before a warning's text.  Otherwise, under systemd
 * (JOURNAL_STREAM set) each line starts with the syslog level as "<N>",
 * which the journal reads; elsewhere with the time, the ident and the
 * level's name.  Refusals (spu_refuse()) are rate limited: at most
 * SPU_REFUSE_BURST lines in any second; the rest are counted, and the
 * count is logged in one line with the next refusal of a later second, so
 * that a peer cannot flood the log.  Never logged: key material, MACs,
 * message bodies.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "spu.h"

#define SPU_REFUSE_BURST	20

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;	/* all below */
static spu_log_hook_fn log_hook;
static bool log_quiet;
static bool log_plain;
static const char *log_ident = "slicepool-agent";
static time_t refuse_sec;
static unsigned int refuse_count;
static unsigned long refuse_dropped;

void spu_log_set_hook(spu_log_hook_fn fn)
{
	pthread_mutex_lock(&log_lock);
	log_hook = fn;
	pthread_mutex_unlock(&log_lock);
}

void spu_log_set_quiet(bool quiet)
{
	log_quiet = quiet;
}

void spu_log_set_ident(const char *ident)
{
	log_ident = ident;
}

void spu_log_set_plain(bool plain)
{
	log_plain = plain;
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/* Called with log_lock held. */
static void emit(int level, const char *msg)
{
	char stamp[32];
	struct tm tm;
	time_t t;

	if (log_hook)
		log_hook(level, msg);
	if (log_quiet)
		return;
	if (log_plain) {
		fprintf(stderr, "%s: %s%s\n", log_ident,
			level == LOG_WARNING ? "warning: " : "", msg);
	} else if (getenv("JOURNAL_STREAM")) {
		fprintf(stderr, "<%d>%s\n", level, msg);
	} else {
		t = time(NULL);
		localtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s %s: %s: %s\n", stamp, log_ident,
			level_name(level), msg);
	}
	fflush(stderr);
}

void spu_log(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	emit(level, msg);
	pthread_mutex_unlock(&log_lock);
}

void spu_refuse(const char *from, const char *fmt, ...)
{
	char msg[1024], note[128];
	time_t now = time(NULL);
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "refused %s: ", from ? from : "-");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);

	pthread_mutex_lock(&log_lock);
	if (now != refuse_sec) {
		if (refuse_dropped) {
			snprintf(note, sizeof(note),
				 "%lu more refusals were not logged (rate limit)",
				 refuse_dropped);
			emit(LOG_WARNING, note);
		}
		refuse_sec = now;
		refuse_count = 0;
		refuse_dropped = 0;
	}
	if (refuse_count < SPU_REFUSE_BURST) {
		refuse_count++;
		emit(LOG_WARNING, msg);
	} else {
		refuse_dropped++;
	}
	pthread_mutex_unlock(&log_lock);
}
