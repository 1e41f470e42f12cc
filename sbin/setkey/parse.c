/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * setkey's grammar (FreeBSD's parse.y) by recursive descent over the
 * tokenizer of token.c.  Each command is turned into PF_KEY messages as
 * soon as its ';' is read and handed to ps_send(); the first error stops
 * the parse, as yyparse() does in FreeBSD, after the commands before it
 * have run.  Errors are printed as FreeBSD's yyerror() prints them:
 * "line N: <message> at [<token>]".
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "libpfkey.h"
#include "setkey.h"

struct sk_ps {
	struct sk_lex	 p_lx;
	struct sk_parse	*p_ps;
	int		 p_family;	/* -4, -6 */
	int		 p_aiflags;	/* -n */
};

/* Algorithms by name. */
#define	ALG_KEY		0	/* a key follows */
#define	ALG_NOKEY	1	/* a key may follow (null) */
#define	ALG_UNCHECKED	2	/* legacy: the kernel refuses it */

struct sk_alg {
	const char	*al_name;
	uint8_t		 al_id;
	uint8_t		 al_kind;
};

static const struct sk_alg sk_ealgs[] = {
	{ "null",		SADB_EALG_NULL,			ALG_NOKEY },
	{ "simple",		SADB_EALG_NULL,			ALG_NOKEY },
	{ "aes-cbc",		SADB_X_EALG_AESCBC,		ALG_KEY },
	{ "rijndael-cbc",	SADB_X_EALG_RIJNDAELCBC,	ALG_KEY },
	{ "aes-ctr",		SADB_X_EALG_AESCTR,		ALG_KEY },
	{ "aes-gcm-16",		SADB_X_EALG_AESGCM16,		ALG_KEY },
	{ "chacha20-poly1305",	SADB_X_EALG_CHACHA20POLY1305,	ALG_KEY },
	/* FreeBSD 13's, gone from 14: parsed, refused by the kernel. */
	{ "des-cbc",		SADB_EALG_DESCBC,		ALG_UNCHECKED },
	{ "3des-cbc",		SADB_EALG_3DESCBC,		ALG_UNCHECKED },
	{ "blowfish-cbc",	SADB_X_EALG_BLOWFISHCBC,	ALG_UNCHECKED },
	{ "cast128-cbc",	SADB_X_EALG_CAST128CBC,		ALG_UNCHECKED },
	{ "des-deriv",		SADB_EALG_DESCBC,		ALG_UNCHECKED },
	{ "des-32iv",		SADB_EALG_DESCBC,		ALG_UNCHECKED },
	{ "camellia-cbc",	SADB_X_EALG_CAMELLIACBC,	ALG_UNCHECKED },
	{ NULL, 0, 0 }
};

static const struct sk_alg sk_aalgs[] = {
	{ "hmac-sha1",		SADB_AALG_SHA1HMAC,		ALG_KEY },
	{ "hmac-sha2-256",	SADB_X_AALG_SHA2_256,		ALG_KEY },
	{ "hmac-sha2-384",	SADB_X_AALG_SHA2_384,		ALG_KEY },
	{ "hmac-sha2-512",	SADB_X_AALG_SHA2_512,		ALG_KEY },
	{ "aes-xcbc-mac",	SADB_X_AALG_AES_XCBC_MAC,	ALG_KEY },
	{ "tcp-md5",		SADB_X_AALG_TCP_MD5,		ALG_KEY },
	{ "null",		SADB_X_AALG_NULL,		ALG_NOKEY },
	{ "chacha20-poly1305",	SADB_X_AALG_CHACHA20POLY1305,	ALG_UNCHECKED },
	{ "hmac-md5",		SADB_AALG_MD5HMAC,		ALG_UNCHECKED },
	{ "keyed-md5",		SADB_X_AALG_MD5,		ALG_UNCHECKED },
	{ "keyed-sha1",		SADB_X_AALG_SHA,		ALG_UNCHECKED },
	{ "hmac-ripemd160",	SADB_X_AALG_RIPEMD160HMAC,	ALG_UNCHECKED },
	{ NULL, 0, 0 }
};

static const struct sk_alg sk_calgs[] = {
	{ "deflate",		SADB_X_CALG_DEFLATE,		ALG_NOKEY },
	{ "oui",		SADB_X_CALG_OUI,		ALG_NOKEY },
	{ "lzs",		SADB_X_CALG_LZS,		ALG_NOKEY },
	{ NULL, 0, 0 }
};

static FILE *
sk_errfp(struct sk_ps *p)
{
	return (p->p_ps->ps_err != NULL ? p->p_ps->ps_err : stderr);
}

static int
sk_error(struct sk_ps *p, const char *msg)
{
	fprintf(sk_errfp(p), "line %d: %s at [%s]\n", p->p_lx.lx_line, msg,
	    p->p_lx.lx_text);
	return (-1);
}

static int
sk_syntax(struct sk_ps *p)
{
	sk_lex_peek(&p->p_lx);
	return (sk_error(p, "syntax error"));
}

/* Take a word into buf. */
static int
sk_word(struct sk_ps *p, char *buf, size_t len)
{
	if (sk_lex_peek(&p->p_lx) != TOK_WORD ||
	    strlcpy(buf, p->p_lx.lx_val, len) >= len)
		return (sk_syntax(p));
	sk_lex_take(&p->p_lx);
	return (0);
}

static int
sk_expect(struct sk_ps *p, enum sk_tok tok)
{
	if (sk_lex_peek(&p->p_lx) != tok)
		return (sk_syntax(p));
	sk_lex_take(&p->p_lx);
	return (0);
}

/* A decimal number (hex too if hex), at most max. */
static int
sk_num(struct sk_ps *p, int hex, uint64_t max, uint64_t *v)
{
	const char *s;
	char *ep;
	int base = 10;

	if (sk_lex_peek(&p->p_lx) != TOK_WORD)
		return (sk_syntax(p));
	s = p->p_lx.lx_val;
	if (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	}
	if (!isxdigit((unsigned char)s[0]) ||
	    (base == 10 && !isdigit((unsigned char)s[0])))
		return (sk_syntax(p));
	errno = 0;
	*v = strtoull(s, &ep, base);
	if (*ep != '\0')
		return (sk_syntax(p));
	if (errno == ERANGE || *v > max)
		return (sk_error(p, "value out of range"));
	sk_lex_take(&p->p_lx);
	return (0);
}

/* -4, -6, -n, also combined (-4n). */
static void
sk_aiflags(struct sk_ps *p)
{
	const char *s;

	p->p_family = AF_UNSPEC;
	p->p_aiflags = 0;
	while (sk_lex_peek(&p->p_lx) == TOK_WORD && p->p_lx.lx_val[0] == '-' &&
	    p->p_lx.lx_val[1] != '\0' &&
	    strspn(p->p_lx.lx_val + 1, "46n") == strlen(p->p_lx.lx_val + 1)) {
		for (s = p->p_lx.lx_val + 1; *s != '\0'; s++) {
			if (*s == '4')
				p->p_family = AF_INET;
			else if (*s == '6')
				p->p_family = AF_INET6;
			else
				p->p_aiflags |= AI_NUMERICHOST;
		}
		sk_lex_take(&p->p_lx);
	}
}

static int
sk_resolve(struct sk_ps *p, const char *host, const char *port,
    struct addrinfo **res)
{
	struct addrinfo hints;
	int error;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = p->p_family;
	hints.ai_socktype = SOCK_DGRAM;		/* one of each address */
	hints.ai_protocol = IPPROTO_UDP;
	hints.ai_flags = p->p_aiflags |
	    (p->p_ps->ps_numeric ? AI_NUMERICHOST : 0);
	if (port != NULL && strcmp(port, "any") == 0)
		port = "0";
	*res = NULL;
	error = getaddrinfo(host, port, &hints, res);
	if (error != 0) {
		*res = NULL;
		return (sk_error(p, gai_strerror(error)));
	}
	return (0);
}

/* An address, resolved now, as FreeBSD's ipaddr rule does. */
static int
sk_ipaddr(struct sk_ps *p, struct addrinfo **res)
{
	char host[NI_MAXHOST];

	if (sk_word(p, host, sizeof(host)) == -1)
		return (-1);
	return (sk_resolve(p, host, NULL, res));
}

static int
sk_satype(struct sk_ps *p, struct sk_sa *s)
{
	static const struct {
		const char	*name;
		uint8_t		 satype;
		uint32_t	 flags;
	} tab[] = {
		{ "esp", SADB_SATYPE_ESP, 0 },
		{ "esp-old", SADB_SATYPE_ESP, SADB_X_EXT_OLD },
		{ "ah", SADB_SATYPE_AH, 0 },
		{ "ah-old", SADB_SATYPE_AH, SADB_X_EXT_OLD },
		{ "ipcomp", SADB_X_SATYPE_IPCOMP, 0 },
		{ "tcp", SADB_X_SATYPE_TCPSIGNATURE, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (sk_lex_is(&p->p_lx, tab[i].name)) {
			s->sa_satype = tab[i].satype;
			s->sa_flags |= tab[i].flags;
			sk_lex_take(&p->p_lx);
			return (0);
		}
	return (sk_syntax(p));
}

static const struct sk_alg *
sk_alg(struct sk_ps *p, const struct sk_alg *tab)
{
	for (; tab->al_name != NULL; tab++)
		if (sk_lex_is(&p->p_lx, tab->al_name)) {
			sk_lex_take(&p->p_lx);
			return (tab);
		}
	sk_syntax(p);
	return (NULL);
}

static int
sk_hexval(int c)
{
	if (isdigit(c))
		return (c - '0');
	return (tolower(c) - 'a' + 10);
}

/* A key: "string" or 0xHEX (an odd digit count: the first one alone). */
static int
sk_key(struct sk_ps *p, uint8_t *key, size_t *len)
{
	const char *s = p->p_lx.lx_val;
	size_t n, i;

	switch (sk_lex_peek(&p->p_lx)) {
	case TOK_STRING:
		if ((n = strlen(s)) > SK_KEYMAX)
			return (sk_error(p, "key too long"));
		memcpy(key, s, n);
		*len = n;
		break;
	case TOK_WORD:
		if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
		    s[2] == '\0')
			return (sk_syntax(p));
		s += 2;
		n = strlen(s);
		if (strspn(s, "0123456789abcdefABCDEF") != n)
			return (sk_syntax(p));
		if ((n + 1) / 2 > SK_KEYMAX)
			return (sk_error(p, "key too long"));
		*len = 0;
		if (n % 2 == 1)
			key[(*len)++] = (uint8_t)sk_hexval((unsigned char)*s++);
		for (i = 0; s[i] != '\0'; i += 2)
			key[(*len)++] = (uint8_t)(sk_hexval((unsigned char)s[i])
			    << 4 | sk_hexval((unsigned char)s[i + 1]));
		break;
	default:
		return (sk_syntax(p));
	}
	return (0);
}

static int
sk_key_follows(struct sk_ps *p)
{
	const char *s = p->p_lx.lx_val;

	switch (sk_lex_peek(&p->p_lx)) {
	case TOK_STRING:
		return (1);
	case TOK_WORD:
		return (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'));
	default:
		return (0);
	}
}

/*
 * An algorithm and its key, the key's length checked against the
 * kernel's SADB_REGISTER answer.  For AES-CTR, AES-GCM and ChaCha20 the
 * key ends with a 4-byte salt that FreeBSD's setkey does not count
 * against the cipher's key sizes; netipsecd's REGISTER announces those
 * sizes with the salt added, so the key is checked whole.
 */
static int
sk_alg_key(struct sk_ps *p, const struct sk_alg *tab, unsigned int satype,
    uint8_t *id, uint8_t *key, size_t *keylen, int *haskey)
{
	const struct sk_alg *a;

	if ((a = sk_alg(p, tab)) == NULL)
		return (-1);
	*id = a->al_id;
	*keylen = 0;
	if (a->al_kind != ALG_NOKEY || sk_key_follows(p)) {
		if (sk_key(p, key, keylen) == -1)
			return (-1);
		if (a->al_kind != ALG_UNCHECKED &&
		    ipsec_check_keylen2(satype, a->al_id,
		    (unsigned int)*keylen * 8) < 0)
			return (sk_error(p, ipsec_strerror()));
		sk_lex_take(&p->p_lx);
	} else if (ipsec_check_keylen2(satype, a->al_id, 0) < 0)
		return (sk_error(p, ipsec_strerror()));
	*haskey = 1;		/* even empty: ESP needs KEY_ENCRYPT */
	return (0);
}

/* -natt oai[sport] oar[dport] */
static int
sk_natt_addr(struct sk_ps *p, struct sockaddr_storage *ss, uint16_t *port)
{
	struct addrinfo *ai;
	uint64_t v;

	if (sk_ipaddr(p, &ai) == -1)
		return (-1);
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (sk_expect(p, TOK_LBRACKET) == -1 ||
	    sk_num(p, 0, 0xffff, &v) == -1 ||
	    sk_expect(p, TOK_RBRACKET) == -1)
		return (-1);
	*port = (uint16_t)v;
	return (0);
}

/* The extensions of add, get and delete. */
static int
sk_extensions(struct sk_ps *p, struct sk_sa *s)
{
	uint64_t v;

	for (;;) {
		if (sk_lex_is(&p->p_lx, "-m")) {
			sk_lex_take(&p->p_lx);
			if (sk_lex_is(&p->p_lx, "transport"))
				s->sa_mode = IPSEC_MODE_TRANSPORT;
			else if (sk_lex_is(&p->p_lx, "tunnel"))
				s->sa_mode = IPSEC_MODE_TUNNEL;
			else if (sk_lex_is(&p->p_lx, "any"))
				s->sa_mode = IPSEC_MODE_ANY;
			else
				return (sk_syntax(p));
			sk_lex_take(&p->p_lx);
			if (s->sa_type != SADB_ADD)
				fprintf(sk_errfp(p), "line %d: WARNING: mode is "
				    "obsolete.\n", p->p_lx.lx_line);
		} else if (sk_lex_is(&p->p_lx, "-r")) {
			sk_lex_take(&p->p_lx);
			if (s->sa_flags & SADB_X_EXT_OLD)
				return (sk_error(p, "replay prevention cannot "
				    "be used with ah/esp-old"));
			if (sk_num(p, 0, (UINT32_MAX - 32) >> 3, &v) == -1)
				return (-1);
			s->sa_replay = (uint32_t)v;
		} else if (sk_lex_is(&p->p_lx, "-u")) {
			sk_lex_take(&p->p_lx);
			if (sk_num(p, 0, UINT32_MAX, &v) == -1)
				return (-1);
			s->sa_reqid = (uint32_t)v;
		} else if (sk_lex_is(&p->p_lx, "-f")) {
			sk_lex_take(&p->p_lx);
			if (sk_lex_is(&p->p_lx, "zero-pad"))
				s->sa_flags |= SADB_X_EXT_PZERO;
			else if (sk_lex_is(&p->p_lx, "random-pad"))
				s->sa_flags |= SADB_X_EXT_PRAND;
			else if (sk_lex_is(&p->p_lx, "seq-pad"))
				s->sa_flags |= SADB_X_EXT_PSEQ;
			else if (sk_lex_is(&p->p_lx, "nocyclic-seq"))
				s->sa_flags &= ~SADB_X_EXT_CYCSEQ;
			else
				return (sk_syntax(p));
			sk_lex_take(&p->p_lx);
		} else if (sk_lex_is(&p->p_lx, "-lh")) {
			sk_lex_take(&p->p_lx);
			if (sk_num(p, 0, UINT64_MAX, &s->sa_lt_hard) == -1)
				return (-1);
		} else if (sk_lex_is(&p->p_lx, "-ls")) {
			sk_lex_take(&p->p_lx);
			if (sk_num(p, 0, UINT64_MAX, &s->sa_lt_soft) == -1)
				return (-1);
		} else if (sk_lex_is(&p->p_lx, "-bh")) {
			sk_lex_take(&p->p_lx);
			if (sk_num(p, 0, UINT64_MAX, &s->sa_lb_hard) == -1)
				return (-1);
		} else if (sk_lex_is(&p->p_lx, "-bs")) {
			sk_lex_take(&p->p_lx);
			if (sk_num(p, 0, UINT64_MAX, &s->sa_lb_soft) == -1)
				return (-1);
		} else if (sk_lex_is(&p->p_lx, "-natt")) {
			sk_lex_take(&p->p_lx);
			s->sa_natt_type = UDP_ENCAP_ESPINUDP;
			if (sk_natt_addr(p, &s->sa_natt_oai,
			    &s->sa_natt_sport) == -1 ||
			    sk_natt_addr(p, &s->sa_natt_oar,
			    &s->sa_natt_dport) == -1)
				return (-1);
		} else if (sk_lex_is(&p->p_lx, "-natt_mtu")) {
			sk_lex_take(&p->p_lx);
			if (sk_num(p, 0, 0xffff, &v) == -1)
				return (-1);
			s->sa_natt_frag = (int)v;
		} else if (sk_lex_is(&p->p_lx, "-esn")) {
			sk_lex_take(&p->p_lx);
			s->sa_flags |= SADB_X_SAFLAGS_ESN;
		} else
			return (0);
	}
}

/* -E ealgo key [-A aalgo key] | -A aalgo key | -C calgo [-R] */
static int
sk_algorithms(struct sk_ps *p, struct sk_sa *s)
{
	const struct sk_alg *a;

	if (sk_lex_is(&p->p_lx, "-E")) {
		sk_lex_take(&p->p_lx);
		if (sk_alg_key(p, sk_ealgs, SADB_SATYPE_ESP, &s->sa_ealg,
		    s->sa_ekey, &s->sa_ekeylen, &s->sa_has_ekey) == -1)
			return (-1);
		if (!sk_lex_is(&p->p_lx, "-A"))
			return (0);
	}
	if (sk_lex_is(&p->p_lx, "-A")) {
		sk_lex_take(&p->p_lx);
		return (sk_alg_key(p, sk_aalgs, SADB_SATYPE_AH, &s->sa_aalg,
		    s->sa_akey, &s->sa_akeylen, &s->sa_has_akey));
	}
	if (sk_lex_is(&p->p_lx, "-C")) {
		sk_lex_take(&p->p_lx);
		if ((a = sk_alg(p, sk_calgs)) == NULL)
			return (-1);
		s->sa_ealg = a->al_id;
		if (sk_lex_is(&p->p_lx, "-R")) {
			sk_lex_take(&p->p_lx);
			s->sa_flags |= SADB_X_EXT_RAWCPI;
		}
		return (0);
	}
	return (sk_syntax(p));
}

/*
 * add    [-46n] src dst protocol spi [extensions] algorithms ;
 * get    [-46n] src dst protocol spi [extensions] ;
 * delete [-46n] src dst protocol spi [extensions] ;
 * deleteall [-46n] src dst protocol ;
 * One message per source and destination address of the same family;
 * delete takes one address each.
 */
static int
sk_cmd_sa(struct sk_ps *p, uint8_t type, int nospi)
{
	struct addrinfo *srcs = NULL, *dsts = NULL, *s, *d;
	struct sk_sa *sa;
	struct sk_buf b;
	uint64_t v;
	int error = -1, n = 0, line;

	if ((sa = calloc(1, sizeof(*sa))) == NULL)
		return (sk_error(p, strerror(errno)));
	sa->sa_type = type;
	sa->sa_nospi = nospi;
	sa->sa_flags = SADB_X_EXT_CYCSEQ;
	sa->sa_mode = IPSEC_MODE_ANY;
	sa->sa_natt_frag = -1;

	sk_aiflags(p);
	if (sk_ipaddr(p, &srcs) == -1 || sk_ipaddr(p, &dsts) == -1 ||
	    sk_satype(p, sa) == -1)
		goto out;
	if (!nospi) {
		if (sk_num(p, 1, UINT32_MAX, &v) == -1)
			goto out;
		sa->sa_spi = (uint32_t)v;
		if (sk_extensions(p, sa) == -1)
			goto out;
		if (type == SADB_ADD && sk_algorithms(p, sa) == -1)
			goto out;
	}
	if (sk_expect(p, TOK_SEMI) == -1)
		goto out;
	line = p->p_lx.lx_line;

	if (type == SADB_DELETE && !nospi &&
	    (srcs->ai_next != NULL || dsts->ai_next != NULL)) {
		sk_error(p, "multiple address specified");
		goto out;
	}
	for (s = srcs; s != NULL; s = s->ai_next)
		for (d = dsts; d != NULL; d = d->ai_next) {
			if (s->ai_family != d->ai_family)
				continue;
			if (sk_msg_sa(&b, sa, s->ai_addr, d->ai_addr) == -1) {
				sk_buf_free(&b);
				sk_error(p, "message too long");
				goto out;
			}
			p->p_ps->ps_send(p->p_ps->ps_arg,
			    sk_buf_finish(&b), b.b_len, line);
			sk_buf_free(&b);
			n++;
		}
	if (n == 0) {
		sk_error(p, "address family mismatch");
		goto out;
	}
	error = 0;
out:
	explicit_bzero(sa, sizeof(*sa));
	free(sa);
	if (srcs != NULL)
		freeaddrinfo(srcs);
	if (dsts != NULL)
		freeaddrinfo(dsts);
	return (error);
}

/* flush [protocol] ; and dump [protocol] ; */
static int
sk_cmd_short(struct sk_ps *p, uint8_t type)
{
	struct sk_sa sa;
	struct sk_buf b;

	memset(&sa, 0, sizeof(sa));
	sa.sa_satype = SADB_SATYPE_UNSPEC;
	if (sk_lex_peek(&p->p_lx) != TOK_SEMI && sk_satype(p, &sa) == -1)
		return (-1);
	if (sk_expect(p, TOK_SEMI) == -1 || sk_buf_init(&b, type,
	    sa.sa_satype) == -1)
		return (-1);
	p->p_ps->ps_send(p->p_ps->ps_arg, sk_buf_finish(&b), b.b_len,
	    p->p_lx.lx_line);
	sk_buf_free(&b);
	return (0);
}

/* An address range: addr[/prefixlen][[port|any]]. */
struct sk_range {
	char		 r_host[NI_MAXHOST];
	char		 r_port[NI_MAXSERV];
	int		 r_plen;	/* -1: the full length */
};

static int
sk_range(struct sk_ps *p, struct sk_range *r)
{
	uint64_t v;

	r->r_plen = -1;
	strlcpy(r->r_port, "0", sizeof(r->r_port));
	if (sk_word(p, r->r_host, sizeof(r->r_host)) == -1)
		return (-1);
	if (sk_lex_peek(&p->p_lx) == TOK_SLASH) {
		sk_lex_take(&p->p_lx);
		if (sk_num(p, 0, 128, &v) == -1)
			return (-1);
		r->r_plen = (int)v;
	}
	if (sk_lex_peek(&p->p_lx) == TOK_LBRACKET) {
		sk_lex_take(&p->p_lx);
		if (sk_word(p, r->r_port, sizeof(r->r_port)) == -1 ||
		    sk_expect(p, TOK_RBRACKET) == -1)
			return (-1);
	}
	return (0);
}

/* The upper-layer protocol, and icmp6's type,code. */
static int
sk_upper(struct sk_ps *p, unsigned int *proto, int *type, int *code)
{
	struct protoent *pe;
	const char *s = p->p_lx.lx_val;
	uint64_t v;

	*type = *code = -1;
	if (sk_lex_peek(&p->p_lx) != TOK_WORD)
		return (sk_syntax(p));
	if (isdigit((unsigned char)s[0])) {
		if (sk_num(p, 0, 255, &v) == -1)
			return (-1);
		*proto = (unsigned int)v;
	} else {
		if (strcmp(s, "any") == 0)
			*proto = IPSEC_ULPROTO_ANY;
		else if ((pe = getprotobyname(s)) != NULL)
			*proto = (unsigned int)pe->p_proto;
		else if (strcmp(s, "icmp6") == 0)
			*proto = IPPROTO_ICMPV6;
		else if (strcmp(s, "ip4") == 0)
			*proto = IPPROTO_IPIP;
		else
			return (sk_error(p, "invalid upper layer protocol"));
		endprotoent();
		sk_lex_take(&p->p_lx);
	}
	if (sk_lex_peek(&p->p_lx) != TOK_WORD || sk_lex_is(&p->p_lx, "-P"))
		return (0);
	/* upper_misc_spec: only icmp6 uses it. */
	if (sk_num(p, 0, 255, &v) == -1)
		return (-1);
	*type = (int)v;
	if (sk_lex_peek(&p->p_lx) == TOK_COMMA) {
		sk_lex_take(&p->p_lx);
		if (sk_num(p, 0, 255, &v) == -1)
			return (-1);
		*code = (int)v;
	}
	if (*proto != IPPROTO_ICMPV6)
		*type = *code = -1;
	return (0);
}

static void
sk_setport(struct sockaddr *sa, int port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)(void *)sa)->sin_port =
		    htons((uint16_t)port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)sa)->sin6_port =
		    htons((uint16_t)port);
}

/* -P <policy>: the policy, built by ipsec_set_policy(3). */
static char *
sk_policy(struct sk_ps *p)
{
	char *pol;
	size_t n;

	if (!sk_lex_is(&p->p_lx, "-P")) {
		sk_syntax(p);
		return (NULL);
	}
	sk_lex_take(&p->p_lx);
	if (sk_lex_policy(&p->p_lx) != TOK_POLICY) {
		sk_error(p, "policy too long");
		return (NULL);
	}
	n = strcspn(p->p_lx.lx_val, " \t\r\n");
	if (n == 3 && strncmp(p->p_lx.lx_val, "fwd", 3) == 0) {
		sk_error(p, "no fwd direction in FreeBSD's IPsec, "
		    "use in or out");
		return (NULL);
	}
	pol = ipsec_set_policy(p->p_lx.lx_val, (int)strlen(p->p_lx.lx_val));
	if (pol == NULL)
		sk_error(p, ipsec_strerror());
	else
		sk_lex_take(&p->p_lx);
	return (pol);
}

/*
 * spdadd    [-46n] src_range dst_range upperspec -P policy ;
 * spdupdate [-46n] src_range dst_range upperspec -P policy ;
 * spddelete [-46n] src_range dst_range upperspec -P direction ;
 * spdadd tagged "name" -P policy ;	(parsed, refused as in FreeBSD)
 */
static int
sk_cmd_sp(struct sk_ps *p, uint8_t type)
{
	struct addrinfo *src = NULL, *dst = NULL;
	struct sk_range rs, rd;
	struct sk_buf b;
	unsigned int proto, splen, dplen;
	char *pol = NULL;
	int error = -1, icmptype, icmpcode, line;

	sk_aiflags(p);
	if (type == SADB_X_SPDADD && sk_lex_is(&p->p_lx, "tagged")) {
		sk_lex_take(&p->p_lx);
		if (sk_expect(p, TOK_STRING) == -1 ||
		    (pol = sk_policy(p)) == NULL ||
		    sk_expect(p, TOK_SEMI) == -1)
			goto out;
		sk_error(p, "tagged policies are not supported");
		goto out;
	}
	if (sk_range(p, &rs) == -1 || sk_range(p, &rd) == -1 ||
	    sk_upper(p, &proto, &icmptype, &icmpcode) == -1 ||
	    (pol = sk_policy(p)) == NULL || sk_expect(p, TOK_SEMI) == -1)
		goto out;
	line = p->p_lx.lx_line;

	if (sk_resolve(p, rs.r_host, rs.r_port, &src) == -1 ||
	    sk_resolve(p, rd.r_host, rd.r_port, &dst) == -1)
		goto out;
	if (src->ai_next != NULL || dst->ai_next != NULL) {
		sk_error(p, "multiple address specified");
		goto out;
	}
	if (src->ai_family != dst->ai_family) {
		sk_error(p, "address family mismatch");
		goto out;
	}
	splen = rs.r_plen == -1 ? sk_plen(src->ai_addr) :
	    (unsigned int)rs.r_plen;
	dplen = rd.r_plen == -1 ? sk_plen(dst->ai_addr) :
	    (unsigned int)rd.r_plen;
	if (splen > sk_plen(src->ai_addr) || dplen > sk_plen(dst->ai_addr)) {
		sk_error(p, "invalid prefix length");
		goto out;
	}
	if (icmptype != -1) {
		sk_setport(src->ai_addr, icmptype);
		sk_setport(dst->ai_addr, icmpcode == -1 ? 0 : icmpcode);
	}
	if (sk_msg_sp(&b, type, src->ai_addr, splen, dst->ai_addr, dplen,
	    proto, pol, (size_t)ipsec_get_policylen(pol)) == -1) {
		sk_buf_free(&b);
		sk_error(p, "message too long");
		goto out;
	}
	p->p_ps->ps_send(p->p_ps->ps_arg, sk_buf_finish(&b), b.b_len, line);
	sk_buf_free(&b);
	error = 0;
out:
	free(pol);
	if (src != NULL)
		freeaddrinfo(src);
	if (dst != NULL)
		freeaddrinfo(dst);
	return (error);
}

/* spddump ; spdflush ; */
static int
sk_cmd_spd(struct sk_ps *p, uint8_t type)
{
	struct sk_buf b;

	if (sk_expect(p, TOK_SEMI) == -1 ||
	    sk_buf_init(&b, type, SADB_SATYPE_UNSPEC) == -1)
		return (-1);
	p->p_ps->ps_send(p->p_ps->ps_arg, sk_buf_finish(&b), b.b_len,
	    p->p_lx.lx_line);
	sk_buf_free(&b);
	return (0);
}

static int
sk_command(struct sk_ps *p)
{
	static const struct {
		const char	*name;
		uint8_t		 type;
		int		 kind;
	} cmds[] = {
		{ "add", SADB_ADD, 0 },
		{ "get", SADB_GET, 0 },
		{ "delete", SADB_DELETE, 0 },
		{ "deleteall", SADB_DELETE, 1 },
		{ "flush", SADB_FLUSH, 2 },
		{ "dump", SADB_DUMP, 2 },
		{ "spdadd", SADB_X_SPDADD, 3 },
		{ "spdupdate", SADB_X_SPDUPDATE, 3 },
		{ "spddelete", SADB_X_SPDDELETE, 3 },
		{ "spddump", SADB_X_SPDDUMP, 4 },
		{ "spdflush", SADB_X_SPDFLUSH, 4 },
	};
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!sk_lex_is(&p->p_lx, cmds[i].name))
			continue;
		sk_lex_take(&p->p_lx);
		switch (cmds[i].kind) {
		case 0:
		case 1:
			return (sk_cmd_sa(p, cmds[i].type, cmds[i].kind));
		case 2:
			return (sk_cmd_short(p, cmds[i].type));
		case 3:
			return (sk_cmd_sp(p, cmds[i].type));
		default:
			return (sk_cmd_spd(p, cmds[i].type));
		}
	}
	return (sk_syntax(p));
}

/* Parse and run fp's commands: 0, or -1 at the first error. */
int
sk_parse(FILE *fp, struct sk_parse *ps)
{
	struct sk_ps *p;
	int error = 0;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (-1);
	sk_lex_init(&p->p_lx, fp);
	p->p_ps = ps;
	while (sk_lex_peek(&p->p_lx) != TOK_EOF) {
		if (sk_command(p) == -1) {
			error = -1;
			break;
		}
	}
	ps->ps_line = p->p_lx.lx_line;
	free(p);
	return (error);
}
