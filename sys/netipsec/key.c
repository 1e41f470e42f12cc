/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The key engine: PF_KEY message processing (key_parse() and one handler
 * per message type), the SAD, the policy side of the SPD (key_spd.c holds
 * its tables), ACQUIRE and EXPIRE, registrations, the once-a-second timer
 * and the net.key.* tunables.  FreeBSD's semantics (sys/netipsec/key.c)
 * unless a comment says otherwise.
 */

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/key.h>
#include <netipsec/key_var.h>
#include <netipsec/keysock.h>
#include <netipsec/esp.h>
#include <netipsec/ah.h>
#include <netipsec/ipcomp.h>
#include <netipsec/ipsec_hook_var.h>


MALLOC_DEFINE(M_IPSEC_SP, "ipsecpolicy", "security policy");
MALLOC_DEFINE(M_IPSEC_SR, "ipsecrequest", "security policy request");
MALLOC_DEFINE(M_IPSEC_SAH, "ipsec-sah", "SA head");
MALLOC_DEFINE(M_IPSEC_SA, "ipsec-sa", "security association");
MALLOC_DEFINE(M_IPSEC_SAQ, "ipsec-saq", "ACQUIRE entries, registrations");
MALLOC_DEFINE(M_IPSEC_MISC, "ipsec-misc", "PF_KEY messages, keys");

/*
 * Tunables.  Each line: name, what it changes, default.
 */
/* net.key.debug: log why messages are refused (KEYDEBUG_* mask), 0 */
int key_debug_level = 0;
/* net.key.spi_trycnt: random SPIs tried by GETSPI before EEXIST, 1000 */
u_int key_spi_trycnt = 1000;
/* net.key.spi_minval: smallest SPI GETSPI hands out, 0x100 */
uint32_t key_spi_minval = 0x100;
/* net.key.spi_maxval: largest SPI GETSPI hands out, 0x0fffffff */
uint32_t key_spi_maxval = 0x0fffffff;
/* net.key.larval_lifetime: seconds a larval SA (GETSPI) lives, 30 */
u_int key_larval_lifetime = 30;
/*
 * net.key.debug_seq_start: the output sequence number a new ESP SA counts
 * from, 0 (FreeBSD's).  A test aid with no FreeBSD counterpart: started
 * near 2^32, an SA crosses the boundary of the low half (ESN) or reaches
 * its wrap within a few packets.  Never set it on a production host.
 */
uint32_t key_debug_seq_start = 0;
/*
 * net.key.blockacq_interval: seconds between two ACQUIREs for one SA
 * index while packets keep asking, 1.  (FreeBSD counts packets instead,
 * net.key.blockacq_count; we throttle by time.)
 */
u_int key_blockacq_interval = 1;
/* net.key.blockacq_lifetime: seconds an ACQUIRE keeps its seq, 20 */
u_int key_blockacq_lifetime = 20;
/* net.key.preferred_oldsa: outbound traffic uses the oldest SA, 1 */
int key_preferred_oldsa = 1;
/* net.key.esp_keymin: smallest ESP key bits offered in ACQUIRE, 256 */
u_int key_esp_keymin = 256;
/* net.key.ah_keymin: smallest AH key bits offered in ACQUIRE, 128 */
u_int key_ah_keymin = 128;
/* net.key.esp_auth: ACQUIRE offers ESP with AH authentication, 0 */
int key_esp_auth = 0;
/*
 * Ceilings (FreeBSD has none).  net.key.sa_max: SAs in the SAD, larval
 * ones included, beyond which GETSPI and ADD answer ENOBUFS, 65536.  An
 * SA costs about 3 KiB here (its crypto contexts, mostly), so the ceiling
 * is about 200 MiB: 32768 inbound/outbound pairs, room for a gateway of
 * 16000 tunnels that all rekey at once (old and new pair side by side).
 */
u_int key_sa_max = 65536;
/*
 * net.key.sp_max: policies in the SPD beyond which SPDADD answers
 * ENOBUFS, 65536 (two per tunnel, with the same room as sa_max).
 */
u_int key_sp_max = 65536;
/*
 * net.key.acq_max: SA indexes waiting for an ACQUIRE's answer; beyond, a
 * new ACQUIRE is not sent (the packet path counts it), 4096.  Entries go
 * when answered or after net.key.blockacq_lifetime; the table is a list,
 * so its length is also the cost of one lookup.
 */
u_int key_acq_max = 4096;

struct key_sysctl {
	const char	*name;
	void		*var;
	int		 size;		/* 4: (u)int32 */
	long		 min;
	long		 max;
	const char	*descr;
};

static const struct key_sysctl key_sysctls[] = {
	{ "net.inet.ipcomp.ipcomp_enable", &ipcomp_enable, 4, 0, 1,
	    "IPComp: 0 skips IPComp requests and drops IPComp packets" },
	{ "net.inet.ipcomp.minlen", &ipcomp_minlen, 4, 0, 65535,
	    "packets of at most this many bytes go uncompressed" },
	{ "net.inet.ipsec.acq_hold", &ipsec_acq_hold, 4, 0, 4096,
	    "packets kept per pending ACQUIRE (0: drop, as FreeBSD)" },
	{ "net.inet.ipsec.acq_hold_total", &ipsec_acq_hold_total, 4, 0,
	    1000000, "packets kept for all pending ACQUIREs" },
	{ "net.inet.ipsec.dfbit", &ipsec_dfbit, 4, 0, 2,
	    "DF of tunnel headers: 0 clear, 1 set, 2 copy the inner one" },
	{ "net.inet.ipsec.esp_net_deflev", &ipsec_esp_net_deflev, 4, 1, 3,
	    "level of tunnel-mode ESP requests at level default" },
	{ "net.inet.ipsec.esp_trans_deflev", &ipsec_esp_trans_deflev, 4, 1, 3,
	    "level of transport-mode ESP requests at level default" },
	{ "net.key.acq_max", &key_acq_max, 4, 1, 1000000,
	    "pending ACQUIREs beyond which no new one is sent" },
	{ "net.key.ah_keymin", &key_ah_keymin, 4, 0, 65535,
	    "smallest AH key length offered in ACQUIRE (bits)" },
	{ "net.key.blockacq_interval", &key_blockacq_interval, 4, 0, 3600,
	    "seconds between ACQUIREs for one SA index" },
	{ "net.key.blockacq_lifetime", &key_blockacq_lifetime, 4, 1, 86400,
	    "seconds an ACQUIRE keeps its sequence number" },
	{ "net.key.debug", &key_debug_level, 4, 0, INT_MAX,
	    "log why PF_KEY messages are refused" },
	{ "net.key.debug_seq_start", &key_debug_seq_start, 4, 0, 0xffffffffL,
	    "test aid: output sequence number new SAs count from" },
	{ "net.key.esp_auth", &key_esp_auth, 4, 0, 1,
	    "ACQUIRE offers ESP combined with AH authentication" },
	{ "net.key.esp_keymin", &key_esp_keymin, 4, 0, 65535,
	    "smallest ESP key length offered in ACQUIRE (bits)" },
	{ "net.key.larval_lifetime", &key_larval_lifetime, 4, 1, 86400,
	    "seconds a larval SA lives" },
	{ "net.key.preferred_oldsa", &key_preferred_oldsa, 4, 0, 1,
	    "outbound traffic uses the oldest SA" },
	{ "net.key.sa_max", &key_sa_max, 4, 1, 16777216,
	    "SAs (larval included) beyond which GETSPI and ADD fail" },
	{ "net.key.sp_max", &key_sp_max, 4, 1, 16777216,
	    "policies beyond which SPDADD fails" },
	{ "net.key.spi_maxval", &key_spi_maxval, 4, 0x100, 0xffffffffL,
	    "largest SPI allocated by GETSPI" },
	{ "net.key.spi_minval", &key_spi_minval, 4, 0x100, 0xffffffffL,
	    "smallest SPI allocated by GETSPI" },
	{ "net.key.spi_trycnt", &key_spi_trycnt, 4, 1, 1000000,
	    "random SPIs tried before GETSPI gives up" },
};

int
key_sysctl_set(const char *name, long value)
{
	const struct key_sysctl *ks;
	size_t i;

	for (i = 0; i < nitems(key_sysctls); i++) {
		ks = &key_sysctls[i];
		if (strcmp(ks->name, name) != 0)
			continue;
		if (value < ks->min || value > ks->max)
			return (EINVAL);
		if (strcmp(name, "net.key.spi_minval") == 0 &&
		    (uint32_t)value > key_spi_maxval)
			return (EINVAL);
		if (strcmp(name, "net.key.spi_maxval") == 0 &&
		    (uint32_t)value < key_spi_minval)
			return (EINVAL);
		*(uint32_t *)ks->var = (uint32_t)value;
		return (0);
	}
	return (ENOENT);
}

int
key_sysctl_get(const char *name, long *value)
{
	size_t i;

	for (i = 0; i < nitems(key_sysctls); i++) {
		if (strcmp(key_sysctls[i].name, name) == 0) {
			*value = (long)*(uint32_t *)key_sysctls[i].var;
			return (0);
		}
	}
	return (ENOENT);
}

void
key_sysctl_foreach(void (*fn)(const char *, long, const char *, void *),
    void *arg)
{
	size_t i;

	for (i = 0; i < nitems(key_sysctls); i++)
		fn(key_sysctls[i].name, (long)*(uint32_t *)key_sysctls[i].var,
		    key_sysctls[i].descr, arg);
}

/*
 * Locks and tables.
 */
struct rwlock sptree_lock;
struct rwlock sahtree_lock;
struct mtx acq_lock;
struct mtx regtree_lock;

static TAILQ_HEAD(, secashead) sahtree = TAILQ_HEAD_INITIALIZER(sahtree);
static LIST_HEAD(, secacq) acqtree = LIST_HEAD_INITIALIZER(acqtree);
/*
 * FreeBSD's acqaddrhashtbl and acqseqhashtbl: the pending ACQUIREs by
 * SA index (its protocol and addresses) and by seq, so that neither a
 * packet nor an SADB_ADD walks them all.
 */
#define	ACQHASH_NHASH	1024			/* a power of two */
static LIST_HEAD(, secacq) acqaddrhashtbl[ACQHASH_NHASH];
static LIST_HEAD(, secacq) acqseqhashtbl[ACQHASH_NHASH];
#define	ACQADDRHASH(saidx)	(&acqaddrhashtbl[key_saidx_hash(saidx) & \
				    (ACQHASH_NHASH - 1)])
#define	ACQSEQHASH(seq)		(&acqseqhashtbl[(seq) & (ACQHASH_NHASH - 1)])
static uint32_t acq_seq;
static u_int acq_count;		/* entries in acqtree */
static uint32_t policy_id;
static uint32_t auto_reqid = IPSEC_MANUAL_REQID_MAX;
static u_int sav_count;
/* Refusals at the ceilings (key_getstat(): struct keystat). */
static struct {
	counter_u64_t	ks_sadfull;
	counter_u64_t	ks_spdfull;
	counter_u64_t	ks_acqfull;
	counter_u64_t	ks_dumpbusy;
} keystat;

/*
 * A refusal at a ceiling is counted each time and logged at most once
 * per KEY_LIMLOG_INTERVAL seconds, with the count so far: a client that
 * hammers a full table cannot flood the log.  key_limit_hit() runs under
 * the lock of the table concerned, the caller logs after unlocking.
 */
#define	KEY_LIMLOG_INTERVAL	10

struct key_limlog {
	time_t		ll_last;	/* uptime of the last line, 0: none */
};
static struct key_limlog key_sadfull_log, key_spdfull_log, key_acqfull_log;

static int
key_limit_hit(counter_u64_t *counter, struct key_limlog *ll)
{
	time_t now;

	COUNTER_ADD(*counter, 1);
	now = time_uptime;
	if (ll->ll_last != 0 && now - ll->ll_last < KEY_LIMLOG_INTERVAL)
		return (0);
	ll->ll_last = now;
	return (1);
}

struct secreg {
	LIST_ENTRY(secreg)	chain;
	struct keycb		*so;
};
static LIST_HEAD(, secreg) regtree[SADB_SATYPE_MAX + 1];

static struct callout key_timer;
static int key_inited;

/*
 * The supported algorithms, as REGISTER reports them and ADD/UPDATE
 * accept them.  Key lengths are in bits; AEAD and counter-mode keys carry
 * a 4-byte salt (RFC 4106, RFC 3686, RFC 7634), counted here as FreeBSD
 * counts it.
 */
struct key_alg {
	uint8_t		id;
	uint8_t		ivlen;
	uint16_t	minbits;
	uint16_t	maxbits;
	uint8_t		flags;
#define	KEY_ALG_AEAD	0x01	/* combined mode: no separate auth */
#define	KEY_ALG_AES	0x02	/* key 128, 192 or 256 (+ salt) only */
#define	KEY_ALG_SALT	0x04	/* 32 salt bits included */
#define	KEY_ALG_NOPROP	0x08	/* never offered in ACQUIRE */
};

static const struct key_alg key_ealgs[] = {
	{ SADB_EALG_NULL, 0, 0, 2048, KEY_ALG_NOPROP },
	{ SADB_X_EALG_AESCBC, 16, 128, 256, KEY_ALG_AES },
	{ SADB_X_EALG_AESCTR, 8, 160, 288, KEY_ALG_AES | KEY_ALG_SALT },
	{ SADB_X_EALG_CHACHA20POLY1305, 8, 288, 288,
	    KEY_ALG_AEAD | KEY_ALG_SALT },
	{ SADB_X_EALG_AESGCM16, 8, 160, 288,
	    KEY_ALG_AEAD | KEY_ALG_AES | KEY_ALG_SALT },
};

static const struct key_alg key_aalgs[] = {
	{ SADB_AALG_SHA1HMAC, 0, 160, 160, 0 },
	{ SADB_X_AALG_SHA2_256, 0, 256, 256, 0 },
	{ SADB_X_AALG_SHA2_384, 0, 384, 384, 0 },
	{ SADB_X_AALG_SHA2_512, 0, 512, 512, 0 },
	{ SADB_X_AALG_NULL, 0, 0, 2048, KEY_ALG_NOPROP },
	{ SADB_X_AALG_TCP_MD5, 0, 8, 640, KEY_ALG_NOPROP },
};

static const struct key_alg key_calgs[] = {
	{ SADB_X_CALG_DEFLATE, 0, 0, 0, 0 },
};

static const struct key_alg *
key_alg_lookup(const struct key_alg *tab, size_t n, u_int id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tab[i].id == id)
			return (&tab[i]);
	return (NULL);
}
#define	key_ealg(id)	key_alg_lookup(key_ealgs, nitems(key_ealgs), (id))
#define	key_aalg(id)	key_alg_lookup(key_aalgs, nitems(key_aalgs), (id))
#define	key_calg(id)	key_alg_lookup(key_calgs, nitems(key_calgs), (id))

static int
key_alg_keyok(const struct key_alg *a, u_int bits)
{
	u_int k;

	if (bits % 8 != 0 || bits < a->minbits || bits > a->maxbits)
		return (0);
	if (a->flags & KEY_ALG_AES) {
		k = bits - ((a->flags & KEY_ALG_SALT) ? 32 : 0);
		return (k == 128 || k == 192 || k == 256);
	}
	return (1);
}

/*
 * Protocols and SA types.
 */
static uint8_t
key_satype2proto(uint8_t satype)
{

	switch (satype) {
	case SADB_SATYPE_UNSPEC:
		return (IPSEC_PROTO_ANY);
	case SADB_SATYPE_AH:
		return (IPPROTO_AH);
	case SADB_SATYPE_ESP:
		return (IPPROTO_ESP);
	case SADB_X_SATYPE_IPCOMP:
		return (IPPROTO_IPCOMP);
	case SADB_X_SATYPE_TCPSIGNATURE:
		return (IPPROTO_TCP);
	}
	return (0);
}

static uint8_t
key_proto2satype(uint8_t proto)
{

	switch (proto) {
	case IPPROTO_AH:
		return (SADB_SATYPE_AH);
	case IPPROTO_ESP:
		return (SADB_SATYPE_ESP);
	case IPPROTO_IPCOMP:
		return (SADB_X_SATYPE_IPCOMP);
	case IPPROTO_TCP:
		return (SADB_X_SATYPE_TCPSIGNATURE);
	}
	return (0);
}

/*
 * Socket addresses.  Everything stored is canonical: a zeroed union with
 * family, port, address (and scope for IPv6) only, so that comparisons
 * can look at whole fields.
 */
static u_int
key_sa_plen(int family)
{

	return (family == AF_INET6 ? 128 : family == AF_INET ? 32 : 0);
}

void
key_sa_copy(union sockaddr_union *dst, const struct sockaddr *sa, int port)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(dst, 0, sizeof(*dst));
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		dst->sin.sin_family = AF_INET;
#ifdef UKERN_HAVE_SA_LEN
		dst->sin.sin_len = sizeof(struct sockaddr_in);
#endif
		dst->sin.sin_addr = sin->sin_addr;
		if (port)
			dst->sin.sin_port = sin->sin_port;
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		dst->sin6.sin6_family = AF_INET6;
#ifdef UKERN_HAVE_SA_LEN
		dst->sin6.sin6_len = sizeof(struct sockaddr_in6);
#endif
		dst->sin6.sin6_addr = sin6->sin6_addr;
		dst->sin6.sin6_scope_id = sin6->sin6_scope_id;
		if (port)
			dst->sin6.sin6_port = sin6->sin6_port;
		break;
	}
}

static int
key_sa_cmp(const union sockaddr_union *a, const union sockaddr_union *b)
{

	if (a->sa.sa_family != b->sa.sa_family)
		return (a->sa.sa_family < b->sa.sa_family ? -1 : 1);
	if (a->sa.sa_family == AF_INET6)
		return (memcmp(&a->sin6, &b->sin6, sizeof(a->sin6)));
	return (memcmp(&a->sin, &b->sin, sizeof(a->sin)));
}

/*
 * Message parsing.
 */
struct sadb_msghdr {
	struct sadb_msg		*msg;
	size_t			 len;
	struct sadb_ext		*ext[SADB_EXT_MAX + 1];
	size_t			 extlen[SADB_EXT_MAX + 1];
};

#define	SADB_CHECKHDR(mhp, t)	((mhp)->ext[(t)] == NULL)
#define	SADB_CHECKLEN(mhp, t)	((mhp)->extlen[(t)] < key_minsize[(t)])

/* Smallest extension of each type; 0 = not accepted from users. */
static const uint16_t key_minsize[SADB_EXT_MAX + 1] = {
	[SADB_EXT_SA] = sizeof(struct sadb_sa),
	[SADB_EXT_LIFETIME_CURRENT] = sizeof(struct sadb_lifetime),
	[SADB_EXT_LIFETIME_HARD] = sizeof(struct sadb_lifetime),
	[SADB_EXT_LIFETIME_SOFT] = sizeof(struct sadb_lifetime),
	[SADB_EXT_ADDRESS_SRC] = sizeof(struct sadb_address),
	[SADB_EXT_ADDRESS_DST] = sizeof(struct sadb_address),
	[SADB_EXT_ADDRESS_PROXY] = sizeof(struct sadb_address),
	[SADB_EXT_KEY_AUTH] = sizeof(struct sadb_key),
	[SADB_EXT_KEY_ENCRYPT] = sizeof(struct sadb_key),
	[SADB_EXT_IDENTITY_SRC] = sizeof(struct sadb_ident),
	[SADB_EXT_IDENTITY_DST] = sizeof(struct sadb_ident),
	[SADB_EXT_SENSITIVITY] = sizeof(struct sadb_sens),
	[SADB_EXT_PROPOSAL] = sizeof(struct sadb_prop),
	[SADB_EXT_SUPPORTED_AUTH] = sizeof(struct sadb_supported),
	[SADB_EXT_SUPPORTED_ENCRYPT] = sizeof(struct sadb_supported),
	[SADB_EXT_SPIRANGE] = sizeof(struct sadb_spirange),
	[SADB_X_EXT_POLICY] = sizeof(struct sadb_x_policy),
	[SADB_X_EXT_SA2] = sizeof(struct sadb_x_sa2),
	[SADB_X_EXT_NAT_T_TYPE] = sizeof(struct sadb_x_nat_t_type),
	[SADB_X_EXT_NAT_T_SPORT] = sizeof(struct sadb_x_nat_t_port),
	[SADB_X_EXT_NAT_T_DPORT] = sizeof(struct sadb_x_nat_t_port),
	[SADB_X_EXT_NAT_T_OAI] = sizeof(struct sadb_address),
	[SADB_X_EXT_NAT_T_OAR] = sizeof(struct sadb_address),
	[SADB_X_EXT_NAT_T_FRAG] = sizeof(struct sadb_x_nat_t_frag),
	[SADB_X_EXT_SA_REPLAY] = sizeof(struct sadb_x_sa_replay),
	[SADB_X_EXT_NEW_ADDRESS_SRC] = sizeof(struct sadb_address),
	[SADB_X_EXT_NEW_ADDRESS_DST] = sizeof(struct sadb_address),
	[SADB_X_EXT_LFT_CUR_SW_OFFL] = sizeof(struct sadb_lifetime),
	[SADB_X_EXT_LFT_CUR_HW_OFFL] = sizeof(struct sadb_lifetime),
	[SADB_X_EXT_IF_HW_OFFL] = sizeof(struct sadb_x_if_hw_offl),
};

/* Largest extension of each fixed-size type; 0 = no limit. */
static const uint16_t key_maxsize[SADB_EXT_MAX + 1] = {
	[SADB_EXT_SA] = sizeof(struct sadb_sa),
	[SADB_EXT_LIFETIME_CURRENT] = sizeof(struct sadb_lifetime),
	[SADB_EXT_LIFETIME_HARD] = sizeof(struct sadb_lifetime),
	[SADB_EXT_LIFETIME_SOFT] = sizeof(struct sadb_lifetime),
	[SADB_EXT_SPIRANGE] = sizeof(struct sadb_spirange),
	[SADB_X_EXT_SA2] = sizeof(struct sadb_x_sa2),
	[SADB_X_EXT_NAT_T_TYPE] = sizeof(struct sadb_x_nat_t_type),
	[SADB_X_EXT_NAT_T_SPORT] = sizeof(struct sadb_x_nat_t_port),
	[SADB_X_EXT_NAT_T_DPORT] = sizeof(struct sadb_x_nat_t_port),
	[SADB_X_EXT_NAT_T_FRAG] = sizeof(struct sadb_x_nat_t_frag),
	[SADB_X_EXT_SA_REPLAY] = sizeof(struct sadb_x_sa_replay),
	[SADB_X_EXT_LFT_CUR_SW_OFFL] = sizeof(struct sadb_lifetime),
	[SADB_X_EXT_LFT_CUR_HW_OFFL] = sizeof(struct sadb_lifetime),
	[SADB_X_EXT_IF_HW_OFFL] = sizeof(struct sadb_x_if_hw_offl),
};

static int
key_isaddrext(u_int type)
{

	switch (type) {
	case SADB_EXT_ADDRESS_SRC:
	case SADB_EXT_ADDRESS_DST:
	case SADB_EXT_ADDRESS_PROXY:
	case SADB_X_EXT_NAT_T_OAI:
	case SADB_X_EXT_NAT_T_OAR:
	case SADB_X_EXT_NEW_ADDRESS_SRC:
	case SADB_X_EXT_NEW_ADDRESS_DST:
		return (1);
	}
	return (0);
}

/*
 * One extension: its length against its type (FreeBSD's
 * key_validate_ext()).  An address extension must hold exactly one
 * sockaddr of a known family and size, padded to 8 bytes; one of an
 * unknown family must at least hold a struct sockaddr, so that the family
 * can be read, and is refused later with EAFNOSUPPORT.  Nothing of a
 * sockaddr is ever copied before this check.
 */
static int
key_validate_ext(const struct sadb_ext *ext, size_t len)
{
	const struct sockaddr *sa;
	u_int type;
	size_t salen;

	type = ext->sadb_ext_type;
	if (len < key_minsize[type] ||
	    (key_maxsize[type] != 0 && len > key_maxsize[type]))
		return (EINVAL);
	if (!key_isaddrext(type))
		return (0);
	if (len < sizeof(struct sadb_address) + sizeof(struct sockaddr))
		return (EINVAL);
	sa = (const struct sockaddr *)(const void *)
	    ((const uint8_t *)ext + sizeof(struct sadb_address));
	salen = SA_LEN(sa);
#ifdef UKERN_HAVE_SA_LEN
	if (salen < sizeof(struct sockaddr))
		return (EINVAL);
#else
	if (salen == 0)
		return (0);	/* unknown family: EAFNOSUPPORT later */
#endif
	if (sizeof(struct sadb_address) + PFKEY_ALIGN8(salen) != len)
		return (EINVAL);
	return (0);
}

/*
 * Split a message into its extensions (FreeBSD's key_align()).  Every
 * failure here is a framing error: the caller's send fails, no reply.
 */
static int
key_align(struct sadb_msghdr *mhp)
{
	struct sadb_ext *ext;
	size_t off, extlen;
	u_int type;
	int error;

	off = sizeof(struct sadb_msg);
	while (off < mhp->len) {
		if (mhp->len - off < sizeof(struct sadb_ext))
			return (EINVAL);
		ext = (struct sadb_ext *)(void *)((uint8_t *)mhp->msg + off);
		extlen = PFKEY_UNUNIT64((size_t)ext->sadb_ext_len);
		type = ext->sadb_ext_type;
		if (type == SADB_EXT_RESERVED || type > SADB_EXT_MAX ||
		    type == SADB_X_EXT_KMPRIVATE) {
			PFKEYSTAT_INC(out_invexttype);
			return (EINVAL);
		}
		if (mhp->ext[type] != NULL) {
			PFKEYSTAT_INC(out_dupext);
			return (EINVAL);
		}
		if (extlen == 0 || extlen > mhp->len - off)
			return (EINVAL);
		error = key_validate_ext(ext, extlen);
		if (error != 0)
			return (error);
		mhp->ext[type] = ext;
		mhp->extlen[type] = extlen;
		off += extlen;
	}
	return (0);
}

/*
 * Building messages.  A growing buffer, zeroed, erased when freed since
 * GET and DUMP replies carry keys.  An allocation failure sticks and
 * key_mb_finish() then returns NULL.
 */
struct key_mb {
	uint8_t		*buf;
	size_t		 len;
	size_t		 cap;
	int		 error;
};

static void *
key_mb_reserve(struct key_mb *mb, size_t len)
{
	uint8_t *nbuf;
	size_t ncap;
	void *p;

	len = PFKEY_ALIGN8(len);
	if (mb->error != 0)
		return (NULL);
	if (mb->len + len > 0xffff * 8) {
		mb->error = ENOBUFS;
		return (NULL);
	}
	if (mb->len + len > mb->cap) {
		ncap = mb->cap ? mb->cap * 2 : 256;
		while (ncap < mb->len + len)
			ncap *= 2;
		nbuf = malloc(ncap, M_IPSEC_MISC, M_NOWAIT | M_ZERO);
		if (nbuf == NULL) {
			mb->error = ENOBUFS;
			return (NULL);
		}
		if (mb->buf != NULL) {
			memcpy(nbuf, mb->buf, mb->len);
			zfree(mb->buf, M_IPSEC_MISC);
		}
		mb->buf = nbuf;
		mb->cap = ncap;
	}
	p = mb->buf + mb->len;
	mb->len += len;
	return (p);
}

static void
key_mb_free(struct key_mb *mb)
{

	if (mb->buf != NULL)
		zfree(mb->buf, M_IPSEC_MISC);
	mb->buf = NULL;
}

static void *
key_mb_ext(struct key_mb *mb, size_t len, u_int type)
{
	struct sadb_ext *ext;

	ext = key_mb_reserve(mb, len);
	if (ext != NULL) {
		ext->sadb_ext_len = PFKEY_UNIT64(PFKEY_ALIGN8(len));
		ext->sadb_ext_type = type;
	}
	return (ext);
}

static void
key_mb_msg(struct key_mb *mb, u_int type, u_int satype, uint32_t seq,
    uint32_t pid, uint16_t reserved)
{
	struct sadb_msg *msg;

	memset(mb, 0, sizeof(*mb));
	msg = key_mb_reserve(mb, sizeof(*msg));
	if (msg == NULL)
		return;
	msg->sadb_msg_version = PF_KEY_V2;
	msg->sadb_msg_type = type;
	msg->sadb_msg_satype = satype;
	msg->sadb_msg_seq = seq;
	msg->sadb_msg_pid = pid;
	msg->sadb_msg_reserved = reserved;
}

static void
key_mb_copyext(struct key_mb *mb, const struct sadb_ext *ext, size_t len)
{
	void *p;

	if (ext == NULL)
		return;
	p = key_mb_reserve(mb, len);
	if (p != NULL)
		memcpy(p, ext, len);
}

static void
key_mb_addr(struct key_mb *mb, u_int type, const union sockaddr_union *su,
    u_int prefixlen, u_int proto)
{
	struct sadb_address *addr;
	size_t salen;

	salen = SA_LEN(&su->sa);
	addr = key_mb_ext(mb, sizeof(*addr) + PFKEY_ALIGN8(salen), type);
	if (addr == NULL)
		return;
	addr->sadb_address_proto = proto;
	addr->sadb_address_prefixlen = prefixlen;
	memcpy(addr + 1, su, salen);
}

static void
key_mb_lifetime(struct key_mb *mb, u_int type, const struct seclifetime *lft)
{
	struct sadb_lifetime *l;

	l = key_mb_ext(mb, sizeof(*l), type);
	if (l == NULL)
		return;
	l->sadb_lifetime_allocations = lft->allocations;
	l->sadb_lifetime_bytes = lft->bytes;
	l->sadb_lifetime_addtime = lft->addtime;
	l->sadb_lifetime_usetime = lft->usetime;
}

static void
key_mb_key(struct key_mb *mb, u_int type, const struct seckey *k)
{
	struct sadb_key *key;
	size_t klen;

	klen = (k->bits + 7) / 8;
	key = key_mb_ext(mb, sizeof(*key) + klen, type);
	if (key == NULL)
		return;
	key->sadb_key_bits = k->bits;
	if (klen > 0)		/* null algorithms have no key data */
		memcpy(key + 1, k->key_data, klen);
}

static void
key_mb_sa2(struct key_mb *mb, u_int mode, uint32_t seq, uint32_t reqid)
{
	struct sadb_x_sa2 *sa2;

	sa2 = key_mb_ext(mb, sizeof(*sa2), SADB_X_EXT_SA2);
	if (sa2 == NULL)
		return;
	sa2->sadb_x_sa2_mode = mode;
	sa2->sadb_x_sa2_sequence = seq;
	sa2->sadb_x_sa2_reqid = reqid;
}

static struct sadb_msg *
key_mb_finish(struct key_mb *mb, size_t *lenp)
{
	struct sadb_msg *msg;

	if (mb->error != 0) {
		key_mb_free(mb);
		return (NULL);
	}
	msg = (struct sadb_msg *)(void *)mb->buf;
	msg->sadb_msg_len = PFKEY_UNIT64(mb->len);
	*lenp = mb->len;
	mb->buf = NULL;
	return (msg);
}

/* A queue of messages built under a lock, sent after unlocking. */
struct key_msgq_ent {
	STAILQ_ENTRY(key_msgq_ent) link;
	struct sadb_msg		*msg;
	size_t			 len;
};
STAILQ_HEAD(key_msgq, key_msgq_ent);

static int
key_msgq_add(struct key_msgq *q, struct key_mb *mb)
{
	struct key_msgq_ent *e;
	struct sadb_msg *msg;
	size_t len;

	msg = key_mb_finish(mb, &len);
	if (msg == NULL)
		return (ENOBUFS);
	e = malloc(sizeof(*e), M_IPSEC_MISC, M_NOWAIT);
	if (e == NULL) {
		zfree(msg, M_IPSEC_MISC);
		return (ENOBUFS);
	}
	e->msg = msg;
	e->len = len;
	STAILQ_INSERT_TAIL(q, e, link);
	return (0);
}

/* Send (or, with so == NULL and target < 0, just free) every message. */
static void
key_msgq_flush(struct key_msgq *q, struct keycb *so, int target)
{
	struct key_msgq_ent *e;

	while ((e = STAILQ_FIRST(q)) != NULL) {
		STAILQ_REMOVE_HEAD(q, link);
		if (target >= 0)
			key_sendup(so, e->msg, e->len, target);
		zfree(e->msg, M_IPSEC_MISC);
		free(e, M_IPSEC_MISC);
	}
}

static void
key_mb_send(struct key_mb *mb, struct keycb *so, int target)
{
	struct sadb_msg *msg;
	size_t len;

	msg = key_mb_finish(mb, &len);
	if (msg == NULL)
		return;
	key_sendup(so, msg, len, target);
	zfree(msg, M_IPSEC_MISC);
}

/*
 * Semantic errors: the request comes back to its sender, whole, with
 * sadb_msg_errno set (FreeBSD's key_senderror() echoes the request's
 * first mbuf).  Echoing all of it also keeps it apart from netipsecd's
 * 16-byte framing-error reply.  Keys in it go back only to the socket
 * that sent them.
 */
static int
key_senderror(struct keycb *so, const struct sadb_msghdr *mhp, int code)
{

	mhp->msg->sadb_msg_errno = code;
	key_sendup(so, mhp->msg, mhp->len, KEY_SENDUP_ONE);
	return (0);
}

/*
 * The reply FreeBSD builds with key_gather_mbuf(): the request's base
 * header and the listed extensions it has, in the listed order.
 */
static void
key_gather(struct key_mb *mb, const struct sadb_msghdr *mhp,
    const uint8_t *types, size_t ntypes)
{
	struct sadb_msg *msg;
	size_t i;

	memset(mb, 0, sizeof(*mb));
	msg = key_mb_reserve(mb, sizeof(*msg));
	if (msg == NULL)
		return;
	*msg = *mhp->msg;
	msg->sadb_msg_errno = 0;
	for (i = 0; i < ntypes; i++)
		key_mb_copyext(mb, mhp->ext[types[i]],
		    mhp->extlen[types[i]]);
}

/*
 * The SAD.  SA heads are in a list (creation order, for dumps) and in a
 * tree by (proto, src, dst, mode, reqid); SAs are in a tree by SPI, one
 * SPI namespace for every protocol and destination, as FreeBSD.
 */
static int
key_sah_cmp(struct secashead *a, struct secashead *b)
{
	const struct secasindex *x, *y;
	int r;

	x = &a->saidx;
	y = &b->saidx;
	if (x->proto != y->proto)
		return (x->proto < y->proto ? -1 : 1);
	if ((r = key_sa_cmp(&x->src, &y->src)) != 0)
		return (r);
	if ((r = key_sa_cmp(&x->dst, &y->dst)) != 0)
		return (r);
	if (x->mode != y->mode)
		return (x->mode < y->mode ? -1 : 1);
	if (x->reqid != y->reqid)
		return (x->reqid < y->reqid ? -1 : 1);
	return (0);
}

static int
key_sav_cmp(struct secasvar *a, struct secasvar *b)
{
	uint32_t x, y;

	x = ntohl(a->spi);
	y = ntohl(b->spi);
	return (x < y ? -1 : x > y);
}

RB_HEAD(sah_tree, secashead);
RB_GENERATE_STATIC(sah_tree, secashead, addrtree, key_sah_cmp);
static struct sah_tree sah_root = RB_INITIALIZER(&sah_root);

RB_HEAD(spi_tree, secasvar);
RB_GENERATE_STATIC(spi_tree, secasvar, spitree, key_sav_cmp);
static struct spi_tree spi_root = RB_INITIALIZER(&spi_root);

#define	CMP_HEAD	1	/* proto, src, dst */
#define	CMP_MODE_REQID	2	/* and mode, reqid as a policy asks */
#define	CMP_EXACTLY	3	/* all fields */

static int
key_cmpsaidx(const struct secasindex *sah, const struct secasindex *idx,
    int flag)
{

	if (sah->proto != idx->proto ||
	    key_sa_cmp(&sah->src, &idx->src) != 0 ||
	    key_sa_cmp(&sah->dst, &idx->dst) != 0)
		return (0);
	switch (flag) {
	case CMP_EXACTLY:
		return (sah->mode == idx->mode && sah->reqid == idx->reqid);
	case CMP_MODE_REQID:
		if (idx->reqid != 0 && sah->reqid != idx->reqid)
			return (0);
		if (sah->mode != IPSEC_MODE_ANY && sah->mode != idx->mode)
			return (0);
		return (1);
	}
	return (1);
}

static struct secashead *
key_getsah(const struct secasindex *saidx)
{
	struct secashead key;

	key.saidx = *saidx;
	return (RB_FIND(sah_tree, &sah_root, &key));
}

/* The first SA head with the same proto, src and dst, for walking. */
static struct secashead *
key_getsah_first(const struct secasindex *saidx)
{
	struct secashead key, *sah;

	key.saidx = *saidx;
	key.saidx.mode = 0;
	key.saidx.reqid = 0;
	sah = RB_NFIND(sah_tree, &sah_root, &key);
	if (sah != NULL && !key_cmpsaidx(&sah->saidx, saidx, CMP_HEAD))
		sah = NULL;
	return (sah);
}

static struct secashead *
key_newsah(const struct secasindex *saidx)
{
	struct secashead *sah;

	SAHTREE_WLOCK_ASSERT();
	sah = key_getsah(saidx);
	if (sah != NULL)
		return (sah);
	sah = malloc(sizeof(*sah), M_IPSEC_SAH, M_NOWAIT | M_ZERO);
	if (sah == NULL)
		return (NULL);
	sah->saidx = *saidx;
	TAILQ_INIT(&sah->savtree_alive);
	TAILQ_INIT(&sah->savtree_larval);
	sah->state = SADB_SASTATE_MATURE;
	TAILQ_INSERT_TAIL(&sahtree, sah, chain);
	RB_INSERT(sah_tree, &sah_root, sah);
	return (sah);
}

static void
key_freesah(struct secashead *sah)
{

	SAHTREE_WLOCK_ASSERT();
	TAILQ_REMOVE(&sahtree, sah, chain);
	RB_REMOVE(sah_tree, &sah_root, sah);
	free(sah, M_IPSEC_SAH);
}

static struct secasvar *
key_getsavbyspi(uint32_t spi)
{
	struct secasvar key;

	key.spi = spi;
	return (RB_FIND(spi_tree, &spi_root, &key));
}

static void
key_freekey(struct seckey *k)
{

	if (k == NULL)
		return;
	if (k->key_data != NULL)
		zfree(k->key_data, M_IPSEC_MISC);
	zfree(k, M_IPSEC_MISC);
}

static void
key_cleansav(struct secasvar *sav)
{

	/* The crypto session holds copies of the keys: erase it first. */
	if (sav->sah->saidx.proto == IPPROTO_ESP)
		esp_zeroize(sav);
	else if (sav->sah->saidx.proto == IPPROTO_AH)
		ah_zeroize(sav);
	else if (sav->sah->saidx.proto == IPPROTO_IPCOMP)
		ipcomp_zeroize(sav);
	key_freekey(sav->key_auth);
	key_freekey(sav->key_enc);
	sav->key_auth = sav->key_enc = NULL;
	if (sav->replay != NULL)
		free(sav->replay, M_IPSEC_MISC);
	if (sav->natt != NULL)
		free(sav->natt, M_IPSEC_MISC);
	if (sav->lft_h != NULL)
		free(sav->lft_h, M_IPSEC_MISC);
	if (sav->lft_s != NULL)
		free(sav->lft_s, M_IPSEC_MISC);
	sav->replay = NULL;
	sav->natt = NULL;
	sav->lft_h = sav->lft_s = NULL;
}

/*
 * Unlink an SA (under the SAHTREE write lock) and free it.  Its head
 * stays, even empty: see key_sah_gc().
 */
static void
key_unlinksav(struct secasvar *sav)
{
	struct secashead *sah;

	SAHTREE_WLOCK_ASSERT();
	sah = sav->sah;
	if (sav->state == SADB_SASTATE_LARVAL)
		TAILQ_REMOVE(&sah->savtree_larval, sav, chain);
	else
		TAILQ_REMOVE(&sah->savtree_alive, sav, chain);
	RB_REMOVE(spi_tree, &spi_root, sav);
	sav->state = SADB_SASTATE_DEAD;
	sav_count--;
	key_cleansav(sav);
	COUNTER_FREE(sav->lft_c_bytes);
	zfree(sav, M_IPSEC_SA);
}

/* Free an SA head that has no SA left; callers run it after their loops. */
static void
key_sah_gc(struct secashead *sah)
{

	SAHTREE_WLOCK_ASSERT();
	if (TAILQ_EMPTY(&sah->savtree_alive) &&
	    TAILQ_EMPTY(&sah->savtree_larval))
		key_freesah(sah);
}

static struct secasvar *
key_newsav(struct secashead *sah, uint32_t spi, const struct sadb_msg *msg,
    int state)
{
	struct secasvar *sav;

	SAHTREE_WLOCK_ASSERT();
	sav = malloc(sizeof(*sav), M_IPSEC_SA, M_NOWAIT | M_ZERO);
	if (sav == NULL)
		return (NULL);
	if (COUNTER_ALLOC(sav->lft_c_bytes, M_NOWAIT) != 0) {
		free(sav, M_IPSEC_SA);
		return (NULL);
	}
	sav->spi = spi;
	sav->seq = msg->sadb_msg_seq;
	sav->pid = msg->sadb_msg_pid;
	sav->sah = sah;
	sav->state = state;
	sav->created = time_uptime;
	sav->refcnt = 1;
	if (state == SADB_SASTATE_LARVAL)
		TAILQ_INSERT_HEAD(&sah->savtree_larval, sav, chain);
	else
		TAILQ_INSERT_HEAD(&sah->savtree_alive, sav, chain);
	RB_INSERT(spi_tree, &spi_root, sav);
	sav_count++;
	return (sav);
}

/* Larval to mature: move to the head of the alive list (newest first). */
static void
key_sa_mature(struct secasvar *sav)
{
	struct secashead *sah;

	sah = sav->sah;
	if (sav->state == SADB_SASTATE_LARVAL) {
		TAILQ_REMOVE(&sah->savtree_larval, sav, chain);
		TAILQ_INSERT_HEAD(&sah->savtree_alive, sav, chain);
	}
	sav->state = SADB_SASTATE_MATURE;
}

static struct seckey *
key_dupkey(const struct sadb_ext *ext, size_t extlen, int *error)
{
	const struct sadb_key *k;
	struct seckey *sk;
	size_t klen;

	k = (const struct sadb_key *)(const void *)ext;
	klen = (k->sadb_key_bits + 7) / 8;
	if (klen > extlen - sizeof(*k)) {
		*error = EINVAL;
		return (NULL);
	}
	sk = malloc(sizeof(*sk), M_IPSEC_MISC, M_NOWAIT | M_ZERO);
	if (sk == NULL) {
		*error = ENOBUFS;
		return (NULL);
	}
	sk->bits = k->sadb_key_bits;
	if (klen > 0) {
		sk->key_data = malloc(klen, M_IPSEC_MISC, M_NOWAIT);
		if (sk->key_data == NULL) {
			free(sk, M_IPSEC_MISC);
			*error = ENOBUFS;
			return (NULL);
		}
		memcpy(sk->key_data, k + 1, klen);
	}
	return (sk);
}

static struct seclifetime *
key_duplft(const struct sadb_ext *ext, int *error)
{
	const struct sadb_lifetime *l;
	struct seclifetime *lft;

	l = (const struct sadb_lifetime *)(const void *)ext;
	lft = malloc(sizeof(*lft), M_IPSEC_MISC, M_NOWAIT | M_ZERO);
	if (lft == NULL) {
		*error = ENOBUFS;
		return (NULL);
	}
	lft->allocations = l->sadb_lifetime_allocations;
	lft->bytes = l->sadb_lifetime_bytes;
	lft->addtime = l->sadb_lifetime_addtime;
	lft->usetime = l->sadb_lifetime_usetime;
	return (lft);
}

/*
 * Check that the transform of an SA is one the IPsec layer implements,
 * with a usable key: refused here, never at packet time (FreeBSD's
 * xform_init()).  For AEAD the authenticator is implied, and the SA's
 * auth algorithm is set as FreeBSD's esp_init() sets it.
 */
static int
key_xform_check(struct secasvar *sav)
{
	const struct key_alg *ea, *aa;
	u_int ebits, abits;

	ebits = sav->key_enc ? sav->key_enc->bits : 0;
	abits = sav->key_auth ? sav->key_auth->bits : 0;
	switch (sav->sah->saidx.proto) {
	case IPPROTO_ESP:
		ea = key_ealg(sav->alg_enc);
		if (ea == NULL || !key_alg_keyok(ea, ebits))
			return (EINVAL);
		if (ea->flags & KEY_ALG_AEAD) {
			if (sav->alg_auth != SADB_AALG_NONE ||
			    sav->key_auth != NULL)
				return (EINVAL);
			if (sav->alg_enc == SADB_X_EALG_CHACHA20POLY1305)
				sav->alg_auth = SADB_X_AALG_CHACHA20POLY1305;
			else if (ebits == 160)
				sav->alg_auth = SADB_X_AALG_AES128GMAC;
			else if (ebits == 224)
				sav->alg_auth = SADB_X_AALG_AES192GMAC;
			else
				sav->alg_auth = SADB_X_AALG_AES256GMAC;
			return (esp_init(sav));
		}
		if (sav->alg_auth == SADB_AALG_NONE)
			return (sav->key_auth == NULL ? esp_init(sav) : EINVAL);
		aa = key_aalg(sav->alg_auth);
		if (aa == NULL || sav->alg_auth == SADB_X_AALG_TCP_MD5 ||
		    !key_alg_keyok(aa, abits))
			return (EINVAL);
		/* The transform builds its crypto session, or refuses. */
		return (esp_init(sav));
	case IPPROTO_AH:
		aa = key_aalg(sav->alg_auth);
		if (aa == NULL || sav->alg_auth == SADB_X_AALG_TCP_MD5 ||
		    !key_alg_keyok(aa, abits) || sav->key_enc != NULL ||
		    sav->alg_enc != SADB_EALG_NONE)
			return (EINVAL);
		return (ah_init(sav));
	case IPPROTO_IPCOMP:
		if (key_calg(sav->alg_comp) == NULL)
			return (EINVAL);
		if ((sav->flags & SADB_X_EXT_RAWCPI) == 0 &&
		    ntohl(sav->spi) >= 0x10000)
			return (EINVAL);
		return (ipcomp_init(sav));
	case IPPROTO_TCP:
		if (sav->alg_auth != SADB_X_AALG_TCP_MD5 ||
		    !key_alg_keyok(key_aalg(SADB_X_AALG_TCP_MD5), abits))
			return (EINVAL);
		return (0);
	}
	return (EPROTONOSUPPORT);
}

/*
 * NAT-T extensions: type, sport and dport come together or not at all;
 * ports are in network byte order and must not be 0 (FreeBSD's
 * key_setnatt()).  Only ESP uses them.
 */
static int
key_setnatt(struct secasvar *sav, const struct sadb_msghdr *mhp)
{
	const struct sadb_x_nat_t_type *type;
	const struct sadb_x_nat_t_port *sport, *dport;
	const struct sadb_x_nat_t_frag *frag;
	const struct sadb_address *oa;
	const struct sockaddr *sa;
	struct secnatt *natt;
	int n;

	n = !SADB_CHECKHDR(mhp, SADB_X_EXT_NAT_T_TYPE) +
	    !SADB_CHECKHDR(mhp, SADB_X_EXT_NAT_T_SPORT) +
	    !SADB_CHECKHDR(mhp, SADB_X_EXT_NAT_T_DPORT);
	if (n == 0)
		return (0);
	if (n != 3)
		return (EINVAL);
	if (sav->sah->saidx.proto != IPPROTO_ESP)
		return (0);
	type = (const void *)mhp->ext[SADB_X_EXT_NAT_T_TYPE];
	sport = (const void *)mhp->ext[SADB_X_EXT_NAT_T_SPORT];
	dport = (const void *)mhp->ext[SADB_X_EXT_NAT_T_DPORT];
	if (type->sadb_x_nat_t_type_type != UDP_ENCAP_ESPINUDP ||
	    sport->sadb_x_nat_t_port_port == 0 ||
	    dport->sadb_x_nat_t_port_port == 0)
		return (EINVAL);
	natt = sav->natt;
	if (natt == NULL) {
		natt = malloc(sizeof(*natt), M_IPSEC_MISC, M_NOWAIT | M_ZERO);
		if (natt == NULL)
			return (ENOBUFS);
	}
	natt->sport = sport->sadb_x_nat_t_port_port;
	natt->dport = dport->sadb_x_nat_t_port_port;
	oa = (const void *)mhp->ext[SADB_X_EXT_NAT_T_OAI];
	if (oa != NULL) {
		sa = PFKEY_ADDR_SADDR(oa);
		if (sa->sa_family != AF_INET)
			goto inval;
		key_sa_copy(&natt->oai, sa, 0);
		natt->flags |= IPSEC_NATT_F_OAI;
	}
	oa = (const void *)mhp->ext[SADB_X_EXT_NAT_T_OAR];
	if (oa != NULL) {
		sa = PFKEY_ADDR_SADDR(oa);
		if (sa->sa_family != AF_INET)
			goto inval;
		key_sa_copy(&natt->oar, sa, 0);
		natt->flags |= IPSEC_NATT_F_OAR;
	}
	frag = (const void *)mhp->ext[SADB_X_EXT_NAT_T_FRAG];
	if (frag != NULL)
		natt->fraglen = frag->sadb_x_nat_t_frag_fraglen;
	sav->natt = natt;
	return (0);
inval:
	if (sav->natt == NULL)
		free(natt, M_IPSEC_MISC);
	return (EINVAL);
}

/*
 * Set a new SA's parameters from ADD or from UPDATE of a larval SA
 * (FreeBSD's key_setsaval()).
 */
static int
key_setsaval(struct secasvar *sav, const struct sadb_msghdr *mhp)
{
	const struct sadb_sa *sa0;
	const struct sadb_x_sa_replay *rp;
	uint64_t wsize;
	uint8_t proto;
	int error;

	proto = sav->sah->saidx.proto;
	sa0 = (const void *)mhp->ext[SADB_EXT_SA];
	if (sa0->sadb_sa_flags > SADB_KEY_FLAGS_MAX)
		return (EINVAL);
	sav->flags = sa0->sadb_sa_flags;
	if (proto == IPPROTO_IPCOMP) {
		sav->alg_comp = sa0->sadb_sa_encrypt;
		sav->alg_enc = SADB_EALG_NONE;
	} else
		sav->alg_enc = sa0->sadb_sa_encrypt;
	sav->alg_auth = sa0->sadb_sa_auth;

	/* Replay window: bytes in the SA, packets in SA_REPLAY. */
	wsize = sa0->sadb_sa_replay;
	if (!SADB_CHECKHDR(mhp, SADB_X_EXT_SA_REPLAY)) {
		rp = (const void *)mhp->ext[SADB_X_EXT_SA_REPLAY];
		if (rp->sadb_x_sa_replay_replay > UINT32_MAX - 32)
			return (EINVAL);
		wsize = ((uint64_t)rp->sadb_x_sa_replay_replay + 7) >> 3;
	}
	if (sav->flags & SADB_X_EXT_OLD) {
		if (wsize != 0)
			return (EINVAL);
	} else if (proto == IPPROTO_ESP || proto == IPPROTO_AH) {
		sav->replay = malloc(sizeof(*sav->replay), M_IPSEC_MISC,
		    M_NOWAIT | M_ZERO);
		if (sav->replay == NULL)
			return (ENOBUFS);
		sav->replay->wsize = (u_int)wsize;
		sav->replay->count = key_debug_seq_start;
	}

	/* Keys. */
	if (!SADB_CHECKHDR(mhp, SADB_EXT_KEY_AUTH)) {
		if (proto == IPPROTO_IPCOMP)
			return (EINVAL);
		sav->key_auth = key_dupkey(mhp->ext[SADB_EXT_KEY_AUTH],
		    mhp->extlen[SADB_EXT_KEY_AUTH], &error);
		if (sav->key_auth == NULL)
			return (error);
	}
	if (!SADB_CHECKHDR(mhp, SADB_EXT_KEY_ENCRYPT)) {
		if (proto != IPPROTO_ESP)
			return (EINVAL);
		sav->key_enc = key_dupkey(mhp->ext[SADB_EXT_KEY_ENCRYPT],
		    mhp->extlen[SADB_EXT_KEY_ENCRYPT], &error);
		if (sav->key_enc == NULL)
			return (error);
	}

	/* Lifetimes (both or none was checked by the caller). */
	if (!SADB_CHECKHDR(mhp, SADB_EXT_LIFETIME_HARD)) {
		sav->lft_h = key_duplft(mhp->ext[SADB_EXT_LIFETIME_HARD],
		    &error);
		if (sav->lft_h == NULL)
			return (error);
		sav->lft_s = key_duplft(mhp->ext[SADB_EXT_LIFETIME_SOFT],
		    &error);
		if (sav->lft_s == NULL)
			return (error);
	}

	error = key_setnatt(sav, mhp);
	if (error != 0)
		return (error);
	return (key_xform_check(sav));
}

/* Update the lifetimes of a mature SA; neither one clears both. */
static int
key_updatelifetimes(struct secasvar *sav, const struct sadb_msghdr *mhp)
{
	struct seclifetime *h, *s;
	int error;

	h = s = NULL;
	if (!SADB_CHECKHDR(mhp, SADB_EXT_LIFETIME_HARD)) {
		h = key_duplft(mhp->ext[SADB_EXT_LIFETIME_HARD], &error);
		if (h == NULL)
			return (error);
		s = key_duplft(mhp->ext[SADB_EXT_LIFETIME_SOFT], &error);
		if (s == NULL) {
			free(h, M_IPSEC_MISC);
			return (error);
		}
	}
	if (sav->lft_h != NULL)
		free(sav->lft_h, M_IPSEC_MISC);
	if (sav->lft_s != NULL)
		free(sav->lft_s, M_IPSEC_MISC);
	sav->lft_h = h;
	sav->lft_s = s;
	return (0);
}

/* The SA index a message names: satype, SRC, DST and SA2's mode, reqid. */
static void
key_msg2saidx(const struct sadb_msghdr *mhp, struct secasindex *saidx)
{
	const struct sadb_x_sa2 *sa2;

	memset(saidx, 0, sizeof(*saidx));
	saidx->proto = key_satype2proto(mhp->msg->sadb_msg_satype);
	key_sa_copy(&saidx->src,
	    PFKEY_ADDR_SADDR(mhp->ext[SADB_EXT_ADDRESS_SRC]), 0);
	key_sa_copy(&saidx->dst,
	    PFKEY_ADDR_SADDR(mhp->ext[SADB_EXT_ADDRESS_DST]), 0);
	if (!SADB_CHECKHDR(mhp, SADB_X_EXT_SA2)) {
		sa2 = (const void *)mhp->ext[SADB_X_EXT_SA2];
		saidx->mode = sa2->sadb_x_sa2_mode;
		saidx->reqid = sa2->sadb_x_sa2_reqid;
	}
}

/*
 * A full SA, for GET, DUMP and EXPIRE (FreeBSD's key_setdumpsa()).
 * "lft" picks the lifetime extensions: LIFETIME_HARD and _SOFT both for
 * dumps, or the one that expired.
 */
static void
key_setdumpsa(struct key_mb *mb, struct secasvar *sav, u_int type,
    uint32_t seq, uint32_t pid, int withkeys, int lfttype)
{
	const struct secashead *sah;
	struct sadb_sa *sa;
	struct sadb_x_sa_replay *rp;
	struct sadb_x_nat_t_type *nt;
	struct sadb_x_nat_t_port *np;
	struct seclifetime cur;
	time_t wall0;
	u_int wsize;

	sah = sav->sah;
	key_mb_msg(mb, type, key_proto2satype(sah->saidx.proto), seq, pid,
	    (uint16_t)sav->refcnt);
	wsize = sav->replay ? sav->replay->wsize : 0;

	sa = key_mb_ext(mb, sizeof(*sa), SADB_EXT_SA);
	if (sa != NULL) {
		sa->sadb_sa_spi = sav->spi;
		sa->sadb_sa_replay = wsize > UINT8_MAX ? UINT8_MAX : wsize;
		sa->sadb_sa_state = sav->state;
		sa->sadb_sa_auth = sav->alg_auth;
		sa->sadb_sa_encrypt = sah->saidx.proto == IPPROTO_IPCOMP ?
		    sav->alg_comp : sav->alg_enc;
		sa->sadb_sa_flags = sav->flags;
	}
	key_mb_sa2(mb, sah->saidx.mode,
	    sav->replay ? (uint32_t)sav->replay->count : 0, sah->saidx.reqid);
	if (wsize > UINT8_MAX) {
		rp = key_mb_ext(mb, sizeof(*rp), SADB_X_EXT_SA_REPLAY);
		if (rp != NULL)
			rp->sadb_x_sa_replay_replay = wsize << 3;
	}
	if (lfttype == 0) {
		if (sav->lft_h != NULL)
			key_mb_lifetime(mb, SADB_EXT_LIFETIME_HARD,
			    sav->lft_h);
		if (sav->lft_s != NULL)
			key_mb_lifetime(mb, SADB_EXT_LIFETIME_SOFT,
			    sav->lft_s);
	}

	/* The current lifetime reports wall-clock times, as FreeBSD. */
	wall0 = time_second - time_uptime;
	memset(&cur, 0, sizeof(cur));
	cur.bytes = COUNTER_FETCH(sav->lft_c_bytes);
	cur.addtime = (uint64_t)(wall0 + sav->created);
	cur.usetime = sav->firstused ? (uint64_t)(wall0 + sav->firstused) : 0;
	key_mb_lifetime(mb, SADB_EXT_LIFETIME_CURRENT, &cur);
	if (lfttype == SADB_EXT_LIFETIME_HARD && sav->lft_h != NULL)
		key_mb_lifetime(mb, SADB_EXT_LIFETIME_HARD, sav->lft_h);
	if (lfttype == SADB_EXT_LIFETIME_SOFT && sav->lft_s != NULL)
		key_mb_lifetime(mb, SADB_EXT_LIFETIME_SOFT, sav->lft_s);

	key_mb_addr(mb, SADB_EXT_ADDRESS_SRC, &sah->saidx.src,
	    key_sa_plen(sah->saidx.src.sa.sa_family), IPSEC_ULPROTO_ANY);
	key_mb_addr(mb, SADB_EXT_ADDRESS_DST, &sah->saidx.dst,
	    key_sa_plen(sah->saidx.dst.sa.sa_family), IPSEC_ULPROTO_ANY);
	if (withkeys && sav->key_auth != NULL)
		key_mb_key(mb, SADB_EXT_KEY_AUTH, sav->key_auth);
	if (withkeys && sav->key_enc != NULL)
		key_mb_key(mb, SADB_EXT_KEY_ENCRYPT, sav->key_enc);
	if (sav->natt != NULL && lfttype == 0) {
		nt = key_mb_ext(mb, sizeof(*nt), SADB_X_EXT_NAT_T_TYPE);
		if (nt != NULL)
			nt->sadb_x_nat_t_type_type = UDP_ENCAP_ESPINUDP;
		np = key_mb_ext(mb, sizeof(*np), SADB_X_EXT_NAT_T_SPORT);
		if (np != NULL)
			np->sadb_x_nat_t_port_port = sav->natt->sport;
		np = key_mb_ext(mb, sizeof(*np), SADB_X_EXT_NAT_T_DPORT);
		if (np != NULL)
			np->sadb_x_nat_t_port_port = sav->natt->dport;
		if (sav->natt->flags & IPSEC_NATT_F_OAI)
			key_mb_addr(mb, SADB_X_EXT_NAT_T_OAI, &sav->natt->oai,
			    32, IPSEC_ULPROTO_ANY);
		if (sav->natt->flags & IPSEC_NATT_F_OAR)
			key_mb_addr(mb, SADB_X_EXT_NAT_T_OAR, &sav->natt->oar,
			    32, IPSEC_ULPROTO_ANY);
	}
}

/*
 * ACQUIRE.
 *
 * One entry per SA index being negotiated.  Unlike FreeBSD, which repeats
 * an ACQUIRE every net.key.blockacq_count packets, we repeat it at most
 * once per net.key.blockacq_interval seconds, with the same seq, until
 * GETSPI or ADD with that seq completes it or net.key.blockacq_lifetime
 * passes.  An IKE daemon's ACQUIRE with an errno (its negotiation failed)
 * lets the next packet send at once.
 */
/*
 * A hash of the protocol and the addresses of an SA index (not its mode
 * or reqid): the SA indexes one SA may serve hash alike.
 */
u_int
key_saidx_hash(const struct secasindex *saidx)
{
	const union sockaddr_union *a[2] = { &saidx->src, &saidx->dst };
	const uint8_t *p;
	uint32_t h = 2166136261u ^ saidx->proto;	/* FNV-1a */
	size_t i, n;
	int k;

	for (k = 0; k < 2; k++) {
		if (a[k]->sa.sa_family == AF_INET) {
			p = (const uint8_t *)&a[k]->sin.sin_addr;
			n = sizeof(a[k]->sin.sin_addr);
		} else if (a[k]->sa.sa_family == AF_INET6) {
			p = (const uint8_t *)&a[k]->sin6.sin6_addr;
			n = sizeof(a[k]->sin6.sin6_addr);
		} else
			continue;
		for (i = 0; i < n; i++)
			h = (h ^ p[i]) * 16777619u;
	}
	return (h);
}

static struct secacq *
key_getacq(const struct secasindex *saidx)
{
	struct secacq *acq;

	LIST_FOREACH(acq, ACQADDRHASH(saidx), addrhash) {
		if (key_cmpsaidx(&acq->saidx, saidx, CMP_EXACTLY))
			return (acq);
	}
	return (NULL);
}

static void
key_freeacq(struct secacq *acq)
{

	mtx_assert(&acq_lock, MA_OWNED);
	LIST_REMOVE(acq, chain);
	LIST_REMOVE(acq, addrhash);
	LIST_REMOVE(acq, seqhash);
	acq_count--;
	free(acq, M_IPSEC_SAQ);
}

static void
key_acqdone(const struct secasindex *saidx, uint32_t seq)
{
	struct secacq *acq;

	ACQ_LOCK();
	LIST_FOREACH(acq, ACQSEQHASH(seq), seqhash) {
		if (acq->seq != seq)
			continue;
		if (!key_cmpsaidx(&acq->saidx, saidx, CMP_EXACTLY)) {
			ipseclog((LOG_DEBUG, "%s: SA index of seq %u differs",
			    __func__, seq));
			break;
		}
		key_freeacq(acq);
		break;
	}
	ACQ_UNLOCK();
}

static void
key_acqreset(uint32_t seq)
{
	struct secacq *acq;

	ACQ_LOCK();
	LIST_FOREACH(acq, ACQSEQHASH(seq), seqhash) {
		if (acq->seq == seq) {
			acq->lastsent = 0;
			break;
		}
	}
	ACQ_UNLOCK();
}

/* The PROPOSAL of an ACQUIRE: one combination per offered algorithm. */
static void
key_getcomb_setlifetime(struct sadb_comb *comb)
{

	comb->sadb_comb_soft_allocations = 1;
	comb->sadb_comb_hard_allocations = 1;
	comb->sadb_comb_hard_addtime = 86400;		/* 1 day */
	comb->sadb_comb_soft_addtime = 86400 * 80 / 100;
	comb->sadb_comb_hard_usetime = 28800;		/* 8 hours */
	comb->sadb_comb_soft_usetime = 28800 * 80 / 100;
}

static void
key_mb_proposal(struct key_mb *mb, uint8_t proto)
{
	const struct key_alg *ea, *aa;
	struct sadb_comb combs[16], *c;
	struct sadb_prop *prop;
	size_t i, j, n;
	u_int keymin;

	n = 0;
	if (proto == IPPROTO_ESP) {
		keymin = key_esp_keymin;
		for (i = 0; i < nitems(key_ealgs); i++) {
			ea = &key_ealgs[i];
			if ((ea->flags & KEY_ALG_NOPROP) ||
			    ea->maxbits < keymin)
				continue;
			for (j = 0; j < nitems(key_aalgs) + 1 && n <
			    nitems(combs); j++) {
				aa = j < nitems(key_aalgs) ? &key_aalgs[j] :
				    NULL;
				/* One comb without auth; with esp_auth more. */
				if (aa != NULL && (!key_esp_auth ||
				    (ea->flags & KEY_ALG_AEAD) ||
				    (aa->flags & KEY_ALG_NOPROP)))
					continue;
				c = &combs[n++];
				memset(c, 0, sizeof(*c));
				c->sadb_comb_encrypt = ea->id;
				c->sadb_comb_encrypt_minbits =
				    MAX(ea->minbits, MIN(ea->maxbits, keymin));
				c->sadb_comb_encrypt_maxbits = ea->maxbits;
				if (aa != NULL) {
					c->sadb_comb_auth = aa->id;
					c->sadb_comb_auth_minbits =
					    aa->minbits;
					c->sadb_comb_auth_maxbits =
					    aa->maxbits;
				}
				key_getcomb_setlifetime(c);
			}
		}
	} else if (proto == IPPROTO_AH) {
		keymin = key_ah_keymin;
		for (i = 0; i < nitems(key_aalgs) && n < nitems(combs); i++) {
			aa = &key_aalgs[i];
			if ((aa->flags & KEY_ALG_NOPROP) ||
			    aa->maxbits < keymin)
				continue;
			c = &combs[n++];
			memset(c, 0, sizeof(*c));
			c->sadb_comb_auth = aa->id;
			c->sadb_comb_auth_minbits = MAX(aa->minbits, keymin);
			c->sadb_comb_auth_maxbits = aa->maxbits;
			key_getcomb_setlifetime(c);
		}
	} else if (proto == IPPROTO_IPCOMP) {
		c = &combs[n++];
		memset(c, 0, sizeof(*c));
		c->sadb_comb_encrypt = SADB_X_CALG_DEFLATE;
		key_getcomb_setlifetime(c);
	}
	/* FreeBSD attaches PROPOSAL only when it has a combination. */
	if (n == 0)
		return;
	prop = key_mb_ext(mb, sizeof(*prop) + n * sizeof(combs[0]),
	    SADB_EXT_PROPOSAL);
	if (prop == NULL)
		return;
	prop->sadb_prop_replay = IPSEC_REPLAYWSIZE;
	memcpy(prop + 1, combs, n * sizeof(combs[0]));
}

/*
 * Ask the key management daemons for an SA (FreeBSD's key_acquire()):
 * <base, address(SD), (x_policy), (x_sa2), proposal> to registered
 * sockets.  Returns 0 when sent, EAGAIN when the throttle held it back.
 */
static int
key_acquire(const struct secasindex *saidx, const struct secpolicy *sp)
{
	struct sadb_x_policy *xpl;
	struct secacq *acq;
	struct key_mb mb;
	u_int satype, sproto, plen_s, plen_d;
	uint32_t seq;
	time_t now;
	int logit;

	satype = key_proto2satype(saidx->proto);
	if (satype == 0)
		return (EINVAL);
	now = time_uptime;

	ACQ_LOCK();
	acq = key_getacq(saidx);
	if (acq != NULL) {
		acq->count++;
		if (acq->lastsent != 0 &&
		    now - acq->lastsent < (time_t)key_blockacq_interval) {
			ACQ_UNLOCK();
			return (EAGAIN);
		}
	} else {
		if (acq_count >= key_acq_max) {
			logit = key_limit_hit(&keystat.ks_acqfull,
			    &key_acqfull_log);
			ACQ_UNLOCK();
			if (logit)
				log(LOG_WARNING, "%s: ACQUIRE table full "
				    "(net.key.acq_max=%u): not sent (%ju so "
				    "far)", __func__, key_acq_max,
				    (uintmax_t)COUNTER_FETCH(
				    keystat.ks_acqfull));
			return (ENOBUFS);
		}
		acq = malloc(sizeof(*acq), M_IPSEC_SAQ, M_NOWAIT | M_ZERO);
		if (acq == NULL) {
			ACQ_UNLOCK();
			return (ENOBUFS);
		}
		acq->saidx = *saidx;
		do {
			acq->seq = ++acq_seq;
		} while (acq->seq == 0);
		acq->created = now;
		acq->count = 1;
		LIST_INSERT_HEAD(&acqtree, acq, chain);
		LIST_INSERT_HEAD(ACQADDRHASH(saidx), acq, addrhash);
		LIST_INSERT_HEAD(ACQSEQHASH(acq->seq), acq, seqhash);
		acq_count++;
	}
	acq->lastsent = now;
	seq = acq->seq;
	ACQ_UNLOCK();

	key_mb_msg(&mb, SADB_ACQUIRE, satype, seq, 0, 0);
	/*
	 * The addresses are the SA index's, with full prefixes and any
	 * protocol; only a TCP or UDP policy with ports passes its protocol,
	 * ports and prefixes, as FreeBSD.
	 */
	sproto = IPSEC_ULPROTO_ANY;
	plen_s = key_sa_plen(saidx->src.sa.sa_family);
	plen_d = key_sa_plen(saidx->dst.sa.sa_family);
	if (sp != NULL && (sp->spidx.ul_proto == IPPROTO_TCP ||
	    sp->spidx.ul_proto == IPPROTO_UDP) &&
	    (sp->spidx.src.sin.sin_port != 0 ||
	    sp->spidx.dst.sin.sin_port != 0) &&
	    sp->spidx.src.sa.sa_family == saidx->src.sa.sa_family) {
		union sockaddr_union s, d;

		s = saidx->src;
		d = saidx->dst;
		s.sin.sin_port = sp->spidx.src.sin.sin_port;
		d.sin.sin_port = sp->spidx.dst.sin.sin_port;
		key_mb_addr(&mb, SADB_EXT_ADDRESS_SRC, &s, sp->spidx.prefs,
		    sp->spidx.ul_proto);
		key_mb_addr(&mb, SADB_EXT_ADDRESS_DST, &d, sp->spidx.prefd,
		    sp->spidx.ul_proto);
	} else {
		key_mb_addr(&mb, SADB_EXT_ADDRESS_SRC, &saidx->src, plen_s,
		    sproto);
		key_mb_addr(&mb, SADB_EXT_ADDRESS_DST, &saidx->dst, plen_d,
		    sproto);
	}
	if (sp != NULL) {
		xpl = key_mb_ext(&mb, sizeof(*xpl), SADB_X_EXT_POLICY);
		if (xpl != NULL) {
			xpl->sadb_x_policy_type = sp->policy;
			xpl->sadb_x_policy_dir = sp->spidx.dir;
			xpl->sadb_x_policy_scope = IPSEC_POLICYSCOPE_GLOBAL;
			xpl->sadb_x_policy_id = sp->id;
			xpl->sadb_x_policy_priority = sp->priority;
		}
	}
	if (saidx->reqid != 0)
		key_mb_sa2(&mb, saidx->mode, 0, saidx->reqid);
	key_mb_proposal(&mb, saidx->proto);
	key_mb_send(&mb, NULL, KEY_SENDUP_REGISTERED);
	return (0);
}

static void
key_log_sadfull(const char *func)
{

	log(LOG_WARNING, "%s: SAD full (net.key.sa_max=%u SAs): refused "
	    "with ENOBUFS (%ju so far)", func, key_sa_max,
	    (uintmax_t)COUNTER_FETCH(keystat.ks_sadfull));
}

/*
 * SADB_GETSPI: allocate an SPI and a larval SA.
 * <base, address(SD), (SPI range), (SA2)>
 * -> <base, SA(*), address(SD)>, to the sender.
 */
static int
key_getspi(struct keycb *so, const struct sadb_msghdr *mhp)
{
	static const uint8_t reply[] = { SADB_EXT_ADDRESS_SRC,
	    SADB_EXT_ADDRESS_DST };
	const struct sadb_spirange *range;
	struct secasindex saidx;
	struct secashead *sah;
	struct secasvar *sav;
	struct sadb_sa *sa;
	struct key_mb mb;
	uint32_t min, max, spi;
	u_int count;
	int logit;

	if (SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_SRC) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_DST))
		return (key_senderror(so, mhp, EINVAL));
	key_msg2saidx(mhp, &saidx);

	min = key_spi_minval;
	max = key_spi_maxval;
	if (!SADB_CHECKHDR(mhp, SADB_EXT_SPIRANGE)) {
		range = (const void *)mhp->ext[SADB_EXT_SPIRANGE];
		min = range->sadb_spirange_min;
		max = range->sadb_spirange_max;
		if (min > max)
			return (key_senderror(so, mhp, EINVAL));
	}
	if (saidx.proto == IPPROTO_IPCOMP) {
		/* IPComp has 16-bit CPIs. */
		max = MIN(max, 0xffff);
		min = MIN(min, 0xffff);
	} else if (min < 0x100) {
		/* SPIs 0-255 are reserved (RFC 4303). */
		min = 0x100;
		if (max < min)
			return (key_senderror(so, mhp, EINVAL));
	}

	SAHTREE_WLOCK();
	if (sav_count >= key_sa_max) {
		logit = key_limit_hit(&keystat.ks_sadfull, &key_sadfull_log);
		SAHTREE_WUNLOCK();
		if (logit)
			key_log_sadfull(__func__);
		return (key_senderror(so, mhp, ENOBUFS));
	}
	spi = 0;
	if (min == max) {
		if (key_getsavbyspi(htonl(min)) == NULL)
			spi = min;
	} else {
		for (count = key_spi_trycnt; count > 0; count--) {
			spi = min + arc4random() % (max - min + 1);
			if (spi != 0 && key_getsavbyspi(htonl(spi)) == NULL)
				break;
			spi = 0;
		}
	}
	if (spi == 0) {
		SAHTREE_WUNLOCK();
		return (key_senderror(so, mhp, EEXIST));
	}
	sah = key_newsah(&saidx);
	sav = sah != NULL ? key_newsav(sah, htonl(spi), mhp->msg,
	    SADB_SASTATE_LARVAL) : NULL;
	if (sav == NULL) {
		if (sah != NULL)
			key_sah_gc(sah);
		SAHTREE_WUNLOCK();
		return (key_senderror(so, mhp, ENOBUFS));
	}
	SAHTREE_WUNLOCK();

	if (mhp->msg->sadb_msg_seq != 0)
		key_acqdone(&saidx, mhp->msg->sadb_msg_seq);

	memset(&mb, 0, sizeof(mb));
	key_gather(&mb, mhp, NULL, 0);
	sa = key_mb_ext(&mb, sizeof(*sa), SADB_EXT_SA);
	if (sa != NULL)
		sa->sadb_sa_spi = htonl(spi);
	key_mb_copyext(&mb, mhp->ext[reply[0]], mhp->extlen[reply[0]]);
	key_mb_copyext(&mb, mhp->ext[reply[1]], mhp->extlen[reply[1]]);
	key_mb_send(&mb, so, KEY_SENDUP_ONE);
	return (0);
}

/* The extensions an UPDATE or ADD reply echoes (never keys). */
static const uint8_t key_sa_reply[] = {
	SADB_EXT_SA, SADB_X_EXT_SA2, SADB_EXT_LIFETIME_HARD,
	SADB_EXT_LIFETIME_SOFT, SADB_EXT_ADDRESS_SRC, SADB_EXT_ADDRESS_DST,
	SADB_EXT_IDENTITY_SRC, SADB_EXT_IDENTITY_DST,
	SADB_X_EXT_NAT_T_TYPE, SADB_X_EXT_NAT_T_SPORT, SADB_X_EXT_NAT_T_DPORT,
	SADB_X_EXT_NAT_T_OAI, SADB_X_EXT_NAT_T_OAR, SADB_X_EXT_NAT_T_FRAG,
	SADB_X_EXT_NEW_ADDRESS_SRC, SADB_X_EXT_NEW_ADDRESS_DST,
};

static int
key_checklifetimes(const struct sadb_msghdr *mhp)
{

	/* RFC 2367 leaves it open; FreeBSD wants both or neither. */
	if (SADB_CHECKHDR(mhp, SADB_EXT_LIFETIME_HARD) !=
	    SADB_CHECKHDR(mhp, SADB_EXT_LIFETIME_SOFT))
		return (EINVAL);
	return (0);
}

/*
 * Move a mature SA to new addresses (X_NEW_ADDRESS_SRC/DST in UPDATE,
 * for MOBIKE), keeping its keys, counters and replay state.
 */
static int
key_updateaddresses(struct secasvar *sav, const struct sadb_msghdr *mhp)
{
	struct secasindex saidx;
	struct secashead *osah, *nsah;
	const struct sockaddr *sa;

	saidx = sav->sah->saidx;
	if (!SADB_CHECKHDR(mhp, SADB_X_EXT_NEW_ADDRESS_SRC)) {
		sa = PFKEY_ADDR_SADDR(mhp->ext[SADB_X_EXT_NEW_ADDRESS_SRC]);
		if (sa->sa_family != saidx.src.sa.sa_family)
			return (EINVAL);
		key_sa_copy(&saidx.src, sa, 0);
	}
	if (!SADB_CHECKHDR(mhp, SADB_X_EXT_NEW_ADDRESS_DST)) {
		sa = PFKEY_ADDR_SADDR(mhp->ext[SADB_X_EXT_NEW_ADDRESS_DST]);
		if (sa->sa_family != saidx.dst.sa.sa_family)
			return (EINVAL);
		key_sa_copy(&saidx.dst, sa, 0);
	}
	osah = sav->sah;
	if (key_cmpsaidx(&osah->saidx, &saidx, CMP_EXACTLY))
		return (0);
	nsah = key_newsah(&saidx);
	if (nsah == NULL)
		return (ENOBUFS);
	TAILQ_REMOVE(&osah->savtree_alive, sav, chain);
	TAILQ_INSERT_HEAD(&nsah->savtree_alive, sav, chain);
	sav->sah = nsah;
	key_sah_gc(osah);
	return (0);
}

/*
 * SADB_UPDATE: complete a larval SA, or change a mature one's lifetimes,
 * NAT-T ports or addresses.
 * <base, SA, (SA2), (lifetime(HS),) address(SD), key(AE), ...>
 * -> <base, SA, (SA2), (lifetime(HS),) address(SD), ...>, to everyone.
 */
static int
key_update(struct keycb *so, const struct sadb_msghdr *mhp)
{
	const struct sadb_sa *sa0;
	struct secasindex saidx;
	struct secasvar *sav;
	struct key_mb mb;
	uint8_t proto;
	int error;

	if (SADB_CHECKHDR(mhp, SADB_EXT_SA) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_SRC) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_DST) ||
	    key_checklifetimes(mhp) != 0)
		return (key_senderror(so, mhp, EINVAL));
	key_msg2saidx(mhp, &saidx);
	proto = saidx.proto;
	sa0 = (const void *)mhp->ext[SADB_EXT_SA];

	SAHTREE_WLOCK();
	sav = key_getsavbyspi(sa0->sadb_sa_spi);
	if (sav == NULL) {
		error = EINVAL;
		goto fail;
	}
	/* Only the process that asked for the SPI may complete it. */
	if (sav->pid != mhp->msg->sadb_msg_pid) {
		error = EINVAL;
		goto fail;
	}
	/*
	 * The message's index must name the SA's head as a policy would:
	 * a head of mode any takes any mode, a request without reqid any.
	 */
	if (!key_cmpsaidx(&sav->sah->saidx, &saidx, CMP_MODE_REQID)) {
		error = ESRCH;
		goto fail;
	}
	if (sav->state == SADB_SASTATE_LARVAL) {
		if ((proto == IPPROTO_ESP &&
		    SADB_CHECKHDR(mhp, SADB_EXT_KEY_ENCRYPT)) ||
		    (proto == IPPROTO_AH &&
		    SADB_CHECKHDR(mhp, SADB_EXT_KEY_AUTH))) {
			error = EINVAL;
			goto fail;
		}
		error = key_setsaval(sav, mhp);
		if (error != 0) {
			key_cleansav(sav);
			goto fail;
		}
		sav->created = time_uptime;
		key_sa_mature(sav);
	} else {
		if (!SADB_CHECKHDR(mhp, SADB_EXT_KEY_AUTH) ||
		    !SADB_CHECKHDR(mhp, SADB_EXT_KEY_ENCRYPT)) {
			error = EINVAL;
			goto fail;
		}
		error = key_updatelifetimes(sav, mhp);
		if (error == 0)
			error = key_setnatt(sav, mhp);
		if (error == 0)
			error = key_updateaddresses(sav, mhp);
		if (error != 0)
			goto fail;
		/* New lifetimes give a dying SA a new life. */
		if (sav->state == SADB_SASTATE_DYING &&
		    !SADB_CHECKHDR(mhp, SADB_EXT_LIFETIME_HARD))
			sav->state = SADB_SASTATE_MATURE;
	}
	SAHTREE_WUNLOCK();

	if (mhp->msg->sadb_msg_seq != 0)
		key_acqdone(&saidx, mhp->msg->sadb_msg_seq);
	key_gather(&mb, mhp, key_sa_reply, nitems(key_sa_reply));
	key_mb_send(&mb, so, KEY_SENDUP_ALL);
	/* Packets held for this SA may go now. */
	ipsec_hold_kick(&saidx);
	return (0);
fail:
	SAHTREE_WUNLOCK();
	return (key_senderror(so, mhp, error));
}

/*
 * SADB_ADD: install a complete SA.
 * <base, SA, (SA2), (lifetime(HS),) address(SD), key(AE), ...>
 * -> <base, SA, (SA2), (lifetime(HS),) address(SD), ...>, to everyone.
 */
static int
key_add(struct keycb *so, const struct sadb_msghdr *mhp)
{
	const struct sadb_sa *sa0;
	struct secasindex saidx;
	struct secashead *sah;
	struct secasvar *sav;
	struct key_mb mb;
	uint8_t proto;
	int error, logit;

	if (SADB_CHECKHDR(mhp, SADB_EXT_SA) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_SRC) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_DST) ||
	    key_checklifetimes(mhp) != 0)
		return (key_senderror(so, mhp, EINVAL));
	key_msg2saidx(mhp, &saidx);
	proto = saidx.proto;
	if ((proto == IPPROTO_ESP &&
	    SADB_CHECKHDR(mhp, SADB_EXT_KEY_ENCRYPT)) ||
	    ((proto == IPPROTO_AH || proto == IPPROTO_TCP) &&
	    SADB_CHECKHDR(mhp, SADB_EXT_KEY_AUTH)))
		return (key_senderror(so, mhp, EINVAL));
	sa0 = (const void *)mhp->ext[SADB_EXT_SA];
	if (proto != IPPROTO_IPCOMP && proto != IPPROTO_TCP &&
	    ntohl(sa0->sadb_sa_spi) <= 255)
		return (key_senderror(so, mhp, EINVAL));

	SAHTREE_WLOCK();
	if (key_getsavbyspi(sa0->sadb_sa_spi) != NULL) {
		error = EEXIST;
		goto fail;
	}
	if (sav_count >= key_sa_max) {
		logit = key_limit_hit(&keystat.ks_sadfull, &key_sadfull_log);
		SAHTREE_WUNLOCK();
		if (logit)
			key_log_sadfull(__func__);
		return (key_senderror(so, mhp, ENOBUFS));
	}
	sah = key_newsah(&saidx);
	if (sah == NULL) {
		error = ENOBUFS;
		goto fail;
	}
	sav = key_newsav(sah, sa0->sadb_sa_spi, mhp->msg,
	    SADB_SASTATE_MATURE);
	if (sav == NULL) {
		error = ENOBUFS;
		key_sah_gc(sah);
		goto fail;
	}
	error = key_setsaval(sav, mhp);
	if (error != 0) {
		key_unlinksav(sav);
		key_sah_gc(sah);
		goto fail;
	}
	SAHTREE_WUNLOCK();

	if (mhp->msg->sadb_msg_seq != 0)
		key_acqdone(&saidx, mhp->msg->sadb_msg_seq);
	key_gather(&mb, mhp, key_sa_reply, nitems(key_sa_reply));
	key_mb_send(&mb, so, KEY_SENDUP_ALL);
	/* Packets held for this SA may go now. */
	ipsec_hold_kick(&saidx);
	return (0);
fail:
	SAHTREE_WUNLOCK();
	return (key_senderror(so, mhp, error));
}

/*
 * SADB_DELETE: one SA, or without an SA extension every SA from src to
 * dst of that type (setkey's deleteall, IKE's INITIAL-CONTACT).
 * <base, (SA), address(SD)> -> <base, (SA), address(SD)>, to everyone.
 */
static int
key_delete(struct keycb *so, const struct sadb_msghdr *mhp)
{
	static const uint8_t reply[] = { SADB_EXT_SA, SADB_EXT_ADDRESS_SRC,
	    SADB_EXT_ADDRESS_DST };
	const struct sadb_sa *sa0;
	struct secasindex saidx;
	struct secashead *sah, *next;
	struct secasvar *sav, *nsav;
	struct key_mb mb;

	if (SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_SRC) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_DST))
		return (key_senderror(so, mhp, EINVAL));
	key_msg2saidx(mhp, &saidx);

	SAHTREE_WLOCK();
	if (!SADB_CHECKHDR(mhp, SADB_EXT_SA)) {
		sa0 = (const void *)mhp->ext[SADB_EXT_SA];
		sav = key_getsavbyspi(sa0->sadb_sa_spi);
		if (sav == NULL ||
		    !key_cmpsaidx(&sav->sah->saidx, &saidx, CMP_HEAD)) {
			SAHTREE_WUNLOCK();
			return (key_senderror(so, mhp, ESRCH));
		}
		sah = sav->sah;
		key_unlinksav(sav);
		key_sah_gc(sah);
	} else {
		for (sah = key_getsah_first(&saidx); sah != NULL;
		    sah = next) {
			next = RB_NEXT(sah_tree, &sah_root, sah);
			if (next != NULL &&
			    !key_cmpsaidx(&next->saidx, &saidx, CMP_HEAD))
				next = NULL;
			TAILQ_FOREACH_SAFE(sav, &sah->savtree_alive, chain,
			    nsav)
				key_unlinksav(sav);
			key_sah_gc(sah);
		}
	}
	SAHTREE_WUNLOCK();

	key_gather(&mb, mhp, reply, nitems(reply));
	key_mb_send(&mb, so, KEY_SENDUP_ALL);
	return (0);
}

/*
 * SADB_GET: one SA, with its keys.
 * <base, SA, address(SD)> -> <base, SA, (lifetime(HSC),) address(SD),
 * (key(AE)), ...>, to the sender.
 */
static int
key_get(struct keycb *so, const struct sadb_msghdr *mhp)
{
	const struct sadb_sa *sa0;
	struct secasindex saidx;
	struct secasvar *sav;
	struct key_mb mb;

	if (SADB_CHECKHDR(mhp, SADB_EXT_SA) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_SRC) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_DST))
		return (key_senderror(so, mhp, EINVAL));
	key_msg2saidx(mhp, &saidx);
	sa0 = (const void *)mhp->ext[SADB_EXT_SA];

	SAHTREE_RLOCK();
	sav = key_getsavbyspi(sa0->sadb_sa_spi);
	if (sav == NULL || !key_cmpsaidx(&sav->sah->saidx, &saidx, CMP_HEAD)) {
		SAHTREE_RUNLOCK();
		return (key_senderror(so, mhp, ESRCH));
	}
	key_setdumpsa(&mb, sav, SADB_GET, mhp->msg->sadb_msg_seq,
	    mhp->msg->sadb_msg_pid, 1, 0);
	SAHTREE_RUNLOCK();
	key_mb_send(&mb, so, KEY_SENDUP_ONE);
	return (0);
}

/*
 * SADB_ACQUIRE from a key management daemon: either the failure of a
 * negotiation (base only, errno and seq set: no reply), or a request
 * that the kernel send an ACQUIRE.
 * <base, address(SD), (SA2), proposal> -> ACQUIRE to registered sockets.
 */
static int
key_acquire2(struct keycb *so, const struct sadb_msghdr *mhp)
{
	struct secasindex saidx;
	struct secashead *sah;
	int error;

	if (mhp->len == sizeof(struct sadb_msg)) {
		if (mhp->msg->sadb_msg_seq == 0 ||
		    mhp->msg->sadb_msg_errno == 0)
			ipseclog((LOG_DEBUG, "%s: IKE failure report needs "
			    "a seq and an errno", __func__));
		else
			key_acqreset(mhp->msg->sadb_msg_seq);
		return (0);
	}
	if (SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_SRC) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_DST) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_PROPOSAL))
		return (key_senderror(so, mhp, EINVAL));
	key_msg2saidx(mhp, &saidx);

	SAHTREE_RLOCK();
	sah = key_getsah_first(&saidx);
	SAHTREE_RUNLOCK();
	if (sah != NULL)
		return (key_senderror(so, mhp, EEXIST));
	error = key_acquire(&saidx, NULL);
	if (error != 0 && error != EAGAIN)
		return (key_senderror(so, mhp, error));
	return (0);
}

/*
 * SADB_REGISTER: the sender will get ACQUIREs and EXPIREs; satype UNSPEC
 * only asks what the kernel supports.
 * <base> -> <base, supported(AE)>, to the sender and registered sockets.
 */
static int
key_register(struct keycb *so, const struct sadb_msghdr *mhp)
{
	struct sadb_supported *sup;
	struct sadb_alg *alg;
	struct secreg *reg;
	struct key_mb mb;
	u_int satype;
	size_t i;

	satype = mhp->msg->sadb_msg_satype;
	if (satype > SADB_SATYPE_MAX)
		return (key_senderror(so, mhp, EINVAL));
	if (satype != SADB_SATYPE_UNSPEC) {
		REGTREE_LOCK();
		LIST_FOREACH(reg, &regtree[satype], chain) {
			if (reg->so == so) {
				REGTREE_UNLOCK();
				return (key_senderror(so, mhp, EEXIST));
			}
		}
		reg = malloc(sizeof(*reg), M_IPSEC_SAQ, M_NOWAIT | M_ZERO);
		if (reg == NULL) {
			REGTREE_UNLOCK();
			return (key_senderror(so, mhp, ENOBUFS));
		}
		reg->so = so;
		LIST_INSERT_HEAD(&regtree[satype], reg, chain);
		keysock_setregistered(so, 1);
		REGTREE_UNLOCK();
	}

	key_gather(&mb, mhp, NULL, 0);
	sup = key_mb_ext(&mb, sizeof(*sup) + nitems(key_aalgs) *
	    sizeof(*alg), SADB_EXT_SUPPORTED_AUTH);
	if (sup != NULL) {
		alg = (struct sadb_alg *)(void *)(sup + 1);
		for (i = 0; i < nitems(key_aalgs); i++, alg++) {
			alg->sadb_alg_id = key_aalgs[i].id;
			alg->sadb_alg_minbits = key_aalgs[i].minbits;
			alg->sadb_alg_maxbits = key_aalgs[i].maxbits;
		}
	}
	sup = key_mb_ext(&mb, sizeof(*sup) + nitems(key_ealgs) *
	    sizeof(*alg), SADB_EXT_SUPPORTED_ENCRYPT);
	if (sup != NULL) {
		alg = (struct sadb_alg *)(void *)(sup + 1);
		for (i = 0; i < nitems(key_ealgs); i++, alg++) {
			alg->sadb_alg_id = key_ealgs[i].id;
			alg->sadb_alg_ivlen = key_ealgs[i].ivlen;
			alg->sadb_alg_minbits = key_ealgs[i].minbits;
			alg->sadb_alg_maxbits = key_ealgs[i].maxbits;
		}
	}
	key_mb_send(&mb, so, KEY_SENDUP_REGISTERED);
	return (0);
}

/* A socket goes away: forget its registrations. */
void
key_freereg(struct keycb *so)
{
	struct secreg *reg, *next;
	u_int i;

	if (!key_inited)
		return;
	REGTREE_LOCK();
	for (i = 0; i <= SADB_SATYPE_MAX; i++) {
		LIST_FOREACH_SAFE(reg, &regtree[i], chain, next) {
			if (reg->so == so) {
				LIST_REMOVE(reg, chain);
				free(reg, M_IPSEC_SAQ);
				keysock_setregistered(so, -1);
			}
		}
	}
	REGTREE_UNLOCK();
}

/*
 * SADB_FLUSH: remove every SA of the type (UNSPEC: all).
 * <base> -> <base>, to everyone.
 */
static int
key_flush(struct keycb *so, const struct sadb_msghdr *mhp)
{
	struct secashead *sah, *nsah;
	struct secasvar *sav, *nsav;
	struct key_mb mb;
	uint8_t proto;

	proto = key_satype2proto(mhp->msg->sadb_msg_satype);
	SAHTREE_WLOCK();
	TAILQ_FOREACH_SAFE(sah, &sahtree, chain, nsah) {
		if (proto != IPSEC_PROTO_ANY && sah->saidx.proto != proto)
			continue;
		TAILQ_FOREACH_SAFE(sav, &sah->savtree_larval, chain, nsav)
			key_unlinksav(sav);
		TAILQ_FOREACH_SAFE(sav, &sah->savtree_alive, chain, nsav)
			key_unlinksav(sav);
		key_sah_gc(sah);
	}
	SAHTREE_WUNLOCK();

	key_gather(&mb, mhp, NULL, 0);
	key_mb_send(&mb, so, KEY_SENDUP_ALL);
	return (0);
}

/*
 * Streamed dumps (SADB_DUMP, SADB_X_SPDDUMP).  A dump sends what the
 * host takes and goes on when the user has read (key_dump_resume()), so
 * that a big table and a user that does not read cost one socket buffer,
 * not a copy of the table.
 *
 * The request takes a snapshot: the ids of the objects to dump, in dump
 * order (SPIs, policy ids), from one or more sources (key_dumpsrc), one
 * after the other.  Each id is looked up again when its turn comes; an
 * object gone meanwhile is skipped, and one created meanwhile is not in
 * the dump.  So that the last message still has seq 0, the next message
 * is always built before the current one is sent: the current one gets
 * seq 0 when no next one exists, else the number of ids after its own.
 * seq thus counts down to 0 as on FreeBSD, skipping the objects that
 * went away.  The built message is a copy, keys included, that is
 * zeroed when freed.
 *
 * One dump at a time per socket: another DUMP or SPDDUMP meanwhile is
 * answered EBUSY (as Linux's af_key does); other requests are served,
 * their replies mixed with the dump's messages.
 */
#define	KEY_DUMP_MAXSRC	4

struct key_dumpsrc {
	/* Append the ids of the objects the filter (satype) selects. */
	int	(*ds_collect)(struct key_dump *, u_int filter);
	/* The message of one object, if it still exists: 0 or ENOENT. */
	int	(*ds_build)(struct key_mb *, uint32_t id, u_int filter,
		    uint8_t type, uint32_t pid);
};

struct key_dump {
	const struct key_dumpsrc *const *kd_src;	/* NULL-terminated */
	uint8_t		 kd_type;	/* SADB_DUMP, SADB_X_SPDDUMP */
	uint8_t		 kd_filter;	/* the request's satype */
	uint32_t	 kd_pid;	/* the request's pid */
	uint32_t	*kd_ids;	/* the snapshot */
	u_int		 kd_nids;
	u_int		 kd_capids;
	u_int		 kd_srcend[KEY_DUMP_MAXSRC];	/* per source */
	u_int		 kd_pos;	/* next id to look up */
	struct sadb_msg	*kd_next;	/* built, sent next */
	size_t		 kd_nextlen;
	u_int		 kd_nextpos;	/* its index in kd_ids */
};

struct mtx dump_lock;

/* Room for n more ids; called by the sources under their table lock. */
static int
key_dump_reserve(struct key_dump *kd, u_int n)
{
	uint32_t *ids;
	u_int cap;

	if (kd->kd_capids - kd->kd_nids >= n)
		return (0);
	if (n > UINT_MAX / sizeof(*ids) - kd->kd_nids)
		return (ENOBUFS);
	cap = kd->kd_nids + n;
	ids = malloc(cap * sizeof(*ids), M_IPSEC_MISC, M_NOWAIT);
	if (ids == NULL)
		return (ENOBUFS);
	if (kd->kd_ids != NULL) {
		memcpy(ids, kd->kd_ids, kd->kd_nids * sizeof(*ids));
		free(kd->kd_ids, M_IPSEC_MISC);
	}
	kd->kd_ids = ids;
	kd->kd_capids = cap;
	return (0);
}

static void
key_dump_free(struct key_dump *kd)
{

	if (kd->kd_next != NULL)
		zfree(kd->kd_next, M_IPSEC_MISC);
	if (kd->kd_ids != NULL)
		free(kd->kd_ids, M_IPSEC_MISC);
	free(kd, M_IPSEC_MISC);
}

/*
 * Build the message of the next object that still exists into kd_next;
 * kd_next stays NULL at the end of the snapshot.  ENOBUFS if a message
 * cannot be built.
 */
static int
key_dump_advance(struct key_dump *kd)
{
	struct key_mb mb;
	struct sadb_msg *msg;
	size_t len;
	u_int pos, src;
	int error;

	MPASS(kd->kd_next == NULL);
	src = 0;
	while (kd->kd_pos < kd->kd_nids) {
		pos = kd->kd_pos++;
		while (pos >= kd->kd_srcend[src])
			src++;
		memset(&mb, 0, sizeof(mb));
		error = kd->kd_src[src]->ds_build(&mb, kd->kd_ids[pos],
		    kd->kd_filter, kd->kd_type, kd->kd_pid);
		if (error == ENOENT)
			continue;		/* gone since the request */
		if (error == 0 && (msg = key_mb_finish(&mb, &len)) != NULL) {
			kd->kd_next = msg;
			kd->kd_nextlen = len;
			kd->kd_nextpos = pos;
			return (0);
		}
		key_mb_free(&mb);
		return (ENOBUFS);
	}
	return (0);
}

/*
 * Send the dump's messages until the host has no room (EINPROGRESS) or
 * the dump is over (0).  A message that cannot be built ends the dump
 * with a header carrying ENOBUFS and seq 0, so the user does not wait
 * for more.
 */
static int
key_dump_run(struct keycb *so, struct key_dump *kd)
{
	struct sadb_msg *msg, end;
	size_t len;
	u_int pos;
	int error, full;

	DUMP_LOCK_ASSERT();
	for (;;) {
		msg = kd->kd_next;
		len = kd->kd_nextlen;
		pos = kd->kd_nextpos;
		MPASS(msg != NULL);
		kd->kd_next = NULL;
		error = key_dump_advance(kd);
		/* The ids after this one; 0 when no message follows. */
		msg->sadb_msg_seq = kd->kd_next != NULL || error != 0 ?
		    kd->kd_nids - 1 - pos : 0;
		full = key_sendup_dump(so, msg, len);
		zfree(msg, M_IPSEC_MISC);
		if (error != 0) {
			memset(&end, 0, sizeof(end));
			end.sadb_msg_version = PF_KEY_V2;
			end.sadb_msg_type = kd->kd_type;
			end.sadb_msg_satype = kd->kd_filter;
			end.sadb_msg_errno = ENOBUFS;
			end.sadb_msg_len = PFKEY_UNIT64(sizeof(end));
			end.sadb_msg_pid = kd->kd_pid;
			key_sendup(so, &end, sizeof(end), KEY_SENDUP_ONE);
			log(LOG_WARNING, "%s: dump cut short: out of memory",
			    __func__);
			return (0);
		}
		if (kd->kd_next == NULL)
			return (0);
		if (full == EWOULDBLOCK)
			return (EINPROGRESS);
	}
}

/*
 * Start a dump for a request: the snapshot from each source, then as
 * many messages as the host takes.  ENOENT when nothing is to be dumped.
 */
static int
key_dump_start(struct keycb *so, const struct sadb_msghdr *mhp,
    const struct key_dumpsrc *const *srcs)
{
	struct key_dump *kd;
	u_int i;
	int error;

	DUMP_LOCK();
	if (keysock_dump(so) != NULL) {
		DUMP_UNLOCK();
		COUNTER_ADD(keystat.ks_dumpbusy, 1);
		return (key_senderror(so, mhp, EBUSY));
	}
	kd = malloc(sizeof(*kd), M_IPSEC_MISC, M_NOWAIT | M_ZERO);
	if (kd == NULL) {
		DUMP_UNLOCK();
		return (key_senderror(so, mhp, ENOBUFS));
	}
	kd->kd_src = srcs;
	kd->kd_type = mhp->msg->sadb_msg_type;
	kd->kd_filter = mhp->msg->sadb_msg_satype;
	kd->kd_pid = mhp->msg->sadb_msg_pid;
	error = 0;
	for (i = 0; srcs[i] != NULL && error == 0; i++) {
		KASSERT(i < KEY_DUMP_MAXSRC, ("%s: too many sources",
		    __func__));
		error = srcs[i]->ds_collect(kd, kd->kd_filter);
		kd->kd_srcend[i] = kd->kd_nids;
	}
	if (error == 0)
		error = key_dump_advance(kd);
	if (error == 0 && kd->kd_next == NULL)
		error = ENOENT;
	if (error == 0 && key_dump_run(so, kd) == EINPROGRESS) {
		keysock_setdump(so, kd);
		kd = NULL;
	}
	DUMP_UNLOCK();
	if (kd != NULL)
		key_dump_free(kd);
	if (error != 0)
		return (key_senderror(so, mhp, error));
	return (0);
}

int
key_dump_resume(struct keycb *so)
{
	struct key_dump *kd;
	int error;

	DUMP_LOCK();
	kd = keysock_dump(so);
	if (kd == NULL) {
		DUMP_UNLOCK();
		return (0);
	}
	error = key_dump_run(so, kd);
	if (error != EINPROGRESS)
		keysock_setdump(so, NULL);
	DUMP_UNLOCK();
	if (error != EINPROGRESS)
		key_dump_free(kd);
	return (error);
}

/* A socket goes away: forget its dump. */
void
key_dump_drop(struct keycb *so)
{
	struct key_dump *kd;
	int locked;

	/* After key_destroy() no dump runs: no lock to take. */
	locked = key_inited;
	if (locked)
		DUMP_LOCK();
	kd = keysock_dump(so);
	keysock_setdump(so, NULL);
	if (locked)
		DUMP_UNLOCK();
	if (kd != NULL)
		key_dump_free(kd);
}

/* The SAD as a dump source: SPIs, per SA head, larval SAs first. */
static int
key_dumpsa_collect(struct key_dump *kd, u_int satype)
{
	struct secashead *sah;
	struct secasvar *sav;
	uint8_t proto;
	int error;

	proto = key_satype2proto(satype);
	SAHTREE_RLOCK();
	error = key_dump_reserve(kd, sav_count);
	if (error == 0) {
		TAILQ_FOREACH(sah, &sahtree, chain) {
			if (proto != IPSEC_PROTO_ANY &&
			    sah->saidx.proto != proto)
				continue;
			TAILQ_FOREACH(sav, &sah->savtree_larval, chain)
				kd->kd_ids[kd->kd_nids++] = sav->spi;
			TAILQ_FOREACH(sav, &sah->savtree_alive, chain)
				kd->kd_ids[kd->kd_nids++] = sav->spi;
		}
	}
	SAHTREE_RUNLOCK();
	return (error);
}

static int
key_dumpsa_build(struct key_mb *mb, uint32_t spi, u_int satype,
    uint8_t type, uint32_t pid)
{
	struct secasvar *sav;
	uint8_t proto;

	proto = key_satype2proto(satype);
	SAHTREE_RLOCK();
	sav = key_getsavbyspi(spi);
	/* The SPI may have gone to an SA of another type meanwhile. */
	if (sav == NULL || (proto != IPSEC_PROTO_ANY &&
	    sav->sah->saidx.proto != proto)) {
		SAHTREE_RUNLOCK();
		return (ENOENT);
	}
	key_setdumpsa(mb, sav, type, 0, pid, 1, 0);
	SAHTREE_RUNLOCK();
	return (0);
}

static const struct key_dumpsrc key_dumpsrc_sad = {
	key_dumpsa_collect, key_dumpsa_build
};
static const struct key_dumpsrc *const key_dump_sad[] = {
	&key_dumpsrc_sad, NULL
};

/*
 * SADB_DUMP: every SA of the type, larval first, one message each with
 * seq counting down to 0 (streamed, see above).
 * <base> -> <base, SA, ...> * n, to the sender.
 */
static int
key_dump(struct keycb *so, const struct sadb_msghdr *mhp)
{

	return (key_dump_start(so, mhp, key_dump_sad));
}

/*
 * SADB_X_PROMISC: satype 1/0 turns promiscuous mode on/off (echoed to
 * everyone); with a payload, the payload message is sent to everyone.
 */
static int
key_promisc(struct keycb *so, const struct sadb_msghdr *mhp)
{
	struct sadb_msg *inner;
	struct key_mb mb;

	if (mhp->len == sizeof(struct sadb_msg)) {
		switch (mhp->msg->sadb_msg_satype) {
		case 0:
		case 1:
			keysock_promisc(so, mhp->msg->sadb_msg_satype);
			break;
		default:
			return (key_senderror(so, mhp, EINVAL));
		}
		key_gather(&mb, mhp, NULL, 0);
		key_mb_send(&mb, so, KEY_SENDUP_ALL);
		return (0);
	}
	inner = mhp->msg + 1;
	if (mhp->len - sizeof(struct sadb_msg) < sizeof(*inner) ||
	    PFKEY_UNUNIT64((size_t)inner->sadb_msg_len) !=
	    mhp->len - sizeof(struct sadb_msg))
		return (key_senderror(so, mhp, EINVAL));
	key_sendup(so, inner, mhp->len - sizeof(struct sadb_msg),
	    KEY_SENDUP_ALL);
	return (0);
}

/*
 * Security policies from and to messages.
 */
void
key_freesp(struct secpolicy *sp)
{
	u_int i;

	for (i = 0; i < sp->tcount; i++)
		free(sp->req[i], M_IPSEC_SR);
	free(sp, M_IPSEC_SP);
}

uint32_t
key_newreqid(void)
{

	/* Kernel reqids live above the manual range, in 16 bits. */
	if (++auto_reqid > 0xffff)
		auto_reqid = IPSEC_MANUAL_REQID_MAX + 1;
	return (auto_reqid);
}

/* The selector of SRC, DST and X_POLICY's direction. */
static void
key_msg2spidx(const struct sadb_msghdr *mhp, struct secpolicyindex *spidx)
{
	const struct sadb_address *src0, *dst0;
	const struct sadb_x_policy *xpl;

	src0 = (const void *)mhp->ext[SADB_EXT_ADDRESS_SRC];
	dst0 = (const void *)mhp->ext[SADB_EXT_ADDRESS_DST];
	xpl = (const void *)mhp->ext[SADB_X_EXT_POLICY];
	memset(spidx, 0, sizeof(*spidx));
	key_sa_copy(&spidx->src, PFKEY_ADDR_SADDR(src0), 1);
	key_sa_copy(&spidx->dst, PFKEY_ADDR_SADDR(dst0), 1);
	spidx->prefs = src0->sadb_address_prefixlen;
	spidx->prefd = dst0->sadb_address_prefixlen;
	spidx->ul_proto = src0->sadb_address_proto;
	spidx->dir = xpl->sadb_x_policy_dir;
}

/*
 * A policy from an X_POLICY extension of "tlen" bytes (its type and
 * requests; FreeBSD's key_msg2sp()), without a selector.  Any type the
 * caller allows; requests only for IPSEC.  Writes kernel-allocated
 * reqids back into the extension, so a reply shows them.
 */
struct secpolicy *
key_xpl2sp(struct sadb_x_policy *xpl, size_t tlen, int *error)
{
	struct sadb_x_ipsecrequest *xisr;
	const struct sockaddr *ssa, *dsa;
	struct ipsecrequest *isr;
	struct secpolicy *sp;
	size_t off, rlen, salen;

	sp = malloc(sizeof(*sp), M_IPSEC_SP, M_NOWAIT | M_ZERO);
	if (sp == NULL) {
		*error = ENOBUFS;
		return (NULL);
	}
	sp->policy = xpl->sadb_x_policy_type;
	sp->priority = xpl->sadb_x_policy_priority;
	sp->refcnt = 1;

	*error = EINVAL;
	off = sizeof(*xpl);
	if (sp->policy != IPSEC_POLICY_IPSEC) {
		if (off != tlen)
			goto fail;
		*error = 0;
		return (sp);
	}
	if (off >= tlen)
		goto fail;		/* IPSEC needs a request */
	while (off < tlen) {
		if (tlen - off < sizeof(*xisr) || sp->tcount >= IPSEC_MAXREQ)
			goto fail;
		xisr = (void *)((uint8_t *)xpl + off);
		rlen = xisr->sadb_x_ipsecrequest_len;
		if (rlen < sizeof(*xisr) || rlen > tlen - off)
			goto fail;
		switch (xisr->sadb_x_ipsecrequest_proto) {
		case IPPROTO_ESP:
		case IPPROTO_AH:
		case IPPROTO_IPCOMP:
			break;
		default:
			*error = EPROTONOSUPPORT;
			goto fail;
		}
		switch (xisr->sadb_x_ipsecrequest_mode) {
		case IPSEC_MODE_TRANSPORT:
		case IPSEC_MODE_TUNNEL:
			break;
		default:
			goto fail;
		}
		isr = malloc(sizeof(*isr), M_IPSEC_SR, M_NOWAIT | M_ZERO);
		if (isr == NULL) {
			*error = ENOBUFS;
			goto fail;
		}
		sp->req[sp->tcount++] = isr;
		isr->saidx.proto = xisr->sadb_x_ipsecrequest_proto;
		isr->saidx.mode = xisr->sadb_x_ipsecrequest_mode;
		isr->level = xisr->sadb_x_ipsecrequest_level;
		switch (isr->level) {
		case IPSEC_LEVEL_DEFAULT:
		case IPSEC_LEVEL_USE:
		case IPSEC_LEVEL_REQUIRE:
			break;
		case IPSEC_LEVEL_UNIQUE:
			/* Out of the manual range: the kernel picks one. */
			if (xisr->sadb_x_ipsecrequest_reqid >
			    IPSEC_MANUAL_REQID_MAX)
				xisr->sadb_x_ipsecrequest_reqid = 0;
			if (xisr->sadb_x_ipsecrequest_reqid == 0)
				xisr->sadb_x_ipsecrequest_reqid =
				    (uint16_t)key_newreqid();
			isr->saidx.reqid = xisr->sadb_x_ipsecrequest_reqid;
			break;
		default:
			goto fail;
		}
		/* Endpoints: source then destination, checked like exts. */
		if (rlen > sizeof(*xisr)) {
			ssa = (const void *)(xisr + 1);
			if (rlen - sizeof(*xisr) < sizeof(struct sockaddr))
				goto fail;
			salen = SA_LEN(ssa);
			if (salen == 0 || rlen - sizeof(*xisr) < 2 * salen)
				goto fail;
			dsa = (const void *)((const uint8_t *)ssa + salen);
			if (dsa->sa_family != ssa->sa_family ||
			    sizeof(*xisr) + 2 * salen > rlen)
				goto fail;
			key_sa_copy(&isr->saidx.src, ssa, 0);
			key_sa_copy(&isr->saidx.dst, dsa, 0);
		} else if (isr->saidx.mode == IPSEC_MODE_TUNNEL)
			goto fail;
		off += rlen;
	}
	*error = 0;
	return (sp);
fail:
	key_freesp(sp);
	return (NULL);
}

/* A policy from SRC, DST and X_POLICY, for SPDADD. */
static struct secpolicy *
key_msg2sp(const struct sadb_msghdr *mhp, int *error)
{
	struct sadb_x_policy *xpl;
	struct secpolicy *sp;

	xpl = (void *)mhp->ext[SADB_X_EXT_POLICY];
	if (xpl->sadb_x_policy_dir != IPSEC_DIR_INBOUND &&
	    xpl->sadb_x_policy_dir != IPSEC_DIR_OUTBOUND) {
		*error = EINVAL;
		return (NULL);
	}
	switch (xpl->sadb_x_policy_type) {
	case IPSEC_POLICY_DISCARD:
	case IPSEC_POLICY_NONE:
	case IPSEC_POLICY_IPSEC:
		break;
	default:
		*error = EINVAL;
		return (NULL);
	}
	sp = key_xpl2sp(xpl, mhp->extlen[SADB_X_EXT_POLICY], error);
	if (sp != NULL)
		key_msg2spidx(mhp, &sp->spidx);
	return (sp);
}

/* The X_POLICY extension of a policy, with its requests. */
static void
key_mb_policy(struct key_mb *mb, const struct secpolicy *sp)
{
	struct sadb_x_policy *xpl;
	struct sadb_x_ipsecrequest *xisr;
	const struct ipsecrequest *isr;
	size_t len, salen;
	uint8_t *p;
	u_int i;

	len = sizeof(*xpl);
	for (i = 0; i < sp->tcount; i++) {
		isr = sp->req[i];
		salen = isr->saidx.src.sa.sa_family ? SA_LEN(&isr->saidx.src.sa)
		    : 0;
		len += PFKEY_ALIGN8(sizeof(*xisr) + 2 * salen);
	}
	xpl = key_mb_ext(mb, len, SADB_X_EXT_POLICY);
	if (xpl == NULL)
		return;
	xpl->sadb_x_policy_type = sp->policy;
	xpl->sadb_x_policy_dir = sp->spidx.dir;
	xpl->sadb_x_policy_scope = sp->state == IPSEC_SPSTATE_PCB ?
	    IPSEC_POLICYSCOPE_PCB : sp->state == IPSEC_SPSTATE_IFNET ?
	    IPSEC_POLICYSCOPE_IFNET : IPSEC_POLICYSCOPE_GLOBAL;
	xpl->sadb_x_policy_id = sp->id;
	xpl->sadb_x_policy_priority = sp->priority;
	p = (uint8_t *)(xpl + 1);
	for (i = 0; i < sp->tcount; i++) {
		isr = sp->req[i];
		salen = isr->saidx.src.sa.sa_family ? SA_LEN(&isr->saidx.src.sa)
		    : 0;
		xisr = (void *)p;
		xisr->sadb_x_ipsecrequest_len =
		    PFKEY_ALIGN8(sizeof(*xisr) + 2 * salen);
		xisr->sadb_x_ipsecrequest_proto = isr->saidx.proto;
		xisr->sadb_x_ipsecrequest_mode = isr->saidx.mode;
		xisr->sadb_x_ipsecrequest_level = isr->level;
		xisr->sadb_x_ipsecrequest_reqid = (uint16_t)isr->saidx.reqid;
		if (salen != 0) {
			memcpy(xisr + 1, &isr->saidx.src, salen);
			memcpy((uint8_t *)(xisr + 1) + salen, &isr->saidx.dst,
			    salen);
		}
		p += xisr->sadb_x_ipsecrequest_len;
	}
}

/*
 * The X_POLICY extension of a policy into "buf" (a socket's policy, for
 * its getsockopt(2)): the length it needs, copied if "len" is enough; 0
 * if it cannot be built.
 */
size_t
key_sp2xpl(const struct secpolicy *sp, void *buf, size_t len)
{
	struct key_mb mb;
	size_t need;

	memset(&mb, 0, sizeof(mb));
	key_mb_policy(&mb, sp);
	need = mb.error == 0 ? mb.len : 0;
	if (need != 0 && need <= len)
		memcpy(buf, mb.buf, need);
	key_mb_free(&mb);
	return (need);
}

/* A whole policy, for SPDGET, SPDDUMP and SPDEXPIRE (key_setdumpsp()). */
static void
key_setdumpsp(struct key_mb *mb, const struct secpolicy *sp, u_int type,
    uint32_t seq, uint32_t pid)
{
	struct seclifetime lft;
	time_t wall0;

	key_mb_msg(mb, type, SADB_SATYPE_UNSPEC, seq, pid,
	    (uint16_t)sp->refcnt);
	key_mb_addr(mb, SADB_EXT_ADDRESS_SRC, &sp->spidx.src, sp->spidx.prefs,
	    sp->spidx.ul_proto);
	key_mb_addr(mb, SADB_EXT_ADDRESS_DST, &sp->spidx.dst, sp->spidx.prefd,
	    sp->spidx.ul_proto);
	key_mb_policy(mb, sp);
	if (sp->lifetime != 0 || sp->validtime != 0) {
		wall0 = time_second - time_uptime;
		memset(&lft, 0, sizeof(lft));
		lft.addtime = (uint64_t)(wall0 + sp->created);
		lft.usetime = (uint64_t)(wall0 + sp->lastused);
		key_mb_lifetime(mb, SADB_EXT_LIFETIME_CURRENT, &lft);
		lft.addtime = (uint64_t)sp->lifetime;
		lft.usetime = (uint64_t)sp->validtime;
		key_mb_lifetime(mb, SADB_EXT_LIFETIME_HARD, &lft);
	}
}

/* Policies in the SPD; the caller holds the SPTREE lock. */
static u_int
key_spd_count(void)
{
	u_int dir, n;

	n = 0;
	for (dir = 0; dir < IPSEC_DIR_MAX; dir++)
		n += sptree_count[dir];
	return (n);
}

/* A new policy id, 0 if none is left; SPTREE_WLOCK held. */
uint32_t
key_getnewspid(void)
{
	u_int count;

	/* Ids are never 0; skip those still in use after a wrap. */
	for (count = 0; count < 1000000; count++) {
		if (++policy_id == 0)
			policy_id = 1;
		if (key_spd_byid(policy_id) == NULL)
			return (policy_id);
	}
	return (0);
}

/*
 * SADB_X_SPDADD, SADB_X_SPDUPDATE and SADB_X_SPDSETIDX: add a policy;
 * UPDATE replaces the one with the same selector.
 * <base, address(SD), policy, (lifetime(H))>
 * -> <base, policy(*), (lifetime(H)), address(SD)>, to everyone.
 */
static int
key_spdadd(struct keycb *so, const struct sadb_msghdr *mhp)
{
	static const uint8_t reply[] = { SADB_X_EXT_POLICY,
	    SADB_EXT_LIFETIME_HARD, SADB_EXT_ADDRESS_SRC,
	    SADB_EXT_ADDRESS_DST };
	const struct sadb_lifetime *lft;
	struct secpolicy *sp, *old;
	struct sadb_x_policy *xpl;
	struct key_mb mb;
	int error, logit;

	if (SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_SRC) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_DST) ||
	    SADB_CHECKHDR(mhp, SADB_X_EXT_POLICY))
		return (key_senderror(so, mhp, EINVAL));
	sp = key_msg2sp(mhp, &error);
	if (sp == NULL)
		return (key_senderror(so, mhp, error));
	if (!SADB_CHECKHDR(mhp, SADB_EXT_LIFETIME_HARD)) {
		lft = (const void *)mhp->ext[SADB_EXT_LIFETIME_HARD];
		sp->lifetime = (time_t)lft->sadb_lifetime_addtime;
		sp->validtime = (time_t)lft->sadb_lifetime_usetime;
	}
	sp->created = sp->lastused = time_uptime;

	SPTREE_WLOCK();
	old = key_spd_exact(&sp->spidx);
	if (old != NULL) {
		if (mhp->msg->sadb_msg_type != SADB_X_SPDUPDATE) {
			SPTREE_WUNLOCK();
			key_freesp(sp);
			return (key_senderror(so, mhp, EEXIST));
		}
		key_spd_remove(old);
		key_freesp(old);
	} else if (key_spd_count() >= key_sp_max) {
		/* A replacement always fits; only a new policy is refused. */
		logit = key_limit_hit(&keystat.ks_spdfull, &key_spdfull_log);
		SPTREE_WUNLOCK();
		key_freesp(sp);
		if (logit)
			log(LOG_WARNING, "%s: SPD full (net.key.sp_max=%u "
			    "policies): refused with ENOBUFS (%ju so far)",
			    __func__, key_sp_max,
			    (uintmax_t)COUNTER_FETCH(keystat.ks_spdfull));
		return (key_senderror(so, mhp, ENOBUFS));
	}
	sp->id = key_getnewspid();
	if (sp->id == 0 || (error = key_spd_insert(sp)) != 0) {
		SPTREE_WUNLOCK();
		key_freesp(sp);
		return (key_senderror(so, mhp, ENOBUFS));
	}
	xpl = (void *)mhp->ext[SADB_X_EXT_POLICY];
	xpl->sadb_x_policy_id = sp->id;
	SPTREE_WUNLOCK();

	key_gather(&mb, mhp, reply, nitems(reply));
	key_mb_send(&mb, so, KEY_SENDUP_ALL);
	return (0);
}

/*
 * SADB_X_SPDDELETE: remove the policy with this selector and direction.
 * <base, address(SD), policy> -> <base, policy(*), address(SD)>, all.
 */
static int
key_spddelete(struct keycb *so, const struct sadb_msghdr *mhp)
{
	static const uint8_t reply[] = { SADB_X_EXT_POLICY,
	    SADB_EXT_ADDRESS_SRC, SADB_EXT_ADDRESS_DST };
	struct secpolicyindex spidx;
	struct sadb_x_policy *xpl;
	struct secpolicy *sp;
	struct key_mb mb;

	if (SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_SRC) ||
	    SADB_CHECKHDR(mhp, SADB_EXT_ADDRESS_DST) ||
	    SADB_CHECKHDR(mhp, SADB_X_EXT_POLICY))
		return (key_senderror(so, mhp, EINVAL));
	/*
	 * Only the selector and the direction count; the type must be one
	 * SPDADD takes, and requests are not looked at (FreeBSD).
	 */
	xpl = (void *)mhp->ext[SADB_X_EXT_POLICY];
	if ((xpl->sadb_x_policy_dir != IPSEC_DIR_INBOUND &&
	    xpl->sadb_x_policy_dir != IPSEC_DIR_OUTBOUND) ||
	    (xpl->sadb_x_policy_type != IPSEC_POLICY_DISCARD &&
	    xpl->sadb_x_policy_type != IPSEC_POLICY_NONE &&
	    xpl->sadb_x_policy_type != IPSEC_POLICY_IPSEC))
		return (key_senderror(so, mhp, EINVAL));
	key_msg2spidx(mhp, &spidx);

	SPTREE_WLOCK();
	sp = key_spd_exact(&spidx);
	if (sp == NULL) {
		SPTREE_WUNLOCK();
		return (key_senderror(so, mhp, EINVAL));
	}
	xpl->sadb_x_policy_id = sp->id;
	key_spd_remove(sp);
	SPTREE_WUNLOCK();
	key_freesp(sp);

	key_gather(&mb, mhp, reply, nitems(reply));
	key_mb_send(&mb, so, KEY_SENDUP_ALL);
	return (0);
}

/*
 * SADB_X_SPDDELETE2: remove the policy with this id; a socket's cannot
 * be (EACCES).
 * <base, policy(*)> -> <base, policy(*)>, to everyone.
 */
static int
key_spddelete2(struct keycb *so, const struct sadb_msghdr *mhp)
{
	static const uint8_t reply[] = { SADB_X_EXT_POLICY };
	const struct sadb_x_policy *xpl;
	struct secpolicy *sp;
	struct key_mb mb;

	if (SADB_CHECKHDR(mhp, SADB_X_EXT_POLICY))
		return (key_senderror(so, mhp, EINVAL));
	xpl = (const void *)mhp->ext[SADB_X_EXT_POLICY];
	SPTREE_WLOCK();
	sp = key_spd_byid(xpl->sadb_x_policy_id);
	if (sp == NULL) {
		SPTREE_WUNLOCK();
		return (key_senderror(so, mhp, EINVAL));
	}
	if (sp->state == IPSEC_SPSTATE_PCB ||
	    sp->state == IPSEC_SPSTATE_IFNET) {
		/* A socket's or an interface's: only its owner changes it. */
		SPTREE_WUNLOCK();
		return (key_senderror(so, mhp, EACCES));
	}
	key_spd_remove(sp);
	SPTREE_WUNLOCK();
	key_freesp(sp);

	key_gather(&mb, mhp, reply, nitems(reply));
	key_mb_send(&mb, so, KEY_SENDUP_ALL);
	return (0);
}

/*
 * SADB_X_SPDGET: the policy with this id.
 * <base, policy(*)> -> <base, address(SD), policy, (lifetime(CH))>, one.
 */
static int
key_spdget(struct keycb *so, const struct sadb_msghdr *mhp)
{
	const struct sadb_x_policy *xpl;
	struct secpolicy *sp;
	struct key_mb mb;

	if (SADB_CHECKHDR(mhp, SADB_X_EXT_POLICY))
		return (key_senderror(so, mhp, EINVAL));
	xpl = (const void *)mhp->ext[SADB_X_EXT_POLICY];
	SPTREE_RLOCK();
	sp = key_spd_byid(xpl->sadb_x_policy_id);
	if (sp == NULL) {
		SPTREE_RUNLOCK();
		return (key_senderror(so, mhp, ENOENT));
	}
	key_setdumpsp(&mb, sp, SADB_X_SPDGET, mhp->msg->sadb_msg_seq,
	    mhp->msg->sadb_msg_pid);
	SPTREE_RUNLOCK();
	key_mb_send(&mb, so, KEY_SENDUP_ONE);
	return (0);
}

/* The global SPD as a dump source: policy ids, per direction. */
static int
key_dumpsp_collect(struct key_dump *kd, u_int scope)
{
	struct secpolicy *sp;
	u_int dir;
	int error;

	if (scope != IPSEC_POLICYSCOPE_ANY &&
	    !(scope & IPSEC_POLICYSCOPE_GLOBAL))
		return (0);
	SPTREE_RLOCK();
	error = key_dump_reserve(kd, key_spd_count());
	for (dir = 0; dir < IPSEC_DIR_MAX && error == 0; dir++)
		TAILQ_FOREACH(sp, &sptree[dir], chain)
			kd->kd_ids[kd->kd_nids++] = sp->id;
	SPTREE_RUNLOCK();
	return (error);
}

static int
key_dumpsp_build(struct key_mb *mb, uint32_t id, u_int scope __unused,
    uint8_t type, uint32_t pid)
{
	struct secpolicy *sp;

	SPTREE_RLOCK();
	sp = key_spd_byid(id);
	if (sp == NULL) {
		SPTREE_RUNLOCK();
		return (ENOENT);
	}
	key_setdumpsp(mb, sp, type, 0, pid);
	SPTREE_RUNLOCK();
	return (0);
}

static const struct key_dumpsrc key_dumpsrc_spd = {
	key_dumpsp_collect, key_dumpsp_build
};

/* Interfaces' policies as a dump source (scope ifnet), per direction. */
static int
key_dumpifnet_collect(struct key_dump *kd, u_int scope)
{
	struct secpolicy *sp;
	u_int dir;
	int error;

	if (scope != IPSEC_POLICYSCOPE_ANY &&
	    !(scope & IPSEC_POLICYSCOPE_IFNET))
		return (0);
	SPTREE_RLOCK();
	error = key_dump_reserve(kd, spifnet_count);
	for (dir = 0; dir < IPSEC_DIR_MAX && error == 0; dir++)
		TAILQ_FOREACH(sp, &sptree_ifnet[dir], chain)
			kd->kd_ids[kd->kd_nids++] = sp->id;
	SPTREE_RUNLOCK();
	return (error);
}

static const struct key_dumpsrc key_dumpsrc_ifnet = {
	key_dumpifnet_collect, key_dumpsp_build
};

/*
 * Sockets' policies as a dump source (scope pcb): their ids share the
 * SPD's id tree, so key_dumpsp_build() finds them.
 */
static int
key_dumppcb_collect(struct key_dump *kd, u_int scope)
{
	struct secpcb *pcb;
	u_int dir;
	int error;

	if (scope != IPSEC_POLICYSCOPE_ANY &&
	    !(scope & IPSEC_POLICYSCOPE_PCB))
		return (0);
	SPTREE_RLOCK();
	error = key_dump_reserve(kd, sppcb_count);
	if (error == 0)
		TAILQ_FOREACH(pcb, &sppcb, chain)
			for (dir = 0; dir < IPSEC_DIR_MAX; dir++)
				if (pcb->sp[dir] != NULL)
					kd->kd_ids[kd->kd_nids++] =
					    pcb->sp[dir]->id;
	SPTREE_RUNLOCK();
	return (error);
}

static const struct key_dumpsrc key_dumpsrc_pcb = {
	key_dumppcb_collect, key_dumpsp_build
};

/*
 * The sources of an SPDDUMP, in dump order: the global policies first,
 * then the interfaces' (FreeBSD's order), then the sockets'.
 */
static const struct key_dumpsrc *const key_dump_spd[] = {
	&key_dumpsrc_spd, &key_dumpsrc_ifnet, &key_dumpsrc_pcb, NULL
};

/*
 * SADB_X_SPDDUMP: every policy, inbound then outbound, in first-match
 * order, then the interfaces' (inbound then outbound, as they came) and
 * the sockets' policies (in their order of creation), seq counting down
 * to 0 (streamed, see key_dump_start()).  satype is a scope mask (0:
 * any).
 * <base> -> <base, address(SD), policy, ...> * n, to the sender.
 */
static int
key_spddump(struct keycb *so, const struct sadb_msghdr *mhp)
{

	return (key_dump_start(so, mhp, key_dump_spd));
}

/*
 * SADB_X_SPDFLUSH: remove every policy.
 * <base> -> <base>, to everyone.
 */
static int
key_spdflush(struct keycb *so, const struct sadb_msghdr *mhp)
{
	struct sptree_head drain;
	struct secpolicy *sp;
	struct key_mb mb;
	u_int dir;

	if (mhp->len != sizeof(struct sadb_msg))
		return (key_senderror(so, mhp, EINVAL));
	TAILQ_INIT(&drain);
	SPTREE_WLOCK();
	for (dir = 0; dir < IPSEC_DIR_MAX; dir++) {
		while ((sp = TAILQ_FIRST(&sptree[dir])) != NULL) {
			key_spd_remove(sp);
			TAILQ_INSERT_TAIL(&drain, sp, chain);
		}
	}
	SPTREE_WUNLOCK();
	while ((sp = TAILQ_FIRST(&drain)) != NULL) {
		TAILQ_REMOVE(&drain, sp, chain);
		key_freesp(sp);
	}
	key_gather(&mb, mhp, NULL, 0);
	key_mb_send(&mb, so, KEY_SENDUP_ALL);
	return (0);
}

/* Messages only the kernel sends. */
static int
key_kernelonly(struct keycb *so, const struct sadb_msghdr *mhp)
{

	return (key_senderror(so, mhp, EINVAL));
}

typedef int key_handler_t(struct keycb *, const struct sadb_msghdr *);

static key_handler_t *const key_typesw[SADB_MAX + 1] = {
	[SADB_RESERVED] = key_kernelonly,
	[SADB_GETSPI] = key_getspi,
	[SADB_UPDATE] = key_update,
	[SADB_ADD] = key_add,
	[SADB_DELETE] = key_delete,
	[SADB_GET] = key_get,
	[SADB_ACQUIRE] = key_acquire2,
	[SADB_REGISTER] = key_register,
	[SADB_EXPIRE] = key_kernelonly,
	[SADB_FLUSH] = key_flush,
	[SADB_DUMP] = key_dump,
	[SADB_X_PROMISC] = key_promisc,
	[SADB_X_PCHANGE] = key_kernelonly,
	[SADB_X_SPDUPDATE] = key_spdadd,
	[SADB_X_SPDADD] = key_spdadd,
	[SADB_X_SPDDELETE] = key_spddelete,
	[SADB_X_SPDGET] = key_spdget,
	[SADB_X_SPDACQUIRE] = key_kernelonly,
	[SADB_X_SPDDUMP] = key_spddump,
	[SADB_X_SPDFLUSH] = key_spdflush,
	[SADB_X_SPDSETIDX] = key_spdadd,
	[SADB_X_SPDEXPIRE] = key_kernelonly,
	[SADB_X_SPDDELETE2] = key_spddelete2,
};

/*
 * The satype rules of FreeBSD's key_parse(): 0 = fine, else the errno of
 * the reply.
 */
static int
key_checksatype(const struct sadb_msg *msg)
{

	if (msg->sadb_msg_type == SADB_X_SPDDUMP) {
		if (msg->sadb_msg_satype & ~(IPSEC_POLICYSCOPE_GLOBAL |
		    IPSEC_POLICYSCOPE_IFNET | IPSEC_POLICYSCOPE_PCB))
			return (EINVAL);
		return (0);
	}
	switch (msg->sadb_msg_satype) {
	case SADB_SATYPE_UNSPEC:
		switch (msg->sadb_msg_type) {
		case SADB_GETSPI:
		case SADB_UPDATE:
		case SADB_ADD:
		case SADB_DELETE:
		case SADB_GET:
		case SADB_ACQUIRE:
		case SADB_EXPIRE:
			return (EINVAL);
		}
		return (0);
	case SADB_SATYPE_AH:
	case SADB_SATYPE_ESP:
	case SADB_X_SATYPE_IPCOMP:
	case SADB_X_SATYPE_TCPSIGNATURE:
		switch (msg->sadb_msg_type) {
		case SADB_X_SPDADD:
		case SADB_X_SPDDELETE:
		case SADB_X_SPDGET:
		case SADB_X_SPDFLUSH:
		case SADB_X_SPDSETIDX:
		case SADB_X_SPDUPDATE:
		case SADB_X_SPDDELETE2:
			return (EINVAL);
		}
		return (0);
	case SADB_SATYPE_RSVP:
	case SADB_SATYPE_OSPFV2:
	case SADB_SATYPE_RIPV2:
	case SADB_SATYPE_MIP:
		return (EOPNOTSUPP);
	case 1:
		if (msg->sadb_msg_type == SADB_X_PROMISC)
			return (0);
		break;
	}
	return (EINVAL);
}

/* SRC and DST together: one family, its exact size, sane prefixes. */
static int
key_checkaddrs(const struct sadb_msghdr *mhp)
{
	const struct sadb_address *src0, *dst0;
	const struct sockaddr *s, *d;
	u_int plen;

	src0 = (const void *)mhp->ext[SADB_EXT_ADDRESS_SRC];
	dst0 = (const void *)mhp->ext[SADB_EXT_ADDRESS_DST];
	if (src0 == NULL || dst0 == NULL)
		return (0);
	s = PFKEY_ADDR_SADDR(src0);
	d = PFKEY_ADDR_SADDR(dst0);
	if (src0->sadb_address_proto != dst0->sadb_address_proto ||
	    s->sa_family != d->sa_family)
		return (EINVAL);
	plen = key_sa_plen(s->sa_family);
	if (plen == 0)
		return (EAFNOSUPPORT);
#ifdef UKERN_HAVE_SA_LEN
	if (s->sa_len != d->sa_len || s->sa_len != (s->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)))
		return (EINVAL);
#endif
	if (src0->sadb_address_prefixlen > plen ||
	    dst0->sadb_address_prefixlen > plen)
		return (EINVAL);
	return (0);
}

/*
 * Every other address extension must be of a known family too.  (FreeBSD
 * copies X_NEW_ADDRESS_* before checking them; nothing here copies a
 * sockaddr that did not pass this and key_validate_ext().)
 */
static int
key_checkotheraddrs(const struct sadb_msghdr *mhp)
{
	static const uint8_t types[] = { SADB_EXT_ADDRESS_PROXY,
	    SADB_X_EXT_NAT_T_OAI, SADB_X_EXT_NAT_T_OAR,
	    SADB_X_EXT_NEW_ADDRESS_SRC, SADB_X_EXT_NEW_ADDRESS_DST };
	const struct sockaddr *sa;
	size_t i;

	for (i = 0; i < nitems(types); i++) {
		if (mhp->ext[types[i]] == NULL)
			continue;
		sa = PFKEY_ADDR_SADDR(mhp->ext[types[i]]);
		if (key_sa_plen(sa->sa_family) == 0)
			return (EAFNOSUPPORT);
	}
	if ((mhp->ext[SADB_EXT_ADDRESS_SRC] != NULL) !=
	    (mhp->ext[SADB_EXT_ADDRESS_DST] != NULL)) {
		sa = PFKEY_ADDR_SADDR(mhp->ext[SADB_EXT_ADDRESS_SRC] ?
		    mhp->ext[SADB_EXT_ADDRESS_SRC] :
		    mhp->ext[SADB_EXT_ADDRESS_DST]);
		if (key_sa_plen(sa->sa_family) == 0)
			return (EAFNOSUPPORT);
	}
	return (0);
}

/*
 * One PF_KEY message from a user (after keysock's length checks):
 * validate, dispatch, free.  Returns a framing error (the send fails, no
 * reply) or 0; semantic errors go back in a reply.
 */
int
key_parse(struct keycb *so, struct sadb_msg *msg, size_t len)
{
	struct sadb_msghdr mh;
	int error;

	memset(&mh, 0, sizeof(mh));
	mh.msg = msg;
	mh.len = len;
	mh.ext[0] = (struct sadb_ext *)(void *)msg;
	mh.extlen[0] = len;

	if (msg->sadb_msg_version != PF_KEY_V2) {
		PFKEYSTAT_INC(out_invver);
		error = EINVAL;
		goto senderror;
	}
	if (msg->sadb_msg_type > SADB_MAX) {
		PFKEYSTAT_INC(out_invmsgtype);
		error = EINVAL;
		goto senderror;
	}
	/* A promiscuous payload is a whole message, not extensions. */
	if (!(msg->sadb_msg_type == SADB_X_PROMISC &&
	    len > sizeof(struct sadb_msg))) {
		error = key_align(&mh);
		if (error != 0) {
			if (error == EINVAL)
				PFKEYSTAT_INC(out_invlen);
			zfree(msg, M_IPSEC_MISC);
			return (error);
		}
	}
	error = key_checksatype(msg);
	if (error != 0) {
		PFKEYSTAT_INC(out_invsatype);
		goto senderror;
	}
	error = key_checkaddrs(&mh);
	if (error == 0)
		error = key_checkotheraddrs(&mh);
	if (error != 0) {
		PFKEYSTAT_INC(out_invaddr);
		goto senderror;
	}
	error = key_typesw[msg->sadb_msg_type](so, &mh);
	zfree(msg, M_IPSEC_MISC);
	return (0);
senderror:
	key_senderror(so, &mh, error);
	zfree(msg, M_IPSEC_MISC);
	return (0);
}

/*
 * Expiry.  The timer runs once a second: policies past their lifetime go
 * (SPDEXPIRE), larval SAs past net.key.larval_lifetime go silently, SAs
 * past a hard limit go (EXPIRE hard) and SAs past a soft limit turn DYING
 * (EXPIRE soft, once).  Hard is checked first: RFC 2367 lets it win.
 */
static int
key_lft_over(const struct seclifetime *lft, const struct secasvar *sav,
    time_t now)
{

	if (lft == NULL)
		return (0);
	if (lft->addtime != 0 && now - sav->created > (time_t)lft->addtime)
		return (1);
	if (lft->usetime != 0 && sav->firstused != 0 &&
	    now - sav->firstused > (time_t)lft->usetime)
		return (1);
	if (lft->bytes != 0 && COUNTER_FETCH(sav->lft_c_bytes) >= lft->bytes)
		return (1);
	return (0);
}

static void
key_flush_spd(time_t now)
{
	struct sptree_head drain;
	struct secpolicy *sp, *next;
	struct key_msgq q;
	struct key_mb mb;
	u_int dir;

	TAILQ_INIT(&drain);
	STAILQ_INIT(&q);
	SPTREE_WLOCK();
	for (dir = 0; dir < IPSEC_DIR_MAX; dir++) {
		TAILQ_FOREACH_SAFE(sp, &sptree[dir], chain, next) {
			if ((sp->lifetime == 0 ||
			    now - sp->created <= sp->lifetime) &&
			    (sp->validtime == 0 ||
			    now - sp->lastused <= sp->validtime))
				continue;
			key_setdumpsp(&mb, sp, SADB_X_SPDEXPIRE, 0, 0);
			(void)key_msgq_add(&q, &mb);
			key_spd_remove(sp);
			TAILQ_INSERT_TAIL(&drain, sp, chain);
		}
	}
	SPTREE_WUNLOCK();
	key_msgq_flush(&q, NULL, KEY_SENDUP_REGISTERED);
	while ((sp = TAILQ_FIRST(&drain)) != NULL) {
		TAILQ_REMOVE(&drain, sp, chain);
		key_freesp(sp);
	}
}

static void
key_flush_sad(time_t now)
{
	struct secashead *sah, *nsah;
	struct secasvar *sav, *nsav;
	struct key_msgq q;
	struct key_mb mb;

	STAILQ_INIT(&q);
	SAHTREE_WLOCK();
	TAILQ_FOREACH_SAFE(sah, &sahtree, chain, nsah) {
		TAILQ_FOREACH_SAFE(sav, &sah->savtree_larval, chain, nsav) {
			if (now - sav->created > (time_t)key_larval_lifetime)
				key_unlinksav(sav);
		}
		TAILQ_FOREACH_SAFE(sav, &sah->savtree_alive, chain, nsav) {
			if (key_lft_over(sav->lft_h, sav, now)) {
				key_setdumpsa(&mb, sav, SADB_EXPIRE, sav->seq,
				    0, 0, SADB_EXT_LIFETIME_HARD);
				(void)key_msgq_add(&q, &mb);
				key_unlinksav(sav);
			} else if (sav->state == SADB_SASTATE_MATURE &&
			    key_lft_over(sav->lft_s, sav, now)) {
				sav->state = SADB_SASTATE_DYING;
				key_setdumpsa(&mb, sav, SADB_EXPIRE, sav->seq,
				    0, 0, SADB_EXT_LIFETIME_SOFT);
				(void)key_msgq_add(&q, &mb);
			}
		}
		key_sah_gc(sah);
	}
	SAHTREE_WUNLOCK();
	key_msgq_flush(&q, NULL, KEY_SENDUP_REGISTERED);
}

static void
key_flush_acq(time_t now)
{
	struct secacq *acq, *next;

	ACQ_LOCK();
	LIST_FOREACH_SAFE(acq, &acqtree, chain, next) {
		if (now - acq->created > (time_t)key_blockacq_lifetime)
			key_freeacq(acq);
	}
	ACQ_UNLOCK();
}

static void
key_timehandler(void *arg __unused)
{
	time_t now;

	now = time_uptime;
	key_flush_spd(now);
	key_flush_sad(now);
	key_flush_acq(now);
	ipsec_hold_timer(now);
	callout_reset(&key_timer, hz, key_timehandler, NULL);
}

/*
 * The packet path's ACQUIRE: a packet from "src" to "dst" matched policy
 * "spid" and no SA serves its first request.  Transport-mode requests
 * without endpoints take the packet's addresses, as FreeBSD's
 * ipsec4_allocsa() does.  Returns 0 when an ACQUIRE went out, EAGAIN when
 * the throttle held it back, ENOENT for an unknown or non-IPsec policy.
 */
int
key_acquire_spid(uint32_t spid, const struct sockaddr *src,
    const struct sockaddr *dst)
{

	return (key_acquire_req(spid, 0, src, dst));
}

/* The same for request "idx" of the policy (a bundle's). */
int
key_acquire_req(uint32_t spid, u_int idx, const struct sockaddr *src,
    const struct sockaddr *dst)
{
	struct secasindex saidx;
	struct secpolicy *sp, spcopy;
	const struct ipsecrequest *isr;

	SPTREE_RLOCK();
	sp = key_spd_byid(spid);
	if (sp == NULL || sp->policy != IPSEC_POLICY_IPSEC ||
	    sp->tcount <= idx) {
		SPTREE_RUNLOCK();
		return (ENOENT);
	}
	isr = sp->req[idx];
	saidx = isr->saidx;
	if (saidx.src.sa.sa_family == 0)
		key_sa_copy(&saidx.src, src, 0);
	if (saidx.dst.sa.sa_family == 0)
		key_sa_copy(&saidx.dst, dst, 0);
	/* Copy what key_acquire() reads; the lock is dropped first. */
	spcopy = *sp;
	SPTREE_RUNLOCK();
	return (key_acquire(&saidx, &spcopy));
}

/*
 * The SA for outbound traffic of one request (FreeBSD's
 * key_allocsa_policy()): the first SA head that matches as a policy asks
 * (proto, addresses; mode unless the head's is any; reqid if the
 * request has one) and has a usable SA; of its SAs, the oldest with
 * net.key.preferred_oldsa (the default), else the newest.  MATURE and
 * DYING rank the same.  The caller holds the SAHTREE read lock for as
 * long as it uses the SA.
 */
struct secasvar *
key_allocsa_policy(const struct secasindex *saidx)
{
	struct secashead *sah;

	for (sah = key_getsah_first(saidx); sah != NULL;
	    sah = RB_NEXT(sah_tree, &sah_root, sah)) {
		if (!key_cmpsaidx(&sah->saidx, saidx, CMP_HEAD))
			break;
		if (!key_cmpsaidx(&sah->saidx, saidx, CMP_MODE_REQID) ||
		    TAILQ_EMPTY(&sah->savtree_alive))
			continue;
		if (key_preferred_oldsa)
			return (TAILQ_LAST(&sah->savtree_alive,
			    secasvar_list));
		return (TAILQ_FIRST(&sah->savtree_alive));
	}
	return (NULL);
}

/*
 * The SA of an inbound packet (FreeBSD's key_allocsa()): by SPI, then
 * state (mature or dying), protocol and destination address.  The caller
 * holds the SAHTREE read lock while it uses the SA.
 */
struct secasvar *
key_allocsa(const union sockaddr_union *dst, uint8_t proto, uint32_t spi)
{
	union sockaddr_union d;
	struct secasvar *sav;

	sav = key_getsavbyspi(spi);
	if (sav == NULL || (sav->state != SADB_SASTATE_MATURE &&
	    sav->state != SADB_SASTATE_DYING) ||
	    sav->sah->saidx.proto != proto)
		return (NULL);
	key_sa_copy(&d, &dst->sa, 0);
	if (key_sa_cmp(&d, &sav->sah->saidx.dst) != 0)
		return (NULL);
	return (sav);
}

void
key_getstat(struct keystat *st)
{

	st->ks_sadfull = COUNTER_FETCH(keystat.ks_sadfull);
	st->ks_spdfull = COUNTER_FETCH(keystat.ks_spdfull);
	st->ks_acqfull = COUNTER_FETCH(keystat.ks_acqfull);
	st->ks_dumpbusy = COUNTER_FETCH(keystat.ks_dumpbusy);
}

/* How many SAs and policies there are (for tests and statistics). */
void
key_counts(u_int *nsa, u_int *nsp)
{
	u_int dir;

	SAHTREE_RLOCK();
	*nsa = sav_count;
	SAHTREE_RUNLOCK();
	SPTREE_RLOCK();
	*nsp = 0;
	for (dir = 0; dir < IPSEC_DIR_MAX; dir++)
		*nsp += sptree_count[dir];
	SPTREE_RUNLOCK();
}

void
key_init(void)
{
	u_int i;

	if (key_inited)
		return;
	rw_init(&sptree_lock, "sptree");
	rw_init(&sahtree_lock, "sahtree");
	mtx_init(&acq_lock, "acq", NULL, MTX_DEF);
	mtx_init(&regtree_lock, "regtree", NULL, MTX_DEF);
	mtx_init(&dump_lock, "keydump", NULL, MTX_DEF);
	(void)COUNTER_ALLOC(keystat.ks_sadfull, M_WAITOK);
	(void)COUNTER_ALLOC(keystat.ks_spdfull, M_WAITOK);
	(void)COUNTER_ALLOC(keystat.ks_acqfull, M_WAITOK);
	(void)COUNTER_ALLOC(keystat.ks_dumpbusy, M_WAITOK);
	for (i = 0; i <= SADB_SATYPE_MAX; i++)
		LIST_INIT(&regtree[i]);
	key_spd_init();
	keysock_init();
	key_inited = 1;
	callout_init(&key_timer, 1);
	callout_reset(&key_timer, hz, key_timehandler, NULL);
}

void
key_destroy(void)
{
	struct secashead *sah, *nsah;
	struct secasvar *sav, *nsav;
	struct secpolicy *sp;
	struct secacq *acq;
	struct secreg *reg;
	u_int i;

	if (!key_inited)
		return;
	callout_drain(&key_timer);
	ipsec_hold_flush();

	SPTREE_WLOCK();
	for (i = 0; i < IPSEC_DIR_MAX; i++) {
		while ((sp = TAILQ_FIRST(&sptree[i])) != NULL) {
			key_spd_remove(sp);
			key_freesp(sp);
		}
	}
	key_spd_pcb_flush();
	SPTREE_WUNLOCK();
	ipsec_if_flush();
	SPTREE_WLOCK();
	key_spd_destroy();
	SPTREE_WUNLOCK();

	SAHTREE_WLOCK();
	TAILQ_FOREACH_SAFE(sah, &sahtree, chain, nsah) {
		TAILQ_FOREACH_SAFE(sav, &sah->savtree_larval, chain, nsav)
			key_unlinksav(sav);
		TAILQ_FOREACH_SAFE(sav, &sah->savtree_alive, chain, nsav)
			key_unlinksav(sav);
		key_sah_gc(sah);
	}
	SAHTREE_WUNLOCK();

	ACQ_LOCK();
	while ((acq = LIST_FIRST(&acqtree)) != NULL)
		key_freeacq(acq);
	ACQ_UNLOCK();
	REGTREE_LOCK();
	for (i = 0; i <= SADB_SATYPE_MAX; i++) {
		while ((reg = LIST_FIRST(&regtree[i])) != NULL) {
			LIST_REMOVE(reg, chain);
			free(reg, M_IPSEC_SAQ);
		}
	}
	REGTREE_UNLOCK();
	key_inited = 0;
	rw_destroy(&sptree_lock);
	rw_destroy(&sahtree_lock);
	mtx_destroy(&acq_lock);
	mtx_destroy(&regtree_lock);
	mtx_destroy(&dump_lock);
	COUNTER_FREE(keystat.ks_sadfull);
	COUNTER_FREE(keystat.ks_spdfull);
	COUNTER_FREE(keystat.ks_acqfull);
	COUNTER_FREE(keystat.ks_dumpbusy);
}
