/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer target for the policy-string parser and printer of
 * lib/libpfkey (ipsec_set_policy(3), ipsec_dump_policy(3)).
 *
 * Any input: parsing must fail cleanly or give a buffer whose dump parses
 * back to the same bytes and dumps to the same text.  The input is also
 * handed to ipsec_dump_policy() as a raw policy buffer (its length field
 * clamped to the bytes there), which must never read past it.
 *
 * Build (from the top of the tree):
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *	    -Isys -Ilib/libpfkey -D_DEFAULT_SOURCE \
 *	    regress/fuzz/fuzz_policy.c lib/libpfkey/ipsec_policy.c \
 *	    lib/libpfkey/ipsec_strerror.c lib/libpfkey/pfkey.c \
 *	    lib/libpfkey/pfkey_unix.c -o regress/fuzz/fuzz_policy
 * Run with the seeds, new inputs going to a scratch corpus:
 *	mkdir -p regress/fuzz/corpus-policy
 *	regress/fuzz/fuzz_policy -max_total_time=60 \
 *	    regress/fuzz/corpus-policy regress/fuzz/corpus/policy
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpfkey.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Policy strings are short; longer inputs only slow the search. */
#define	FUZZ_MAX	4096

static void
fuzz_fail(const char *what, const char *in, const char *detail)
{

	fprintf(stderr, "fuzz_policy: %s\ninput: \"%s\"\n%s\n", what, in,
	    detail != NULL ? detail : "");
	abort();
}

/*
 * The dump, made parseable again: a kernel-style "unique#N" is what the
 * grammar writes "unique:N".
 */
static char *
fuzz_reinput(const char *dump)
{
	char *s, *p;

	if ((s = strdup(dump)) == NULL)
		abort();
	for (p = s; (p = strchr(p, '#')) != NULL; p++)
		*p = ':';
	return (s);
}

static void
fuzz_roundtrip(const char *in, size_t len)
{
	char *b1, *b2, *d1, *d2, *re;
	int l1, l2;

	b1 = ipsec_set_policy(in, (int)len);
	if (b1 == NULL) {
		if (__ipsec_errcode == EIPSEC_NO_ERROR)
			fuzz_fail("failed without an error code", in, NULL);
		return;
	}
	l1 = ipsec_get_policylen(b1);
	if (l1 < (int)sizeof(struct sadb_x_policy) || (l1 & 7) != 0)
		fuzz_fail("bad policy length", in, NULL);

	/* Both delimiters setkey uses must give reparseable text. */
	d1 = ipsec_dump_policy(b1, "\n\t");
	if (d1 == NULL)
		fuzz_fail("parsed policy does not dump", in, ipsec_strerror());
	re = fuzz_reinput(d1);
	b2 = ipsec_set_policy(re, (int)strlen(re));
	if (b2 == NULL)
		fuzz_fail("dump does not parse", in, d1);
	l2 = ipsec_get_policylen(b2);
	if (l1 != l2 || memcmp(b1, b2, (size_t)l1) != 0)
		fuzz_fail("dump parses to other bytes", in, d1);
	d2 = ipsec_dump_policy(b2, "\n\t");
	if (d2 == NULL || strcmp(d1, d2) != 0)
		fuzz_fail("dump of the reparse differs", in, d1);
	free(d2);
	free(d1);
	d1 = ipsec_dump_policy(b1, NULL);
	if (d1 == NULL)
		fuzz_fail("no dump with the default delimiter", in, NULL);

	free(re);
	free(d1);
	free(b2);
	free(b1);
}

/* The input as a policy buffer, in an exactly sized allocation. */
static void
fuzz_rawdump(const uint8_t *data, size_t size)
{
	struct sadb_x_policy xpl;
	char *buf, *d;

	if (size < sizeof(xpl))
		return;
	size &= ~(size_t)7;
	if ((buf = malloc(size)) == NULL)
		abort();
	memcpy(buf, data, size);
	memcpy(&xpl, buf, sizeof(xpl));
	if ((size_t)PFKEY_EXTLEN(&xpl) > size) {
		xpl.sadb_x_policy_len = (uint16_t)PFKEY_UNIT64(size);
		memcpy(buf, &xpl, sizeof(xpl));
	}
	d = ipsec_dump_policy(buf, " ");
	free(d);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in;

	if (size > FUZZ_MAX)
		return (0);
	/* NUL-terminated, so that failures print; the length bounds it. */
	if ((in = malloc(size + 1)) == NULL)
		abort();
	memcpy(in, data, size);
	in[size] = '\0';
	fuzz_roundtrip(in, size);
	free(in);

	fuzz_rawdump(data, size);
	return (0);
}
