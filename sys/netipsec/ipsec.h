/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IPsec controls and the policy-string API (ipsec_set_policy(3)), with
 * FreeBSD's values.  The kernel's security policy structures follow under
 * _KERNEL, as in FreeBSD.
 */

#ifndef _NETIPSEC_IPSEC_H_
#define _NETIPSEC_IPSEC_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#ifndef _KERNEL
#include <stdint.h>
#endif
#include <net/pfkeyv2.h>

#define	IPSEC_PORT_ANY		0
#define	IPSEC_ULPROTO_ANY	255
#define	IPSEC_PROTO_ANY		255

/* Mode of security protocol (sadb_x_sa2_mode, sadb_x_ipsecrequest_mode). */
#define	IPSEC_MODE_ANY		0	/* i.e. wildcard */
#define	IPSEC_MODE_TRANSPORT	1
#define	IPSEC_MODE_TUNNEL	2
#define	IPSEC_MODE_TCPMD5	3	/* TCP MD5 mode */

/* Direction of a security policy (sadb_x_policy_dir). */
#define	IPSEC_DIR_ANY		0
#define	IPSEC_DIR_INBOUND	1
#define	IPSEC_DIR_OUTBOUND	2
#define	IPSEC_DIR_MAX		3
#define	IPSEC_DIR_INVALID	4

/* Policy level of a security policy (sadb_x_policy_type). */
#define	IPSEC_POLICY_DISCARD	0	/* discarding packet */
#define	IPSEC_POLICY_NONE	1	/* through IPsec engine */
#define	IPSEC_POLICY_IPSEC	2	/* do IPsec */
#define	IPSEC_POLICY_ENTRUST	3	/* consulting SPD if present */
#define	IPSEC_POLICY_BYPASS	4	/* only for privileged socket */

/* Scope of a security policy (sadb_x_policy_scope). */
#define	IPSEC_POLICYSCOPE_ANY		0x00	/* unspecified */
#define	IPSEC_POLICYSCOPE_GLOBAL	0x01	/* global scope */
#define	IPSEC_POLICYSCOPE_IFNET		0x02	/* if_ipsec(4) scope */
#define	IPSEC_POLICYSCOPE_PCB		0x04	/* PCB scope */

/* Security protocol level (sadb_x_ipsecrequest_level). */
#define	IPSEC_LEVEL_DEFAULT	0	/* reference to system default */
#define	IPSEC_LEVEL_USE		1	/* use SA if present */
#define	IPSEC_LEVEL_REQUIRE	2	/* require SA */
#define	IPSEC_LEVEL_UNIQUE	3	/* unique SA */

#define	IPSEC_MANUAL_REQID_MAX	0x3fff	/* reqids above are kernel's */
#define	IPSEC_REPLAYWSIZE	32

#ifndef _KERNEL
__BEGIN_DECLS
char	*ipsec_set_policy(const char *, int);
int	 ipsec_get_policylen(const char *);
char	*ipsec_dump_policy(const char *, const char *);
const char *ipsec_strerror(void);
__END_DECLS
#endif /* !_KERNEL */

#endif /* !_NETIPSEC_IPSEC_H_ */
