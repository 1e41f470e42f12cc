/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer target: setkey(8)'s tokenizer and parser (sbin/setkey
 * token.c, parse.c, msg.c).  Each input is a configuration file; the
 * messages built are checked for their length and discarded.  No PF_KEY
 * socket and no name lookups; the kernel's algorithm list is fed to
 * libpfkey as a REGISTER reply would be.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpfkey.h"
#include "../../sbin/setkey/setkey.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static FILE *devnull;

static void
fuzz_send(void *arg, struct sadb_msg *msg, size_t len, int line)
{
	(void)arg;
	(void)line;
	if (PFKEY_UNUNIT64((size_t)msg->sadb_msg_len) != len)
		abort();
}

/* netipsecd's SADB_REGISTER answer, as in sys/netipsec/key.c. */
static void
fuzz_supported(void)
{
	static const struct { uint8_t id; uint16_t min, max; } aalgs[] = {
		{ 3, 160, 160 }, { 5, 256, 256 }, { 6, 384, 384 },
		{ 7, 512, 512 }, { 9, 128, 128 }, { 251, 0, 2048 },
		{ 252, 8, 640 }
	}, ealgs[] = {
		{ 11, 0, 2048 }, { 12, 128, 256 }, { 13, 160, 288 },
		{ 15, 288, 288 }, { 20, 160, 288 }
	};
	uint64_t buf[64];
	uint8_t *p = (uint8_t *)buf;
	struct sadb_msg *m = (struct sadb_msg *)(void *)p;
	struct sadb_supported *sup;
	struct sadb_alg *alg;
	size_t off = sizeof(*m), i;

	memset(buf, 0, sizeof(buf));
	m->sadb_msg_version = PF_KEY_V2;
	m->sadb_msg_type = SADB_REGISTER;
	sup = (struct sadb_supported *)(void *)(p + off);
	sup->sadb_supported_len = PFKEY_UNIT64(sizeof(*sup) +
	    sizeof(aalgs) / sizeof(aalgs[0]) * sizeof(*alg));
	sup->sadb_supported_exttype = SADB_EXT_SUPPORTED_AUTH;
	alg = (struct sadb_alg *)(void *)(sup + 1);
	for (i = 0; i < sizeof(aalgs) / sizeof(aalgs[0]); i++, alg++) {
		alg->sadb_alg_id = aalgs[i].id;
		alg->sadb_alg_minbits = aalgs[i].min;
		alg->sadb_alg_maxbits = aalgs[i].max;
	}
	off += PFKEY_UNUNIT64((size_t)sup->sadb_supported_len);
	sup = (struct sadb_supported *)(void *)(p + off);
	sup->sadb_supported_len = PFKEY_UNIT64(sizeof(*sup) +
	    sizeof(ealgs) / sizeof(ealgs[0]) * sizeof(*alg));
	sup->sadb_supported_exttype = SADB_EXT_SUPPORTED_ENCRYPT;
	alg = (struct sadb_alg *)(void *)(sup + 1);
	for (i = 0; i < sizeof(ealgs) / sizeof(ealgs[0]); i++, alg++) {
		alg->sadb_alg_id = ealgs[i].id;
		alg->sadb_alg_minbits = ealgs[i].min;
		alg->sadb_alg_maxbits = ealgs[i].max;
	}
	off += PFKEY_UNUNIT64((size_t)sup->sadb_supported_len);
	m->sadb_msg_len = PFKEY_UNIT64(off);
	if (pfkey_set_supported(m, (int)off) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sk_parse ps;
	FILE *fp;

	if (devnull == NULL) {
		fuzz_supported();
		devnull = fopen("/dev/null", "w");
	}
	if (size == 0 || (fp = fmemopen((void *)(uintptr_t)data, size,
	    "r")) == NULL)
		return (0);
	memset(&ps, 0, sizeof(ps));
	ps.ps_send = fuzz_send;
	ps.ps_numeric = 1;
	ps.ps_err = devnull;
	(void)sk_parse(fp, &ps);
	fclose(fp);
	return (0);
}
