/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The tokenizer of setkey's configuration language: words, "strings",
 * the punctuation ; / [ ] , and, after -P, the raw policy text up to the
 * ';' that ipsec_set_policy(3) parses.  '#' comments run to the end of
 * the line.  It reads the input as it goes, so that "setkey -c" runs each
 * command as soon as its ';' is typed.
 */

#include <ctype.h>
#include <string.h>

#include "setkey.h"

void
sk_lex_init(struct sk_lex *lx, FILE *fp)
{
	memset(lx, 0, sizeof(*lx));
	lx->lx_fp = fp;
	lx->lx_line = 1;
}

static int
sk_lex_getc(struct sk_lex *lx)
{
	int c;

	c = getc(lx->lx_fp);
	if (c == '\n')
		lx->lx_line++;
	return (c);
}

static void
sk_lex_ungetc(struct sk_lex *lx, int c)
{
	if (c == EOF)
		return;
	if (c == '\n')
		lx->lx_line--;
	ungetc(c, lx->lx_fp);
}

/* A character that ends a word. */
static int
sk_lex_delim(int c)
{
	return (c == EOF || isspace(c) || strchr(";\"/[],#", c) != NULL);
}

static int
sk_lex_add(struct sk_lex *lx, int c)
{
	if (lx->lx_len + 1 >= sizeof(lx->lx_text))
		return (-1);
	lx->lx_text[lx->lx_len++] = (char)c;
	lx->lx_text[lx->lx_len] = '\0';
	return (0);
}

static enum sk_tok
sk_lex_scan(struct sk_lex *lx)
{
	int c;

	lx->lx_len = 0;
	lx->lx_text[0] = lx->lx_val[0] = '\0';
	for (;;) {
		c = sk_lex_getc(lx);
		if (c == '#') {
			while ((c = sk_lex_getc(lx)) != EOF && c != '\n')
				;
		}
		if (c == EOF)
			return (TOK_EOF);
		if (!isspace(c))
			break;
	}

	switch (c) {
	case ';':
		sk_lex_add(lx, c);
		return (TOK_SEMI);
	case '/':
		sk_lex_add(lx, c);
		return (TOK_SLASH);
	case '[':
		sk_lex_add(lx, c);
		return (TOK_LBRACKET);
	case ']':
		sk_lex_add(lx, c);
		return (TOK_RBRACKET);
	case ',':
		sk_lex_add(lx, c);
		return (TOK_COMMA);
	case '"':
		sk_lex_add(lx, c);
		while ((c = sk_lex_getc(lx)) != EOF && c != '"')
			if (sk_lex_add(lx, c) == -1)
				return (TOK_ERROR);
		if (c == EOF)
			return (TOK_ERROR);
		/* The value is the text between the quotes. */
		memcpy(lx->lx_val, lx->lx_text + 1, lx->lx_len - 1);
		lx->lx_val[lx->lx_len - 1] = '\0';
		sk_lex_add(lx, c);
		return (TOK_STRING);
	}

	do {
		if (sk_lex_add(lx, c) == -1)
			return (TOK_ERROR);
		c = sk_lex_getc(lx);
	} while (!sk_lex_delim(c));
	sk_lex_ungetc(lx, c);
	memcpy(lx->lx_val, lx->lx_text, lx->lx_len + 1);
	return (TOK_WORD);
}

enum sk_tok
sk_lex_peek(struct sk_lex *lx)
{
	if (!lx->lx_peeked) {
		lx->lx_tok = sk_lex_scan(lx);
		lx->lx_peeked = 1;
	}
	return (lx->lx_tok);
}

/* Consume the lookahead; its text stays for error messages. */
void
sk_lex_take(struct sk_lex *lx)
{
	lx->lx_peeked = 0;
}

/* The lookahead is the word s. */
int
sk_lex_is(struct sk_lex *lx, const char *s)
{
	return (sk_lex_peek(lx) == TOK_WORD && strcmp(lx->lx_val, s) == 0);
}

/*
 * After -P: everything up to the next ';' (not consumed), comments
 * excepted, with surrounding white space trimmed.
 */
enum sk_tok
sk_lex_policy(struct sk_lex *lx)
{
	size_t n;
	int c;

	lx->lx_len = 0;
	lx->lx_text[0] = '\0';
	while ((c = sk_lex_getc(lx)) != EOF && c != ';') {
		if (c == '#') {
			while ((c = sk_lex_getc(lx)) != EOF && c != '\n')
				;
			if (c == EOF)
				break;
		}
		if (lx->lx_len == 0 && isspace(c))
			continue;
		if (sk_lex_add(lx, c) == -1) {
			lx->lx_peeked = 1;
			return (lx->lx_tok = TOK_ERROR);
		}
	}
	sk_lex_ungetc(lx, c);
	while (lx->lx_len > 0 && isspace((unsigned char)lx->lx_text[lx->lx_len - 1]))
		lx->lx_text[--lx->lx_len] = '\0';
	n = lx->lx_len;
	memcpy(lx->lx_val, lx->lx_text, n + 1);
	lx->lx_peeked = 1;
	return (lx->lx_tok = TOK_POLICY);
}
