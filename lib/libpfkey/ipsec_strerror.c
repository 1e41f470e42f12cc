/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * __ipsec_errcode and its messages, worded as KAME's (scripts match on
 * them, typo included).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libpfkey.h"
#include "pfkey_var.h"

int __ipsec_errcode;

static const char *ipsec_errlist[] = {
	"Success",					/* NO_ERROR */
	"Not supported",				/* NOT_SUPPORTED */
	"Invalid argument",				/* INVAL_ARGUMENT */
	"Invalid sadb message",				/* INVAL_SADBMSG */
	"Invalid version",				/* INVAL_VERSION */
	"Invalid security policy",			/* INVAL_POLICY */
	"Invalid address specification",		/* INVAL_ADDRESS */
	"Invalid ipsec protocol",			/* INVAL_PROTO */
	"Invalid ipsec mode",				/* INVAL_MODE */
	"Invalid ipsec level",				/* INVAL_LEVEL */
	"Invalid SA type",				/* INVAL_SATYPE */
	"Invalid message type",				/* INVAL_MSGTYPE */
	"Invalid extension type",			/* INVAL_EXTTYPE */
	"Invalid algorithm type",			/* INVAL_ALGS */
	"Invalid key length",				/* INVAL_KEYLEN */
	"Invalid address family",			/* INVAL_FAMILY */
	"Invalid prefix length",			/* INVAL_PREFIXLEN */
	"Invalid direciton",				/* INVAL_DIR */
	"SPI range violation",				/* INVAL_SPI */
	"No protocol specified",			/* NO_PROTO */
	"No algorithm specified",			/* NO_ALGS */
	"No buffers available",				/* NO_BUFS */
	"Must get supported algorithms list first",	/* DO_GET_SUPP_LIST */
	"Protocol mismatch",				/* PROTO_MISMATCH */
	"Family mismatch",				/* FAMILY_MISMATCH */
	"Too few arguments",				/* FEW_ARGUMENTS */
	NULL,						/* SYSTEM_ERROR */
	"Unknown error",				/* MAX */
};

/* KAME kept a pointer to the caller's string; a copy outlives it. */
static char ipsec_syserr[128] = "System error";

const char *
ipsec_strerror(void)
{

	if (__ipsec_errcode < 0 || __ipsec_errcode > EIPSEC_MAX)
		__ipsec_errcode = EIPSEC_MAX;
	if (__ipsec_errcode == EIPSEC_SYSTEM_ERROR)
		return (ipsec_syserr);
	return (ipsec_errlist[__ipsec_errcode]);
}

void
__ipsec_set_strerror(const char *str)
{

	__ipsec_errcode = EIPSEC_SYSTEM_ERROR;
	if (str == NULL)
		str = "System error";
	snprintf(ipsec_syserr, sizeof(ipsec_syserr), "%s", str);
}

/* A system error from errno; errno itself is left as it was. */
void
pfkey_set_syserr(int error)
{
	int saved;

	saved = errno;
	__ipsec_set_strerror(strerror(error));
	errno = saved;
}
