// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the slicepool-agent wire codec
 * (nvmet-remote-ns/agent/proto.c): every message type survives an
 * encode/decode round trip, and every malformed, oversized, truncated or
 * unknown input is refused with its own status and a reason, never a
 * crash (including random mutations of valid frames).  RESIZE and its
 * reply RESIZED have their own round trips and refusals, as have REVOKE,
 * REVOKE_REPORT and their replies.
 */
#include <stdarg.h>

#include "remote-test.h"

static struct spa_key key;

/* Encodes, seals, verifies and decodes @m; the decoded copy in @out. */
static bool round_trip(const struct spa_msg *m, struct spa_msg *out)
{
	u8 buf[SPA_FRAME_MAX];
	char why[256];
	size_t len;
	int ret;

	ret = spa_encode(m, buf, sizeof(buf), &len, why, sizeof(why));
	if (ret) {
		fail("encode of %s: %s", spa_type_name(m->type), why);
		return false;
	}
	if (spa_seal(&key, buf, len) || !spa_verify(&key, buf, len)) {
		fail("seal/verify of %s", spa_type_name(m->type));
		return false;
	}
	ret = spa_decode(buf, len, out, why, sizeof(why));
	if (ret) {
		fail("decode of %s: %s", spa_type_name(m->type), why);
		return false;
	}
	return true;
}

static void base(struct spa_msg *m, u8 type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->ts_ms = 1795276407123ULL;
	spa_random(m->nonce, sizeof(m->nonce));
	snprintf(m->node, sizeof(m->node), "node-b.1");
	m->fields = SPA_F(SPA_T_NODE);
	if (type & SPA_REPLY) {
		spa_random(m->reply_to, sizeof(m->reply_to));
		m->fields |= SPA_F(SPA_T_REPLY_TO);
	} else {
		snprintf(m->to, sizeof(m->to), "a");
		m->fields |= SPA_F(SPA_T_TO);
	}
}

/*
 * A GRANT with the fields it requires but its uuid: @addr port 4420,
 * @size, grant @id, @subnqn, nsid 1.
 */
static void base_grant(struct spa_msg *m, const char *addr, u64 size, u64 id,
		       const char *subnqn)
{
	base(m, SPA_GRANT);
	m->fields |= SPA_F(SPA_T_ADDR) | SPA_F(SPA_T_PORT) | SPA_F(SPA_T_SIZE) |
		     SPA_F(SPA_T_GRANT_ID) | SPA_F(SPA_T_SUBNQN) |
		     SPA_F(SPA_T_NSID) | SPA_F(SPA_T_UUID);
	snprintf(m->addr, sizeof(m->addr), "%s", addr);
	m->port = 4420;
	m->size = size;
	m->grant_id = id;
	snprintf(m->subnqn, sizeof(m->subnqn), "%s", subnqn);
	m->nsid = 1;
}

static void same_common(const struct spa_msg *a, const struct spa_msg *b)
{
	CHECK(a->type == b->type, "type %02x != %02x", a->type, b->type);
	CHECK(a->ts_ms == b->ts_ms, "ts");
	CHECK(!memcmp(a->nonce, b->nonce, SPA_NONCE_LEN), "nonce");
	CHECK(a->fields == b->fields, "fields %x != %x", a->fields, b->fields);
	CHECK(!strcmp(a->node, b->node), "node");
	CHECK(!strcmp(a->to, b->to), "to");
	CHECK(!memcmp(a->reply_to, b->reply_to, SPA_NONCE_LEN), "reply_to");
}

static void t_hello(void)
{
	struct spa_msg m, d;

	base(&m, SPA_HELLO);
	m.fields |= SPA_F(SPA_T_ADDR) | SPA_F(SPA_T_PORT);
	snprintf(m.addr, sizeof(m.addr), "10.99.0.2");
	m.port = 7450;
	if (!round_trip(&m, &d))
		return;
	same_common(&m, &d);
	CHECK(!strcmp(d.addr, "10.99.0.2") && d.port == 7450, "%s %u", d.addr,
	      d.port);
}

static void t_peer_lists(void)
{
	struct spa_msg m, d;
	unsigned int i;
	u8 types[] = { SPA_HELLO | SPA_REPLY, SPA_PEERS | SPA_REPLY };
	size_t t;

	for (t = 0; t < ARRAY_SIZE(types); t++) {
		base(&m, types[t]);
		m.fields |= SPA_F(SPA_T_PEER);
		m.nr_peers = SPA_PEERS_MAX;
		for (i = 0; i < m.nr_peers; i++) {
			snprintf(m.peers[i].name, sizeof(m.peers[i].name),
				 "peer-%02u-xxxxxxxxxxxxxxx", i);
			snprintf(m.peers[i].addr, sizeof(m.peers[i].addr),
				 i % 2 ? "10.99.0.%u" :
				 "fd00:aaaa:bbbb:cccc:dddd:eeee:ffff:%u", i + 1);
			m.peers[i].port = 1 + i * 2000;
		}
		if (!round_trip(&m, &d))
			return;
		same_common(&m, &d);
		CHECK(d.nr_peers == m.nr_peers, "%u peers", d.nr_peers);
		for (i = 0; i < d.nr_peers; i++)
			CHECK(!strcmp(d.peers[i].name, m.peers[i].name) &&
			      !strcmp(d.peers[i].addr, m.peers[i].addr) &&
			      d.peers[i].port == m.peers[i].port, "peer %u", i);
		/* A reply without a peer list is valid too. */
		base(&m, types[t]);
		if (round_trip(&m, &d))
			CHECK(!d.nr_peers, "no peers");
	}
}

static void t_peers_heartbeat(void)
{
	struct spa_msg m, d;

	base(&m, SPA_PEERS);
	if (round_trip(&m, &d))
		same_common(&m, &d);
	base(&m, SPA_HEARTBEAT);
	if (round_trip(&m, &d))
		same_common(&m, &d);
	base(&m, SPA_HEARTBEAT | SPA_REPLY);
	m.fields |= SPA_F(SPA_T_FREE) | SPA_F(SPA_T_GRANTS);
	m.free = 0xfedcba9876543210ULL;
	m.grants = 17;
	if (round_trip(&m, &d)) {
		same_common(&m, &d);
		CHECK(d.free == m.free && d.grants == 17, "free/grants");
	}
}

static void t_request_grant(void)
{
	struct spa_msg m, d;

	base(&m, SPA_REQUEST);
	m.fields |= SPA_F(SPA_T_HOSTNQN) | SPA_F(SPA_T_SIZE) |
		    SPA_F(SPA_T_REQ_ID);
	snprintf(m.hostnqn, sizeof(m.hostnqn), HOSTNQN_B);
	m.size = 256ULL << 20;
	spa_random(m.req_id, sizeof(m.req_id));
	m.req_id[0] |= 1;
	if (round_trip(&m, &d)) {
		same_common(&m, &d);
		CHECK(!strcmp(d.hostnqn, HOSTNQN_B), "hostnqn");
		CHECK(d.size == m.size, "size");
		CHECK(!memcmp(d.req_id, m.req_id, SPA_ID_LEN), "req_id");
	}
	base_grant(&m, "::1", SPA_SIZE_MAX, 0x0123456789abcdefULL,
		   "nqn.2026-11.io.slicepool:grant:a:0123456789abcdef");
	spu_uuid_parse("5b1c0000-0000-4000-8000-0000000000b0", m.uuid);
	if (round_trip(&m, &d)) {
		same_common(&m, &d);
		CHECK(!strcmp(d.addr, "::1") && d.port == 4420, "addr");
		CHECK(d.size == SPA_SIZE_MAX, "size");
		CHECK(d.grant_id == m.grant_id, "grant id");
		CHECK(!strcmp(d.subnqn, m.subnqn), "subnqn");
		CHECK(d.nsid == 1, "nsid");
		CHECK(!memcmp(d.uuid, m.uuid, 16), "uuid");
		CHECK(!d.nr_paths, "a grant without path fields: one path");
	}
}

/* max_paths in a request, path fields in a grant (multipath). */
static void t_request_grant_paths(void)
{
	struct spa_msg m, d;
	unsigned int i, k;

	base(&m, SPA_REQUEST);
	m.fields |= SPA_F(SPA_T_HOSTNQN) | SPA_F(SPA_T_SIZE) |
		    SPA_F(SPA_T_REQ_ID) | SPA_F(SPA_T_MAX_PATHS);
	snprintf(m.hostnqn, sizeof(m.hostnqn), HOSTNQN_B);
	m.size = 1 << 20;
	m.req_id[5] = 9;
	m.max_paths = SPA_PATHS_MAX;
	if (round_trip(&m, &d)) {
		same_common(&m, &d);
		CHECK(d.max_paths == SPA_PATHS_MAX, "max_paths %u", d.max_paths);
	}
	base_grant(&m, "10.99.0.1", 1 << 20, 3,
		   "nqn.2026-11.io.slicepool:g:a:3");
	m.fields |= SPA_F(SPA_T_PATH);
	m.uuid[0] = 1;
	/* The same address on another port, other addresses (v4, v6). */
	snprintf(m.paths[0].addr, sizeof(m.paths[0].addr), "10.99.0.1");
	m.paths[0].port = 4421;
	snprintf(m.paths[1].addr, sizeof(m.paths[1].addr), "10.98.0.1");
	m.paths[1].port = 4420;
	snprintf(m.paths[2].addr, sizeof(m.paths[2].addr),
		 "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	m.paths[2].port = 65535;
	for (i = 1; i <= SPA_PATHS_MAX - 1; i++) {
		m.nr_paths = i;
		if (!round_trip(&m, &d))
			continue;
		same_common(&m, &d);
		CHECK(d.nr_paths == i, "%u paths decoded as %u", i,
		      d.nr_paths);
		CHECK(!strcmp(d.addr, "10.99.0.1") && d.port == 4420,
		      "the first path");
		for (k = 0; k < i; k++)
			CHECK(!strcmp(d.paths[k].addr, m.paths[k].addr) &&
			      d.paths[k].port == m.paths[k].port,
			      "path %u: %s %u", k + 2, d.paths[k].addr,
			      d.paths[k].port);
	}
}

static void t_release_error(void)
{
	struct spa_msg m, d;

	base(&m, SPA_RELEASE);
	m.fields |= SPA_F(SPA_T_GRANT_ID);
	m.grant_id = 1;
	if (round_trip(&m, &d)) {
		same_common(&m, &d);
		CHECK(d.grant_id == 1, "grant id");
	}
	base(&m, SPA_RELEASE | SPA_REPLY);
	m.fields |= SPA_F(SPA_T_GRANT_ID);
	m.grant_id = ~0ULL;
	if (round_trip(&m, &d))
		CHECK(d.grant_id == ~0ULL, "grant id");
	base(&m, SPA_ERROR);
	m.fields &= ~SPA_F(SPA_T_TO);
	m.to[0] = '\0';
	m.fields |= SPA_F(SPA_T_REPLY_TO) | SPA_F(SPA_T_ERR_CODE) |
		    SPA_F(SPA_T_ERR_TEXT);
	m.err_code = SPA_ERR_NO_SPACE;
	snprintf(m.err_text, sizeof(m.err_text), "pool pa can lend 0 B");
	if (round_trip(&m, &d)) {
		same_common(&m, &d);
		CHECK(d.err_code == SPA_ERR_NO_SPACE, "code");
		CHECK(!strcmp(d.err_text, m.err_text), "text");
	}
	/* The text is optional, and may be empty. */
	m.fields &= ~SPA_F(SPA_T_ERR_TEXT);
	if (round_trip(&m, &d))
		CHECK(!d.err_text[0], "no text");
	m.fields |= SPA_F(SPA_T_ERR_TEXT);
	m.err_text[0] = '\0';
	if (round_trip(&m, &d))
		CHECK(!(d.fields ^ m.fields), "empty text");
}

static void t_resize(void)
{
	struct spa_msg m, d;

	base(&m, SPA_RESIZE);
	m.fields |= SPA_F(SPA_T_SIZE) | SPA_F(SPA_T_GRANT_ID);
	m.size = 512ULL << 20;
	m.grant_id = 0x0123456789abcdefULL;
	CHECK(!strcmp(spa_type_name(SPA_RESIZE), "resize") &&
	      !strcmp(spa_type_name(SPA_RESIZED), "resized") &&
	      SPA_RESIZE == 0x06 && SPA_RESIZED == 0x86, "type names");
	if (round_trip(&m, &d)) {
		same_common(&m, &d);
		CHECK(d.size == m.size && d.grant_id == m.grant_id,
		      "size %llu grant %016llx", d.size, d.grant_id);
	}
	base(&m, SPA_RESIZED);
	m.fields |= SPA_F(SPA_T_SIZE) | SPA_F(SPA_T_GRANT_ID);
	m.size = SPA_SIZE_MAX;
	m.grant_id = ~0ULL;
	if (round_trip(&m, &d)) {
		same_common(&m, &d);
		CHECK(d.size == SPA_SIZE_MAX && d.grant_id == ~0ULL, "resized");
	}
}

/*
 * REVOKE (lender to borrower) and its reply, REVOKE_REPORT (borrower to
 * lender: a text, and an error code when it is a refusal) and its reply;
 * each refused without its grant id, a report without its text.
 */
static void t_revoke(void)
{
	u8 buf[SPA_FRAME_MAX];
	struct spa_msg m, d;
	char why[256];
	size_t len;

	CHECK(!strcmp(spa_type_name(SPA_REVOKE), "revoke") &&
	      !strcmp(spa_type_name(SPA_REVOKE | SPA_REPLY), "revoke-accepted") &&
	      !strcmp(spa_type_name(SPA_REVOKE_REPORT), "revoke-report") &&
	      !strcmp(spa_type_name(SPA_REVOKE_REPORT | SPA_REPLY),
		      "revoke-noted") &&
	      SPA_REVOKE == 0x07 && SPA_REVOKE_REPORT == 0x08, "type names");
	base(&m, SPA_REVOKE);
	m.fields |= SPA_F(SPA_T_GRANT_ID);
	m.grant_id = 0x0123456789abcdefULL;
	if (round_trip(&m, &d)) {
		same_common(&m, &d);
		CHECK(d.grant_id == m.grant_id, "revoke %016llx", d.grant_id);
	}
	base(&m, SPA_REVOKE | SPA_REPLY);
	m.fields |= SPA_F(SPA_T_GRANT_ID);
	m.grant_id = 7;
	if (round_trip(&m, &d))
		CHECK(d.grant_id == 7, "revoke-accepted");
	base(&m, SPA_REVOKE_REPORT);
	m.fields |= SPA_F(SPA_T_GRANT_ID) | SPA_F(SPA_T_ERR_TEXT);
	m.grant_id = 9;
	snprintf(m.err_text, sizeof(m.err_text), "moving the slices off");
	if (round_trip(&m, &d))
		CHECK(d.grant_id == 9 && !(d.fields & SPA_F(SPA_T_ERR_CODE)) &&
		      !strcmp(d.err_text, "moving the slices off"),
		      "progress report: %s", d.err_text);
	m.fields |= SPA_F(SPA_T_ERR_CODE);
	m.err_code = SPA_ERR_NO_SPACE;
	if (round_trip(&m, &d))
		CHECK((d.fields & SPA_F(SPA_T_ERR_CODE)) &&
		      d.err_code == SPA_ERR_NO_SPACE, "refusal report");
	base(&m, SPA_REVOKE_REPORT | SPA_REPLY);
	m.fields |= SPA_F(SPA_T_GRANT_ID);
	m.grant_id = 9;
	if (round_trip(&m, &d))
		CHECK(d.grant_id == 9, "revoke-noted");

	base(&m, SPA_REVOKE);
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_MISSING, "revoke without a grant id: %s", why);
	base(&m, SPA_REVOKE_REPORT);
	m.fields |= SPA_F(SPA_T_GRANT_ID);
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_MISSING, "report without its text: %s", why);
	base(&m, SPA_REVOKE);
	m.fields |= SPA_F(SPA_T_GRANT_ID) | SPA_F(SPA_T_SIZE);
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_FIELD, "revoke with a size: %s", why);
}

/* The encoder refuses what the decoder would: it never sends it. */
static void t_encode_refuses(void)
{
	struct spa_msg m;
	u8 buf[SPA_FRAME_MAX];
	size_t len;
	char why[256];

	base(&m, SPA_REQUEST);
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_MISSING, "request without size");
	base(&m, SPA_HELLO);
	m.fields |= SPA_F(SPA_T_ADDR) | SPA_F(SPA_T_PORT) | SPA_F(SPA_T_SIZE);
	snprintf(m.addr, sizeof(m.addr), "10.0.0.1");
	m.port = 1;
	m.size = 4096;
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_FIELD, "hello with a size");
	base(&m, 0x42);
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_VERB, "unknown type");
	base(&m, SPA_HELLO);
	m.fields |= SPA_F(SPA_T_ADDR) | SPA_F(SPA_T_PORT);
	snprintf(m.addr, sizeof(m.addr), "localhost");
	m.port = 1;
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_FIELD, "a host name for an address: %s", why);
	base(&m, SPA_PEERS | SPA_REPLY);
	m.fields |= SPA_F(SPA_T_PEER);
	m.nr_peers = SPA_PEERS_MAX + 1;
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_FIELD, "33 peers");
	base(&m, SPA_REQUEST);
	m.fields |= SPA_F(SPA_T_HOSTNQN) | SPA_F(SPA_T_SIZE) |
		    SPA_F(SPA_T_REQ_ID);
	snprintf(m.hostnqn, sizeof(m.hostnqn), HOSTNQN_B);
	m.size = 4096;
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_FIELD, "zero request id");
	m.req_id[0] = 1;
	m.fields |= SPA_F(SPA_T_MAX_PATHS);
	m.max_paths = SPA_PATHS_MAX + 1;
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_FIELD, "max_paths above the limit");
	m.max_paths = 2;
	CHECK(!spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)),
	      "max_paths 2: %s", why);
	base_grant(&m, "10.0.0.1", 4096, 1, "nqn.2014-08.io.x:y");
	m.fields |= SPA_F(SPA_T_PATH);
	m.uuid[0] = 1;
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_FIELD, "a path flag without paths");
	m.nr_paths = SPA_PATHS_MAX;
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_FIELD, "%u further paths", SPA_PATHS_MAX);
	m.nr_paths = 1;
	snprintf(m.paths[0].addr, sizeof(m.paths[0].addr), "10.0.0.1");
	m.paths[0].port = 4420;
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_FIELD, "a path that is the first one again");
	m.paths[0].port = 4421;
	CHECK(!spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)),
	      "a second path: %s", why);
	base(&m, SPA_RESIZE);
	m.fields |= SPA_F(SPA_T_GRANT_ID);
	m.grant_id = 1;
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_MISSING, "resize without a size");
	m.fields |= SPA_F(SPA_T_SIZE);
	m.size = 0;
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_FIELD, "resize to 0 bytes");
	m.size = 4096;
	m.fields |= SPA_F(SPA_T_HOSTNQN);
	snprintf(m.hostnqn, sizeof(m.hostnqn), HOSTNQN_B);
	CHECK(spa_encode(&m, buf, sizeof(buf), &len, why, sizeof(why)) ==
	      -SPA_E_FIELD, "resize with a host NQN");
}

/* A valid RELEASE as raw bytes, to be broken by the cases below. */
static void good_release(struct raw *r)
{
	raw_header(r, SPA_RELEASE, 1795276407123ULL);
	raw_str(r, SPA_T_NODE, "b");
	raw_str(r, SPA_T_TO, "a");
	raw_int(r, SPA_T_GRANT_ID, 5, 8);
}

/* Expects @r (finished and sealed here) to be refused with @want. */
static void expect_refused(struct raw *r, int want, const char *what)
{
	struct spa_msg m;
	char why[256] = "";
	int ret;

	raw_finish(r, &key);
	ret = spa_decode(r->b, r->len, &m, why, sizeof(why));
	if (ret != want)
		fail("%s: decode gave %d (%s), expected %d (%s): %s", what,
		     ret, spa_status_name(ret), want, spa_status_name(want),
		     why);
	else if (!why[0])
		fail("%s: refused without a reason", what);
	else
		printf("#   %s: refused: %s\n", what, why);
}

static void t_refuse_header(void)
{
	static const struct {
		u8 off, val;
		int want;
		const char *what;
	} pokes[] = {
		{ 0, 'X', -SPA_E_MAGIC, "bad magic" },
		{ 4, 2, -SPA_E_VERSION, "version 2" },
		{ 4, 0, -SPA_E_VERSION, "version 0" },
		{ 7, 1, -SPA_E_FLAGS, "flags set" },
		{ 5, 0x42, -SPA_E_VERB, "unknown verb 0x42" },
		{ 5, 0, -SPA_E_VERB, "verb 0" },
		{ 5, 0x89, -SPA_E_VERB, "reply to an unknown verb" },
		{ 5, 0x09, -SPA_E_VERB, "verb 0x09, after revoke-report" },
	};
	struct raw r;
	struct spa_msg m;
	char why[256];
	size_t i;
	u32 flen;

	good_release(&r);
	raw_finish(&r, &key);
	CHECK(!spa_decode(r.b, r.len, &m, why, sizeof(why)), "the good one: %s",
	      why);

	for (i = 0; i < ARRAY_SIZE(pokes); i++) {
		good_release(&r);
		r.b[pokes[i].off] = pokes[i].val;
		expect_refused(&r, pokes[i].want, pokes[i].what);
	}

	/* Declared lengths out of bounds: checked from 12 bytes on. */
	good_release(&r);
	raw_finish(&r, &key);
	r.b[8] = 0;
	r.b[9] = 0x0f;
	r.b[10] = 0x42;
	r.b[11] = 0x40;	/* 1000000 */
	CHECK(spa_check_prefix(r.b, SPA_PREFIX_LEN, &flen, why, sizeof(why)) ==
	      -SPA_E_SIZE, "oversized declared length");
	CHECK(spa_decode(r.b, r.len, &m, why, sizeof(why)) == -SPA_E_SIZE,
	      "oversized: %s", why);
	r.b[9] = 0;
	r.b[10] = 0;
	r.b[11] = SPA_FRAME_MIN - 1;
	CHECK(spa_check_prefix(r.b, SPA_PREFIX_LEN, &flen, why, sizeof(why)) ==
	      -SPA_E_SIZE, "declared length below the minimum");
	r.b[10] = (SPA_FRAME_MAX + 1) >> 8;
	r.b[11] = (SPA_FRAME_MAX + 1) & 0xff;
	CHECK(spa_check_prefix(r.b, SPA_PREFIX_LEN, &flen, why, sizeof(why)) ==
	      -SPA_E_SIZE, "4097 bytes declared");
}

static void t_refuse_truncated(void)
{
	struct raw r;
	struct spa_msg m;
	char why[256];
	size_t n;
	int ret;

	good_release(&r);
	raw_finish(&r, &key);
	for (n = 0; n < r.len; n++) {
		ret = spa_decode(r.b, n, &m, why, sizeof(why));
		CHECK(ret == -SPA_E_TRUNCATED, "%zu of %zu bytes: %d (%s)", n,
		      r.len, ret, why);
	}
	/* Extra bytes after the frame. */
	r.b[r.len] = 0;
	CHECK(spa_decode(r.b, r.len + 1, &m, why, sizeof(why)) == -SPA_E_SIZE,
	      "a trailing byte: %s", why);
}

/* A valid GRANT up to its uuid (but for nsid @nsid), for path fields. */
static void grant_head(struct raw *r, const u8 *id, u32 nsid)
{
	raw_header(r, SPA_GRANT, 1);
	raw_str(r, SPA_T_NODE, "a");
	raw_field(r, SPA_T_REPLY_TO, id, 16);
	raw_str(r, SPA_T_ADDR, "10.0.0.1");
	raw_int(r, SPA_T_PORT, 4420, 2);
	raw_int(r, SPA_T_SIZE, 4096, 8);
	raw_int(r, SPA_T_GRANT_ID, 1, 8);
	raw_str(r, SPA_T_SUBNQN, "nqn.2014-08.io.x:y");
	raw_int(r, SPA_T_NSID, nsid, 4);
	raw_field(r, SPA_T_UUID, id, 16);
}

/* A REQUEST from b to a up to its request id: @hostnqn, @size, @id. */
static void request_head(struct raw *r, const char *hostnqn, u64 size,
			 const u8 *id)
{
	raw_header(r, SPA_REQUEST, 1);
	raw_str(r, SPA_T_NODE, "b");
	raw_str(r, SPA_T_TO, "a");
	raw_str(r, SPA_T_HOSTNQN, hostnqn);
	raw_int(r, SPA_T_SIZE, size, 8);
	raw_field(r, SPA_T_REQ_ID, id, 16);
}

/* A header of @type from b to a (NODE, TO). */
static void from_b_to_a(struct raw *r, u8 type)
{
	raw_header(r, type, 1);
	raw_str(r, SPA_T_NODE, "b");
	raw_str(r, SPA_T_TO, "a");
}

static void t_refuse_fields(void)
{
	char long_node[SPA_NODE_MAX + 2];
	struct raw r;
	u8 zero16[16] = { 0 };

	good_release(&r);
	raw_field(&r, 99, "x", 1);
	expect_refused(&r, -SPA_E_FIELD, "unknown tag 99");
	good_release(&r);
	raw_field(&r, 0, "x", 1);
	expect_refused(&r, -SPA_E_FIELD, "tag 0");
	good_release(&r);
	raw_str(&r, SPA_T_SUBNQN, "nqn.2014-08.io.example:x");
	expect_refused(&r, -SPA_E_FIELD, "a field the verb does not allow");

	raw_header(&r, SPA_RELEASE, 1);
	raw_str(&r, SPA_T_TO, "a");
	raw_str(&r, SPA_T_NODE, "b");
	raw_int(&r, SPA_T_GRANT_ID, 5, 8);
	expect_refused(&r, -SPA_E_FIELD, "fields out of order");

	raw_header(&r, SPA_RELEASE, 1);
	raw_str(&r, SPA_T_NODE, "b");
	raw_str(&r, SPA_T_NODE, "c");
	raw_str(&r, SPA_T_TO, "a");
	raw_int(&r, SPA_T_GRANT_ID, 5, 8);
	expect_refused(&r, -SPA_E_FIELD, "duplicate field");

	from_b_to_a(&r, SPA_RELEASE);
	expect_refused(&r, -SPA_E_MISSING, "release without a grant id");

	raw_header(&r, SPA_RELEASE, 1);
	expect_refused(&r, -SPA_E_MISSING, "an empty body");

	memset(long_node, 'n', sizeof(long_node) - 1);
	long_node[sizeof(long_node) - 1] = '\0';
	raw_header(&r, SPA_RELEASE, 1);
	raw_str(&r, SPA_T_NODE, long_node);
	expect_refused(&r, -SPA_E_FIELD, "a 25-character node name");

	from_b_to_a(&r, SPA_RELEASE);
	raw_int(&r, SPA_T_GRANT_ID, 5, 4);
	expect_refused(&r, -SPA_E_FIELD, "a 4-byte grant id");

	/* A field whose length runs past the body. */
	from_b_to_a(&r, SPA_RELEASE);
	raw_be(&r, SPA_T_GRANT_ID, 2);
	raw_be(&r, 200, 2);
	raw_be(&r, 5, 8);
	expect_refused(&r, -SPA_E_FIELD, "a length past the body");

	/* Two bytes left where a field header needs four. */
	good_release(&r);
	raw_be(&r, 0, 2);
	expect_refused(&r, -SPA_E_FIELD, "a truncated field header");

	from_b_to_a(&r, SPA_RELEASE);
	raw_int(&r, SPA_T_GRANT_ID, 0, 8);
	expect_refused(&r, -SPA_E_FIELD, "grant id 0");

	raw_header(&r, SPA_HEARTBEAT, 1);
	raw_field(&r, SPA_T_NODE, "b\0c", 3);
	expect_refused(&r, -SPA_E_FIELD, "a NUL in a string");

	request_head(&r, HOSTNQN_B, 4096, zero16);
	expect_refused(&r, -SPA_E_FIELD, "a zero request id");
}

/* Values each field refuses, in an otherwise valid request or reply. */
static void t_refuse_values(void)
{
	static const char *const bad_nodes[] = {
		"", "-b", ".b", "b/c", "b c", "b;rm", "b\x7f", "b\xc3\xa9",
	};
	static const char *const bad_nqns[] = {
		"nqn.a", "iqn.2014-08.org.x:y", "nqn.2014-08.org.x;reboot",
		"nqn.2014-08.org.x y", "nqn.2014-08.org.x/../../z",
		"nqn.2014-08.org.$(id)",
	};
	static const char *const bad_addrs[] = {
		"localhost", "10.99.0", "10.99.0.256", "1.2.3.4:80", "::g",
		"10.99.0.1 ", "a",
	};
	static const u64 bad_sizes[] = {
		0, 1, 4095, 4097, SPA_SIZE_MAX + 4096, ~0ULL,
	};
	struct raw r;
	u8 id[16];
	size_t i;

	spa_random(id, sizeof(id));
	id[0] |= 1;
	for (i = 0; i < ARRAY_SIZE(bad_nodes); i++) {
		raw_header(&r, SPA_HEARTBEAT, 1);
		raw_str(&r, SPA_T_NODE, bad_nodes[i]);
		raw_str(&r, SPA_T_TO, "a");
		expect_refused(&r, -SPA_E_FIELD, "a bad node name");
	}
	for (i = 0; i < ARRAY_SIZE(bad_nqns); i++) {
		request_head(&r, bad_nqns[i], 4096, id);
		expect_refused(&r, -SPA_E_FIELD, bad_nqns[i]);
	}
	for (i = 0; i < ARRAY_SIZE(bad_addrs); i++) {
		from_b_to_a(&r, SPA_HELLO);
		raw_str(&r, SPA_T_ADDR, bad_addrs[i]);
		raw_int(&r, SPA_T_PORT, 7450, 2);
		expect_refused(&r, -SPA_E_FIELD, "a bad address");
	}
	for (i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		request_head(&r, HOSTNQN_B, bad_sizes[i], id);
		expect_refused(&r, -SPA_E_FIELD, "a bad size");
	}
	from_b_to_a(&r, SPA_HELLO);
	raw_str(&r, SPA_T_ADDR, "10.0.0.1");
	raw_int(&r, SPA_T_PORT, 0, 2);
	expect_refused(&r, -SPA_E_FIELD, "port 0");

	raw_header(&r, SPA_ERROR, 1);
	raw_str(&r, SPA_T_NODE, "a");
	raw_field(&r, SPA_T_REPLY_TO, id, 16);
	raw_int(&r, SPA_T_ERR_CODE, SPA_ERR_MAX, 2);
	expect_refused(&r, -SPA_E_FIELD, "an unknown error code");

	raw_header(&r, SPA_ERROR, 1);
	raw_str(&r, SPA_T_NODE, "a");
	raw_field(&r, SPA_T_REPLY_TO, id, 16);
	raw_int(&r, SPA_T_ERR_CODE, 1, 2);
	raw_str(&r, SPA_T_ERR_TEXT, "line\nbreak");
	expect_refused(&r, -SPA_E_FIELD, "a control character in a text");

	grant_head(&r, id, 0);
	expect_refused(&r, -SPA_E_FIELD, "nsid 0");

	/* Peer entries: a name longer than the entry, a bad address. */
	raw_header(&r, SPA_PEERS | SPA_REPLY, 1);
	raw_str(&r, SPA_T_NODE, "a");
	raw_field(&r, SPA_T_REPLY_TO, id, 16);
	raw_field(&r, SPA_T_PEER, "\034\036\011abc1.2.3.4", 10);
	expect_refused(&r, -SPA_E_FIELD, "a peer name past its entry");
	raw_header(&r, SPA_PEERS | SPA_REPLY, 1);
	raw_field(&r, SPA_T_NODE, "a", 1);
	raw_field(&r, SPA_T_REPLY_TO, id, 16);
	raw_field(&r, SPA_T_PEER, "\034\036\001bhost.example", 16);
	expect_refused(&r, -SPA_E_FIELD, "a peer at a host name");
}

/* Malformed, truncated, misplaced and excess multipath fields. */
static void t_refuse_paths(void)
{
	static const struct {
		const char *v;
		u16 len;
		const char *what;
	} bad_paths[] = {
		{ "\000\00010.0.0.1", 10, "a path to port 0" },
		{ "\021\105host.example", 14, "a path at a host name" },
		{ "\021\10510.0.0.1\0", 11, "a NUL in a path address" },
		{ "\021\10510.0", 6, "a truncated path address" },
		{ "\021\1051", 3, "a 3-byte path field" },
		{ "\021", 1, "a path field of a port byte" },
		{ "", 0, "an empty path field" },
	};
	char longaddr[SPA_ADDR_MAX + 4];
	struct spa_msg m;
	char why[256];
	struct raw r;
	u8 id[16] = { 7 };
	unsigned int i;

	/* The good ones first: each case below breaks one thing. */
	grant_head(&r, id, 1);
	raw_field(&r, SPA_T_PATH, "\021\10510.0.0.1", 10);
	raw_finish(&r, &key);
	CHECK(!spa_decode(r.b, r.len, &m, why, sizeof(why)) &&
	      m.nr_paths == 1 && m.paths[0].port == 4421 &&
	      !strcmp(m.paths[0].addr, "10.0.0.1"), "a good path: %s", why);
	request_head(&r, HOSTNQN_B, 4096, id);
	raw_int(&r, SPA_T_MAX_PATHS, 2, 2);
	raw_finish(&r, &key);
	CHECK(!spa_decode(r.b, r.len, &m, why, sizeof(why)) &&
	      m.max_paths == 2, "a good max_paths: %s", why);

	for (i = 0; i < ARRAY_SIZE(bad_paths); i++) {
		grant_head(&r, id, 1);
		raw_field(&r, SPA_T_PATH, bad_paths[i].v, bad_paths[i].len);
		expect_refused(&r, -SPA_E_FIELD, bad_paths[i].what);
	}
	memset(longaddr, '1', sizeof(longaddr));
	longaddr[0] = 0x11;
	longaddr[1] = 0x45;
	grant_head(&r, id, 1);
	raw_field(&r, SPA_T_PATH, longaddr, sizeof(longaddr));
	expect_refused(&r, -SPA_E_FIELD, "an oversized path field");
	/* A path field header whose length runs past the body. */
	grant_head(&r, id, 1);
	raw_be(&r, SPA_T_PATH, 2);
	raw_be(&r, 10, 2);
	raw_be(&r, 4421, 2);
	expect_refused(&r, -SPA_E_FIELD, "a path field cut short");
	grant_head(&r, id, 1);
	raw_be(&r, SPA_T_PATH, 2);
	expect_refused(&r, -SPA_E_FIELD, "half a path field header");
	grant_head(&r, id, 1);
	raw_field(&r, SPA_T_PATH, "\021\10410.0.0.1", 10);
	expect_refused(&r, -SPA_E_FIELD, "a path that is the first one");
	grant_head(&r, id, 1);
	raw_field(&r, SPA_T_PATH, "\021\10510.0.0.1", 10);
	raw_field(&r, SPA_T_PATH, "\021\10510.0.0.1", 10);
	expect_refused(&r, -SPA_E_FIELD, "the same path twice");
	grant_head(&r, id, 1);
	for (i = 0; i < SPA_PATHS_MAX; i++) {
		char v[16];

		v[0] = 0x11;
		v[1] = (char)(0x50 + i);
		memcpy(v + 2, "10.0.0.1", 8);
		raw_field(&r, SPA_T_PATH, v, 10);
	}
	expect_refused(&r, -SPA_E_FIELD, "more paths than SPA_PATHS_MAX");
	/* Misplaced: before the uuid, in a request, max_paths in a grant. */
	raw_header(&r, SPA_GRANT, 1);
	raw_str(&r, SPA_T_NODE, "a");
	raw_field(&r, SPA_T_REPLY_TO, id, 16);
	raw_str(&r, SPA_T_ADDR, "10.0.0.1");
	raw_int(&r, SPA_T_PORT, 4420, 2);
	raw_field(&r, SPA_T_PATH, "\021\10510.0.0.1", 10);
	raw_int(&r, SPA_T_SIZE, 4096, 8);
	raw_int(&r, SPA_T_GRANT_ID, 1, 8);
	raw_str(&r, SPA_T_SUBNQN, "nqn.2014-08.io.x:y");
	raw_int(&r, SPA_T_NSID, 1, 4);
	raw_field(&r, SPA_T_UUID, id, 16);
	expect_refused(&r, -SPA_E_FIELD, "a path before the uuid");
	request_head(&r, HOSTNQN_B, 4096, id);
	raw_field(&r, SPA_T_PATH, "\021\10510.0.0.1", 10);
	expect_refused(&r, -SPA_E_FIELD, "a path in a request");
	grant_head(&r, id, 1);
	raw_int(&r, SPA_T_MAX_PATHS, 2, 2);
	expect_refused(&r, -SPA_E_FIELD, "max_paths in a grant");
	/* max_paths values and lengths. */
	request_head(&r, HOSTNQN_B, 4096, id);
	raw_int(&r, SPA_T_MAX_PATHS, 0, 2);
	expect_refused(&r, -SPA_E_FIELD, "max_paths 0");
	request_head(&r, HOSTNQN_B, 4096, id);
	raw_int(&r, SPA_T_MAX_PATHS, SPA_PATHS_MAX + 1, 2);
	expect_refused(&r, -SPA_E_FIELD, "max_paths above the limit");
	request_head(&r, HOSTNQN_B, 4096, id);
	raw_int(&r, SPA_T_MAX_PATHS, 2, 4);
	expect_refused(&r, -SPA_E_FIELD, "a 4-byte max_paths");
	request_head(&r, HOSTNQN_B, 4096, id);
	raw_field(&r, SPA_T_MAX_PATHS, "\002", 1);
	expect_refused(&r, -SPA_E_FIELD, "a 1-byte max_paths");
	request_head(&r, HOSTNQN_B, 4096, id);
	raw_int(&r, SPA_T_MAX_PATHS, 2, 2);
	raw_int(&r, SPA_T_MAX_PATHS, 2, 2);
	expect_refused(&r, -SPA_E_FIELD, "max_paths twice");
	/* A tag after the last one known is still unknown. */
	request_head(&r, HOSTNQN_B, 4096, id);
	raw_int(&r, SPA_T_MAX, 2, 2);
	expect_refused(&r, -SPA_E_FIELD, "the tag after max_paths");
}

/* A valid RESIZE (size, grant_id) or RESIZED, as raw bytes. */
static void resize_head(struct raw *r, u8 type, const u8 *id)
{
	raw_header(r, type, 1);
	if (type == SPA_RESIZE) {
		raw_str(r, SPA_T_NODE, "b");
		raw_str(r, SPA_T_TO, "a");
	} else {
		raw_str(r, SPA_T_NODE, "a");
		raw_field(r, SPA_T_REPLY_TO, id, 16);
	}
}

/* resize_head, then SIZE @size in @len bytes and GRANT_ID @gid. */
static void resize_frame(struct raw *r, u8 type, const u8 *id, u64 size,
			 unsigned int len, u64 gid)
{
	resize_head(r, type, id);
	raw_int(r, SPA_T_SIZE, size, len);
	raw_int(r, SPA_T_GRANT_ID, gid, 8);
}

/* RESIZE and RESIZED: missing, extra, repeated, misplaced, bad values. */
static void t_refuse_resize(void)
{
	static const u64 bad_sizes[] = {
		0, 512, 4095, 4097, SPA_SIZE_MAX + 4096, ~0ULL,
	};
	static const u8 types[] = { SPA_RESIZE, SPA_RESIZED };
	struct spa_msg m;
	char why[256];
	struct raw r;
	u8 id[16] = { 9 };
	size_t i, t;

	for (t = 0; t < ARRAY_SIZE(types); t++) {
		resize_frame(&r, types[t], id, 1 << 30, 8, 5);
		raw_finish(&r, &key);
		CHECK(!spa_decode(r.b, r.len, &m, why, sizeof(why)) &&
		      m.type == types[t] && m.size == 1 << 30 &&
		      m.grant_id == 5, "the good %s: %s",
		      spa_type_name(types[t]), why);

		resize_head(&r, types[t], id);
		raw_int(&r, SPA_T_GRANT_ID, 5, 8);
		expect_refused(&r, -SPA_E_MISSING, "without a size");
		resize_head(&r, types[t], id);
		raw_int(&r, SPA_T_SIZE, 1 << 30, 8);
		expect_refused(&r, -SPA_E_MISSING, "without a grant id");
		resize_head(&r, types[t], id);
		expect_refused(&r, -SPA_E_MISSING, "neither size nor grant id");
		resize_frame(&r, types[t], id, 1 << 30, 8, 5);
		raw_str(&r, SPA_T_SUBNQN, "nqn.2014-08.io.example:x");
		expect_refused(&r, -SPA_E_FIELD, "an extra field (subnqn)");
		resize_head(&r, types[t], id);
		raw_int(&r, SPA_T_SIZE, 1 << 30, 8);
		raw_int(&r, SPA_T_SIZE, 1 << 30, 8);
		raw_int(&r, SPA_T_GRANT_ID, 5, 8);
		expect_refused(&r, -SPA_E_FIELD, "the size twice");
		resize_frame(&r, types[t], id, 1 << 30, 8, 5);
		raw_int(&r, SPA_T_GRANT_ID, 6, 8);
		expect_refused(&r, -SPA_E_FIELD, "the grant id twice");
		resize_head(&r, types[t], id);
		raw_int(&r, SPA_T_GRANT_ID, 5, 8);
		raw_int(&r, SPA_T_SIZE, 1 << 30, 8);
		expect_refused(&r, -SPA_E_FIELD,
			       "the grant id before the size (misplaced)");
		for (i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
			resize_frame(&r, types[t], id, bad_sizes[i], 8, 5);
			expect_refused(&r, -SPA_E_FIELD, "a bad size");
		}
		resize_frame(&r, types[t], id, 1 << 30, 4, 5);
		expect_refused(&r, -SPA_E_FIELD, "a 4-byte size");
		resize_frame(&r, types[t], id, 1 << 30, 8, 0);
		expect_refused(&r, -SPA_E_FIELD, "grant id 0");
		resize_head(&r, types[t], id);
		raw_int(&r, SPA_T_SIZE, 1 << 30, 8);
		raw_be(&r, SPA_T_GRANT_ID, 2);
		raw_be(&r, 8, 2);
		raw_be(&r, 5, 4);
		expect_refused(&r, -SPA_E_FIELD, "a grant id cut short");
	}
	/* The common fields: a request's "to", a reply's "reply_to". */
	raw_header(&r, SPA_RESIZE, 1);
	raw_str(&r, SPA_T_NODE, "b");
	raw_field(&r, SPA_T_REPLY_TO, id, 16);
	raw_int(&r, SPA_T_SIZE, 1 << 30, 8);
	raw_int(&r, SPA_T_GRANT_ID, 5, 8);
	expect_refused(&r, -SPA_E_FIELD, "a resize with reply_to");
	raw_header(&r, SPA_RESIZED, 1);
	raw_str(&r, SPA_T_NODE, "a");
	raw_str(&r, SPA_T_TO, "b");
	raw_int(&r, SPA_T_SIZE, 1 << 30, 8);
	raw_int(&r, SPA_T_GRANT_ID, 5, 8);
	expect_refused(&r, -SPA_E_FIELD, "a resized reply with to");
	raw_header(&r, SPA_RESIZED, 1);
	raw_str(&r, SPA_T_NODE, "a");
	raw_int(&r, SPA_T_SIZE, 1 << 30, 8);
	raw_int(&r, SPA_T_GRANT_ID, 5, 8);
	expect_refused(&r, -SPA_E_MISSING, "a resized reply without reply_to");
	/* A release's fields are not a resize's. */
	resize_head(&r, SPA_RESIZE, id);
	raw_int(&r, SPA_T_SIZE, 1 << 30, 8);
	raw_int(&r, SPA_T_GRANT_ID, 5, 8);
	raw_int(&r, SPA_T_MAX_PATHS, 2, 2);
	expect_refused(&r, -SPA_E_FIELD, "max_paths in a resize");
}

static void t_refuse_too_many_peers(void)
{
	struct raw r;
	u8 id[16] = { 1 };
	unsigned int i;

	raw_header(&r, SPA_PEERS | SPA_REPLY, 1);
	raw_str(&r, SPA_T_NODE, "a");
	raw_field(&r, SPA_T_REPLY_TO, id, 16);
	for (i = 0; i <= SPA_PEERS_MAX; i++)
		raw_field(&r, SPA_T_PEER, "\034\036\001b1.2.3.4", 11);
	expect_refused(&r, -SPA_E_FIELD, "33 peer entries");
}

/*
 * Random damage to valid frames: every result is either a clean decode
 * or a refusal with a reason; the decoder reads nothing outside the
 * buffer (run under valgrind or ASan to see it).
 */
static void t_fuzz(void)
{
	struct spa_msg m, d;
	u8 good[SPA_FRAME_MAX], buf[SPA_FRAME_MAX];
	unsigned int seed = 12345, i, k, ok = 0, bad = 0, noreason = 0;
	char why[256];
	size_t len, n;
	int ret;

	base_grant(&m, "10.99.0.1", 1 << 30, 7,
		   "nqn.2026-11.io.slicepool:g:a:7");
	m.uuid[3] = 1;
	if (spa_encode(&m, good, sizeof(good), &len, why, sizeof(why))) {
		fail("encode: %s", why);
		return;
	}
	for (i = 0; i < 200000; i++) {
		memcpy(buf, good, len);
		n = len;
		for (k = 0; k < 1 + (unsigned int)rand_r(&seed) % 4; k++)
			buf[rand_r(&seed) % len] ^= 1 << (rand_r(&seed) % 8);
		if (rand_r(&seed) % 4 == 0)
			n = rand_r(&seed) % (len + 1);
		why[0] = '\0';
		ret = spa_decode(buf, n, &d, why, sizeof(why));
		if (!ret) {
			ok++;
		} else {
			bad++;
			if (!why[0])
				noreason++;
		}
	}
	printf("#   200000 damaged frames: %u decoded, %u refused\n", ok, bad);
	CHECK(!noreason, "%u refusals without a reason", noreason);
	CHECK(bad > 100000, "only %u refused", bad);
}

static void t_validators(void)
{
	u8 u[16];
	char s[SPU_UUID_STR];

	CHECK(spa_valid_nqn("nqn.2014-08.org.nvmexpress:uuid:5b1c0000-0000-4000-8000-0000000000b0"),
	      "uuid nqn");
	CHECK(!spa_valid_nqn("nqn."), "short nqn");
	CHECK(spa_valid_addr("fe80::1") && spa_valid_addr("10.0.0.1"), "addr");
	CHECK(!spa_valid_addr("fe80::1%eth0"), "scoped address");
	CHECK(!spu_uuid_parse("5B1C0000-0000-4000-8000-0000000000B0", u),
	      "upper case uuid");
	spu_uuid_format(u, s);
	CHECK(!strcmp(s, "5b1c0000-0000-4000-8000-0000000000b0"), "%s", s);
	CHECK(spu_uuid_parse("5b1c0000-0000-4000-8000-0000000000b", u),
	      "short uuid");
	CHECK(spu_uuid_parse("5b1c0000x0000-4000-8000-0000000000b0", u),
	      "bad separator");
	CHECK(spu_valid_name("rg-0123456789abcdef") && !spu_valid_name("a:b"),
	      "names");
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "round trip: hello", t_hello },
		{ "round trip: hello and peer-list replies, 0 and 32 peers",
		  t_peer_lists },
		{ "round trip: peers, heartbeat and its reply",
		  t_peers_heartbeat },
		{ "round trip: request and grant", t_request_grant },
		{ "round trip: max_paths, grant with 1..3 path fields",
		  t_request_grant_paths },
		{ "round trip: release, released, error", t_release_error },
		{ "round trip: resize and resized", t_resize },
		{ "round trip: revoke, revoke-report and their replies; refusals",
		  t_revoke },
		{ "encoder refuses what a peer would refuse", t_encode_refuses },
		{ "refused: bad magic, version, flags, verbs, lengths (oversized)",
		  t_refuse_header },
		{ "refused: every truncation, trailing bytes", t_refuse_truncated },
		{ "refused: unknown, misplaced, duplicate, missing, short fields",
		  t_refuse_fields },
		{ "refused: bad names, NQNs, addresses, sizes, codes, texts",
		  t_refuse_values },
		{ "refused: bad, truncated, misplaced, repeated, excess paths",
		  t_refuse_paths },
		{ "refused: resize(d): missing, extra, repeated, misplaced, bad size",
		  t_refuse_resize },
		{ "refused: more than 32 peers", t_refuse_too_many_peers },
		{ "200000 damaged frames: decoded or refused with a reason",
		  t_fuzz },
		{ "validators: NQN, address, UUID, names", t_validators },
	};

	return ktap_run_keyed(&key, cases, ARRAY_SIZE(cases));
}
