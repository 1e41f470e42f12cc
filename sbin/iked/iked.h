/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * iked(8): the IKEv1 and IKEv2 daemon.  The one private header: the
 * configuration structs that parse.y builds and the prototypes, grouped
 * by the file that defines them.
 */

#ifndef IKED_H
#define IKED_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/imsg.h"
#include "ca.h"

#ifndef __dead
#define __dead	__attribute__((__noreturn__))
#endif

#define IKED_CONFIG		"/etc/iked.conf"
#define IKED_SOCKET		"/var/run/iked.sock"	/* ikectl(8) */
#define IKED_NAME_MAX		64
#define IKED_IFNAME_MAX		16	/* IF_NAMESIZE */
#define IKED_ID_MAX		256
#define IKED_PSK_MAX		256
#define IKED_XFORM_MAX		16	/* transforms of one type per proposal */
#define IKED_PROTO_MAX		8	/* protocols in "proto { ... }" */

/* Defaults of the lifetimes; "set ikelifetime" and "set lifetime" change them. */
#define IKED_IKELIFETIME_DEFAULT	(24 * 3600)
#define IKED_LIFETIME_DEFAULT		(3 * 3600)
#define IKED_LIFEBYTES_DEFAULT		(4ULL << 30)
#define IKED_DPD_DEFAULT		60
/* IKEv1: unanswered R-U-THERE that end a peer (racoon's dpd_maxfail). */
#define IKED_DPD_MAXFAIL_DEFAULT	5
#define IKED_DPD_MAXFAIL_MAX		100
/* RFC 7383 2.5.1: 1280 bytes of IPv6 less its IPv6, UDP and marker. */
#define IKED_FRAGSIZE_DEFAULT		(1280 - 40 - 8 - 4)
#define IKED_FRAGSIZE_MIN		128
/*
 * Child SAs (SA pairs) one IKE SA (IKEv1: phase 1) may carry, rekeys
 * aside: one per policy pair of a peer's subnets fits, while one
 * authenticated peer cannot fill the kernel's SAD.  "set maxchildren".
 */
#define IKED_MAXCHILDREN_DEFAULT	64
#define IKED_MAXCHILDREN_MAX		65536

/*
 * Transforms.  xf_id is the IKEv2 transform ID (RFC 7296 registry); for
 * groups it is the IANA group number, the same in IKEv1.  The IKEv1 core
 * maps the others to its own numbers.
 */
enum iked_xftype {
	XF_ENC = 1,
	XF_AUTH,
	XF_PRF,
	XF_GROUP,
	XF_NTYPES
};

#define XF_IKE		0x01	/* usable in an IKEv2 IKE SA */
#define XF_ESP		0x02	/* usable in an ESP/AH child SA (v1 and v2) */
#define XF_V1		0x04	/* usable in IKEv1 Main Mode */
#define XF_AEAD		0x08	/* combined cipher: no integrity transform */
#define XF_LEGACY	0x10	/* accepted, but weak: a warning is logged */

struct iked_xform {
	const char	*xf_name;
	enum iked_xftype xf_type;
	uint16_t	 xf_id;
	uint16_t	 xf_keylen;	/* bits, 0 when fixed */
	u_int		 xf_flags;
};

enum iked_proptype {
	PROP_IKE = 1,	/* IKEv2 IKE SA ("ikesa") or IKEv1 phase 1 ("main") */
	PROP_CHILD	/* IKEv2 child SA ("childsa") or IKEv1 phase 2 ("quick") */
};

struct iked_proposal {
	enum iked_proptype	 prop_type;
	int			 prop_version;	/* 1 or 2: the IKE it is for */
	const struct iked_xform	*prop_xf[XF_NTYPES][IKED_XFORM_MAX];
	u_int			 prop_nxf[XF_NTYPES];
	int			 prop_esn;	/* child SA: PROP_ESN_* */
	int			 prop_nogroup;	/* child SA: "group none" written */
	TAILQ_ENTRY(iked_proposal) prop_entry;
};

/*
 * A child proposal's extended sequence numbers: neither esn nor noesn
 * written (PROP_ESN_ANY), IKEv2 offers both, ESN first, and either
 * version takes what the peer chose; IKEv1 offers none (racoon refuses
 * a transform with an attribute it does not know).
 */
#define PROP_ESN_ANY	0
#define PROP_ESN_YES	1
#define PROP_ESN_NO	2
TAILQ_HEAD(iked_proposals, iked_proposal);

/*
 * A proposal an exchange of that IKE version may offer or accept: an
 * "ike" rule (pol_version 0) holds the proposals of both.
 */
#define prop_usable(prop, version, type)				\
	((prop)->prop_version == (version) && (prop)->prop_type == (type))

#define ADDR_ANY	0x01	/* "any": every address of either family */
#define ADDR_DYNAMIC	0x02	/* "dynamic": the peer's address, at run time */
#define ADDR_SET	0x04	/* written in the rule */

struct iked_addr {
	struct sockaddr_storage	 addr;
	int			 addr_af;	/* AF_UNSPEC with ADDR_ANY/DYNAMIC */
	int			 addr_mask;	/* prefix length */
	in_port_t		 addr_port;	/* host order, 0 = any */
	u_int			 addr_flags;
};

struct iked_flow {
	struct iked_addr	 flow_src;
	struct iked_addr	 flow_dst;
	uint8_t			 flow_proto;	/* 0 = any */
	TAILQ_ENTRY(iked_flow)	 flow_entry;
};
TAILQ_HEAD(iked_flows, iked_flow);

enum iked_idtype {
	ID_NONE = 0,
	ID_FQDN,
	ID_UFQDN,
	ID_IPV4,
	ID_IPV6,
	ID_ASN1DN	/* id_str: "/C=../CN=.." or "CN=.., C=.." */
};

struct iked_id {
	enum iked_idtype	 id_type;
	char			 id_str[IKED_ID_MAX];
};

/* Where the rule's SPD entries come from. */
enum iked_polsrc {
	POLSRC_SPD = 0,		/* the SPD loaded with setkey(8) (racoon) */
	POLSRC_INSTALL,		/* iked installs the rule's flows (OpenBSD) */
	POLSRC_GENERATE		/* responder installs what the peer proposes */
};

#define POL_ACTIVE	0x0001
#define POL_PASSIVE	0x0002
#define POL_QUICK	0x0004	/* first match wins */
#define POL_SKIP	0x0008	/* never matched by incoming exchanges */
#define POL_DEFAULT	0x0010	/* the fallback for unmatched exchanges */
#define POL_NATT	0x0020	/* always encapsulate ESP in UDP */
#define POL_TRANSPORT	0x0040	/* else tunnel mode */
#define POL_IPCOMP	0x0080	/* offer and accept IPComp (deflate) */

struct iked_policy {
	char			 pol_name[IKED_NAME_MAX];
	char			 pol_iface[IKED_IFNAME_MAX]; /* "": none */
	u_int			 pol_ifindex;	/* iface's, when loaded */
	int			 pol_version;	/* 1, 2, or 0: either ("ike") */
	u_int			 pol_flags;
	uint8_t			 pol_saproto;	/* IPPROTO_ESP or IPPROTO_AH */
	int			 pol_af;	/* "inet"/"inet6", else AF_UNSPEC */
	enum iked_polsrc	 pol_polsrc;
	struct iked_flows	 pol_flows;	/* each written flow x protos */
	uint8_t			 pol_protos[IKED_PROTO_MAX];
	u_int			 pol_nprotos;	/* 0: any protocol */
	struct iked_addr	 pol_local;
	struct iked_addr	 pol_peer;
	struct iked_proposals	 pol_proposals;	/* IKE ones first */
	struct iked_id		 pol_srcid;
	struct iked_id		 pol_dstid;
	uint64_t		 pol_ikelifetime;	/* seconds */
	uint64_t		 pol_lifetime;		/* child SA, seconds */
	uint64_t		 pol_lifebytes;		/* child SA */
	uint8_t			*pol_psk;
	size_t			 pol_psklen;
	enum ca_authmode	 pol_auth;	/* CA_AUTH_NONE: the psk */
	char			*pol_file;	/* where it was written */
	int			 pol_line;
	TAILQ_ENTRY(iked_policy) pol_entry;
	RB_ENTRY(iked_policy)	 pol_peernode;	/* cfg_polpeers (policy.c) */
	u_int			 pol_seq;	/* its place in the file */
};
TAILQ_HEAD(iked_policies, iked_policy);
RB_HEAD(iked_polpeers, iked_policy);
RB_PROTOTYPE(iked_polpeers, iked_policy, pol_peernode, policy_peer_cmp);

#define CFG_PASSIVE		0x01	/* set passive: no rule initiates */
#define CFG_FRAGMENTATION	0x04	/* set fragmentation (RFC 7383) */
#define CFG_ENFORCESINGLEIKESA	0x08
#define CFG_DPDRESTART		0x20	/* set dpd_action restart */

struct iked_config {
	u_int			 cfg_refcnt;	/* the running one and SAs */
	u_int			 cfg_flags;
	u_int			 cfg_dpd_interval;	/* seconds, 0 = off */
	u_int			 cfg_dpd_maxfail;	/* IKEv1 R-U-THERE */
	u_int			 cfg_fragsize;	/* RFC 7383: the largest whole */
	u_int			 cfg_maxchildren;	/* per IKE SA */
	char			*cfg_ocsp_url;	/* set ocsp, or NULL */
	long			 cfg_ocsp_tolerate;	/* seconds */
	long			 cfg_ocsp_maxage;	/* seconds, -1: any */
	uint64_t		 cfg_ikelifetime;
	uint64_t		 cfg_lifetime;
	uint64_t		 cfg_lifebytes;
	struct iked_policies	 cfg_policies;
	u_int			 cfg_npolicies;
	/* The rules indexed by peer (policy.c), made at the first lookup: */
	int			 cfg_polindexed;
	struct iked_polpeers	 cfg_polpeers;	/* peer one host: by address */
	struct iked_policy	**cfg_polwild;	/* the others, in file order */
	u_int			 cfg_npolwild;
	struct iked_policy	**cfg_poldef;	/* "default" rules, file order */
	u_int			 cfg_npoldef;
};

struct iked;

/* policy.c */
struct iked_spd;
struct iked_policy *policy_match(struct iked_config *, int,
	    const struct sockaddr *, const struct sockaddr *, int);
struct iked_policy *policy_acquire(struct iked_config *,
	    const struct iked_spd *, const struct sockaddr *,
	    const struct sockaddr *);
void	 policy_index_free(struct iked_config *);
int	 addr_match(const struct iked_addr *, const struct sockaddr *);
int	 policy_flow_match(const struct iked_policy *,
	    const struct iked_spd *);

/* parse.y */
#define PARSE_NOINCLUDE	0x01	/* refuse "include" (parsing from memory) */
#define PARSE_NORESOLVE	0x02	/* numeric addresses only, no DNS */
#define PARSE_QUIET	0x04	/* count errors, print nothing */
int	 parse_config(const char *, u_int, struct iked_config **);
int	 parse_buffer(const char *, const char *, size_t, u_int,
	    struct iked_config **);
int	 cmdline_symset(const char *);
void	 parse_clear_macros(void);
const char *parse_protoname(uint8_t);

/* config.c */
extern const struct iked_xform	iked_xforms[];
const struct iked_xform *xform_lookup(enum iked_xftype, const char *);
const struct iked_xform *xform_byid(enum iked_xftype, uint16_t, uint16_t);
const char *xform_name(enum iked_xftype, uint16_t, uint16_t);
struct iked_config *config_new(void);
int	 config_needkeys(const struct iked_config *);
void	 config_free(struct iked_config *);
struct iked_policy *policy_new(int);
struct iked_policy *policy_byname(struct iked_config *, const char *);
void	 policy_free(struct iked_policy *);
const char *policy_versionname(const struct iked_policy *);
struct iked_proposal *proposal_new(struct iked_policy *, int,
	    enum iked_proptype);
int	 proposal_complete(struct iked_policy *, struct iked_proposal *,
	    char *, size_t);
void	 policy_defaults(struct iked_config *, struct iked_policy *);
void	 config_setrunning(struct iked *, struct iked_config *);

/* print.c */
const char *print_addr(const struct iked_addr *, char *, size_t);
const char *print_time(uint64_t, char *, size_t);
const char *print_bytes(uint64_t, char *, size_t);
void	 print_config(FILE *, const struct iked_config *, int);
const char *print_auth(enum ca_authmode);

/* crypto.c */
#define IKED_SPI_LEN		8	/* IKEv2 SPIi, SPIr */
#define IKED_COOKIE_LEN		8	/* IKEv1 CKY-I, CKY-R */

/* IKEv2 IKE SA keys: one allocation, cleared when freed. */
struct iked_sakeys {
	uint8_t		*sk_buf;
	size_t		 sk_len;
	uint8_t		*sk_d, *sk_ai, *sk_ar, *sk_ei, *sk_er, *sk_pi, *sk_pr;
	size_t		 sk_prflen;	/* SK_d, SK_pi, SK_pr */
	size_t		 sk_integlen;	/* SK_ai, SK_ar */
	size_t		 sk_enclen;	/* SK_ei, SK_er, with an AEAD's salt */
};

/* Child SA keys (IKEv2 KEYMAT), initiator to responder first. */
struct iked_childkeys {
	uint8_t		*ck_buf;
	size_t		 ck_len;
	uint8_t		*ck_ei, *ck_ai, *ck_er, *ck_ar;
	size_t		 ck_enclen;
	size_t		 ck_integlen;
};

/* IKEv1 phase 1 keys. */
struct iked_v1keys {
	uint8_t		*v1_buf;
	size_t		 v1_len;
	uint8_t		*v1_skeyid, *v1_d, *v1_a, *v1_e;
	size_t		 v1_prflen;
	uint8_t		*v1_enc;	/* the phase 1 encryption key */
	size_t		 v1_enclen;
};

struct iked_hash;
struct iked_cipher;
struct iked_hash *hash_new(enum iked_xftype, uint16_t);
void	 hash_free(struct iked_hash *);
size_t	 hash_length(const struct iked_hash *);
size_t	 hash_keylength(const struct iked_hash *);
int	 hash_setkey(struct iked_hash *, const void *, size_t);
int	 hash_init(struct iked_hash *);
int	 hash_update(struct iked_hash *, const void *, size_t);
int	 hash_final(struct iked_hash *, uint8_t *);
int	 hash_compute(struct iked_hash *, const void *, size_t, uint8_t *);
int	 hash_verify(struct iked_hash *, const void *, size_t,
	    const uint8_t *);
int	 hash_digest2(struct iked_hash *, const void *, size_t,
	    const void *, size_t, uint8_t *);
int	 prf_compute(struct iked_hash *, const void *, size_t, const void *,
	    size_t, uint8_t *);
int	 prfplus(struct iked_hash *, const void *, size_t, const void *,
	    size_t, uint8_t *, size_t);
struct iked_cipher *cipher_new(uint16_t, uint16_t);
void	 cipher_free(struct iked_cipher *);
size_t	 cipher_keylength(const struct iked_cipher *);
size_t	 cipher_ivlength(const struct iked_cipher *);
size_t	 cipher_blocklength(const struct iked_cipher *);
size_t	 cipher_taglength(const struct iked_cipher *);
int	 cipher_setkey(struct iked_cipher *, const uint8_t *, size_t);
int	 cipher_encrypt(struct iked_cipher *, const uint8_t *,
	    const uint8_t *, size_t, const uint8_t *, size_t, uint8_t *,
	    uint8_t *);
int	 cipher_decrypt(struct iked_cipher *, const uint8_t *,
	    const uint8_t *, size_t, const uint8_t *, size_t, uint8_t *,
	    const uint8_t *);
int	 kdf_ikev2_skeyseed(struct iked_hash *, const uint8_t *, size_t,
	    const uint8_t *, size_t, const uint8_t *, size_t,
	    const uint8_t *, size_t, uint8_t *);
int	 kdf_ikev2_sa(struct iked_hash *, const uint8_t *, const uint8_t *,
	    size_t, const uint8_t *, size_t, const uint8_t *,
	    const uint8_t *, size_t, size_t, struct iked_sakeys *);
void	 kdf_sakeys_free(struct iked_sakeys *);
int	 kdf_ikev2_child(struct iked_hash *, const uint8_t *, size_t,
	    const uint8_t *, size_t, const uint8_t *, size_t,
	    const uint8_t *, size_t, size_t, size_t, struct iked_childkeys *);
void	 kdf_childkeys_free(struct iked_childkeys *);
int	 kdf_ikev1_phase1(struct iked_hash *, const uint8_t *, size_t,
	    const uint8_t *, size_t, const uint8_t *, size_t,
	    const uint8_t *, size_t, const uint8_t *, const uint8_t *, size_t,
	    struct iked_v1keys *);
void	 kdf_v1keys_free(struct iked_v1keys *);
int	 kdf_ikev1_iv(struct iked_hash *, const uint8_t *, size_t,
	    const uint8_t *, size_t, uint8_t *, size_t);
int	 kdf_ikev1_keymat(struct iked_hash *, const uint8_t *, size_t,
	    const uint8_t *, size_t, uint8_t, const uint8_t *,
	    const uint8_t *, size_t, const uint8_t *, size_t, uint8_t *,
	    size_t);

/* dh.c */
struct dh_group;
void	 group_setweak(int);
struct dh_group *group_get(uint16_t);
void	 group_free(struct dh_group *);
uint16_t group_id(const struct dh_group *);
size_t	 dh_getlen(const struct dh_group *);
size_t	 dh_secretlen(const struct dh_group *);
int	 dh_create_exchange(struct dh_group *, uint8_t **, size_t *);
int	 dh_create_shared(struct dh_group *, const uint8_t *, size_t,
	    uint8_t **, size_t *);
int	 dh_setprivate(struct dh_group *, const uint8_t *, size_t);

/*
 * ikemsg.c: IKE messages of both versions.  A received datagram becomes
 * a header and an ordered list of payloads whose lengths all fit;
 * decrypted bodies (IKEv1 E flag, IKEv2 SK/SKF) are parsed into the same
 * list by ikemsg_parse_inner().  Payload pointers point into the
 * caller's buffers, which must outlive the struct ikemsg.
 */
#define IKEMSG_PLD_MAX		48	/* payloads in a message, outer+inner */
#define IKEMSG_PROP_MAX		32	/* proposals in one SA payload */
#define IKEMSG_XF_MAX		128	/* transforms in one SA payload */
#define IKEMSG_ATTR_MAX		256	/* attributes in one SA payload */
#define IKEMSG_XFATTR_MAX	32	/* attributes in one transform */
#define IKEMSG_TS_MAX		16	/* selectors in one TS payload */
#define IKEMSG_SPI_MAX		16	/* IKEv1 ISAKMP SPI: both cookies */
#define IKEMSG_FRAG_MAX		32	/* RFC 7383 fragments of one message */
#define IKEMSG_FRAG_SIZE	65535	/* reassembled plaintext */
#define IKEMSG_SIZE_MAX		65535	/* largest message built */

/* Parse errors; ikemsg_error_notify() gives the notify to answer with. */
enum ikemsg_error {
	IKEMSG_OK = 0,
	IKEMSG_ESHORT,		/* shorter than its header, or truncated */
	IKEMSG_EBADLEN,		/* a length field does not fit */
	IKEMSG_EVERSION,	/* major version neither 1 nor 2 */
	IKEMSG_ESYNTAX,		/* any other malformation */
	IKEMSG_ECRITICAL,	/* IKEv2: unknown payload, critical bit set */
	IKEMSG_EPLDTYPE,	/* IKEv1: unknown payload type */
	IKEMSG_EDOI,		/* IKEv1: DOI other than IPsec */
	IKEMSG_ETOOMANY,	/* over one of the IKEMSG_*_MAX bounds */
	IKEMSG_EFRAG,		/* RFC 7383 fragment number/total */
	IKEMSG_ENOTIKE,		/* port 4500: ESP or a NAT keepalive */
	IKEMSG_NERRORS
};

struct ikemsg_stats {
	uint64_t	 ims_parsed;		/* outer and inner parses that passed */
	uint64_t	 ims_dropped_short;
	uint64_t	 ims_dropped_badlen;
	uint64_t	 ims_dropped_version;
	uint64_t	 ims_dropped_syntax;
	uint64_t	 ims_dropped_critical;
	uint64_t	 ims_dropped_pldtype;
	uint64_t	 ims_dropped_doi;
	uint64_t	 ims_dropped_toomany;
	uint64_t	 ims_dropped_frag;
	uint64_t	 ims_notike;		/* ESP or keepalive on 4500 */
};

struct ikemsg_pld {
	const uint8_t	*pld_buf;	/* its generic payload header */
	uint16_t	 pld_len;	/* with the generic header */
	uint8_t		 pld_type;
	uint8_t		 pld_flags;	/* IKEv2: critical bit */
	uint8_t		 pld_inner;	/* from a decrypted body */
};

#define IKEMSG_F_NATT	0x01	/* from port 4500: non-ESP marker first */

struct ikemsg {
	const uint8_t	*msg_buf;	/* the IKE header */
	size_t		 msg_len;	/* the header's length */
	int		 msg_version;	/* 1 or 2 */
	uint8_t		 msg_ispi[8];	/* IKEv1: cookies */
	uint8_t		 msg_rspi[8];
	uint8_t		 msg_nextpld;
	uint8_t		 msg_exchange;
	uint8_t		 msg_flags;
	uint32_t	 msg_msgid;
	struct ikemsg_pld msg_pld[IKEMSG_PLD_MAX];
	u_int		 msg_npld;
	/* The encrypted part: IKEv1 body, IKEv2 SK/SKF (IV|data|ICV). */
	size_t		 msg_encoff;	/* from msg_buf; 0: none */
	size_t		 msg_enclen;
	uint8_t		 msg_encnext;	/* type of the first inner payload */
	uint8_t		 msg_enctype;	/* IKEV2_PAYLOAD_SK/SKF, 0 for v1 */
	uint16_t	 msg_fragnum;	/* SKF */
	uint16_t	 msg_fragtotal;
	uint8_t		 msg_badtype;	/* the type for ECRITICAL/EPLDTYPE */
};

/* IKEv2 SK/SKF regions for the crypto layer (RFC 5282 AAD included). */
struct ikemsg_sk {
	const uint8_t	*sk_aad;	/* header through the SK(F) header */
	size_t		 sk_aadlen;
	const uint8_t	*sk_iv;
	const uint8_t	*sk_data;	/* ciphertext */
	size_t		 sk_datalen;
	const uint8_t	*sk_icv;
	size_t		 sk_icvlen;	/* sk_icv + sk_icvlen: message end */
};

/* SA payloads, parsed or to be built: flat arrays indexed per parent. */
struct ikemsg_attr {
	uint16_t	 at_type;	/* without the TV bit */
	uint8_t		 at_tv;		/* 1: TV (at_val), 0: TLV */
	uint16_t	 at_len;	/* TLV length */
	uint32_t	 at_val;	/* TV value; TLV of 1..4 bytes as a number */
	const uint8_t	*at_data;	/* TLV value; NULL: at_val, at_len bytes */
};

struct ikemsg_xf {
	uint8_t		 xf_type;	/* IKEv2 transform type; IKEv1: 0 */
	uint8_t		 xf_num;	/* IKEv1 transform number */
	uint16_t	 xf_id;
	u_int		 xf_attr;	/* first in sa_attr[] */
	u_int		 xf_nattr;
};

struct ikemsg_prop {
	uint8_t		 p_num;
	uint8_t		 p_proto;
	uint8_t		 p_spisize;
	uint8_t		 p_spi[IKEMSG_SPI_MAX];
	u_int		 p_xf;		/* first in sa_xf[] */
	u_int		 p_nxf;
};

struct ikemsg_sa {
	uint32_t	 sa_doi;	/* IKEv1 */
	uint32_t	 sa_sit;	/* IKEv1 */
	struct ikemsg_prop sa_prop[IKEMSG_PROP_MAX];
	struct ikemsg_xf sa_xf[IKEMSG_XF_MAX];
	struct ikemsg_attr sa_attr[IKEMSG_ATTR_MAX];
	u_int		 sa_nprop;
	u_int		 sa_nxf;
	u_int		 sa_nattr;
};

struct ikemsg_notify {
	uint32_t	 n_doi;		/* IKEv1 */
	uint8_t		 n_proto;
	uint8_t		 n_spisize;
	uint16_t	 n_type;
	const uint8_t	*n_spi;
	const uint8_t	*n_data;
	size_t		 n_datalen;
};

struct ikemsg_delete {
	uint32_t	 d_doi;		/* IKEv1 */
	uint8_t		 d_proto;
	uint8_t		 d_spisize;
	uint16_t	 d_nspi;
	const uint8_t	*d_spi;		/* d_nspi * d_spisize bytes */
};

struct ikemsg_id {
	uint8_t		 id_type;
	uint8_t		 id_proto;	/* IKEv1 IPsec DOI */
	uint16_t	 id_port;	/* IKEv1 IPsec DOI, host order */
	const uint8_t	*id_data;
	size_t		 id_len;
};

struct ikemsg_ts {
	uint8_t		 ts_type;	/* IKEV2_TS_IPV4/IPV6_ADDR_RANGE */
	uint8_t		 ts_proto;
	uint16_t	 ts_sport;	/* host order */
	uint16_t	 ts_eport;
	uint8_t		 ts_saddr[16];	/* 4 bytes used for IPv4 */
	uint8_t		 ts_eaddr[16];
};

/* RFC 7383 reassembly; the caller drops it on its own timeout. */
struct ikemsg_frag {
	uint32_t	 fr_msgid;
	uint16_t	 fr_total;	/* 0: empty */
	uint16_t	 fr_count;
	uint8_t		 fr_first;	/* from fragment 1 */
	size_t		 fr_size;
	uint8_t		*fr_data[IKEMSG_FRAG_MAX];
	uint16_t	 fr_len[IKEMSG_FRAG_MAX];
};

/* A message or a bare payload chain being built. */
struct ikebuf {
	uint8_t		*ib_buf;
	size_t		 ib_len;
	size_t		 ib_size;
	size_t		 ib_nextoff;	/* byte taking the next payload's type */
	uint8_t		 ib_first;	/* bare chain: the first payload type */
	int		 ib_hdr;	/* starts with an IKE header */
	int		 ib_error;	/* sticky: out of memory or over a limit */
};

/*
 * The daemon.  One libevent loop carries the UDP sockets (500 and 4500,
 * IPv4 and IPv6), the PF_KEY socket, signals and every timer.
 */
struct event;
struct event_base;
struct iked;
struct iked_sa;

/*
 * An address of an SA (endpoint or selector, with its port): IPv4 or
 * IPv6 only, in 28 bytes where a sockaddr_storage takes 128, four
 * times in each SA pair (memory per SA is a benchmark goal).
 */
union iked_sockaddr {
	struct sockaddr		 sa;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
};

/* A kernel security policy as mirrored from SPDDUMP and the broadcasts. */
struct iked_spd {
	TAILQ_ENTRY(iked_spd)	 spd_entry;
	RB_ENTRY(iked_spd)	 spd_idnode;	/* sc_spdids: by spd_id */
	RB_ENTRY(iked_spd)	 spd_dstnode;	/* sc_spddsts: by spd_dkey */
	uint64_t		 spd_seq;	/* its place in sc_spds */
	uint8_t			 spd_dkey[16];	/* spd_dst under spd_dprefix */
	uint32_t		 spd_id;
	uint8_t			 spd_dir;	/* IPSEC_DIR_* */
	uint16_t		 spd_type;	/* IPSEC_POLICY_* */
	struct sockaddr_storage	 spd_src;	/* selectors, with ports */
	struct sockaddr_storage	 spd_dst;
	uint8_t			 spd_sprefix;
	uint8_t			 spd_dprefix;
	uint8_t			 spd_ulproto;
	uint8_t			 spd_proto;	/* first request: ESP or AH */
	uint8_t			 spd_nsec;	/* ESP and AH requests */
	uint8_t			 spd_scope;	/* IPSEC_POLICYSCOPE_* */
	u_int			 spd_ifindex;	/* ifnet scope: its ipsecN */
	uint8_t			 spd_warned;	/* a bundle we cannot do */
	uint8_t			 spd_mode;	/* IPSEC_MODE_* */
	uint8_t			 spd_level;	/* IPSEC_LEVEL_* */
	uint32_t		 spd_reqid;
	struct sockaddr_storage	 spd_tsrc;	/* tunnel endpoints */
	struct sockaddr_storage	 spd_tdst;
	int			 spd_mine;	/* installed from iked.conf */
};
TAILQ_HEAD(iked_spds, iked_spd);
RB_HEAD(iked_spdids, iked_spd);
RB_PROTOTYPE(iked_spdids, iked_spd, spd_idnode, kernel_spd_idcmp);
RB_HEAD(iked_spddsts, iked_spd);
RB_PROTOTYPE(iked_spddsts, iked_spd, spd_dstnode, kernel_spd_dstcmp);

#define TX_RXDIGEST	32	/* tx_rx: SHA-256 */

/* One message waiting for its answer, retransmitted with backoff. */
struct iked_tx {
	uint8_t			*tx_buf;	/* one datagram, or fragments */
	size_t			 tx_len;
	uint16_t		*tx_frags;	/* their lengths (RFC 7383) */
	u_int			 tx_nfrags;
	u_int			 tx_tries;
	struct event		*tx_ev;
	void			(*tx_giveup)(void *);
	void			*tx_arg;
	struct iked_sa		*tx_sa;		/* sent from its endpoints:
						   its owner's IKE SA */
	uint8_t			*tx_rx;		/* the request it answers: */
	size_t			 tx_rxlen;	/* its SHA-256 and length */
};

/*
 * Lifetimes.  An IKE SA or a child is reachable from its list (sc_sas,
 * sa_children), from its own timers and retransmission (their callbacks
 * get the object itself), and from pointers held elsewhere: a child
 * from sa_reqch (the IKEv2 request carrying it, whose IKE SA its
 * ch_reqsa names: set both with ikesa_setreq()) and ch_old (the pairs
 * replacing it, ch_nnew of them: set it with child_setold()), an IKE SA
 * from sa_rekey and sa_rekey_peer, and from its children's ch_sa,
 * tx_sa and ch_reqsa.  It is freed only by child_free() or
 * ikesa_free(), which unlink it (from its list and each index:
 * sc_saspis, sc_sapeers, the sc_ch* trees), free its timers, its
 * retransmission and its children (an IKE SA's unanswered IKEv2 rekey,
 * sa_rekey, too) and clear every pointer to it; holders check theirs
 * for NULL.  A child changes IKE SA only by child_move(),
 * so that its ch_sa and tx_sa always name the IKE SA whose list holds
 * it.  An IKEv2 child whose request is out outlives its own timer: the
 * answer, or the request's give-up, decides.  ikesa_free() may free two
 * SAs of sc_sas: a loop that frees in it keeps no next pointer across
 * the free but searches again from the head.  An IKE SA left DEAD and
 * childless is freed from the event loop (a zero timer), not at once.
 */

/* Phase 2 (IKEv1 Quick Mode) or child SA (IKEv2): one SA pair. */
enum iked_chstate {
	CH_S_GETSPI = 1,	/* waiting for the kernel's SPI */
	CH_S_SENT,		/* our message out, waiting for the peer */
	CH_S_INSTALLED,		/* both SAs in the kernel */
	CH_S_DEAD
};

struct iked_child {
	TAILQ_ENTRY(iked_child)	 ch_entry;
	/*
	 * The daemon's indexes (ikesa.c): a child is in each tree from
	 * the moment its key is set (child_set_*()) until child_free().
	 */
	RB_ENTRY(iked_child)	 ch_spiinnode;	/* sc_chspiin: ch_spi_in */
	RB_ENTRY(iked_child)	 ch_spioutnode;	/* sc_chspiout: ch_spi_out */
	RB_ENTRY(iked_child)	 ch_spidnode;	/* sc_chspid: ch_spid */
	RB_ENTRY(iked_child)	 ch_getspinode;	/* sc_chgetspi: ch_getspi_seq */
	RB_ENTRY(iked_child)	 ch_addnode;	/* sc_chadd: ch_addseq */
	u_int			 ch_indexed;	/* CH_IX_*: in which trees */
	struct iked_sa		*ch_sa;
	enum iked_chstate	 ch_state;
	int			 ch_initiator;
	int			 ch_rekeying;	/* replaces ch_old */
	struct iked_child	*ch_old;
	u_int			 ch_nnew;	/* children whose ch_old it is */
	struct iked_sa		*ch_reqsa;	/* IKEv2: whose sa_reqch it is */
	uint32_t		 ch_msgid;
	uint8_t			 ch_iv[16];
	struct iked_tx		 ch_tx;
	uint32_t		 ch_spid;	/* the outbound kernel policy */
	uint32_t		 ch_acqseq;
	uint32_t		 ch_reqid;
	uint32_t		 ch_getspi_seq;
	uint32_t		 ch_addseq;	/* our ADD of the outbound SA */
	int			 ch_addpending;	/* its reply not seen yet */
	uint8_t			 ch_mode;	/* IPSEC_MODE_* */
	uint8_t			 ch_saproto;	/* IPPROTO_ESP or _AH */
	union iked_sockaddr	 ch_lsel;	/* local selector, with port */
	union iked_sockaddr	 ch_rsel;
	uint8_t			 ch_lplen;
	uint8_t			 ch_rplen;
	uint8_t			 ch_ulproto;
	uint32_t		 ch_spi_in;	/* network order */
	uint32_t		 ch_spi_out;
	/* IPComp (IKEv2 IPCOMP_SUPPORTED): both, or none, negotiated. */
	uint16_t		 ch_cpi_in;	/* ours, from GETSPI */
	uint16_t		 ch_cpi_out;	/* the peer's */
	uint8_t			 ch_propnum;	/* IKEv1: the peer's chosen */
	uint16_t		 ch_enc;	/* IKEv2 transform IDs */
	uint16_t		 ch_enckeylen;	/* bits */
	uint16_t		 ch_auth;
	uint16_t		 ch_group;	/* PFS, 0: none */
	uint16_t		 ch_encap;	/* IKEv1 encapsulation mode */
	uint64_t		 ch_lifetime;	/* seconds */
	uint64_t		 ch_lifebytes;
	uint32_t		 ch_plife;	/* the initiator's proposal: s */
	uint32_t		 ch_pkbytes;	/* and KB, 0: none */
	uint8_t			*ch_ni, *ch_nr;
	size_t			 ch_nilen, ch_nrlen;
	struct dh_group		*ch_dh;
	uint8_t			*ch_dhpeer;	/* the peer's public value */
	size_t			 ch_dhpeerlen;
	uint8_t			*ch_dhpub;
	size_t			 ch_dhpublen;
	uint8_t			*ch_sabody;	/* our SA payload (QM: SAi) */
	size_t			 ch_sabodylen;
	struct event		*ch_timer;
	time_t			 ch_created;
	uint64_t		 ch_order;	/* creation, then install, order */
	int			 ch_esn;
	int			 ch_delpending;	/* IKEv2: DELETE to send */
	int			 ch_retiring;	/* replaced: inbound SA still in */
	int			 ch_delwait;	/* our DELETE waits for the
						   kernel's, of the outbound SA */
	uint8_t			 ch_v2exch;	/* IKEv2: the request it answers */
	uint8_t			 ch_v2prop;	/* IKEv2: the chosen proposal */
	uint8_t			*ch_resp;	/* the answer (v2) or QM2 held for */
	size_t			 ch_resplen;	/* the kernel's UPDATE reply */
	int			 ch_v2ids;	/* IKE_AUTH: the IDs came first */
};
TAILQ_HEAD(iked_children, iked_child);
RB_HEAD(iked_chspiin, iked_child);
RB_HEAD(iked_chspiout, iked_child);
RB_HEAD(iked_chspid, iked_child);
RB_HEAD(iked_chgetspi, iked_child);
RB_HEAD(iked_chadd, iked_child);
RB_PROTOTYPE(iked_chspiin, iked_child, ch_spiinnode, iked_chspiin_cmp);
RB_PROTOTYPE(iked_chspiout, iked_child, ch_spioutnode, iked_chspiout_cmp);
RB_PROTOTYPE(iked_chspid, iked_child, ch_spidnode, iked_chspid_cmp);
RB_PROTOTYPE(iked_chgetspi, iked_child, ch_getspinode, iked_chgetspi_cmp);
RB_PROTOTYPE(iked_chadd, iked_child, ch_addnode, iked_chadd_cmp);
#define CH_IX_SPIIN	0x01
#define CH_IX_SPIOUT	0x02
#define CH_IX_SPID	0x04
#define CH_IX_GETSPI	0x08
#define CH_IX_ADD	0x10

/* Phase 1 (IKE SA) states; ikesa_state() changes them. */
enum iked_sastate {
	SA_S_INIT = 0,
	SA_S_MM1,		/* I: MM1 sent */
	SA_S_MM3,		/* I: MM3 sent */
	SA_S_MM5,		/* I: MM5 sent */
	SA_S_MM2,		/* R: MM2 sent */
	SA_S_MM4,		/* R: MM4 sent */
	SA_S_V2_INIT,		/* I: IKE_SA_INIT sent */
	SA_S_V2_AUTH,		/* I: keys made, IKE_AUTH to send or sent */
	SA_S_V2_RINIT,		/* R: IKE_SA_INIT answered */
	SA_S_ESTABLISHED,
	SA_S_DEAD
};

#define SA_NAT_LOCAL	0x01	/* we are behind a NAT */
#define SA_NAT_PEER	0x02	/* the peer is */
#define SA_NATT_VID	0x04	/* the peer does RFC 3947 */
#define SA_DPD_VID	0x08	/* the peer does RFC 3706 */
#define SA_NATT_FLOAT	0x10	/* on port 4500 */
#define SA_IC_RECV	0x20	/* INITIAL-CONTACT received */

struct iked_hosrc;
struct iked_sa;
struct ikemsg;

/*
 * A protocol module: what the core (ikesa.c) asks of an IKE version,
 * chosen once per SA (sa_proto) or per message.  ikev1.c and ikev2.c
 * each define one; the core tests no version number.
 */
struct iked_proto {
	int		 ip_version;
	const char	*ip_saname;	/* "phase 1", "IKE SA" */
	const char	*ip_chname;	/* "quick mode", "child SA negotiation" */
	/* The lifetime timer, in % of it: initiator, responder. */
	u_int		 ip_soft_i, ip_soft_r;
	/* Children go with their IKE SA (RFC 7296 1.4.1); IKEv1's stay. */
	int		 ip_children_die;
	/* IKE SAs are rekeyed in place (RFC 7296 2.18), not renewed. */
	int		 ip_ikerekey;
	/* A message of this version, parsed (ikemsg_parse). */
	void	(*ip_recv)(struct iked *, struct ikemsg *,
		    const struct sockaddr *, const struct sockaddr *, int);
	/* Start our phase 1 (Main Mode, IKE_SA_INIT). */
	int	(*ip_init)(struct iked_sa *);
	/* The lifetime timer went: 0 if a rekey or renewal carries on. */
	int	(*ip_soft)(struct iked_sa *);
	/* Negotiate a child, or all that wait (ch_state 0), on an SA. */
	int	(*ip_start_child)(struct iked_child *);
	void	(*ip_start_children)(struct iked_sa *);
	void	(*ip_send_delete)(struct iked_sa *, struct iked_child *);
	/* The kernel's answers about a child. */
	void	(*ip_getspi_done)(struct iked_child *);
	void	(*ip_send_held)(struct iked_child *, uint8_t *, size_t);
	/* A child negotiation that timed out (NULL: nothing to say). */
	void	(*ip_child_abandoned)(struct iked_child *);
	/* A child about to be freed (NULL: nothing points at it). */
	void	(*ip_child_gone)(struct iked_child *);
	/* The liveness timer went: probe the peer (ikesa_liveness_*). */
	void	(*ip_liveness)(struct iked_sa *);
};
extern const struct iked_proto ikev1_proto, ikev2_proto;

/* IKEv1 phase 1 (IKEv2: IKE SA). */
struct iked_sa {
	TAILQ_ENTRY(iked_sa)	 sa_entry;
	RB_ENTRY(iked_sa)	 sa_spinode;	/* sc_saspis: by SPIi */
	RB_ENTRY(iked_sa)	 sa_peernode;	/* sc_sapeers: by sa_peer */
	TAILQ_ENTRY(iked_sa)	 sa_initentry;	/* sc_initq */
	int			 sa_init;	/* SA_INIT_*: an ACQUIRE's */
	/* Half-open, opened by the peer (halfopen.c): */
	TAILQ_ENTRY(iked_sa)	 sa_hoentry;	/* in its budget's lists */
	struct iked_hosrc	*sa_hosrc;	/* its source's count */
	int			 sa_ho;		/* HO_NEW or HO_PROVEN, or 0 */
	struct iked		*sa_env;
	const struct iked_proto	*sa_proto;	/* its version's module */
	int			 sa_version;
	int			 sa_initiator;
	enum iked_sastate	 sa_state;
	uint8_t			 sa_ispi[8];
	uint8_t			 sa_rspi[8];
	union iked_sockaddr	 sa_local;	/* with ports */
	union iked_sockaddr	 sa_peer;
	u_int			 sa_nat;	/* SA_NAT_*, SA_*_VID */
	struct iked_config	*sa_cf;		/* holds a reference */
	struct iked_policy	*sa_pol;
	char			 sa_name[IKED_NAME_MAX + 64];
	/* Negotiated: IKEv2 transform IDs, as config.c names them. */
	uint16_t		 sa_enc;
	uint16_t		 sa_enckeylen;
	uint16_t		 sa_prfid;
	uint16_t		 sa_group;
	uint64_t		 sa_lifetime;
	struct iked_hash	*sa_prf;
	struct iked_cipher	*sa_cipher;
	struct dh_group		*sa_dh;
	uint8_t			*sa_dhi, *sa_dhr;	/* g^xi, g^xr */
	size_t			 sa_dhilen, sa_dhrlen;
	uint8_t			*sa_ni, *sa_nr;
	size_t			 sa_nilen, sa_nrlen;
	uint8_t			*sa_sai;	/* SAi_b */
	size_t			 sa_sailen;
	uint8_t			*sa_idi, *sa_idr;	/* IDii_b, IDir_b */
	size_t			 sa_idilen, sa_idrlen;
	struct iked_v1keys	 sa_keys;
	int			 sa_keyed;
	uint8_t			 sa_iv[16];	/* the CBC chain of phase 1 */
	size_t			 sa_ivlen;
	struct iked_tx		 sa_tx;
	struct iked_children	 sa_children;
	struct event		*sa_timer;	/* lifetime, half-open */
	struct event		*sa_dpdtimer;
	uint32_t		 sa_dpdseq;
	u_int			 sa_dpdmiss;
	time_t			 sa_created;
	uint64_t		 sa_order;	/* creation order (sc_sapeers) */
	time_t			 sa_established;
	/* IKEv2 */
	struct iked_hash	*sa_integ;	/* NULL with an AEAD */
	uint16_t		 sa_integid;
	struct iked_cipher	*sa_cipher_in;	/* keyed with the peer's SK_e */
	struct iked_sakeys	 sa_k2;
	int			 sa_k2set;
	uint8_t			*sa_msg1, *sa_msg2;	/* IKE_SA_INIT req, resp */
	size_t			 sa_msg1len, sa_msg2len;
	uint8_t			*sa_cookie;
	size_t			 sa_cookielen;
	uint32_t		 sa_reqid;	/* our next request's ID */
	uint32_t		 sa_peerid;	/* the peer's next request's ID */
	int			 sa_busy;	/* a request of ours is out */
	uint8_t			 sa_reqtype;	/* its exchange */
	struct iked_child	*sa_reqch;	/* its child */
	struct iked_tx		 sa_rtx;	/* our last response */
	u_int			 sa_v2flags;
	u_int			 sa_peerhashes;	/* RFC 7427, CA_HASH_* */
	uint32_t		 sa_v2del[16];	/* IKEv2: DELETEs to send */
	u_int			 sa_v2ndel;
	uint8_t			*sa_idr2;	/* IKEv2: our IDr' for AUTH */
	size_t			 sa_idr2len;
	struct ikemsg_frag	*sa_frag;	/* IKEv2: RFC 7383 reassembly,
						   made at the first fragment */
	struct iked_sa		*sa_rekey;	/* IKEv2: the SA replacing it */
	int			 sa_rekeyed;	/* replaced, going */
	int			 sa_renewing;	/* IKEv1: past its renewal time */
	/*
	 * IKEv2, RFC 7296 2.8.2: the peer's rekey of this SA, answered
	 * while ours (sa_rekey) was out.  The children stay here until
	 * our response shows which of the two new SAs survives.
	 */
	struct iked_sa		*sa_rekey_peer;
	int			 sa_rekeywait;	/* IKEv2: our rekey waits for
						   the window (ikev2_next) */
	/*
	 * Public key authentication: the ca process answers through the
	 * event loop (auth_*_start()); meanwhile the message that needs
	 * the answer waits here, and is taken up again with it.
	 */
	int			 sa_authwait;	/* a request of ours is out */
	int			 sa_peerok;	/* the peer's AUTH or SIG: 1
						   verified, -1 refused */
	uint8_t			 sa_peermethod;	/* what was asked: its method */
	int			 sa_peercert;	/* with a certificate */
	int			 sa_signasked;	/* our signature with the verdict */
	uint8_t			*sa_mysig;	/* our AUTH or SIG, signed */
	size_t			 sa_mysiglen;
	uint8_t			 sa_mysigmethod; /* its IKEv2 AUTH method */
	int			 sa_mysigerr;	/* the signing failed */
	struct ikemsg_held	*sa_held;	/* the message waiting */
};
TAILQ_HEAD(iked_sas, iked_sa);

/* A received message kept, decrypted, while its IKE SA waits. */
struct ikemsg_held {
	struct ikemsg	 h_msg;		/* its pointers into h_raw, h_plain */
	uint8_t		*h_raw;
	size_t		 h_rawlen;
	uint8_t		*h_plain;	/* NULL: IKEv1, decrypted again */
	size_t		 h_plainlen;
	struct sockaddr_storage h_local;	/* IKEv1: where it came */
	struct sockaddr_storage h_peer;
	int		 h_natt;
};
struct ikemsg_held *ikemsg_hold(const struct ikemsg *, const uint8_t *,
	    size_t, uint8_t **, size_t *);
void	 ikemsg_held_free(struct ikemsg_held *);
RB_HEAD(iked_saspis, iked_sa);
RB_PROTOTYPE(iked_saspis, iked_sa, sa_spinode, ikesa_spi_cmp);
RB_HEAD(iked_sapeers, iked_sa);
RB_PROTOTYPE(iked_sapeers, iked_sa, sa_peernode, ikesa_peer_cmp);

/* Our negotiations of phase 1 for ACQUIREs, paced (ikesa.c). */
#define IKED_INIT_FLIGHT	32	/* at once (a peer's COOKIE threshold) */
#define SA_INIT_QUEUED		1	/* in sc_initq, nothing sent yet */
#define SA_INIT_FLIGHT		2	/* started, not established yet */

#define SA_V2_FRAG	0x01	/* the peer does RFC 7383 */
#define SA_V2_DELETING	0x04	/* our DELETE of the IKE SA is out */

struct iked_stats {
	uint64_t		 st_rx;		/* datagrams received */
	uint64_t		 st_tx;
	uint64_t		 st_dropped;	/* malformed, unexpected */
	uint64_t		 st_badauth;	/* HASH/AUTH mismatches */
	uint64_t		 st_retransmits;
	uint64_t		 st_ph1_established;
	uint64_t		 st_ph2_established;
	uint64_t		 st_acquires;
	uint64_t		 st_children_refused;	/* set maxchildren */
	uint64_t		 st_kernel_refused;	/* UPDATE refused */
	uint64_t		 st_halfopen_refused;
	uint64_t		 st_halfopen_evicted;	/* IKEv1: oldest new */
	uint64_t		 st_halfopen_expired;
	uint64_t		 st_shed;	/* new exchanges unanswered */
	uint64_t		 st_readmitted;	/* ... answered when again */
	struct ikemsg_stats	 st_msg;
};

/*
 * Half-open IKE SAs: those a peer opened (IKEv1 MM1, IKEv2 IKE_SA_INIT)
 * and that are not established yet, one budget per IKE version
 * (halfopen.c).  ho_new: the peer has not yet shown that it receives at
 * its address (IKEv1 before MM3, IKEv2 without a COOKIE), oldest first;
 * ho_proven: it has.
 */
#define HO_NEW		1
#define HO_PROVEN	2

struct iked_halfopen {
	struct iked_sas		 ho_new;
	struct iked_sas		 ho_proven;
	u_int			 ho_count;
	u_int			 ho_max;
	int			 ho_evict;	/* full: the oldest new goes */
};

/* How many half-open SAs one source address has, per version. */
struct iked_hosrc {
	RB_ENTRY(iked_hosrc)	 hs_node;
	union iked_sockaddr	 hs_addr;	/* port 0 */
	u_int			 hs_count[2];
};
RB_HEAD(iked_hosrcs, iked_hosrc);
RB_PROTOTYPE(iked_hosrcs, iked_hosrc, hs_node, hosrc_cmp);

/*
 * New exchanges while the sockets are backlogged: how many this batch
 * of datagrams answered, and what was left unanswered (a Bloom filter of
 * source and SPIi, two generations), so that its retransmission is.
 */
struct iked_admit {
	int			 ad_busy;	/* a socket still not empty */
	u_int			 ad_taken[2];	/* new exchanges answered, by
						   version */
	u_int			 ad_new;	/* new exchanges in the batch */
	u_int			 ad_cont;	/* ... and ones under way */
	uint8_t			*ad_seen[2];	/* current, previous */
	u_int			 ad_nseen;	/* entries in the current one */
	uint64_t		 ad_key;
	struct event		*ad_timer;	/* the "busy" summary */
	uint64_t		 ad_lastshed;	/* at the last summary */
	uint64_t		 ad_lastevicted;
};

#define IKED_SOCK_MAX	4	/* 500 and 4500, IPv4 and IPv6 */

struct iked {
	const char		*sc_conffile;
	int			 sc_debug;
	int			 sc_verbose;
	struct iked_config	*sc_config;	/* the running configuration */
	struct event_base	*sc_evbase;
	int			 sc_sock[IKED_SOCK_MAX];
	struct event		*sc_sockev[IKED_SOCK_MAX];
	in_port_t		 sc_port;	/* 500, or -p */
	in_port_t		 sc_nattport;	/* 4500, or -p + 4000 */
	int			 sc_pfkey;
	struct event		*sc_pfkeyev;
	uint32_t		 sc_pfkey_seq;
	struct iked_spds	 sc_spds;
	struct iked_spdids	 sc_spdids;	/* the same, by id */
	struct iked_spddsts	 sc_spddsts;	/* by direction, destination */
	int			 sc_spd_ready;	/* SPDDUMP finished */
	struct iked_sas		 sc_sas;
	struct iked_saspis	 sc_saspis;	/* the same, by SPIi */
	struct iked_sapeers	 sc_sapeers;	/* the same, by peer address */
	struct iked_sas		 sc_initq;	/* SA_INIT_QUEUED, in order */
	u_int			 sc_initflight;	/* SA_INIT_FLIGHT */
	struct event		*sc_initev;	/* starts the queued ones */
	/* Every child of every IKE SA, by the keys the kernel names: */
	struct iked_chspiin	 sc_chspiin;
	struct iked_chspiout	 sc_chspiout;
	struct iked_chspid	 sc_chspid;
	struct iked_chgetspi	 sc_chgetspi;
	struct iked_chadd	 sc_chadd;
	struct iked_halfopen	 sc_halfopen[2];	/* IKEv1, IKEv2 */
	struct iked_hosrcs	 sc_hosrcs;
	struct iked_admit	 sc_admit;
	struct iked_stats	 sc_stats;
	struct event		*sc_keepalive;
	const char		*sc_pidfile;
	const char		*sc_ctlpath;	/* control socket, or -s */
	int			 sc_exiting;
	uint8_t			 sc_cookie_secret[32];
	/* Privilege separation (proc.c); all 0/NULL with -X. */
	int			 sc_privsep;	/* we are the engine */
	pid_t			 sc_parent;
	struct imsgbuf		*sc_ibuf;	/* to the parent */
	struct event		*sc_ibufev;
	struct event		*sc_ibufwev;
	/* Public key authentication (auth.c): one of the two. */
	const char		*sc_authdir;	/* the iked directory, -K */
	struct ca_store		*sc_ca;		/* -X: in process */
	int			 sc_cafd;	/* else the ca process, or -1 */
	struct auth_queue	*sc_authq;	/* requests without answers */
};

extern struct iked	*iked_env;

int	 ikemsg_parse(struct ikemsg *, const uint8_t *, size_t, u_int,
	    struct ikemsg_stats *);
int	 ikemsg_parse_inner(struct ikemsg *, const uint8_t *, size_t,
	    struct ikemsg_stats *);
int	 ikemsg_sk(const struct ikemsg *, size_t, size_t, struct ikemsg_sk *);
int	 ikemsg_sk_unpad(const uint8_t *, size_t, size_t *);
const struct ikemsg_pld *ikemsg_find(const struct ikemsg *, uint8_t,
	    const struct ikemsg_pld *);
const uint8_t *ikemsg_pld_body(const struct ikemsg_pld *, size_t *);
int	 ikemsg_pld_cert(const struct ikemsg_pld *, uint8_t *,
	    const uint8_t **, size_t *);
int	 ikemsg_pld_notify(const struct ikemsg_pld *, size_t,
	    struct ikemsg_notify *);
int	 ikemsg_pld_delete(const struct ikemsg_pld *, size_t,
	    struct ikemsg_delete *);

/* Network byte order, as the payloads carry numbers. */
static inline uint16_t
ikemsg_get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static inline uint32_t
ikemsg_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}
const char *ikemsg_strerror(int);
uint16_t ikemsg_error_notify(int, int);
void	 ikemsg_stats_count(struct ikemsg_stats *, int);
int	 ikemsg_attrs(const uint8_t *, size_t, struct ikemsg_sa *, u_int *);
int	 ikemsg_props(const uint8_t *, size_t, int, struct ikemsg_sa *);
void	 ikemsg_sa_init(struct ikemsg_sa *, uint32_t, uint32_t);
int	 ikemsg_sa_prop(struct ikemsg_sa *, uint8_t, uint8_t, const uint8_t *,
	    uint8_t);
int	 ikemsg_sa_xf(struct ikemsg_sa *, uint8_t, uint8_t, uint16_t);
int	 ikemsg_sa_attr(struct ikemsg_sa *, uint16_t, uint32_t);
int	 ikemsg_sa_attr_var(struct ikemsg_sa *, uint16_t, const uint8_t *,
	    uint16_t);
const struct ikemsg_attr *ikemsg_xf_attr(const struct ikemsg_sa *,
	    const struct ikemsg_xf *, uint16_t);

/* ikemsg_frag.c */
void	 ikemsg_frag_init(struct ikemsg_frag *);
void	 ikemsg_frag_clear(struct ikemsg_frag *);
int	 ikemsg_frag_add(struct ikemsg_frag *, const struct ikemsg *,
	    const uint8_t *, size_t, int *);
int	 ikemsg_frag_take(struct ikemsg_frag *, uint8_t **, size_t *,
	    uint8_t *);

/* ikebuf.c */
int	 ikebuf_init(struct ikebuf *);
void	 ikebuf_free(struct ikebuf *);
int	 ikebuf_trim(struct ikebuf *);
int	 ikebuf_add(struct ikebuf *, const void *, size_t);
int	 ikebuf_add8(struct ikebuf *, uint8_t);
int	 ikebuf_add16(struct ikebuf *, uint16_t);
int	 ikebuf_add32(struct ikebuf *, uint32_t);
void	 ikebuf_set16(struct ikebuf *, size_t, uint16_t);
int	 ikemsg_build_hdr(struct ikebuf *, int, const uint8_t *,
	    const uint8_t *, uint8_t, uint8_t, uint32_t);
size_t	 ikemsg_build_pld(struct ikebuf *, uint8_t, uint8_t);
void	 ikemsg_build_pld_end(struct ikebuf *, size_t);
int	 ikemsg_build_raw(struct ikebuf *, uint8_t, const void *, size_t,
	    const void *, size_t);
int	 ikemsg_build_body(struct ikebuf *, uint8_t, const void *, size_t);
int	 ikemsg_build_nd(struct ikebuf *, uint8_t, const uint32_t *, uint8_t,
	    uint8_t, uint16_t, const void *, size_t, const void *, size_t);
int	 ikemsg_build_done(struct ikebuf *);
int	 ikemsg_build_props(struct ikebuf *, int, const struct ikemsg_sa *);

/* ikev2_pld.c */
int	 ikev2_pld_check(const struct ikemsg_pld *);
int	 ikev2_pld_sa(const struct ikemsg_pld *, struct ikemsg_sa *);
int	 ikev2_pld_ke(const struct ikemsg_pld *, uint16_t *, const uint8_t **,
	    size_t *);
int	 ikev2_pld_id(const struct ikemsg_pld *, struct ikemsg_id *);
int	 ikev2_pld_auth(const struct ikemsg_pld *, uint8_t *, const uint8_t **,
	    size_t *);
int	 ikev2_pld_notify(const struct ikemsg_pld *, struct ikemsg_notify *);
int	 ikev2_pld_delete(const struct ikemsg_pld *, struct ikemsg_delete *);
int	 ikev2_pld_ts(const struct ikemsg_pld *, struct ikemsg_ts *, u_int,
	    u_int *);
int	 ikev2_build_sa(struct ikebuf *, const struct ikemsg_sa *);
int	 ikev2_build_ke(struct ikebuf *, uint16_t, const void *, size_t);
int	 ikev2_build_id(struct ikebuf *, uint8_t, uint8_t, const void *,
	    size_t);
int	 ikev2_build_cert(struct ikebuf *, uint8_t, uint8_t, const void *,
	    size_t);
int	 ikev2_build_auth(struct ikebuf *, uint8_t, const void *, size_t);
int	 ikev2_build_nonce(struct ikebuf *, const void *, size_t);
int	 ikev2_build_notify(struct ikebuf *, uint8_t, const void *, uint8_t,
	    uint16_t, const void *, size_t);
int	 ikev2_build_delete(struct ikebuf *, uint8_t, uint8_t, uint16_t,
	    const void *);
int	 ikev2_build_vendor(struct ikebuf *, const void *, size_t);
int	 ikev2_build_ts(struct ikebuf *, uint8_t, const struct ikemsg_ts *,
	    u_int);
int	 ikev2_build_sk(struct ikebuf *, uint8_t, size_t, size_t *);
int	 ikev2_build_skf(struct ikebuf *, uint8_t, uint16_t, uint16_t, size_t,
	    size_t *);

/* ikev1_pld.c */
int	 ikev1_pld_check(const struct ikemsg_pld *);
int	 ikev1_pld_sa(const struct ikemsg_pld *, struct ikemsg_sa *);
int	 ikev1_pld_id(const struct ikemsg_pld *, struct ikemsg_id *);
int	 ikev1_pld_notify(const struct ikemsg_pld *, struct ikemsg_notify *);
int	 ikev1_pld_delete(const struct ikemsg_pld *, struct ikemsg_delete *);
int	 ikev1_pld_natoa(const struct ikemsg_pld *, uint8_t *, const uint8_t **,
	    size_t *);
int	 ikev1_build_sa(struct ikebuf *, const struct ikemsg_sa *);
int	 ikev1_build_ke(struct ikebuf *, const void *, size_t);
int	 ikev1_build_id(struct ikebuf *, uint8_t, uint8_t, uint16_t,
	    const void *, size_t);
int	 ikev1_build_cert(struct ikebuf *, uint8_t, uint8_t, const void *,
	    size_t);
int	 ikev1_build_hash(struct ikebuf *, uint8_t, const void *, size_t);
int	 ikev1_build_nonce(struct ikebuf *, const void *, size_t);
int	 ikev1_build_notify(struct ikebuf *, uint32_t, uint8_t, const void *,
	    uint8_t, uint16_t, const void *, size_t);
int	 ikev1_build_delete(struct ikebuf *, uint32_t, uint8_t, uint8_t,
	    uint16_t, const void *);
int	 ikev1_build_vendor(struct ikebuf *, const void *, size_t);
int	 ikev1_build_natoa(struct ikebuf *, uint8_t, uint8_t, const void *,
	    size_t);

/* net.c: the UDP sockets */
#define IKED_RX_BATCH	64	/* datagrams read at once from a socket */
int	 net_open(struct iked *);
void	 net_sockbuf(int, int);
int	 net_init(struct iked *);
void	 net_close(struct iked *);
int	 net_send(struct iked *, const struct sockaddr *,
	    const struct sockaddr *, const uint8_t *, size_t);
void	 net_keepalive(struct iked *, const struct iked_sa *);
const char *print_host(const struct sockaddr *, char *, size_t);
in_port_t sa_port(const struct sockaddr *);
void	 sa_setport(struct sockaddr *, in_port_t);
socklen_t sa_len(const struct sockaddr *);
void	 sa_set(union iked_sockaddr *, const struct sockaddr *);
void	 sa_get(struct sockaddr_storage *, const union iked_sockaddr *);
int	 sa_cmpaddr(const struct sockaddr *, const struct sockaddr *);
int	 sa_addrorder(const struct sockaddr *, const struct sockaddr *);
int	 sa_inprefix(const struct sockaddr *, const struct sockaddr *, int);

/* kernel.c: PF_KEY */
int	 kernel_init(struct iked *);
const char *kernel_name(u_int);
void	 kernel_close(struct iked *);
struct iked_spd *kernel_spd_iface(struct iked *, u_int, int);
int	 ikesa_iface_child(struct iked_child *, int);
struct iked_spd *kernel_spd_byid(struct iked *, uint32_t);
void	 kernel_spd_init(struct iked *);
void	 kernel_spd_insert(struct iked *, struct iked_spd *);
void	 kernel_spd_flush(struct iked *);
struct iked_spd *kernel_spd_dst_first(struct iked *, uint8_t, int,
	    const uint8_t *);
struct iked_spd *kernel_spd_dst_next(struct iked *, struct iked_spd *);
struct iked_spd *kernel_spd_find(struct iked *, uint8_t,
	    const struct sockaddr *, uint8_t, const struct sockaddr *, uint8_t,
	    uint8_t);
int	 kernel_getspi(struct iked *, struct iked_child *);
#define KERNEL_SA_IN	0x01
#define KERNEL_SA_OUT	0x02
int	 kernel_install(struct iked *, struct iked_child *, const uint8_t *,
	    const uint8_t *, size_t, size_t, int);
void	 kernel_delete(struct iked *, struct iked_child *);
void	 kernel_delete_dir(struct iked *, struct iked_child *, int);
void	 kernel_ipcomp_unused(struct iked *, struct iked_child *);
void	 kernel_delete_peer(struct iked *, const struct sockaddr *,
	    const struct sockaddr *);
void	 kernel_acquire_fail(struct iked *, uint32_t, int);
int	 kernel_install_flows(struct iked *);
void	 kernel_remove_flows(struct iked *);
int	 kernel_generate_flows(struct iked *, struct iked_child *);
uint8_t	 kernel_ealg(uint16_t);
uint8_t	 kernel_aalg(uint16_t, uint16_t);

/* ikesa.c: SAs, timers, dispatch */
void	 ikesa_init(struct iked *);
struct iked_sa *ikesa_new(struct iked *, int, int, struct iked_policy *,
	    const struct sockaddr *, const struct sockaddr *, const uint8_t *);
void	 ikesa_free(struct iked_sa *);
void	 ikesa_dead(struct iked_sa *, const char *);
struct iked_sa *ikesa_bycookies(struct iked *, const uint8_t *,
	    const uint8_t *);
struct iked_sa *ikesa_spi_first(struct iked *, const uint8_t *);
struct iked_sa *ikesa_spi_next(struct iked_sa *);
/* The SAs whose SPIi (IKEv1: CKY-I) is spi. */
#define IKESA_FOREACH_SPI(sa, env, spi)					\
	for ((sa) = ikesa_spi_first((env), (spi)); (sa) != NULL;	\
	    (sa) = ikesa_spi_next(sa))
/* The IKE SAs with peer's address (any port), oldest first. */
#define IKESA_FOREACH_PEER(sa, env, peer)				\
	for ((sa) = ikesa_peer_first((env), (peer)); (sa) != NULL;	\
	    (sa) = ikesa_peer_next(sa))
struct iked_sa *ikesa_peer_first(struct iked *, const struct sockaddr *);
struct iked_sa *ikesa_peer_next(struct iked_sa *);
struct iked_sa *ikesa_bypeer(struct iked *, const struct sockaddr *,
	    struct iked_policy *);
struct iked_child *child_new(struct iked_sa *, int);
void	 child_free(struct iked_child *);
void	 child_move(struct iked_child *, struct iked_sa *);
void	 child_setold(struct iked_child *, struct iked_child *);
void	 ikesa_setreq(struct iked_sa *, struct iked_child *);
int	 ikesa_child_room(struct iked_sa *, struct iked_child *,
	    const char *);
struct iked_child *child_bymsgid(struct iked_sa *, uint32_t);
struct iked_child *child_byspid(struct iked *, uint32_t);
struct iked_child *child_byspi(struct iked *, uint32_t, int *);
struct iked_child *child_bygetspi(struct iked *, uint32_t);
struct iked_child *child_byaddseq(struct iked *, uint32_t);
void	 child_set_spi_in(struct iked_child *, uint32_t);
void	 child_set_spi_out(struct iked_child *, const uint8_t *);
void	 child_set_spid(struct iked_child *, uint32_t);
void	 child_set_getspi_seq(struct iked_child *, uint32_t);
void	 child_set_addseq(struct iked_child *, uint32_t);
void	 ikesa_set_peer(struct iked_sa *, const struct sockaddr *);
void	 ikesa_settimer(struct iked_sa *, u_int);
int	 child_settimer(struct iked_child *, u_int);
int	 tx_send(struct iked *, struct iked_tx *, struct iked_sa *,
	    uint8_t *, size_t, int, void (*)(void *), void *);
void	 tx_clear(struct iked_tx *);
void	 tx_output(struct iked *, struct iked_tx *);
void	 tx_setrx(struct iked_tx *, const uint8_t *, size_t);
int	 tx_isretransmit(struct iked *, struct iked_tx *, const uint8_t *,
	    size_t);
void	 ikesa_recv(struct iked *, int, const struct sockaddr *,
	    const struct sockaddr *, const uint8_t *, size_t);
void	 ikesa_acquire(struct iked *, uint32_t, struct iked_spd *,
	    const struct sockaddr *, const struct sockaddr *);
void	 ikesa_expire(struct iked *, uint32_t, int);
void	 ikesa_spi_deleted(struct iked *, uint32_t);
void	 ikesa_delete_done(struct iked *, uint32_t);
void	 config_ref(struct iked_config *);
void	 config_unref(struct iked_config *);
void	 iked_shutdown_sas(struct iked *);
void	 ikesa_delete(struct iked_sa *);
void	 ikesa_peerid(const struct iked_sa *, char *, size_t);
void	 ikesa_established(struct iked_sa *);
void	 ikesa_initial_contact(struct iked_sa *);
int	 ikesa_first_contact(struct iked_sa *);
void	 ikesa_dead_peer(struct iked_sa *, const char *);
void	 ikesa_liveness_start(struct iked_sa *);
void	 ikesa_liveness_next(struct iked_sa *, u_int);
void	 ikesa_update_done(struct iked *, uint32_t);
void	 ikesa_update_failed(struct iked *, uint32_t, int);
void	 ikesa_state(struct iked_sa *, enum iked_sastate);
const char *ikesa_statename(enum iked_sastate);
struct iked_policy *ikesa_rule(struct iked *, int, const struct sockaddr *,
	    const struct sockaddr *, const char *);
struct iked_sa *ikesa_responder(struct iked *, int, struct iked_policy *,
	    const struct sockaddr *, const struct sockaddr *,
	    const uint8_t *, int, const char *);
struct iked_sa *ikesa_successor(struct iked_sa *);
#define IKESA_NONCE_MAX	256	/* RFC 2409 5, RFC 7296 3.9 */
int	 ikesa_ke_mine(struct iked_sa *, size_t);
int	 ikesa_ke_peer(struct iked_sa *, const uint8_t *, size_t,
	    const uint8_t *, size_t);
void	 setbuf_dup(uint8_t **, size_t *, const void *, size_t);
const struct iked_proto *ike_proto(int);
/* An IKE version's ID type numbers, by enum iked_idtype. */
typedef uint8_t iked_idmap[ID_ASN1DN + 1];
void	 ikesa_myid(const struct iked_sa *, const iked_idmap, uint8_t *,
	    const void **, size_t *);
int	 ikesa_check_peerid(const struct iked_sa *, const iked_idmap,
	    uint8_t, const uint8_t *, size_t);
void	 child_installed(struct iked_child *);

/* ikev1.c: Main Mode, Quick Mode, Informational */
int	 ikev1_init_mm(struct iked_sa *);
int	 ikev1_init_qm(struct iked_child *);
void	 ikev1_getspi_done(struct iked_child *);
void	 ikev1_send_qm2(struct iked_child *, uint8_t *, size_t);
void	 ikev1_send_delete(struct iked_sa *, struct iked_child *);
size_t	 esp_enckeylen(uint16_t, uint16_t);
size_t	 esp_authkeylen(uint16_t);

/* ikev2.c: IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL */
int	 ikev2_init_ike(struct iked_sa *);
void	 ikev2_getspi_done(struct iked_child *);
void	 ikev2_child_answered(struct iked_child *);
void	 ikev2_child_unanswered(struct iked_child *);
void	 ikev2_next(struct iked_sa *);
void	 ikev2_send_delete(struct iked_sa *, struct iked_child *);
int	 ikev2_rekey_ike(struct iked_sa *);

/*
 * halfopen.c: flood resistance.  The half-open budget of each IKE
 * version and per source address, and which new exchanges a busy
 * daemon answers.
 */
#define IKED_HALFOPEN_V1	4096	/* IKEv1: the oldest new one evicted */
#define IKED_HALFOPEN_V2	1024	/* IKEv2: new ones refused */
#define IKED_HALFOPEN_PEER	32	/* of a version from one address */
#define IKED_HALFOPEN_TIMEOUT	60	/* seconds to be established */
#define IKED_HALFOPEN_ADMIT	(IKED_RX_BATCH / 8)	/* new exchanges
							   of a version
							   answered per busy
							   batch */
void	 halfopen_init(struct iked *);
void	 halfopen_clear(struct iked *);
int	 halfopen_reserve(struct iked *, int, const struct sockaddr *,
	    const uint8_t *);
int	 halfopen_enter(struct iked_sa *, int);
void	 halfopen_proven(struct iked_sa *);
void	 halfopen_leave(struct iked_sa *);
u_int	 halfopen_count(const struct iked *, int);
int	 halfopen_quiet(const struct iked *);
void	 halfopen_log(const struct iked *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
void	 halfopen_batch(struct iked *, int);
int	 halfopen_batch_busy(struct iked *, int);
void	 halfopen_continued(struct iked *);
int	 halfopen_admit(struct iked *, int, const struct sockaddr *,
	    const uint8_t *);

/* ikesa.c: version-independent entry points */
void	 ikesa_send_delete(struct iked_sa *, struct iked_child *);
int	 ikesa_start_child(struct iked_child *);

/*
 * natt.c: NAT detection (RFC 3947 for IKEv1, RFC 7296 2.23 for IKEv2)
 * and the float to port 4500, for both versions.  The versions differ
 * in the hash (IKEv1: the phase 1 PRF's; IKEv2: SHA-1) and in how the
 * payloads travel; what is hashed, what a mismatch means and the move
 * to port 4500 are the same.
 */
#define NATT_HASH_MAX	64
int	 natt_hash(const struct iked_sa *, struct iked_hash *,
	    const struct sockaddr *, uint8_t *, size_t *);
int	 natt_claim(const struct iked_sa *, struct iked_hash *, uint8_t *,
	    size_t *);
void	 natt_result(struct iked_sa *, int, int);
void	 natt_float(struct iked_sa *);

/* iked.c */
int	 iked_reload(struct iked *);
int	 iked_load(struct iked *, const char *);
int	 iked_loadfile(struct iked *, const char *, struct iked_config **);
void	 iked_apply(struct iked *, struct iked_config *, int);
void	 iked_run(struct iked *);
void	 iked_pidfile_forget(void);
void	 iked_nocore(void);

/* control.c: the control socket of ikectl(8) */
void	 control_listen(struct iked *);
void	 control_init(struct iked *);
void	 control_close(void);
void	 control_forget(void);
void	 control_reloaded(uint32_t, int, const char *);

/*
 * proc.c: privilege separation.  The parent (root) and the engine
 * (IKED_USER, chrooted) talk over an imsg channel (these types) and a
 * PF_KEY channel: a SOCK_SEQPACKET pair carrying the engine's PF_KEY
 * messages, which the parent checks (pfkey_filter.c) before the kernel
 * sees them, and the kernel's, which the parent passes on.
 */
#define IKED_USER	"_iked"
enum iked_imsg {
	IMSG_NONE = 0,
	IMSG_RELOAD,		/* engine: peerid, the file or "" */
	IMSG_RELOADED,		/* parent: peerid, int 0 or -1, the file */
	IMSG_CFG_START,		/* parent: struct cfgmsg_config */
	IMSG_CFG_POLICY,	/* struct cfgmsg_policy, PSK, file name */
	IMSG_CFG_FLOW,		/* struct cfgmsg_flow */
	IMSG_CFG_PROPOSAL,	/* struct cfgmsg_proposal */
	IMSG_CFG_END,		/* the configuration is whole */
	IMSG_CA_BEGIN,		/* parent to ca: a new set of files */
	IMSG_CA_FILE,		/* parent to ca: u8 kind, name; the file */
	IMSG_CA_END,		/* parent to ca: the files are all there */
	IMSG_CA_OCSPCONF,	/* parent to ca: long tolerate, maxage; URL */
	IMSG_CA_CONNECT,	/* ca to parent: host, port (OCSP) */
	IMSG_CA_CONNECTED	/* parent to ca: the socket, or none */
};
struct passwd;
__dead void proc_parent(struct iked *, struct passwd *);
void	 proc_engine_start(struct iked *);
void	 proc_engine_close(struct iked *);
int	 proc_reload(struct iked *, uint32_t, const char *);

/* auth.c: public key authentication, the ca process's requests */
#define IKED_DIR	"/etc/iked"
#define IKED_OCSP_TOLERATE	300	/* seconds of clock skew */
#define AUTH_MSG_MAX	(64 * 1024)	/* a request or an answer */
/* What the engine waits for the ca process: an OCSP check included. */
#define AUTH_WAIT_MS	10000
typedef void (*auth_file_cb)(enum ca_filekind, const char *, int, void *);
int	 auth_walk(const char *, auth_file_cb, void *);
uint8_t	*auth_readfd(int, const char *, size_t *);
struct ca_store *auth_load(const char *);
int	 auth_check_config(struct ca_store *, const struct iked_config *,
	    const char *, int);
size_t	 auth_dispatch(struct ca_store *, const uint8_t *, size_t,
	    uint8_t *, size_t);
int	 auth_local(struct iked *, const struct iked_id *, uint8_t *, size_t,
	    size_t *, uint8_t *, uint8_t *, size_t, size_t *, char *, size_t);
int	 auth_certreq(struct iked *, uint8_t *, size_t, size_t *);
void	 auth_forget(void);
struct ikemsg;
struct ikebuf;
int	 auth_chain_from(const struct ikemsg *, uint8_t, uint8_t, uint8_t *,
	    size_t *);
void	 auth_chain_build(struct ikebuf *, const uint8_t *, size_t,
	    int (*)(struct ikebuf *, uint8_t, uint8_t, const void *, size_t),
	    uint8_t, uint8_t);
/* Signatures and verdicts, answered through the event loop (auth_cb). */
struct auth_answer {
	int		 aa_ok;			/* 0, or -1 with aa_why */
	int		 aa_signok;		/* VERIFYSIGN: 0 signed, or
						   -1 (verified) with aa_why */
	char		 aa_why[CA_WHY_MAX];
	uint8_t		 aa_method;		/* SIGN: the AUTH method */
	uint8_t		 aa_sig[CA_SIG_MAX];	/* SIGN, SIGNV1 */
	size_t		 aa_siglen;
};
typedef void (*auth_cb)(struct iked *, void *, const struct auth_answer *);
int	 auth_sign_start(struct iked *, enum ca_authmode, unsigned int,
	    const uint8_t *, size_t, auth_cb, void *);
int	 auth_sign_v1_start(struct iked *, const uint8_t *, size_t, auth_cb,
	    void *);
int	 auth_verify_start(struct iked *, const struct ca_peer *, auth_cb,
	    void *);
int	 auth_verify_sign_start(struct iked *, const struct ca_peer *,
	    enum ca_authmode, unsigned int, const uint8_t *, size_t, auth_cb,
	    void *);
void	 auth_cancel(struct iked *, void *);
void	 auth_deliver(struct iked *);
u_int	 auth_ready(struct iked *);
void	 auth_close(struct iked *);
void	 iked_loadkeys(struct iked *);
int	 auth_tcp_connect(const char *, const char *);
void	 auth_set_ocsp(struct ca_store *, const struct iked_config *);

/* cfgmsg.c: a configuration over the imsg channel */
struct imsg;
int	 cfgmsg_send(struct imsgbuf *, const struct iked_config *);
struct cfgmsg_state {
	struct iked_config	*cs_cf;		/* being received */
	struct iked_policy	*cs_pol;	/* the last policy */
	u_int			 cs_npol;	/* policies to come */
	u_int			 cs_nflow;	/* of cs_pol, to come */
	u_int			 cs_nprop;
};
int	 cfgmsg_recv(struct cfgmsg_state *, const struct imsg *,
	    struct iked_config **);
void	 cfgmsg_abort(struct cfgmsg_state *);

/* pfkey_filter.c: what the engine may ask of the kernel */
struct pfkey_ids;
struct pfkey_ids *pfkey_ids_new(void);
void	 pfkey_ids_free(struct pfkey_ids *);
u_int	 pfkey_ids_count(const struct pfkey_ids *);
int	 pfkey_filter(const void *, size_t, uint32_t,
	    const struct pfkey_ids *);
void	 pfkey_filter_learn(const void *, size_t, uint32_t,
	    struct pfkey_ids *);

/* control_cmd.c: its command lines */
#define CONTROL_LINE_MAX	256	/* a command line with its newline */
enum control_frame {
	CONTROL_FRAME_MORE,	/* no newline yet */
	CONTROL_FRAME_LINE,
	CONTROL_FRAME_TOOLONG
};
enum control_cmd {
	CONTROL_UNKNOWN = 0,
	CONTROL_SHOW_SA,
	CONTROL_SHOW_FLOW,
	CONTROL_SHOW_STATS,
	CONTROL_RELOAD,
	CONTROL_LOAD,		/* FILE */
	CONTROL_RESET_ALL,
	CONTROL_RESET_SA,
	CONTROL_RESET_IKE,
	CONTROL_RESET_ID,	/* ID */
	CONTROL_COUPLE,
	CONTROL_DECOUPLE,
	CONTROL_LOG_VERBOSE,
	CONTROL_LOG_BRIEF,
	CONTROL_INITIATE,	/* NAME */
	CONTROL_TERMINATE	/* NAME */
};
enum control_frame control_frame(const char *, size_t, int, size_t *);
enum control_cmd control_parse(const char *, size_t, char *, size_t,
	    const char **);

/* show.c: the SAs and counters as text (SIGUSR1, ikectl show) */
void	 show_sas(FILE *, const struct iked *);
void	 show_stats(FILE *, const struct iked *);
void	 show_flows(FILE *, const struct iked *);

/* log.c (shared: sbin/common) */
#include "../common/log.h"

#endif /* IKED_H */
