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

#include <netinet/in.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#ifndef __dead
#define __dead	__attribute__((__noreturn__))
#endif

#define IKED_CONFIG		"/etc/iked.conf"
#define IKED_NAME_MAX		64
#define IKED_ID_MAX		256
#define IKED_PSK_MAX		256
#define IKED_XFORM_MAX		8	/* transforms of one type per proposal */
#define IKED_PROTO_MAX		8	/* protocols in "proto { ... }" */

/* Defaults of the lifetimes; "set ikelifetime" and "set lifetime" change them. */
#define IKED_IKELIFETIME_DEFAULT	(24 * 3600)
#define IKED_LIFETIME_DEFAULT		(3 * 3600)
#define IKED_LIFEBYTES_DEFAULT		(4ULL << 30)
#define IKED_DPD_DEFAULT		60

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
	const struct iked_xform	*prop_xf[XF_NTYPES][IKED_XFORM_MAX];
	u_int			 prop_nxf[XF_NTYPES];
	int			 prop_esn;	/* child SA: extended sequence numbers */
	int			 prop_nogroup;	/* child SA: "group none" written */
	TAILQ_ENTRY(iked_proposal) prop_entry;
};
TAILQ_HEAD(iked_proposals, iked_proposal);

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
	ID_IPV6
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

struct iked_policy {
	char			 pol_name[IKED_NAME_MAX];
	int			 pol_version;	/* 1 or 2 */
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
	char			*pol_file;	/* where it was written */
	int			 pol_line;
	TAILQ_ENTRY(iked_policy) pol_entry;
};
TAILQ_HEAD(iked_policies, iked_policy);

#define CFG_PASSIVE		0x01	/* set passive: no rule initiates */
#define CFG_DECOUPLE		0x02	/* set decouple: no SA reaches the kernel */
#define CFG_FRAGMENTATION	0x04	/* set fragmentation (RFC 7383) */
#define CFG_ENFORCESINGLEIKESA	0x08
#define CFG_NOVENDORID		0x10

struct iked_config {
	u_int			 cfg_flags;
	u_int			 cfg_dpd_interval;	/* seconds, 0 = off */
	uint64_t		 cfg_ikelifetime;
	uint64_t		 cfg_lifetime;
	uint64_t		 cfg_lifebytes;
	struct iked_policies	 cfg_policies;
	u_int			 cfg_npolicies;
};

/* The daemon's state. */
struct iked {
	const char		*sc_conffile;
	int			 sc_debug;
	int			 sc_verbose;
	struct iked_config	*sc_config;	/* the running configuration */
};

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
struct iked_config *config_new(void);
void	 config_free(struct iked_config *);
struct iked_policy *policy_new(int);
void	 policy_free(struct iked_policy *);
struct iked_proposal *proposal_new(struct iked_policy *, enum iked_proptype);
int	 proposal_complete(struct iked_policy *, struct iked_proposal *,
	    char *, size_t);
void	 policy_defaults(struct iked_config *, struct iked_policy *);
void	 config_setrunning(struct iked *, struct iked_config *);

/* print.c */
const char *print_addr(const struct iked_addr *, char *, size_t);
const char *print_time(uint64_t, char *, size_t);
const char *print_bytes(uint64_t, char *, size_t);
void	 print_config(FILE *, const struct iked_config *, int);

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

/* log.c */
void	 log_init(int, int);
void	 log_setverbose(int);
int	 log_getverbose(void);
void	 log_warn(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	 log_warnx(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	 log_info(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	 log_debug(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	 logit(int, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));
void	 vlog(int, const char *, va_list)
	    __attribute__((__format__(printf, 2, 0)));
__dead void fatal(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
__dead void fatalx(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));

#endif /* IKED_H */
