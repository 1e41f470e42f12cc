/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * iked's side of PF_KEY, racoon's model: REGISTER for ESP and AH, a
 * mirror of the SPD (SPDDUMP at start, then the SPD broadcasts), and the
 * messages that drive negotiation (ACQUIRE, EXPIRE, DELETE, FLUSH).  SAs
 * go in with GETSPI (the acquire's seq), UPDATE of the larval inbound SA
 * and ADD of the outbound one.  Replies are matched to requests by seq
 * and our pid, asynchronously; an error is logged with the request.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <libpfkey.h>

#include "iked.h"

#define KERNEL_SEQ_BASE		0x80000000U	/* above the kernel's acquire seqs */
#define KERNEL_SOFTRATE_RESP	90		/* the initiator rekeys first */
#define KERNEL_SEND_WAIT	1000		/* ms for room on a full socket */

static void	kernel_install_ipcomp(struct iked *, struct iked_child *,
		    struct sockaddr_storage *, struct sockaddr_storage *, int);

static const char *const kernel_msgname[] = {
	"RESERVED", "GETSPI", "UPDATE", "ADD", "DELETE", "GET", "ACQUIRE",
	"REGISTER", "EXPIRE", "FLUSH", "DUMP", "X_PROMISC", "X_PCHANGE",
	"X_SPDUPDATE", "X_SPDADD", "X_SPDDELETE", "X_SPDGET", "X_SPDACQUIRE",
	"X_SPDDUMP", "X_SPDFLUSH", "X_SPDSETIDX", "X_SPDEXPIRE",
	"X_SPDDELETE2"
};

const char *
kernel_name(u_int type)
{
	if (type < sizeof(kernel_msgname) / sizeof(kernel_msgname[0]))
		return (kernel_msgname[type]);
	return ("?");
}

uint8_t
kernel_ealg(uint16_t id)
{
	switch (id) {
	case 3:
		return (SADB_EALG_3DESCBC);
	case 11:
		return (SADB_EALG_NULL);
	case 12:
		return (SADB_X_EALG_AESCBC);
	case 13:
		return (SADB_X_EALG_AESCTR);
	case 20:
		return (SADB_X_EALG_AESGCM16);
	case 28:
		return (SADB_X_EALG_CHACHA20POLY1305);
	}
	return (SADB_EALG_NONE);
}

uint8_t
kernel_aalg(uint16_t id, uint16_t enc)
{
	(void)enc;
	switch (id) {
	case 2:
		return (SADB_AALG_SHA1HMAC);
	case 12:
		return (SADB_X_AALG_SHA2_256);
	case 13:
		return (SADB_X_AALG_SHA2_384);
	case 14:
		return (SADB_X_AALG_SHA2_512);
	}
	return (SADB_AALG_NONE);
}

static uint32_t
kernel_seq(struct iked *env)
{
	if (++env->sc_pfkey_seq < KERNEL_SEQ_BASE)
		env->sc_pfkey_seq = KERNEL_SEQ_BASE;
	return (env->sc_pfkey_seq);
}

static void
kernel_copyaddr(struct sockaddr_storage *ss, const struct sadb_address *a)
{
	const struct sockaddr	*sa = (const void *)(a + 1);

	memset(ss, 0, sizeof(*ss));
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		memcpy(ss, sa, sa_len(sa));
}

/* An SPD message (SPDDUMP, SPDADD, SPDUPDATE, SPDGET) as an iked_spd. */
static int
kernel_parse_spd(caddr_t *mhp, struct iked_spd *spd)
{
	const struct sadb_x_policy	*xpl = (const void *)mhp[SADB_X_EXT_POLICY];
	const struct sadb_address	*src = (const void *)mhp[SADB_EXT_ADDRESS_SRC];
	const struct sadb_address	*dst = (const void *)mhp[SADB_EXT_ADDRESS_DST];
	const struct sadb_x_ipsecrequest *xisr, *req, *comp;
	const struct sockaddr		*sa;
	size_t				 tlen, off;

	if (xpl == NULL || src == NULL || dst == NULL)
		return (-1);
	memset(spd, 0, sizeof(*spd));
	spd->spd_id = xpl->sadb_x_policy_id;
	spd->spd_dir = xpl->sadb_x_policy_dir;
	spd->spd_type = xpl->sadb_x_policy_type;
	kernel_copyaddr(&spd->spd_src, src);
	kernel_copyaddr(&spd->spd_dst, dst);
	spd->spd_sprefix = src->sadb_address_prefixlen;
	spd->spd_dprefix = dst->sadb_address_prefixlen;
	spd->spd_ulproto = src->sadb_address_proto;
	/* An if_ipsec(4) interface's: its index in the priority field. */
	spd->spd_scope = xpl->sadb_x_policy_scope;
	if (spd->spd_scope == IPSEC_POLICYSCOPE_IFNET)
		spd->spd_ifindex = xpl->sadb_x_policy_priority;
	if (spd->spd_type != IPSEC_POLICY_IPSEC)
		return (0);
	tlen = PFKEY_UNUNIT64(xpl->sadb_x_policy_len);
	/*
	 * The request iked negotiates: the first ESP or AH one.  IPComp's
	 * (a bundle's, at level use) rides along (IPCOMP_SUPPORTED); in
	 * front of ESP in transport mode, an IPComp request in tunnel mode
	 * makes the child a tunnel (kernel_esp_mode()).  A bundle of ESP
	 * and AH is counted: IKE cannot negotiate it (kernel_recv()).
	 */
	req = comp = NULL;
	for (off = sizeof(*xpl); off < tlen;
	    off += xisr->sadb_x_ipsecrequest_len) {
		if (tlen < off + sizeof(*xisr))
			return (-1);
		xisr = (const void *)((const char *)xpl + off);
		if (xisr->sadb_x_ipsecrequest_len < sizeof(*xisr) ||
		    off + xisr->sadb_x_ipsecrequest_len > tlen)
			return (-1);
		if (xisr->sadb_x_ipsecrequest_proto == IPPROTO_IPCOMP) {
			if (comp == NULL && req == NULL)
				comp = xisr;
			continue;
		}
		if (req == NULL)
			req = xisr;
		if (spd->spd_nsec < UINT8_MAX)
			spd->spd_nsec++;
	}
	if (req == NULL)
		return (0);
	spd->spd_proto = (uint8_t)req->sadb_x_ipsecrequest_proto;
	spd->spd_mode = req->sadb_x_ipsecrequest_mode;
	spd->spd_level = req->sadb_x_ipsecrequest_level;
	spd->spd_reqid = req->sadb_x_ipsecrequest_reqid;
	if (comp != NULL &&
	    comp->sadb_x_ipsecrequest_mode == IPSEC_MODE_TUNNEL &&
	    spd->spd_mode == IPSEC_MODE_TRANSPORT) {
		spd->spd_mode = IPSEC_MODE_TUNNEL;
		req = comp;		/* its endpoints */
	}
	if (req->sadb_x_ipsecrequest_len > sizeof(*req)) {
		sa = (const void *)(req + 1);
		if (sizeof(*req) + 2 * sa_len(sa) <=
		    req->sadb_x_ipsecrequest_len &&
		    (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
			memcpy(&spd->spd_tsrc, sa, sa_len(sa));
			sa = (const void *)((const char *)sa + sa_len(sa));
			if (sa->sa_family == AF_INET ||
			    sa->sa_family == AF_INET6)
				memcpy(&spd->spd_tdst, sa, sa_len(sa));
		}
	}
	return (0);
}

/*
 * The mirror of the SPD, indexed: by id (ACQUIRE, the broadcasts), and
 * by direction and destination under its prefix (the exact search of
 * kernel_spd_find(), the responder's narrowing).  sc_spds keeps the
 * kernel's order, which decides between policies that both fit.
 */
static int
kernel_spd_idcmp(const struct iked_spd *a, const struct iked_spd *b)
{
	return (a->spd_id < b->spd_id ? -1 : a->spd_id > b->spd_id);
}

RB_GENERATE(iked_spdids, iked_spd, spd_idnode, kernel_spd_idcmp);

/* Direction, family, destination prefix, its length, then id. */
static int
kernel_spd_dstcmp(const struct iked_spd *a, const struct iked_spd *b)
{
	int	 r;

	if (a->spd_dir != b->spd_dir)
		return (a->spd_dir < b->spd_dir ? -1 : 1);
	if (a->spd_dst.ss_family != b->spd_dst.ss_family)
		return (a->spd_dst.ss_family < b->spd_dst.ss_family ? -1 : 1);
	if ((r = memcmp(a->spd_dkey, b->spd_dkey, sizeof(a->spd_dkey))) != 0)
		return (r);
	if (a->spd_dprefix != b->spd_dprefix)
		return (a->spd_dprefix < b->spd_dprefix ? -1 : 1);
	return (kernel_spd_idcmp(a, b));
}

RB_GENERATE(iked_spddsts, iked_spd, spd_dstnode, kernel_spd_dstcmp);

static uint64_t	spd_seq;

/* addr under plen, in 16 bytes (IPv4: the first 4). */
static void
kernel_spd_mask(const struct sockaddr *sa, int plen, uint8_t *key)
{
	const uint8_t	*p;
	size_t		 len;
	int		 i;

	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		p = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		len = 4;
	} else if (sa->sa_family == AF_INET6) {
		p = (const uint8_t *)
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		len = 16;
	} else
		return;
	for (i = 0; i < (int)len && plen > 0; i++, plen -= 8)
		key[i] = p[i] & (plen >= 8 ? 0xff : 0xff00 >> plen);
}

void
kernel_spd_init(struct iked *env)
{
	TAILQ_INIT(&env->sc_spds);
	RB_INIT(&env->sc_spdids);
	RB_INIT(&env->sc_spddsts);
}

/* spd (malloc'd) joins the mirror, last; its id is new. */
void
kernel_spd_insert(struct iked *env, struct iked_spd *spd)
{
	kernel_spd_mask((struct sockaddr *)&spd->spd_dst, spd->spd_dprefix,
	    spd->spd_dkey);
	spd->spd_seq = ++spd_seq;
	TAILQ_INSERT_TAIL(&env->sc_spds, spd, spd_entry);
	RB_INSERT(iked_spdids, &env->sc_spdids, spd);
	/*
	 * An interface's policies match no selector (the kernel's do not
	 * either): found by id, and by kernel_spd_iface() for its rules.
	 */
	if (spd->spd_ifindex == 0)
		RB_INSERT(iked_spddsts, &env->sc_spddsts, spd);
}

static void
kernel_spd_unlink(struct iked *env, struct iked_spd *spd)
{
	TAILQ_REMOVE(&env->sc_spds, spd, spd_entry);
	RB_REMOVE(iked_spdids, &env->sc_spdids, spd);
	if (spd->spd_ifindex == 0)
		RB_REMOVE(iked_spddsts, &env->sc_spddsts, spd);
}

/*
 * The outbound policy of an if_ipsec(4) interface (a rule's iface, by
 * the index the parent found when it read the rule) for packets of
 * family af, or NULL when there is none (no such interface, or it has
 * no tunnel).
 */
struct iked_spd *
kernel_spd_iface(struct iked *env, u_int ifindex, int af)
{
	struct iked_spd	*spd;

	static time_t	 asked;
	time_t		 now;

	if (ifindex == 0)
		return (NULL);
	TAILQ_FOREACH(spd, &env->sc_spds, spd_entry)
		if (spd->spd_ifindex == ifindex &&
		    spd->spd_dir == IPSEC_DIR_OUTBOUND &&
		    spd->spd_src.ss_family == af &&
		    spd->spd_type == IPSEC_POLICY_IPSEC)
			return (spd);
	/*
	 * The kernel does not announce an interface's policies: a tunnel
	 * set after our SPDDUMP is learnt with another (the peer's next
	 * try finds it), at most every 5 seconds.
	 */
	now = time(NULL);
	if (now - asked >= 5) {
		asked = now;
		(void)pfkey_send_spddump(env->sc_pfkey);
	}
	return (NULL);
}

struct iked_spd *
kernel_spd_byid(struct iked *env, uint32_t id)
{
	struct iked_spd	 key;

	key.spd_id = id;
	return (RB_FIND(iked_spdids, &env->sc_spdids, &key));
}

/*
 * The policies of direction dir whose destination prefix starts at or
 * after key (16 bytes, as kernel_spd_mask() makes them), in the order
 * of the address: a search walks on while its range lasts.
 */
struct iked_spd *
kernel_spd_dst_first(struct iked *env, uint8_t dir, int af,
    const uint8_t *key)
{
	struct iked_spd	 k, *spd;

	memset(&k, 0, sizeof(k));
	k.spd_dir = dir;
	k.spd_dst.ss_family = af;
	memcpy(k.spd_dkey, key, sizeof(k.spd_dkey));
	/* Prefix length and id 0 sort first. */
	if ((spd = RB_NFIND(iked_spddsts, &env->sc_spddsts, &k)) == NULL ||
	    spd->spd_dir != dir || spd->spd_dst.ss_family != af)
		return (NULL);
	return (spd);
}

struct iked_spd *
kernel_spd_dst_next(struct iked *env, struct iked_spd *spd)
{
	struct iked_spd	*n;

	if ((n = RB_NEXT(iked_spddsts, &env->sc_spddsts, spd)) == NULL ||
	    n->spd_dir != spd->spd_dir ||
	    n->spd_dst.ss_family != spd->spd_dst.ss_family)
		return (NULL);
	(void)env;
	return (n);
}

/*
 * The IPsec policy of direction dir whose selectors are exactly src/sp,
 * dst/dp, proto (racoon's getsp()); the ports must match too.  Of two,
 * the first in the kernel's order.
 */
struct iked_spd *
kernel_spd_find(struct iked *env, uint8_t dir, const struct sockaddr *src,
    uint8_t sp, const struct sockaddr *dst, uint8_t dp, uint8_t proto)
{
	struct iked_spd	*spd, *found = NULL;
	uint8_t		 key[16];

	kernel_spd_mask(dst, dp, key);
	for (spd = kernel_spd_dst_first(env, dir, dst->sa_family, key);
	    spd != NULL && memcmp(spd->spd_dkey, key, sizeof(key)) == 0;
	    spd = kernel_spd_dst_next(env, spd)) {
		if (spd->spd_type != IPSEC_POLICY_IPSEC ||
		    spd->spd_ulproto != proto || spd->spd_sprefix != sp ||
		    spd->spd_dprefix != dp)
			continue;
		if (!sa_inprefix(src, (struct sockaddr *)&spd->spd_src, sp) ||
		    !sa_inprefix(dst, (struct sockaddr *)&spd->spd_dst, dp) ||
		    !sa_inprefix((struct sockaddr *)&spd->spd_src, src, sp) ||
		    !sa_inprefix((struct sockaddr *)&spd->spd_dst, dst, dp))
			continue;
		if (sa_port(src) != sa_port((struct sockaddr *)&spd->spd_src) ||
		    sa_port(dst) != sa_port((struct sockaddr *)&spd->spd_dst))
			continue;
		if (found == NULL || spd->spd_seq < found->spd_seq)
			found = spd;
	}
	return (found);
}

/* mine: we added or updated it (ikectl's "show flow"). */
static void
kernel_spd_update(struct iked *env, caddr_t *mhp, int mine)
{
	struct iked_spd	 tmp, *spd;

	if (kernel_parse_spd(mhp, &tmp) == -1)
		return;
	tmp.spd_mine = mine;
	if ((spd = kernel_spd_byid(env, tmp.spd_id)) != NULL) {
		/* Its place in the kernel's order stays. */
		if (spd->spd_ifindex == 0)
			RB_REMOVE(iked_spddsts, &env->sc_spddsts, spd);
		tmp.spd_mine |= spd->spd_mine;
		tmp.spd_entry = spd->spd_entry;
		tmp.spd_idnode = spd->spd_idnode;
		tmp.spd_seq = spd->spd_seq;
		*spd = tmp;
		kernel_spd_mask((struct sockaddr *)&spd->spd_dst,
		    spd->spd_dprefix, spd->spd_dkey);
		if (spd->spd_ifindex == 0)
			RB_INSERT(iked_spddsts, &env->sc_spddsts, spd);
		return;
	}
	if ((spd = malloc(sizeof(*spd))) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	*spd = tmp;
	kernel_spd_insert(env, spd);
	log_debug("spd: policy %u %s %s", spd->spd_id,
	    spd->spd_dir == IPSEC_DIR_OUTBOUND ? "out" : "in",
	    spd->spd_type == IPSEC_POLICY_IPSEC ? "ipsec" : "other");
}

static void
kernel_spd_remove(struct iked *env, uint32_t id)
{
	struct iked_spd	*spd;

	if ((spd = kernel_spd_byid(env, id)) != NULL) {
		kernel_spd_unlink(env, spd);
		free(spd);
	}
}

void
kernel_spd_flush(struct iked *env)
{
	struct iked_spd	*spd;

	while ((spd = TAILQ_FIRST(&env->sc_spds)) != NULL) {
		kernel_spd_unlink(env, spd);
		free(spd);
	}
}

static void
kernel_dispatch(struct iked *env, struct sadb_msg *msg)
{
	caddr_t				 mhp[SADB_EXT_MAX + 1];
	const struct sadb_x_policy	*xpl;
	const struct sadb_sa		*sa;
	const struct sadb_address	*src, *dst;
	struct sockaddr_storage		 ssrc, sdst;
	struct iked_spd			*spd;
	struct iked_child		*ch;
	int				 mine;

	mine = msg->sadb_msg_pid == (uint32_t)getpid();
	if (mine && msg->sadb_msg_type == SADB_X_SPDDUMP &&
	    msg->sadb_msg_errno == ENOENT) {
		env->sc_spd_ready = 1;		/* an empty SPD */
		return;
	}
	if (msg->sadb_msg_errno != 0) {
		/* Deleting what the kernel already dropped is no news. */
		if (mine && msg->sadb_msg_type == SADB_DELETE &&
		    msg->sadb_msg_errno == ESRCH)
			log_debug("pfkey: DELETE of an SA already gone");
		else if (mine)
			log_warnx("pfkey: %s (seq %u) failed: %s",
			    kernel_name(msg->sadb_msg_type),
			    msg->sadb_msg_seq, strerror(msg->sadb_msg_errno));
		if (mine && msg->sadb_msg_type == SADB_UPDATE)
			ikesa_update_failed(env, msg->sadb_msg_seq,
			    msg->sadb_msg_errno);
		if (mine && msg->sadb_msg_type == SADB_ADD &&
		    (ch = child_byaddseq(env, msg->sadb_msg_seq)) != NULL)
			ch->ch_addpending = 0;
		if (mine && msg->sadb_msg_type == SADB_GETSPI &&
		    msg->sadb_msg_satype == SADB_X_SATYPE_IPCOMP)
			return;		/* the child goes on without IPComp */
		if (mine && msg->sadb_msg_type == SADB_GETSPI &&
		    (ch = child_bygetspi(env, msg->sadb_msg_seq)) != NULL) {
			if (ch->ch_initiator && !ch->ch_rekeying)
				kernel_acquire_fail(env, ch->ch_acqseq,
				    msg->sadb_msg_errno);
			child_free(ch);
		}
		return;
	}
	if (pfkey_align(msg, mhp) == -1 || pfkey_check(mhp) == -1) {
		log_warnx("pfkey: malformed %s from the kernel",
		    kernel_name(msg->sadb_msg_type));
		return;
	}
	sa = (const void *)mhp[SADB_EXT_SA];
	src = (const void *)mhp[SADB_EXT_ADDRESS_SRC];
	dst = (const void *)mhp[SADB_EXT_ADDRESS_DST];
	switch (msg->sadb_msg_type) {
	case SADB_REGISTER:
		if (mine)
			(void)pfkey_set_supported(msg,
			    (int)PFKEY_UNUNIT64(msg->sadb_msg_len));
		break;
	case SADB_X_SPDDUMP:
		if (!mine)
			break;
		kernel_spd_update(env, mhp, 0);
		if (msg->sadb_msg_seq == 0 && !env->sc_spd_ready) {
			env->sc_spd_ready = 1;
			log_debug("spd: mirror loaded");
		}
		break;
	case SADB_X_SPDADD:
	case SADB_X_SPDUPDATE:
	case SADB_X_SPDGET:
		kernel_spd_update(env, mhp, mine &&
		    msg->sadb_msg_type != SADB_X_SPDGET);
		break;
	case SADB_X_SPDDELETE:
	case SADB_X_SPDDELETE2:
	case SADB_X_SPDEXPIRE:
		if ((xpl = (const void *)mhp[SADB_X_EXT_POLICY]) != NULL)
			kernel_spd_remove(env, xpl->sadb_x_policy_id);
		break;
	case SADB_X_SPDFLUSH:
		kernel_spd_flush(env);
		break;
	case SADB_ACQUIRE:
		if (msg->sadb_msg_pid != 0 || src == NULL || dst == NULL)
			break;
		env->sc_stats.st_acquires++;
		if ((xpl = (const void *)mhp[SADB_X_EXT_POLICY]) == NULL) {
			log_warnx("pfkey: ACQUIRE seq %u without a policy",
			    msg->sadb_msg_seq);
			break;
		}
		if ((spd = kernel_spd_byid(env, xpl->sadb_x_policy_id))
		    == NULL) {
			/* Learn it; the kernel asks again. */
			log_debug("pfkey: ACQUIRE for unknown policy %u",
			    xpl->sadb_x_policy_id);
			(void)pfkey_send_spdget(env->sc_pfkey,
			    xpl->sadb_x_policy_id);
			break;
		}
		/* A bundle's IPComp SA comes with its ESP one's. */
		if (msg->sadb_msg_satype == SADB_X_SATYPE_IPCOMP &&
		    spd->spd_nsec > 0) {
			log_debug("pfkey: ACQUIRE seq %u: IPComp of policy "
			    "%u, negotiated with its ESP or AH SA",
			    msg->sadb_msg_seq, spd->spd_id);
			break;
		}
		/*
		 * ESP and AH together: a child SA of IKEv2 (RFC 7296 3.3)
		 * and what racoon's peers take in IKEv1 carry one of
		 * them.  One error per policy, not one per ACQUIRE.
		 */
		if (spd->spd_nsec > 1) {
			if (!spd->spd_warned)
				log_warnx("acquire seq %u: policy %u asks for "
				    "ESP and AH together, which IKE does not "
				    "negotiate; not negotiated (use esp "
				    "alone, or esp with ipcomp)",
				    msg->sadb_msg_seq, spd->spd_id);
			spd->spd_warned = 1;
			kernel_acquire_fail(env, msg->sadb_msg_seq,
			    EPROTONOSUPPORT);
			break;
		}
		kernel_copyaddr(&ssrc, src);
		kernel_copyaddr(&sdst, dst);
		ikesa_acquire(env, msg->sadb_msg_seq, spd,
		    (struct sockaddr *)&ssrc, (struct sockaddr *)&sdst);
		break;
	case SADB_GETSPI:
		if (!mine || sa == NULL)
			break;
		if ((ch = child_bygetspi(env, msg->sadb_msg_seq)) == NULL)
			break;
		if (msg->sadb_msg_satype == SADB_X_SATYPE_IPCOMP) {
			ch->ch_cpi_in = (uint16_t)ntohl(sa->sadb_sa_spi);
			log_debug("pfkey: GETSPI seq %u: cpi 0x%04x",
			    msg->sadb_msg_seq, ch->ch_cpi_in);
			break;
		}
		child_set_spi_in(ch, sa->sadb_sa_spi);
		log_debug("pfkey: GETSPI seq %u: spi 0x%08x", msg->sadb_msg_seq,
		    ntohl(sa->sadb_sa_spi));
		ch->ch_sa->sa_proto->ip_getspi_done(ch);
		break;
	case SADB_UPDATE:
		/* The inbound SA is in: a held answer may go. */
		if (mine)
			ikesa_update_done(env, msg->sadb_msg_seq);
		break;
	case SADB_ADD:
		/* ACQUIREs read before this reply predate the SA. */
		if (mine && (ch = child_byaddseq(env, msg->sadb_msg_seq))
		    != NULL)
			ch->ch_addpending = 0;
		break;
	case SADB_EXPIRE:
		if (sa == NULL || msg->sadb_msg_pid != 0)
			break;
		ikesa_expire(env, sa->sadb_sa_spi,
		    mhp[SADB_EXT_LIFETIME_HARD] != NULL);
		break;
	case SADB_DELETE:
		if (sa == NULL)
			break;
		if (mine)
			ikesa_delete_done(env, sa->sadb_sa_spi);
		else
			ikesa_spi_deleted(env, sa->sadb_sa_spi);
		break;
	case SADB_FLUSH:
		if (mine)
			break;
		ikesa_spi_deleted(env, 0);
		break;
	default:
		break;
	}
}

/*
 * PF_KEY closed: netipsecd went away.  The IKE engine's channel closes
 * also when the parent dies; a dying parent closes its descriptors
 * before we are its orphan, so its end of the imsg channel is the sign
 * (a second at most).  Either way the kernel's SAs stay.
 */
static __dead void
kernel_lost(struct iked *env)
{
	struct pollfd	 pfd;

	if (env->sc_privsep) {
		pfd.fd = env->sc_ibuf->fd;
		pfd.events = POLLIN;
		if (getppid() != env->sc_parent || (poll(&pfd, 1, 1000) == 1 &&
		    (pfd.revents & POLLHUP))) {
			log_warnx("engine: the parent process is gone; "
			    "exiting");
			exit(1);
		}
	}
	fatalx("pfkey: the kernel (netipsecd) went away");
}

static void
kernel_recv(evutil_socket_t fd, short event, void *arg)
{
	struct iked	*env = arg;
	struct sadb_msg	*msg;
	int		 n;

	(void)event;
	for (n = 0; n < 64; n++) {
		if ((msg = pfkey_recv(fd)) == NULL) {
			if (errno == ECONNRESET)
				kernel_lost(env);
			return;
		}
		kernel_dispatch(env, msg);
		explicit_bzero(msg, PFKEY_UNUNIT64(msg->sadb_msg_len));
		free(msg);
	}
}

int
kernel_init(struct iked *env)
{
	kernel_spd_init(env);
	/* The engine has its PF_KEY channel to the parent already. */
	if (env->sc_pfkey == -1 && (env->sc_pfkey = pfkey_open()) == -1) {
		log_warnx("pfkey_open: %s (is netipsecd running?)",
		    ipsec_strerror());
		return (-1);
	}
	if (fcntl(env->sc_pfkey, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(env->sc_pfkey, F_SETFD, FD_CLOEXEC) == -1)
		return (-1);
	if (pfkey_send_register(env->sc_pfkey, SADB_SATYPE_ESP) == -1 ||
	    pfkey_send_register(env->sc_pfkey, SADB_SATYPE_AH) == -1 ||
	    pfkey_send_spddump(env->sc_pfkey) == -1) {
		log_warnx("pfkey: %s", ipsec_strerror());
		return (-1);
	}
	env->sc_pfkeyev = event_new(env->sc_evbase, env->sc_pfkey,
	    EV_READ | EV_PERSIST, kernel_recv, env);
	if (env->sc_pfkeyev == NULL || event_add(env->sc_pfkeyev, NULL) == -1)
		return (-1);
	return (0);
}

void
kernel_close(struct iked *env)
{
	struct pollfd	 pfd;
	struct sadb_msg	*msg;
	int		 n;

	if (env->sc_pfkeyev != NULL)
		event_free(env->sc_pfkeyev);
	env->sc_pfkeyev = NULL;
	if (env->sc_pfkey != -1) {
		/*
		 * Our last requests (DELETEs at exit) must all reach the
		 * kernel: say we are done writing, then read the replies
		 * until it closes (a second at most).
		 */
		(void)shutdown(env->sc_pfkey, SHUT_WR);
		pfd.fd = env->sc_pfkey;
		pfd.events = POLLIN;
		for (n = 0; n < 1000; n++) {
			if (poll(&pfd, 1, 1000) <= 0)
				break;
			if ((msg = pfkey_recv(env->sc_pfkey)) == NULL) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				break;
			}
			free(msg);
		}
		pfkey_close(env->sc_pfkey);
	}
	env->sc_pfkey = -1;
	kernel_spd_flush(env);
}

/* The SA endpoints of a child: the IKE SA's addresses, without ports. */
static void
kernel_endpoints(struct iked_child *ch, struct sockaddr_storage *local,
    struct sockaddr_storage *peer)
{
	sa_get(local, &ch->ch_sa->sa_local);
	sa_get(peer, &ch->ch_sa->sa_peer);
	sa_setport((struct sockaddr *)local, 0);
	sa_setport((struct sockaddr *)peer, 0);
}

/*
 * The reqid of the inbound SA.  At level unique each policy has its own
 * reqid (the kernel's, unless the admin gave one), and the kernel takes
 * an inbound packet only from an SA whose reqid is the inbound policy's
 * (RFC 4301 5.2), so the inbound SA gets the reqid of the policy that
 * mirrors the outbound one, as racoon does; 0 stays 0.
 */
static uint32_t
kernel_reqid_in(struct iked *env, const struct iked_child *ch)
{
	struct sockaddr_storage	 l, r;
	struct iked_spd		*in;

	if (ch->ch_reqid == 0 || ch->ch_lsel.sa.sa_family == AF_UNSPEC)
		return (ch->ch_reqid);
	sa_get(&l, &ch->ch_lsel);
	sa_get(&r, &ch->ch_rsel);
	in = kernel_spd_find(env, IPSEC_DIR_INBOUND, (struct sockaddr *)&r,
	    ch->ch_rplen, (struct sockaddr *)&l, ch->ch_lplen, ch->ch_ulproto);
	if (in == NULL || in->spd_level != IPSEC_LEVEL_UNIQUE)
		return (ch->ch_reqid);
	return (in->spd_reqid);
}

/*
 * A request did not fit: our socket is non-blocking, and over netipsecd
 * a burst of requests (hundreds of negotiations at once) fills it before
 * the daemon reads.  Wait for room, as a BSD kernel's synchronous
 * send(2) would, instead of failing the negotiation: 1 to send again.
 */
static int
kernel_send_again(struct iked *env)
{
	struct pollfd	 pfd;

	if (errno != EAGAIN)
		return (0);
	pfd.fd = env->sc_pfkey;
	pfd.events = POLLOUT;
	return (poll(&pfd, 1, KERNEL_SEND_WAIT) == 1);
}

/* CPIs we take: RFC 3173's negotiated range (0-255 are well known). */
#define	IPCOMP_CPI_MIN	0x100
#define	IPCOMP_CPI_MAX	0xffff

/*
 * The mode of a child's ESP or AH SAs.  A tunnel with IPComp has the
 * IPComp SAs do the tunnel and ESP go over them in transport mode
 * (ipcomp/tunnel/A-B/use esp/transport/A-B/require, strongSwan's
 * layout); without IPComp (the peer declined, or before its SAs are
 * in) ESP carries the tunnel itself, and the wire is the same.  So ESP's
 * SAs are of mode any there, as setkey's "add" makes them by default:
 * the kernel applies them as the request says, a transport request
 * whose endpoints are not the packet's as a tunnel (FreeBSD's), and
 * takes a tunnel through them for a request that names their endpoints.
 */
static uint8_t
kernel_esp_mode(const struct iked_child *ch)
{
	if (ch->ch_mode == IPSEC_MODE_TUNNEL &&
	    (ch->ch_sa->sa_pol->pol_flags & POL_IPCOMP))
		return (IPSEC_MODE_ANY);
	return (ch->ch_mode);
}

/* SADB_GETSPI for the inbound SA: from the peer to us. */
int
kernel_getspi(struct iked *env, struct iked_child *ch)
{
	struct sockaddr_storage	 local, peer;
	uint32_t		 seq;

	kernel_endpoints(ch, &local, &peer);
	seq = ch->ch_acqseq != 0 && ch->ch_initiator && !ch->ch_rekeying ?
	    ch->ch_acqseq : kernel_seq(env);
	child_set_getspi_seq(ch, seq);
	/*
	 * IPComp: a CPI first, with the same seq; its answer comes before
	 * the ESP one's (the kernel answers in order), and without it the
	 * child goes on without IPComp.  The initiator asks when its rule
	 * says ipcomp, the responder when the peer offered it too.
	 */
	ch->ch_cpi_in = 0;
	while ((ch->ch_sa->sa_pol->pol_flags & POL_IPCOMP) &&
	    (ch->ch_initiator || ch->ch_cpi_out != 0) &&
	    pfkey_send_getspi(env->sc_pfkey, SADB_X_SATYPE_IPCOMP,
	    ch->ch_mode, (struct sockaddr *)&peer, (struct sockaddr *)&local,
	    IPCOMP_CPI_MIN, IPCOMP_CPI_MAX, kernel_reqid_in(env, ch),
	    seq) == -1) {
		if (kernel_send_again(env))
			continue;
		log_warnx("pfkey: GETSPI (IPComp): %s", ipsec_strerror());
		break;
	}
	while (pfkey_send_getspi(env->sc_pfkey, ch->ch_saproto ==
	    IPPROTO_AH ? SADB_SATYPE_AH : SADB_SATYPE_ESP,
	    kernel_esp_mode(ch), (struct sockaddr *)&peer,
	    (struct sockaddr *)&local, 0, 0, kernel_reqid_in(env, ch),
	    seq) == -1) {
		if (kernel_send_again(env))
			continue;
		log_warnx("pfkey: GETSPI: %s", ipsec_strerror());
		return (-1);
	}
	ch->ch_state = CH_S_GETSPI;
	return (0);
}

/*
 * The negotiated SA pair: UPDATE of the larval inbound SA, ADD of the
 * outbound one (which: KERNEL_SA_IN, _OUT or both).  kin/kout:
 * encryption key, then authentication key.
 */
int
kernel_install(struct iked *env, struct iked_child *ch, const uint8_t *kin,
    const uint8_t *kout, size_t enclen, size_t authlen, int which)
{
	struct pfkey_send_sa_args	 a;
	struct sockaddr_storage		 local, peer;
	struct iked_sa			*sa = ch->ch_sa;
	u_int				 rate;
	int				 ret = 0;

	kernel_endpoints(ch, &local, &peer);
	memset(&a, 0, sizeof(a));
	a.so = env->sc_pfkey;
	a.satype = ch->ch_saproto == IPPROTO_AH ? SADB_SATYPE_AH :
	    SADB_SATYPE_ESP;
	a.mode = kernel_esp_mode(ch);
	a.reqid = ch->ch_reqid;
	a.wsize = 64 / 8;		/* 64 packets */
	/* Negotiated ESN: the ICV covers the high 32 bits (RFC 4303). */
	a.flags = ch->ch_esn ? SADB_X_SAFLAGS_ESN : 0;
	a.e_type = kernel_ealg(ch->ch_enc);
	a.e_keylen = (u_int)enclen;
	a.a_type = kernel_aalg(ch->ch_auth, ch->ch_enc);
	a.a_keylen = (u_int)authlen;
	a.l_bytes = ch->ch_lifebytes;
	a.l_addtime = ch->ch_lifetime;
	if (sa->sa_nat & SA_NATT_FLOAT) {
		a.l_natt_type = UDP_ENCAP_ESPINUDP;
	}
	/* The responder's soft lifetime comes later: one side rekeys. */
	rate = pfkey_get_softrate(SADB_X_LIFETIME_ADDTIME);
	if (!ch->ch_initiator) {
		(void)pfkey_set_softrate(SADB_X_LIFETIME_ADDTIME,
		    KERNEL_SOFTRATE_RESP);
		(void)pfkey_set_softrate(SADB_X_LIFETIME_BYTES,
		    KERNEL_SOFTRATE_RESP);
	}

	/* Inbound: peer to us, the larval SA of GETSPI. */
	a.reqid = kernel_reqid_in(env, ch);
	a.src = (struct sockaddr *)&peer;
	a.dst = (struct sockaddr *)&local;
	a.spi = ch->ch_spi_in;
	a.keymat = (const char *)kin;
	a.seq = ch->ch_getspi_seq;
	a.l_natt_sport = sa_port((struct sockaddr *)&sa->sa_peer);
	a.l_natt_dport = sa_port((struct sockaddr *)&sa->sa_local);
	while ((which & KERNEL_SA_IN) && pfkey_send_update2(&a) == -1) {
		if (kernel_send_again(env))
			continue;
		log_warnx("pfkey: UPDATE spi 0x%08x: %s", ntohl(a.spi),
		    ipsec_strerror());
		ret = -1;
		break;
	}
	/* Outbound: us to the peer. */
	a.reqid = ch->ch_reqid;
	a.src = (struct sockaddr *)&local;
	a.dst = (struct sockaddr *)&peer;
	a.spi = ch->ch_spi_out;
	a.keymat = (const char *)kout;
	/*
	 * The outbound SA answers the ACQUIRE: its seq (racoon's) lets the
	 * kernel retire the acquire entry, and with it the throttle.
	 */
	a.seq = ch->ch_initiator && !ch->ch_rekeying && ch->ch_acqseq != 0 ?
	    ch->ch_acqseq : kernel_seq(env);
	if (which & KERNEL_SA_OUT) {
		child_set_addseq(ch, a.seq);
		ch->ch_addpending = 1;
	}
	a.l_natt_sport = sa_port((struct sockaddr *)&sa->sa_local);
	a.l_natt_dport = sa_port((struct sockaddr *)&sa->sa_peer);
	while (ret == 0 && (which & KERNEL_SA_OUT) &&
	    pfkey_send_add2(&a) == -1) {
		if (kernel_send_again(env))
			continue;
		log_warnx("pfkey: ADD spi 0x%08x: %s", ntohl(a.spi),
		    ipsec_strerror());
		ret = -1;
	}
	(void)pfkey_set_softrate(SADB_X_LIFETIME_ADDTIME, rate);
	(void)pfkey_set_softrate(SADB_X_LIFETIME_BYTES, rate);
	if (ret == 0 && ch->ch_cpi_in != 0 && ch->ch_cpi_out != 0)
		kernel_install_ipcomp(env, ch, &local, &peer, which);
	return (ret);
}

/*
 * The IPComp pair beside a child's SAs: the larval inbound SA of our
 * CPI's GETSPI updated, the outbound one with the peer's CPI added.  No
 * keys, no lifetimes (they go with the child: kernel_delete_dir()), no
 * replay window.  Failures are logged only: the requests for IPComp are
 * at level use, and traffic goes on uncompressed.
 */
static void
kernel_install_ipcomp(struct iked *env, struct iked_child *ch,
    struct sockaddr_storage *local, struct sockaddr_storage *peer, int which)
{
	struct pfkey_send_sa_args	 a;

	memset(&a, 0, sizeof(a));
	a.so = env->sc_pfkey;
	a.satype = SADB_X_SATYPE_IPCOMP;
	a.mode = ch->ch_mode;
	a.e_type = SADB_X_CALG_DEFLATE;
	a.reqid = kernel_reqid_in(env, ch);
	a.src = (struct sockaddr *)peer;
	a.dst = (struct sockaddr *)local;
	a.spi = htonl(ch->ch_cpi_in);
	a.seq = kernel_seq(env);
	while ((which & KERNEL_SA_IN) && pfkey_send_update2(&a) == -1) {
		if (kernel_send_again(env))
			continue;
		log_warnx("pfkey: UPDATE cpi 0x%04x: %s", ch->ch_cpi_in,
		    ipsec_strerror());
		break;
	}
	a.reqid = ch->ch_reqid;
	a.src = (struct sockaddr *)local;
	a.dst = (struct sockaddr *)peer;
	a.spi = htonl(ch->ch_cpi_out);
	a.seq = kernel_seq(env);
	while ((which & KERNEL_SA_OUT) && pfkey_send_add2(&a) == -1) {
		if (kernel_send_again(env))
			continue;
		log_warnx("pfkey: ADD cpi 0x%04x: %s", ch->ch_cpi_out,
		    ipsec_strerror());
		break;
	}
}

/* Both SAs of a child, if the kernel still has them. */
void
kernel_delete(struct iked *env, struct iked_child *ch)
{
	kernel_delete_dir(env, ch, KERNEL_SA_IN | KERNEL_SA_OUT);
}

/* Its inbound SA, its outbound one, or both (which). */
void
kernel_delete_dir(struct iked *env, struct iked_child *ch, int which)
{
	struct sockaddr_storage	 local, peer;
	u_int			 satype;

	kernel_endpoints(ch, &local, &peer);
	satype = ch->ch_saproto == IPPROTO_AH ? SADB_SATYPE_AH :
	    SADB_SATYPE_ESP;
	if (ch->ch_spi_in != 0 && (which & KERNEL_SA_IN))
		(void)pfkey_send_delete(env->sc_pfkey, satype, ch->ch_mode,
		    (struct sockaddr *)&peer, (struct sockaddr *)&local,
		    ch->ch_spi_in);
	if (ch->ch_spi_out != 0 && ch->ch_state == CH_S_INSTALLED &&
	    (which & KERNEL_SA_OUT))
		(void)pfkey_send_delete(env->sc_pfkey, satype, ch->ch_mode,
		    (struct sockaddr *)&local, (struct sockaddr *)&peer,
		    ch->ch_spi_out);
	/* The IPComp pair: ours even if larval, the peer's if added. */
	if (ch->ch_cpi_in != 0 && (which & KERNEL_SA_IN))
		(void)pfkey_send_delete(env->sc_pfkey, SADB_X_SATYPE_IPCOMP,
		    ch->ch_mode, (struct sockaddr *)&peer,
		    (struct sockaddr *)&local, htonl(ch->ch_cpi_in));
	if (ch->ch_cpi_in != 0 && ch->ch_cpi_out != 0 &&
	    ch->ch_state == CH_S_INSTALLED && (which & KERNEL_SA_OUT))
		(void)pfkey_send_delete(env->sc_pfkey, SADB_X_SATYPE_IPCOMP,
		    ch->ch_mode, (struct sockaddr *)&local,
		    (struct sockaddr *)&peer, htonl(ch->ch_cpi_out));
}

/*
 * The peer did not take IPComp: our CPI's larval SA goes now rather
 * than at net.key.larval_lifetime.
 */
void
kernel_ipcomp_unused(struct iked *env, struct iked_child *ch)
{
	struct sockaddr_storage	 local, peer;

	if (ch->ch_cpi_in == 0)
		return;
	kernel_endpoints(ch, &local, &peer);
	(void)pfkey_send_delete(env->sc_pfkey, SADB_X_SATYPE_IPCOMP,
	    ch->ch_mode, (struct sockaddr *)&peer, (struct sockaddr *)&local,
	    htonl(ch->ch_cpi_in));
	ch->ch_cpi_in = 0;
	ch->ch_cpi_out = 0;
}

/* INITIAL-CONTACT: every SA between us and that peer is stale. */
void
kernel_delete_peer(struct iked *env, const struct sockaddr *local0,
    const struct sockaddr *peer0)
{
	struct sockaddr_storage	 local, peer;
	u_int			 satypes[] = { SADB_SATYPE_ESP, SADB_SATYPE_AH };
	size_t			 i;

	memcpy(&local, local0, sa_len(local0));
	memcpy(&peer, peer0, sa_len(peer0));
	sa_setport((struct sockaddr *)&local, 0);
	sa_setport((struct sockaddr *)&peer, 0);
	for (i = 0; i < sizeof(satypes) / sizeof(satypes[0]); i++) {
		(void)pfkey_send_delete_all(env->sc_pfkey, satypes[i],
		    IPSEC_MODE_ANY, (struct sockaddr *)&local,
		    (struct sockaddr *)&peer);
		(void)pfkey_send_delete_all(env->sc_pfkey, satypes[i],
		    IPSEC_MODE_ANY, (struct sockaddr *)&peer,
		    (struct sockaddr *)&local);
	}
}

/* RFC 2367 3.1.6: a failed negotiation, so the kernel may ask again. */
void
kernel_acquire_fail(struct iked *env, uint32_t seq, int error)
{
	struct sadb_msg	 m;

	if (seq == 0)
		return;
	memset(&m, 0, sizeof(m));
	m.sadb_msg_version = PF_KEY_V2;
	m.sadb_msg_type = SADB_ACQUIRE;
	m.sadb_msg_satype = SADB_SATYPE_ESP;
	m.sadb_msg_errno = (uint8_t)error;
	m.sadb_msg_len = PFKEY_UNIT64(sizeof(m));
	m.sadb_msg_seq = seq;
	m.sadb_msg_pid = (uint32_t)getpid();
	(void)pfkey_send(env->sc_pfkey, &m, sizeof(m));
}

/*
 * One policy pair from a rule or a negotiation: out src->dst and in
 * dst->src, IPsec required, with the tunnel endpoints in tunnel mode.
 */
static int
kernel_flow_pair(struct iked *env, int add, const struct sockaddr *src,
    int splen, const struct sockaddr *dst, int dplen, uint8_t proto,
    uint8_t saproto, uint8_t mode, int ipcomp, const struct sockaddr *local,
    const struct sockaddr *peer)
{
	char			 pol[1024], l[128], p[128];
	struct sockaddr_storage	 s, d, lo, pe;
	struct iked_spd		*spd;
	char			*buf;
	int			 dir, ret = 0;

	memcpy(&s, src, sa_len(src));
	memcpy(&d, dst, sa_len(dst));
	memcpy(&lo, local, sa_len(local));
	memcpy(&pe, peer, sa_len(peer));
	sa_setport((struct sockaddr *)&lo, 0);
	sa_setport((struct sockaddr *)&pe, 0);
	print_host((struct sockaddr *)&lo, l, sizeof(l));
	print_host((struct sockaddr *)&pe, p, sizeof(p));
	for (dir = 0; dir < 2; dir++) {
		if (mode == IPSEC_MODE_TUNNEL && ipcomp)
			/* IPComp does the tunnel, ESP or AH goes over it. */
			snprintf(pol, sizeof(pol), "%s ipsec ipcomp/tunnel/"
			    "%s-%s/use %s/transport/%s-%s/require",
			    dir == 0 ? "out" : "in", dir == 0 ? l : p,
			    dir == 0 ? p : l,
			    saproto == IPPROTO_AH ? "ah" : "esp",
			    dir == 0 ? l : p, dir == 0 ? p : l);
		else if (mode == IPSEC_MODE_TUNNEL)
			snprintf(pol, sizeof(pol), "%s ipsec %s/tunnel/%s-%s/"
			    "require", dir == 0 ? "out" : "in",
			    saproto == IPPROTO_AH ? "ah" : "esp",
			    dir == 0 ? l : p, dir == 0 ? p : l);
		else
			/* IPComp first, innermost, as racoon writes it. */
			snprintf(pol, sizeof(pol), "%s ipsec %s%s/transport//"
			    "require", dir == 0 ? "out" : "in", ipcomp ?
			    "ipcomp/transport//use " : "",
			    saproto == IPPROTO_AH ? "ah" : "esp");
		if ((buf = ipsec_set_policy(pol, (int)strlen(pol))) == NULL) {
			log_warnx("%s: %s: %s", __func__, pol,
			    ipsec_strerror());
			return (-1);
		}
		/* Removal by id, from the mirror: what we put in. */
		spd = add ? NULL : kernel_spd_find(env, dir == 0 ?
		    IPSEC_DIR_OUTBOUND : IPSEC_DIR_INBOUND,
		    dir == 0 ? (struct sockaddr *)&s : (struct sockaddr *)&d,
		    (uint8_t)(dir == 0 ? splen : dplen),
		    dir == 0 ? (struct sockaddr *)&d : (struct sockaddr *)&s,
		    (uint8_t)(dir == 0 ? dplen : splen), proto);
		if (!add && spd == NULL)
			log_debug("%s: %s policy gone already", __func__,
			    dir == 0 ? "outbound" : "inbound");
		if (add ? pfkey_send_spdupdate(env->sc_pfkey,
		    dir == 0 ? (struct sockaddr *)&s : (struct sockaddr *)&d,
		    dir == 0 ? splen : dplen,
		    dir == 0 ? (struct sockaddr *)&d : (struct sockaddr *)&s,
		    dir == 0 ? dplen : splen, proto, buf,
		    ipsec_get_policylen(buf), kernel_seq(env)) == -1 :
		    (spd != NULL && pfkey_send_spddelete2(env->sc_pfkey,
		    spd->spd_id) == -1)) {
			log_warnx("pfkey: %s: %s", add ? "SPDUPDATE" :
			    "SPDDELETE", ipsec_strerror());
			ret = -1;
		}
		free(buf);
	}
	return (ret);
}

/* The flows of the rules with install-policies (OpenBSD's model). */
static int
kernel_flows(struct iked *env, int add)
{
	struct iked_policy	*pol;
	struct iked_flow	*flow;
	int			 ret = 0;

	if (env->sc_config == NULL)
		return (0);
	TAILQ_FOREACH(pol, &env->sc_config->cfg_policies, pol_entry) {
		if (pol->pol_polsrc != POLSRC_INSTALL)
			continue;
		if ((pol->pol_local.addr_flags & ADDR_SET) == 0 ||
		    (pol->pol_peer.addr_flags & ADDR_SET) == 0) {
			if (add)
				log_warnx("%s:%d: install-policies needs "
				    "local and peer addresses; rule \"%s\" "
				    "skipped", pol->pol_file, pol->pol_line,
				    pol->pol_name);
			continue;
		}
		TAILQ_FOREACH(flow, &pol->pol_flows, flow_entry) {
			if ((flow->flow_src.addr_flags & ADDR_SET) == 0 ||
			    (flow->flow_dst.addr_flags & ADDR_SET) == 0)
				continue;
			if (kernel_flow_pair(env, add,
			    (struct sockaddr *)&flow->flow_src.addr,
			    flow->flow_src.addr_mask,
			    (struct sockaddr *)&flow->flow_dst.addr,
			    flow->flow_dst.addr_mask,
			    flow->flow_proto ? flow->flow_proto :
			    IPSEC_ULPROTO_ANY, pol->pol_saproto,
			    (pol->pol_flags & POL_TRANSPORT) ?
			    IPSEC_MODE_TRANSPORT : IPSEC_MODE_TUNNEL,
			    (pol->pol_flags & POL_IPCOMP) != 0,
			    (struct sockaddr *)&pol->pol_local.addr,
			    (struct sockaddr *)&pol->pol_peer.addr) == -1)
				ret = -1;
		}
	}
	return (ret);
}

int
kernel_install_flows(struct iked *env)
{
	return (kernel_flows(env, 1));
}

void
kernel_remove_flows(struct iked *env)
{
	(void)kernel_flows(env, 0);
}

/* generate-policy: the responder installs what the peer proposed. */
int
kernel_generate_flows(struct iked *env, struct iked_child *ch)
{
	struct iked_sa	*sa = ch->ch_sa;

	return (kernel_flow_pair(env, 1, (struct sockaddr *)&ch->ch_lsel,
	    ch->ch_lplen, (struct sockaddr *)&ch->ch_rsel, ch->ch_rplen,
	    ch->ch_ulproto ? ch->ch_ulproto : IPSEC_ULPROTO_ANY,
	    ch->ch_saproto, ch->ch_mode,
	    (sa->sa_pol->pol_flags & POL_IPCOMP) != 0,
	    (struct sockaddr *)&sa->sa_local,
	    (struct sockaddr *)&sa->sa_peer));
}
