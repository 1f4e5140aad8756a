// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the TCP server and the client call
 *
 * One request a connection: the client connects, sends one frame, reads
 * one reply, and both sides close.  The server is one thread with a poll
 * loop that reads frames: it holds at most SPA_CONN_MAX connections and
 * at most conn_per_source (configuration) from one address, reads at most
 * the declared length (4096 bytes at most) into a fixed buffer, and drops
 * a connection that has not delivered its whole frame within
 * SPA_RECV_TIMEOUT_MS (1 s).  Each of these refusals is logged.  A whole
 * frame is handled (authenticated, answered) by a worker thread, up to
 * SPA_WORKERS_MAX at once, so that a request that takes long (zeroing a
 * grant, tearing one down) holds up neither the heartbeats nor the other
 * requests; the lender serialises grants with its own lock.  With every
 * worker busy, the server thread handles the frame itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"

#define SPA_CONN_MAX		16
#define SPA_RECV_TIMEOUT_MS	1000
#define SPA_WORKERS_MAX		8

/* The worker threads in flight. */
struct spa_workers {
	pthread_mutex_t lock;	/* protects n */
	pthread_cond_t idle;	/* n went down */
	unsigned int n;
};

/* A whole frame, for a worker. */
struct spa_job {
	struct spa_agent *a;
	struct spa_workers *w;
	int fd;
	size_t len;
	char from[SPA_ADDR_MAX + 16];
	u8 buf[SPA_FRAME_MAX];
	u8 out[SPA_FRAME_MAX];
};

struct conn {
	int fd;
	char addr[SPA_ADDR_MAX + 1];	/* the source address, for its limit */
	size_t have;
	size_t need;
	u64 deadline;
	char from[SPA_ADDR_MAX + 16];
	u8 buf[SPA_FRAME_MAX];
};

static int sockaddr_of(const char *addr, u16 port,
		       struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

static void addr_str(const struct sockaddr_storage *ss, char *buf,
		     size_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

/* A non-blocking TCP socket for @addr (@what, if it is bad) and @port. */
static int socket_for(const char *addr, u16 port, const char *what,
		      struct sockaddr_storage *ss, socklen_t *len, char *why,
		      size_t wlen)
{
	int fd;

	if (sockaddr_of(addr, port, ss, len))
		return spu_reason(why, wlen, -EINVAL, "bad %s %s", what, addr);
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0)
		return spu_reason(why, wlen, -errno, "socket: %s", strerror(errno));
	return fd;
}

int spa_listen(const char *addr, u16 port, u16 *bound, char *why,
	       size_t wlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, ret;

	fd = socket_for(addr, port, "listen address", &ss, &len, why, wlen);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 32)) {
		ret = -errno;
		close(fd);
		return spu_reason(why, wlen, ret, "cannot listen on %s:%u: %s",
				  addr, port, strerror(-ret));
	}
	len = sizeof(ss);
	if (bound) {
		*bound = port;
		if (!getsockname(fd, (struct sockaddr *)&ss, &len))
			*bound = ntohs(ss.ss_family == AF_INET ?
				       ((struct sockaddr_in *)&ss)->sin_port :
				       ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return fd;
}

int spa_xfer_all(spa_xfer_fn *step, void *ctx, void *buf, size_t len,
		 size_t *done)
{
	size_t got = 0;
	ssize_t n;
	int ret = 0;

	while (got < len) {
		n = step(ctx, (u8 *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n ? -errno : -ECONNRESET;
			break;
		}
		got += n;
	}
	if (done)
		*done = got;
	return ret;
}

static ssize_t send_some(void *fd, void *buf, size_t len)
{
	return send(*(int *)fd, buf, len, MSG_NOSIGNAL);
}

static ssize_t recv_some(void *fd, void *buf, size_t len)
{
	return recv(*(int *)fd, buf, len, 0);
}

static void set_timeouts(int fd, unsigned int seconds)
{
	struct timeval tv = { .tv_sec = seconds };
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
}

/* Handles one whole frame on @fd: answers it (or not). */
static void answer(struct spa_agent *a, int fd, const u8 *in, size_t len,
		   const char *from, u8 *out)
{
	size_t olen;

	olen = spa_agent_handle(a, in, len, from, out, SPA_FRAME_MAX);
	if (olen) {
		set_timeouts(fd, a->cfg->io_timeout);
		if (spa_xfer_all(send_some, &fd, out, olen, NULL))
			spa_warn("cannot send the reply to %s: %s", from,
				 strerror(errno));
	}
}

static void *worker(void *arg)
{
	struct spa_job *j = arg;
	struct spa_workers *w = j->w;

	answer(j->a, j->fd, j->buf, j->len, j->from, j->out);
	close(j->fd);
	free(j);
	pthread_mutex_lock(&w->lock);
	w->n--;
	pthread_cond_broadcast(&w->idle);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Hands the connection to a worker; false if none can take it. */
static bool to_worker(struct spa_agent *a, struct spa_workers *w,
		      struct conn *c)
{
	pthread_attr_t attr;
	struct spa_job *j;
	pthread_t t;
	bool ok;

	pthread_mutex_lock(&w->lock);
	ok = w->n < SPA_WORKERS_MAX;
	if (ok)
		w->n++;
	pthread_mutex_unlock(&w->lock);
	if (!ok)
		return false;
	j = malloc(sizeof(*j));
	if (j) {
		j->a = a;
		j->w = w;
		j->fd = c->fd;
		j->len = c->have;
		memcpy(j->buf, c->buf, c->have);
		snprintf(j->from, sizeof(j->from), "%s", c->from);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		ok = !pthread_create(&t, &attr, worker, j);
		pthread_attr_destroy(&attr);
		if (!ok)
			free(j);
	}
	if (j && ok) {
		c->fd = -1;	/* the worker's now */
		return true;
	}
	pthread_mutex_lock(&w->lock);
	w->n--;
	pthread_mutex_unlock(&w->lock);
	return false;
}

/* The whole frame is in: a worker answers it, or this thread does. */
static void conn_answer(struct spa_agent *a, struct spa_workers *w,
			struct conn *c, u8 *out)
{
	if (to_worker(a, w, c))
		return;
	answer(a, c->fd, c->buf, c->have, c->from, out);
	conn_close(c);
}

/* Reads what is there; true when the connection is done with. */
static bool conn_read(struct spa_agent *a, struct spa_workers *w,
		      struct conn *c, u8 *out)
{
	char why[256];
	ssize_t n;
	u32 flen;

	for (;;) {
		n = recv(c->fd, c->buf + c->have, c->need - c->have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (n < 0) {
			spu_refuse(c->from, "receive error: %s", strerror(errno));
			conn_close(c);
			return true;
		}
		if (!n) {
			if (c->have)
				spu_refuse(c->from,
					   "truncated: connection closed after %zu of %zu bytes",
					   c->have, c->need);
			conn_close(c);
			return true;
		}
		c->have += n;
		if (c->have < c->need)
			continue;
		if (c->need == SPA_PREFIX_LEN) {
			if (spa_check_prefix(c->buf, c->have, &flen, why,
					     sizeof(why))) {
				spu_refuse(c->from, "%s", why);
				conn_close(c);
				return true;
			}
			c->need = flen;
			continue;
		}
		conn_answer(a, w, c, out);
		return true;
	}
}

/* The numeric address of @ss, without its port. */
static void host_str(const struct sockaddr_storage *ss, char *buf,
		     size_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

	snprintf(buf, len, "?");
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &s4->sin_addr, buf, len);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, buf, len);
}

static void do_accept(struct spa_agent *a, int lfd, struct conn *conns)
{
	char from[SPA_ADDR_MAX + 16], host[SPA_ADDR_MAX + 1];
	struct sockaddr_storage ss;
	unsigned int same;
	socklen_t len;
	int fd, i, free_slot;

	for (;;) {
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
			     SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		addr_str(&ss, from, sizeof(from));
		host_str(&ss, host, sizeof(host));
		free_slot = -1;
		same = 0;
		for (i = 0; i < SPA_CONN_MAX; i++) {
			if (conns[i].fd < 0) {
				if (free_slot < 0)
					free_slot = i;
			} else if (!strcmp(conns[i].addr, host)) {
				same++;
			}
		}
		if (same >= a->cfg->conn_per_source) {
			spu_refuse(from,
				   "%u connections already open from %s (conn_per_source)",
				   same, host);
			close(fd);
			continue;
		}
		if (free_slot < 0) {
			spu_refuse(from, "%d connections already open",
				   SPA_CONN_MAX);
			close(fd);
			continue;
		}
		i = free_slot;
		snprintf(conns[i].addr, sizeof(conns[i].addr), "%s", host);
		conns[i].fd = fd;
		conns[i].have = 0;
		conns[i].need = SPA_PREFIX_LEN;
		conns[i].deadline = spa_mono_ms() + SPA_RECV_TIMEOUT_MS;
		snprintf(conns[i].from, sizeof(conns[i].from), "%s", from);
	}
}

int spa_serve(struct spa_agent *a, int lfd, int sigfd)
{
	struct pollfd pfd[SPA_CONN_MAX + 2];
	struct spa_workers w = { .n = 0 };
	struct signalfd_siginfo si;
	struct conn *conns;
	int map[SPA_CONN_MAX + 2];
	u64 now, next, t0, spent;
	int i, j, n, timeout, ret = 0;
	u8 *out;

	conns = calloc(SPA_CONN_MAX, sizeof(*conns));
	out = malloc(SPA_FRAME_MAX);
	if (!conns || !out) {
		free(conns);
		free(out);
		return -ENOMEM;
	}
	for (i = 0; i < SPA_CONN_MAX; i++)
		conns[i].fd = -1;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.idle, NULL);
	for (;;) {
		n = 0;
		pfd[n].fd = lfd;
		pfd[n].events = POLLIN;
		map[n++] = -1;
		if (sigfd >= 0) {
			pfd[n].fd = sigfd;
			pfd[n].events = POLLIN;
			map[n++] = -2;
		}
		now = spa_mono_ms();
		next = now + 1000;
		for (i = 0; i < SPA_CONN_MAX; i++) {
			if (conns[i].fd < 0)
				continue;
			pfd[n].fd = conns[i].fd;
			pfd[n].events = POLLIN;
			map[n++] = i;
			if (conns[i].deadline < next)
				next = conns[i].deadline;
		}
		timeout = next > now ? (int)(next - now) : 0;
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			spa_err("poll: %s", strerror(errno));
			break;
		}
		for (j = 0; j < n; j++) {
			if (!pfd[j].revents)
				continue;
			if (map[j] == -2) {
				if (read(sigfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					spa_agent_reload(a, a->cfg->path);
					continue;
				}
				spa_info("signal %u: stopping", si.ssi_signo);
				goto out;
			}
			if (map[j] == -1) {
				do_accept(a, lfd, conns);
				continue;
			}
			i = map[j];
			if (conns[i].fd < 0)
				continue;
			t0 = spa_mono_ms();
			conn_read(a, &w, &conns[i], out);
			/* Time spent on a request is not held against the others. */
			spent = spa_mono_ms() - t0;
			for (i = 0; i < SPA_CONN_MAX; i++)
				if (conns[i].fd >= 0)
					conns[i].deadline += spent;
		}
		now = spa_mono_ms();
		for (i = 0; i < SPA_CONN_MAX; i++) {
			if (conns[i].fd < 0 || conns[i].deadline > now)
				continue;
			spu_refuse(conns[i].from,
				   "timed out after %d ms with %zu of %zu bytes",
				   SPA_RECV_TIMEOUT_MS, conns[i].have,
				   conns[i].need);
			conn_close(&conns[i]);
		}
	}
out:
	for (i = 0; i < SPA_CONN_MAX; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	/* The workers use the agent: they finish first. */
	pthread_mutex_lock(&w.lock);
	while (w.n)
		pthread_cond_wait(&w.idle, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.idle);
	pthread_mutex_destroy(&w.lock);
	free(conns);
	free(out);
	return ret;
}

/* ------------------------------------------------------- the client */

int spa_connect_to(const char *addr, u16 port, unsigned int timeout_s,
		   char *why, size_t wlen)
{
	struct sockaddr_storage ss;
	struct pollfd pfd;
	socklen_t len;
	int fd, err = 0, ret;

	fd = socket_for(addr, port, "address", &ss, &len, why, wlen);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS) {
		ret = -errno;
		goto fail;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	ret = poll(&pfd, 1, (int)timeout_s * 1000);
	if (ret <= 0) {
		ret = ret ? -errno : -ETIMEDOUT;
		goto fail;
	}
	len = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		ret = -err;
		goto fail;
	}
	set_timeouts(fd, timeout_s);
	return fd;
fail:
	close(fd);
	return spu_reason(why, wlen, ret, "cannot connect to %s:%u: %s", addr,
			  port, strerror(-ret));
}

int spa_call(const struct spa_config *c, struct spa_keys *key,
	     const char *addr, u16 port, const char *peer_name,
	     struct spa_msg *req, struct spa_msg *rep, char *why,
	     size_t wlen)
{
	char tmp[256];
	u8 *buf;
	size_t len, got;
	u32 flen;
	int fd, ret;

	buf = malloc(SPA_FRAME_MAX);
	if (!buf)
		return spu_reason(why, wlen, -ENOMEM, "out of memory");
	snprintf(req->to, sizeof(req->to), "%s", peer_name);
	req->fields |= SPA_F(SPA_T_TO);
	ret = spa_encode(req, buf, SPA_FRAME_MAX, &len, tmp, sizeof(tmp));
	if (!ret) {
		ret = spa_keys_seal(key, peer_name, SPA_KEY_CUR, buf, len);
		if (ret == -ENOKEY) {
			free(buf);
			return spu_reason(why, wlen, ret,
					  "no key for peer %s: add 'peer_key %s FILE' to %s",
					  peer_name, peer_name, c->path);
		}
		if (ret)
			snprintf(tmp, sizeof(tmp), "cannot seal it");
	}
	if (ret) {
		free(buf);
		return spu_reason(why, wlen, ret, "cannot encode the %s: %s",
				  spa_type_name(req->type), tmp);
	}
	fd = spa_connect_to(addr, port, c->io_timeout, why, wlen);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	ret = spa_xfer_all(send_some, &fd, buf, len, NULL);
	if (ret) {
		spu_reason(why, wlen, ret, "cannot send to %s (%s:%u): %s",
			   peer_name, addr, port, strerror(-ret));
		goto out;
	}
	ret = spa_xfer_all(recv_some, &fd, buf, SPA_PREFIX_LEN, &got);
	if (ret == -ECONNRESET && !got) {
		spu_reason(why, wlen, ret,
			   "%s (%s:%u) closed the connection without a reply: it refuses what it cannot authenticate (is the key the same on both nodes? see its log)",
			   peer_name, addr, port);
		goto out;
	}
	if (ret) {
		spu_reason(why, wlen, ret, "no reply from %s (%s:%u): %s",
			   peer_name, addr, port,
			   ret == -EAGAIN ? "timed out" : strerror(-ret));
		goto out;
	}
	ret = spa_check_prefix(buf, got, &flen, tmp, sizeof(tmp));
	if (ret) {
		spu_reason(why, wlen, ret, "bad reply from %s: %s", peer_name, tmp);
		goto out;
	}
	ret = spa_xfer_all(recv_some, &fd, buf + SPA_PREFIX_LEN,
			   flen - SPA_PREFIX_LEN, &got);
	if (ret) {
		spu_reason(why, wlen, ret, "truncated reply from %s: %s", peer_name,
			   ret == -EAGAIN ? "timed out" : strerror(-ret));
		goto out;
	}
	if (spa_keys_verify(key, peer_name, buf, flen) < 0) {
		ret = spu_reason(why, wlen, -SPA_E_MAC,
				 "the reply of %s failed authentication (another key?)",
				 peer_name);
		goto out;
	}
	ret = spa_decode(buf, flen, rep, tmp, sizeof(tmp));
	if (ret) {
		spu_reason(why, wlen, ret, "bad reply from %s: %s", peer_name, tmp);
		goto out;
	}
	if (memcmp(rep->reply_to, req->nonce, SPA_NONCE_LEN) ||
	    strcmp(rep->node, peer_name) ||
	    (rep->type != (req->type | SPA_REPLY) && rep->type != SPA_ERROR)) {
		ret = spu_reason(why, wlen, -SPA_E_FIELD,
				 "the reply (a %s from %s) does not answer this %s to %s",
				 spa_type_name(rep->type), rep->node,
				 spa_type_name(req->type), peer_name);
		goto out;
	}
	ret = spa_window_check((u64)c->max_skew * 1000, rep->ts_ms,
			       spa_now_ms(), tmp, sizeof(tmp));
	if (ret)
		spu_reason(why, wlen, ret, "reply of %s: %s (are the clocks in sync?)",
			   peer_name, tmp);
out:
	close(fd);
	free(buf);
	return ret;
}
