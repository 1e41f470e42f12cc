/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * iked.conf(5): the grammar, OpenBSD iked's lexer conventions (sorted
 * keyword table, macros, include, line continuation, comments, quoted
 * strings) and the checks of each rule.  Actions build plain structs
 * (iked.h); config_setrunning() makes the result the running config.
 * Errors are "file:line: message"; parsing goes on after one to report
 * the next.  A configuration with a psk is read only from files nobody
 * else may read or change (file_secrecy).
 */

%{
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <net/if.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iked.h"

#define PARSE_INCLUDE_MAX	16	/* nested includes */
#define PARSE_WORD_MAX		8192

struct file {
	TAILQ_ENTRY(file)	 entry;
	FILE			*stream;
	const char		*buf;		/* or parse from memory */
	size_t			 buflen;
	size_t			 bufpos;
	char			*name;
	int			 lineno;
	int			 errors;
	int			 eof;		/* 1: '\n' given at EOF */
};
static TAILQ_HEAD(files, file)	 files = TAILQ_HEAD_INITIALIZER(files);
static struct file		*file, *topfile;
static int			 nfiles;

static struct file *pushfile(const char *, int);
static int	 popfile(void);
static void	 file_secrecy(const struct file *);
static int	 secrecy_check(void);

/*
 * Files that others may read or change, found as each is opened: an
 * error once the configuration turns out to hold a psk.
 */
struct insecure {
	SLIST_ENTRY(insecure)	 entry;
	char			 msg[PATH_MAX + 128];
};
static SLIST_HEAD(, insecure)	 insecure = SLIST_HEAD_INITIALIZER(insecure);
static int			 psk_seen;
static int	 yyparse(void);
static int	 yylex(void);
static int	 lex_token(void);
static int	 lgetc(int);
static int	 lungetc(int);
static int	 findeol(void);
static int	 kw_cmp(const void *, const void *);
static int	 lookup(const char *);
void		 yyerror(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));

/* Macros: name = "value", $name; -D name=value persists across reloads. */
struct sym {
	TAILQ_ENTRY(sym)	 entry;
	int			 persist;
	char			*nam;
	char			*val;
};
static TAILQ_HEAD(symhead, sym)	 symhead = TAILQ_HEAD_INITIALIZER(symhead);
static int	 symset(const char *, const char *, int);
static char	*symget(const char *);

/*
 * Everything the lexer and the actions allocate for one parse: freed
 * (and zeroed: a psk goes through here) when the parse ends, so that an
 * error anywhere leaks nothing.
 */
struct parse_mem {
	SLIST_ENTRY(parse_mem)	 entry;
	size_t			 len;
	char			 data[];
};
static SLIST_HEAD(, parse_mem)	 parse_mems = SLIST_HEAD_INITIALIZER(parse_mems);
static void	*parse_alloc(size_t);
static char	*parse_strdup(const char *);
static void	 parse_freeall(void);

static u_int			 parse_flags;
static struct iked_config	*conf;
static struct iked_policy	*curpol;	/* the rule being read */
static struct iked_proposal	*curprop;	/* its proposal being read */
static int			 curphase;	/* ikev1: PROP_IKE after main */
static u_int			 rule_count;
static int			 rule_badpsk;	/* said already */
static int			 rule_authset;	/* psk, rsa, ...: written */

/* For messages about the token that ended a syntax error. */
static char	 last_text[64];
static int	 last_kind;		/* LAST_WORD, LAST_QUOTED... */
static int	 last_iskw;		/* LAST_WORD: a keyword */
static char	 first_text[64];	/* the line's first token... */
static int	 first_unknown;		/* ...is a word but no keyword */
static int	 line_ntok;		/* tokens read on this line */
static int	 lex_eol;		/* the last token ended a line */
#define LAST_OTHER	0
#define LAST_WORD	1
#define LAST_QUOTED	2
#define LAST_EOL	3
#define LAST_ERROR	4	/* the lexer said why already */

static void	 rule_begin(int);
static void	 rule_end(void);
static void	 rule_abort(void);
static void	 rule_xform(enum iked_xftype, const char *);
static void	 rule_flow(struct iked_addr *, struct iked_addr *);
static void	 rule_proto(const char *, int64_t);
static void	 rule_id(struct iked_id *, const char *, const char *);
static void	 rule_auth(enum ca_authmode);
static void	 rule_psk(const char *);
static int	 rule_version(int, const char *);
static void	 rule_unsupported(const char *);
static void	 rule_iface(const char *);
static struct iked_addr *host_parse(const char *);
static int	 parse_time(const char *, uint64_t *);
static int	 parse_bytes(const char *, uint64_t *);
static void	 policy_check(struct iked_policy *);

typedef struct {
	union {
		int64_t			 number;
		char			*string;
		struct iked_addr	*addr;
	} v;
	int lineno;
} YYSTYPE;
#define YYSTYPE_IS_DECLARED 1
%}

%token	ACTIVE AGGRESSIVE AH ANY AUTHXF BYTES CHILDSA CONFIG COUPLE DECOUPLE
%token	DEFAULT DPD_ACTION DPD_CHECK_INTERVAL DPD_MAXFAIL DSTID DYNAMIC EAP ECDSA256 ECDSA384
%token	ECDSA521 ENCXF ENFORCESINGLEIKESA ESN ESP FILENAME FRAGMENT_SIZE
%token	FRAGMENTATION FROM
%token	GENERATE GROUP IFACE IKE IKELIFETIME IKESA IKEV1 IKEV2 INCLUDE INET
%token	INET6 INSTALL IPCOMP LIFETIME LOCAL MAIN MAXCHILDREN MOBIKE NATT
%token	NOENFORCESINGLEIKESA NOESN NOFRAGMENTATION NOMOBIKE NOVENDORID PASSIVE
%token	OCSP TOLERATE MAXAGE
%token	PEER PORT PRF PROTO PSK QUICK RDOMAIN REQUEST RFC7427 RSA SET SIGNATURE
%token	SKIP SRCID TAG TAP TO TRANSPORT TUNNEL USER VENDORID ERROR
%token	<v.string>	STRING
%token	<v.number>	NUMBER
%type	<v.string>	string
%type	<v.number>	time bytes lifebytes port ocsptol ocspage
%type	<v.addr>	host

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar include '\n'
		| grammar varset '\n'
		| grammar set '\n'
		| grammar rule '\n'
		| grammar USER STRING STRING '\n' {
			yyerror("user is not supported (no eap)");
		}
		| grammar error '\n' {
			rule_abort();
			yyerrok;
		}
		;

include		: INCLUDE STRING {
			struct file	*nfile;

			if (parse_flags & PARSE_NOINCLUDE) {
				yyerror("include is not allowed here");
				YYERROR;
			}
			if (nfiles >= PARSE_INCLUDE_MAX) {
				yyerror("include \"%s\": nested too deeply",
				    $2);
				YYERROR;
			}
			if ((nfile = pushfile($2, 1)) == NULL) {
				yyerror("include \"%s\": %s", $2,
				    strerror(errno));
				YYERROR;
			}
			/* A newline from the new file ends this line. */
			nfile->lineno = 0;
			file = nfile;
			lungetc('\n');
		}
		;

string		: string STRING {
			size_t	 len = strlen($1) + strlen($2) + 2;

			$$ = parse_alloc(len);
			snprintf($$, len, "%s %s", $1, $2);
		}
		| STRING
		;

varset		: STRING '=' NUMBER {
			char	 buf[32];

			snprintf(buf, sizeof(buf), "%lld", (long long)$3);
			if (symset($1, buf, 0) == -1)
				yyerror("cannot store macro \"%s\"", $1);
		}
		| STRING '=' string {
			const char	*s;

			for (s = $1; *s != '\0'; s++)
				if (!isalnum((unsigned char)*s) && *s != '_')
					break;
			if (*s != '\0' || isdigit((unsigned char)*$1))
				yyerror("bad macro name \"%s\"", $1);
			else if (symset($1, $3, 0) == -1)
				yyerror("cannot store macro \"%s\"", $1);
		}
		;

set		: SET ACTIVE		{ conf->cfg_flags &= ~CFG_PASSIVE; }
		| SET PASSIVE		{ conf->cfg_flags |= CFG_PASSIVE; }
		| SET COUPLE		{ }
		| SET DECOUPLE		{
			yyerror("decouple is not supported (every SA "
			    "negotiated goes into the kernel)");
		}
		| SET FRAGMENTATION	{ conf->cfg_flags |= CFG_FRAGMENTATION; }
		| SET FRAGMENT_SIZE NUMBER {
			if ($3 < IKED_FRAGSIZE_MIN || $3 > 65535)
				yyerror("fragment_size %lld out of range "
				    "(%d to 65535)", (long long)$3,
				    IKED_FRAGSIZE_MIN);
			else
				conf->cfg_fragsize = (u_int)$3;
		}
		| SET NOFRAGMENTATION	{
			conf->cfg_flags &= ~CFG_FRAGMENTATION;
		}
		| SET ENFORCESINGLEIKESA {
			conf->cfg_flags |= CFG_ENFORCESINGLEIKESA;
		}
		| SET NOENFORCESINGLEIKESA {
			conf->cfg_flags &= ~CFG_ENFORCESINGLEIKESA;
		}
		| SET VENDORID		{
			yyerror("vendorid is not supported (iked sends no "
			    "vendor ID naming itself)");
		}
		| SET NOVENDORID	{ }
		| SET MOBIKE		{ yyerror("mobike is not supported"); }
		| SET NOMOBIKE		{ }
		| SET DPD_ACTION STRING {
			if (strcmp($3, "restart") == 0)
				conf->cfg_flags |= CFG_DPDRESTART;
			else if (strcmp($3, "trap") == 0)
				conf->cfg_flags &= ~CFG_DPDRESTART;
			else
				yyerror("dpd_action %s: trap or restart", $3);
		}
		| SET DPD_CHECK_INTERVAL NUMBER {
			if ($3 < 0 || $3 > 86400)
				yyerror("dpd_check_interval %lld out of range "
				    "(0 to 86400)", (long long)$3);
			else
				conf->cfg_dpd_interval = (u_int)$3;
		}
		| SET DPD_MAXFAIL NUMBER {
			if ($3 < 1 || $3 > IKED_DPD_MAXFAIL_MAX)
				yyerror("dpd_maxfail %lld out of range "
				    "(1 to %d)", (long long)$3,
				    IKED_DPD_MAXFAIL_MAX);
			else
				conf->cfg_dpd_maxfail = (u_int)$3;
		}
		| SET IKELIFETIME time	{ conf->cfg_ikelifetime = $3; }
		| SET MAXCHILDREN NUMBER {
			if ($3 < 1 || $3 > IKED_MAXCHILDREN_MAX)
				yyerror("maxchildren %lld out of range "
				    "(1 to %d)", (long long)$3,
				    IKED_MAXCHILDREN_MAX);
			else
				conf->cfg_maxchildren = (u_int)$3;
		}
		| SET OCSP STRING ocsptol ocspage {
			if (strncmp($3, "http://", 7) != 0)
				yyerror("ocsp %s: an http:// URL", $3);
			else {
				free(conf->cfg_ocsp_url);
				if ((conf->cfg_ocsp_url = strdup($3)) == NULL)
					fatal("%s", __func__);
				conf->cfg_ocsp_tolerate = $4;
				conf->cfg_ocsp_maxage = $5;
			}
		}
		| SET LIFETIME time lifebytes {
			conf->cfg_lifetime = $3;
			if ($4 != 0)
				conf->cfg_lifebytes = $4;
		}
		;

ocsptol		: /* empty */		{ $$ = IKED_OCSP_TOLERATE; }
		| TOLERATE time		{ $$ = $2; }
		;

ocspage		: /* empty */		{ $$ = -1; }
		| MAXAGE time		{ $$ = $2; }
		;

time		: NUMBER {
			char	 buf[32];
			uint64_t t;

			snprintf(buf, sizeof(buf), "%lld", (long long)$1);
			if (parse_time(buf, &t) == -1) {
				yyerror("bad lifetime \"%s\"", buf);
				t = 1;
			}
			$$ = (int64_t)t;
		}
		| STRING {
			uint64_t t;

			if (parse_time($1, &t) == -1) {
				yyerror("bad lifetime \"%s\"", $1);
				t = 1;
			}
			$$ = (int64_t)t;
		}
		;

bytes		: NUMBER {
			char	 buf[32];
			uint64_t b;

			snprintf(buf, sizeof(buf), "%lld", (long long)$1);
			if (parse_bytes(buf, &b) == -1) {
				yyerror("bad byte count \"%s\"", buf);
				b = 1;
			}
			$$ = (int64_t)b;
		}
		| STRING {
			uint64_t b;

			if (parse_bytes($1, &b) == -1) {
				yyerror("bad byte count \"%s\"", $1);
				b = 1;
			}
			$$ = (int64_t)b;
		}
		;

lifebytes	: /* empty */		{ $$ = 0; }
		| BYTES bytes		{ $$ = $2; }
		;

rule		: IKEV2 { rule_begin(2); } rulename ruleopts { rule_end(); }
		| IKEV1 { rule_begin(1); } rulename ruleopts { rule_end(); }
		| IKE { rule_begin(0); } rulename ruleopts { rule_end(); }
		;

rulename	: /* empty */
		| STRING {
			if (strlcpy(curpol->pol_name, $1,
			    sizeof(curpol->pol_name)) >=
			    sizeof(curpol->pol_name))
				yyerror("rule name too long");
		}
		;

ruleopts	: /* empty */
		| ruleopts ruleopt
		;

ruleopt		: QUICK			{ curpol->pol_flags |= POL_QUICK; }
		| QUICK {
			if (rule_version(1, "quick enc/auth/group"))
				curprop = proposal_new(curpol, 1, PROP_CHILD);
			curphase = PROP_CHILD;
		} xforms		{ curprop = NULL; }
		| MAIN {
			if (rule_version(1, "main"))
				curprop = proposal_new(curpol, 1, PROP_IKE);
			curphase = PROP_IKE;
		} xforms_opt		{ curprop = NULL; }
		| IKESA {
			if (rule_version(2, "ikesa"))
				curprop = proposal_new(curpol, 2, PROP_IKE);
			curphase = 0;
		} xforms		{ curprop = NULL; }
		| CHILDSA {
			if (rule_version(2, "childsa"))
				curprop = proposal_new(curpol, 2, PROP_CHILD);
			curphase = 0;
		} xforms		{ curprop = NULL; }
		| SKIP			{ curpol->pol_flags |= POL_SKIP; }
		| DEFAULT		{ curpol->pol_flags |= POL_DEFAULT; }
		| ACTIVE {
			curpol->pol_flags &= ~POL_PASSIVE;
			curpol->pol_flags |= POL_ACTIVE;
		}
		| PASSIVE {
			curpol->pol_flags &= ~POL_ACTIVE;
			curpol->pol_flags |= POL_PASSIVE;
		}
		| TUNNEL		{ curpol->pol_flags &= ~POL_TRANSPORT; }
		| TRANSPORT		{ curpol->pol_flags |= POL_TRANSPORT; }
		| NATT			{ curpol->pol_flags |= POL_NATT; }
		| ESP			{ curpol->pol_saproto = IPPROTO_ESP; }
		| AH			{ curpol->pol_saproto = IPPROTO_AH; }
		| INET			{ curpol->pol_af = AF_INET; }
		| INET6			{ curpol->pol_af = AF_INET6; }
		| INSTALL		{ curpol->pol_polsrc = POLSRC_INSTALL; }
		| GENERATE		{ curpol->pol_polsrc = POLSRC_GENERATE; }
		| PROTO protospec
		| flow
		| ',' flow
		| LOCAL host {
			if ($2->addr_flags & ADDR_DYNAMIC)
				yyerror("dynamic is only for to");
			curpol->pol_local = *$2;
		}
		| PEER host {
			if ($2->addr_flags & ADDR_DYNAMIC)
				yyerror("dynamic is only for to");
			curpol->pol_peer = *$2;
		}
		| SRCID string		{ rule_id(&curpol->pol_srcid, "srcid", $2); }
		| DSTID string		{ rule_id(&curpol->pol_dstid, "dstid", $2); }
		| IKELIFETIME time	{ curpol->pol_ikelifetime = $2; }
		| LIFETIME time lifebytes {
			/* ikev1: "main ... lifetime" is phase 1's. */
			if (curphase == PROP_IKE) {
				curpol->pol_ikelifetime = $2;
				if ($3 != 0)
					yyerror("bytes is only for quick mode");
			} else {
				curpol->pol_lifetime = $2;
				if ($3 != 0)
					curpol->pol_lifebytes = $3;
			}
		}
		| PSK string {
			psk_seen = 1;
			rule_psk($2);
			rule_auth(CA_AUTH_NONE);
		}
		| PSK FILENAME STRING	{ yyerror("psk file is not supported"); }
		| EAP STRING		{ rule_unsupported("eap"); YYERROR; }
		| RSA			{ rule_auth(CA_AUTH_RSA); }
		| ECDSA256		{ rule_auth(CA_AUTH_ECDSA256); }
		| ECDSA384		{ rule_auth(CA_AUTH_ECDSA384); }
		| ECDSA521		{ rule_auth(CA_AUTH_ECDSA521); }
		| RFC7427		{ rule_auth(CA_AUTH_RFC7427); }
		| SIGNATURE		{ rule_unsupported("signature"); }
		| IPCOMP		{
			/* IKEv2's IPCOMP_SUPPORTED, IKEv1's proposal. */
			curpol->pol_flags |= POL_IPCOMP;
		}
		| AGGRESSIVE {
			yyerror("aggressive mode is not supported "
			    "(it exposes the psk to offline guessing)");
		}
		| RDOMAIN		{ rule_unsupported("rdomain"); YYERROR; }
		| CONFIG		{ rule_unsupported("config"); YYERROR; }
		| REQUEST		{ rule_unsupported("request"); YYERROR; }
		| TAG			{ rule_unsupported("tag"); YYERROR; }
		| TAP			{ rule_unsupported("tap"); YYERROR; }
		| IFACE STRING		{ rule_iface($2); }
		;

xforms_opt	: /* empty */
		| xforms
		;

xforms		: xform
		| xforms xform
		;

xform		: ENCXF STRING		{ rule_xform(XF_ENC, $2); }
		| AUTHXF STRING		{ rule_xform(XF_AUTH, $2); }
		| PRF STRING		{ rule_xform(XF_PRF, $2); }
		| GROUP STRING		{ rule_xform(XF_GROUP, $2); }
		| ESN {
			if (curprop != NULL)
				curprop->prop_esn = PROP_ESN_YES;
		}
		| NOESN {
			if (curprop != NULL)
				curprop->prop_esn = PROP_ESN_NO;
		}
		;

protospec	: protoval
		| '{' protolist '}'
		;

protolist	: protoval
		| protolist protoval
		| protolist ',' protoval
		;

protoval	: STRING		{ rule_proto($1, -1); }
		| NUMBER		{ rule_proto(NULL, $1); }
		;

flow		: FROM host port TO host port {
			$2->addr_port = (in_port_t)$3;
			$5->addr_port = (in_port_t)$6;
			rule_flow($2, $5);
		}
		;

port		: /* empty */		{ $$ = 0; }
		| PORT NUMBER {
			if ($2 < 1 || $2 > 65535) {
				yyerror("bad port %lld", (long long)$2);
				$$ = 0;
			} else
				$$ = $2;
		}
		| PORT STRING {
			struct servent	*s;

			if ((s = getservbyname($2, "udp")) == NULL &&
			    (s = getservbyname($2, "tcp")) == NULL) {
				yyerror("unknown port \"%s\"", $2);
				$$ = 0;
			} else
				$$ = ntohs((uint16_t)s->s_port);
		}
		;

host		: STRING {
			if (($$ = host_parse($1)) == NULL) {
				$$ = parse_alloc(sizeof(*$$));
				$$->addr_flags = ADDR_ANY | ADDR_SET;
			}
		}
		| ANY {
			$$ = parse_alloc(sizeof(*$$));
			$$->addr_flags = ADDR_ANY | ADDR_SET;
		}
		| DYNAMIC {
			$$ = parse_alloc(sizeof(*$$));
			$$->addr_flags = ADDR_DYNAMIC | ADDR_SET;
		}
		;

%%

void
yyerror(const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	file->errors++;
	if (parse_flags & PARSE_QUIET)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* byacc's own message: say which token it stopped at. */
	if (strcmp(msg, "syntax error") == 0 && line_ntok == 2 &&
	    first_unknown)
		/* "foo ..." with no "=": not a macro, so a bad keyword. */
		snprintf(msg, sizeof(msg), "unknown keyword \"%s\"",
		    first_text);
	else if (strcmp(msg, "syntax error") == 0) {
		switch (last_kind) {
		case LAST_ERROR:
			return;
		case LAST_EOL:
			strlcpy(msg, "unexpected end of line", sizeof(msg));
			break;
		case LAST_WORD:
			if (!last_iskw &&
			    isalpha((unsigned char)last_text[0])) {
				snprintf(msg, sizeof(msg),
				    "unknown keyword \"%s\"", last_text);
				break;
			}
			/* FALLTHROUGH */
		default:
			snprintf(msg, sizeof(msg), "unexpected \"%s\"",
			    last_text);
			break;
		}
	}
	fprintf(stderr, "%s:%d: %s\n", file->name, yylval.lineno, msg);
}

/* The keyword table: sorted, for bsearch(3). */
static const struct keywords {
	const char	*k_name;
	int		 k_val;
} keywords[] = {
	{ "active",		ACTIVE },
	{ "aggressive",		AGGRESSIVE },
	{ "ah",			AH },
	{ "any",		ANY },
	{ "auth",		AUTHXF },
	{ "bytes",		BYTES },
	{ "childsa",		CHILDSA },
	{ "config",		CONFIG },
	{ "couple",		COUPLE },
	{ "decouple",		DECOUPLE },
	{ "default",		DEFAULT },
	{ "dpd_action",		DPD_ACTION },
	{ "dpd_check_interval",	DPD_CHECK_INTERVAL },
	{ "dpd_maxfail",	DPD_MAXFAIL },
	{ "dstid",		DSTID },
	{ "dynamic",		DYNAMIC },
	{ "eap",		EAP },
	{ "ecdsa256",		ECDSA256 },
	{ "ecdsa384",		ECDSA384 },
	{ "ecdsa521",		ECDSA521 },
	{ "enc",		ENCXF },
	{ "enforcesingleikesa",	ENFORCESINGLEIKESA },
	{ "esn",		ESN },
	{ "esp",		ESP },
	{ "file",		FILENAME },
	{ "fragment_size",	FRAGMENT_SIZE },
	{ "fragmentation",	FRAGMENTATION },
	{ "from",		FROM },
	{ "generate-policy",	GENERATE },
	{ "group",		GROUP },
	{ "iface",		IFACE },
	{ "ike",		IKE },
	{ "ikelifetime",	IKELIFETIME },
	{ "ikesa",		IKESA },
	{ "ikev1",		IKEV1 },
	{ "ikev2",		IKEV2 },
	{ "include",		INCLUDE },
	{ "inet",		INET },
	{ "inet6",		INET6 },
	{ "install-policies",	INSTALL },
	{ "ipcomp",		IPCOMP },
	{ "lifetime",		LIFETIME },
	{ "local",		LOCAL },
	{ "main",		MAIN },
	{ "maxage",		MAXAGE },
	{ "maxchildren",	MAXCHILDREN },
	{ "mobike",		MOBIKE },
	{ "natt",		NATT },
	{ "noenforcesingleikesa", NOENFORCESINGLEIKESA },
	{ "noesn",		NOESN },
	{ "nofragmentation",	NOFRAGMENTATION },
	{ "nomobike",		NOMOBIKE },
	{ "novendorid",		NOVENDORID },
	{ "ocsp",		OCSP },
	{ "passive",		PASSIVE },
	{ "peer",		PEER },
	{ "port",		PORT },
	{ "prf",		PRF },
	{ "proto",		PROTO },
	{ "psk",		PSK },
	{ "quick",		QUICK },
	{ "rdomain",		RDOMAIN },
	{ "request",		REQUEST },
	{ "rfc7427",		RFC7427 },
	{ "rsa",		RSA },
	{ "set",		SET },
	{ "signature",		SIGNATURE },
	{ "skip",		SKIP },
	{ "srcid",		SRCID },
	{ "tag",		TAG },
	{ "tap",		TAP },
	{ "to",			TO },
	{ "tolerate",		TOLERATE },
	{ "transport",		TRANSPORT },
	{ "tunnel",		TUNNEL },
	{ "user",		USER },
	{ "vendorid",		VENDORID }
};

static int
kw_cmp(const void *k, const void *e)
{
	return (strcmp(k, ((const struct keywords *)e)->k_name));
}

static int
lookup(const char *s)
{
	const struct keywords	*p;

	p = bsearch(s, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), kw_cmp);
	return (p != NULL ? p->k_val : STRING);
}

/*
 * Characters pushed back, and a macro's value being read again: while
 * "expanding", '$' is not expanded, so a macro cannot refer to itself
 * forever.  DONE_EXPAND marks where the value ends.
 */
#define PUSHBACK_MAX	(PARSE_WORD_MAX + 16)
#define DONE_EXPAND	0x100
static int	 pushback[PUSHBACK_MAX];
static int	 pushback_n;
static int	 expanding;

static int
igetc(void)
{
	if (file->buf != NULL) {
		if (file->bufpos >= file->buflen)
			return (EOF);
		return ((unsigned char)file->buf[file->bufpos++]);
	}
	return (getc(file->stream));
}

static int
lgetc(int quotec)
{
	int	 c, next;

	for (;;) {
		if (pushback_n > 0) {
			c = pushback[--pushback_n];
			if (c == DONE_EXPAND) {
				expanding = 0;
				continue;
			}
			return (c);
		}
		break;
	}
	if (file->eof)
		return (EOF);

	if (quotec) {
		if ((c = igetc()) == EOF) {
			yyerror("reached end of file inside a quoted string");
			file->eof = 1;
			return (EOF);
		}
		return (c);
	}

	/* A backslash before a newline continues the line. */
	while ((c = igetc()) == '\\') {
		next = igetc();
		if (next != '\n') {
			if (next != EOF)
				lungetc(next);
			return (c);
		}
		yylval.lineno = file->lineno;
		file->lineno++;
	}
	if (c == EOF) {
		/* Every file ends a line, even without a last newline. */
		file->eof = 1;
		return ('\n');
	}
	return (c);
}

static int
lungetc(int c)
{
	if (c == EOF)
		return (EOF);
	if (pushback_n >= PUSHBACK_MAX)
		return (EOF);
	pushback[pushback_n++] = c;
	return (c);
}

/* Skip the rest of a line after an error in the lexer. */
static int
findeol(void)
{
	int	 c;

	do {
		c = lgetc(0);
	} while (c != '\n' && c != EOF);
	/* The newline ends the error's line for the grammar. */
	lungetc('\n');
	last_kind = LAST_ERROR;
	return (ERROR);
}

static int
allowed_in_string(int c)
{
	if (isalnum(c))
		return (1);
	if (!ispunct(c))
		return (0);
	switch (c) {
	case '(': case ')': case '{': case '}': case '<': case '>':
	case '!': case '=': case '#': case ',': case '"': case '\'':
		return (0);
	}
	return (1);
}

/* The tokens, and what yyerror() needs to say where it stopped. */
static int
yylex(void)
{
	int	 token;

	if (lex_eol)
		line_ntok = 0;
	last_iskw = 0;
	token = lex_token();
	if (line_ntok++ == 0) {
		strlcpy(first_text, last_text, sizeof(first_text));
		first_unknown = token == STRING && last_kind == LAST_WORD;
	}
	lex_eol = token == '\n' || token == ERROR;
	return (token);
}

static int
lex_token(void)
{
	char	 buf[PARSE_WORD_MAX];
	char	*p, *val;
	int	 quotec, next, c, token;
	size_t	 i, n;

top:
	p = buf;
	while ((c = lgetc(0)) == ' ' || c == '\t')
		;

	yylval.lineno = file->lineno;
	if (c == '#')
		while ((c = lgetc(0)) != '\n' && c != EOF)
			;
	if (c == '$' && !expanding) {
		for (;;) {
			c = lgetc(0);
			if (p + 1 >= buf + sizeof(buf) - 1) {
				yyerror("string too long");
				return (findeol());
			}
			if (isalnum(c) || c == '_') {
				*p++ = (char)c;
				continue;
			}
			*p = '\0';
			lungetc(c);
			break;
		}
		if ((val = symget(buf)) == NULL) {
			yyerror("macro \"%s\" is not defined", buf);
			return (findeol());
		}
		n = strlen(val);
		if (n + 1 > PUSHBACK_MAX - (size_t)pushback_n) {
			yyerror("macro \"%s\" is too long", buf);
			return (findeol());
		}
		lungetc(DONE_EXPAND);
		for (i = n; i > 0; i--)
			lungetc((unsigned char)val[i - 1]);
		expanding = 1;
		goto top;
	}

	switch (c) {
	case '\'':
	case '"':
		quotec = c;
		for (;;) {
			if ((c = lgetc(quotec)) == EOF)
				return (findeol());
			if (c == '\n') {
				file->lineno++;
				continue;
			} else if (c == '\\') {
				if ((next = lgetc(quotec)) == EOF)
					return (findeol());
				if (next == quotec || next == ' ' ||
				    next == '\t')
					c = next;
				else if (next == '\n') {
					file->lineno++;
					continue;
				} else
					lungetc(next);
			} else if (c == quotec) {
				*p = '\0';
				break;
			} else if (c == '\0') {
				yyerror("NUL byte in a quoted string");
				return (findeol());
			}
			if (p + 1 >= buf + sizeof(buf) - 1) {
				yyerror("string too long");
				return (findeol());
			}
			*p++ = (char)c;
		}
		yylval.v.string = parse_strdup(buf);
		strlcpy(last_text, buf, sizeof(last_text));
		last_kind = LAST_QUOTED;
		return (STRING);
	}

	if (c != EOF && allowed_in_string(c)) {
		do {
			*p++ = (char)c;
			if ((size_t)(p - buf) >= sizeof(buf)) {
				yyerror("string too long");
				return (findeol());
			}
		} while ((c = lgetc(0)) != EOF && allowed_in_string(c));
		lungetc(c);
		*p = '\0';
		strlcpy(last_text, buf, sizeof(last_text));
		last_kind = LAST_WORD;
		if ((token = lookup(buf)) != STRING) {
			last_iskw = 1;
			return (token);
		}

		/* A number: digits only, and not too many of them. */
		for (i = 0; buf[i] != '\0' && isdigit((unsigned char)buf[i]);
		    i++)
			;
		if (buf[i] == '\0' && i <= 18) {
			yylval.v.number = strtoll(buf, NULL, 10);
			return (NUMBER);
		}
		yylval.v.string = parse_strdup(buf);
		return (STRING);
	}

	if (c == EOF) {
		if (file == topfile)
			return (0);
		popfile();
		goto top;
	}
	if (c == '\n') {
		yylval.lineno = file->lineno;
		file->lineno++;
		last_kind = LAST_EOL;
	} else {
		last_text[0] = (char)c;
		last_text[1] = '\0';
		last_kind = LAST_OTHER;
	}
	if (c == '\0' || c > 0x7e || (c < 0x20 && c != '\n')) {
		snprintf(last_text, sizeof(last_text), "\\x%02x",
		    (unsigned int)c);
		return (ERROR);
	}
	return (c);
}

static struct file *
pushfile(const char *name, int secret)
{
	struct file	*nfile;

	if ((nfile = calloc(1, sizeof(*nfile))) == NULL)
		return (NULL);
	if ((nfile->name = strdup(name)) == NULL) {
		free(nfile);
		return (NULL);
	}
	if ((nfile->stream = fopen(nfile->name, "r")) == NULL) {
		int	 saved_errno = errno;

		free(nfile->name);
		free(nfile);
		errno = saved_errno;
		return (NULL);
	}
	nfile->lineno = 1;
	if (secret)
		file_secrecy(nfile);
	TAILQ_INSERT_TAIL(&files, nfile, entry);
	nfiles++;
	return (nfile);
}

/*
 * OpenBSD's check_file_secrecy, for configurations with a psk: a file
 * owned by root or by the user running iked, with no access for group
 * or others.  What fails is remembered; secrecy_check() decides.
 */
static void
file_secrecy(const struct file *f)
{
	struct insecure	*in;
	struct stat	 st;
	char		 msg[128];

	if (fstat(fileno(f->stream), &st) == -1)
		snprintf(msg, sizeof(msg), "cannot stat it: %s",
		    strerror(errno));
	else if (st.st_uid != 0 && st.st_uid != getuid())
		snprintf(msg, sizeof(msg), "it is owned by uid %u, not by "
		    "root or the user running iked (uid %u)",
		    (u_int)st.st_uid, (u_int)getuid());
	else if (st.st_mode & (S_IRWXG | S_IRWXO))
		snprintf(msg, sizeof(msg), "group or others may access it "
		    "(mode %04o)", (u_int)(st.st_mode & ALLPERMS));
	else
		return;
	if ((in = calloc(1, sizeof(*in))) == NULL)
		fatal("%s", __func__);
	snprintf(in->msg, sizeof(in->msg), "%s: the configuration has a "
	    "psk, but %s", f->name, msg);
	SLIST_INSERT_HEAD(&insecure, in, entry);
}

/* The errors of file_secrecy, if a psk was read: how many. */
static int
secrecy_check(void)
{
	struct insecure	*in;
	int		 n = 0;

	while ((in = SLIST_FIRST(&insecure)) != NULL) {
		SLIST_REMOVE_HEAD(&insecure, entry);
		if (psk_seen) {
			n++;
			if (!(parse_flags & PARSE_QUIET))
				fprintf(stderr, "%s\n", in->msg);
		}
		free(in);
	}
	psk_seen = 0;
	return (n);
}

static int
popfile(void)
{
	struct file	*prev;

	if ((prev = TAILQ_PREV(file, files, entry)) != NULL)
		prev->errors += file->errors;
	TAILQ_REMOVE(&files, file, entry);
	if (file->stream != NULL)
		fclose(file->stream);
	free(file->name);
	free(file);
	nfiles--;
	file = prev;
	return (file != NULL ? 0 : EOF);
}

static void *
parse_alloc(size_t len)
{
	struct parse_mem	*m;

	if ((m = calloc(1, sizeof(*m) + len)) == NULL)
		fatal("%s", __func__);
	m->len = len;
	SLIST_INSERT_HEAD(&parse_mems, m, entry);
	return (m->data);
}

static char *
parse_strdup(const char *s)
{
	size_t	 len = strlen(s) + 1;
	char	*p;

	p = parse_alloc(len);
	memcpy(p, s, len);
	return (p);
}

static void
parse_freeall(void)
{
	struct parse_mem	*m;

	while ((m = SLIST_FIRST(&parse_mems)) != NULL) {
		SLIST_REMOVE_HEAD(&parse_mems, entry);
		explicit_bzero(m->data, m->len);
		free(m);
	}
}

static int
symset(const char *nam, const char *val, int persist)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry)
		if (strcmp(nam, sym->nam) == 0)
			break;
	if (sym != NULL) {
		if (sym->persist && !persist)
			return (0);	/* -D wins over the file */
		TAILQ_REMOVE(&symhead, sym, entry);
		free(sym->nam);
		free(sym->val);
		free(sym);
	}
	if ((sym = calloc(1, sizeof(*sym))) == NULL)
		return (-1);
	sym->nam = strdup(nam);
	sym->val = strdup(val);
	if (sym->nam == NULL || sym->val == NULL) {
		free(sym->nam);
		free(sym->val);
		free(sym);
		return (-1);
	}
	sym->persist = persist;
	TAILQ_INSERT_TAIL(&symhead, sym, entry);
	return (0);
}

int
cmdline_symset(const char *s)
{
	char	*sym, *val;
	int	 ret;

	if ((val = strchr(s, '=')) == NULL || val == s)
		return (-1);
	if ((sym = strndup(s, (size_t)(val - s))) == NULL)
		return (-1);
	ret = symset(sym, val + 1, 1);
	free(sym);
	return (ret);
}

static char *
symget(const char *nam)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry)
		if (strcmp(nam, sym->nam) == 0)
			return (sym->val);
	return (NULL);
}

/* Forget the file's macros; those from -D stay. */
void
parse_clear_macros(void)
{
	struct sym	*sym, *next;

	for (sym = TAILQ_FIRST(&symhead); sym != NULL; sym = next) {
		next = TAILQ_NEXT(sym, entry);
		if (sym->persist)
			continue;
		TAILQ_REMOVE(&symhead, sym, entry);
		free(sym->nam);
		free(sym->val);
		free(sym);
	}
}

/* 90, 90s, 30m, 8h, 1d: seconds, at least 1. */
static int
parse_time(const char *s, uint64_t *tp)
{
	unsigned long long	 v, mul = 1;
	char			*ep;

	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	v = strtoull(s, &ep, 10);
	if (errno != 0)
		return (-1);
	switch (*ep) {
	case '\0':
	case 's':
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		return (-1);
	}
	if (*ep != '\0' && ep[1] != '\0')
		return (-1);
	if (v == 0 || v > UINT32_MAX / mul)
		return (-1);
	*tp = v * mul;
	return (0);
}

/* 1000, 512K, 100M, 4G: bytes (powers of 1024), at least 1. */
static int
parse_bytes(const char *s, uint64_t *bp)
{
	unsigned long long	 v, mul = 1;
	char			*ep;

	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	v = strtoull(s, &ep, 10);
	if (errno != 0)
		return (-1);
	switch (*ep) {
	case '\0':
		break;
	case 'K':
	case 'k':
		mul = 1ULL << 10;
		break;
	case 'M':
	case 'm':
		mul = 1ULL << 20;
		break;
	case 'G':
	case 'g':
		mul = 1ULL << 30;
		break;
	case 'T':
	case 't':
		mul = 1ULL << 40;
		break;
	default:
		return (-1);
	}
	if (*ep != '\0' && ep[1] != '\0')
		return (-1);
	if (v == 0 || v > (1ULL << 62) / mul)
		return (-1);
	*bp = v * mul;
	return (0);
}

/*
 * An address: IPv4 or IPv6 with an optional /prefix, or a host name
 * resolved now (its first address).  NULL after an error message.
 */
static struct iked_addr *
host_parse(const char *s)
{
	struct addrinfo		 hints, *res;
	struct iked_addr	*a;
	char			 buf[256], *slash, *ep;
	long			 mask = -1;
	int			 max, error, i;
	uint8_t			*bytes;

	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf)) {
		yyerror("bad address \"%s\"", s);
		return (NULL);
	}
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		errno = 0;
		mask = strtol(slash, &ep, 10);
		if (*slash == '\0' || *ep != '\0' || errno != 0 || mask < 0) {
			yyerror("bad address \"%s\"", s);
			return (NULL);
		}
	}

	a = parse_alloc(sizeof(*a));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	error = getaddrinfo(buf, NULL, &hints, &res);
	if (error != 0 && slash == NULL && !(parse_flags & PARSE_NORESOLVE) &&
	    (isalpha((unsigned char)buf[0]) || buf[0] == '_')) {
		hints.ai_flags = 0;
		error = getaddrinfo(buf, NULL, &hints, &res);
		if (error != 0) {
			yyerror("host \"%s\" not found", s);
			return (NULL);
		}
	}
	if (error != 0) {
		yyerror("bad address \"%s\"", s);
		return (NULL);
	}
	if (res->ai_addrlen > sizeof(a->addr)) {
		freeaddrinfo(res);
		yyerror("bad address \"%s\"", s);
		return (NULL);
	}
	memcpy(&a->addr, res->ai_addr, res->ai_addrlen);
	a->addr_af = res->ai_family;
	freeaddrinfo(res);

	if (a->addr_af == AF_INET) {
		struct sockaddr_in	*sin = (struct sockaddr_in *)&a->addr;

		max = 32;
		bytes = (uint8_t *)&sin->sin_addr;
	} else if (a->addr_af == AF_INET6) {
		struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&a->addr;

		max = 128;
		bytes = (uint8_t *)&sin6->sin6_addr;
		sin6->sin6_scope_id = 0;
	} else {
		yyerror("bad address \"%s\"", s);
		return (NULL);
	}
	if (mask > max) {
		yyerror("bad address \"%s\": prefix longer than %d", s, max);
		return (NULL);
	}
	a->addr_mask = mask >= 0 ? (int)mask : max;
	/* Clear the host bits, as the SPD would. */
	for (i = a->addr_mask; i < max; i++)
		bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	a->addr_flags = ADDR_SET;
	return (a);
}

static void
rule_begin(int version)
{
	rule_abort();
	if ((curpol = policy_new(version)) == NULL)
		fatal("%s", __func__);
	if ((curpol->pol_file = strdup(file->name)) == NULL)
		fatal("%s", __func__);
	curpol->pol_line = yylval.lineno;
	rule_badpsk = 0;
	rule_authset = 0;
	curprop = NULL;
	curphase = 0;
}

static void
rule_abort(void)
{
	policy_free(curpol);
	curpol = NULL;
	curprop = NULL;
	curphase = 0;
}

/* A keyword of one IKE version only: its rules and "ike" ones. */
static int
rule_version(int version, const char *what)
{
	if (curpol->pol_version == version || curpol->pol_version == 0)
		return (1);
	yyerror("%s is only for ikev%d and ike rules", what, version);
	return (0);
}

/* iface: an if_ipsec(4) interface's name. */
static void
rule_iface(const char *name)
{
	const char	*p;

	if (strlen(name) == 0 || strlen(name) >= IKED_IFNAME_MAX) {
		yyerror("iface %s: not an interface name", name);
		return;
	}
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' &&
		    *p != '.') {
			yyerror("iface %s: not an interface name", name);
			return;
		}
	strlcpy(curpol->pol_iface, name, sizeof(curpol->pol_iface));
}

static void
rule_unsupported(const char *what)
{
	yyerror("%s is not supported", what);
}

static void
rule_xform(enum iked_xftype type, const char *name)
{
	static const char *const what[XF_NTYPES] = {
		[XF_ENC] = "encryption algorithm",
		[XF_AUTH] = "auth algorithm",
		[XF_PRF] = "prf",
		[XF_GROUP] = "group"
	};
	const struct iked_xform	*xf;

	if (curprop == NULL)
		return;		/* the keyword was refused already */
	if (type == XF_GROUP && strcmp(name, "none") == 0) {
		curprop->prop_nogroup = 1;
		return;
	}
	if ((xf = xform_lookup(type, name)) == NULL) {
		yyerror("unknown %s \"%s\"", what[type], name);
		return;
	}
	if (curprop->prop_nxf[type] >= IKED_XFORM_MAX) {
		yyerror("too many %ss in one proposal", what[type]);
		return;
	}
	if (xf->xf_flags & XF_LEGACY)
		log_debug("%s:%d: %s is weak, for legacy peers only",
		    file->name, yylval.lineno, xf->xf_name);
	curprop->prop_xf[type][curprop->prop_nxf[type]++] = xf;
}

static void
rule_flow(struct iked_addr *src, struct iked_addr *dst)
{
	struct iked_flow	*flow;

	if (src->addr_flags & ADDR_DYNAMIC) {
		yyerror("dynamic is only for to");
		return;
	}
	if (src->addr_af != AF_UNSPEC && dst->addr_af != AF_UNSPEC &&
	    src->addr_af != dst->addr_af) {
		yyerror("from and to are of different address families");
		return;
	}
	if ((flow = calloc(1, sizeof(*flow))) == NULL)
		fatal("%s", __func__);
	flow->flow_src = *src;
	flow->flow_dst = *dst;
	TAILQ_INSERT_TAIL(&curpol->pol_flows, flow, flow_entry);
}

static const struct {
	const char	*name;
	uint8_t		 proto;
} protos[] = {
	{ "icmp", IPPROTO_ICMP },
	{ "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP },
	{ "gre", 47 },
	{ "esp", IPPROTO_ESP },
	{ "ah", IPPROTO_AH },
	{ "ipv6-icmp", 58 },
	{ "icmp6", 58 },
	{ "sctp", 132 }
};

const char *
parse_protoname(uint8_t proto)
{
	size_t	 i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == proto)
			return (protos[i].name);
	return (NULL);
}

static void
rule_proto(const char *name, int64_t num)
{
	size_t	 i;

	if (name != NULL) {
		for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			if (strcmp(protos[i].name, name) == 0)
				break;
		if (i == sizeof(protos) / sizeof(protos[0])) {
			yyerror("unknown protocol \"%s\"", name);
			return;
		}
		num = protos[i].proto;
	}
	if (num < 1 || num > 255) {
		yyerror("bad protocol %lld", (long long)num);
		return;
	}
	if (curpol->pol_nprotos >= IKED_PROTO_MAX) {
		yyerror("too many protocols");
		return;
	}
	curpol->pol_protos[curpol->pol_nprotos++] = (uint8_t)num;
}

static void
rule_id(struct iked_id *id, const char *what, const char *s)
{
	struct in6_addr	 in6;
	struct in_addr	 in;
	uint8_t		 dn[CA_ID_MAX];
	size_t		 dnlen;

	if (*s == '\0') {
		yyerror("%s is empty", what);
		return;
	}
	/* OpenBSD's type prefix for a name: "asn1dn/CN=x". */
	if (strncmp(s, "asn1dn/", 7) == 0)
		s += 7;
	if (strlcpy(id->id_str, s, sizeof(id->id_str)) >= sizeof(id->id_str)) {
		yyerror("%s too long", what);
		return;
	}
	if (*s == '/' || strchr(s, '=') != NULL) {
		if (ca_dn_der(s, dn, sizeof(dn), &dnlen) == -1) {
			yyerror("%s: \"%s\" is not a distinguished name",
			    what, s);
			return;
		}
		id->id_type = ID_ASN1DN;
	} else if (inet_pton(AF_INET, s, &in) == 1)
		id->id_type = ID_IPV4;
	else if (inet_pton(AF_INET6, s, &in6) == 1)
		id->id_type = ID_IPV6;
	else if (strchr(s, '@') != NULL)
		id->id_type = ID_UFQDN;
	else
		id->id_type = ID_FQDN;
}

/*
 * The rule's authentication: psk, or a signature with the key of
 * private/local.key (rsa, ecdsa256/384/521, rfc7427); one per rule.
 */
static void
rule_auth(enum ca_authmode mode)
{
	if (rule_authset)
		yyerror("more than one authentication method");
	rule_authset = 1;
	curpol->pol_auth = mode;
}

/* psk "string" or psk 0xHEX (also quoted, as OpenBSD reads it). */
static void
rule_psk(const char *s)
{
	uint8_t		*key;
	size_t		 len, i;
	unsigned int	 hi, lo;

	if (strncmp(s, "0x", 2) == 0) {
		s += 2;
		len = strlen(s);
		if (len == 0 || len % 2 != 0 || len / 2 > IKED_PSK_MAX) {
			rule_badpsk = 1;
			yyerror("bad hex psk");
			return;
		}
		len /= 2;
		if ((key = malloc(len)) == NULL)
			fatal("%s", __func__);
		for (i = 0; i < len; i++) {
			if (!isxdigit((unsigned char)s[2 * i]) ||
			    !isxdigit((unsigned char)s[2 * i + 1]) ||
			    sscanf(&s[2 * i], "%1x%1x", &hi, &lo) != 2) {
				explicit_bzero(key, len);
				free(key);
				rule_badpsk = 1;
				yyerror("bad hex psk");
				return;
			}
			key[i] = (uint8_t)(hi << 4 | lo);
		}
	} else {
		len = strlen(s);
		if (len == 0 || len > IKED_PSK_MAX) {
			rule_badpsk = 1;
			yyerror(len == 0 ? "psk is empty" : "psk too long");
			return;
		}
		if ((key = malloc(len)) == NULL)
			fatal("%s", __func__);
		memcpy(key, s, len);
	}
	if (curpol->pol_psk != NULL) {
		explicit_bzero(curpol->pol_psk, curpol->pol_psklen);
		free(curpol->pol_psk);
	}
	curpol->pol_psk = key;
	curpol->pol_psklen = len;
}

/* Errors about a whole rule are reported at its first line. */
static void
rule_error(struct iked_policy *pol, const char *fmt, ...)
    __attribute__((__format__(printf, 2, 3)));

static void
rule_error(struct iked_policy *pol, const char *fmt, ...)
{
	va_list	 ap;

	file->errors++;
	if (parse_flags & PARSE_QUIET)
		return;
	fprintf(stderr, "%s:%d: %s \"%s\": ", pol->pol_file, pol->pol_line,
	    policy_versionname(pol), pol->pol_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
addr_isset(const struct iked_addr *a)
{
	return ((a->addr_flags & ADDR_SET) && a->addr_af != AF_UNSPEC);
}

static void
rule_end(void)
{
	struct iked_policy	*pol = curpol, *p;
	struct iked_proposal	*prop;
	struct iked_flow	*flow, *nflow;
	struct iked_flows	 flows;
	char			 err[128];
	u_int			 i;

	curpol = NULL;
	curprop = NULL;
	curphase = 0;

	rule_count++;
	if (pol->pol_name[0] == '\0')
		snprintf(pol->pol_name, sizeof(pol->pol_name), "policy%u",
		    rule_count);
	TAILQ_FOREACH(p, &conf->cfg_policies, pol_entry)
		if (strcmp(p->pol_name, pol->pol_name) == 0) {
			rule_error(pol, "duplicate rule name");
			break;
		}

	TAILQ_FOREACH(prop, &pol->pol_proposals, prop_entry)
		if (proposal_complete(pol, prop, err, sizeof(err)) == -1)
			rule_error(pol, "%s %s", prop->prop_type == PROP_IKE ?
			    (prop->prop_version == 1 ? "main" : "ikesa") :
			    (prop->prop_version == 1 ? "quick" : "childsa"),
			    err);

	/*
	 * Without psk or a keyword, OpenBSD's default: a signature of
	 * any kind the key can make (rfc7427).
	 */
	if (pol->pol_psk == NULL && !rule_authset && !rule_badpsk)
		pol->pol_auth = CA_AUTH_RFC7427;
	/*
	 * A distinguished name is matched against a certificate; with a
	 * psk there is none, and the name would not be checked.
	 */
	if (pol->pol_psk != NULL && (pol->pol_srcid.id_type == ID_ASN1DN ||
	    pol->pol_dstid.id_type == ID_ASN1DN))
		rule_error(pol, "distinguished-name IDs need certificates, "
		    "not a psk");
	/* IKEv1 signs with RSA (RFC 2409 5.1), as racoon and strongSwan. */
	if (pol->pol_auth != CA_AUTH_NONE && pol->pol_version != 2 &&
	    pol->pol_auth != CA_AUTH_RSA && pol->pol_auth != CA_AUTH_RFC7427)
		rule_error(pol, "%s is not an IKEv1 method (rsa)",
		    print_auth(pol->pol_auth));
	if (addr_isset(&pol->pol_local) && addr_isset(&pol->pol_peer) &&
	    pol->pol_local.addr_af != pol->pol_peer.addr_af)
		rule_error(pol, "local and peer are of different address "
		    "families");
	if (pol->pol_af != AF_UNSPEC) {
		int	 bad = 0;

		if (addr_isset(&pol->pol_local) &&
		    pol->pol_local.addr_af != pol->pol_af)
			bad = 1;
		if (addr_isset(&pol->pol_peer) &&
		    pol->pol_peer.addr_af != pol->pol_af)
			bad = 1;
		TAILQ_FOREACH(flow, &pol->pol_flows, flow_entry)
			if ((addr_isset(&flow->flow_src) &&
			    flow->flow_src.addr_af != pol->pol_af) ||
			    (addr_isset(&flow->flow_dst) &&
			    flow->flow_dst.addr_af != pol->pol_af))
				bad = 1;
		if (bad)
			rule_error(pol, "address not of the family of %s",
			    pol->pol_af == AF_INET ? "inet" : "inet6");
	}
	/*
	 * iface: the interface's own policies ask for the SAs, ESP in
	 * tunnel mode between its endpoints; none of the SPD's.
	 */
	if (pol->pol_iface[0] != '\0') {
		/*
		 * Its index now, in the parent: the engine, confined,
		 * cannot ask.  An interface made later needs a reload.
		 */
		if ((pol->pol_ifindex = if_nametoindex(pol->pol_iface)) == 0)
			log_warnx("%s:%d: iface %s: no such interface (yet): "
			    "rule \"%s\" waits for a reload", pol->pol_file,
			    pol->pol_line, pol->pol_iface, pol->pol_name);
		if (pol->pol_flags & POL_TRANSPORT)
			rule_error(pol, "iface needs tunnel mode");
		if (pol->pol_saproto != IPPROTO_ESP)
			rule_error(pol, "iface needs esp");
		if (pol->pol_flags & POL_IPCOMP)
			rule_error(pol, "iface and ipcomp do not go together");
		if (pol->pol_polsrc != POLSRC_SPD)
			rule_error(pol, "iface has its own policies: no "
			    "install-policies or generate-policy");
	}
	if (pol->pol_polsrc == POLSRC_INSTALL) {
		if (TAILQ_EMPTY(&pol->pol_flows))
			rule_error(pol, "install-policies needs from/to");
		if (!(pol->pol_flags & POL_TRANSPORT) &&
		    !addr_isset(&pol->pol_peer))
			rule_error(pol, "install-policies in tunnel mode "
			    "needs a peer address");
	}
	/* Each written flow, once per protocol, in that order. */
	if (pol->pol_nprotos > 0) {
		TAILQ_INIT(&flows);
		while ((flow = TAILQ_FIRST(&pol->pol_flows)) != NULL) {
			TAILQ_REMOVE(&pol->pol_flows, flow, flow_entry);
			flow->flow_proto = pol->pol_protos[0];
			TAILQ_INSERT_TAIL(&flows, flow, flow_entry);
			for (i = 1; i < pol->pol_nprotos; i++) {
				if ((nflow = malloc(sizeof(*nflow))) == NULL)
					fatal("%s", __func__);
				*nflow = *flow;
				nflow->flow_proto = pol->pol_protos[i];
				TAILQ_INSERT_TAIL(&flows, nflow, flow_entry);
			}
		}
		TAILQ_CONCAT(&pol->pol_flows, &flows, flow_entry);
	}

	TAILQ_INSERT_TAIL(&conf->cfg_policies, pol, pol_entry);
	conf->cfg_npolicies++;
}

/* Checks that need the whole file: "set passive" may come last. */
static void
policy_check(struct iked_policy *pol)
{
	policy_defaults(conf, pol);
	if ((pol->pol_flags & POL_ACTIVE) && !(addr_isset(&pol->pol_peer) &&
	    pol->pol_peer.addr_mask == (pol->pol_peer.addr_af == AF_INET ?
	    32 : 128)))
		rule_error(pol, "an active rule needs a peer address");
	if (pol->pol_polsrc == POLSRC_GENERATE && !(parse_flags & PARSE_QUIET))
		log_warnx("%s:%d: %s \"%s\": generate-policy lets the "
		    "peer install SPD entries: dangerous", pol->pol_file,
		    pol->pol_line, policy_versionname(pol), pol->pol_name);
}

static int
parse_run(struct file *f, u_int flags, struct iked_config **cfp)
{
	struct iked_policy	*pol;
	int			 errors;

	*cfp = NULL;
	if ((conf = config_new()) == NULL) {
		popfile();
		return (-1);
	}
	parse_flags = flags;
	rule_count = 0;
	pushback_n = 0;
	expanding = 0;
	last_kind = LAST_OTHER;
	last_text[0] = '\0';
	line_ntok = 0;
	lex_eol = 0;
	topfile = file = f;

	if (yyparse() != 0)
		file->errors++;
	/* An error inside an include may leave files open. */
	while (file != NULL && file != topfile)
		popfile();
	rule_abort();
	TAILQ_FOREACH(pol, &conf->cfg_policies, pol_entry)
		policy_check(pol);
	file->errors += secrecy_check();
	errors = file->errors;
	popfile();
	topfile = NULL;
	parse_freeall();
	parse_clear_macros();

	if (errors != 0) {
		config_free(conf);
		conf = NULL;
		return (-1);
	}
	*cfp = conf;
	conf = NULL;
	return (0);
}

/* Parse a file: 0 and *cfp, or -1 after the errors were printed. */
int
parse_config(const char *filename, u_int flags, struct iked_config **cfp)
{
	struct file	*f;

	*cfp = NULL;
	if ((f = pushfile(filename, 1)) == NULL) {
		if (!(flags & PARSE_QUIET))
			log_warn("%s", filename);
		return (-1);
	}
	return (parse_run(f, flags, cfp));
}

/* Parse a configuration held in memory (tests, the fuzzer). */
int
parse_buffer(const char *name, const char *buf, size_t len, u_int flags,
    struct iked_config **cfp)
{
	struct file	*f;

	*cfp = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (-1);
	if ((f->name = strdup(name)) == NULL) {
		free(f);
		return (-1);
	}
	f->buf = buf;
	f->buflen = len;
	f->lineno = 1;
	TAILQ_INSERT_TAIL(&files, f, entry);
	nfiles++;
	return (parse_run(f, flags, cfp));
}
