/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Rule matching, for both IKE versions: which rule of iked.conf governs
 * an exchange a peer opens, and which one answers an ACQUIRE.
 *
 * OpenBSD's evaluation: the last matching rule wins, unless one marked
 * quick matches first.  A gateway has a rule per peer, so the rules are
 * not walked one by one: a rule whose peer is one host (a /32 or /128)
 * sits in a red-black tree by that address, the others (any, dynamic,
 * a network) in a short array, both in the order of the file.  A
 * lookup merges the rules of the peer's address with the others by that
 * order and tests only those.  The index is made once per configuration
 * (a configuration does not change once parsed; a reload makes a new
 * one), at its first lookup.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "iked.h"

int
addr_match(const struct iked_addr *a, const struct sockaddr *sa)
{
	if (a->addr_flags & (ADDR_ANY | ADDR_DYNAMIC))
		return (1);
	if ((a->addr_flags & ADDR_SET) == 0)
		return (1);
	return (sa_inprefix(sa, (const struct sockaddr *)&a->addr,
	    a->addr_mask));
}

/* Rules whose peer is a single host, by that address, then file order. */
static int
policy_peer_cmp(const struct iked_policy *a, const struct iked_policy *b)
{
	int	 r;

	if ((r = sa_addrorder((const struct sockaddr *)&a->pol_peer.addr,
	    (const struct sockaddr *)&b->pol_peer.addr)) != 0)
		return (r);
	return (a->pol_seq < b->pol_seq ? -1 : a->pol_seq > b->pol_seq);
}

RB_GENERATE(iked_polpeers, iked_policy, pol_peernode, policy_peer_cmp);

/* Is the rule's peer exactly one host? */
static int
policy_onehost(const struct iked_policy *pol)
{
	const struct iked_addr	*a = &pol->pol_peer;

	if ((a->addr_flags & ADDR_SET) == 0 ||
	    (a->addr_flags & (ADDR_ANY | ADDR_DYNAMIC)))
		return (0);
	switch (a->addr.ss_family) {
	case AF_INET:
		return (a->addr_mask == 32);
	case AF_INET6:
		return (a->addr_mask == 128);
	}
	return (0);
}

static int
policy_index(struct iked_config *cf)
{
	struct iked_policy	*pol, **wild, **def;
	u_int			 n = 0, d = 0, seq = 0;

	if (cf->cfg_polindexed)
		return (0);
	TAILQ_FOREACH(pol, &cf->cfg_policies, pol_entry) {
		if (!policy_onehost(pol))
			n++;
		if (pol->pol_flags & POL_DEFAULT)
			d++;
	}
	if ((wild = reallocarray(NULL, n ? n : 1, sizeof(*wild))) == NULL)
		return (-1);
	if ((def = reallocarray(NULL, d ? d : 1, sizeof(*def))) == NULL) {
		free(wild);
		return (-1);
	}
	n = d = 0;
	RB_INIT(&cf->cfg_polpeers);
	TAILQ_FOREACH(pol, &cf->cfg_policies, pol_entry) {
		pol->pol_seq = ++seq;
		if (policy_onehost(pol))
			RB_INSERT(iked_polpeers, &cf->cfg_polpeers, pol);
		else
			wild[n++] = pol;
		if (pol->pol_flags & POL_DEFAULT)
			def[d++] = pol;
	}
	cf->cfg_polwild = wild;
	cf->cfg_npolwild = n;
	cf->cfg_poldef = def;
	cf->cfg_npoldef = d;
	cf->cfg_polindexed = 1;
	return (0);
}

/* What config_free() frees of the index: the rules hold the tree. */
void
policy_index_free(struct iked_config *cf)
{
	free(cf->cfg_polwild);
	cf->cfg_polwild = NULL;
	cf->cfg_npolwild = 0;
	free(cf->cfg_poldef);
	cf->cfg_poldef = NULL;
	cf->cfg_npoldef = 0;
	cf->cfg_polindexed = 0;
}

/*
 * The rule for peer: among the rules of its address and those of no
 * single address, in the file's order, the last one that passes test,
 * or the first quick one.
 */
static struct iked_policy *
policy_lookup(struct iked_config *cf, const struct sockaddr *peer,
    int (*test)(const struct iked_policy *, const void *), const void *arg)
{
	struct iked_policy	 key, *h, *pol, *found = NULL;
	u_int			 w = 0;

	if (cf == NULL || policy_index(cf) == -1)
		return (NULL);
	/* The leftmost rule of peer's address: seq 0 sorts first. */
	memset(&key, 0, sizeof(key));
	if (sa_len(peer) <= sizeof(key.pol_peer.addr))
		memcpy(&key.pol_peer.addr, peer, sa_len(peer));
	h = RB_NFIND(iked_polpeers, &cf->cfg_polpeers, &key);
	if (h != NULL && sa_addrorder((const struct sockaddr *)
	    &h->pol_peer.addr, peer) != 0)
		h = NULL;
	for (;;) {
		if (h != NULL && (w == cf->cfg_npolwild ||
		    h->pol_seq < cf->cfg_polwild[w]->pol_seq)) {
			pol = h;
			h = RB_NEXT(iked_polpeers, &cf->cfg_polpeers, h);
			if (h != NULL && sa_addrorder((const struct sockaddr *)
			    &h->pol_peer.addr, peer) != 0)
				h = NULL;
		} else if (w < cf->cfg_npolwild)
			pol = cf->cfg_polwild[w++];
		else
			break;
		if (pol->pol_af != AF_UNSPEC && pol->pol_af != peer->sa_family)
			continue;
		if (!addr_match(&pol->pol_peer, peer) || !test(pol, arg))
			continue;
		found = pol;
		if (pol->pol_flags & POL_QUICK)
			break;
	}
	return (found);
}

struct policy_exchange {
	int			 version;
	int			 initiator;
	const struct sockaddr	*local;
};

static int
policy_test_exchange(const struct iked_policy *pol, const void *arg)
{
	const struct policy_exchange	*x = arg;

	if (x->version != 0 && pol->pol_version != 0 &&
	    pol->pol_version != x->version)
		return (0);
	if (x->initiator && (pol->pol_flags & POL_PASSIVE))
		return (0);
	if (!x->initiator && (pol->pol_flags & POL_SKIP))
		return (0);
	return (addr_match(&pol->pol_local, x->local));
}

/*
 * The rule for an exchange with peer from local.  version 0 matches
 * rules of both versions, and an "ike" rule (version 0) matches
 * exchanges of both; initiator skips passive rules, a responder skips
 * "skip" rules.  A responder that finds none takes the last "default"
 * rule of the version and family, whatever its addresses (OpenBSD's
 * "default").
 */
struct iked_policy *
policy_match(struct iked_config *cf, int version, const struct sockaddr *local,
    const struct sockaddr *peer, int initiator)
{
	struct policy_exchange	 x = { version, initiator, local };
	struct iked_policy	*pol;
	u_int			 i;

	if ((pol = policy_lookup(cf, peer, policy_test_exchange, &x)) != NULL ||
	    initiator || cf == NULL)
		return (pol);
	for (i = cf->cfg_npoldef; i > 0; i--) {
		pol = cf->cfg_poldef[i - 1];
		if (version != 0 && pol->pol_version != 0 &&
		    pol->pol_version != version)
			continue;
		if (pol->pol_flags & POL_SKIP)
			continue;
		if (pol->pol_af != AF_UNSPEC && pol->pol_af != peer->sa_family)
			continue;
		return (pol);
	}
	return (NULL);
}

/* Does one of the rule's flows cover the policy's selectors? */
int
policy_flow_match(const struct iked_policy *pol, const struct iked_spd *spd)
{
	const struct iked_flow	*f;

	if (TAILQ_EMPTY(&pol->pol_flows))
		return (1);
	TAILQ_FOREACH(f, &pol->pol_flows, flow_entry) {
		if (!addr_match(&f->flow_src,
		    (const struct sockaddr *)&spd->spd_src) ||
		    !addr_match(&f->flow_dst,
		    (const struct sockaddr *)&spd->spd_dst))
			continue;
		if ((f->flow_src.addr_flags & ADDR_SET) &&
		    spd->spd_sprefix < f->flow_src.addr_mask)
			continue;
		if ((f->flow_dst.addr_flags & ADDR_SET) &&
		    spd->spd_dprefix < f->flow_dst.addr_mask)
			continue;
		return (1);
	}
	return (0);
}

struct policy_acq {
	const struct iked_spd	*spd;
	const struct sockaddr	*local;
};

static int
policy_test_acquire(const struct iked_policy *pol, const void *arg)
{
	const struct policy_acq	*a = arg;

	if (pol->pol_flags & POL_PASSIVE)
		return (0);
	/* An interface's policy, its rules' (iface); the SPD's, the rest. */
	if ((a->spd->spd_ifindex != 0 || pol->pol_iface[0] != '\0') &&
	    a->spd->spd_ifindex != pol->pol_ifindex)
		return (0);
	return (addr_match(&pol->pol_local, a->local) &&
	    policy_flow_match(pol, a->spd));
}

/*
 * The active rule that answers an ACQUIRE of the policy spd for an
 * exchange with peer from local; its flows, if any, must cover the
 * policy's selectors.
 */
struct iked_policy *
policy_acquire(struct iked_config *cf, const struct iked_spd *spd,
    const struct sockaddr *local, const struct sockaddr *peer)
{
	struct policy_acq	 a = { spd, local };

	return (policy_lookup(cf, peer, policy_test_acquire, &a));
}
