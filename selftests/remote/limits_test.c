// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of slicepool-agent's connection limits, over TCP with the
 * real server on 127.0.0.1 and clients bound to other loopback addresses
 * (127.0.0.2.. : other sources): an idle connection dropped within 1 s,
 * at most conn_per_source connections from one address, a flood of idle
 * connections from one address that does not keep another peer out, the
 * whole table full, and a slow grant (zeroing, faked by the backend's
 * delay) that does not hold up heartbeats: requests are handled by
 * workers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "remote-test.h"

#define MIB	1048576ULL

static struct spa_config ca, cb, cc;
static struct spa_key key;
static struct test_server srv;

static void setup(void)
{
	test_server_config(&ca, true);
	fake_member("pa", "m1", 8, "online", 1);
	test_key(&key, TEST_KEY_HEX);
	test_keys(&keys, &key);
	test_server_start(&srv, &ca, &keys);
	test_client(&cb, "b", 7);
	test_client(&cc, "c", 8);
}

/* A connection to the server from 127.0.0.@host; the fd or -1. */
static int connect_from(unsigned int host)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr_in me = { .sin_family = AF_INET };
	int fd;

	me.sin_addr.s_addr = htonl(0x7f000000 | host);
	sa.sin_port = htons(srv.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Milliseconds until the server closes @fd (up to @limit_ms), or -1. */
static long closed_after(int fd, unsigned int limit_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	u64 t0 = spa_mono_ms();
	char c;

	while (spa_mono_ms() - t0 < limit_ms) {
		if (poll(&p, 1, 50) > 0)
			return read(fd, &c, 1) <= 0 ? (long)(spa_mono_ms() - t0) :
			       -1;
	}
	return -1;
}

/* A heartbeat from @c: answered? In how many ms (@ms). */
static bool heartbeat(const struct spa_config *c, u64 *ms)
{
	struct spa_msg req, rep;
	char why[512];
	u64 t0 = spa_mono_ms();
	bool ok;

	spa_msg_init(&req, c, SPA_HEARTBEAT);
	ok = !spa_call(c, &keys, "127.0.0.1", srv.port, "a", &req, &rep, why,
		       sizeof(why)) && rep.type == (SPA_HEARTBEAT | SPA_REPLY);
	if (!ok)
		printf("#   %s: no answer: %s\n", c->node, why);
	if (ms)
		*ms = spa_mono_ms() - t0;
	return ok;
}

static void close_all(int *fds, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void t_idle_dropped(void)
{
	int fd = connect_from(2);
	long ms;

	CHECK(fd >= 0, "cannot connect");
	ms = closed_after(fd, 3000);
	CHECK(ms >= 900 && ms < 2000, "an idle connection closed after %ld ms",
	      ms);
	CHECK(cap_has("127.0.0.2", "timed out after 1000 ms with 0 of 12 bytes"),
	      "logged");
	close(fd);
}

static void t_per_source(void)
{
	int fds[5], i;
	long ms;

	for (i = 0; i < 5; i++)
		fds[i] = connect_from(3);
	usleep(100000);
	ms = closed_after(fds[4], 500);
	CHECK(ms >= 0 && ms < 500, "the 5th from one address closed after %ld ms",
	      ms);
	CHECK(closed_after(fds[3], 200) < 0, "the 4th was closed");
	CHECK(cap_has("4 connections already open from 127.0.0.3 (conn_per_source)",
		      NULL), "logged");
	close_all(fds, 5);
}

static void t_flood(void)
{
	u64 ms = 0, t0;
	int fds[24], i;

	usleep(200000);		/* the server sees the last test's closes */
	t0 = spa_mono_ms();
	/* More than the whole table, within the listen backlog: at once. */
	for (i = 0; i < 24; i++)
		fds[i] = connect_from(4);
	usleep(100000);
	CHECK(spa_mono_ms() - t0 < 600,
	      "the flood took %llu ms: the idle ones may have gone already",
	      spa_mono_ms() - t0);
	CHECK(heartbeat(&cb, &ms) && ms < 500,
	      "b's heartbeat during a flood from 127.0.0.4: %llu ms", ms);
	CHECK(heartbeat(&cc, &ms) && ms < 500,
	      "c's heartbeat during the flood: %llu ms", ms);
	close_all(fds, 24);
}

static void t_table_full(void)
{
	int fds[20], i;
	u64 ms = 0;

	/* Refusals are logged at most 20 a second: a second without any. */
	usleep(1100000);
	for (i = 0; i < 20; i++)
		fds[i] = connect_from(5 + i / 4);
	usleep(100000);
	CHECK(cap_has("16 connections already open", NULL),
	      "the 17th connection refused and logged");
	/* Idle ones go within 1 s: the table is free again. */
	usleep(1300000);
	CHECK(heartbeat(&cb, &ms), "a heartbeat after the idle ones went");
	close_all(fds, 20);
}

struct slow {
	struct spa_msg rep;
	char why[512];
	int ret;
};

static void *slow_request(void *arg)
{
	struct slow *s = arg;
	struct spa_msg req;

	test_request_msg(&cb, &req, 64 * MIB);
	s->ret = spa_call(&cb, &keys, "127.0.0.1", srv.port, "a", &req, &s->rep,
			  s->why, sizeof(s->why));
	return NULL;
}

static void t_slow_grant(void)
{
	struct slow s = { .ret = -1 };
	struct spa_msg req, rep;
	char why[512];
	pthread_t t;
	u64 ms = 0, t0;

	fake_ctx.delay_ms = 3000;	/* the volume made and zeroed: 3 s */
	t0 = spa_mono_ms();
	pthread_create(&t, NULL, slow_request, &s);
	usleep(300000);
	CHECK(heartbeat(&cc, &ms) && ms < 1000,
	      "a heartbeat while a grant is zeroed took %llu ms", ms);
	CHECK(heartbeat(&cb, &ms) && ms < 1000,
	      "the borrower's own heartbeat meanwhile: %llu ms", ms);
	CHECK(spa_mono_ms() - t0 < 2500, "the heartbeats waited for the grant");
	pthread_join(t, NULL);
	fake_ctx.delay_ms = 0;
	CHECK(!s.ret && s.rep.type == SPA_GRANT, "the grant: %d %s %s", s.ret,
	      s.why, s.rep.err_text);
	spa_msg_init(&req, &cb, SPA_RELEASE);
	req.fields |= SPA_F(SPA_T_GRANT_ID);
	req.grant_id = s.rep.grant_id;
	CHECK(!spa_call(&cb, &keys, "127.0.0.1", srv.port, "a", &req, &rep, why,
			sizeof(why)) && rep.type == (SPA_RELEASE | SPA_REPLY),
	      "given back: %s", rep.err_text);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "an idle connection is dropped within 1 s", t_idle_dropped },
		{ "at most conn_per_source (4) connections from one address",
		  t_per_source },
		{ "a flood of idle connections from one address keeps no peer out",
		  t_flood },
		{ "the whole table full: refused, free again within 1 s",
		  t_table_full },
		{ "heartbeats are answered while a grant is being zeroed",
		  t_slow_grant },
	};

	setup();
	return test_server_run(&srv, cases, ARRAY_SIZE(cases));
}
