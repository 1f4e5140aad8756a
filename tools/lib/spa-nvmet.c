// SPDX-License-Identifier: GPL-2.0
/*
 * libspu - the agent's export and unexport through nvmet configfs
 *
 * An export is (Documentation/nvmet-remote-ns.rst, "Export"):
 *
 *   hosts/<hostnqn>/
 *   subsystems/<subnqn>/attr_allow_any_host = 0
 *   subsystems/<subnqn>/allowed_hosts/<hostnqn> -> hosts/<hostnqn>
 *   subsystems/<subnqn>/namespaces/<nsid>/{device_path, device_uuid,
 *                                         device_nguid, enable = 1}
 *   ports/<id>/{addr_trtype tcp, addr_adrfam, addr_traddr, addr_trsvcid}
 *   ports/<id>/ana_groups/1/ana_state = optimized
 *   ports/<id>/subsystems/<subnqn> -> subsystems/<subnqn>
 *
 * and with a second "export" line, the same port entries again for the
 * standby path with ana_groups/1/ana_state = non-optimized (the namespace
 * is in ANA group 1, nvmet's default): the borrower's native NVMe
 * multipath prefers the first path and fails over to the second.
 *
 * When a grant grows, "1" is written to the namespace's revalidate_size:
 * nvmet reads the size of its device again and, if it changed, sends
 * the connected hosts a namespace-attribute-changed notice (AEN), upon
 * which they rescan the namespace.
 *
 * Each step accepts what is already there, so that an export can be
 * completed after a restart.  Unexport removes the subsystem's links from
 * every port, the subsystem, the host entries no other subsystem allows,
 * and each of those ports once no subsystem is linked to it (the agent
 * owns its configured port ids).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spa-state.h"

static int mkdir_ok(const char *path)
{
	int ret = spu_mkdir(path);

	return ret == -EEXIST ? 0 : ret;
}

static int link_ok(const char *target, const char *link)
{
	if (symlink(target, link) && errno != EEXIST)
		return -errno;
	return 0;
}

struct spa_tport {
	const char *traddr;
	u16 trsvcid;
	u16 port_id;
	const char *ana;	/* the state of ANA group 1 on this port */
};

/* ANA group 1 of the port: where nvmet puts the namespace. */
static int set_ana(const struct spa_tport *e, const char *port, char *why,
		   size_t wlen)
{
	char path[PATH_MAX + 32], val[32];
	int ret;

	snprintf(path, sizeof(path), "%s/ana_groups/1/ana_state", port);
	if (!spu_read_buf(path, val, sizeof(val)) && !strcmp(val, e->ana))
		return 0;
	ret = spu_write_file(path, e->ana);
	if (ret)
		spu_reason(why, wlen, ret,
			   "cannot set ANA group 1 of nvmet port %u %s: %s",
			   e->port_id, e->ana, strerror(-ret));
	return ret;
}

/* Creates the port, or checks that the existing one has our address. */
static int ensure_port(const struct spa_tport *e, char *why, size_t wlen)
{
	char port[PATH_MAX], path[PATH_MAX + 32], val[64], svc[8];
	const char *r = spu_nvmet_root();
	struct in_addr a4;
	int ret;

	snprintf(svc, sizeof(svc), "%u", e->trsvcid);
	if (spu_path(port, sizeof(port), "%s/ports/%u", r, e->port_id))
		return -ENAMETOOLONG;
	if (spu_exists(port)) {
		snprintf(path, sizeof(path), "%s/addr_trtype", port);
		if (spu_read_buf(path, val, sizeof(val)) || strcmp(val, "tcp"))
			goto other;
		snprintf(path, sizeof(path), "%s/addr_traddr", port);
		if (spu_read_buf(path, val, sizeof(val)) ||
		    strcmp(val, e->traddr))
			goto other;
		snprintf(path, sizeof(path), "%s/addr_trsvcid", port);
		if (spu_read_buf(path, val, sizeof(val)) || strcmp(val, svc))
			goto other;
		return set_ana(e, port, why, wlen);
	}
	ret = spu_mkdir(port);
	if (ret)
		return spu_reason(why, wlen, ret, "cannot create nvmet port %u: %s",
				  e->port_id, strerror(-ret));
	snprintf(path, sizeof(path), "%s/addr_trtype", port);
	ret = spu_write_file(path, "tcp");
	if (!ret) {
		snprintf(path, sizeof(path), "%s/addr_adrfam", port);
		ret = spu_write_file(path, inet_pton(AF_INET, e->traddr, &a4) == 1 ?
				     "ipv4" : "ipv6");
	}
	if (!ret) {
		snprintf(path, sizeof(path), "%s/addr_traddr", port);
		ret = spu_write_file(path, e->traddr);
	}
	if (!ret) {
		snprintf(path, sizeof(path), "%s/addr_trsvcid", port);
		ret = spu_write_file(path, svc);
	}
	if (ret) {
		spu_reason(why, wlen, ret, "cannot set up nvmet port %u (%s): %s",
			   e->port_id, path, strerror(-ret));
		spu_rmdir(port);
		return ret;
	}
	ret = set_ana(e, port, why, wlen);
	if (ret)
		spu_rmdir(port);
	return ret;
other:
	return spu_reason(why, wlen, -EADDRINUSE,
			  "nvmet port %u exists with another transport or address than tcp %s:%s (nvmet_port_id must name a port the agent owns)",
			  e->port_id, e->traddr, svc);
}

int spa_nvmet_host_auth(const char *hostnqn, const char *key,
			const char *ctrl_key, char *why, size_t wlen)
{
	static const char *const attr[] = {
		"dhchap_key", "dhchap_hash", "dhchap_dhgroup", "dhchap_ctrl_key",
	};
	char path[PATH_MAX];
	const char *val;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(attr); i++) {
		val = i == 0 ? key : i == 1 ? "hmac(sha256)" : i == 2 ? "null" :
		      ctrl_key;
		if (!val || !val[0])
			continue;
		if (spu_path(path, sizeof(path), "%s/hosts/%s/%s",
			     spu_nvmet_root(), hostnqn, attr[i]))
			return -ENAMETOOLONG;
		if (!i && !spu_exists(path))
			return spu_reason(why, wlen, -EOPNOTSUPP,
					  "nvmet host %s has no dhchap_key: this kernel's nvmet offers no DH-HMAC-CHAP (CONFIG_NVME_TARGET_AUTH)",
					  hostnqn);
		/* Never created: an attribute that is not there fails. */
		ret = spu_write(path, val, false);
		if (ret)
			return spu_reason(why, wlen, ret,
					  "cannot set %s of nvmet host %s: %s",
					  attr[i], hostnqn, strerror(-ret));
	}
	return 0;
}

int spa_dhchap_target_probe(void)
{
	char hosts[PATH_MAX], path[PATH_MAX + 64];
	char **names = NULL;
	size_t n = 0;
	int ret;

	if (spu_path(hosts, sizeof(hosts), "%s/hosts", spu_nvmet_root()) ||
	    !spu_exists(hosts))
		return -ENOENT;
	if (!spu_list(hosts, true, &names, &n) && n) {
		snprintf(path, sizeof(path), "%s/%s/dhchap_key", hosts,
			 names[0]);
		spu_free_list(names, n);
		return spu_exists(path);
	}
	spu_free_list(names, n);
	snprintf(path, sizeof(path), "%s/%s", hosts, SPA_DHCHAP_PROBE_NQN);
	ret = spu_mkdir(path);
	if (ret && ret != -EEXIST)
		return ret;	/* not root, say: not known */
	snprintf(path, sizeof(path), "%s/%s/dhchap_key", hosts,
		 SPA_DHCHAP_PROBE_NQN);
	ret = spu_exists(path);
	snprintf(path, sizeof(path), "%s/%s", hosts, SPA_DHCHAP_PROBE_NQN);
	spu_rmdir(path);
	return ret;
}

int spa_dhchap_host_probe(void)
{
	const char *path = getenv("NVME_FABRICS");
	char buf[4096];
	ssize_t n;
	int fd;

	if (!path || !*path)
		path = "/dev/nvme-fabrics";
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	return !!strstr(buf, "dhchap_secret=");
}

const char *spa_dhchap_said(int probe)
{
	return probe > 0 ? "offered" : !probe ? "absent" :
	       probe == -ENOENT ? "unknown (not loaded)" :
	       probe == -EACCES || probe == -EPERM ? "unknown (not root)" :
	       "unknown";
}

int spa_nvmet_export(const struct spa_export *e, char *why, size_t wlen)
{
	char host[PATH_MAX], sub[PATH_MAX], ns[PATH_MAX], path[PATH_MAX + 64];
	const char *r = spu_nvmet_root();
	struct spa_tport tp[2];
	u64 enabled = 0;
	unsigned int i;
	int ret;

	if (!spu_exists(r))
		return spu_reason(why, wlen, -ENOENT,
				  "%s is missing: load nvmet-tcp (modprobe nvmet-tcp)",
				  r);
	if (spu_path(host, sizeof(host), "%s/hosts/%s", r, e->hostnqn) ||
	    spu_path(sub, sizeof(sub), "%s/subsystems/%s", r, e->subnqn) ||
	    spu_path(ns, sizeof(ns), "%s/namespaces/%u", sub, e->nsid))
		return -ENAMETOOLONG;

	ret = mkdir_ok(host);
	if (ret) {
		spu_reason(why, wlen, ret, "cannot create nvmet host %s: %s",
			   e->hostnqn, strerror(-ret));
		return ret;
	}
	if (e->dhchap_key[0]) {
		ret = spa_nvmet_host_auth(e->hostnqn, e->dhchap_key,
					  e->dhchap_ctrl_key, why, wlen);
		if (ret)
			goto undo;
	}
	ret = mkdir_ok(sub);
	if (ret) {
		spu_reason(why, wlen, ret, "cannot create nvmet subsystem %s: %s",
			   e->subnqn, strerror(-ret));
		goto undo;
	}
	snprintf(path, sizeof(path), "%s/attr_allow_any_host", sub);
	ret = spu_write_file(path, "0");
	if (!ret)
		ret = spu_path(path, sizeof(path), "%s/allowed_hosts/%s", sub,
			       e->hostnqn);
	if (!ret)
		ret = link_ok(host, path);
	if (ret) {
		spu_reason(why, wlen, ret, "cannot allow host %s on %s: %s",
			   e->hostnqn, e->subnqn, strerror(-ret));
		goto undo;
	}
	ret = mkdir_ok(ns);
	if (ret) {
		spu_reason(why, wlen, ret, "cannot create namespace %u of %s: %s",
			   e->nsid, e->subnqn, strerror(-ret));
		goto undo;
	}
	snprintf(path, sizeof(path), "%s/enable", ns);
	spu_read_u64(path, &enabled);
	if (enabled != 1) {
		snprintf(path, sizeof(path), "%s/device_path", ns);
		ret = spu_write_file(path, e->device);
		if (!ret) {
			snprintf(path, sizeof(path), "%s/device_uuid", ns);
			ret = spu_write_file(path, e->uuid);
		}
		if (!ret) {
			snprintf(path, sizeof(path), "%s/device_nguid", ns);
			ret = spu_write_file(path, e->uuid);
		}
		if (!ret) {
			snprintf(path, sizeof(path), "%s/enable", ns);
			ret = spu_write_file(path, "1");
		}
		if (ret) {
			spu_reason(why, wlen, ret,
				   "cannot set up namespace %u of %s on %s (%s): %s",
				   e->nsid, e->subnqn, e->device, path,
				   strerror(-ret));
			goto undo;
		}
	}
	tp[0].traddr = e->traddr;
	tp[0].trsvcid = e->trsvcid;
	tp[0].port_id = e->port_id;
	tp[0].ana = "optimized";
	tp[1].traddr = e->traddr2;
	tp[1].trsvcid = e->trsvcid2;
	tp[1].port_id = e->port_id2;
	tp[1].ana = "non-optimized";
	for (i = 0; i < (e->port_id2 ? 2 : 1); i++) {
		ret = ensure_port(&tp[i], why, wlen);
		if (ret)
			goto undo;
		if (spu_path(path, sizeof(path), "%s/ports/%u/subsystems/%s",
			     r, tp[i].port_id, e->subnqn)) {
			ret = -ENAMETOOLONG;
			goto undo;
		}
		ret = link_ok(sub, path);
		if (ret) {
			spu_reason(why, wlen, ret,
				   "cannot link %s to nvmet port %u: %s",
				   e->subnqn, tp[i].port_id, strerror(-ret));
			goto undo;
		}
	}
	return 0;
undo:
	spa_nvmet_unexport(e->subnqn, e->port_id, NULL, 0);
	return ret;
}

/* True if a subsystem other than @except allows @hostnqn. */
static bool host_in_use(const char *hostnqn, const char *except)
{
	char path[PATH_MAX];
	char **subs;
	size_t n, i;
	bool used = false;

	if (spu_path(path, sizeof(path), "%s/subsystems", spu_nvmet_root()) ||
	    spu_list(path, false, &subs, &n))
		return true;	/* when in doubt, keep it */
	for (i = 0; i < n && !used; i++) {
		if (!strcmp(subs[i], except))
			continue;
		if (!spu_path(path, sizeof(path),
			      "%s/subsystems/%s/allowed_hosts/%s",
			      spu_nvmet_root(), subs[i], hostnqn))
			used = spu_exists(path);
	}
	spu_free_list(subs, n);
	return used;
}

/* Removes port @id if no subsystem is linked to it any more. */
static void drop_port_if_empty(unsigned long id)
{
	char port[PATH_MAX], path[PATH_MAX + 16];
	char **names;
	size_t n;

	if (spu_path(port, sizeof(port), "%s/ports/%lu", spu_nvmet_root(),
		     id))
		return;
	snprintf(path, sizeof(path), "%s/subsystems", port);
	if (spu_exists(port) && !spu_list(path, false, &names, &n)) {
		spu_free_list(names, n);
		if (!n)
			spu_rmdir(port);
	}
}

/*
 * Unlinks @subnqn from every port; the ids of those ports (at most
 * @max) go to @ids.  Returns how many, or a negative errno.
 */
static int unlink_ports(const char *subnqn, unsigned long *ids,
			unsigned int max, char *why, size_t wlen)
{
	char path[PATH_MAX + 300];
	const char *r = spu_nvmet_root();
	char **ports;
	size_t np, i;
	unsigned int k = 0;
	int ret = 0;

	if (spu_path(path, sizeof(path), "%s/ports", r) ||
	    spu_list(path, false, &ports, &np))
		return 0;	/* no ports: nothing linked */
	for (i = 0; i < np; i++) {
		if (spu_path(path, sizeof(path), "%s/ports/%s/subsystems/%s",
			     r, ports[i], subnqn))
			continue;
		if (unlink(path)) {
			if (errno != ENOENT && !ret)
				ret = spu_reason(why, wlen, -errno,
						 "cannot unlink %s from port %s: %s",
						 subnqn, ports[i], strerror(errno));
			continue;
		}
		if (k < max)
			ids[k++] = strtoul(ports[i], NULL, 10);
	}
	spu_free_list(ports, np);
	return ret ? ret : (int)k;
}

int spa_nvmet_unexport(const char *subnqn, u16 port_id, char *why,
		       size_t wlen)
{
	char sub[PATH_MAX], path[PATH_MAX + 300];
	const char *r = spu_nvmet_root();
	char **names = NULL, **hosts = NULL;
	unsigned long ids[16];
	size_t n = 0, nh = 0, i;
	int ret = 0, err, nids;

	if (spu_path(sub, sizeof(sub), "%s/subsystems/%s", r, subnqn))
		return -ENAMETOOLONG;
	nids = unlink_ports(subnqn, ids, ARRAY_SIZE(ids), why, wlen);
	if (nids < 0) {
		ret = nids;
		nids = 0;
	}
	if (spu_exists(sub)) {
		snprintf(path, sizeof(path), "%s/namespaces", sub);
		if (!spu_list(path, false, &names, &n)) {
			for (i = 0; i < n; i++) {
				snprintf(path, sizeof(path),
					 "%s/namespaces/%s/enable", sub,
					 names[i]);
				spu_write_file(path, "0");
				snprintf(path, sizeof(path), "%s/namespaces/%s",
					 sub, names[i]);
				err = spu_rmdir(path);
				if (err && !ret) {
					ret = err;
					spu_reason(why, wlen, ret,
						   "cannot remove namespace %s of %s: %s",
						   names[i], subnqn, strerror(-err));
				}
			}
			spu_free_list(names, n);
		}
		snprintf(path, sizeof(path), "%s/allowed_hosts", sub);
		if (!spu_list(path, false, &hosts, &nh)) {
			for (i = 0; i < nh; i++) {
				snprintf(path, sizeof(path),
					 "%s/allowed_hosts/%s", sub, hosts[i]);
				unlink(path);
			}
		}
		err = spu_rmdir(sub);
		if (err && err != -ENOENT && !ret) {
			ret = err;
			spu_reason(why, wlen, ret, "cannot remove subsystem %s: %s",
				   subnqn, strerror(-err));
		}
	}
	for (i = 0; i < nh; i++) {
		if (host_in_use(hosts[i], subnqn))
			continue;
		snprintf(path, sizeof(path), "%s/hosts/%s", r, hosts[i]);
		spu_rmdir(path);
	}
	spu_free_list(hosts, nh);
	/* A port goes with its last subsystem. */
	drop_port_if_empty(port_id);
	for (i = 0; i < (size_t)nids; i++)
		if (ids[i] != port_id)
			drop_port_if_empty(ids[i]);
	return ret;
}

int spa_nvmet_list(const char *prefix, char ***names, size_t *count)
{
	char path[PATH_MAX];
	char **v;
	size_t n, i, k = 0;
	int ret;

	*names = NULL;
	*count = 0;
	if (spu_path(path, sizeof(path), "%s/subsystems", spu_nvmet_root()))
		return -ENAMETOOLONG;
	ret = spu_list(path, false, &v, &n);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		if (!strncmp(v[i], prefix, strlen(prefix)))
			v[k++] = v[i];
		else
			free(v[i]);
	}
	*names = v;
	*count = k;
	return 0;
}

bool spa_nvmet_exported(const char *subnqn, u16 port_id)
{
	char path[PATH_MAX];
	char **ns;
	size_t n, i;
	u64 en;
	bool ok = false;

	if (spu_path(path, sizeof(path), "%s/ports/%u/subsystems/%s",
		     spu_nvmet_root(), port_id, subnqn) || !spu_exists(path))
		return false;
	if (spu_path(path, sizeof(path), "%s/subsystems/%s/namespaces",
		     spu_nvmet_root(), subnqn) ||
	    spu_list(path, false, &ns, &n))
		return false;
	for (i = 0; i < n && !ok; i++) {
		if (!spu_path(path, sizeof(path),
			      "%s/subsystems/%s/namespaces/%s/enable",
			      spu_nvmet_root(), subnqn, ns[i]) &&
		    !spu_read_u64(path, &en) && en == 1)
			ok = true;
	}
	spu_free_list(ns, n);
	return ok;
}

int spa_nvmet_revalidate(const char *subnqn, unsigned int nsid, char *why,
			 size_t wlen)
{
	char path[PATH_MAX];
	int ret;

	if (spu_path(path, sizeof(path),
		     "%s/subsystems/%s/namespaces/%u/revalidate_size",
		     spu_nvmet_root(), subnqn, nsid))
		return -ENAMETOOLONG;
	if (!spu_exists(path))
		return spu_reason(why, wlen, -EOPNOTSUPP,
				  "%s is missing (namespace %u of %s not exported, or a kernel whose nvmet cannot revalidate a size)",
				  path, nsid, subnqn);
	ret = spu_write_file(path, "1");
	if (ret)
		return spu_reason(why, wlen, ret,
				  "nvmet refused to revalidate the size of namespace %u of %s: %s",
				  nsid, subnqn, strerror(-ret));
	return 0;
}
