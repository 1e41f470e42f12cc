/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * setkey(8): FreeBSD's grammar, options and output over libpfkey.
 */

#ifndef _SETKEY_H_
#define _SETKEY_H_

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sadb_msg;

/* token.c: the tokenizer. */
enum sk_tok {
	TOK_EOF,
	TOK_WORD,	/* addresses, numbers, keywords, -options */
	TOK_STRING,	/* "quoted", text without the quotes */
	TOK_SEMI,
	TOK_SLASH,
	TOK_LBRACKET,
	TOK_RBRACKET,
	TOK_COMMA,
	TOK_POLICY,	/* the raw text after -P, up to ';' */
	TOK_ERROR	/* unterminated string, text too long */
};

#define	SK_TEXTMAX	8192

struct sk_lex {
	FILE		*lx_fp;
	int		 lx_line;	/* where the input is */
	int		 lx_peeked;	/* lx_tok is a lookahead */
	enum sk_tok	 lx_tok;
	size_t		 lx_len;
	char		 lx_text[SK_TEXTMAX];	/* the token as written */
	char		 lx_val[SK_TEXTMAX];	/* its value */
};

void		sk_lex_init(struct sk_lex *, FILE *);
enum sk_tok	sk_lex_peek(struct sk_lex *);
void		sk_lex_take(struct sk_lex *);
enum sk_tok	sk_lex_policy(struct sk_lex *);
int		sk_lex_is(struct sk_lex *, const char *);

/* parse.c: the grammar; each command becomes PF_KEY messages. */
struct sk_parse {
	/* Called for each message built; the line is the command's. */
	void	(*ps_send)(void *, struct sadb_msg *, size_t, int);
	void	*ps_arg;
	int	 ps_numeric;	/* never resolve names (as -n everywhere) */
	int	 ps_line;	/* where parsing stopped */
	FILE	*ps_err;	/* the error messages; NULL: stderr */
};

int	sk_parse(FILE *, struct sk_parse *);

/* msg.c: building PF_KEY messages. */
#define	SK_KEYMAX	1024	/* bytes of a key */

struct sk_buf {
	uint8_t		*b_buf;
	size_t		 b_len;
	size_t		 b_cap;
};

/* One add, get, delete or deleteall, as parsed. */
struct sk_sa {
	uint8_t		 sa_type;	/* SADB_ADD, ... */
	uint8_t		 sa_satype;
	int		 sa_nospi;	/* deleteall */
	uint32_t	 sa_spi;
	uint32_t	 sa_flags;	/* SADB_X_EXT_*, SADB_X_SAFLAGS_ESN */
	uint8_t		 sa_mode;
	uint32_t	 sa_reqid;
	uint32_t	 sa_replay;	/* octets */
	uint8_t		 sa_ealg;	/* or the compression algorithm */
	uint8_t		 sa_aalg;
	size_t		 sa_ekeylen;
	size_t		 sa_akeylen;
	uint8_t		 sa_ekey[SK_KEYMAX];
	uint8_t		 sa_akey[SK_KEYMAX];
	int		 sa_has_ekey;
	int		 sa_has_akey;
	uint64_t	 sa_lt_hard, sa_lt_soft;	/* seconds */
	uint64_t	 sa_lb_hard, sa_lb_soft;	/* bytes */
	uint8_t		 sa_natt_type;		/* 0: no NAT-T */
	uint16_t	 sa_natt_sport, sa_natt_dport;
	struct sockaddr_storage sa_natt_oai, sa_natt_oar;
	int		 sa_natt_frag;		/* -1: none */
};

int	sk_buf_init(struct sk_buf *, uint8_t type, uint8_t satype);
void	sk_buf_free(struct sk_buf *);
int	sk_buf_ext(struct sk_buf *, const void *, size_t);
int	sk_buf_addr(struct sk_buf *, uint16_t exttype,
	    const struct sockaddr *, unsigned int prefixlen, unsigned int proto);
struct sadb_msg *sk_buf_finish(struct sk_buf *);
int	sk_msg_sa(struct sk_buf *, const struct sk_sa *,
	    const struct sockaddr *, const struct sockaddr *);
int	sk_msg_sp(struct sk_buf *, uint8_t type, const struct sockaddr *,
	    unsigned int, const struct sockaddr *, unsigned int,
	    unsigned int, const char *, size_t);
unsigned int sk_plen(const struct sockaddr *);

#endif /* !_SETKEY_H_ */
