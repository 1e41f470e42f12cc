/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Sockets' policies, FreeBSD's ipsec_pcb.c for a host that names its
 * sockets to the layer (ipsec_hook.h) instead of handing it inpcbs:
 * IP_IPSEC_POLICY and IPV6_IPSEC_POLICY set and get one direction's
 * policy of a socket (ipsec_set_pcbpolicy(), ipsec_get_pcbpolicy()), and
 * a closed socket's go (ipsec_delete_pcbpolicy()).  The policies live in
 * the SPD's file (key_spd.c), under its lock; the packet path looks them
 * up before the SPD.
 */

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/key_var.h>
#include <netipsec/ipsec_hook.h>

/* The endpoint, canonical; EINVAL for what cannot be a socket's. */
static int
ipsec_pcb_local(const struct sockaddr *local, int proto,
    union sockaddr_union *su)
{

	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP)
		return (EINVAL);
	if (local->sa_family != AF_INET && local->sa_family != AF_INET6)
		return (EAFNOSUPPORT);
	key_sa_copy(su, local, 1);
	if (su->sa.sa_family == AF_INET6)
		su->sin6.sin6_scope_id = 0;	/* the port and address only */
	/* sin_port and sin6_port are at the same offset: 0 is not bound. */
	return (su->sin.sin_port == 0 ? EINVAL : 0);
}

int
ipsec_pcb_setpolicy(const struct sockaddr *local, int proto,
    uint64_t sockid, uint32_t pid, int priv, const void *req, size_t len)
{
	struct sadb_x_policy *xpl;
	union sockaddr_union su;
	struct secpolicy *sp;
	u_int dir;
	int error;

	if ((error = ipsec_pcb_local(local, proto, &su)) != 0)
		return (error);
	if (req == NULL || len < sizeof(*xpl) || len > 0xffff * 8)
		return (EINVAL);
	/* A copy: the request is the caller's, and reqids get written. */
	xpl = malloc(len, M_IPSEC_SP, M_NOWAIT);
	if (xpl == NULL)
		return (ENOBUFS);
	memcpy(xpl, req, len);
	error = EINVAL;
	if (PFKEY_UNUNIT64((size_t)xpl->sadb_x_policy_len) != len)
		goto out;
	dir = xpl->sadb_x_policy_dir;
	if (dir != IPSEC_DIR_INBOUND && dir != IPSEC_DIR_OUTBOUND)
		goto out;
	/*
	 * FreeBSD lets any socket entrust its traffic to the SPD; bypass
	 * and its own requests need privilege.  None (bypass, for KAME's
	 * programs) and discard, which FreeBSD refuses here, are taken as
	 * KAME took them: none as privileged as bypass, discard by anyone,
	 * since it only forbids.
	 */
	sp = NULL;
	switch (xpl->sadb_x_policy_type) {
	case IPSEC_POLICY_ENTRUST:
		if (len != sizeof(*xpl))
			goto out;
		break;
	case IPSEC_POLICY_BYPASS:
	case IPSEC_POLICY_NONE:
	case IPSEC_POLICY_IPSEC:
		if (!priv) {
			error = EACCES;
			goto out;
		}
		/* FALLTHROUGH */
	case IPSEC_POLICY_DISCARD:
		if ((sp = key_xpl2sp(xpl, len, &error)) == NULL)
			goto out;
		sp->created = sp->lastused = time_uptime;
		break;
	default:
		goto out;
	}
	SPTREE_WLOCK();
	error = key_spd_pcb_set(&su, (uint8_t)proto, sockid, pid, dir, sp);
	SPTREE_WUNLOCK();
	if (error != 0 && sp != NULL)
		key_freesp(sp);
 out:
	zfree(xpl, M_IPSEC_SP);
	return (error);
}

int
ipsec_pcb_getpolicy(const struct sockaddr *local, int proto, int dir,
    void *buf, size_t *lenp)
{
	struct sadb_x_policy entrust;
	union sockaddr_union su;
	struct secpolicy *sp;
	size_t need;
	int error;

	if ((error = ipsec_pcb_local(local, proto, &su)) != 0)
		return (error);
	if (dir != IPSEC_DIR_INBOUND && dir != IPSEC_DIR_OUTBOUND)
		return (EINVAL);
	SPTREE_RLOCK();
	sp = key_spd_pcb_get(&su, (uint8_t)proto, (u_int)dir);
	if (sp != NULL)
		need = key_sp2xpl(sp, buf, *lenp);
	else {
		/* None set: the SPD decides, as FreeBSD says. */
		memset(&entrust, 0, sizeof(entrust));
		entrust.sadb_x_policy_len = PFKEY_UNIT64(sizeof(entrust));
		entrust.sadb_x_policy_exttype = SADB_X_EXT_POLICY;
		entrust.sadb_x_policy_type = IPSEC_POLICY_ENTRUST;
		entrust.sadb_x_policy_dir = (uint8_t)dir;
		need = sizeof(entrust);
		if (need <= *lenp)
			memcpy(buf, &entrust, need);
	}
	SPTREE_RUNLOCK();
	if (need == 0)
		return (ENOBUFS);
	error = need <= *lenp ? 0 : ERANGE;
	*lenp = need;
	return (error);
}

int
ipsec_pcb_detach(uint64_t sockid)
{
	struct secpcb *pcb;
	int n;

	/*
	 * The host tells of every socket that closes; few have policies, so
	 * look before taking the lock that stops the packet path.
	 */
	SPTREE_RLOCK();
	TAILQ_FOREACH(pcb, &sppcb, chain)
		if (pcb->sockid == sockid)
			break;
	SPTREE_RUNLOCK();
	if (pcb == NULL)
		return (0);
	SPTREE_WLOCK();
	n = key_spd_pcb_detach(sockid);
	SPTREE_WUNLOCK();
	return (n);
}

void
ipsec_pcb_flush(void)
{

	SPTREE_WLOCK();
	key_spd_pcb_flush();
	SPTREE_WUNLOCK();
}
