/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Route-based tunnels: FreeBSD's if_ipsec(4) (sys/net/if_ipsec.c) for a
 * host that owns the interfaces itself (ipsec_hook.h).  An interface is
 * named by the host's index for it; it gets a reqid (the admin's, or one
 * of the kernel's) and tunnel endpoints, and with them four policies of
 * ifnet scope, as FreeBSD makes them: 0.0.0.0/0 and ::/0, inbound and
 * outbound, esp/tunnel/SRC-DST/unique:REQID.  Those policies never match
 * a packet's selector; what the host routes into the interface is
 * protected with the outbound one (ipsec_if_output() in ipsec_hook.c),
 * and what comes out of an ESP tunnel SA with that reqid and those
 * endpoints is handed back to the interface (ipsec_if_input()).  They
 * ask for SAs with ACQUIREs like any policy, show in SPDDUMP with their
 * scope and the interface's index (in the priority field, as FreeBSD),
 * and only the interface changes them (SPDDELETE2: EACCES).
 *
 * Everything here is under the SPD's lock.
 */

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/key_var.h>
#include <netipsec/ipsec_hook.h>
#include <netipsec/ipsec_hook_var.h>

MALLOC_DEFINE(M_IPSEC_IF, "ipsec-if", "if_ipsec(4) interfaces");

#define	IPSEC_SPCOUNT	4	/* in and out, IPv4 and IPv6 inside */

struct ipsec_softc {
	LIST_ENTRY(ipsec_softc)	 chain;
	u_int			 ifindex;
	uint32_t		 reqid;		/* 0: not yet */
	int			 family;	/* the tunnel's; 0: none */
	union sockaddr_union	 src, dst;	/* its endpoints */
	struct secpolicy	*sp[IPSEC_SPCOUNT];
};

static LIST_HEAD(, ipsec_softc) ipsec_ifs = LIST_HEAD_INITIALIZER(ipsec_ifs);
static u_int ipsec_nifs;	/* interfaces; read without the lock */

/* A tunnel endpoint: not unspecified, not multicast or broadcast. */
static int
ipsec_if_unicast(const union sockaddr_union *su)
{
	const uint8_t *a;
	static const uint8_t zero[16];

	if (su->sa.sa_family == AF_INET) {
		a = (const uint8_t *)&su->sin.sin_addr;
		return (su->sin.sin_addr.s_addr != INADDR_ANY &&
		    su->sin.sin_addr.s_addr != INADDR_BROADCAST &&
		    (a[0] & 0xf0) != 0xe0);
	}
	a = (const uint8_t *)&su->sin6.sin6_addr;
	return (memcmp(a, zero, sizeof(zero)) != 0 && a[0] != 0xff);
}

static struct ipsec_softc *
ipsec_if_find(u_int ifindex)
{
	struct ipsec_softc *sc;

	LIST_FOREACH(sc, &ipsec_ifs, chain)
		if (sc->ifindex == ifindex)
			return (sc);
	return (NULL);
}

static int
ipsec_if_reqid_used(uint32_t reqid)
{
	struct ipsec_softc *sc;

	LIST_FOREACH(sc, &ipsec_ifs, chain)
		if (sc->reqid == reqid)
			return (1);
	return (0);
}

/* A reqid of the kernel's that no interface has (FreeBSD's 64 tries). */
static int
ipsec_if_newreqid(struct ipsec_softc *sc)
{
	uint32_t reqid;
	int n;

	for (n = 0; n < 64; n++) {
		reqid = key_newreqid();
		if (!ipsec_if_reqid_used(reqid)) {
			sc->reqid = reqid;
			return (0);
		}
	}
	return (EEXIST);
}

static void
ipsec_if_freesps(struct secpolicy **sp)
{
	u_int i;

	for (i = 0; i < IPSEC_SPCOUNT; i++) {
		if (sp[i] == NULL)
			continue;
		if (sp[i]->state == IPSEC_SPSTATE_IFNET)
			key_spd_ifnet_remove(sp[i]);
		key_freesp(sp[i]);
		sp[i] = NULL;
	}
}

/* Policy i: 0 in and 1 out for IPv4 inside, 2 and 3 for IPv6. */
static int
ipsec_if_newsps(struct ipsec_softc *sc, struct secpolicy **sp)
{
	struct ipsecrequest *isr;
	u_int i;
	int error;

	memset(sp, 0, IPSEC_SPCOUNT * sizeof(*sp));
	for (i = 0; i < IPSEC_SPCOUNT; i++) {
		sp[i] = malloc(sizeof(*sp[i]), M_IPSEC_SP, M_NOWAIT | M_ZERO);
		isr = malloc(sizeof(*isr), M_IPSEC_SR, M_NOWAIT | M_ZERO);
		if (sp[i] == NULL || isr == NULL) {
			free(isr, M_IPSEC_SR);
			error = ENOBUFS;
			goto fail;
		}
		sp[i]->policy = IPSEC_POLICY_IPSEC;
		sp[i]->refcnt = 1;
		sp[i]->priority = sc->ifindex;
		sp[i]->created = sp[i]->lastused = time_uptime;
		sp[i]->req[sp[i]->tcount++] = isr;
		isr->level = IPSEC_LEVEL_UNIQUE;
		isr->saidx.proto = IPPROTO_ESP;
		isr->saidx.mode = IPSEC_MODE_TUNNEL;
		isr->saidx.reqid = sc->reqid;
		if (i % 2 == 0) {
			sp[i]->spidx.dir = IPSEC_DIR_INBOUND;
			isr->saidx.src = sc->dst;
			isr->saidx.dst = sc->src;
		} else {
			sp[i]->spidx.dir = IPSEC_DIR_OUTBOUND;
			isr->saidx.src = sc->src;
			isr->saidx.dst = sc->dst;
		}
		sp[i]->spidx.ul_proto = IPSEC_ULPROTO_ANY;
		sp[i]->spidx.src.sa.sa_family = sp[i]->spidx.dst.sa.sa_family =
		    i < 2 ? AF_INET : AF_INET6;
		if ((error = key_spd_ifnet_add(sp[i])) != 0)
			goto fail;
	}
	return (0);
 fail:
	ipsec_if_freesps(sp);
	return (error);
}

/* The interface's policies for its tunnel and reqid, made anew. */
static int
ipsec_if_setsps(struct ipsec_softc *sc)
{
	struct secpolicy *sp[IPSEC_SPCOUNT];
	int error;

	if (sc->family == 0)
		return (0);
	if ((error = ipsec_if_newsps(sc, sp)) != 0)
		return (error);
	ipsec_if_freesps(sc->sp);
	memcpy(sc->sp, sp, sizeof(sp));
	return (0);
}

int
ipsec_if_create(u_int ifindex, uint32_t reqid)
{
	struct ipsec_softc *sc;
	int error;

	if (ifindex == 0 || reqid > IPSEC_MANUAL_REQID_MAX)
		return (EINVAL);
	SPTREE_WLOCK();
	error = EEXIST;
	if (ipsec_if_find(ifindex) != NULL ||
	    (reqid != 0 && ipsec_if_reqid_used(reqid)))
		goto out;
	error = ENOBUFS;
	if ((sc = malloc(sizeof(*sc), M_IPSEC_IF, M_NOWAIT | M_ZERO)) == NULL)
		goto out;
	sc->ifindex = ifindex;
	sc->reqid = reqid;
	LIST_INSERT_HEAD(&ipsec_ifs, sc, chain);
	__atomic_store_n(&ipsec_nifs, ipsec_nifs + 1, __ATOMIC_RELAXED);
	error = 0;
 out:
	SPTREE_WUNLOCK();
	return (error);
}

int
ipsec_if_destroy(u_int ifindex)
{
	struct ipsec_softc *sc;

	SPTREE_WLOCK();
	if ((sc = ipsec_if_find(ifindex)) == NULL) {
		SPTREE_WUNLOCK();
		return (ENXIO);
	}
	LIST_REMOVE(sc, chain);
	__atomic_store_n(&ipsec_nifs, ipsec_nifs - 1, __ATOMIC_RELAXED);
	ipsec_if_freesps(sc->sp);
	SPTREE_WUNLOCK();
	free(sc, M_IPSEC_IF);
	return (0);
}

/*
 * The tunnel's endpoints (FreeBSD's SIOCSIFPHYADDR): both of one family,
 * neither unspecified nor multicast.  Without a reqid yet, the interface
 * takes one of the kernel's.
 */
int
ipsec_if_settunnel(u_int ifindex, const struct sockaddr *src,
    const struct sockaddr *dst)
{
	struct ipsec_softc *sc;
	union sockaddr_union s, d, os, od;
	uint32_t oreqid;
	int error, ofamily;

	if (src == NULL || dst == NULL || src->sa_family != dst->sa_family ||
	    (src->sa_family != AF_INET && src->sa_family != AF_INET6))
		return (EAFNOSUPPORT);
	key_sa_copy(&s, src, 0);
	key_sa_copy(&d, dst, 0);
	if (!ipsec_if_unicast(&s) || !ipsec_if_unicast(&d))
		return (EADDRNOTAVAIL);
	SPTREE_WLOCK();
	if ((sc = ipsec_if_find(ifindex)) == NULL) {
		SPTREE_WUNLOCK();
		return (ENXIO);
	}
	oreqid = sc->reqid;
	ofamily = sc->family;
	os = sc->src;
	od = sc->dst;
	error = sc->reqid == 0 ? ipsec_if_newreqid(sc) : 0;
	if (error == 0) {
		sc->src = s;
		sc->dst = d;
		sc->family = s.sa.sa_family;
		if ((error = ipsec_if_setsps(sc)) != 0) {
			sc->reqid = oreqid;
			sc->family = ofamily;
			sc->src = os;
			sc->dst = od;
		}
	}
	SPTREE_WUNLOCK();
	return (error);
}

int
ipsec_if_deltunnel(u_int ifindex)
{
	struct ipsec_softc *sc;

	SPTREE_WLOCK();
	if ((sc = ipsec_if_find(ifindex)) == NULL) {
		SPTREE_WUNLOCK();
		return (ENXIO);
	}
	ipsec_if_freesps(sc->sp);
	sc->family = 0;
	memset(&sc->src, 0, sizeof(sc->src));
	memset(&sc->dst, 0, sizeof(sc->dst));
	SPTREE_WUNLOCK();
	return (0);
}

/* FreeBSD's IPSECSREQID: 0 asks for one of the kernel's. */
int
ipsec_if_setreqid(u_int ifindex, uint32_t reqid)
{
	struct ipsec_softc *sc;
	uint32_t oreqid;
	int error;

	if (reqid > IPSEC_MANUAL_REQID_MAX)
		return (EINVAL);
	SPTREE_WLOCK();
	if ((sc = ipsec_if_find(ifindex)) == NULL) {
		SPTREE_WUNLOCK();
		return (ENXIO);
	}
	if (reqid != 0 && reqid == sc->reqid) {
		SPTREE_WUNLOCK();
		return (0);
	}
	if (reqid != 0 && ipsec_if_reqid_used(reqid)) {
		SPTREE_WUNLOCK();
		return (EEXIST);
	}
	oreqid = sc->reqid;
	sc->reqid = reqid;
	error = reqid == 0 ? ipsec_if_newreqid(sc) : 0;
	if (error == 0)
		error = ipsec_if_setsps(sc);
	if (error != 0)
		sc->reqid = oreqid;
	SPTREE_WUNLOCK();
	return (error);
}

int
ipsec_if_get(u_int ifindex, struct sockaddr_storage *src,
    struct sockaddr_storage *dst, uint32_t *reqid)
{
	struct ipsec_softc *sc;

	SPTREE_RLOCK();
	if ((sc = ipsec_if_find(ifindex)) == NULL) {
		SPTREE_RUNLOCK();
		return (ENXIO);
	}
	*reqid = sc->reqid;
	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	if (sc->family != 0) {
		memcpy(src, &sc->src, sizeof(sc->src));
		memcpy(dst, &sc->dst, sizeof(sc->dst));
	}
	SPTREE_RUNLOCK();
	return (0);
}

/* Every interface goes (the layer's shutdown). */
void
ipsec_if_flush(void)
{
	struct ipsec_softc *sc;

	SPTREE_WLOCK();
	while ((sc = LIST_FIRST(&ipsec_ifs)) != NULL) {
		LIST_REMOVE(sc, chain);
		ipsec_if_freesps(sc->sp);
		free(sc, M_IPSEC_IF);
	}
	__atomic_store_n(&ipsec_nifs, 0, __ATOMIC_RELAXED);
	SPTREE_WUNLOCK();
}

/*
 * The outbound policy of interface ifindex for packets of family af, or
 * NULL when it has no tunnel (FreeBSD: ENETDOWN).  SPTREE_RLOCK held.
 */
struct secpolicy *
ipsec_if_policy(u_int ifindex, int af)
{
	struct ipsec_softc *sc;

	if ((sc = ipsec_if_find(ifindex)) == NULL || sc->family == 0)
		return (NULL);
	return (sc->sp[af == AF_INET ? 1 : 3]);
}

/*
 * The interface whose tunnel an inbound SA is (FreeBSD's
 * ipsec_if_input()): ESP in tunnel mode, the interface's reqid, its
 * endpoints the other way round; 0 for none.  SAHTREE_RLOCK held.
 */
u_int
ipsec_if_input(const struct secasvar *sav)
{
	const struct secasindex *saidx;
	struct ipsec_softc *sc;
	u_int ifindex;

	/* Every tunnel packet comes here: no lock while there is none. */
	if (__atomic_load_n(&ipsec_nifs, __ATOMIC_RELAXED) == 0)
		return (0);
	saidx = &sav->sah->saidx;
	if (saidx->proto != IPPROTO_ESP || saidx->mode != IPSEC_MODE_TUNNEL ||
	    saidx->reqid == 0)
		return (0);
	ifindex = 0;
	SPTREE_RLOCK();
	LIST_FOREACH(sc, &ipsec_ifs, chain) {
		if (sc->family == 0 || sc->reqid != saidx->reqid)
			continue;
		if (ipsec_addr_eq(&saidx->src, &sc->dst) &&
		    ipsec_addr_eq(&saidx->dst, &sc->src)) {
			ifindex = sc->ifindex;
			break;
		}
	}
	SPTREE_RUNLOCK();
	return (ifindex);
}
