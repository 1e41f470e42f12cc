/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The security policy database.
 *
 * FreeBSD keeps one list per direction, sorted by priority (FIFO within a
 * priority), and scans it for every packet.  We keep that list, for dumps
 * and for the order of first match, and add an index so that a packet
 * lookup does not visit every policy: policies are grouped by the shape of
 * their selector ("tuple": address family, source and destination prefix
 * lengths, and whether the upper-layer protocol and each port are
 * wildcards), and each group is a hash table keyed by the selector's
 * masked value.  A lookup probes each group once, so its cost grows with
 * the number of distinct shapes (a handful in practice), not with the
 * number of policies.  Among the policies that match, the one first in the
 * list order wins (lowest priority, then oldest), which is FreeBSD's
 * first-match result.
 */

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/key_var.h>

MALLOC_DEFINE(M_IPSEC_SPDIDX, "ipsec-spdidx", "SPD lookup index");

#define	SPD_TF_PROTO	0x01	/* ul_proto is not a wildcard */
#define	SPD_TF_SPORT	0x02	/* source port is not a wildcard */
#define	SPD_TF_DPORT	0x04	/* destination port is not a wildcard */

/* The masked selector a tuple hashes. */
struct spd_key {
	uint8_t		af;
	uint8_t		proto;
	uint16_t	sport;
	uint16_t	dport;
	uint8_t		src[16];
	uint8_t		dst[16];
};

struct spd_tuple {
	LIST_ENTRY(spd_tuple)	link;
	uint8_t			af;
	uint8_t			prefs;
	uint8_t			prefd;
	uint8_t			flags;		/* SPD_TF_* */
	u_int			count;		/* policies */
	u_int			nbuckets;	/* a power of two */
	struct secpolicy	**buckets;
};

LIST_HEAD(spd_tuple_head, spd_tuple);

struct sptree_head sptree[IPSEC_DIR_MAX];
u_int sptree_count[IPSEC_DIR_MAX];
struct sptree_head sptree_ifnet[IPSEC_DIR_MAX];
u_int spifnet_count;
static struct spd_tuple_head spd_tuples[IPSEC_DIR_MAX];
static uint64_t spd_order;

static int
key_spid_cmp(struct secpolicy *a, struct secpolicy *b)
{

	return (a->id < b->id ? -1 : a->id > b->id);
}

RB_HEAD(spid_tree, secpolicy);
RB_GENERATE_STATIC(spid_tree, secpolicy, idtree, key_spid_cmp);
static struct spid_tree spid_root = RB_INITIALIZER(&spid_root);

void
key_spd_init(void)
{
	int dir;

	for (dir = 0; dir < IPSEC_DIR_MAX; dir++) {
		TAILQ_INIT(&sptree[dir]);
		TAILQ_INIT(&sptree_ifnet[dir]);
		LIST_INIT(&spd_tuples[dir]);
		sptree_count[dir] = 0;
	}
	RB_INIT(&spid_root);
}

void
key_spd_destroy(void)
{
	struct spd_tuple *t;
	int dir;

	for (dir = 0; dir < IPSEC_DIR_MAX; dir++) {
		while ((t = LIST_FIRST(&spd_tuples[dir])) != NULL) {
			LIST_REMOVE(t, link);
			free(t->buckets, M_IPSEC_SPDIDX);
			free(t, M_IPSEC_SPDIDX);
		}
	}
}

static const uint8_t *
key_sa_addr(const union sockaddr_union *su, size_t *lenp)
{

	if (su->sa.sa_family == AF_INET6) {
		*lenp = sizeof(struct in6_addr);
		return ((const uint8_t *)&su->sin6.sin6_addr);
	}
	*lenp = sizeof(struct in_addr);
	return ((const uint8_t *)&su->sin.sin_addr);
}

static uint16_t
key_sa_port(const union sockaddr_union *su)
{

	/* sin_port and sin6_port are at the same offset. */
	return (su->sin.sin_port);
}

static void
key_mask_copy(uint8_t *dst, const uint8_t *src, size_t alen, u_int plen)
{
	size_t i;

	memset(dst, 0, 16);
	for (i = 0; i < alen && plen > 0; i++) {
		if (plen >= 8) {
			dst[i] = src[i];
			plen -= 8;
		} else {
			dst[i] = src[i] & (uint8_t)(0xff << (8 - plen));
			plen = 0;
		}
	}
}

/* The key of selector "spidx" in tuple "t". */
static void
key_spd_mkkey(const struct spd_tuple *t, const struct secpolicyindex *spidx,
    struct spd_key *k)
{
	const uint8_t *a;
	size_t alen;

	memset(k, 0, sizeof(*k));
	k->af = t->af;
	if (t->flags & SPD_TF_PROTO)
		k->proto = spidx->ul_proto;
	if (t->flags & SPD_TF_SPORT)
		k->sport = key_sa_port(&spidx->src);
	if (t->flags & SPD_TF_DPORT)
		k->dport = key_sa_port(&spidx->dst);
	a = key_sa_addr(&spidx->src, &alen);
	key_mask_copy(k->src, a, alen, t->prefs);
	a = key_sa_addr(&spidx->dst, &alen);
	key_mask_copy(k->dst, a, alen, t->prefd);
}

/* FNV-1a over the key, then a finalizer. */
static uint32_t
key_spd_hash(const struct spd_key *k)
{
	const uint8_t *p;
	uint32_t h;
	size_t i;

	h = 2166136261u;
	p = (const uint8_t *)k;
	for (i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	/*
	 * FNV's low bits depend only on the inputs' low bits, and the table
	 * is indexed by the low bits: mix the high ones down (murmur3's
	 * finalizer).
	 */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return (h);
}

static void
key_spd_tupleof(const struct secpolicyindex *spidx, uint8_t *flags)
{

	*flags = 0;
	if (spidx->ul_proto != IPSEC_ULPROTO_ANY)
		*flags |= SPD_TF_PROTO;
	if (key_sa_port(&spidx->src) != IPSEC_PORT_ANY)
		*flags |= SPD_TF_SPORT;
	if (key_sa_port(&spidx->dst) != IPSEC_PORT_ANY)
		*flags |= SPD_TF_DPORT;
}

static struct spd_tuple *
key_spd_findtuple(const struct secpolicyindex *spidx, int create)
{
	struct spd_tuple *t;
	uint8_t flags;
	u_int dir;

	dir = spidx->dir;
	key_spd_tupleof(spidx, &flags);
	LIST_FOREACH(t, &spd_tuples[dir], link) {
		if (t->af == spidx->src.sa.sa_family &&
		    t->prefs == spidx->prefs && t->prefd == spidx->prefd &&
		    t->flags == flags)
			return (t);
	}
	if (!create)
		return (NULL);
	t = malloc(sizeof(*t), M_IPSEC_SPDIDX, M_NOWAIT | M_ZERO);
	if (t == NULL)
		return (NULL);
	t->af = spidx->src.sa.sa_family;
	t->prefs = spidx->prefs;
	t->prefd = spidx->prefd;
	t->flags = flags;
	t->nbuckets = 16;
	t->buckets = malloc(t->nbuckets * sizeof(*t->buckets), M_IPSEC_SPDIDX,
	    M_NOWAIT | M_ZERO);
	if (t->buckets == NULL) {
		free(t, M_IPSEC_SPDIDX);
		return (NULL);
	}
	LIST_INSERT_HEAD(&spd_tuples[dir], t, link);
	return (t);
}

/* Double a tuple's table when its chains grow; failure only costs speed. */
static void
key_spd_grow(struct spd_tuple *t)
{
	struct secpolicy **nb, *sp, *next;
	struct spd_key k;
	u_int i, n;

	n = t->nbuckets * 2;
	nb = malloc(n * sizeof(*nb), M_IPSEC_SPDIDX, M_NOWAIT | M_ZERO);
	if (nb == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (sp = t->buckets[i]; sp != NULL; sp = next) {
			next = sp->idxnext;
			key_spd_mkkey(t, &sp->spidx, &k);
			sp->idxnext = nb[key_spd_hash(&k) & (n - 1)];
			nb[key_spd_hash(&k) & (n - 1)] = sp;
		}
	}
	free(t->buckets, M_IPSEC_SPDIDX);
	t->buckets = nb;
	t->nbuckets = n;
}

/*
 * Link a policy: into its direction's list after every policy of lower or
 * equal priority, into the index, and into the id tree.
 */
int
key_spd_insert(struct secpolicy *sp)
{
	struct secpolicy *p;
	struct spd_tuple *t;
	struct spd_key k;
	u_int dir, b;

	SPTREE_WLOCK_ASSERT();
	dir = sp->spidx.dir;
	KASSERT(dir == IPSEC_DIR_INBOUND || dir == IPSEC_DIR_OUTBOUND,
	    ("%s: bad direction %u", __func__, dir));
	t = key_spd_findtuple(&sp->spidx, 1);
	if (t == NULL)
		return (ENOBUFS);

	sp->order = ++spd_order;
	TAILQ_FOREACH_REVERSE(p, &sptree[dir], sptree_head, chain) {
		if (p->priority <= sp->priority)
			break;
	}
	if (p == NULL)
		TAILQ_INSERT_HEAD(&sptree[dir], sp, chain);
	else
		TAILQ_INSERT_AFTER(&sptree[dir], p, sp, chain);
	sptree_count[dir]++;

	if (t->count >= t->nbuckets)
		key_spd_grow(t);
	key_spd_mkkey(t, &sp->spidx, &k);
	b = key_spd_hash(&k) & (t->nbuckets - 1);
	sp->idxnext = t->buckets[b];
	t->buckets[b] = sp;
	sp->tuple = t;
	t->count++;

	RB_INSERT(spid_tree, &spid_root, sp);
	sp->state = IPSEC_SPSTATE_ALIVE;
	return (0);
}

void
key_spd_remove(struct secpolicy *sp)
{
	struct secpolicy **pp;
	struct spd_tuple *t;
	struct spd_key k;
	u_int dir;

	SPTREE_WLOCK_ASSERT();
	KASSERT(sp->state == IPSEC_SPSTATE_ALIVE,
	    ("%s: policy %u not alive", __func__, sp->id));
	dir = sp->spidx.dir;
	TAILQ_REMOVE(&sptree[dir], sp, chain);
	sptree_count[dir]--;

	t = sp->tuple;
	key_spd_mkkey(t, &sp->spidx, &k);
	for (pp = &t->buckets[key_spd_hash(&k) & (t->nbuckets - 1)];
	    *pp != NULL; pp = &(*pp)->idxnext) {
		if (*pp == sp) {
			*pp = sp->idxnext;
			break;
		}
	}
	sp->idxnext = NULL;
	sp->tuple = NULL;
	if (--t->count == 0) {
		LIST_REMOVE(t, link);
		free(t->buckets, M_IPSEC_SPDIDX);
		free(t, M_IPSEC_SPDIDX);
	}
	RB_REMOVE(spid_tree, &spid_root, sp);
	sp->state = IPSEC_SPSTATE_DEAD;
}

/* An interface's policy: an id, found by it, dumped; never matched. */
int
key_spd_ifnet_add(struct secpolicy *sp)
{

	SPTREE_WLOCK_ASSERT();
	KASSERT(sp->spidx.dir < IPSEC_DIR_MAX,
	    ("%s: bad direction %u", __func__, sp->spidx.dir));
	if ((sp->id = key_getnewspid()) == 0)
		return (ENOBUFS);
	sp->state = IPSEC_SPSTATE_IFNET;
	RB_INSERT(spid_tree, &spid_root, sp);
	TAILQ_INSERT_TAIL(&sptree_ifnet[sp->spidx.dir], sp, chain);
	spifnet_count++;
	return (0);
}

void
key_spd_ifnet_remove(struct secpolicy *sp)
{

	SPTREE_WLOCK_ASSERT();
	KASSERT(sp->state == IPSEC_SPSTATE_IFNET,
	    ("%s: policy %u not an interface's", __func__, sp->id));
	RB_REMOVE(spid_tree, &spid_root, sp);
	TAILQ_REMOVE(&sptree_ifnet[sp->spidx.dir], sp, chain);
	spifnet_count--;
	sp->state = IPSEC_SPSTATE_DEAD;
}

struct secpolicy *
key_spd_byid(uint32_t id)
{
	struct secpolicy key;

	key.id = id;
	return (RB_FIND(spid_tree, &spid_root, &key));
}

/* Same address and port (and scope, for IPv6). */
static int
key_sockaddr_eq(const union sockaddr_union *a, const union sockaddr_union *b)
{

	if (a->sa.sa_family != b->sa.sa_family)
		return (0);
	switch (a->sa.sa_family) {
	case AF_INET:
		return (a->sin.sin_port == b->sin.sin_port &&
		    a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr);
	case AF_INET6:
		return (a->sin6.sin6_port == b->sin6.sin6_port &&
		    a->sin6.sin6_scope_id == b->sin6.sin6_scope_id &&
		    memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr,
		    sizeof(a->sin6.sin6_addr)) == 0);
	}
	return (0);
}

static int
key_cmpspidx_exactly(const struct secpolicyindex *a,
    const struct secpolicyindex *b)
{

	return (a->dir == b->dir && a->prefs == b->prefs &&
	    a->prefd == b->prefd && a->ul_proto == b->ul_proto &&
	    key_sockaddr_eq(&a->src, &b->src) &&
	    key_sockaddr_eq(&a->dst, &b->dst));
}

/* The policy with exactly this selector (SPDADD's EEXIST, SPDDELETE). */
struct secpolicy *
key_spd_exact(const struct secpolicyindex *spidx)
{
	struct secpolicy *sp;
	struct spd_tuple *t;
	struct spd_key k;

	if (spidx->dir >= IPSEC_DIR_MAX)
		return (NULL);
	t = key_spd_findtuple(spidx, 0);
	if (t == NULL)
		return (NULL);
	key_spd_mkkey(t, spidx, &k);
	for (sp = t->buckets[key_spd_hash(&k) & (t->nbuckets - 1)];
	    sp != NULL; sp = sp->idxnext) {
		if (key_cmpspidx_exactly(&sp->spidx, spidx))
			return (sp);
	}
	return (NULL);
}

static int
key_bits_eq(const uint8_t *a, const uint8_t *b, u_int bits)
{
	u_int n;

	n = bits / 8;
	if (memcmp(a, b, n) != 0)
		return (0);
	bits %= 8;
	if (bits == 0)
		return (1);
	return (((a[n] ^ b[n]) & (uint8_t)(0xff << (8 - bits))) == 0);
}

/*
 * Does the policy selector "sp" (with wildcards and prefixes) match the
 * packet selector "pkt" (full addresses)?  FreeBSD's
 * key_cmpspidx_withmask().
 */
int
key_spd_cmpspidx_withmask(const struct secpolicyindex *sp,
    const struct secpolicyindex *pkt)
{
	const uint8_t *a, *b;
	size_t alen;

	if (sp->src.sa.sa_family != pkt->src.sa.sa_family ||
	    sp->dst.sa.sa_family != pkt->dst.sa.sa_family)
		return (0);
	if (sp->ul_proto != IPSEC_ULPROTO_ANY &&
	    sp->ul_proto != pkt->ul_proto)
		return (0);
	if (key_sa_port(&sp->src) != IPSEC_PORT_ANY &&
	    key_sa_port(&sp->src) != key_sa_port(&pkt->src))
		return (0);
	if (key_sa_port(&sp->dst) != IPSEC_PORT_ANY &&
	    key_sa_port(&sp->dst) != key_sa_port(&pkt->dst))
		return (0);
	a = key_sa_addr(&sp->src, &alen);
	b = key_sa_addr(&pkt->src, &alen);
	if (sp->prefs > alen * 8 || !key_bits_eq(a, b, sp->prefs))
		return (0);
	a = key_sa_addr(&sp->dst, &alen);
	b = key_sa_addr(&pkt->dst, &alen);
	if (sp->prefd > alen * 8 || !key_bits_eq(a, b, sp->prefd))
		return (0);
	return (1);
}

/*
 * The policy for a packet: "pkt" has the packet's full addresses, its
 * upper-layer protocol and ports (or 0 when they are not known), and the
 * direction.  Returns the first match in list order, or NULL.
 */
struct secpolicy *
key_spd_match(const struct secpolicyindex *pkt)
{
	struct secpolicy *best, *sp;
	struct spd_tuple *t;
	struct spd_key k;
	u_int dir;

	dir = pkt->dir;
	if (dir >= IPSEC_DIR_MAX || sptree_count[dir] == 0)
		return (NULL);
	best = NULL;
	LIST_FOREACH(t, &spd_tuples[dir], link) {
		if (t->af != pkt->src.sa.sa_family)
			continue;
		key_spd_mkkey(t, pkt, &k);
		for (sp = t->buckets[key_spd_hash(&k) & (t->nbuckets - 1)];
		    sp != NULL; sp = sp->idxnext) {
			if (best != NULL && (sp->priority > best->priority ||
			    (sp->priority == best->priority &&
			    sp->order > best->order)))
				continue;
			if (key_spd_cmpspidx_withmask(&sp->spidx, pkt))
				best = sp;
		}
	}
	return (best);
}

/*
 * Sockets' policies: FreeBSD keeps them in the inpcb, which a host that
 * hands us whole packets does not have, so they are here, by endpoint
 * (protocol, local address and port; the unspecified address stands for
 * every local one).  A packet of a socket is one whose local end is the
 * socket's endpoint: outbound, its source; inbound, its destination,
 * which for a socket bound to every address must be one of this host's
 * (the host says, through "islocal"), since a forwarded packet is never a
 * socket's.  No other socket can have the same endpoint while this one is
 * bound (the host's bind(2) sees to that), and the entry goes when the
 * socket closes.
 */
RB_HEAD(secpcb_tree, secpcb);

struct secpcb_head sppcb = TAILQ_HEAD_INITIALIZER(sppcb);
u_int sppcb_count;
static struct secpcb_tree sppcb_root = RB_INITIALIZER(&sppcb_root);

static int
key_pcb_cmp(struct secpcb *a, struct secpcb *b)
{
	const uint8_t *aa, *ba;
	size_t alen, blen;
	uint16_t ap, bp;

	if (a->proto != b->proto)
		return (a->proto < b->proto ? -1 : 1);
	if (a->local.sa.sa_family != b->local.sa.sa_family)
		return (a->local.sa.sa_family < b->local.sa.sa_family ? -1 : 1);
	ap = ntohs(key_sa_port(&a->local));
	bp = ntohs(key_sa_port(&b->local));
	if (ap != bp)
		return (ap < bp ? -1 : 1);
	aa = key_sa_addr(&a->local, &alen);
	ba = key_sa_addr(&b->local, &blen);
	return (memcmp(aa, ba, alen));
}

RB_GENERATE_STATIC(secpcb_tree, secpcb, addrtree, key_pcb_cmp);

/* The canonical endpoint: family, address and port only. */
static void
key_pcb_endpoint(union sockaddr_union *dst, const union sockaddr_union *su,
    int any)
{

	memset(dst, 0, sizeof(*dst));
	dst->sa.sa_family = su->sa.sa_family;
	if (su->sa.sa_family == AF_INET6) {
#ifdef UKERN_HAVE_SA_LEN
		dst->sin6.sin6_len = sizeof(struct sockaddr_in6);
#endif
		dst->sin6.sin6_port = su->sin6.sin6_port;
		if (!any)
			dst->sin6.sin6_addr = su->sin6.sin6_addr;
	} else {
#ifdef UKERN_HAVE_SA_LEN
		dst->sin.sin_len = sizeof(struct sockaddr_in);
#endif
		dst->sin.sin_port = su->sin.sin_port;
		if (!any)
			dst->sin.sin_addr = su->sin.sin_addr;
	}
}

static int
key_pcb_isany(const union sockaddr_union *su)
{
	const uint8_t *a;
	size_t alen, i;

	a = key_sa_addr(su, &alen);
	for (i = 0; i < alen; i++)
		if (a[i] != 0)
			return (0);
	return (1);
}

static struct secpcb *
key_pcb_find(const union sockaddr_union *local, uint8_t proto, int any)
{
	struct secpcb key;

	key.proto = proto;
	key_pcb_endpoint(&key.local, local, any);
	return (RB_FIND(secpcb_tree, &sppcb_root, &key));
}

/*
 * The selector a socket's policy shows in dumps: from the socket's
 * endpoint to anywhere going out, the reverse coming in.
 */
static void
key_pcb_spidx(const struct secpcb *pcb, u_int dir, struct secpolicyindex *sx)
{
	union sockaddr_union *me, *peer;
	u_int plen;

	memset(sx, 0, sizeof(*sx));
	sx->dir = (uint8_t)dir;
	sx->ul_proto = pcb->proto;
	me = dir == IPSEC_DIR_OUTBOUND ? &sx->src : &sx->dst;
	peer = dir == IPSEC_DIR_OUTBOUND ? &sx->dst : &sx->src;
	*me = pcb->local;
	key_pcb_endpoint(peer, &pcb->local, 1);
	peer->sin.sin_port = 0;
	plen = pcb->local.sa.sa_family == AF_INET6 ? 128 : 32;
	if (dir == IPSEC_DIR_OUTBOUND)
		sx->prefs = key_pcb_isany(me) ? 0 : (uint8_t)plen;
	else
		sx->prefd = key_pcb_isany(me) ? 0 : (uint8_t)plen;
}

static void
key_pcb_unlinksp(struct secpcb *pcb, u_int dir)
{
	struct secpolicy *sp;

	if ((sp = pcb->sp[dir]) == NULL)
		return;
	RB_REMOVE(spid_tree, &spid_root, sp);
	sp->state = IPSEC_SPSTATE_DEAD;
	pcb->sp[dir] = NULL;
	sppcb_count--;
	key_freesp(sp);
}

static void
key_pcb_free(struct secpcb *pcb)
{

	key_pcb_unlinksp(pcb, IPSEC_DIR_INBOUND);
	key_pcb_unlinksp(pcb, IPSEC_DIR_OUTBOUND);
	RB_REMOVE(secpcb_tree, &sppcb_root, pcb);
	TAILQ_REMOVE(&sppcb, pcb, chain);
	free(pcb, M_IPSEC_SPDIDX);
}

/*
 * Set the policy of direction "dir" of the socket "sockid" bound to
 * "local" (port included): "sp" (which the socket then owns), or none
 * (entrust: the SPD decides).  An entry of the same endpoint under
 * another id belonged to a socket that is gone: it is replaced whole.
 */
int
key_spd_pcb_set(const union sockaddr_union *local, uint8_t proto,
    uint64_t sockid, uint32_t pid, u_int dir, struct secpolicy *sp)
{
	struct secpcb *pcb;

	SPTREE_WLOCK_ASSERT();
	KASSERT(dir == IPSEC_DIR_INBOUND || dir == IPSEC_DIR_OUTBOUND,
	    ("%s: bad direction %u", __func__, dir));
	pcb = key_pcb_find(local, proto, key_pcb_isany(local));
	if (pcb != NULL && pcb->sockid != sockid) {
		key_pcb_free(pcb);
		pcb = NULL;
	}
	if (pcb == NULL) {
		if (sp == NULL)
			return (0);
		pcb = malloc(sizeof(*pcb), M_IPSEC_SPDIDX, M_NOWAIT | M_ZERO);
		if (pcb == NULL)
			return (ENOBUFS);
		pcb->proto = proto;
		key_pcb_endpoint(&pcb->local, local, key_pcb_isany(local));
		pcb->sockid = sockid;
		RB_INSERT(secpcb_tree, &sppcb_root, pcb);
		TAILQ_INSERT_TAIL(&sppcb, pcb, chain);
	}
	pcb->pid = pid;
	key_pcb_unlinksp(pcb, dir);
	if (sp != NULL) {
		if ((sp->id = key_getnewspid()) == 0) {
			if (pcb->sp[IPSEC_DIR_INBOUND] == NULL &&
			    pcb->sp[IPSEC_DIR_OUTBOUND] == NULL)
				key_pcb_free(pcb);
			return (ENOBUFS);
		}
		key_pcb_spidx(pcb, dir, &sp->spidx);
		sp->state = IPSEC_SPSTATE_PCB;
		RB_INSERT(spid_tree, &spid_root, sp);
		pcb->sp[dir] = sp;
		sppcb_count++;
	}
	if (pcb->sp[IPSEC_DIR_INBOUND] == NULL &&
	    pcb->sp[IPSEC_DIR_OUTBOUND] == NULL)
		key_pcb_free(pcb);
	return (0);
}

/* The policy of one direction of the socket bound to "local", if any. */
struct secpolicy *
key_spd_pcb_get(const union sockaddr_union *local, uint8_t proto, u_int dir)
{
	struct secpcb *pcb;

	if (dir >= IPSEC_DIR_MAX)
		return (NULL);
	pcb = key_pcb_find(local, proto, key_pcb_isany(local));
	return (pcb != NULL ? pcb->sp[dir] : NULL);
}

/* The socket "sockid" closed: how many endpoints it had. */
int
key_spd_pcb_detach(uint64_t sockid)
{
	struct secpcb *pcb, *next;
	int n;

	SPTREE_WLOCK_ASSERT();
	n = 0;
	TAILQ_FOREACH_SAFE(pcb, &sppcb, chain, next) {
		if (pcb->sockid == sockid) {
			key_pcb_free(pcb);
			n++;
		}
	}
	return (n);
}

void
key_spd_pcb_flush(void)
{
	struct secpcb *pcb;

	SPTREE_WLOCK_ASSERT();
	while ((pcb = TAILQ_FIRST(&sppcb)) != NULL)
		key_pcb_free(pcb);
}

/*
 * The policy of the socket a packet belongs to ("pkt" as for
 * key_spd_match(): full addresses, ports, direction), or NULL when it
 * belongs to none or that socket entrusts this direction to the SPD.
 * Only TCP and UDP packets with ports belong to sockets.
 */
struct secpolicy *
key_spd_pcb_match(const struct secpolicyindex *pkt, key_islocal_t *islocal)
{
	const union sockaddr_union *me;
	struct secpcb *pcb;
	u_int dir;

	dir = pkt->dir;
	if (TAILQ_EMPTY(&sppcb) || dir >= IPSEC_DIR_MAX ||
	    (pkt->ul_proto != IPPROTO_UDP && pkt->ul_proto != IPPROTO_TCP))
		return (NULL);
	me = dir == IPSEC_DIR_OUTBOUND ? &pkt->src : &pkt->dst;
	if (key_sa_port(me) == 0)
		return (NULL);
	if ((pcb = key_pcb_find(me, pkt->ul_proto, 0)) != NULL)
		return (pcb->sp[dir]);
	if ((pcb = key_pcb_find(me, pkt->ul_proto, 1)) == NULL)
		return (NULL);
	if (dir == IPSEC_DIR_INBOUND && (islocal == NULL || !islocal(me)))
		return (NULL);	/* not ours: forwarded */
	return (pcb->sp[dir]);
}
