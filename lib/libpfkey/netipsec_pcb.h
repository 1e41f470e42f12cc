/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Sockets' policies on hosts where the IPsec layer runs in netipsecd
 * (netipsecd(8), SOCKET POLICIES): how libpfkey names a local socket to
 * it.  A client connects to netipsecd's policy socket (AF_UNIX
 * SOCK_SEQPACKET: the abstract "\0netipsec.pcb", or $PFKEY_SOCKET with
 * ".pcb" appended), sends one request with the socket itself attached
 * (SCM_RIGHTS: netipsecd reads its protocol, bound address and port and
 * its SO_COOKIE from it, and closes its copy at once) and reads one
 * reply.  Both are this header, in host byte order, followed by
 * pm_len bytes: the policy (struct sadb_x_policy and its requests, as
 * ipsec_set_policy(3) makes it) of a SET request or of a GET reply.
 */

#ifndef _NETIPSEC_PCB_H_
#define _NETIPSEC_PCB_H_

#include <stdint.h>

#define	NETIPSEC_PCB_ABSTRACT	"netipsec.pcb"
#define	NETIPSEC_PCB_SUFFIX	".pcb"

#define	NETIPSEC_PCB_VERSION	1

#define	NETIPSEC_PCB_SET	1	/* set one direction's policy */
#define	NETIPSEC_PCB_GET	2	/* the policy of direction pm_dir */
#define	NETIPSEC_PCB_CLOSE	3	/* the socket is about to close */

struct netipsec_pcbmsg {
	uint16_t	pm_version;	/* NETIPSEC_PCB_VERSION */
	uint16_t	pm_op;		/* NETIPSEC_PCB_* */
	int32_t		pm_errno;	/* reply: 0 or an errno */
	uint32_t	pm_dir;		/* GET: IPSEC_DIR_INBOUND, _OUTBOUND */
	uint32_t	pm_len;		/* bytes that follow */
};

/* The largest policy: sadb_x_policy_len is 16 bits of 64-bit words. */
#define	NETIPSEC_PCB_MAX	(0xffff * 8)

#endif /* !_NETIPSEC_PCB_H_ */
