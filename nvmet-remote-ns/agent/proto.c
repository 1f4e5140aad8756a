// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool-agent - the wire codec
 *
 * A frame (Documentation/nvmet-remote-ns.rst, "Framing"), all integers
 * big endian:
 *
 *   offset  size  field
 *        0     4  magic "SPAG"
 *        4     1  version, 1
 *        5     1  type
 *        6     2  flags, 0
 *        8     4  length of the whole frame, MAC included, 68..4096
 *       12     8  timestamp, milliseconds since the Unix epoch
 *       20    16  nonce
 *       36     n  fields: tag (2), length (2), value
 *  len-32     32  HMAC-SHA256 over bytes [0, len - 32)
 *
 * Decoding is strict: every field must be one the message type allows,
 * in ascending tag order, once (only PEER and PATH repeat), of a length within
 * its bounds and a value that passes its check; the fields must fill the
 * body exactly and every required field must be there.  Anything else is
 * refused with a reason.  Encoding runs the decoder over its own output,
 * so that the agent never sends what it would refuse.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

enum spa_kind { K_STR, K_ID16, K_U16, K_U32, K_U64, K_PEER, K_PATH };

/*
 * A field: its name, kind, length bounds, whether it repeats; for the
 * kinds with one value in struct spa_msg (a string of max + 1 chars, a
 * 16-byte id, an integer of its wire width), where it is, a string's
 * check, and whether an id may be all zero.
 */
struct spa_field_desc {
	const char *name;
	u8 kind;
	u16 min;
	u16 max;
	bool repeat;
	size_t off;
	bool (*valid)(const char *s);
	bool nonzero;
};

#define FIELD(t, f, k, lo, hi, ...) \
	[SPA_T_##t] = { #f, k, lo, hi, false, offsetof(struct spa_msg, f), \
			__VA_ARGS__ }

static const struct spa_field_desc fdesc[SPA_T_MAX] = {
	FIELD(NODE, node, K_STR, 1, SPA_NODE_MAX, .valid = spa_valid_node),
	FIELD(TO, to, K_STR, 1, SPA_NODE_MAX, .valid = spa_valid_node),
	FIELD(REPLY_TO, reply_to, K_ID16, 16, 16),
	FIELD(ADDR, addr, K_STR, 2, SPA_ADDR_MAX, .valid = spa_valid_addr),
	FIELD(PORT, port, K_U16, 2, 2),
	FIELD(HOSTNQN, hostnqn, K_STR, SPA_NQN_MIN, SPA_NQN_MAX,
	      .valid = spa_valid_nqn),
	FIELD(SIZE, size, K_U64, 8, 8),
	FIELD(REQ_ID, req_id, K_ID16, 16, 16, .nonzero = true),
	FIELD(GRANT_ID, grant_id, K_U64, 8, 8),
	FIELD(SUBNQN, subnqn, K_STR, SPA_NQN_MIN, SPA_NQN_MAX,
	      .valid = spa_valid_nqn),
	FIELD(NSID, nsid, K_U32, 4, 4),
	FIELD(UUID, uuid, K_ID16, 16, 16, .nonzero = true),
	FIELD(FREE, free, K_U64, 8, 8),
	FIELD(GRANTS, grants, K_U32, 4, 4),
	[SPA_T_PEER] = { "peer", K_PEER, 5, 3 + SPA_NODE_MAX + SPA_ADDR_MAX,
			 true },
	FIELD(ERR_CODE, err_code, K_U16, 2, 2),
	FIELD(ERR_TEXT, err_text, K_STR, 0, SPA_TEXT_MAX),
	[SPA_T_PATH] = { "path", K_PATH, 4, 2 + SPA_ADDR_MAX, true },
	FIELD(MAX_PATHS, max_paths, K_U16, 2, 2),
};

#undef FIELD

struct spa_msg_desc {
	u8 type;
	const char *name;
	u32 required;
	u32 optional;
};

#define F(t)	SPA_F(SPA_T_##t)

static const struct spa_msg_desc mdesc[] = {
	{ SPA_HELLO, "hello", F(NODE) | F(TO) | F(ADDR) | F(PORT), 0 },
	{ SPA_HELLO | SPA_REPLY, "hello-reply", F(NODE) | F(REPLY_TO), F(PEER) },
	{ SPA_PEERS, "peers", F(NODE) | F(TO), 0 },
	{ SPA_PEERS | SPA_REPLY, "peer-list", F(NODE) | F(REPLY_TO), F(PEER) },
	{ SPA_HEARTBEAT, "heartbeat", F(NODE) | F(TO), 0 },
	{ SPA_HEARTBEAT | SPA_REPLY, "heartbeat-reply",
	  F(NODE) | F(REPLY_TO) | F(FREE) | F(GRANTS), 0 },
	{ SPA_REQUEST, "request",
	  F(NODE) | F(TO) | F(HOSTNQN) | F(SIZE) | F(REQ_ID), F(MAX_PATHS) },
	{ SPA_GRANT, "grant",
	  F(NODE) | F(REPLY_TO) | F(ADDR) | F(PORT) | F(SIZE) | F(GRANT_ID) |
	  F(SUBNQN) | F(NSID) | F(UUID), F(PATH) },
	{ SPA_RELEASE, "release", F(NODE) | F(TO) | F(GRANT_ID), 0 },
	{ SPA_RELEASE | SPA_REPLY, "released",
	  F(NODE) | F(REPLY_TO) | F(GRANT_ID), 0 },
	{ SPA_RESIZE, "resize", F(NODE) | F(TO) | F(SIZE) | F(GRANT_ID), 0 },
	{ SPA_RESIZED, "resized", F(NODE) | F(REPLY_TO) | F(SIZE) | F(GRANT_ID),
	  0 },
	{ SPA_REVOKE, "revoke", F(NODE) | F(TO) | F(GRANT_ID), 0 },
	{ SPA_REVOKE | SPA_REPLY, "revoke-accepted",
	  F(NODE) | F(REPLY_TO) | F(GRANT_ID), 0 },
	{ SPA_REVOKE_REPORT, "revoke-report",
	  F(NODE) | F(TO) | F(GRANT_ID) | F(ERR_TEXT), F(ERR_CODE) },
	{ SPA_REVOKE_REPORT | SPA_REPLY, "revoke-noted",
	  F(NODE) | F(REPLY_TO) | F(GRANT_ID), 0 },
	{ SPA_ERROR, "error", F(NODE) | F(REPLY_TO) | F(ERR_CODE),
	  F(ERR_TEXT) },
};

#undef F

static const char *const status_names[SPA_E_MAX] = {
	[SPA_OK] = "ok",
	[SPA_E_MAGIC] = "bad magic",
	[SPA_E_VERSION] = "unsupported version",
	[SPA_E_SIZE] = "bad length",
	[SPA_E_TRUNCATED] = "truncated",
	[SPA_E_FLAGS] = "reserved flags set",
	[SPA_E_VERB] = "unknown verb",
	[SPA_E_FIELD] = "bad field",
	[SPA_E_MISSING] = "missing field",
	[SPA_E_MAC] = "authentication failed",
	[SPA_E_STALE] = "timestamp outside the window",
	[SPA_E_REPLAY] = "replayed nonce",
	[SPA_E_CACHE_FULL] = "nonce cache full",
};

static const char *const err_names[SPA_ERR_MAX] = {
	[SPA_ERR_BAD_MESSAGE] = "bad message",
	[SPA_ERR_UNKNOWN_VERB] = "unknown verb",
	[SPA_ERR_STALE] = "stale timestamp",
	[SPA_ERR_REPLAY] = "replayed message",
	[SPA_ERR_UNKNOWN_PEER] = "unknown peer",
	[SPA_ERR_NO_SPACE] = "no space",
	[SPA_ERR_LIMIT] = "limit reached",
	[SPA_ERR_UNKNOWN_GRANT] = "unknown grant",
	[SPA_ERR_NOT_OWNER] = "not the owner",
	[SPA_ERR_BUSY] = "busy",
	[SPA_ERR_FAILED] = "failed",
	[SPA_ERR_BAD_VALUE] = "bad value",
	[SPA_ERR_NOT_LENDING] = "not lending",
};

static const struct spa_msg_desc *find_desc(u8 type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mdesc); i++)
		if (mdesc[i].type == type)
			return &mdesc[i];
	return NULL;
}

bool spa_type_known(u8 type)
{
	return find_desc(type);
}

const char *spa_type_name(u8 type)
{
	const struct spa_msg_desc *d = find_desc(type);

	return d ? d->name : "unknown";
}

const char *spa_status_name(int status)
{
	if (status < 0)
		status = -status;
	if (status >= SPA_E_MAX)
		return "system error";
	return status_names[status];
}

const char *spa_err_name(unsigned int code)
{
	if (code == 0 || code >= SPA_ERR_MAX)
		return "unknown error";
	return err_names[code];
}

/* ------------------------------------------------------- byte order */

static u16 get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static u64 get64(const u8 *p)
{
	return (u64)get32(p) << 32 | get32(p + 4);
}

static void put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(u8 *p, u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static void put64(u8 *p, u64 v)
{
	put32(p, v >> 32);
	put32(p + 4, v & 0xffffffffU);
}

u8 spa_frame_type(const u8 *buf)
{
	return buf[5];
}

u64 spa_frame_ts(const u8 *buf)
{
	return get64(buf + 12);
}

const u8 *spa_frame_nonce(const u8 *buf)
{
	return buf + 20;
}

static bool all_zero(const u8 *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* A string value: no NUL, printable ASCII only. */
static bool copy_str(const u8 *v, u16 len, char *dst, size_t cap)
{
	u16 i;

	if (len >= cap)
		return false;
	for (i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return false;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return true;
}

/* The integer member of @m that @f describes: u16, u32 or u64. */
static u64 get_member(const struct spa_field_desc *f, const struct spa_msg *m)
{
	const u8 *p = (const u8 *)m + f->off;

	if (f->kind == K_U16)
		return *(const u16 *)p;
	if (f->kind == K_U32)
		return *(const u32 *)p;
	return *(const u64 *)p;
}

/* Checks the value of integer field @tag, stored in @m. */
static int check_int(unsigned int tag, const struct spa_msg *m, char *why,
		     size_t wlen)
{
	switch (tag) {
	case SPA_T_PORT:
		if (!m->port)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field port: 0 is not a port");
		break;
	case SPA_T_SIZE:
		if (!m->size || m->size % SPA_SIZE_ALIGN ||
		    m->size > SPA_SIZE_MAX)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field size: %llu is not a multiple of %llu from %llu to %llu",
					  m->size, SPA_SIZE_ALIGN, SPA_SIZE_ALIGN,
					  SPA_SIZE_MAX);
		break;
	case SPA_T_GRANT_ID:
		if (!m->grant_id)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field grant_id: 0 is not a grant");
		break;
	case SPA_T_NSID:
		if (!m->nsid || m->nsid == 0xffffffffU)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field nsid: %u is not a namespace id",
					  m->nsid);
		break;
	case SPA_T_GRANTS:
		if (m->grants > SPA_GRANTS_MAX)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field grants: %u above %u", m->grants,
					  SPA_GRANTS_MAX);
		break;
	case SPA_T_ERR_CODE:
		if (!m->err_code || m->err_code >= SPA_ERR_MAX)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field err_code: unknown code %u",
					  m->err_code);
		break;
	case SPA_T_MAX_PATHS:
		if (!m->max_paths || m->max_paths > SPA_PATHS_MAX)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field max_paths: %u outside 1..%u",
					  m->max_paths, SPA_PATHS_MAX);
		break;
	}
	return 0;
}

static int parse_peer(const u8 *v, u16 len, struct spa_msg *m, char *why,
		      size_t wlen)
{
	struct spa_peer_info *pi;
	u8 nl;

	if (m->nr_peers >= SPA_PEERS_MAX)
		return spu_reason(why, wlen, -SPA_E_FIELD,
				  "more than %u peer fields", SPA_PEERS_MAX);
	pi = &m->peers[m->nr_peers];
	pi->port = get16(v);
	nl = v[2];
	if (!pi->port || nl < 1 || nl > SPA_NODE_MAX ||
	    3 + nl >= len ||
	    !copy_str(v + 3, nl, pi->name, sizeof(pi->name)) ||
	    !spa_valid_node(pi->name) ||
	    !copy_str(v + 3 + nl, len - 3 - nl, pi->addr,
		      sizeof(pi->addr)) ||
	    !spa_valid_addr(pi->addr))
		return spu_reason(why, wlen, -SPA_E_FIELD,
				  "field peer %u: not a valid port, name and address",
				  m->nr_peers + 1);
	m->nr_peers++;
	return 0;
}

/* After addr and port (lower tags), which a grant requires. */
static int parse_path(const u8 *v, u16 len, struct spa_msg *m, char *why,
		      size_t wlen)
{
	struct spa_path_info *pa;
	unsigned int k;

	if (m->nr_paths >= SPA_PATHS_MAX - 1)
		return spu_reason(why, wlen, -SPA_E_FIELD,
				  "more than %u path fields",
				  SPA_PATHS_MAX - 1);
	pa = &m->paths[m->nr_paths];
	pa->port = get16(v);
	if (!pa->port || !copy_str(v + 2, len - 2, pa->addr,
				   sizeof(pa->addr)) ||
	    !spa_valid_addr(pa->addr))
		return spu_reason(why, wlen, -SPA_E_FIELD,
				  "field path %u: not a valid port and address",
				  m->nr_paths + 1);
	if (pa->port == m->port && !strcmp(pa->addr, m->addr))
		goto dup_path;
	for (k = 0; k < m->nr_paths; k++)
		if (pa->port == m->paths[k].port &&
		    !strcmp(pa->addr, m->paths[k].addr))
			goto dup_path;
	m->nr_paths++;
	return 0;
dup_path:
	return spu_reason(why, wlen, -SPA_E_FIELD,
			  "field path %u: %s port %u is already a path",
			  m->nr_paths + 1, pa->addr, pa->port);
}

/* Checks and stores the value of field @tag; 0 or -SPA_E_FIELD. */
static int parse_value(unsigned int tag, const u8 *v, u16 len,
		       struct spa_msg *m, char *why, size_t wlen)
{
	const struct spa_field_desc *f = &fdesc[tag];
	u8 *dst = (u8 *)m + f->off;

	if (!f->name)
		return spu_reason(why, wlen, -SPA_E_FIELD,
				  "unknown field tag %u", tag);
	switch (f->kind) {
	case K_STR:
		if (!copy_str(v, len, (char *)dst, f->max + 1) ||
		    (f->valid && !f->valid((char *)dst)))
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field %s: invalid value", f->name);
		return 0;
	case K_ID16:
		if (f->nonzero && all_zero(v, 16))
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field %s: all zero", f->name);
		memcpy(dst, v, 16);
		return 0;
	case K_U16:
		*(u16 *)dst = get16(v);
		break;
	case K_U32:
		*(u32 *)dst = get32(v);
		break;
	case K_U64:
		*(u64 *)dst = get64(v);
		break;
	case K_PEER:
		return parse_peer(v, len, m, why, wlen);
	case K_PATH:
		return parse_path(v, len, m, why, wlen);
	}
	return check_int(tag, m, why, wlen);
}

/* ------------------------------------------------------- decoding */

int spa_check_prefix(const u8 *buf, size_t len, u32 *frame_len, char *why,
		     size_t wlen)
{
	u32 flen;

	if (len < SPA_PREFIX_LEN)
		return spu_reason(why, wlen, -SPA_E_TRUNCATED,
				  "truncated: %zu bytes, a header needs %d", len,
				  SPA_PREFIX_LEN);
	if (memcmp(buf, SPA_MAGIC, 4))
		return spu_reason(why, wlen, -SPA_E_MAGIC,
				  "bad magic %02x%02x%02x%02x (not an agent frame)",
				  buf[0], buf[1], buf[2], buf[3]);
	if (buf[4] != SPA_PROTO_VERSION)
		return spu_reason(why, wlen, -SPA_E_VERSION,
				  "unsupported protocol version %u (this agent speaks %u)",
				  buf[4], SPA_PROTO_VERSION);
	if (get16(buf + 6))
		return spu_reason(why, wlen, -SPA_E_FLAGS,
				  "reserved flags 0x%04x set", get16(buf + 6));
	flen = get32(buf + 8);
	if (flen < SPA_FRAME_MIN || flen > SPA_FRAME_MAX)
		return spu_reason(why, wlen, -SPA_E_SIZE,
				  "declared length %u outside %d..%d", flen,
				  SPA_FRAME_MIN, SPA_FRAME_MAX);
	if (frame_len)
		*frame_len = flen;
	return 0;
}

int spa_decode(const u8 *buf, size_t len, struct spa_msg *m, char *why,
	       size_t wlen)
{
	const struct spa_msg_desc *d;
	const u8 *p, *end;
	unsigned int last = 0, tag;
	u32 flen, missing, allowed;
	u16 vlen;
	int ret, i;

	memset(m, 0, sizeof(*m));
	ret = spa_check_prefix(buf, len, &flen, why, wlen);
	if (ret)
		return ret;
	if (len < flen)
		return spu_reason(why, wlen, -SPA_E_TRUNCATED,
				  "truncated: %zu of %u bytes", len, flen);
	if (len > flen)
		return spu_reason(why, wlen, -SPA_E_SIZE,
				  "%zu bytes follow the %u-byte frame", len - flen,
				  flen);
	d = find_desc(buf[5]);
	if (!d)
		return spu_reason(why, wlen, -SPA_E_VERB,
				  "unknown message type 0x%02x", buf[5]);
	m->type = buf[5];
	m->ts_ms = get64(buf + 12);
	memcpy(m->nonce, buf + 20, SPA_NONCE_LEN);
	allowed = d->required | d->optional;

	p = buf + SPA_HDR_LEN;
	end = buf + flen - SPA_MAC_LEN;
	while (p < end) {
		if (end - p < 4)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "truncated field header at offset %td",
					  p - buf);
		tag = get16(p);
		vlen = get16(p + 2);
		p += 4;
		if (vlen > end - p)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field tag %u: length %u runs past the body",
					  tag, vlen);
		if (tag == 0 || tag >= SPA_T_MAX)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "unknown field tag %u", tag);
		if (!(allowed & SPA_F(tag)))
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field %s is not allowed in %s",
					  fdesc[tag].name, d->name);
		if (tag < last)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field %s out of order", fdesc[tag].name);
		if (tag == last && !fdesc[tag].repeat)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "duplicate field %s", fdesc[tag].name);
		if (vlen < fdesc[tag].min || vlen > fdesc[tag].max)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "field %s: length %u outside %u..%u",
					  fdesc[tag].name, vlen, fdesc[tag].min,
					  fdesc[tag].max);
		ret = parse_value(tag, p, vlen, m, why, wlen);
		if (ret)
			return ret;
		m->fields |= SPA_F(tag);
		last = tag;
		p += vlen;
	}
	missing = d->required & ~m->fields;
	if (missing) {
		for (i = 1; i < SPA_T_MAX; i++)
			if (missing & SPA_F(i))
				break;
		return spu_reason(why, wlen, -SPA_E_MISSING,
				  "%s without its field %s", d->name,
				  fdesc[i].name);
	}
	return 0;
}

/* ------------------------------------------------------- encoding */

struct wbuf {
	u8 *buf;
	size_t cap;
	size_t pos;
	bool overflow;
};

static u8 *field(struct wbuf *w, unsigned int tag, size_t len)
{
	u8 *p;

	if (w->overflow || len > 0xffff || w->pos + 4 + len > w->cap) {
		w->overflow = true;
		return NULL;
	}
	p = w->buf + w->pos;
	put16(p, tag);
	put16(p + 2, len);
	w->pos += 4 + len;
	return p + 4;
}

static void put_str(struct wbuf *w, unsigned int tag, const char *s)
{
	size_t n = strlen(s);
	u8 *p = field(w, tag, n);

	if (p)
		memcpy(p, s, n);
}

static void put_bytes(struct wbuf *w, unsigned int tag, const u8 *b)
{
	u8 *p = field(w, tag, 16);

	if (p)
		memcpy(p, b, 16);
}

static void put_int(struct wbuf *w, unsigned int tag, u64 v, size_t len)
{
	u8 *p = field(w, tag, len);

	if (!p)
		return;
	if (len == 2)
		put16(p, v);
	else if (len == 4)
		put32(p, v);
	else
		put64(p, v);
}

static void put_path(struct wbuf *w, const struct spa_path_info *pa)
{
	size_t al = strnlen(pa->addr, sizeof(pa->addr));
	u8 *p = field(w, SPA_T_PATH, 2 + al);

	if (!p)
		return;
	put16(p, pa->port);
	memcpy(p + 2, pa->addr, al);
}

static void put_peer(struct wbuf *w, const struct spa_peer_info *pi)
{
	size_t nl = strnlen(pi->name, sizeof(pi->name));
	size_t al = strnlen(pi->addr, sizeof(pi->addr));
	u8 *p = field(w, SPA_T_PEER, 3 + nl + al);

	if (!p)
		return;
	put16(p, pi->port);
	p[2] = (u8)nl;
	memcpy(p + 3, pi->name, nl);
	memcpy(p + 3 + nl, pi->addr, al);
}

/* Adds field @tag of @m (every PEER, every PATH); 0 or -SPA_E_FIELD. */
static int put_value(struct wbuf *w, unsigned int tag, const struct spa_msg *m,
		     char *why, size_t wlen)
{
	const struct spa_field_desc *f = &fdesc[tag];
	const u8 *src = (const u8 *)m + f->off;
	unsigned int k;

	switch (f->kind) {
	case K_STR:
		put_str(w, tag, (const char *)src);
		break;
	case K_ID16:
		put_bytes(w, tag, src);
		break;
	case K_U16:
	case K_U32:
	case K_U64:
		put_int(w, tag, get_member(f, m), f->min);
		break;
	case K_PEER:
		if (!m->nr_peers || m->nr_peers > SPA_PEERS_MAX)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "%u peers: 1..%u can be sent",
					  m->nr_peers, SPA_PEERS_MAX);
		for (k = 0; k < m->nr_peers; k++)
			put_peer(w, &m->peers[k]);
		break;
	case K_PATH:
		if (!m->nr_paths || m->nr_paths > SPA_PATHS_MAX - 1)
			return spu_reason(why, wlen, -SPA_E_FIELD,
					  "%u paths: 1..%u can be sent",
					  m->nr_paths, SPA_PATHS_MAX - 1);
		for (k = 0; k < m->nr_paths; k++)
			put_path(w, &m->paths[k]);
		break;
	}
	return 0;
}

int spa_encode(const struct spa_msg *m, u8 *buf, size_t cap, size_t *len,
	       char *why, size_t wlen)
{
	struct wbuf w = { .buf = buf, .cap = cap, .pos = SPA_HDR_LEN };
	const struct spa_msg_desc *d = find_desc(m->type);
	struct spa_msg *check;
	unsigned int i;
	int ret;

	if (!d)
		return spu_reason(why, wlen, -SPA_E_VERB,
				  "cannot encode unknown type 0x%02x", m->type);
	if (m->fields & ~(d->required | d->optional))
		return spu_reason(why, wlen, -SPA_E_FIELD,
				  "%s given fields it does not allow", d->name);
	if (d->required & ~m->fields)
		return spu_reason(why, wlen, -SPA_E_MISSING,
				  "%s lacks required fields", d->name);
	if (cap > SPA_FRAME_MAX)
		w.cap = SPA_FRAME_MAX;
	if (w.cap < SPA_FRAME_MIN)
		return spu_reason(why, wlen, -SPA_E_SIZE, "buffer too small");
	w.cap -= SPA_MAC_LEN;
	memset(buf, 0, SPA_HDR_LEN);
	memcpy(buf, SPA_MAGIC, 4);
	buf[4] = SPA_PROTO_VERSION;
	buf[5] = m->type;
	put64(buf + 12, m->ts_ms);
	memcpy(buf + 20, m->nonce, SPA_NONCE_LEN);

	for (i = 1; i < SPA_T_MAX; i++) {
		if (!(m->fields & SPA_F(i)))
			continue;
		ret = put_value(&w, i, m, why, wlen);
		if (ret)
			return ret;
	}
	if (w.overflow)
		return spu_reason(why, wlen, -SPA_E_SIZE,
				  "%s does not fit in %d bytes", d->name,
				  SPA_FRAME_MAX);
	put32(buf + 8, w.pos + SPA_MAC_LEN);
	memset(buf + w.pos, 0, SPA_MAC_LEN);
	*len = w.pos + SPA_MAC_LEN;

	/* Never send what a peer would refuse. */
	check = calloc(1, sizeof(*check));
	if (!check)
		return spu_reason(why, wlen, -ENOMEM, "out of memory");
	ret = spa_decode(buf, *len, check, why, wlen);
	free(check);
	return ret;
}
