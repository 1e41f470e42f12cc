/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer target for iked.conf(5): sbin/iked/parse.y from memory
 * (parse_buffer(): no include, no DNS, no messages), then the printer.
 * Any input: the parse fails cleanly or gives a configuration that
 * prints, and whose printed form parses again.
 *
 * Built and run by regress/fuzz/run.sh, seeds in corpus/ikedconf (the
 * files of share/examples/iked).
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iked.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAX	16384
#define FUZZ_FLAGS	(PARSE_NOINCLUDE | PARSE_NORESOLVE | PARSE_QUIET)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iked_config	*cf, *cf2;
	char			*out = NULL;
	size_t			 outlen = 0;
	FILE			*fp;

	if (size > FUZZ_MAX)
		return (0);
	if (parse_buffer("fuzz", (const char *)data, size, FUZZ_FLAGS,
	    &cf) == -1)
		return (0);
	if ((fp = open_memstream(&out, &outlen)) == NULL)
		abort();
	print_config(fp, cf, 2);
	fclose(fp);
	config_free(cf);

	/* The canonical form is a configuration too. */
	if (parse_buffer("fuzz-printed", out, outlen, FUZZ_FLAGS,
	    &cf2) == -1) {
		fprintf(stderr, "printed form does not parse:\n%s", out);
		abort();
	}
	config_free(cf2);
	free(out);
	return (0);
}
