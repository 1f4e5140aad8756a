// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the daemon's control socket
 *
 * What only the running daemon can do, since it holds the lender's
 * ledger: 'revoke GRANT', 'unfence GRANT' and 'release-fenced GRANT'
 * (Documentation/nvmet-remote-ns.rst, "Revocation and leases").  The
 * command connects to the Unix socket <state_dir>/ctl.sock (mode 0600 in
 * the private state directory; the daemon also checks that the caller is
 * root or its own user, SO_PEERCRED), sends one line "<command> <grant
 * id>" and reads one line back: "ok <text>", "refused <text>" (nothing
 * changed) or "failed <text>".  One thread serves it, a request at a
 * time, apart from the server and the heartbeat threads.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"

#define SPA_CTL_LINE	256
#define SPA_CTL_TIMEOUT_MS	2000

static int ctl_path(const struct spa_config *c, struct sockaddr_un *sa,
		    char *why, size_t wlen)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (spu_path(sa->sun_path, sizeof(sa->sun_path), "%s/ctl.sock",
		     c->state_dir))
		return spu_reason(why, wlen, -ENAMETOOLONG,
				  "state_dir %s is too long for a socket path",
				  c->state_dir);
	return 0;
}

static void reply(char *out, size_t len, const char *word, const char *fmt,
		  ...) __printf(4, 5);
static void reply(char *out, size_t len, const char *word, const char *fmt,
		  ...)
{
	size_t n;
	va_list ap;

	n = (size_t)snprintf(out, len, "%s ", word);
	if (n >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(out + n, len - n, fmt, ap);
	va_end(ap);
	for (; out[n]; n++)
		if (out[n] == '\n')
			out[n] = ' ';
}

static void ctl_revoke(struct spa_agent *a, u64 id, char *out, size_t len)
{
	char peer[SPA_NODE_MAX + 1], why[512];
	int ret;

	if (spa_lender_revoke_begin(a->lender, id, peer, why, sizeof(why))) {
		reply(out, len, "refused", "%s", why);
		return;
	}
	ret = spa_revoke_send(a->cfg, a->keys, peer, id, why, sizeof(why));
	if (ret) {
		spa_lender_revoke_failed(a->lender, id, why);
		reply(out, len, ret > 0 ? "refused" : "failed",
		      "%s (grant %016llx stays active)", why, id);
		return;
	}
	spa_lender_revoke_accepted(a->lender, id);
	reply(out, len, "ok",
	      "revoking %016llx: %s accepted; it moves its slices off, then gives the grant back ('status' shows how it goes)",
	      id, peer);
}

void spa_ctl_exec(struct spa_agent *a, const char *line, char *out,
		  size_t len)
{
	char cmd[32], arg[64], extra[2];
	char why[512];
	u64 id;
	int n;

	n = sscanf(line, "%31s %63s %1s", cmd, arg, extra);
	if (n != 2 || spa_grant_id_parse(arg, &id)) {
		reply(out, len, "refused", "bad request '%.60s'", line);
		return;
	}
	if (!a->lender) {
		reply(out, len, "refused", "node %s does not lend",
		      a->cfg->node);
		return;
	}
	if (!strcmp(cmd, "revoke")) {
		ctl_revoke(a, id, out, len);
	} else if (!strcmp(cmd, "unfence")) {
		if (spa_lender_unfence(a->lender, id, why, sizeof(why)))
			reply(out, len, "refused", "%s", why);
		else
			reply(out, len, "ok", "unfenced %016llx", id);
	} else if (!strcmp(cmd, "release-fenced")) {
		n = spa_lender_release_fenced(a->lender, id, why, sizeof(why));
		if (n == -EBUSY)
			reply(out, len, "refused", "%s", why);
		else if (n)
			reply(out, len, "failed", "%s", why);
		else
			reply(out, len, "ok", "released %016llx", id);
	} else {
		reply(out, len, "refused", "unknown request '%.31s'", cmd);
	}
}

/* Reads one line from @fd within @ms (its newline dropped); -1 if none. */
static ssize_t read_line(int fd, char *buf, size_t len, u64 ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	u64 until = spa_mono_ms() + ms, now;
	size_t have = 0;
	ssize_t n;

	while (have < len - 1) {
		now = spa_mono_ms();
		if (now >= until || poll(&p, 1, (int)(until - now)) <= 0)
			return -1;
		n = read(fd, buf + have, len - 1 - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if (strchr(buf, '\n')) {
			*strchr(buf, '\n') = '\0';
			return (ssize_t)strlen(buf);
		}
	}
	return -1;
}

static void serve_one(struct spa_agent *a, int fd)
{
	char line[SPA_CTL_LINE], out[1024];
	struct ucred cr;
	socklen_t cl = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) ||
	    (cr.uid != 0 && cr.uid != geteuid())) {
		spa_warn("control socket: a request from uid %d refused (root or uid %d only)",
			 (int)cr.uid, (int)geteuid());
		return;
	}
	if (read_line(fd, line, sizeof(line), SPA_CTL_TIMEOUT_MS) < 0) {
		spa_warn("control socket: no whole request line within %d ms",
			 SPA_CTL_TIMEOUT_MS);
		return;
	}
	spa_ctl_exec(a, line, out, sizeof(out) - 1);
	spa_info("control: %s: %s", line, out);
	strcat(out, "\n");
	if (write(fd, out, strlen(out)) < 0)
		spa_warn("control socket: cannot answer: %s", strerror(errno));
}

static void *ctl_main(void *arg)
{
	struct spa_ctl *ctl = arg;
	struct pollfd p[2] = {
		{ .fd = ctl->fd, .events = POLLIN },
		{ .fd = ctl->stop_fd, .events = POLLIN },
	};
	int fd;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(ctl->a, fd);
		close(fd);
	}
	return NULL;
}

int spa_ctl_start(struct spa_ctl *ctl, struct spa_agent *a, int stop_fd,
		  char *why, size_t wlen)
{
	struct sockaddr_un sa;
	int ret;

	memset(ctl, 0, sizeof(*ctl));
	ctl->fd = -1;
	ret = ctl_path(a->cfg, &sa, why, wlen);
	if (ret)
		return ret;
	/* The daemon holds agent.lock: a socket there is a stale one. */
	unlink(sa.sun_path);
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0 || fchmod(ctl->fd, 0600) ||
	    bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(sa.sun_path, 0600) || listen(ctl->fd, 4)) {
		ret = -errno;
		if (ctl->fd >= 0)
			close(ctl->fd);
		ctl->fd = -1;
		return spu_reason(why, wlen, ret,
				  "cannot set up the control socket %s: %s",
				  sa.sun_path, strerror(-ret));
	}
	ctl->a = a;
	ctl->stop_fd = stop_fd;
	if (pthread_create(&ctl->thread, NULL, ctl_main, ctl)) {
		close(ctl->fd);
		ctl->fd = -1;
		unlink(sa.sun_path);
		return spu_reason(why, wlen, -EAGAIN,
				  "cannot start the control thread");
	}
	ctl->running = true;
	return 0;
}

void spa_ctl_stop(struct spa_ctl *ctl)
{
	struct sockaddr_un sa;

	if (ctl->running)
		pthread_join(ctl->thread, NULL);
	ctl->running = false;
	if (ctl->fd >= 0) {
		close(ctl->fd);
		if (!ctl_path(ctl->a->cfg, &sa, NULL, 0))
			unlink(sa.sun_path);
	}
	ctl->fd = -1;
}

int spa_ctl_call(const struct spa_config *c, const char *line, char *out,
		 size_t len, char *why, size_t wlen)
{
	struct sockaddr_un sa;
	char buf[SPA_CTL_LINE + 2];
	ssize_t n;
	int fd, ret;

	ret = ctl_path(c, &sa, why, wlen);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return spu_reason(why, wlen, -errno, "socket: %s",
				  strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		close(fd);
		return spu_reason(why, wlen, ret,
				  "cannot reach the daemon at %s: %s (is 'slicepool-agent daemon' running with this configuration?)",
				  sa.sun_path, strerror(-ret));
	}
	snprintf(buf, sizeof(buf), "%s\n", line);
	if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf)) {
		close(fd);
		return spu_reason(why, wlen, -EIO, "cannot write to %s",
				  sa.sun_path);
	}
	/* The daemon may wait on the peer: io_timeout, and some slack. */
	n = read_line(fd, out, len, (u64)(c->io_timeout + 30) * 1000);
	close(fd);
	if (n < 0)
		return spu_reason(why, wlen, -EIO,
				  "no answer from the daemon at %s", sa.sun_path);
	return 0;
}
