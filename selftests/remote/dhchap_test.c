// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of DH-HMAC-CHAP (NVMe in-band authentication) in the
 * agent (auth.c, lender.c, host.c, libspu's spa-nvmet.c), against a fake
 * nvmet configfs and a fake /dev/nvme-fabrics, since Debian's 6.1 kernel
 * builds neither side: the secret representation (as nvme
 * gen-dhchap-key prints it), secrets derived per role and host from the
 * pair's key; the target probe (nvmet not loaded, host entries without
 * dhchap_key: absent, the probe entry removed again; with it: offered);
 * the host probe (dhchap_secret among nvme-fabrics' options or not); a
 * host's secrets written to nvmet, refused where the attribute is
 * absent; the lender's export carrying the borrower's secrets only with
 * 'dhchap on' where nvmet offers it; nvme connect given
 * --dhchap-secret and --dhchap-ctrl-secret, and nothing without them.
 */
#include "remote-test.h"

#define MIB	(1024ULL * 1024)
/* nvme gen-dhchap-key --secret=000102...1f --hmac=0 --key-length=32 */
#define VEC_KEY	"DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"
/* spa_dhchap_derive() of TEST_KEY_HEX for HOSTNQN_B (Python's hmac). */
#define B_HOST	"DHHC-1:00:iCdwMB7VV8NcFiq1VC5Xc9Yl+1KKQ3G0XwKgKrV9AI0BjWaC:"
#define B_CTRL	"DHHC-1:00:YjdL8ZB51qGhyvYN4Xe7ge4cbgGOArUaSbtjUA9KmRayWMPZ:"

/* /dev/nvme-fabrics' options: Debian 6.1's, and a kernel's with auth. */
#define OPTS_61 \
	"instance=-1,cntlid=-1,transport=%s,traddr=%s,trsvcid=%s,nqn=%s," \
	"queue_size=%d,nr_io_queues=%d,reconnect_delay=%d,ctrl_loss_tmo=%d," \
	"keep_alive_tmo=%d,hostnqn=%s,hostid=%s,duplicate_connect," \
	"disable_sqflow,hdr_digest,data_digest,nr_write_queues=%d," \
	"nr_poll_queues=%d,tos=%d,fast_io_fail_tmo=%d,discovery"
#define OPTS_AUTH \
	"instance=-1,cntlid=-1,transport=%s,hostnqn=%s,dhchap_secret=%s," \
	"dhchap_ctrl_secret=%s,discovery"

static struct spa_key key;

static void t_format(void)
{
	char out[SPA_DHCHAP_MAX + 1], h[SPA_DHCHAP_MAX + 1];
	char c2[SPA_DHCHAP_MAX + 1];
	u8 secret[64];
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = i;
	ret = spa_dhchap_format(secret, 32, out);
	CHECK(!ret && !strcmp(out, VEC_KEY), "32 bytes: %d %s", ret, out);
	ret = spa_dhchap_format(secret, 64, out);
	CHECK(!ret && strlen(out) == 10 + 92 + 1 && strlen(out) <= SPA_DHCHAP_MAX,
	      "64 bytes fit: %d %zu", ret, strlen(out));
	CHECK(spa_dhchap_format(secret, 31, out) == -EINVAL, "31 bytes refused");
	ret = spa_dhchap_derive(&key, "host", HOSTNQN_B, h);
	CHECK(!ret && !strcmp(h, B_HOST), "b's host secret: %s", h);
	ret = spa_dhchap_derive(&key, "ctrl", HOSTNQN_B, c2);
	CHECK(!ret && !strcmp(c2, B_CTRL), "b's controller secret: %s", c2);
	ret = spa_dhchap_derive(&key, "host", "nqn.2014-08.org.example:other",
				out);
	CHECK(!ret && strcmp(out, h), "another host, another secret");
}

static void t_config(void)
{
	struct spa_config c;
	char why[512] = "";
	int ret;

	spa_config_defaults(&c);
	ret = spa_config_parse("node b\nlisten 127.0.0.1 7450\n", &c, why,
			       sizeof(why));
	CHECK(!ret && !c.dhchap, "off by default (%d: %s)", ret, why);
	ret = spa_config_parse("node b\nlisten 127.0.0.1 7450\ndhchap on\n",
			       &c, why, sizeof(why));
	CHECK(!ret && c.dhchap, "dhchap on (%d: %s)", ret, why);
	spa_config_defaults(&c);
	ret = spa_config_parse("node b\nlisten 127.0.0.1 7450\ndhchap yes\n",
			       &c, why, sizeof(why));
	CHECK(ret == -EINVAL &&
	      !strncmp(why, "line 3: bad value for 'dhchap'", 30),
	      "dhchap yes refused: %d: %s", ret, why);
}

/* <nvmet root>/hosts/@nqn, with the DH-HMAC-CHAP attributes if @auth. */
static void fake_host(const char *nqn, bool auth)
{
	static const char *const attrs[] = {
		"dhchap_key", "dhchap_hash", "dhchap_dhgroup", "dhchap_ctrl_key",
	};
	char path[PATH_MAX];
	unsigned int i;

	mkdirs("%s/hosts/%s", spu_nvmet_root(), nqn);
	for (i = 0; auth && i < ARRAY_SIZE(attrs); i++) {
		snprintf(path, sizeof(path), "%s/hosts/%s/%s",
			 spu_nvmet_root(), nqn, attrs[i]);
		put_file(path, "");
	}
}

static bool host_attr_is(const char *nqn, const char *attr, const char *want)
{
	char path[PATH_MAX], buf[256];

	snprintf(path, sizeof(path), "%s/hosts/%s/%s", spu_nvmet_root(), nqn,
		 attr);
	return !spu_read_buf(path, buf, sizeof(buf)) && !strcmp(buf, want);
}

static void t_target_probe(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	int ret;

	fresh_roots(dir, sizeof(dir), "probe");
	snprintf(path, sizeof(path), "%s/nvmet", dir);
	rmdir(path);
	ret = spa_dhchap_target_probe();
	CHECK(ret == -ENOENT, "nvmet not loaded: %d (%s)", ret,
	      spa_dhchap_said(ret));
	mkdirs("%s/hosts", spu_nvmet_root());
	ret = spa_dhchap_target_probe();
	CHECK(ret == 0 && !strcmp(spa_dhchap_said(ret), "absent"),
	      "no host entry, the probe's without dhchap_key: %d", ret);
	snprintf(path, sizeof(path), "%s/hosts/%s", spu_nvmet_root(),
		 SPA_DHCHAP_PROBE_NQN);
	CHECK(!spu_exists(path), "the probe entry was removed");
	fake_host(HOSTNQN_B, false);
	ret = spa_dhchap_target_probe();
	CHECK(ret == 0, "a host entry without dhchap_key (Debian 6.1): %d", ret);
	fresh_roots(dir, sizeof(dir), "probe");
	fake_host(HOSTNQN_B, true);
	ret = spa_dhchap_target_probe();
	CHECK(ret == 1 && !strcmp(spa_dhchap_said(ret), "offered"),
	      "a host entry with dhchap_key: %d", ret);
}

static void t_host_probe(void)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/nvme-fabrics", test_dir);
	setenv("NVME_FABRICS", path, 1);
	unlink(path);
	ret = spa_dhchap_host_probe();
	CHECK(ret == -ENOENT, "nvme-fabrics not loaded: %d", ret);
	/* What Debian 6.1's nvme-fabrics lists (no CONFIG_NVME_HOST_AUTH). */
	put_file(path, OPTS_61);
	ret = spa_dhchap_host_probe();
	CHECK(ret == 0, "Debian 6.1's options: absent (%d)", ret);
	put_file(path, OPTS_AUTH);
	ret = spa_dhchap_host_probe();
	CHECK(ret == 1, "with dhchap_secret: offered (%d)", ret);
	unsetenv("NVME_FABRICS");
}

static void t_host_auth(void)
{
	char dir[PATH_MAX], why[512] = "";
	int ret;

	fresh_roots(dir, sizeof(dir), "auth");
	fake_host(HOSTNQN_B, false);
	ret = spa_nvmet_host_auth(HOSTNQN_B, B_HOST, B_CTRL, why, sizeof(why));
	CHECK(ret == -EOPNOTSUPP && strstr(why, "offers no DH-HMAC-CHAP"),
	      "absent: %d %s", ret, why);
	CHECK(!host_attr_is(HOSTNQN_B, "dhchap_key", B_HOST),
	      "nothing was created");
	fake_host(HOSTNQN_B, true);
	ret = spa_nvmet_host_auth(HOSTNQN_B, B_HOST, B_CTRL, why, sizeof(why));
	CHECK(!ret, "offered: %d %s", ret, why);
	CHECK(host_attr_is(HOSTNQN_B, "dhchap_key", B_HOST) &&
	      host_attr_is(HOSTNQN_B, "dhchap_ctrl_key", B_CTRL) &&
	      host_attr_is(HOSTNQN_B, "dhchap_hash", "hmac(sha256)") &&
	      host_attr_is(HOSTNQN_B, "dhchap_dhgroup", "null"),
	      "the host's secrets, hash and group written");
}

/* A grant to b from lender a (dhchap @on) over a fake nvmet (@offered). */
static void lend_once(bool on, bool offered, struct spa_export *out)
{
	struct spa_config *c = calloc(1, sizeof(*c));
	struct spa_lender *l = calloc(1, sizeof(*l));
	char why[512] = "";
	struct spa_msg rep;
	u64 id;

	if (!c || !l)
		exit(1);
	fresh_lender(c, offered ? "lend-on" : "lend-off", 64, 9);
	fake_member("pa", "m1", 8, "online", 1);
	mkdirs("%s/hosts", spu_nvmet_root());
	if (offered)
		fake_host("nqn.2014-08.org.example:earlier", true);
	c->dhchap = on;
	if (spa_lender_init(l, c, &fake_backend, why, sizeof(why)))
		exit(1);
	l->keys = &keys;
	id = grant_to_b(l, c, 64 * MIB, &rep);
	CHECK(id, "granted: %s", rep.err_text);
	*out = fake_ctx.last;
	spa_lender_free(l);
	free(l);
	free(c);
}

static void t_lender(void)
{
	struct spa_export e;

	cap_start();
	lend_once(true, true, &e);
	CHECK(!strcmp(e.dhchap_key, B_HOST) && !strcmp(e.dhchap_ctrl_key, B_CTRL),
	      "dhchap on, offered: the export carries b's secrets");
	CHECK(cap_has("dhchap on: nvmet offers DH-HMAC-CHAP", NULL), "said");
	lend_once(true, false, &e);
	CHECK(!e.dhchap_key[0] && !e.dhchap_ctrl_key[0],
	      "dhchap on, absent: exported without secrets");
	CHECK(cap_has("dhchap on, but this kernel's nvmet offers no DH-HMAC-CHAP (absent",
		      NULL), "said");
	lend_once(false, true, &e);
	CHECK(!e.dhchap_key[0], "dhchap off: no secrets, offered or not");
	spu_log_set_hook(NULL);
	spu_log_set_quiet(false);
}

/* nvme connect through a fake nvme_cli that writes its arguments down. */
static void t_connect(void)
{
	char cli[PATH_MAX], args[PATH_MAX], text[PATH_MAX * 2 + 64];
	char got[2048], why[512] = "";
	struct spa_config c;
	int ret;

	snprintf(cli, sizeof(cli), "%s/nvme", test_dir);
	snprintf(args, sizeof(args), "%s/nvme.args", test_dir);
	snprintf(text, sizeof(text), "#!/bin/sh\necho \"$*\" > '%s'\n", args);
	put_file(cli, text);
	chmod(cli, 0755);
	test_config(&c, "b", test_dir, 9);
	snprintf(c.nvme_cli, sizeof(c.nvme_cli), "%s", cli);
	ret = spa_nvme_connect(&c, "10.98.0.1", 4420, "nqn.2014-08.org.example:s",
			       B_HOST, B_CTRL, why, sizeof(why));
	CHECK(!ret, "connect: %d %s", ret, why);
	CHECK(!spu_read_buf(args, got, sizeof(got)) &&
	      strstr(got, " --dhchap-secret=" B_HOST " --dhchap-ctrl-secret=" B_CTRL),
	      "both secrets passed: %s", got);
	ret = spa_nvme_connect(&c, "10.98.0.1", 4420, "nqn.2014-08.org.example:s",
			       NULL, NULL, why, sizeof(why));
	CHECK(!ret && !spu_read_buf(args, got, sizeof(got)) &&
	      !strstr(got, "dhchap"), "none without them: %s", got);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		{ "secrets: nvme's representation, derived per host and role",
		  t_format },
		{ "dhchap on|off, off by default", t_config },
		{ "the target probe: nvmet's host entries", t_target_probe },
		{ "the host probe: nvme-fabrics' options", t_host_probe },
		{ "a host's secrets written, refused where absent",
		  t_host_auth },
		{ "the lender's export carries them only with dhchap on and nvmet's",
		  t_lender },
		{ "nvme connect --dhchap-secret and --dhchap-ctrl-secret",
		  t_connect },
	};

	make_test_dir();
	return ktap_run_keyed(&key, cases, ARRAY_SIZE(cases));
}
