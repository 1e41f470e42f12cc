/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Public key authentication, seen from the IKE engine, and the
 * authentication process ("ca", iked.8 PROCESSES) that does it.
 *
 * ca.c holds the private key, the trusted CAs and the CRLs; it signs
 * and verifies.  Under privilege separation ca.c runs only in the
 * authentication process: unprivileged, chrooted, with no network
 * socket, no PF_KEY and no file.  The parent reads the iked directory
 * (auth_walk()) and passes each file as a descriptor; the engine asks
 * over a SOCK_SEQPACKET pair, one request and one answer per datagram
 * (auth_dispatch() is the whole of what the process answers, and treats
 * each request as untrusted input: the engine is the process that
 * parses the network).  Signatures and verdicts are asynchronous
 * (auth_*_start(), "Asynchronous calls" below): the engine goes on
 * while the ca process works.  Our chain, ID and CERTREQ hashes are
 * asked once, synchronously, and kept.  With iked -X the same calls go
 * to a ca.c store in process.
 *
 * A request: [u32 sequence][u32 operation][fields]; an answer:
 * [u32 sequence][u32 status, 0 = done][blob why][fields].  A field is
 * a u32 (network order) or a blob ([u32 length][bytes]).
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <netdb.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "iked.h"

#define AUTH_FILE_MAX	(16 * 1024 * 1024)	/* a CRL may be large */
#define AUTH_WAIT	AUTH_WAIT_MS	/* ms for an answer */

enum auth_op {
	AUTH_OP_LOCAL = 1,	/* srcid -> chain, ID */
	AUTH_OP_CERTREQ,	/* -> CA key hashes */
	AUTH_OP_SIGN,		/* mode, peer's hashes, data -> method, sig */
	AUTH_OP_SIGNV1,		/* data -> sig */
	AUTH_OP_VERIFY,		/* struct ca_peer -> verdict */
	AUTH_OP_VERIFYSIGN	/* VERIFY, then if verified SIGN or SIGNV1 */
};

/* %%% The fields of a message */

struct auth_wbuf {
	uint8_t		*w_buf;
	size_t		 w_len, w_size;
	int		 w_err;
};

struct auth_rbuf {
	const uint8_t	*r_p;
	size_t		 r_left;
	int		 r_err;
};

static void
auth_put(struct auth_wbuf *w, const void *p, size_t len)
{
	if (w->w_err || len > w->w_size - w->w_len) {
		w->w_err = 1;
		return;
	}
	if (len > 0)
		memcpy(w->w_buf + w->w_len, p, len);
	w->w_len += len;
}

static void
auth_put32(struct auth_wbuf *w, uint32_t v)
{
	uint8_t	 b[4] = { v >> 24, v >> 16, v >> 8, v };

	auth_put(w, b, 4);
}

static void
auth_putblob(struct auth_wbuf *w, const void *p, size_t len)
{
	if (len > UINT32_MAX) {
		w->w_err = 1;
		return;
	}
	auth_put32(w, (uint32_t)len);
	auth_put(w, p, len);
}

static uint32_t
auth_get32(struct auth_rbuf *r)
{
	uint32_t	 v;

	if (r->r_err || r->r_left < 4) {
		r->r_err = 1;
		return (0);
	}
	v = (uint32_t)r->r_p[0] << 24 | (uint32_t)r->r_p[1] << 16 |
	    (uint32_t)r->r_p[2] << 8 | r->r_p[3];
	r->r_p += 4;
	r->r_left -= 4;
	return (v);
}

static const uint8_t *
auth_getblob(struct auth_rbuf *r, size_t *len)
{
	const uint8_t	*p;
	uint32_t	 n;

	n = auth_get32(r);
	if (r->r_err || n > r->r_left) {
		r->r_err = 1;
		*len = 0;
		return (NULL);
	}
	p = r->r_p;
	r->r_p += n;
	r->r_left -= n;
	*len = n;
	return (p);
}

/* An iked_id as type and string; what comes in is checked. */
static void
auth_putid(struct auth_wbuf *w, const struct iked_id *id)
{
	auth_put32(w, (uint32_t)id->id_type);
	auth_putblob(w, id->id_str, strnlen(id->id_str, sizeof(id->id_str)));
}

static void
auth_getid(struct auth_rbuf *r, struct iked_id *id)
{
	const uint8_t	*p;
	size_t		 len;
	uint32_t	 type;

	memset(id, 0, sizeof(*id));
	type = auth_get32(r);
	p = auth_getblob(r, &len);
	if (r->r_err || type > ID_ASN1DN || len >= sizeof(id->id_str) ||
	    (len > 0 && memchr(p, '\0', len) != NULL)) {
		r->r_err = 1;
		return;
	}
	id->id_type = (enum iked_idtype)type;
	if (len > 0)
		memcpy(id->id_str, p, len);
}

/* %%% The authentication process's side */

/*
 * What an IKEv2 AUTH signs (RFC 7296 2.15): an IKE_SA_INIT message of L
 * bytes (version 2.0, its length at offset 24), a nonce of 16 to 256
 * bytes, a PRF output of 16 to 64.  The ca process signs nothing else
 * for the engine: no certificate, no TLS handshake.
 */
static int
auth_ikev2_octets(const uint8_t *d, size_t len)
{
	size_t	 l;

	if (len < 28 || d[17] != 0x20 || d[18] != 34)
		return (0);
	l = (size_t)d[24] << 24 | (size_t)d[25] << 16 | (size_t)d[26] << 8 |
	    d[27];
	return (l >= 28 && l <= len && len - l >= 16 + 16 &&
	    len - l <= 256 + 64);
}

/* SIGN's fields (IKEv2) or SIGNV1's (IKEv1): what to sign, and how. */
struct auth_signreq {
	int		 sr_v1;
	uint32_t	 sr_mode, sr_hashes;
	const uint8_t	*sr_data;
	size_t		 sr_len;
};

/* The fields, which must end the request: 0, or -1 (not a request). */
static int
auth_get_sign(struct auth_rbuf *r, int v1, struct auth_signreq *sr)
{
	memset(sr, 0, sizeof(*sr));
	sr->sr_v1 = v1;
	if (!v1) {
		sr->sr_mode = auth_get32(r);
		sr->sr_hashes = auth_get32(r);
	}
	sr->sr_data = auth_getblob(r, &sr->sr_len);
	if (r->r_err || r->r_left != 0 || sr->sr_mode > CA_AUTH_RFC7427)
		return (-1);
	return (0);
}

/*
 * Signed, if it is what an AUTH (IKEv2) or SIG (IKEv1) signs and
 * nothing else: 0, or -1 with why set.
 */
static int
auth_do_sign(struct ca_store *ca, const struct auth_signreq *sr,
    uint8_t *method, uint8_t *sig, size_t *siglen, char *why, size_t whysz)
{
	if (sr->sr_v1) {
		/*
		 * HASH_I or HASH_R, the output of a PRF: never a DigestInfo
		 * or TLS's MD5 | SHA-1, which would make us an oracle.
		 */
		if (sr->sr_len != 16 && sr->sr_len != 20 && sr->sr_len != 32 &&
		    sr->sr_len != 48 && sr->sr_len != 64) {
			(void)snprintf(why, whysz, "not an IKEv1 HASH "
			    "(%zu bytes): not signed", sr->sr_len);
			log_warnx("ca: %s", why);
			return (-1);
		}
		return (ca_sign_v1(ca, sr->sr_data, sr->sr_len, sig,
		    CA_SIG_MAX, siglen, why, whysz));
	}
	if (!auth_ikev2_octets(sr->sr_data, sr->sr_len)) {
		(void)snprintf(why, whysz, "not the octets of an IKEv2 AUTH: "
		    "not signed");
		log_warnx("ca: %s", why);
		return (-1);
	}
	return (ca_sign(ca, (enum ca_authmode)sr->sr_mode, sr->sr_hashes,
	    sr->sr_data, sr->sr_len, method, sig, CA_SIG_MAX, siglen, why,
	    whysz));
}

/*
 * One request from the engine, answered into rep (AUTH_MSG_MAX bytes).
 * The length of the answer, or 0 if the request is not one (dropped).
 */
size_t
auth_dispatch(struct ca_store *ca, const uint8_t *req, size_t reqlen,
    uint8_t *rep, size_t repsz)
{
	struct auth_rbuf	 r = { req, reqlen, 0 };
	struct auth_wbuf	 w = { rep, 0, repsz, 0 };
	struct ca_peer		 p;
	struct auth_signreq	 sreq;
	struct iked_id		 id, dstid;
	uint8_t			 chain[CA_CHAIN_MAX], idb[CA_ID_MAX];
	uint8_t			 sig[CA_SIG_MAX], method = 0, idtype = 0;
	char			 why[CA_WHY_MAX], swhy[CA_WHY_MAX];
	size_t			 len, outlen = 0, idlen = 0;
	uint32_t		 seq, op, mode;
	int			 rc = -1, src = -1;

	why[0] = '\0';
	seq = auth_get32(&r);
	op = auth_get32(&r);
	if (r.r_err)
		return (0);
	if (ca == NULL) {
		/* Not loaded yet: a reload is under way at most. */
		(void)snprintf(why, sizeof(why), "no keys loaded");
		op = 0;
	}
	switch (op) {
	case 0:
		break;
	case AUTH_OP_LOCAL:
		auth_getid(&r, &id);
		if (r.r_err || r.r_left != 0)
			return (0);
		rc = ca_local(ca, &id, chain, sizeof(chain), &outlen, &idtype,
		    idb, sizeof(idb), &idlen, why, sizeof(why));
		break;
	case AUTH_OP_CERTREQ:
		if (r.r_left != 0)
			return (0);
		rc = ca_certreq(ca, chain, sizeof(chain), &outlen);
		break;
	case AUTH_OP_SIGN:
	case AUTH_OP_SIGNV1:
		if (auth_get_sign(&r, op == AUTH_OP_SIGNV1, &sreq) == -1)
			return (0);
		rc = auth_do_sign(ca, &sreq, &method, sig, &outlen, why,
		    sizeof(why));
		break;
	case AUTH_OP_VERIFY:
	case AUTH_OP_VERIFYSIGN:
		memset(&p, 0, sizeof(p));
		p.cp_version = (int)auth_get32(&r);
		p.cp_chain = auth_getblob(&r, &p.cp_chainlen);
		p.cp_idtype = (uint8_t)auth_get32(&r);
		p.cp_id = auth_getblob(&r, &p.cp_idlen);
		auth_getid(&r, &dstid);
		mode = auth_get32(&r);
		p.cp_hashes = auth_get32(&r);
		p.cp_method = (uint8_t)auth_get32(&r);
		p.cp_auth = auth_getblob(&r, &p.cp_authlen);
		p.cp_data = auth_getblob(&r, &p.cp_datalen);
		if (r.r_err || (op == AUTH_OP_VERIFY && r.r_left != 0) ||
		    mode > CA_AUTH_RFC7427 ||
		    (p.cp_version != 1 && p.cp_version != 2))
			return (0);
		p.cp_mode = (enum ca_authmode)mode;
		p.cp_dstid = &dstid;
		if (op == AUTH_OP_VERIFYSIGN) {
			/*
			 * Our signature in the same round trip, made only for
			 * a peer verified: a forged AUTH costs no signature.
			 */
			if (auth_get_sign(&r, p.cp_version == 1, &sreq) == -1)
				return (0);
			swhy[0] = '\0';
			if ((rc = ca_verify(ca, &p, why, sizeof(why))) == 0 &&
			    (src = auth_do_sign(ca, &sreq, &method, sig,
			    &outlen, swhy, sizeof(swhy))) == -1 &&
			    swhy[0] == '\0')
				(void)snprintf(swhy, sizeof(swhy), "failed");
			break;
		}
		rc = ca_verify(ca, &p, why, sizeof(why));
		break;
	default:
		return (0);
	}
	if (rc == -1 && why[0] == '\0')
		(void)snprintf(why, sizeof(why), "failed");
	auth_put32(&w, seq);
	auth_put32(&w, rc == 0 ? 0 : 1);
	auth_putblob(&w, why, rc == 0 ? 0 : strlen(why));
	if (rc == 0) {
		switch (op) {
		case AUTH_OP_LOCAL:
			auth_putblob(&w, chain, outlen);
			auth_put32(&w, idtype);
			auth_putblob(&w, idb, idlen);
			break;
		case AUTH_OP_CERTREQ:
			auth_putblob(&w, chain, outlen);
			break;
		case AUTH_OP_SIGN:
			auth_put32(&w, method);
			auth_putblob(&w, sig, outlen);
			break;
		case AUTH_OP_SIGNV1:
			auth_putblob(&w, sig, outlen);
			break;
		case AUTH_OP_VERIFYSIGN:
			auth_put32(&w, src == 0 ? 0 : 1);
			auth_putblob(&w, swhy, src == 0 ? 0 : strlen(swhy));
			auth_put32(&w, method);
			auth_putblob(&w, sig, src == 0 ? outlen : 0);
			break;
		default:
			break;
		}
	}
	explicit_bzero(sig, sizeof(sig));
	len = w.w_err ? 0 : w.w_len;
	return (len);
}

/* %%% The iked directory */

static const struct {
	const char		*ad_dir;
	enum ca_filekind	 ad_kind;
} auth_dirs[] = {
	{ "ca", CA_F_CA },
	{ "certs", CA_F_CERT },
	{ "crls", CA_F_CRL },
	{ "pubkeys/fqdn", CA_F_PUBKEY },
	{ "pubkeys/ufqdn", CA_F_PUBKEY },
	{ "pubkeys/ipv4", CA_F_PUBKEY },
	{ "pubkeys/ipv6", CA_F_PUBKEY }
};

static int
auth_open(const char *path, int key)
{
	struct stat	 st;
	int		 fd;

	/* Not even opened if it is not a file (a device, a FIFO). */
	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (errno != ENOENT)
			log_warnx("%s: not a regular file; ignored", path);
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file; ignored", path);
		close(fd);
		return (-1);
	}
	/* As sshd(8) with its host keys. */
	if (key && ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0 ||
	    (st.st_uid != 0 && st.st_uid != geteuid()))) {
		log_warnx("%s: the private key may be read by others "
		    "(chmod 600 it); not loaded", path);
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Every file of the iked directory dir (OpenBSD's layout), each opened
 * and handed to cb, which closes it.  Names beginning with a dot are
 * skipped.  The number of files, or -1 if dir itself cannot be read.
 */
int
auth_walk(const char *dir, auth_file_cb cb, void *arg)
{
	struct dirent	**ents;
	struct stat	 st;
	char		 path[PATH_MAX], name[NAME_MAX + 32];
	size_t		 i;
	int		 n, j, fd, count = 0;

	if (access(dir, X_OK) == -1) {
		log_debug("%s: %s: no keys or certificates", dir,
		    strerror(errno));
		return (errno == ENOENT ? 0 : -1);
	}
	for (i = 0; i < sizeof(auth_dirs) / sizeof(auth_dirs[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir,
		    auth_dirs[i].ad_dir);
		/*
		 * Who may add a file here may add a trust anchor or a peer's
		 * key: as sshd(8)'s StrictModes, only root (or we).
		 */
		if (stat(path, &st) == -1)
			continue;
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
		    (st.st_uid != 0 && st.st_uid != geteuid())) {
			log_warnx("%s: writable by others; ignored", path);
			continue;
		}
		if ((n = scandir(path, &ents, NULL, alphasort)) == -1)
			continue;
		for (j = 0; j < n; j++) {
			if (ents[j]->d_name[0] == '.' ||
			    (size_t)snprintf(path, sizeof(path), "%s/%s/%s",
			    dir, auth_dirs[i].ad_dir, ents[j]->d_name) >=
			    sizeof(path) || (fd = auth_open(path, 0)) == -1) {
				free(ents[j]);
				continue;
			}
			if (auth_dirs[i].ad_kind == CA_F_PUBKEY)
				(void)snprintf(name, sizeof(name), "%s/%s",
				    auth_dirs[i].ad_dir + 8, ents[j]->d_name);
			else
				(void)snprintf(name, sizeof(name), "%s",
				    ents[j]->d_name);
			cb(auth_dirs[i].ad_kind, name, fd, arg);
			count++;
			free(ents[j]);
		}
		free(ents);
	}
	(void)snprintf(path, sizeof(path), "%s/private/local.key", dir);
	if ((fd = auth_open(path, 1)) != -1) {
		cb(CA_F_KEY, "local.key", fd, arg);
		count++;
	}
	return (count);
}

/* A file, whole, into a buffer; NULL (logged) if it cannot be. */
uint8_t *
auth_readfd(int fd, const char *name, size_t *lenp)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 len = 0;
	ssize_t		 n;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > AUTH_FILE_MAX) {
		log_warnx("%s: not a regular file of at most %d bytes; "
		    "ignored", name, AUTH_FILE_MAX);
		return (NULL);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return (NULL);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warnx("%s: cannot be read", name);
			freezero(buf, (size_t)st.st_size + 1);
			return (NULL);
		}
		len += (size_t)n;
	}
	*lenp = len;
	return (buf);
}

static void
auth_load_cb(enum ca_filekind kind, const char *name, int fd, void *arg)
{
	struct ca_store	*ca = arg;
	uint8_t		*buf;
	size_t		 len;

	if ((buf = auth_readfd(fd, name, &len)) != NULL) {
		(void)ca_add(ca, kind, name, buf, len);
		freezero(buf, len + 1);
	}
	close(fd);
}

/* The iked directory read into a new store (iked -X, iked -n). */
struct ca_store *
auth_load(const char *dir)
{
	struct ca_store	*ca;

	if ((ca = ca_new()) == NULL)
		return (NULL);
	if (auth_walk(dir, auth_load_cb, ca) == -1 || ca_ready(ca) == -1) {
		ca_free(ca);
		return (NULL);
	}
	return (ca);
}

/*
 * Whether the rules of cf that sign can: a private key, and for each a
 * certificate or raw key ca_local() accepts.  Errors to stderr (iked
 * -n) or the log; the number of rules that cannot.
 */
int
auth_check_config(struct ca_store *ca, const struct iked_config *cf,
    const char *dir, int tostderr)
{
	const struct iked_policy	*pol;
	uint8_t				 chain[CA_CHAIN_MAX], id[CA_ID_MAX];
	uint8_t				 idtype;
	char				 why[CA_WHY_MAX];
	size_t				 chainlen, idlen;
	int				 bad = 0, ok;

	TAILQ_FOREACH(pol, &cf->cfg_policies, pol_entry) {
		if (pol->pol_auth == CA_AUTH_NONE)
			continue;
		why[0] = '\0';
		if (ca == NULL || !ca_haskey(ca)) {
			(void)snprintf(why, sizeof(why), "no private key in "
			    "%s/private/local.key", dir);
			ok = 0;
		} else
			ok = ca_local(ca, &pol->pol_srcid, chain,
			    sizeof(chain), &chainlen, &idtype, id, sizeof(id),
			    &idlen, why, sizeof(why)) == 0;
		if (ok)
			continue;
		bad++;
		if (tostderr)
			fprintf(stderr, "%s:%d: %s \"%s\": %s: %s\n",
			    pol->pol_file, pol->pol_line,
			    policy_versionname(pol), pol->pol_name,
			    print_auth(pol->pol_auth), why);
		else
			log_warnx("%s:%d: rule \"%s\": %s: %s", pol->pol_file,
			    pol->pol_line, pol->pol_name,
			    print_auth(pol->pol_auth), why);
	}
	return (bad);
}

/* %%% OCSP: a connection to the responder */

#define AUTH_CONNECT_WAIT	3000	/* ms to connect */
#define AUTH_IO_WAIT		3	/* s for each read and write */

/*
 * A TCP connection to host and port (numeric port; host a name or an
 * address), within AUTH_CONNECT_WAIT, blocking afterwards with
 * AUTH_IO_WAIT seconds for each read and write.  The socket, or -1
 * (logged).  The parent's, for the ca process; iked -X's own.
 */
int
auth_tcp_connect(const char *host, const char *port)
{
	struct addrinfo	 hints, *res, *ai;
	struct pollfd	 pfd;
	struct timeval	 tv = { AUTH_IO_WAIT, 0 };
	socklen_t	 sl;
	int		 fd = -1, err, fl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((err = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_warnx("OCSP responder %s:%s: %s", host, port,
		    gai_strerror(err));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol)) == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			sl = sizeof(err);
			if (poll(&pfd, 1, AUTH_CONNECT_WAIT) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
			    &sl) == 0 && err == 0)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		log_warnx("OCSP responder %s:%s: cannot connect", host, port);
		return (-1);
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		log_warn("OCSP responder %s:%s", host, port);
		close(fd);
		return (-1);
	}
	return (fd);
}

/* iked -X: ca.c connects by itself. */
static int
auth_connect_here(const char *host, const char *port, void *arg)
{
	(void)arg;
	return (auth_tcp_connect(host, port));
}

/* The OCSP settings of cf (or none) for the store, in process. */
void
auth_set_ocsp(struct ca_store *ca, const struct iked_config *cf)
{
	if (cf == NULL || cf->cfg_ocsp_url == NULL)
		ca_set_ocsp(ca, NULL, 0, -1, NULL, NULL);
	else
		ca_set_ocsp(ca, cf->cfg_ocsp_url, cf->cfg_ocsp_tolerate,
		    cf->cfg_ocsp_maxage, auth_connect_here, NULL);
}

/* %%% The engine's side */

/*
 * The certificates of m's payloads of type pldtype with encoding enc,
 * in ca.h's list format, into chain (CA_CHAIN_MAX).  0, or -1 if they
 * do not fit.  Both versions' CERT payloads (IKEv1's and IKEv2's).
 */
int
auth_chain_from(const struct ikemsg *m, uint8_t pldtype, uint8_t enc,
    uint8_t *chain, size_t *chainlen)
{
	const struct ikemsg_pld	*p;
	const uint8_t		*cd;
	uint8_t			 e;
	size_t			 cl;

	*chainlen = 0;
	for (p = ikemsg_find(m, pldtype, NULL); p != NULL;
	    p = ikemsg_find(m, pldtype, p)) {
		if (ikemsg_pld_cert(p, &e, &cd, &cl) != IKEMSG_OK ||
		    e != enc || cl == 0 || cl > 0xffff)
			continue;
		if (cl + 2 > CA_CHAIN_MAX - *chainlen)
			return (-1);
		chain[*chainlen] = (uint8_t)(cl >> 8);
		chain[*chainlen + 1] = (uint8_t)cl;
		memcpy(chain + *chainlen + 2, cd, cl);
		*chainlen += cl + 2;
	}
	return (0);
}

/* Our chain (ca.h's list) as CERT payloads, built by build. */
void
auth_chain_build(struct ikebuf *b, const uint8_t *chain, size_t chainlen,
    int (*build)(struct ikebuf *, uint8_t, uint8_t, const void *, size_t),
    uint8_t pldtype, uint8_t enc)
{
	size_t	 i, len;

	for (i = 0; i + 2 <= chainlen; i += 2 + len) {
		len = (size_t)chain[i] << 8 | chain[i + 1];
		if (len > chainlen - i - 2)
			break;
		(void)build(b, pldtype, enc, chain + i + 2, len);
	}
}

static uint32_t	 auth_seq;

static void	auth_input(struct iked *, const uint8_t *, size_t);
static void	auth_arm(struct iked *);

/*
 * What does not change between reloads is asked once: our certificate
 * chain and ID for a srcid, and the CERTREQ hashes, synchronously
 * (auth_call()): a round trip to the ca process costs two wakeups, and
 * under load a scheduling delay each.  Signatures and verdicts, which
 * change with every handshake, are asked asynchronously (below).
 */
#define AUTH_CACHE_MAX	8
static struct auth_cached {
	int		 ac_used;
	struct iked_id	 ac_srcid;
	uint8_t		*ac_chain;
	size_t		 ac_chainlen;
	uint8_t		 ac_idtype;
	uint8_t		 ac_id[CA_ID_MAX];
	size_t		 ac_idlen;
} auth_cache[AUTH_CACHE_MAX];
static uint8_t	*auth_creq;
static size_t	 auth_creqlen;
static int	 auth_creqok;

/* A reload (new certificates, new rules): ask again. */
void
auth_forget(void)
{
	int	 i;

	for (i = 0; i < AUTH_CACHE_MAX; i++) {
		free(auth_cache[i].ac_chain);
		memset(&auth_cache[i], 0, sizeof(auth_cache[i]));
	}
	auth_creqok = 0;
}

/*
 * One request: the answer in rep (AUTH_MSG_MAX), read past its
 * sequence number and status.  0, or -1 with why set.
 */
static int
auth_call(struct iked *env, struct auth_wbuf *req, uint8_t *rep,
    struct auth_rbuf *r, char *why, size_t whysz)
{
	struct pollfd	 pfd;
	const uint8_t	*w;
	ssize_t		 n;
	size_t		 wl;
	uint32_t	 seq, status;
	int		 waited = 0;

	if (req->w_err) {
		(void)snprintf(why, whysz, "request too large");
		return (-1);
	}
	seq = auth_get32(&(struct auth_rbuf){ req->w_buf, 4, 0 });
	if (send(env->sc_cafd, req->w_buf, req->w_len, 0) == -1) {
		(void)snprintf(why, whysz, "authentication process: %s",
		    strerror(errno));
		return (-1);
	}
	for (;;) {
		pfd.fd = env->sc_cafd;
		pfd.events = POLLIN;
		if (waited >= AUTH_WAIT) {
			(void)snprintf(why, whysz, "the authentication "
			    "process does not answer");
			return (-1);
		}
		if ((n = poll(&pfd, 1, 100)) == -1 && errno != EINTR) {
			(void)snprintf(why, whysz, "poll: %s",
			    strerror(errno));
			return (-1);
		}
		if (n <= 0) {
			waited += 100;
			continue;
		}
		if ((n = recv(env->sc_cafd, rep, AUTH_MSG_MAX,
		    MSG_DONTWAIT)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			(void)snprintf(why, whysz, "authentication "
			    "process: %s", strerror(errno));
			return (-1);
		}
		if (n == 0) {
			(void)snprintf(why, whysz, "the authentication "
			    "process is gone");
			return (-1);
		}
		r->r_p = rep;
		r->r_left = (size_t)n;
		r->r_err = 0;
		/* Another request's answer: delivered from the loop. */
		if (auth_get32(r) != seq) {
			auth_input(env, rep, (size_t)n);
			if (env->sc_authq != NULL)
				auth_arm(env);
			continue;
		}
		break;
	}
	status = auth_get32(r);
	w = auth_getblob(r, &wl);
	if (r->r_err) {
		(void)snprintf(why, whysz, "a broken answer from the "
		    "authentication process");
		return (-1);
	}
	if (status != 0) {
		(void)snprintf(why, whysz, "%.*s", (int)wl, (const char *)w);
		return (-1);
	}
	return (0);
}

static void
auth_begin(struct auth_wbuf *w, uint8_t *buf, enum auth_op op)
{
	w->w_buf = buf;
	w->w_len = 0;
	w->w_size = AUTH_MSG_MAX;
	w->w_err = 0;
	auth_put32(w, ++auth_seq);
	auth_put32(w, op);
}

/* Two buffers of AUTH_MSG_MAX for a call, kept: the engine is one thread. */
static uint8_t *
auth_bufs(uint8_t **rep)
{
	static uint8_t	*bufs;

	if (bufs == NULL && (bufs = malloc(2 * AUTH_MSG_MAX)) == NULL)
		return (NULL);
	*rep = bufs + AUTH_MSG_MAX;
	return (bufs);
}

static int
auth_copyout(struct auth_rbuf *r, uint8_t *out, size_t outsz, size_t *outlen)
{
	const uint8_t	*p;
	size_t		 len;

	p = auth_getblob(r, &len);
	if (r->r_err || len > outsz)
		return (-1);
	if (len > 0)
		memcpy(out, p, len);
	*outlen = len;
	return (0);
}

int
auth_local(struct iked *env, const struct iked_id *srcid, uint8_t *chain,
    size_t chainsz, size_t *chainlen, uint8_t *idtype, uint8_t *id,
    size_t idsz, size_t *idlen, char *why, size_t whysz)
{
	struct auth_wbuf	 w;
	struct auth_rbuf	 r;
	struct auth_cached	*ac;
	uint8_t			*req, *rep;
	int			 i;

	if (env->sc_ca != NULL)
		return (ca_local(env->sc_ca, srcid, chain, chainsz, chainlen,
		    idtype, id, idsz, idlen, why, whysz));
	if (env->sc_cafd == -1) {
		(void)snprintf(why, whysz, "no keys loaded");
		return (-1);
	}
	for (i = 0; i < AUTH_CACHE_MAX; i++) {
		ac = &auth_cache[i];
		if (!ac->ac_used || ac->ac_srcid.id_type != srcid->id_type ||
		    strcmp(ac->ac_srcid.id_str, srcid->id_str) != 0)
			continue;
		if (ac->ac_chainlen > chainsz || ac->ac_idlen > idsz)
			break;
		memcpy(chain, ac->ac_chain, ac->ac_chainlen);
		*chainlen = ac->ac_chainlen;
		*idtype = ac->ac_idtype;
		memcpy(id, ac->ac_id, ac->ac_idlen);
		*idlen = ac->ac_idlen;
		return (0);
	}
	if ((req = auth_bufs(&rep)) == NULL)
		return (-1);
	auth_begin(&w, req, AUTH_OP_LOCAL);
	auth_putid(&w, srcid);
	if (auth_call(env, &w, rep, &r, why, whysz) == -1)
		return (-1);
	if (auth_copyout(&r, chain, chainsz, chainlen) == -1)
		goto bad;
	*idtype = (uint8_t)auth_get32(&r);
	if (auth_copyout(&r, id, idsz, idlen) == -1 || *idlen > CA_ID_MAX)
		goto bad;
	/* Kept for the next IKE_AUTH, in the first free slot. */
	for (i = 0; i < AUTH_CACHE_MAX; i++) {
		ac = &auth_cache[i];
		if (ac->ac_used)
			continue;
		if ((ac->ac_chain = malloc(*chainlen > 0 ? *chainlen :
		    1)) == NULL)
			break;
		memcpy(ac->ac_chain, chain, *chainlen);
		ac->ac_chainlen = *chainlen;
		ac->ac_srcid = *srcid;
		ac->ac_idtype = *idtype;
		memcpy(ac->ac_id, id, *idlen);
		ac->ac_idlen = *idlen;
		ac->ac_used = 1;
		break;
	}
	return (0);
 bad:
	(void)snprintf(why, whysz, "a broken answer from the "
	    "authentication process");
	return (-1);
}

int
auth_certreq(struct iked *env, uint8_t *out, size_t outsz, size_t *outlen)
{
	struct auth_wbuf	 w;
	struct auth_rbuf	 r;
	uint8_t			*req, *rep;
	char			 why[CA_WHY_MAX];

	if (env->sc_ca != NULL)
		return (ca_certreq(env->sc_ca, out, outsz, outlen));
	if (auth_creqok && auth_creqlen <= outsz) {
		if (auth_creqlen > 0)
			memcpy(out, auth_creq, auth_creqlen);
		*outlen = auth_creqlen;
		return (0);
	}
	if (env->sc_cafd == -1 || (req = auth_bufs(&rep)) == NULL)
		return (-1);
	auth_begin(&w, req, AUTH_OP_CERTREQ);
	if (auth_call(env, &w, rep, &r, why, sizeof(why)) == -1)
		return (-1);
	if (auth_copyout(&r, out, outsz, outlen) == -1)
		return (-1);
	free(auth_creq);
	if ((auth_creq = malloc(*outlen > 0 ? *outlen : 1)) != NULL) {
		memcpy(auth_creq, out, *outlen);
		auth_creqlen = *outlen;
		auth_creqok = 1;
	}
	return (0);
}

/* A VERIFY (or VERIFYSIGN) request for p. */
static void
auth_verify_req(struct auth_wbuf *w, uint8_t *req, const struct ca_peer *p,
    enum auth_op op)
{
	static const struct iked_id	 none;

	auth_begin(w, req, op);
	auth_put32(w, (uint32_t)p->cp_version);
	auth_putblob(w, p->cp_chain, p->cp_chainlen);
	auth_put32(w, p->cp_idtype);
	auth_putblob(w, p->cp_id, p->cp_idlen);
	auth_putid(w, p->cp_dstid != NULL ? p->cp_dstid : &none);
	auth_put32(w, p->cp_mode);
	auth_put32(w, p->cp_hashes);
	auth_put32(w, p->cp_method);
	auth_putblob(w, p->cp_auth, p->cp_authlen);
	auth_putblob(w, p->cp_data, p->cp_datalen);
}

/*
 * %%% Asynchronous calls
 *
 * The engine does not wait for a signature or a verdict: the request
 * goes out (queued while too much is in flight, so that neither side
 * blocks on a full socket), the IKE SA that asked waits, and the answer
 * comes back through the event loop to the caller's function.  With
 * iked -X the store in process answers at once, and the answer still
 * comes from the event loop, so that both run the same way.  The ca
 * process answers in order; a request unanswered for AUTH_WAIT ms
 * fails, and its late answer is dropped by its sequence number.
 */
enum auth_rstate { AR_QUEUED, AR_SENT, AR_DONE };

struct auth_req {
	TAILQ_ENTRY(auth_req)	 ar_entry;
	uint32_t		 ar_seq;
	enum auth_op		 ar_op;
	enum auth_rstate	 ar_state;
	auth_cb			 ar_cb;		/* NULL: cancelled */
	void			*ar_arg;
	uint8_t			*ar_buf;	/* the request until it is sent */
	size_t			 ar_len;
	struct timeval		 ar_sent;
	struct auth_answer	 ar_ans;
};

struct auth_queue {
	TAILQ_HEAD(, auth_req)	 aq_reqs;	/* in the order asked */
	size_t			 aq_inflight;	/* bytes sent, unanswered */
	struct event		*aq_rev;	/* the ca process's answers */
	struct event		*aq_timer;	/* deliveries, retries, timeouts */
	uint8_t			*aq_rep;	/* AUTH_MSG_MAX */
};

static void	auth_readcb(evutil_socket_t, short, void *);
static void	auth_timercb(evutil_socket_t, short, void *);

static struct auth_queue *
auth_queue(struct iked *env)
{
	struct auth_queue	*aq = env->sc_authq;

	if (aq != NULL)
		return (aq);
	if ((aq = calloc(1, sizeof(*aq))) == NULL ||
	    (aq->aq_rep = malloc(AUTH_MSG_MAX)) == NULL ||
	    (aq->aq_timer = evtimer_new(env->sc_evbase, auth_timercb,
	    env)) == NULL)
		goto fail;
	TAILQ_INIT(&aq->aq_reqs);
	if (env->sc_ca == NULL && env->sc_cafd != -1 &&
	    ((aq->aq_rev = event_new(env->sc_evbase, env->sc_cafd,
	    EV_READ | EV_PERSIST, auth_readcb, env)) == NULL ||
	    event_add(aq->aq_rev, NULL) == -1))
		goto fail;
	env->sc_authq = aq;
	return (aq);
 fail:
	if (aq != NULL) {
		if (aq->aq_timer != NULL)
			event_free(aq->aq_timer);
		if (aq->aq_rev != NULL)
			event_free(aq->aq_rev);
		free(aq->aq_rep);
		free(aq);
	}
	return (NULL);
}

/* The timer, from what the queue holds. */
static void
auth_arm(struct iked *env)
{
	struct auth_queue	*aq = env->sc_authq;
	struct auth_req		*ar;
	struct timeval		 tv = { 1, 0 };
	int			 any = 0;

	TAILQ_FOREACH(ar, &aq->aq_reqs, ar_entry) {
		if (ar->ar_state == AR_DONE) {
			tv.tv_sec = 0;
			tv.tv_usec = 0;
			break;
		}
		if (ar->ar_state == AR_QUEUED) {
			/* The socket was full: try again soon. */
			tv.tv_sec = 0;
			tv.tv_usec = 10000;
		}
		any = 1;
	}
	if (ar != NULL || any)
		(void)evtimer_add(aq->aq_timer, &tv);
	else
		(void)evtimer_del(aq->aq_timer);
}

static void
auth_fail(struct auth_req *ar, const char *why)
{
	ar->ar_state = AR_DONE;
	ar->ar_ans.aa_ok = -1;
	(void)strlcpy(ar->ar_ans.aa_why, why, sizeof(ar->ar_ans.aa_why));
	if (ar->ar_buf != NULL)
		freezero(ar->ar_buf, ar->ar_len);
	ar->ar_buf = NULL;
}

/* An answer (past its sequence number) into ar->ar_ans. */
static void
auth_answer(struct auth_req *ar, struct auth_rbuf *r)
{
	struct auth_answer	*a = &ar->ar_ans;
	const uint8_t		*w;
	size_t			 wl;
	uint32_t		 status;

	ar->ar_state = AR_DONE;
	status = auth_get32(r);
	w = auth_getblob(r, &wl);
	if (r->r_err)
		goto bad;
	if (status != 0) {
		a->aa_ok = -1;
		(void)snprintf(a->aa_why, sizeof(a->aa_why), "%.*s",
		    (int)wl, (const char *)w);
		return;
	}
	switch (ar->ar_op) {
	case AUTH_OP_VERIFYSIGN:
		/* Verified; our signature, or why there is none. */
		status = auth_get32(r);
		w = auth_getblob(r, &wl);
		if (r->r_err)
			goto bad;
		if (status != 0) {
			a->aa_signok = -1;
			(void)snprintf(a->aa_why, sizeof(a->aa_why), "%.*s",
			    (int)wl, (const char *)w);
			a->aa_method = (uint8_t)auth_get32(r);
			(void)auth_getblob(r, &wl);
			break;
		}
		/* FALLTHROUGH */
	case AUTH_OP_SIGN:
		a->aa_method = (uint8_t)auth_get32(r);
		/* FALLTHROUGH */
	case AUTH_OP_SIGNV1:
		if (auth_copyout(r, a->aa_sig, sizeof(a->aa_sig),
		    &a->aa_siglen) == -1)
			goto bad;
		break;
	default:
		break;
	}
	if (r->r_err)
		goto bad;
	a->aa_ok = 0;
	return;
 bad:
	a->aa_ok = -1;
	(void)snprintf(a->aa_why, sizeof(a->aa_why), "a broken answer from "
	    "the authentication process");
}

/* One datagram from the ca process: the answer to a request sent. */
static void
auth_input(struct iked *env, const uint8_t *buf, size_t len)
{
	struct auth_queue	*aq = env->sc_authq;
	struct auth_req		*ar;
	struct auth_rbuf	 r = { buf, len, 0 };
	uint32_t		 seq;

	seq = auth_get32(&r);
	if (r.r_err || aq == NULL)
		return;
	TAILQ_FOREACH(ar, &aq->aq_reqs, ar_entry)
		if (ar->ar_state == AR_SENT && ar->ar_seq == seq)
			break;
	if (ar == NULL)
		return;		/* late: its caller was told it failed */
	aq->aq_inflight -= ar->ar_len;
	auth_answer(ar, &r);
}

/* Queued requests out, as far as the flow allows. */
static void
auth_flush(struct iked *env)
{
	struct auth_queue	*aq = env->sc_authq;
	struct auth_req		*ar;
	char			 why[CA_WHY_MAX];

	TAILQ_FOREACH(ar, &aq->aq_reqs, ar_entry) {
		if (ar->ar_state != AR_QUEUED)
			continue;
		if (aq->aq_inflight > 0 &&
		    aq->aq_inflight + ar->ar_len > AUTH_MSG_MAX)
			break;
		if (send(env->sc_cafd, ar->ar_buf, ar->ar_len,
		    MSG_DONTWAIT) == -1) {
			if (errno == EAGAIN ||
			    errno == ENOBUFS || errno == EINTR)
				break;
			(void)snprintf(why, sizeof(why), "authentication "
			    "process: %s", strerror(errno));
			auth_fail(ar, why);
			continue;
		}
		ar->ar_state = AR_SENT;
		aq->aq_inflight += ar->ar_len;
		(void)gettimeofday(&ar->ar_sent, NULL);
		freezero(ar->ar_buf, ar->ar_len);
		ar->ar_buf = NULL;
	}
}

/*
 * The answers that have come, to their callers, in the order asked.
 * A callback may ask again or cancel; each is taken off first.  What
 * is answered meanwhile (in process: at once) waits for the next turn
 * of the loop.
 */
void
auth_deliver(struct iked *env)
{
	struct auth_queue	*aq = env->sc_authq;
	struct auth_req		*ar;
	u_int			 n;

	if (aq == NULL)
		return;
	for (n = auth_ready(env); n > 0; n--) {
		TAILQ_FOREACH(ar, &aq->aq_reqs, ar_entry)
			if (ar->ar_state == AR_DONE)
				break;
		if (ar == NULL)
			break;
		TAILQ_REMOVE(&aq->aq_reqs, ar, ar_entry);
		if (ar->ar_cb != NULL)
			ar->ar_cb(env, ar->ar_arg, &ar->ar_ans);
		explicit_bzero(&ar->ar_ans, sizeof(ar->ar_ans));
		free(ar);
	}
	auth_arm(env);
}

/* How many answers wait for auth_deliver(). */
u_int
auth_ready(struct iked *env)
{
	struct auth_queue	*aq = env->sc_authq;
	struct auth_req		*ar;
	u_int			 n = 0;

	if (aq != NULL)
		TAILQ_FOREACH(ar, &aq->aq_reqs, ar_entry)
			if (ar->ar_state == AR_DONE)
				n++;
	return (n);
}

static void
auth_readcb(evutil_socket_t fd, short event, void *arg)
{
	struct iked		*env = arg;
	struct auth_queue	*aq = env->sc_authq;
	struct auth_req		*ar;
	ssize_t			 n;

	(void)event;
	for (;;) {
		if ((n = recv(fd, aq->aq_rep, AUTH_MSG_MAX,
		    MSG_DONTWAIT)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			log_warn("authentication process");
			n = 0;
		}
		if (n == 0) {
			/* Gone: nothing more will be answered. */
			(void)event_del(aq->aq_rev);
			TAILQ_FOREACH(ar, &aq->aq_reqs, ar_entry)
				if (ar->ar_state != AR_DONE)
					auth_fail(ar, "the authentication "
					    "process is gone");
			aq->aq_inflight = 0;
			break;
		}
		auth_input(env, aq->aq_rep, (size_t)n);
		explicit_bzero(aq->aq_rep, (size_t)n);
	}
	auth_flush(env);
	auth_deliver(env);
}

static void
auth_timercb(evutil_socket_t fd, short event, void *arg)
{
	struct iked		*env = arg;
	struct auth_queue	*aq = env->sc_authq;
	struct auth_req		*ar;
	struct timeval		 now, d;

	(void)fd;
	(void)event;
	(void)gettimeofday(&now, NULL);
	TAILQ_FOREACH(ar, &aq->aq_reqs, ar_entry) {
		if (ar->ar_state != AR_SENT)
			continue;
		timersub(&now, &ar->ar_sent, &d);
		if (d.tv_sec * 1000 + d.tv_usec / 1000 < AUTH_WAIT)
			continue;
		aq->aq_inflight -= ar->ar_len;
		auth_fail(ar, "the authentication process does not answer");
	}
	if (env->sc_cafd != -1 && env->sc_ca == NULL)
		auth_flush(env);
	auth_deliver(env);
}

/*
 * Ask: the answer goes to cb(env, arg, answer) from the event loop,
 * unless auth_cancel(env, arg) comes first.  0, or -1 (nothing asked).
 */
static int
auth_submit(struct iked *env, enum auth_op op, const struct auth_wbuf *w,
    auth_cb cb, void *arg)
{
	struct auth_queue	*aq;
	struct auth_req		*ar;
	struct auth_rbuf	 r;
	size_t			 n;

	if (w->w_err || (aq = auth_queue(env)) == NULL ||
	    (ar = calloc(1, sizeof(*ar))) == NULL)
		return (-1);
	ar->ar_seq = auth_get32(&(struct auth_rbuf){ w->w_buf, 4, 0 });
	ar->ar_op = op;
	ar->ar_cb = cb;
	ar->ar_arg = arg;
	ar->ar_len = w->w_len;
	TAILQ_INSERT_TAIL(&aq->aq_reqs, ar, ar_entry);
	if (env->sc_ca != NULL) {
		/* In process: answered now, delivered from the loop. */
		n = auth_dispatch(env->sc_ca, w->w_buf, w->w_len, aq->aq_rep,
		    AUTH_MSG_MAX);
		r.r_p = aq->aq_rep;
		r.r_left = n;
		r.r_err = 0;
		(void)auth_get32(&r);
		if (n == 0)
			auth_fail(ar, "a broken request");
		else
			auth_answer(ar, &r);
		explicit_bzero(aq->aq_rep, n);
	} else if (env->sc_cafd == -1) {
		auth_fail(ar, "no keys loaded");
	} else if ((ar->ar_buf = malloc(w->w_len)) == NULL) {
		TAILQ_REMOVE(&aq->aq_reqs, ar, ar_entry);
		free(ar);
		return (-1);
	} else {
		memcpy(ar->ar_buf, w->w_buf, w->w_len);
		ar->ar_state = AR_QUEUED;
		auth_flush(env);
	}
	auth_arm(env);
	return (0);
}

/* arg's answers, if any are to come, go nowhere (arg is being freed). */
void
auth_cancel(struct iked *env, void *arg)
{
	struct auth_queue	*aq = env->sc_authq;
	struct auth_req		*ar;

	if (aq == NULL)
		return;
	TAILQ_FOREACH(ar, &aq->aq_reqs, ar_entry)
		if (ar->ar_arg == arg)
			ar->ar_cb = NULL;
}

/* At exit: what is asked is not answered. */
void
auth_close(struct iked *env)
{
	struct auth_queue	*aq = env->sc_authq;
	struct auth_req		*ar;

	if (aq == NULL)
		return;
	while ((ar = TAILQ_FIRST(&aq->aq_reqs)) != NULL) {
		TAILQ_REMOVE(&aq->aq_reqs, ar, ar_entry);
		if (ar->ar_buf != NULL)
			freezero(ar->ar_buf, ar->ar_len);
		explicit_bzero(&ar->ar_ans, sizeof(ar->ar_ans));
		free(ar);
	}
	if (aq->aq_rev != NULL)
		event_free(aq->aq_rev);
	event_free(aq->aq_timer);
	free(aq->aq_rep);
	free(aq);
	env->sc_authq = NULL;
}

int
auth_sign_start(struct iked *env, enum ca_authmode mode,
    unsigned int peerhashes, const uint8_t *data, size_t len, auth_cb cb,
    void *arg)
{
	struct auth_wbuf	 w;
	uint8_t			*req, *rep;

	if ((req = auth_bufs(&rep)) == NULL)
		return (-1);
	auth_begin(&w, req, AUTH_OP_SIGN);
	auth_put32(&w, mode);
	auth_put32(&w, peerhashes);
	auth_putblob(&w, data, len);
	return (auth_submit(env, AUTH_OP_SIGN, &w, cb, arg));
}

int
auth_sign_v1_start(struct iked *env, const uint8_t *data, size_t len,
    auth_cb cb, void *arg)
{
	struct auth_wbuf	 w;
	uint8_t			*req, *rep;

	if ((req = auth_bufs(&rep)) == NULL)
		return (-1);
	auth_begin(&w, req, AUTH_OP_SIGNV1);
	auth_putblob(&w, data, len);
	return (auth_submit(env, AUTH_OP_SIGNV1, &w, cb, arg));
}

/*
 * VERIFY, and if the peer is verified our signature in the same round
 * trip (SIGN of data for IKEv2 with mode and peerhashes, SIGNV1 for
 * IKEv1): aa_ok is the verdict, aa_signok the signature's.
 */
int
auth_verify_sign_start(struct iked *env, const struct ca_peer *p,
    enum ca_authmode mode, unsigned int peerhashes, const uint8_t *data,
    size_t len, auth_cb cb, void *arg)
{
	struct auth_wbuf	 w;
	uint8_t			*req, *rep;

	if ((req = auth_bufs(&rep)) == NULL)
		return (-1);
	auth_verify_req(&w, req, p, AUTH_OP_VERIFYSIGN);
	if (p->cp_version != 1) {
		auth_put32(&w, mode);
		auth_put32(&w, peerhashes);
	}
	auth_putblob(&w, data, len);
	return (auth_submit(env, AUTH_OP_VERIFYSIGN, &w, cb, arg));
}

int
auth_verify_start(struct iked *env, const struct ca_peer *p, auth_cb cb,
    void *arg)
{
	struct auth_wbuf	 w;
	uint8_t			*req, *rep;

	if ((req = auth_bufs(&rep)) == NULL)
		return (-1);
	auth_verify_req(&w, req, p, AUTH_OP_VERIFY);
	return (auth_submit(env, AUTH_OP_VERIFY, &w, cb, arg));
}
