/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * PF_KEY Key Management API, version 2 (RFC 2367), with the KAME and
 * FreeBSD extensions, using FreeBSD's numbering on every host so that
 * sources and binaries port.
 *
 * Addresses inside messages are the host's own struct sockaddr: with
 * sa_len on BSD, without it on Linux (the length then follows from
 * sa_family).  Every other number and rule is FreeBSD's.
 */

#ifndef _NET_PFKEYV2_H_
#define _NET_PFKEYV2_H_

/*
 * The fixed-width types: a kernel's <sys/types.h> (FreeBSD's, or
 * ukern.h's on Linux), included first by every kernel source as style(9)
 * has it; <stdint.h> in programs.
 */
#ifdef _KERNEL
#include <sys/types.h>
#else
#include <stdint.h>
#endif

/*
 * This header defines only what it needs; programs include <sys/socket.h>
 * and <netinet/in.h> themselves for struct sockaddr and friends.
 */

#define	PF_KEY_V2		2
#define	PFKEYV2_REVISION	199806L

/* Message types (sadb_msg_type). */
#define	SADB_RESERVED		0
#define	SADB_GETSPI		1
#define	SADB_UPDATE		2
#define	SADB_ADD		3
#define	SADB_DELETE		4
#define	SADB_GET		5
#define	SADB_ACQUIRE		6
#define	SADB_REGISTER		7
#define	SADB_EXPIRE		8
#define	SADB_FLUSH		9
#define	SADB_DUMP		10
#define	SADB_X_PROMISC		11
#define	SADB_X_PCHANGE		12
#define	SADB_X_SPDUPDATE	13
#define	SADB_X_SPDADD		14
#define	SADB_X_SPDDELETE	15	/* by policy index */
#define	SADB_X_SPDGET		16
#define	SADB_X_SPDACQUIRE	17
#define	SADB_X_SPDDUMP		18
#define	SADB_X_SPDFLUSH		19
#define	SADB_X_SPDSETIDX	20
#define	SADB_X_SPDEXPIRE	21
#define	SADB_X_SPDDELETE2	22	/* by policy id */
#define	SADB_MAX		22

struct sadb_msg {
	uint8_t		sadb_msg_version;
	uint8_t		sadb_msg_type;
	uint8_t		sadb_msg_errno;
	uint8_t		sadb_msg_satype;
	uint16_t	sadb_msg_len;		/* in 64-bit words */
	uint16_t	sadb_msg_reserved;
	uint32_t	sadb_msg_seq;
	uint32_t	sadb_msg_pid;
};

struct sadb_ext {
	uint16_t	sadb_ext_len;		/* in 64-bit words */
	uint16_t	sadb_ext_type;
};

struct sadb_sa {
	uint16_t	sadb_sa_len;
	uint16_t	sadb_sa_exttype;
	uint32_t	sadb_sa_spi;		/* network byte order */
	uint8_t		sadb_sa_replay;		/* window in bytes (KAME) */
	uint8_t		sadb_sa_state;
	uint8_t		sadb_sa_auth;
	uint8_t		sadb_sa_encrypt;
	uint32_t	sadb_sa_flags;
};

struct sadb_lifetime {
	uint16_t	sadb_lifetime_len;
	uint16_t	sadb_lifetime_exttype;
	uint32_t	sadb_lifetime_allocations;
	uint64_t	sadb_lifetime_bytes;
	uint64_t	sadb_lifetime_addtime;
	uint64_t	sadb_lifetime_usetime;
};

struct sadb_address {
	uint16_t	sadb_address_len;
	uint16_t	sadb_address_exttype;
	uint8_t		sadb_address_proto;
	uint8_t		sadb_address_prefixlen;
	uint16_t	sadb_address_reserved;
};

struct sadb_key {
	uint16_t	sadb_key_len;
	uint16_t	sadb_key_exttype;
	uint16_t	sadb_key_bits;
	uint16_t	sadb_key_reserved;
};

struct sadb_ident {
	uint16_t	sadb_ident_len;
	uint16_t	sadb_ident_exttype;
	uint16_t	sadb_ident_type;
	uint16_t	sadb_ident_reserved;
	uint64_t	sadb_ident_id;
};

struct sadb_sens {
	uint16_t	sadb_sens_len;
	uint16_t	sadb_sens_exttype;
	uint32_t	sadb_sens_dpd;
	uint8_t		sadb_sens_sens_level;
	uint8_t		sadb_sens_sens_len;
	uint8_t		sadb_sens_integ_level;
	uint8_t		sadb_sens_integ_len;
	uint32_t	sadb_sens_reserved;
};

struct sadb_prop {
	uint16_t	sadb_prop_len;
	uint16_t	sadb_prop_exttype;
	uint8_t		sadb_prop_replay;
	uint8_t		sadb_prop_reserved[3];
};

struct sadb_comb {
	uint8_t		sadb_comb_auth;
	uint8_t		sadb_comb_encrypt;
	uint16_t	sadb_comb_flags;
	uint16_t	sadb_comb_auth_minbits;
	uint16_t	sadb_comb_auth_maxbits;
	uint16_t	sadb_comb_encrypt_minbits;
	uint16_t	sadb_comb_encrypt_maxbits;
	uint32_t	sadb_comb_reserved;
	uint32_t	sadb_comb_soft_allocations;
	uint32_t	sadb_comb_hard_allocations;
	uint64_t	sadb_comb_soft_bytes;
	uint64_t	sadb_comb_hard_bytes;
	uint64_t	sadb_comb_soft_addtime;
	uint64_t	sadb_comb_hard_addtime;
	uint64_t	sadb_comb_soft_usetime;
	uint64_t	sadb_comb_hard_usetime;
};

struct sadb_supported {
	uint16_t	sadb_supported_len;
	uint16_t	sadb_supported_exttype;
	uint32_t	sadb_supported_reserved;
};

struct sadb_alg {
	uint8_t		sadb_alg_id;
	uint8_t		sadb_alg_ivlen;
	uint16_t	sadb_alg_minbits;
	uint16_t	sadb_alg_maxbits;
	uint16_t	sadb_alg_reserved;
};

struct sadb_spirange {
	uint16_t	sadb_spirange_len;
	uint16_t	sadb_spirange_exttype;
	uint32_t	sadb_spirange_min;
	uint32_t	sadb_spirange_max;
	uint32_t	sadb_spirange_reserved;
};

struct sadb_x_kmprivate {
	uint16_t	sadb_x_kmprivate_len;
	uint16_t	sadb_x_kmprivate_exttype;
	uint32_t	sadb_x_kmprivate_reserved;
};

/*
 * KAME/FreeBSD: the second SA extension, carrying the mode, the low 32 bits
 * of the replay counter (output only) and the request id.
 */
struct sadb_x_sa2 {
	uint16_t	sadb_x_sa2_len;
	uint16_t	sadb_x_sa2_exttype;
	uint8_t		sadb_x_sa2_mode;
	uint8_t		sadb_x_sa2_reserved1;
	uint16_t	sadb_x_sa2_reserved2;
	uint32_t	sadb_x_sa2_sequence;
	uint32_t	sadb_x_sa2_reqid;
};

/* KAME/FreeBSD: a security policy, followed by its requests. */
struct sadb_x_policy {
	uint16_t	sadb_x_policy_len;
	uint16_t	sadb_x_policy_exttype;
	uint16_t	sadb_x_policy_type;	/* IPSEC_POLICY_* */
	uint8_t		sadb_x_policy_dir;	/* IPSEC_DIR_* */
	uint8_t		sadb_x_policy_scope;	/* IPSEC_POLICYSCOPE_* */
	uint32_t	sadb_x_policy_id;
	uint32_t	sadb_x_policy_priority;
#define	sadb_x_policy_ifindex	sadb_x_policy_priority
};

/*
 * One request of an IPSEC policy.  sadb_x_ipsecrequest_len is in bytes and
 * covers the tunnel endpoints (source then destination sockaddr) that
 * follow the structure in tunnel mode.
 */
struct sadb_x_ipsecrequest {
	uint16_t	sadb_x_ipsecrequest_len;
	uint16_t	sadb_x_ipsecrequest_proto;
	uint8_t		sadb_x_ipsecrequest_mode;
	uint8_t		sadb_x_ipsecrequest_level;
	uint16_t	sadb_x_ipsecrequest_reqid;
};

/* NAT traversal (RFC 3948) extensions. */
struct sadb_x_nat_t_type {
	uint16_t	sadb_x_nat_t_type_len;
	uint16_t	sadb_x_nat_t_type_exttype;
	uint8_t		sadb_x_nat_t_type_type;
	uint8_t		sadb_x_nat_t_type_reserved[3];
};

struct sadb_x_nat_t_port {
	uint16_t	sadb_x_nat_t_port_len;
	uint16_t	sadb_x_nat_t_port_exttype;
	uint16_t	sadb_x_nat_t_port_port;	/* network byte order */
	uint16_t	sadb_x_nat_t_port_reserved;
};

struct sadb_x_nat_t_frag {
	uint16_t	sadb_x_nat_t_frag_len;
	uint16_t	sadb_x_nat_t_frag_exttype;
	uint16_t	sadb_x_nat_t_frag_fraglen;
	uint16_t	sadb_x_nat_t_frag_reserved;
};

/* FreeBSD: an anti-replay window wider than sadb_sa_replay can say. */
struct sadb_x_sa_replay {
	uint16_t	sadb_x_sa_replay_len;
	uint16_t	sadb_x_sa_replay_exttype;
	uint32_t	sadb_x_sa_replay_replay;	/* in packets */
};

/* FreeBSD 15: bind an SA or SP to a NIC for offload. */
struct sadb_x_if_hw_offl {
	uint16_t	sadb_x_if_hw_offl_len;
	uint16_t	sadb_x_if_hw_offl_exttype;
	uint32_t	sadb_x_if_hw_offl_flags;
	char		sadb_x_if_hw_offl_if[32];
};

/* Extension types (sadb_ext_type). */
#define	SADB_EXT_RESERVED		0
#define	SADB_EXT_SA			1
#define	SADB_EXT_LIFETIME_CURRENT	2
#define	SADB_EXT_LIFETIME_HARD		3
#define	SADB_EXT_LIFETIME_SOFT		4
#define	SADB_EXT_ADDRESS_SRC		5
#define	SADB_EXT_ADDRESS_DST		6
#define	SADB_EXT_ADDRESS_PROXY		7
#define	SADB_EXT_KEY_AUTH		8
#define	SADB_EXT_KEY_ENCRYPT		9
#define	SADB_EXT_IDENTITY_SRC		10
#define	SADB_EXT_IDENTITY_DST		11
#define	SADB_EXT_SENSITIVITY		12
#define	SADB_EXT_PROPOSAL		13
#define	SADB_EXT_SUPPORTED_AUTH		14
#define	SADB_EXT_SUPPORTED_ENCRYPT	15
#define	SADB_EXT_SPIRANGE		16
#define	SADB_X_EXT_KMPRIVATE		17
#define	SADB_X_EXT_POLICY		18
#define	SADB_X_EXT_SA2			19
#define	SADB_X_EXT_NAT_T_TYPE		20
#define	SADB_X_EXT_NAT_T_SPORT		21
#define	SADB_X_EXT_NAT_T_DPORT		22
#define	SADB_X_EXT_NAT_T_OA		23	/* deprecated */
#define	SADB_X_EXT_NAT_T_OAI		23	/* peer's NAT_OA for src of SA */
#define	SADB_X_EXT_NAT_T_OAR		24	/* peer's NAT_OA for dst of SA */
#define	SADB_X_EXT_NAT_T_FRAG		25	/* manual MTU override */
#define	SADB_X_EXT_SA_REPLAY		26	/* replay window override */
#define	SADB_X_EXT_NEW_ADDRESS_SRC	27
#define	SADB_X_EXT_NEW_ADDRESS_DST	28
#define	SADB_X_EXT_LFT_CUR_SW_OFFL	29
#define	SADB_X_EXT_LFT_CUR_HW_OFFL	30
#define	SADB_X_EXT_IF_HW_OFFL		31
#define	SADB_EXT_MAX			31

/* SA types (sadb_msg_satype). */
#define	SADB_SATYPE_UNSPEC		0
#define	SADB_SATYPE_AH			2
#define	SADB_SATYPE_ESP			3
#define	SADB_SATYPE_RSVP		5
#define	SADB_SATYPE_OSPFV2		6
#define	SADB_SATYPE_RIPV2		7
#define	SADB_SATYPE_MIP			8
#define	SADB_X_SATYPE_IPCOMP		9
/*	10: obsolete, do not reuse */
#define	SADB_X_SATYPE_TCPSIGNATURE	11
#define	SADB_SATYPE_MAX			12

/* SA states (sadb_sa_state). */
#define	SADB_SASTATE_LARVAL		0
#define	SADB_SASTATE_MATURE		1
#define	SADB_SASTATE_DYING		2
#define	SADB_SASTATE_DEAD		3
#define	SADB_SASTATE_MAX		3

#define	SADB_SAFLAGS_PFS		1

/* Authentication algorithms (sadb_sa_auth, sadb_alg_id). */
#define	SADB_AALG_NONE			0
#define	SADB_AALG_MD5HMAC		2
#define	SADB_AALG_SHA1HMAC		3
#define	SADB_X_AALG_SHA2_256		5
#define	SADB_X_AALG_SHA2_384		6
#define	SADB_X_AALG_SHA2_512		7
#define	SADB_X_AALG_RIPEMD160HMAC	8
#define	SADB_X_AALG_AES_XCBC_MAC	9	/* RFC 3566 */
#define	SADB_X_AALG_AES128GMAC		11	/* RFC 4543 + errata */
#define	SADB_X_AALG_AES192GMAC		12
#define	SADB_X_AALG_AES256GMAC		13
#define	SADB_X_AALG_CHACHA20POLY1305	14
#define	SADB_AALG_MAX			252
/* Private allocations: should be 249 to 255. */
#define	SADB_X_AALG_MD5			249	/* Keyed MD5 */
#define	SADB_X_AALG_SHA			250	/* Keyed SHA */
#define	SADB_X_AALG_NULL		251	/* null authentication */
#define	SADB_X_AALG_TCP_MD5		252	/* Keyed TCP-MD5 (RFC 2385) */

/* Encryption algorithms (sadb_sa_encrypt, sadb_alg_id). */
#define	SADB_EALG_NONE			0
#define	SADB_EALG_DESCBC		2
#define	SADB_EALG_3DESCBC		3
#define	SADB_X_EALG_CAST128CBC		6
#define	SADB_X_EALG_BLOWFISHCBC		7
#define	SADB_EALG_NULL			11
#define	SADB_X_EALG_RIJNDAELCBC		12
#define	SADB_X_EALG_AES			12
#define	SADB_X_EALG_AESCBC		12
#define	SADB_X_EALG_AESCTR		13
#define	SADB_X_EALG_CHACHA20POLY1305	15
#define	SADB_X_EALG_AESGCM8		18	/* RFC 4106 */
#define	SADB_X_EALG_AESGCM12		19
#define	SADB_X_EALG_AESGCM16		20
#define	SADB_X_EALG_CAMELLIACBC		22
#define	SADB_X_EALG_AESGMAC		23	/* RFC 4543 + errata */
#define	SADB_EALG_MAX			23

/* Compression algorithms (IPComp, in sadb_sa_encrypt). */
#define	SADB_X_CALG_NONE		0
#define	SADB_X_CALG_OUI			1
#define	SADB_X_CALG_DEFLATE		2
#define	SADB_X_CALG_LZS			3
#define	SADB_X_CALG_MAX			4

/* Identity types (sadb_ident_type). */
#define	SADB_IDENTTYPE_RESERVED		0
#define	SADB_IDENTTYPE_PREFIX		1
#define	SADB_IDENTTYPE_FQDN		2
#define	SADB_IDENTTYPE_USERFQDN		3
#define	SADB_X_IDENTTYPE_ADDR		4
#define	SADB_IDENTTYPE_MAX		4

/* KAME SA flags (sadb_sa_flags). */
#define	SADB_X_EXT_NONE		0x0000	/* i.e. new format */
#define	SADB_X_EXT_OLD		0x0001	/* old format */
#define	SADB_X_EXT_IV4B		0x0010	/* IV length of 4 bytes in use */
#define	SADB_X_EXT_DERIV	0x0020	/* DES derived */
#define	SADB_X_EXT_CYCSEQ	0x0040	/* allow cyclic sequence numbers */
/* three of the following four flags are exclusive */
#define	SADB_X_EXT_PSEQ		0x0000	/* sequential padding for ESP */
#define	SADB_X_EXT_PRAND	0x0100	/* random padding for ESP */
#define	SADB_X_EXT_PZERO	0x0200	/* zero padding for ESP */
#define	SADB_X_EXT_PMASK	0x0300	/* mask for padding flag */
#define	SADB_X_EXT_RAWCPI	0x0080	/* use well known CPI (IPComp) */
#define	SADB_X_SAFLAGS_ESN	0x0400	/* extended sequence numbers */
#define	SADB_KEY_FLAGS_MAX	0x0fff

/* SPI size for PF_KEYv2 */
#define	PFKEY_SPI_SIZE		sizeof(uint32_t)

/* Identifiers of lifetime fields, for pfkey_set_softrate() and friends. */
#define	SADB_X_LIFETIME_ALLOCATIONS	0
#define	SADB_X_LIFETIME_BYTES		1
#define	SADB_X_LIFETIME_ADDTIME		2
#define	SADB_X_LIFETIME_USETIME		3

/* NAT-T encapsulation types (sadb_x_nat_t_type_type). */
#define	UDP_ENCAP_ESPINUDP_NON_IKE	1	/* draft-ietf-ipsec-nat-t-ike-00/01 */
#define	UDP_ENCAP_ESPINUDP		2	/* RFC 3948 */

/* Utilities. */
#define	PFKEY_ALIGN8(a)		(1 + (((a) - 1) | (8 - 1)))
#define	PFKEY_EXTLEN(msg) \
	PFKEY_UNUNIT64(((const struct sadb_ext *)(msg))->sadb_ext_len)
#define	PFKEY_ADDR_PREFIX(ext) \
	(((const struct sadb_address *)(ext))->sadb_address_prefixlen)
#define	PFKEY_ADDR_PROTO(ext) \
	(((const struct sadb_address *)(ext))->sadb_address_proto)
#define	PFKEY_ADDR_SADDR(ext) \
	((const struct sockaddr *)(const void *)((const char *)(ext) + \
	    sizeof(struct sadb_address)))

/* in 64-bit words */
#define	PFKEY_UNIT64(a)		((a) >> 3)
#define	PFKEY_UNUNIT64(a)	((a) << 3)

#endif /* !_NET_PFKEYV2_H_ */
