/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Policy strings (ipsec_set_policy(3)): "out ipsec esp/tunnel/A-B/require"
 * to a sadb_x_policy buffer and back.
 *
 * The grammar is FreeBSD's policy_parse.y/policy_token.l, parsed by hand:
 *
 *	policy	:= dir [action request*]
 *	dir	:= "in" | "out"
 *	action	:= "discard" | "none" | "ipsec" | "entrust" | "bypass"
 *	request	:= proto "/" mode
 *		 | proto "/" mode "/" [addrs ["/" [level]]]
 *		 | proto "/" mode "/" "/" level
 *	proto	:= "esp" | "ah" | "ipcomp" | "tcp"
 *	mode	:= "transport" | "tunnel"
 *	addrs	:= addr "-" addr | "me" "-" "any" | "any" "-" "me"
 *	level	:= "default" | "use" | "require" | "unique" | "unique:"N
 *
 * Words are runs of [A-Za-z0-9:._] with an optional %scope, so a keyword
 * is only a keyword when it is the whole word; space, tab and newline
 * separate tokens and are otherwise ignored.  A bare direction is a
 * discard policy, as in FreeBSD.
 *
 * The buffer is a sadb_x_policy followed by one sadb_x_ipsecrequest per
 * request, each with its length in bytes and, if given, the tunnel
 * endpoints (source then destination sockaddr) right after it, unpadded.
 * sadb_x_policy_len covers the whole buffer in 64-bit words.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpfkey.h"
#include "pfkey_var.h"

/* Tokens. */
#define	PT_EOF		0
#define	PT_SLASH	1
#define	PT_HYPHEN	2
#define	PT_WORD		3
#define	PT_BAD		4

/* Longest word we look at; a longer one is no address either. */
#define	PT_WORDMAX	(NI_MAXHOST + 1)

/* The parser's state. */
struct pp {
	const char	*pp_cur;	/* next character */
	const char	*pp_end;	/* end of input */
	const char	*pp_tok;	/* current token */
	size_t		 pp_toklen;
	int		 pp_t;		/* its type */
	int		 pp_dir;
	char		*pp_buf;	/* the policy being built */
	size_t		 pp_len;
};

static const char *ipsp_dir_strs[] = { "any", "in", "out" };
static const char *ipsp_policy_strs[] = {
	"discard", "none", "ipsec", "entrust", "bypass"
};

static int
pp_wordchar(int c)
{

	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == ':' || c == '.' || c == '_');
}

static int
pp_alnum(int c)
{

	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'));
}

/* Read the next token. */
static void
pp_next(struct pp *pp)
{
	const char *p;

	p = pp->pp_cur;
	while (p < pp->pp_end &&
	    (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	pp->pp_tok = p;
	pp->pp_toklen = 0;
	if (p == pp->pp_end) {
		pp->pp_t = PT_EOF;
	} else if (*p == '/') {
		pp->pp_t = PT_SLASH;
		p++;
	} else if (*p == '-') {
		pp->pp_t = PT_HYPHEN;
		p++;
	} else if (pp_wordchar((unsigned char)*p)) {
		pp->pp_t = PT_WORD;
		while (p < pp->pp_end && pp_wordchar((unsigned char)*p))
			p++;
		/* An IPv6 scope: "%" and at least one alphanumeric. */
		if (p + 1 < pp->pp_end && *p == '%' &&
		    pp_alnum((unsigned char)p[1])) {
			p++;
			while (p < pp->pp_end && pp_alnum((unsigned char)*p))
				p++;
		}
	} else {
		pp->pp_t = PT_BAD;
		p++;
	}
	pp->pp_toklen = (size_t)(p - pp->pp_tok);
	pp->pp_cur = p;
}

/* Is the current token the word kw? */
static int
pp_is(const struct pp *pp, const char *kw)
{
	size_t n;

	n = strlen(kw);
	return (pp->pp_t == PT_WORD && pp->pp_toklen == n &&
	    memcmp(pp->pp_tok, kw, n) == 0);
}

/* Keyword lookup: the index of the current word in a list, or -1. */
static int
pp_lookup(const struct pp *pp, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pp_is(pp, list[i]))
			return ((int)i);
	return (-1);
}

static const char *const pp_protos[] = { "esp", "ah", "ipcomp", "tcp" };
static const int pp_protonums[] = {
	IPPROTO_ESP, IPPROTO_AH, IPPROTO_IPCOMP, IPPROTO_TCP
};
static const char *const pp_modes[] = { "transport", "tunnel" };
static const int pp_modenums[] = { IPSEC_MODE_TRANSPORT, IPSEC_MODE_TUNNEL };
static const char *const pp_levels[] = {
	"default", "use", "require", "unique"
};
static const int pp_levelnums[] = {
	IPSEC_LEVEL_DEFAULT, IPSEC_LEVEL_USE, IPSEC_LEVEL_REQUIRE,
	IPSEC_LEVEL_UNIQUE
};
static const char *const pp_keywords[] = {
	"in", "out", "discard", "none", "ipsec", "entrust", "bypass",
	"esp", "ah", "ipcomp", "tcp", "transport", "tunnel", "me", "any",
	"default", "use", "require", "unique"
};

#define	NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* "unique:N": a level with a request id, 1..0x7fff. */
static int
pp_uniqueid(const struct pp *pp, int *reqid)
{
	const char *p, *ep;
	long v;

	if (pp->pp_t != PT_WORD || pp->pp_toklen <= 7 ||
	    memcmp(pp->pp_tok, "unique:", 7) != 0)
		return (0);
	v = 0;
	ep = pp->pp_tok + pp->pp_toklen;
	for (p = pp->pp_tok + 7; p < ep; p++) {
		if (*p < '0' || *p > '9')
			return (0);	/* "unique:1%x" and the like */
		v = v * 10 + (*p - '0');
		if (v > 0x7fff)
			return (-1);
	}
	if (v == 0)
		return (-1);
	*reqid = (int)v;
	return (1);
}

/* Parse a level at the current token; errcode or 0. */
static int
pp_level(struct pp *pp, int *level, int *reqid)
{
	int i, r;

	if ((i = pp_lookup(pp, pp_levels, NELEM(pp_levels))) >= 0) {
		*level = pp_levelnums[i];
		*reqid = 0;
	} else if ((r = pp_uniqueid(pp, reqid)) > 0) {
		*level = IPSEC_LEVEL_UNIQUE;
	} else
		return (EIPSEC_INVAL_LEVEL);
	pp_next(pp);
	return (EIPSEC_NO_ERROR);
}

/* A numeric IPv4 or IPv6 address (with %scope) into ss; errcode or 0. */
static int
pp_address(const struct pp *pp, struct sockaddr_storage *ss, size_t *sslen)
{
	struct addrinfo hints, *res;
	char host[PT_WORDMAX];
	size_t len;

	if (pp->pp_t != PT_WORD || pp->pp_toklen >= sizeof(host) ||
	    pp_lookup(pp, pp_keywords, NELEM(pp_keywords)) >= 0)
		return (EIPSEC_INVAL_ADDRESS);
	memcpy(host, pp->pp_tok, pp->pp_toklen);
	host[pp->pp_toklen] = '\0';

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = PF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return (EIPSEC_INVAL_ADDRESS);
	len = 0;
	if (res != NULL && res->ai_addr != NULL &&
	    (size_t)res->ai_addrlen <= sizeof(*ss))
		len = pfkey_sasize(res->ai_addr, (size_t)res->ai_addrlen);
	if (len == 0) {
		freeaddrinfo(res);
		return (EIPSEC_INVAL_ADDRESS);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, len);
	freeaddrinfo(res);
	*sslen = len;
	return (EIPSEC_NO_ERROR);
}

/* "src-dst", "me-any" or "any-me"; *n = number of sockaddrs (0 or 2). */
static int
pp_addresses(struct pp *pp, struct sockaddr_storage *src, size_t *srclen,
    struct sockaddr_storage *dst, size_t *dstlen, int *n)
{
	int error, me;

	if ((me = pp_is(pp, "me")) || pp_is(pp, "any")) {
		/* Shortcuts for "no endpoints", checked against the dir. */
		pp_next(pp);
		if (pp->pp_t != PT_HYPHEN)
			return (EIPSEC_INVAL_ADDRESS);
		pp_next(pp);
		if (!pp_is(pp, me ? "any" : "me"))
			return (EIPSEC_INVAL_ADDRESS);
		if (pp->pp_dir != (me ? IPSEC_DIR_OUTBOUND : IPSEC_DIR_INBOUND))
			return (EIPSEC_INVAL_DIR);
		pp_next(pp);
		*n = 0;
		return (EIPSEC_NO_ERROR);
	}
	if ((error = pp_address(pp, src, srclen)) != 0)
		return (error);
	pp_next(pp);
	if (pp->pp_t != PT_HYPHEN)
		return (EIPSEC_INVAL_ADDRESS);
	pp_next(pp);
	if ((error = pp_address(pp, dst, dstlen)) != 0)
		return (error);
	pp_next(pp);
	*n = 2;
	return (EIPSEC_NO_ERROR);
}

/* Append n bytes to the policy buffer; errcode or 0. */
static int
pp_append(struct pp *pp, const void *data, size_t n)
{
	char *nbuf;

	/* sadb_x_policy_len counts 64-bit words in 16 bits. */
	if (n > PFKEY_MSG_MAX - pp->pp_len)
		return (EIPSEC_NO_BUFS);
	if ((nbuf = realloc(pp->pp_buf, pp->pp_len + n)) == NULL)
		return (EIPSEC_NO_BUFS);
	pp->pp_buf = nbuf;
	memcpy(pp->pp_buf + pp->pp_len, data, n);
	pp->pp_len += n;
	return (EIPSEC_NO_ERROR);
}

static int
pp_isproto(const struct pp *pp)
{

	return (pp_lookup(pp, pp_protos, NELEM(pp_protos)) >= 0);
}

/* One request, appended to the buffer; errcode or 0. */
static int
pp_request(struct pp *pp)
{
	struct sadb_x_ipsecrequest req;
	struct sockaddr_storage src, dst;
	size_t srclen, dstlen;
	int i, error, proto, mode, level, reqid, naddr;

	if ((i = pp_lookup(pp, pp_protos, NELEM(pp_protos))) < 0)
		return (EIPSEC_INVAL_PROTO);
	proto = pp_protonums[i];
	pp_next(pp);
	if (pp->pp_t != PT_SLASH)
		return (EIPSEC_FEW_ARGUMENTS);
	pp_next(pp);
	if ((i = pp_lookup(pp, pp_modes, NELEM(pp_modes))) < 0)
		return (pp->pp_t == PT_EOF || pp_isproto(pp) ?
		    EIPSEC_FEW_ARGUMENTS : EIPSEC_INVAL_MODE);
	mode = pp_modenums[i];
	pp_next(pp);

	naddr = 0;
	srclen = dstlen = 0;
	level = IPSEC_LEVEL_DEFAULT;
	reqid = 0;
	if (pp->pp_t == PT_SLASH) {
		pp_next(pp);
		if (pp->pp_t == PT_SLASH) {
			/* proto/mode//level */
			pp_next(pp);
			if ((error = pp_level(pp, &level, &reqid)) != 0)
				return (error);
		} else if (pp->pp_t == PT_WORD && !pp_isproto(pp)) {
			error = pp_addresses(pp, &src, &srclen, &dst, &dstlen,
			    &naddr);
			if (error != 0)
				return (error);
			if (pp->pp_t == PT_SLASH) {
				pp_next(pp);
				/* proto/mode/addrs/ may end the request. */
				if (pp->pp_t == PT_WORD && !pp_isproto(pp) &&
				    (error = pp_level(pp, &level, &reqid)) != 0)
					return (error);
			}
		} else if (pp->pp_t != PT_EOF && !pp_isproto(pp))
			return (EIPSEC_INVAL_ADDRESS);
	}

	/* FreeBSD's rule_check(). */
	if (naddr == 0 && mode != IPSEC_MODE_TRANSPORT)
		return (EIPSEC_INVAL_ADDRESS);
	if (naddr != 0 && src.ss_family != dst.ss_family)
		return (EIPSEC_FAMILY_MISMATCH);

	memset(&req, 0, sizeof(req));
	req.sadb_x_ipsecrequest_len = (uint16_t)(sizeof(req) + srclen +
	    dstlen);
	req.sadb_x_ipsecrequest_proto = (uint16_t)proto;
	req.sadb_x_ipsecrequest_mode = (uint8_t)mode;
	req.sadb_x_ipsecrequest_level = (uint8_t)level;
	req.sadb_x_ipsecrequest_reqid = (uint16_t)reqid;
	if ((error = pp_append(pp, &req, sizeof(req))) != 0 ||
	    (naddr != 0 && ((error = pp_append(pp, &src, srclen)) != 0 ||
	    (error = pp_append(pp, &dst, dstlen)) != 0)))
		return (error);
	return (EIPSEC_NO_ERROR);
}

/* The whole policy; errcode or 0. */
static int
pp_policy(struct pp *pp)
{
	struct sadb_x_policy xpl;
	int error, type;

	pp_next(pp);
	if (pp->pp_t == PT_EOF)
		return (EIPSEC_FEW_ARGUMENTS);
	if (pp_is(pp, "in"))
		pp->pp_dir = IPSEC_DIR_INBOUND;
	else if (pp_is(pp, "out"))
		pp->pp_dir = IPSEC_DIR_OUTBOUND;
	else
		return (EIPSEC_INVAL_DIR);
	pp_next(pp);

	if (pp->pp_t == PT_EOF)
		type = IPSEC_POLICY_DISCARD;	/* "ignored by the kernel" */
	else if ((type = pp_lookup(pp, ipsp_policy_strs,
	    NELEM(ipsp_policy_strs))) < 0)
		return (EIPSEC_INVAL_POLICY);
	else
		pp_next(pp);

	memset(&xpl, 0, sizeof(xpl));
	xpl.sadb_x_policy_exttype = SADB_X_EXT_POLICY;
	xpl.sadb_x_policy_type = (uint16_t)type;
	xpl.sadb_x_policy_dir = (uint8_t)pp->pp_dir;
	if ((error = pp_append(pp, &xpl, sizeof(xpl))) != 0)
		return (error);

	while (pp->pp_t != PT_EOF) {
		/* Requests mean something only to an ipsec policy. */
		if (type != IPSEC_POLICY_IPSEC)
			return (EIPSEC_INVAL_POLICY);
		if ((error = pp_request(pp)) != 0)
			return (error);
	}
	return (EIPSEC_NO_ERROR);
}

/*
 * Parse a policy string of at most len bytes (it may end earlier with a
 * NUL).  Returns a malloc'd sadb_x_policy buffer, or NULL with
 * __ipsec_errcode set.
 */
char *
ipsec_set_policy(const char *msg, int len)
{
	struct sadb_x_policy *xpl;
	struct pp pp;
	size_t total;
	char *nbuf;
	int error;

	if (msg == NULL || len < 0) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (NULL);
	}
	memset(&pp, 0, sizeof(pp));
	pp.pp_cur = msg;
	pp.pp_end = msg + strnlen(msg, (size_t)len);
	pp.pp_dir = IPSEC_DIR_INVALID;

	error = pp_policy(&pp);
	if (error == 0) {
		/* Whole 64-bit words; the padding is zero. */
		total = PFKEY_ALIGN8(pp.pp_len);
		if (total > PFKEY_MSG_MAX)
			error = EIPSEC_NO_BUFS;
		else if ((nbuf = realloc(pp.pp_buf, total)) == NULL)
			error = EIPSEC_NO_BUFS;
		else {
			memset(nbuf + pp.pp_len, 0, total - pp.pp_len);
			pp.pp_buf = nbuf;
			xpl = (struct sadb_x_policy *)(void *)pp.pp_buf;
			xpl->sadb_x_policy_len = (uint16_t)PFKEY_UNIT64(total);
		}
	}
	if (error != 0) {
		free(pp.pp_buf);
		__ipsec_errcode = error;
		return (NULL);
	}
	__ipsec_errcode = EIPSEC_NO_ERROR;
	return (pp.pp_buf);
}

/* The size of a policy buffer, for setsockopt(IP_IPSEC_POLICY). */
int
ipsec_get_policylen(const char *policy)
{
	struct sadb_x_policy xpl;

	if (policy == NULL) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	memcpy(&xpl, policy, sizeof(xpl));
	__ipsec_errcode = EIPSEC_NO_ERROR;
	return ((int)PFKEY_EXTLEN(&xpl));
}

/* A growing string. */
struct sbuf_p {
	char	*sb_buf;
	size_t	 sb_len;
	int	 sb_error;
};

static void
sb_printf(struct sbuf_p *sb, const char *fmt, ...)
{
	va_list ap;
	char *nbuf;
	int n;

	if (sb->sb_error != 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (nbuf = realloc(sb->sb_buf, sb->sb_len + n + 1)) ==
	    NULL) {
		sb->sb_error = EIPSEC_NO_BUFS;
		return;
	}
	sb->sb_buf = nbuf;
	va_start(ap, fmt);
	(void)vsnprintf(sb->sb_buf + sb->sb_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->sb_len += (size_t)n;
}

/* A numeric address from possibly unaligned bytes; errcode or 0. */
static int
ipsec_dump_address(const char *p, size_t salen, char *host, size_t hostlen)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, p, salen);
	if (getnameinfo((struct sockaddr *)&ss, (socklen_t)salen, host,
	    (socklen_t)hostlen, NULL, 0, NI_NUMERICHOST) != 0)
		return (EIPSEC_INVAL_ADDRESS);
	return (EIPSEC_NO_ERROR);
}

/* Print the request at p (room bytes); errcode or 0. */
static int
ipsec_dump_ipsecrequest(struct sbuf_p *sb, const char *delim, const char *p,
    size_t room, size_t *reqlen)
{
	struct sadb_x_ipsecrequest req;
	const char *proto, *mode, *level;
	char h1[NI_MAXHOST], h2[NI_MAXHOST];
	size_t len, l1, l2;
	int error;

	if (room < sizeof(req))
		return (EIPSEC_INVAL_SADBMSG);
	memcpy(&req, p, sizeof(req));
	len = req.sadb_x_ipsecrequest_len;
	if (len < sizeof(req) || len > room)
		return (EIPSEC_INVAL_SADBMSG);

	switch (req.sadb_x_ipsecrequest_proto) {
	case IPPROTO_ESP:
		proto = "esp";
		break;
	case IPPROTO_AH:
		proto = "ah";
		break;
	case IPPROTO_IPCOMP:
		proto = "ipcomp";
		break;
	case IPPROTO_TCP:
		proto = "tcp";
		break;
	default:
		return (EIPSEC_INVAL_PROTO);
	}
	switch (req.sadb_x_ipsecrequest_mode) {
	case IPSEC_MODE_ANY:
		mode = "any";
		break;
	case IPSEC_MODE_TRANSPORT:
		mode = "transport";
		break;
	case IPSEC_MODE_TUNNEL:
		mode = "tunnel";
		break;
	default:
		return (EIPSEC_INVAL_MODE);
	}

	h1[0] = h2[0] = '\0';
	if (len > sizeof(req)) {
		/* Exactly two sockaddrs, source then destination. */
		p += sizeof(req);
		l1 = pfkey_sasize((const struct sockaddr *)(const void *)p,
		    len - sizeof(req));
		if (l1 == 0)
			return (EIPSEC_INVAL_ADDRESS);
		l2 = pfkey_sasize((const struct sockaddr *)(const void *)
		    (p + l1), len - sizeof(req) - l1);
		if (l2 == 0 || sizeof(req) + l1 + l2 != len)
			return (EIPSEC_INVAL_ADDRESS);
		if ((error = ipsec_dump_address(p, l1, h1, sizeof(h1))) != 0 ||
		    (error = ipsec_dump_address(p + l1, l2, h2,
		    sizeof(h2))) != 0)
			return (error);
	}

	switch (req.sadb_x_ipsecrequest_level) {
	case IPSEC_LEVEL_DEFAULT:
		level = "default";
		break;
	case IPSEC_LEVEL_USE:
		level = "use";
		break;
	case IPSEC_LEVEL_REQUIRE:
		level = "require";
		break;
	case IPSEC_LEVEL_UNIQUE:
		level = "unique";
		break;
	default:
		return (EIPSEC_INVAL_LEVEL);
	}

	sb_printf(sb, "%s%s/%s/%s%s%s/%s", delim, proto, mode, h1,
	    h1[0] != '\0' ? "-" : "", h2, level);
	/* Kernel-allocated request ids (above the manual range) get '#'. */
	if (req.sadb_x_ipsecrequest_reqid != 0)
		sb_printf(sb, "%c%u",
		    req.sadb_x_ipsecrequest_reqid > IPSEC_MANUAL_REQID_MAX ?
		    '#' : ':', req.sadb_x_ipsecrequest_reqid);
	*reqlen = len;
	return (EIPSEC_NO_ERROR);
}

/*
 * "<dir> <type>", then for an ipsec policy delim and one
 * "proto/mode/src-dst/level[:reqid]" per request.  delim NULL is " ".
 * Returns a malloc'd string, or NULL with __ipsec_errcode set.
 */
char *
ipsec_dump_policy(const char *policy, const char *delim)
{
	struct sadb_x_policy xpl;
	struct sbuf_p sb;
	size_t off, total, reqlen;
	int error;

	if (policy == NULL) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (NULL);
	}
	memcpy(&xpl, policy, sizeof(xpl));
	if (xpl.sadb_x_policy_exttype != SADB_X_EXT_POLICY) {
		__ipsec_errcode = EIPSEC_INVAL_EXTTYPE;
		return (NULL);
	}
	if (delim == NULL)
		delim = " ";
	if (xpl.sadb_x_policy_dir >= NELEM(ipsp_dir_strs)) {
		__ipsec_errcode = EIPSEC_INVAL_DIR;
		return (NULL);
	}
	if (xpl.sadb_x_policy_type >= NELEM(ipsp_policy_strs)) {
		__ipsec_errcode = EIPSEC_INVAL_POLICY;
		return (NULL);
	}

	memset(&sb, 0, sizeof(sb));
	sb_printf(&sb, "%s %s", ipsp_dir_strs[xpl.sadb_x_policy_dir],
	    ipsp_policy_strs[xpl.sadb_x_policy_type]);
	error = sb.sb_error;

	if (error == 0 && xpl.sadb_x_policy_type == IPSEC_POLICY_IPSEC) {
		total = PFKEY_EXTLEN(&xpl);
		if (total < sizeof(xpl))
			error = EIPSEC_INVAL_SADBMSG;
		for (off = sizeof(xpl); error == 0 && off < total;
		    off += reqlen) {
			error = ipsec_dump_ipsecrequest(&sb, delim,
			    policy + off, total - off, &reqlen);
			if (error == 0)
				error = sb.sb_error;
		}
	}
	if (error != 0) {
		free(sb.sb_buf);
		__ipsec_errcode = error;
		return (NULL);
	}
	__ipsec_errcode = EIPSEC_NO_ERROR;
	return (sb.sb_buf);
}
