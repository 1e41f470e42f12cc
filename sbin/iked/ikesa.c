/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The daemon core shared by both IKE versions: IKE SAs and their child
 * SAs, the rule that governs a peer, retransmission with backoff and the
 * cached reply for a retransmitted request, half-open admission, the
 * key exchange's halves, identities, liveness timers, and the kernel
 * events (ACQUIRE, EXPIRE, DELETE) turned into negotiations.
 *
 * The core tests no version number.  What differs between IKEv1
 * (ikev1.c) and IKEv2 (ikev2.c) it asks of the SA's protocol module,
 * struct iked_proto (iked.h), chosen when the SA is made: receive a
 * message, start phase 1 or a child, what to do when phase 1's
 * lifetime timer goes (IKEv2 rekeys it, IKEv1 renews it), send a
 * DELETE, probe the peer, and the kernel's answers.  A new exchange or
 * payload is written in one module; what both versions do alike
 * (natt.c, halfopen.c, policy.c, and this file) is written once.
 * Each state change goes through ikesa_state(), which logs it.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/tree.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include <libpfkey.h>

#include "iked.h"
#include "ikev1.h"

#define IKED_RETRANSMIT_FIRST	1	/* seconds, doubled each time */
#define IKED_RETRANSMIT_TRIES	6	/* 1+2+4+8+16+32 s */
#define IKED_CHILD_TIMEOUT	60	/* a phase 2 that does not finish */
#define IKED_REKEY_GRACE	3	/* old SAs live on after a rekey */
#define IKED_PEER_REKEY_GRACE	10	/* ... after the peer's, if it keeps them */
#define IKED_RETIRE_GRACE	2	/* our DELETE sent: its inbound SA lives on */

static void	ikesa_timeout(evutil_socket_t, short, void *);
static void	child_timeout(evutil_socket_t, short, void *);
static void	ikesa_adopt(struct iked_sa *, struct iked_sa *);
static struct iked_child *child_peer_rekeyed(struct iked_child *);

static uint64_t	child_order;	/* ch_order: which event came first */

static time_t
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec);
}

/* %%% IKE SAs */

/*
 * By SPIi (IKEv1: CKY-I), every packet finds its SA so; SAs with the
 * same SPIi (a peer's, replayed from elsewhere) by their address.
 */
static int
ikesa_spi_cmp(const struct iked_sa *a, const struct iked_sa *b)
{
	int	 r;

	if ((r = memcmp(a->sa_ispi, b->sa_ispi, 8)) != 0)
		return (r);
	return ((uintptr_t)a < (uintptr_t)b ? -1 :
	    (uintptr_t)a > (uintptr_t)b);
}

RB_GENERATE(iked_saspis, iked_sa, sa_spinode, ikesa_spi_cmp);

/*
 * By the peer's address (not its port), then in creation order: the
 * order of sc_sas, which the searches by peer keep.
 */
static int
ikesa_peer_cmp(const struct iked_sa *a, const struct iked_sa *b)
{
	int	 r;

	if ((r = sa_addrorder(&a->sa_peer.sa, &b->sa_peer.sa)) != 0)
		return (r);
	return (a->sa_order < b->sa_order ? -1 : a->sa_order > b->sa_order);
}

RB_GENERATE(iked_sapeers, iked_sa, sa_peernode, ikesa_peer_cmp);

static uint64_t	sa_order;	/* sa_order: which SA came first */

/*
 * The children by the keys the kernel's messages carry: the SPIs, the
 * outbound policy, the seq of our GETSPI and of our ADD.  Keys repeat
 * (a rekey keeps the policy; two peers may pick one SPI): ties go by
 * address, and a search walks from the leftmost node with the key.
 */
#define CHILD_INDEX(name, field, node)					\
static int								\
name##_cmp(const struct iked_child *a, const struct iked_child *b)	\
{									\
	if (a->field != b->field)					\
		return (a->field < b->field ? -1 : 1);			\
	return ((uintptr_t)a < (uintptr_t)b ? -1 :			\
	    (uintptr_t)a > (uintptr_t)b);				\
}									\
RB_GENERATE(name, iked_child, node, name##_cmp)				\
static struct iked_child *						\
name##_first(struct name *head, uint32_t key)				\
{									\
	struct iked_child	*n = RB_ROOT(head), *found = NULL;	\
									\
	while (n != NULL) {						\
		if (n->field >= key) {					\
			found = n;					\
			n = RB_LEFT(n, node);				\
		} else							\
			n = RB_RIGHT(n, node);				\
	}								\
	return (found != NULL && found->field == key ? found : NULL);	\
}									\
static struct iked_child *						\
name##_next(struct name *head, struct iked_child *ch)			\
{									\
	struct iked_child	*n = RB_NEXT(name, head, ch);		\
									\
	(void)head;							\
	return (n != NULL && n->field == ch->field ? n : NULL);		\
}

CHILD_INDEX(iked_chspiin, ch_spi_in, ch_spiinnode)
CHILD_INDEX(iked_chspiout, ch_spi_out, ch_spioutnode)
CHILD_INDEX(iked_chspid, ch_spid, ch_spidnode)
CHILD_INDEX(iked_chgetspi, ch_getspi_seq, ch_getspinode)
CHILD_INDEX(iked_chadd, ch_addseq, ch_addnode)

#define CHILD_FOREACH_KEY(ch, name, head, key)				\
	for ((ch) = name##_first((head), (key)); (ch) != NULL;		\
	    (ch) = name##_next((head), (ch)))

/* Set a child's key and move it in that key's tree. */
#define CHILD_SET(name, member, ch, field, bit, v) do {		\
	struct iked	*env_ = (ch)->ch_sa->sa_env;			\
									\
	if ((ch)->ch_indexed & (bit))					\
		RB_REMOVE(name, &env_->member, (ch));			\
	(ch)->field = (v);						\
	RB_INSERT(name, &env_->member, (ch));				\
	(ch)->ch_indexed |= (bit);					\
} while (0)

void
child_set_spi_in(struct iked_child *ch, uint32_t spi)
{
	CHILD_SET(iked_chspiin, sc_chspiin, ch, ch_spi_in, CH_IX_SPIIN,
	    spi);
}

/* The peer's SPI: its 4 bytes as on the wire. */
void
child_set_spi_out(struct iked_child *ch, const uint8_t *p)
{
	uint32_t	 spi;

	memcpy(&spi, p, sizeof(spi));
	CHILD_SET(iked_chspiout, sc_chspiout, ch, ch_spi_out, CH_IX_SPIOUT,
	    spi);
}

void
child_set_spid(struct iked_child *ch, uint32_t spid)
{
	CHILD_SET(iked_chspid, sc_chspid, ch, ch_spid, CH_IX_SPID,
	    spid);
}

void
child_set_getspi_seq(struct iked_child *ch, uint32_t seq)
{
	CHILD_SET(iked_chgetspi, sc_chgetspi, ch, ch_getspi_seq, CH_IX_GETSPI,
	    seq);
}

void
child_set_addseq(struct iked_child *ch, uint32_t seq)
{
	CHILD_SET(iked_chadd, sc_chadd, ch, ch_addseq, CH_IX_ADD,
	    seq);
}

/* Out of every tree: child_free(). */
static void
child_unindex(struct iked_child *ch)
{
	struct iked	*env = ch->ch_sa->sa_env;

	if (ch->ch_indexed & CH_IX_SPIIN)
		RB_REMOVE(iked_chspiin, &env->sc_chspiin, ch);
	if (ch->ch_indexed & CH_IX_SPIOUT)
		RB_REMOVE(iked_chspiout, &env->sc_chspiout, ch);
	if (ch->ch_indexed & CH_IX_SPID)
		RB_REMOVE(iked_chspid, &env->sc_chspid, ch);
	if (ch->ch_indexed & CH_IX_GETSPI)
		RB_REMOVE(iked_chgetspi, &env->sc_chgetspi, ch);
	if (ch->ch_indexed & CH_IX_ADD)
		RB_REMOVE(iked_chadd, &env->sc_chadd, ch);
	ch->ch_indexed = 0;
}

void
ikesa_init(struct iked *env)
{
	TAILQ_INIT(&env->sc_sas);
	TAILQ_INIT(&env->sc_initq);
	RB_INIT(&env->sc_saspis);
	RB_INIT(&env->sc_sapeers);
	RB_INIT(&env->sc_chspiin);
	RB_INIT(&env->sc_chspiout);
	RB_INIT(&env->sc_chspid);
	RB_INIT(&env->sc_chgetspi);
	RB_INIT(&env->sc_chadd);
	halfopen_init(env);
}

/* The oldest SA with peer's address. */
struct iked_sa *
ikesa_peer_first(struct iked *env, const struct sockaddr *peer)
{
	struct iked_sa	*n, *found = NULL;

	n = RB_ROOT(&env->sc_sapeers);
	while (n != NULL) {
		if (sa_addrorder(&n->sa_peer.sa, peer) >= 0) {
			found = n;
			n = RB_LEFT(n, sa_peernode);
		} else
			n = RB_RIGHT(n, sa_peernode);
	}
	if (found == NULL || sa_addrorder(&found->sa_peer.sa, peer) != 0)
		return (NULL);
	return (found);
}

struct iked_sa *
ikesa_peer_next(struct iked_sa *sa)
{
	struct iked_sa	*n;

	if ((n = RB_NEXT(iked_sapeers, &sa->sa_env->sc_sapeers, sa)) == NULL ||
	    sa_addrorder(&n->sa_peer.sa, &sa->sa_peer.sa) != 0)
		return (NULL);
	return (n);
}

/* The peer moved (NAT-T's float, its NAT's new mapping). */
void
ikesa_set_peer(struct iked_sa *sa, const struct sockaddr *peer)
{
	RB_REMOVE(iked_sapeers, &sa->sa_env->sc_sapeers, sa);
	memcpy(&sa->sa_peer, peer, sa_len(peer));
	RB_INSERT(iked_sapeers, &sa->sa_env->sc_sapeers, sa);
}

/* The first SA whose SPIi is spi, in the order of ikesa_spi_cmp. */
struct iked_sa *
ikesa_spi_first(struct iked *env, const uint8_t *spi)
{
	struct iked_sa	*n, *found = NULL;

	/* RB_NFIND by the SPI alone: the leftmost node not below it. */
	n = RB_ROOT(&env->sc_saspis);
	while (n != NULL) {
		if (memcmp(n->sa_ispi, spi, 8) >= 0) {
			found = n;
			n = RB_LEFT(n, sa_spinode);
		} else
			n = RB_RIGHT(n, sa_spinode);
	}
	if (found == NULL || memcmp(found->sa_ispi, spi, 8) != 0)
		return (NULL);
	return (found);
}

struct iked_sa *
ikesa_spi_next(struct iked_sa *sa)
{
	struct iked_sa	*n;

	if ((n = RB_NEXT(iked_saspis, &sa->sa_env->sc_saspis, sa)) == NULL ||
	    memcmp(n->sa_ispi, sa->sa_ispi, 8) != 0)
		return (NULL);
	return (n);
}

/*
 * A new IKE SA: ours (initiator) with a random SPIi, or the peer's new
 * exchange with its SPIi spi and a random SPIr of ours.  A peer's new
 * exchange has made room in its half-open budget first
 * (halfopen_reserve).
 */
struct iked_sa *
ikesa_new(struct iked *env, int version, int initiator,
    struct iked_policy *pol, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *spi)
{
	struct iked_sa	*sa;
	char		 l[128], p[128];

	if ((sa = calloc(1, sizeof(*sa))) == NULL)
		return (NULL);
	sa->sa_env = env;
	sa->sa_proto = ike_proto(version);
	sa->sa_version = version;
	sa->sa_initiator = initiator;
	sa->sa_state = SA_S_INIT;	/* ikesa_state() from here on */
	memcpy(&sa->sa_local, local, sa_len(local));
	memcpy(&sa->sa_peer, peer, sa_len(peer));
	sa->sa_cf = env->sc_config;
	config_ref(sa->sa_cf);
	sa->sa_pol = pol;
	TAILQ_INIT(&sa->sa_children);
	sa->sa_created = now();
	if (spi != NULL)
		memcpy(sa->sa_ispi, spi, 8);
	do {
		arc4random_buf(spi == NULL ? sa->sa_ispi : sa->sa_rspi, 8);
	} while (ikesa_bycookies(env, sa->sa_ispi, sa->sa_rspi) != NULL);
	snprintf(sa->sa_name, sizeof(sa->sa_name), "\"%s\" %s",
	    pol->pol_name[0] ? pol->pol_name : "-",
	    print_host(peer, p, sizeof(p)));
	(void)l;
	if ((sa->sa_timer = evtimer_new(env->sc_evbase, ikesa_timeout,
	    sa)) == NULL) {
		config_unref(sa->sa_cf);
		free(sa);
		return (NULL);
	}
	sa->sa_order = ++sa_order;
	TAILQ_INSERT_TAIL(&env->sc_sas, sa, sa_entry);
	RB_INSERT(iked_saspis, &env->sc_saspis, sa);
	RB_INSERT(iked_sapeers, &env->sc_sapeers, sa);
	ikesa_settimer(sa, IKED_HALFOPEN_TIMEOUT);
	return (sa);
}

/*
 * Our phase 1 negotiations for ACQUIREs are paced: at most
 * IKED_INIT_FLIGHT at once, the others wait in sc_initq, in order, and
 * start as those end (established or not).  32 is where a responder
 * starts asking for COOKIEs (ours 32, charon's 30): below it a burst
 * costs no extra round trip, and at 10000 peers measured no
 * retransmission and a rate as flat as at 100; 128 cost 1 s
 * retransmissions for the exchanges the peer's admission shed.  Thousands of ACQUIREs at
 * once (a gateway's restart, a burst of traffic) would otherwise flood
 * the peers with IKE_SA_INITs (and MM1s) that their own defences shed
 * or make wait (COOKIEs, half-open budgets), and each lost one costs a
 * retransmission's 1, 2, 4... s; strongSwan's charon has the same
 * bound (init_limit_half_open).
 */
static int
ikesa_init_start(struct iked_sa *sa)
{
	sa->sa_init = SA_INIT_FLIGHT;
	sa->sa_env->sc_initflight++;
	ikesa_settimer(sa, IKED_HALFOPEN_TIMEOUT);
	return (sa->sa_proto->ip_init(sa));
}

static void
ikesa_init_next(evutil_socket_t fd, short event, void *arg)
{
	struct iked	*env = arg;
	struct iked_sa	*sa;

	(void)fd;
	(void)event;
	while (env->sc_initflight < IKED_INIT_FLIGHT &&
	    (sa = TAILQ_FIRST(&env->sc_initq)) != NULL) {
		TAILQ_REMOVE(&env->sc_initq, sa, sa_initentry);
		sa->sa_init = 0;
		if (ikesa_init_start(sa) == -1)
			ikesa_dead(sa, "cannot start the negotiation");
	}
}

/* Start sa's negotiation, or queue it. */
static int
ikesa_init_begin(struct iked_sa *sa)
{
	struct iked	*env = sa->sa_env;

	if (env->sc_initflight < IKED_INIT_FLIGHT ||
	    (env->sc_initev == NULL && (env->sc_initev =
	    evtimer_new(env->sc_evbase, ikesa_init_next, env)) == NULL))
		return (ikesa_init_start(sa));
	sa->sa_init = SA_INIT_QUEUED;
	TAILQ_INSERT_TAIL(&env->sc_initq, sa, sa_initentry);
	log_debug("%s: queued: %u negotiations of ours under way",
	    sa->sa_name, env->sc_initflight);
	return (0);
}

/* sa's negotiation ends (or it goes): the next one may start. */
static void
ikesa_init_end(struct iked_sa *sa)
{
	struct iked	*env = sa->sa_env;
	struct timeval	 tv = { 0, 0 };

	if (sa->sa_init == SA_INIT_QUEUED)
		TAILQ_REMOVE(&env->sc_initq, sa, sa_initentry);
	else if (sa->sa_init == SA_INIT_FLIGHT) {
		env->sc_initflight--;
		/* From the loop: the caller may be freeing SAs. */
		if (!TAILQ_EMPTY(&env->sc_initq) && env->sc_initev != NULL)
			evtimer_add(env->sc_initev, &tv);
	}
	sa->sa_init = 0;
}

/* *dst (its old contents zeroed) becomes a copy of p; NULL if no memory. */
void
setbuf_dup(uint8_t **dst, size_t *dstlen, const void *p, size_t len)
{
	if (*dst != NULL)
		freezero(*dst, *dstlen);
	*dstlen = 0;
	if ((*dst = malloc(len ? len : 1)) == NULL)
		return;
	if (len > 0)
		memcpy(*dst, p, len);
	*dstlen = len;
}

/*
 * Our half of a phase 1 (IKE SA) key exchange, for either version: a
 * key pair of sa_group and a nonce of noncelen bytes, kept where our
 * role's are (g^xi and Ni for the initiator, g^xr and Nr for the
 * responder).  A half already made stays (IKEv2's IKE_SA_INIT sent
 * again with a COOKIE), but a new group (INVALID_KE_PAYLOAD: sa_dh
 * freed) gets a new key pair.
 */
int
ikesa_ke_mine(struct iked_sa *sa, size_t noncelen)
{
	uint8_t		**pub, **nonce, *p = NULL, n[IKESA_NONCE_MAX];
	size_t		 *publen, *noncelenp, plen = 0;

	pub = sa->sa_initiator ? &sa->sa_dhi : &sa->sa_dhr;
	publen = sa->sa_initiator ? &sa->sa_dhilen : &sa->sa_dhrlen;
	nonce = sa->sa_initiator ? &sa->sa_ni : &sa->sa_nr;
	noncelenp = sa->sa_initiator ? &sa->sa_nilen : &sa->sa_nrlen;
	if (noncelen > sizeof(n))
		return (-1);
	if (sa->sa_dh == NULL || *pub == NULL) {
		if ((sa->sa_dh == NULL &&
		    (sa->sa_dh = group_get(sa->sa_group)) == NULL) ||
		    dh_create_exchange(sa->sa_dh, &p, &plen) == -1)
			return (-1);
		setbuf_dup(pub, publen, p, plen);
		freezero(p, plen);
	}
	if (*nonce == NULL) {
		arc4random_buf(n, noncelen);
		setbuf_dup(nonce, noncelenp, n, noncelen);
		explicit_bzero(n, noncelen);
	}
	return (*pub != NULL && *nonce != NULL ? 0 : -1);
}

/*
 * The peer's half: its public value, which must be one of sa_group, and
 * its nonce (the version's parser has checked the nonce's length).
 */
int
ikesa_ke_peer(struct iked_sa *sa, const uint8_t *pub, size_t publen,
    const uint8_t *nonce, size_t noncelen)
{
	if ((sa->sa_dh == NULL &&
	    (sa->sa_dh = group_get(sa->sa_group)) == NULL) ||
	    publen != dh_getlen(sa->sa_dh))
		return (-1);
	if (sa->sa_initiator) {
		setbuf_dup(&sa->sa_dhr, &sa->sa_dhrlen, pub, publen);
		setbuf_dup(&sa->sa_nr, &sa->sa_nrlen, nonce, noncelen);
		return (sa->sa_dhr != NULL && sa->sa_nr != NULL ? 0 : -1);
	}
	setbuf_dup(&sa->sa_dhi, &sa->sa_dhilen, pub, publen);
	setbuf_dup(&sa->sa_ni, &sa->sa_nilen, nonce, noncelen);
	return (sa->sa_dhi != NULL && sa->sa_ni != NULL ? 0 : -1);
}

static void
freezero_ptr(uint8_t **p, size_t *len)
{
	if (*p != NULL)
		freezero(*p, *len);
	*p = NULL;
	*len = 0;
}

/*
 * sa, its children and its unanswered IKEv2 rekey (the lifetime rule in
 * iked.h): a loop over sc_sas keeps no next pointer across this.
 */
void
ikesa_free(struct iked_sa *sa)
{
	struct iked	*env = sa->sa_env;
	struct iked_child *ch;
	struct iked_sa	*o;

	while ((ch = TAILQ_FIRST(&sa->sa_children)) != NULL)
		child_free(ch);
	ikesa_setreq(sa, NULL);
	/* Our IKEv2 rekey of it, still unanswered, cannot finish now. */
	if (sa->sa_rekey != NULL && sa->sa_rekey->sa_state != SA_S_ESTABLISHED)
		ikesa_free(sa->sa_rekey);
	/* Only IKEv2 SAs rekey (and an IKEv1 flood frees one per MM1). */
	if (sa->sa_proto->ip_ikerekey)
		TAILQ_FOREACH(o, &env->sc_sas, sa_entry) {
			if (o->sa_rekey == sa)
				o->sa_rekey = NULL;
			if (o->sa_rekey_peer == sa)
				o->sa_rekey_peer = NULL;
		}
	halfopen_leave(sa);
	ikesa_init_end(sa);
	TAILQ_REMOVE(&env->sc_sas, sa, sa_entry);
	RB_REMOVE(iked_saspis, &env->sc_saspis, sa);
	RB_REMOVE(iked_sapeers, &env->sc_sapeers, sa);
	tx_clear(&sa->sa_tx);
	if (sa->sa_timer != NULL)
		event_free(sa->sa_timer);
	if (sa->sa_dpdtimer != NULL)
		event_free(sa->sa_dpdtimer);
	hash_free(sa->sa_prf);
	cipher_free(sa->sa_cipher);
	group_free(sa->sa_dh);
	freezero_ptr(&sa->sa_dhi, &sa->sa_dhilen);
	freezero_ptr(&sa->sa_dhr, &sa->sa_dhrlen);
	freezero_ptr(&sa->sa_ni, &sa->sa_nilen);
	freezero_ptr(&sa->sa_nr, &sa->sa_nrlen);
	freezero_ptr(&sa->sa_sai, &sa->sa_sailen);
	freezero_ptr(&sa->sa_idi, &sa->sa_idilen);
	freezero_ptr(&sa->sa_idr, &sa->sa_idrlen);
	if (sa->sa_keyed)
		kdf_v1keys_free(&sa->sa_keys);
	/* IKEv2 */
	tx_clear(&sa->sa_rtx);
	hash_free(sa->sa_integ);
	cipher_free(sa->sa_cipher_in);
	if (sa->sa_k2set)
		kdf_sakeys_free(&sa->sa_k2);
	freezero_ptr(&sa->sa_msg1, &sa->sa_msg1len);
	freezero_ptr(&sa->sa_msg2, &sa->sa_msg2len);
	freezero_ptr(&sa->sa_cookie, &sa->sa_cookielen);
	freezero_ptr(&sa->sa_idr2, &sa->sa_idr2len);
	/* A signature or verdict still to come goes nowhere. */
	auth_cancel(env, sa);
	freezero_ptr(&sa->sa_mysig, &sa->sa_mysiglen);
	ikemsg_held_free(sa->sa_held);
	if (sa->sa_frag != NULL) {
		ikemsg_frag_clear(sa->sa_frag);
		free(sa->sa_frag);
	}
	config_unref(sa->sa_cf);
	freezero(sa, sizeof(*sa));
}

/*
 * Keep m, received as raw (rawlen bytes) and decrypted into *plain
 * (taken: *plain is NULL after), for when its IKE SA can go on.  NULL
 * if out of memory (*plain is left to the caller).  Without a
 * plaintext (IKEv1 decrypts again) only the outer payloads are kept.
 */
struct ikemsg_held *
ikemsg_hold(const struct ikemsg *m, const uint8_t *raw, size_t rawlen,
    uint8_t **plain, size_t *plainlen)
{
	struct ikemsg_held	*h;
	const uint8_t		*p;
	u_int			 i;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->h_raw = malloc(rawlen > 0 ? rawlen : 1)) == NULL) {
		free(h);
		return (NULL);
	}
	memcpy(h->h_raw, raw, rawlen);
	h->h_rawlen = rawlen;
	h->h_plain = *plain;
	h->h_plainlen = *plainlen;
	*plain = NULL;
	*plainlen = 0;
	h->h_msg = *m;
	if (m->msg_buf >= raw && m->msg_buf <= raw + rawlen)
		h->h_msg.msg_buf = h->h_raw + (m->msg_buf - raw);
	for (i = 0; i < m->msg_npld && i < IKEMSG_PLD_MAX; i++) {
		/* Without its plaintext, the message ends before it. */
		if (h->h_plain == NULL && m->msg_pld[i].pld_inner) {
			h->h_msg.msg_npld = i;
			break;
		}
		p = m->msg_pld[i].pld_buf;
		/* Outer payloads are in raw; the inner ones in plain. */
		if (p >= raw && p < raw + rawlen)
			h->h_msg.msg_pld[i].pld_buf = h->h_raw + (p - raw);
	}
	return (h);
}

void
ikemsg_held_free(struct ikemsg_held *h)
{
	if (h == NULL)
		return;
	freezero(h->h_raw, h->h_rawlen);
	if (h->h_plain != NULL)
		freezero(h->h_plain, h->h_plainlen);
	free(h);
}

/*
 * The end of a phase 1: logged with the reason; children still
 * negotiating fail (the kernel may acquire again).  Installed SAs stay
 * in the kernel: IKEv1 phase 2 SAs outlive their phase 1.
 */
void
ikesa_dead(struct iked_sa *sa, const char *reason)
{
	struct iked_child	*ch, *next;
	struct iked_sa		*o;

	if (reason != NULL)
		log_info("%s: %s %s", sa->sa_name, sa->sa_proto->ip_saname,
		    reason);
	if (sa->sa_proto->ip_children_die) {
		/* IKEv2 children close with their IKE SA (RFC 7296 1.4.1). */
		TAILQ_FOREACH(ch, &sa->sa_children, ch_entry)
			if (ch->ch_state == CH_S_INSTALLED)
				kernel_delete(sa->sa_env, ch);
		for (ch = TAILQ_FIRST(&sa->sa_children); ch != NULL;
		    ch = next) {
			next = TAILQ_NEXT(ch, ch_entry);
			if (ch->ch_state == CH_S_INSTALLED)
				child_free(ch);
		}
	}
	for (ch = TAILQ_FIRST(&sa->sa_children); ch != NULL; ch = next) {
		next = TAILQ_NEXT(ch, ch_entry);
		if (ch->ch_state == CH_S_INSTALLED)
			continue;
		if (ch->ch_initiator && !ch->ch_rekeying)
			kernel_acquire_fail(sa->sa_env, ch->ch_acqseq,
			    ETIMEDOUT);
		if (ch->ch_state == CH_S_SENT || ch->ch_state == CH_S_GETSPI)
			kernel_delete(sa->sa_env, ch);	/* the larval SA */
		child_free(ch);
	}
	if (!TAILQ_EMPTY(&sa->sa_children) && sa->sa_state ==
	    SA_S_ESTABLISHED && (o = ikesa_successor(sa)) != NULL) {
		/* IKEv1: a renewed phase 1 takes the pairs. */
		ikesa_adopt(sa, o);
	} else if (!TAILQ_EMPTY(&sa->sa_children)) {
		/* Keep it for DELETE notifies and rekeys, without timers. */
		if (sa->sa_state != SA_S_ESTABLISHED) {
			while ((ch = TAILQ_FIRST(&sa->sa_children)) != NULL)
				child_free(ch);
		} else {
			ikesa_state(sa, SA_S_DEAD);
			tx_clear(&sa->sa_tx);
			evtimer_del(sa->sa_timer);
			if (sa->sa_dpdtimer != NULL)
				evtimer_del(sa->sa_dpdtimer);
			return;
		}
	}
	ikesa_free(sa);
}

/*
 * Liveness: IKEv1's DPD (RFC 3706) and IKEv2's liveness checks (RFC
 * 7296 2.4) run on one timer per SA, every dpd_interval seconds while
 * the peer answers; the version's module sends the probe, counts what
 * goes unanswered and ends a dead peer (ikesa_dead_peer()).
 */
static void
ikesa_liveness_timer(evutil_socket_t fd, short event, void *arg)
{
	struct iked_sa	*sa = arg;

	(void)fd;
	(void)event;
	if (sa->sa_state == SA_S_ESTABLISHED)
		sa->sa_proto->ip_liveness(sa);
}

/* Checks start on an established SA, if the configuration asks. */
void
ikesa_liveness_start(struct iked_sa *sa)
{
	if (sa->sa_cf->cfg_dpd_interval == 0 || sa->sa_dpdtimer != NULL)
		return;
	if ((sa->sa_dpdtimer = evtimer_new(sa->sa_env->sc_evbase,
	    ikesa_liveness_timer, sa)) != NULL)
		ikesa_liveness_next(sa, 0);
}

/* The next check in secs seconds (0: dpd_interval), if checks run. */
void
ikesa_liveness_next(struct iked_sa *sa, u_int secs)
{
	struct timeval	 tv;

	if (sa->sa_dpdtimer == NULL || sa->sa_cf->cfg_dpd_interval == 0)
		return;
	tv.tv_sec = secs ? secs : sa->sa_cf->cfg_dpd_interval;
	tv.tv_usec = 0;
	evtimer_add(sa->sa_dpdtimer, &tv);
}

void
ikesa_settimer(struct iked_sa *sa, u_int secs)
{
	struct timeval	 tv = { secs, 0 };

	evtimer_add(sa->sa_timer, &tv);
}

static void
ikesa_timeout(evutil_socket_t fd, short event, void *arg)
{
	struct iked_sa	*sa = arg;

	(void)fd;
	(void)event;
	if (sa->sa_state == SA_S_ESTABLISHED && sa->sa_proto->ip_soft(sa) == 0) {
		/* Rekeyed or being renewed: it lives on for a while. */
	} else if (sa->sa_state == SA_S_ESTABLISHED) {
		ikesa_send_delete(sa, NULL);
		/* A rekeyed SA, or the redundant one of a collision. */
		ikesa_dead(sa, sa->sa_rekeyed ? "replaced, closed" :
		    "lifetime expired");
	} else if (sa->sa_state == SA_S_DEAD)
		ikesa_free(sa);
	else if (sa->sa_ho == HO_NEW && halfopen_quiet(sa->sa_env)) {
		/* Under a flood: counted, not logged one by one. */
		sa->sa_env->sc_stats.st_halfopen_expired++;
		log_debug("%s: half-open, timed out", sa->sa_name);
		ikesa_free(sa);
	} else {
		if (sa->sa_ho != 0)
			sa->sa_env->sc_stats.st_halfopen_expired++;
		ikesa_dead(sa, "negotiation timed out");
	}
}

struct iked_sa *
ikesa_bycookies(struct iked *env, const uint8_t *ispi, const uint8_t *rspi)
{
	static const uint8_t	 zero[8];
	struct iked_sa		*sa, *mm1 = NULL;

	IKESA_FOREACH_SPI(sa, env, ispi) {
		if (memcmp(sa->sa_rspi, rspi, 8) == 0)
			return (sa);
		/* MM2: the initiator learns the responder's cookie. */
		if (mm1 == NULL && sa->sa_initiator &&
		    sa->sa_state == SA_S_MM1 &&
		    memcmp(sa->sa_rspi, zero, 8) == 0 &&
		    memcmp(rspi, zero, 8) != 0)
			mm1 = sa;
	}
	return (mm1);
}

/*
 * A usable phase 1 with peer: established first, else one negotiating.
 * For an "ike" rule one of either version: a peer that negotiated IKEv1
 * with us gets Quick Mode on it, not an IKE_SA_INIT it may not speak.
 */
struct iked_sa *
ikesa_bypeer(struct iked *env, const struct sockaddr *peer,
    struct iked_policy *pol)
{
	struct iked_sa	*sa, *found = NULL;

	IKESA_FOREACH_PEER(sa, env, peer) {
		if (sa->sa_state == SA_S_DEAD || sa->sa_rekeyed)
			continue;
		/* After a reload, new negotiations follow the new rules. */
		if (pol != NULL && sa->sa_cf != env->sc_config)
			continue;
		if (pol != NULL && sa->sa_pol != pol &&
		    strcmp(sa->sa_pol->pol_name, pol->pol_name) != 0)
			continue;
		if (pol != NULL && pol->pol_version != 0 &&
		    sa->sa_version != pol->pol_version)
			continue;
		if (sa->sa_state == SA_S_ESTABLISHED)
			return (sa);
		if (found == NULL)
			found = sa;
	}
	return (found);
}

/* Move children from a dying phase 1 to the one replacing it. */
static void
ikesa_adopt(struct iked_sa *from, struct iked_sa *to)
{
	struct iked_child	*ch;

	while ((ch = TAILQ_FIRST(&from->sa_children)) != NULL)
		child_move(ch, to);
}

/* The installed pairs of from go to to; Quick Modes finish on from. */
static void
ikesa_adopt_installed(struct iked_sa *from, struct iked_sa *to)
{
	struct iked_child	*ch, *next;

	for (ch = TAILQ_FIRST(&from->sa_children); ch != NULL; ch = next) {
		next = TAILQ_NEXT(ch, ch_entry);
		if (ch->ch_state == CH_S_INSTALLED)
			child_move(ch, to);
	}
}

/*
 * IKEv1: an established phase 1 of the same rule with sa's peer, other
 * than sa and not itself replaced: where sa's pairs go.
 */
struct iked_sa *
ikesa_successor(struct iked_sa *sa)
{
	struct iked_sa	*o;

	IKESA_FOREACH_PEER(o, sa->sa_env, &sa->sa_peer.sa)
		if (o != sa && o->sa_proto == sa->sa_proto &&
		    o->sa_state == SA_S_ESTABLISHED && !o->sa_rekeyed &&
		    sa_cmpaddr(&o->sa_peer.sa, &sa->sa_peer.sa) == 0 &&
		    strcmp(o->sa_pol->pol_name, sa->sa_pol->pol_name) == 0)
			return (o);
	return (NULL);
}

/* %%% Children */

struct iked_child *
child_new(struct iked_sa *sa, int initiator)
{
	struct iked_child	*ch;

	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return (NULL);
	ch->ch_sa = sa;
	ch->ch_initiator = initiator;
	ch->ch_saproto = IPPROTO_ESP;
	ch->ch_created = now();
	ch->ch_order = ++child_order;
	TAILQ_INSERT_TAIL(&sa->sa_children, ch, ch_entry);
	if (child_settimer(ch, IKED_CHILD_TIMEOUT) == -1) {
		child_free(ch);
		return (NULL);
	}
	return (ch);
}

/*
 * ch and what it owns, its timer and its retransmission; whoever still
 * points at it forgets it (the lifetime rule in iked.h): the request
 * that carries it, the pairs that were to replace it.  They may sit on
 * another IKE SA than ch since children move (child_move()).
 */
void
child_free(struct iked_child *ch)
{
	struct iked_sa		*sa = ch->ch_sa, *o;
	struct iked_child	*c, *old = ch->ch_old;

	if (sa->sa_proto->ip_child_gone != NULL)
		sa->sa_proto->ip_child_gone(ch);
	TAILQ_REMOVE(&sa->sa_children, ch, ch_entry);
	child_unindex(ch);
	if (ch->ch_reqsa != NULL)
		ikesa_setreq(ch->ch_reqsa, NULL);
	child_setold(ch, NULL);
	/*
	 * A rekey that failed: the old pair may be rekeyed again (its next
	 * soft expiry, a peer's rekey), unless another rekey of it runs.
	 */
	if (old != NULL && ch->ch_state != CH_S_INSTALLED &&
	    old->ch_nnew == 0 && old->ch_rekeying == 2)
		old->ch_rekeying = 0;
	/* Rare: a pair that goes while its replacement is negotiated. */
	if (ch->ch_nnew > 0)
		TAILQ_FOREACH(o, &sa->sa_env->sc_sas, sa_entry)
			TAILQ_FOREACH(c, &o->sa_children, ch_entry)
				if (c->ch_old == ch)
					child_setold(c, NULL);
	tx_clear(&ch->ch_tx);
	if (ch->ch_timer != NULL)
		event_free(ch->ch_timer);
	group_free(ch->ch_dh);
	freezero_ptr(&ch->ch_ni, &ch->ch_nilen);
	freezero_ptr(&ch->ch_nr, &ch->ch_nrlen);
	freezero_ptr(&ch->ch_dhpeer, &ch->ch_dhpeerlen);
	freezero_ptr(&ch->ch_dhpub, &ch->ch_dhpublen);
	freezero_ptr(&ch->ch_sabody, &ch->ch_sabodylen);
	freezero_ptr(&ch->ch_resp, &ch->ch_resplen);
	freezero(ch, sizeof(*ch));
	if (sa->sa_state == SA_S_DEAD && TAILQ_EMPTY(&sa->sa_children))
		ikesa_settimer(sa, 0);		/* free it from the loop */
}

/* ch replaces old (NULL: nothing); old counts who replace it. */
void
child_setold(struct iked_child *ch, struct iked_child *old)
{
	if (ch->ch_old != NULL)
		ch->ch_old->ch_nnew--;
	if ((ch->ch_old = old) != NULL)
		old->ch_nnew++;
}

/* sa's outstanding IKEv2 request carries ch (NULL: no child). */
void
ikesa_setreq(struct iked_sa *sa, struct iked_child *ch)
{
	if (sa->sa_reqch != NULL)
		sa->sa_reqch->ch_reqsa = NULL;
	if ((sa->sa_reqch = ch) != NULL) {
		if (ch->ch_reqsa != NULL && ch->ch_reqsa != sa)
			ch->ch_reqsa->sa_reqch = NULL;
		ch->ch_reqsa = sa;
	}
}

/*
 * ch goes over to the IKE SA to (a rekey, or a new phase 1 with the same
 * peer): its list, its owner and the endpoints its retransmission uses
 * move together.  A DEAD IKE SA left empty is freed from the loop.
 */
void
child_move(struct iked_child *ch, struct iked_sa *to)
{
	struct iked_sa	*from = ch->ch_sa;

	TAILQ_REMOVE(&from->sa_children, ch, ch_entry);
	ch->ch_sa = to;
	if (ch->ch_tx.tx_sa != NULL)
		ch->ch_tx.tx_sa = to;
	TAILQ_INSERT_TAIL(&to->sa_children, ch, ch_entry);
	if (from->sa_state == SA_S_DEAD && TAILQ_EMPTY(&from->sa_children))
		ikesa_settimer(from, 0);
}

/* The IKE SA whose outstanding request (IKEv2) carries ch, or NULL. */
static struct iked_sa *
child_reqsa(struct iked_child *ch)
{
	if (ch->ch_reqsa != NULL && ch->ch_reqsa->sa_busy)
		return (ch->ch_reqsa);
	return (NULL);
}

/*
 * "set maxchildren": may sa take one more child, ch (already on it, or
 * NULL: one we are about to start)?  A rekey always may: it replaces a
 * pair (IKEv2: ch_old; IKEv1: the peer's new Quick Mode for a policy
 * with an installed pair).  Retiring pairs and rekeys under way do not
 * count.  A refusal is logged and counted; who says whose it was.
 */
int
ikesa_child_room(struct iked_sa *sa, struct iked_child *ch, const char *who)
{
	struct iked_child	*o;
	u_int			 n = 0, max = sa->sa_cf->cfg_maxchildren;

	if (ch != NULL && (ch->ch_old != NULL || ch->ch_rekeying ||
	    child_peer_rekeyed(ch) != NULL))
		return (1);
	TAILQ_FOREACH(o, &sa->sa_children, ch_entry)
		if (o != ch && !o->ch_retiring && o->ch_old == NULL &&
		    o->ch_rekeying != 1)
			n++;
	if (n < max)
		return (1);
	sa->sa_env->sc_stats.st_children_refused++;
	log_warnx("%s: %s refused: %u child SAs on this IKE SA already "
	    "(set maxchildren %u)", sa->sa_name, who, n, max);
	return (0);
}

/* The timer is made when needed: an installed pair has none. */
int
child_settimer(struct iked_child *ch, u_int secs)
{
	struct timeval	 tv = { secs, 0 };

	if (ch->ch_timer == NULL && (ch->ch_timer =
	    evtimer_new(ch->ch_sa->sa_env->sc_evbase, child_timeout, ch)) ==
	    NULL) {
		log_warn("%s: evtimer_new", __func__);
		return (-1);
	}
	evtimer_add(ch->ch_timer, &tv);
	return (0);
}

/*
 * Once installed, a pair keeps only what rekeys, deletes and expires
 * need (the nonces too: they settle simultaneous rekeys, RFC 7296
 * 2.8.1): the DH state and SA payload of its negotiation go, and so
 * does its timer.  (Memory per SA is a benchmark goal.)
 */
static void
child_trim(struct iked_child *ch)
{
	if (ch->ch_timer != NULL) {
		event_free(ch->ch_timer);
		ch->ch_timer = NULL;
	}
	group_free(ch->ch_dh);
	ch->ch_dh = NULL;
	freezero_ptr(&ch->ch_dhpeer, &ch->ch_dhpeerlen);
	freezero_ptr(&ch->ch_dhpub, &ch->ch_dhpublen);
	freezero_ptr(&ch->ch_sabody, &ch->ch_sabodylen);
}

static void
child_timeout(evutil_socket_t fd, short event, void *arg)
{
	struct iked_child	*ch = arg;
	struct iked_sa		*sa = ch->ch_sa;
	struct iked_child	*old;

	(void)fd;
	(void)event;
	if (ch->ch_retiring) {
		/* The peer had its time to stop using our inbound SA. */
		if (ch->ch_delwait && sa->sa_state == SA_S_ESTABLISHED)
			ikesa_send_delete(sa, ch);	/* no reply came */
		kernel_delete(sa->sa_env, ch);
		child_free(ch);
		return;
	}
	if (ch->ch_state == CH_S_INSTALLED) {
		/* The grace period of a rekeyed pair is over. */
		if ((old = ch->ch_old) != NULL) {
			child_setold(ch, NULL);
			/* The peer's rekey, but ours of the pair runs: its job. */
			if (!ch->ch_rekeying && old->ch_rekeying)
				return;
			log_info("%s: rekeyed, deleting old SAs 0x%08x/0x%08x",
			    sa->sa_name, ntohl(old->ch_spi_in),
			    ntohl(old->ch_spi_out));
			/*
			 * Our side stops sending on the old pair now, and
			 * tells the peer once the kernel has deleted the
			 * outbound SA (ikesa_delete_done()): a packet still
			 * sent on it then reaches the peer before our DELETE
			 * does, while its inbound SA is in.  What the peer
			 * sent on it before our DELETE reached it may still
			 * arrive: the inbound SA goes when the peer deletes
			 * its side, or IKED_RETIRE_GRACE later.
			 */
			old->ch_retiring = 1;
			old->ch_delwait = 1;
			kernel_delete_dir(sa->sa_env, old, KERNEL_SA_OUT);
			child_settimer(old, IKED_RETIRE_GRACE);
		}
		return;
	}
	if (child_reqsa(ch) != NULL) {
		/*
		 * IKEv2: the IKE SA's request for it is still retransmitted
		 * (up to 63 s).  Its answer or its give-up decides; should
		 * the request end without it (the IKE SA went), we look
		 * again a timeout later.
		 */
		child_settimer(ch, IKED_CHILD_TIMEOUT);
		return;
	}
	log_info("%s: %s (msgid 0x%08x) timed out", sa->sa_name,
	    sa->sa_proto->ip_chname, ch->ch_msgid);
	if (ch->ch_initiator && !ch->ch_rekeying)
		kernel_acquire_fail(sa->sa_env, ch->ch_acqseq, ETIMEDOUT);
	if (sa->sa_proto->ip_child_abandoned != NULL)
		sa->sa_proto->ip_child_abandoned(ch);
	kernel_delete(sa->sa_env, ch);
	child_free(ch);
}

struct iked_child *
child_bymsgid(struct iked_sa *sa, uint32_t msgid)
{
	struct iked_child	*ch;

	TAILQ_FOREACH(ch, &sa->sa_children, ch_entry)
		if (ch->ch_msgid == msgid)
			return (ch);
	return (NULL);
}

/*
 * A negotiation (or established pair) for the outbound policy spid: of
 * several (a rekey and the pair it replaces), the first made.
 */
struct iked_child *
child_byspid(struct iked *env, uint32_t spid)
{
	struct iked_child	*ch, *found = NULL;

	if (spid == 0)
		return (NULL);
	CHILD_FOREACH_KEY(ch, iked_chspid, &env->sc_chspid, spid)
		if (!ch->ch_rekeying &&
		    (found == NULL || ch->ch_order < found->ch_order))
			found = ch;
	return (found);
}

/* The child with SPI spi; *out tells which of its SAs. */
struct iked_child *
child_byspi(struct iked *env, uint32_t spi, int *out)
{
	struct iked_child	*ch;

	CHILD_FOREACH_KEY(ch, iked_chspiin, &env->sc_chspiin, spi) {
		*out = 0;
		return (ch);
	}
	CHILD_FOREACH_KEY(ch, iked_chspiout, &env->sc_chspiout, spi)
		if (ch->ch_state == CH_S_INSTALLED) {
			*out = 1;
			return (ch);
		}
	return (NULL);
}

struct iked_child *
child_byaddseq(struct iked *env, uint32_t seq)
{
	struct iked_child	*ch;

	CHILD_FOREACH_KEY(ch, iked_chadd, &env->sc_chadd, seq)
		if (ch->ch_addpending)
			return (ch);
	return (NULL);
}

struct iked_child *
child_bygetspi(struct iked *env, uint32_t seq)
{
	struct iked_child	*ch;

	CHILD_FOREACH_KEY(ch, iked_chgetspi, &env->sc_chgetspi, seq)
		if (ch->ch_state == CH_S_GETSPI)
			return (ch);
	return (NULL);
}

/* %%% Messages out: retransmission, and the reply cache */

/* Put tx's message on the wire: one datagram, or its fragments. */
void
tx_output(struct iked *env, struct iked_tx *tx)
{
	struct iked_sa	*sa = tx->tx_sa;
	size_t		 off = 0;
	u_int		 i;

	if (tx->tx_buf == NULL || sa == NULL)
		return;
	if (tx->tx_nfrags == 0) {
		(void)net_send(env, (struct sockaddr *)&sa->sa_local,
		    (struct sockaddr *)&sa->sa_peer, tx->tx_buf, tx->tx_len);
		return;
	}
	for (i = 0; i < tx->tx_nfrags && off < tx->tx_len; i++) {
		(void)net_send(env, (struct sockaddr *)&sa->sa_local,
		    (struct sockaddr *)&sa->sa_peer, tx->tx_buf + off,
		    tx->tx_frags[i]);
		off += tx->tx_frags[i];
	}
}

static void
tx_timeout(evutil_socket_t fd, short event, void *arg)
{
	struct iked_tx	*tx = arg;
	struct iked_sa	*sa = tx->tx_sa;
	struct timeval	 tv;

	(void)fd;
	(void)event;
	if (++tx->tx_tries >= IKED_RETRANSMIT_TRIES) {
		if (tx->tx_giveup != NULL)
			tx->tx_giveup(tx->tx_arg);
		return;
	}
	sa->sa_env->sc_stats.st_retransmits++;
	log_debug("%s: retransmit %u", sa->sa_name, tx->tx_tries);
	tx_output(sa->sa_env, tx);
	tv.tv_sec = IKED_RETRANSMIT_FIRST << tx->tx_tries;
	tv.tv_usec = 0;
	evtimer_add(tx->tx_ev, &tv);
}

/*
 * Send buf (taken over) from sa's endpoints and keep it: with
 * retransmit, resent until tx_clear() or giveup; else only in answer to
 * a retransmitted request.
 */
int
tx_send(struct iked *env, struct iked_tx *tx, struct iked_sa *sa,
    uint8_t *buf, size_t len, int retransmit, void (*giveup)(void *),
    void *arg)
{
	struct timeval	 tv = { IKED_RETRANSMIT_FIRST, 0 };

	if (tx->tx_buf != NULL)
		freezero(tx->tx_buf, tx->tx_len);
	if (tx->tx_ev != NULL)
		evtimer_del(tx->tx_ev);
	tx->tx_buf = buf;
	tx->tx_len = len;
	tx->tx_tries = 0;
	tx->tx_sa = sa;
	tx->tx_giveup = giveup;
	tx->tx_arg = arg;
	if (tx->tx_nfrags > 0)
		tx_output(env, tx);
	else if (net_send(env, (struct sockaddr *)&sa->sa_local,
	    (struct sockaddr *)&sa->sa_peer, buf, len) == -1)
		log_debug("%s: send failed, will retry", sa->sa_name);
	if (!retransmit)
		return (0);
	if (tx->tx_ev == NULL && (tx->tx_ev = evtimer_new(env->sc_evbase,
	    tx_timeout, tx)) == NULL)
		return (-1);
	evtimer_add(tx->tx_ev, &tv);
	return (0);
}

void
tx_clear(struct iked_tx *tx)
{
	if (tx->tx_ev != NULL)
		event_free(tx->tx_ev);
	if (tx->tx_buf != NULL)
		freezero(tx->tx_buf, tx->tx_len);
	free(tx->tx_rx);
	free(tx->tx_frags);
	memset(tx, 0, sizeof(*tx));
}

/* Stop retransmitting (the answer came), keeping the message cached. */
static void
tx_stop(struct iked_tx *tx)
{
	if (tx->tx_ev != NULL) {
		event_free(tx->tx_ev);
		tx->tx_ev = NULL;
	}
}

/* A request is remembered by its length and SHA-256, not kept whole. */
static int
tx_digest(const uint8_t *buf, size_t len, uint8_t *md)
{
	return (EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL) ? 0 : -1);
}

/* Remember the request tx answers, to recognise its retransmissions. */
void
tx_setrx(struct iked_tx *tx, const uint8_t *buf, size_t len)
{
	tx_stop(tx);
	free(tx->tx_rx);
	tx->tx_rx = NULL;
	tx->tx_rxlen = 0;
	if ((tx->tx_rx = malloc(TX_RXDIGEST)) != NULL) {
		if (tx_digest(buf, len, tx->tx_rx) == -1) {
			free(tx->tx_rx);
			tx->tx_rx = NULL;
		} else
			tx->tx_rxlen = len;
	}
}

/* 1 if buf is the request last answered: the answer is sent again. */
int
tx_isretransmit(struct iked *env, struct iked_tx *tx, const uint8_t *buf,
    size_t len)
{
	struct iked_sa	*sa = tx->tx_sa;
	uint8_t		 md[TX_RXDIGEST];

	if (tx->tx_rx == NULL || tx->tx_rxlen != len ||
	    tx_digest(buf, len, md) == -1 ||
	    memcmp(tx->tx_rx, md, sizeof(md)) != 0)
		return (0);
	if (tx->tx_buf != NULL && sa != NULL) {
		env->sc_stats.st_retransmits++;
		tx_output(env, tx);
	}
	return (1);
}

/* %%% Messages in */

const struct iked_proto *
ike_proto(int version)
{
	return (version == 2 ? &ikev2_proto : &ikev1_proto);
}

void
ikesa_recv(struct iked *env, int natt, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *buf, size_t len)
{
	struct ikemsg		 m;
	char			 p[128];
	int			 error;

	error = ikemsg_parse(&m, buf, len, natt ? IKEMSG_F_NATT : 0,
	    &env->sc_stats.st_msg);
	if (error == IKEMSG_ENOTIKE)
		return;			/* keepalive, or ESP nobody took */
	if (error != IKEMSG_OK) {
		env->sc_stats.st_dropped++;
		log_debug("%s: dropped: %s", print_host(peer, p, sizeof(p)),
		    ikemsg_strerror(error));
		return;
	}
	ike_proto(m.msg_version)->ip_recv(env, &m, local, peer, natt);
}

/*
 * The rule for a new exchange that peer opened with us (what: its
 * first message), or NULL: no rule of that version matches, and the
 * message is dropped and counted (logged for the 1st, 2nd, 4th, ...).
 */
struct iked_policy *
ikesa_rule(struct iked *env, int version, const struct sockaddr *local,
    const struct sockaddr *peer, const char *what)
{
	struct iked_policy	*pol;
	uint64_t		 n;
	char			 p[128];

	if ((pol = policy_match(env->sc_config, version, local, peer, 0)) !=
	    NULL)
		return (pol);
	n = ++env->sc_stats.st_dropped;
	if ((n & (n - 1)) == 0)
		log_info("%s: %s from a peer no ikev%d rule matches, dropped "
		    "(%llu dropped so far)", print_host(peer, p, sizeof(p)),
		    what, version, (unsigned long long)n);
	return (NULL);
}

/*
 * A responder's SA of version for a new exchange (spi: the peer's
 * SPIi) under pol, if that version's half-open budget admits it
 * (halfopen.c; proven: the peer returned our COOKIE).  NULL: not now,
 * counted, and a flood logged for the 1st, 2nd, 4th, ... refusal.
 */
struct iked_sa *
ikesa_responder(struct iked *env, int version, struct iked_policy *pol,
    const struct sockaddr *local, const struct sockaddr *peer,
    const uint8_t *spi, int proven, const char *what)
{
	struct iked_sa	*sa;
	uint64_t	 n;
	char		 p[128];
	int		 r;

	/* Busy: answered now, or when it comes again. */
	if ((r = halfopen_reserve(env, version, peer, proven ? NULL : spi)) ==
	    1)
		return (NULL);
	if (r == -1 || (sa = ikesa_new(env, version, 0, pol, local, peer,
	    spi)) == NULL) {
		n = env->sc_stats.st_halfopen_refused;
		if ((n & (n - 1)) == 0)
			log_warnx("%s: too many half-open SAs, %s dropped "
			    "(%llu so far)", print_host(peer, p, sizeof(p)),
			    what, (unsigned long long)n);
		return (NULL);
	}
	if (halfopen_enter(sa, proven ? HO_PROVEN : HO_NEW) == -1) {
		ikesa_free(sa);
		return (NULL);
	}
	return (sa);
}

/* %%% Version-independent entry points */

void
ikesa_send_delete(struct iked_sa *sa, struct iked_child *ch)
{
	sa->sa_proto->ip_send_delete(sa, ch);
}

/* Negotiate a child on its established IKE SA. */
int
ikesa_start_child(struct iked_child *ch)
{
	return (ch->ch_sa->sa_proto->ip_start_child(ch));
}

/*
 * Phase 1 (IKE SA) states: each change goes through here, and the
 * debug log shows it (OpenBSD iked's sa_state()).
 */
static const char *const ikesa_statenames[] = {
	[SA_S_INIT] = "init",
	[SA_S_MM1] = "mm1-sent",
	[SA_S_MM3] = "mm3-sent",
	[SA_S_MM5] = "mm5-sent",
	[SA_S_MM2] = "mm2-sent",
	[SA_S_MM4] = "mm4-sent",
	[SA_S_V2_INIT] = "sa-init-sent",
	[SA_S_V2_AUTH] = "auth",
	[SA_S_V2_RINIT] = "sa-init-answered",
	[SA_S_ESTABLISHED] = "established",
	[SA_S_DEAD] = "dead"
};

const char *
ikesa_statename(enum iked_sastate state)
{
	if ((size_t)state >= sizeof(ikesa_statenames) /
	    sizeof(ikesa_statenames[0]) || ikesa_statenames[state] == NULL)
		return ("?");
	return (ikesa_statenames[state]);
}

void
ikesa_state(struct iked_sa *sa, enum iked_sastate state)
{
	if (sa->sa_state == state)
		return;
	log_debug("%s: %s: %s -> %s", sa->sa_name, sa->sa_proto->ip_saname,
	    ikesa_statename(sa->sa_state), ikesa_statename(state));
	sa->sa_state = state;
}

/* %%% Kernel events */

/*
 * SADB_ACQUIRE (racoon's pk_recvacquire): the outbound policy, the peer
 * (tunnel endpoint, or the packet's destination in transport mode), the
 * rule, then Quick Mode on an established phase 1 with that peer, or
 * Main Mode first.
 */
void
ikesa_acquire(struct iked *env, uint32_t seq, struct iked_spd *spd,
    const struct sockaddr *src, const struct sockaddr *dst)
{
	struct sockaddr_storage	 local, peer;
	struct iked_policy	*pol;
	struct iked_sa		*sa;
	struct iked_child	*ch;
	char			 ps[128];

	if (spd->spd_dir != IPSEC_DIR_OUTBOUND ||
	    spd->spd_type != IPSEC_POLICY_IPSEC)
		return;
	if ((ch = child_byspid(env, spd->spd_id)) != NULL) {
		if (ch->ch_state != CH_S_INSTALLED) {
			log_debug("acquire seq %u: policy %u is being "
			    "negotiated", seq, spd->spd_id);
			return;
		}
		if (ch->ch_addpending) {
			/* Sent before our ADD reached the kernel. */
			log_debug("acquire seq %u: raced the ADD of policy "
			    "%u's SA, ignored", seq, spd->spd_id);
			/* Lift the kernel's throttle: no SA came for it. */
			kernel_acquire_fail(env, seq, EEXIST);
			return;
		}
		/* Installed, yet the kernel asks: its SAs are gone. */
		log_info("%s: acquire for a policy whose SAs are gone, "
		    "negotiating again", ch->ch_sa->sa_name);
		child_free(ch);
	}
	if (spd->spd_mode == IPSEC_MODE_TUNNEL &&
	    spd->spd_tdst.ss_family != AF_UNSPEC) {
		local = spd->spd_tsrc;
		peer = spd->spd_tdst;
	} else {
		memcpy(&local, src, sa_len(src));
		memcpy(&peer, dst, sa_len(dst));
	}
	sa_setport((struct sockaddr *)&local, env->sc_port);
	sa_setport((struct sockaddr *)&peer, env->sc_port);
	print_host((struct sockaddr *)&peer, ps, sizeof(ps));

	/* The rule: OpenBSD's last match (or first quick), flows too. */
	pol = policy_acquire(env->sc_config, spd, (struct sockaddr *)&local,
	    (struct sockaddr *)&peer);
	if (pol == NULL) {
		log_warnx("acquire seq %u (policy %u): no active rule for "
		    "peer %s", seq, spd->spd_id, ps);
		kernel_acquire_fail(env, seq, ENOENT);
		return;
	}
	log_info("acquire seq %u: policy %u, peer %s, rule \"%s\"", seq,
	    spd->spd_id, ps, pol->pol_name);

	/*
	 * An "ike" rule initiates IKEv2.  A phase 1 that exists may be of
	 * either version; the child follows sa_version (ikesa_start_child).
	 */
	if ((sa = ikesa_bypeer(env, (struct sockaddr *)&peer, pol)) == NULL) {
		if ((sa = ikesa_new(env, pol->pol_version == 1 ? 1 : 2, 1,
		    pol, (struct sockaddr *)&local,
		    (struct sockaddr *)&peer, NULL)) == NULL ||
		    ikesa_init_begin(sa) == -1) {
			if (sa != NULL)
				ikesa_free(sa);
			kernel_acquire_fail(env, seq, ENOMEM);
			return;
		}
	}
	if (!ikesa_child_room(sa, NULL, "our child SA (an acquire)")) {
		kernel_acquire_fail(env, seq, ENOSPC);
		return;
	}
	if ((ch = child_new(sa, 1)) == NULL) {
		kernel_acquire_fail(env, seq, ENOMEM);
		return;
	}
	child_set_spid(ch, spd->spd_id);
	ch->ch_acqseq = seq;
	ch->ch_saproto = spd->spd_proto ? spd->spd_proto : IPPROTO_ESP;
	ch->ch_mode = spd->spd_mode;
	ch->ch_reqid = spd->spd_level == IPSEC_LEVEL_UNIQUE ?
	    spd->spd_reqid : 0;
	sa_set(&ch->ch_lsel, (struct sockaddr *)&spd->spd_src);
	sa_set(&ch->ch_rsel, (struct sockaddr *)&spd->spd_dst);
	ch->ch_lplen = spd->spd_sprefix;
	ch->ch_rplen = spd->spd_dprefix;
	ch->ch_ulproto = spd->spd_ulproto;
	ch->ch_lifetime = pol->pol_lifetime;
	ch->ch_lifebytes = pol->pol_lifebytes;
	if (sa->sa_state == SA_S_ESTABLISHED)
		(void)ikesa_start_child(ch);
}

/*
 * A child of a rule with iface (the responder's; the initiator's comes
 * from the interface's ACQUIRE): the interface's outbound policy for
 * family af gives the reqid, and the SAs are ESP in tunnel mode between
 * its endpoints, which must be the IKE SA's.  0, or -1, logged.
 */
int
ikesa_iface_child(struct iked_child *ch, int af)
{
	struct iked_sa		*sa = ch->ch_sa;
	struct iked_policy	*pol = sa->sa_pol;
	struct iked_spd		*spd;
	struct sockaddr_storage	 l, p;
	char			 a[128], b[128];

	if ((spd = kernel_spd_iface(sa->sa_env, pol->pol_ifindex, af)) ==
	    NULL) {
		log_warnx("%s: iface %s: no such interface with a tunnel "
		    "for %s (ipsecif(8); iked reads its index at load)",
		    sa->sa_name, pol->pol_iface, af == AF_INET ? "IPv4" :
		    "IPv6");
		return (-1);
	}
	sa_get(&l, &sa->sa_local);
	sa_get(&p, &sa->sa_peer);
	if (sa_cmpaddr((struct sockaddr *)&spd->spd_tsrc,
	    (struct sockaddr *)&l) != 0 ||
	    sa_cmpaddr((struct sockaddr *)&spd->spd_tdst,
	    (struct sockaddr *)&p) != 0) {
		print_host((struct sockaddr *)&spd->spd_tsrc, a, sizeof(a));
		print_host((struct sockaddr *)&spd->spd_tdst, b, sizeof(b));
		log_warnx("%s: iface %s: its tunnel is %s -> %s, not this "
		    "IKE SA's endpoints", sa->sa_name, pol->pol_iface, a, b);
		return (-1);
	}
	child_set_spid(ch, spd->spd_id);
	ch->ch_mode = IPSEC_MODE_TUNNEL;
	ch->ch_saproto = IPPROTO_ESP;
	ch->ch_reqid = spd->spd_reqid;
	return (0);
}

/* Another IKE SA with sa's peer, or NULL. */
static struct iked_sa *
ikesa_otherpeer(struct iked_sa *sa)
{
	struct iked_sa	*o;

	IKESA_FOREACH_PEER(o, sa->sa_env, &sa->sa_peer.sa)
		if (o != sa)
			return (o);
	return (NULL);
}

/* No other IKE SA with sa's peer, established, negotiating or dead. */
int
ikesa_first_contact(struct iked_sa *sa)
{
	return (ikesa_otherpeer(sa) == NULL);
}

/*
 * INITIAL-CONTACT received: the peer restarted, every other SA with it
 * (ours and the kernel's) is stale.  Once, before this SA's own children
 * are installed.
 */
void
ikesa_initial_contact(struct iked_sa *sa)
{
	struct iked	*env = sa->sa_env;
	struct iked_sa	*o;

	if ((sa->sa_nat & SA_IC_RECV) == 0)
		return;
	sa->sa_nat &= ~SA_IC_RECV;
	log_info("%s: INITIAL-CONTACT: the peer restarted, forgetting its "
	    "old SAs", sa->sa_name);
	/* Each search starts afresh: ikesa_free(o) may free o's rekey too. */
	while ((o = ikesa_otherpeer(sa)) != NULL)
		ikesa_free(o);
	kernel_delete_peer(env, (struct sockaddr *)&sa->sa_local,
	    (struct sockaddr *)&sa->sa_peer);
}

/* Start the children that waited for their phase 1. */
/*
 * A peer that stopped answering (IKEv2 liveness, IKEv1 DPD, or any
 * request of ours): its SAs go.  With "set dpd_action restart" the
 * pairs that were up are negotiated again at once, as if the kernel
 * had acquired their policies; else ("trap", the default) the next
 * packet a policy sends does it.  A failed handshake is not restarted.
 */
#define IKED_RESTART_MAX	64

void
ikesa_dead_peer(struct iked_sa *sa, const char *reason)
{
	struct iked		*env = sa->sa_env;
	struct iked_child	*ch;
	struct iked_spd		*spd;
	struct sockaddr_storage	 local, peer;
	uint32_t		 spid[IKED_RESTART_MAX];
	u_int			 n = 0, i;
	int			 restart;

	restart = sa->sa_state == SA_S_ESTABLISHED &&
	    (sa->sa_cf->cfg_flags & CFG_DPDRESTART);
	TAILQ_FOREACH(ch, &sa->sa_children, ch_entry) {
		if (ch->ch_state != CH_S_INSTALLED)
			continue;
		kernel_delete(env, ch);
		if (restart && !ch->ch_retiring && ch->ch_spid != 0 &&
		    n < IKED_RESTART_MAX)
			spid[n++] = ch->ch_spid;
	}
	while ((ch = TAILQ_FIRST(&sa->sa_children)) != NULL) {
		if (ch->ch_state != CH_S_INSTALLED && ch->ch_initiator &&
		    !ch->ch_rekeying)
			kernel_acquire_fail(env, ch->ch_acqseq, ETIMEDOUT);
		child_free(ch);
	}
	sa_get(&local, &sa->sa_local);
	sa_get(&peer, &sa->sa_peer);
	ikesa_dead(sa, reason);
	for (i = 0; i < n; i++) {
		if ((spd = kernel_spd_byid(env, spid[i])) == NULL)
			continue;
		log_info("dpd_action restart: policy %u negotiated again",
		    spid[i]);
		ikesa_acquire(env, 0, spd, (struct sockaddr *)&local,
		    (struct sockaddr *)&peer);
	}
}

/*
 * The kernel answered our UPDATE of seq (or refused it): the responder's
 * answer held for it goes now, IKEv2's IKE_AUTH or CREATE_CHILD_SA
 * response or IKEv1's QM2.  The initiator sends ESP the moment it has
 * the answer, and over an asynchronous PF_KEY (netipsecd) our inbound SA
 * must be in first.
 */
void
ikesa_update_done(struct iked *env, uint32_t seq)
{
	struct iked_sa		*sa;
	struct iked_child	*ch;
	uint8_t			*msg;
	size_t			 len;

	CHILD_FOREACH_KEY(ch, iked_chgetspi, &env->sc_chgetspi, seq) {
		if (ch->ch_resp == NULL)
			continue;
		sa = ch->ch_sa;
		msg = ch->ch_resp;
		len = ch->ch_resplen;
		ch->ch_resp = NULL;
		ch->ch_resplen = 0;
		sa->sa_proto->ip_send_held(ch, msg, len);
		return;
	}
}

/*
 * The kernel refused our UPDATE of seq: the larval SA of our GETSPI is
 * gone, most often because the exchange outlived net.key.larval_lifetime
 * (a lossy link, a slow peer).  The pair cannot carry the peer's traffic
 * and must not stand as if it could: an installed pair is deleted as a
 * hard expiry deletes it (IKEv2's answer held for it still goes first,
 * the IKE SA stands; the peer is told), and the next packet ACQUIREs a
 * new one.  An IKEv1 responder's QM2 held for it is dropped with the
 * Quick Mode: the initiator's retransmitted QM1 starts it again with a
 * fresh SPI.
 */
void
ikesa_update_failed(struct iked *env, uint32_t seq, int error)
{
	struct iked_child	*ch;
	struct iked_sa		*sa;

	CHILD_FOREACH_KEY(ch, iked_chgetspi, &env->sc_chgetspi, seq)
		if (ch->ch_state == CH_S_INSTALLED || ch->ch_resp != NULL)
			break;
	if (ch == NULL)
		return;
	sa = ch->ch_sa;
	log_warnx("%s: the kernel refused inbound SA 0x%08x (%s): the pair "
	    "is deleted", sa->sa_name, ntohl(ch->ch_spi_in), strerror(error));
	env->sc_stats.st_kernel_refused++;
	if (ch->ch_state != CH_S_INSTALLED) {
		freezero_ptr(&ch->ch_resp, &ch->ch_resplen);
		kernel_delete(env, ch);
		child_free(ch);
		return;
	}
	ikesa_update_done(env, seq);
	sa = ch->ch_sa;		/* the answer may have moved it (IKEv2) */
	if (sa->sa_state == SA_S_ESTABLISHED && !ch->ch_retiring)
		ikesa_send_delete(sa, ch);
	kernel_delete(env, ch);
	child_free(ch);
}

/* %%% Identities, for both versions (their ID type numbers in map) */

/* Ours: the rule's srcid, else our address. */
void
ikesa_myid(const struct iked_sa *sa, const iked_idmap map, uint8_t *type,
    const void **data, size_t *len)
{
	const struct iked_id	*id = &sa->sa_pol->pol_srcid;

	switch (id->id_type) {
	case ID_FQDN:
	case ID_UFQDN:
		*type = map[id->id_type];
		*data = id->id_str;
		*len = strlen(id->id_str);
		break;
	default:
		/* ID_IPV4/ID_IPV6 written, or none: our address. */
		if (sa->sa_local.sa.sa_family == AF_INET) {
			*type = map[ID_IPV4];
			*data = &sa->sa_local.sin.sin_addr;
			*len = 4;
		} else {
			*type = map[ID_IPV6];
			*data = &sa->sa_local.sin6.sin6_addr;
			*len = 16;
		}
		break;
	}
}

/*
 * The peer's ID against the rule's dstid, if it sets one: a name
 * (case-insensitive), or for an address ID the peer's own address.
 */
int
ikesa_check_peerid(const struct iked_sa *sa, const iked_idmap map,
    uint8_t type, const uint8_t *data, size_t len)
{
	const struct iked_id	*want = &sa->sa_pol->pol_dstid;
	const union iked_sockaddr *peer = &sa->sa_peer;
	char			 buf[IKED_ID_MAX];

	switch (want->id_type) {
	case ID_NONE:
		return (0);
	case ID_FQDN:
	case ID_UFQDN:
		if (type != map[want->id_type] || len >= sizeof(buf))
			return (-1);
		memcpy(buf, data, len);
		buf[len] = '\0';
		return (strcasecmp(buf, want->id_str) == 0 ? 0 : -1);
	default:
		if (type == map[ID_IPV4] && len == 4 &&
		    peer->sa.sa_family == AF_INET)
			return (memcmp(data, &peer->sin.sin_addr, 4) == 0 ?
			    0 : -1);
		if (type == map[ID_IPV6] && len == 16 &&
		    peer->sa.sa_family == AF_INET6)
			return (memcmp(data, &peer->sin6.sin6_addr, 16) == 0 ?
			    0 : -1);
		return (-1);
	}
}

/*
 * Once established, what only the handshake needed goes: the DH state
 * and public values, the IKE_SA_INIT messages AUTH covered, a cookie,
 * IKEv1's SAi_b and IDs.  (Memory per SA is a benchmark goal.)
 */
static void
ikesa_trim(struct iked_sa *sa)
{
	group_free(sa->sa_dh);
	sa->sa_dh = NULL;
	freezero_ptr(&sa->sa_dhi, &sa->sa_dhilen);
	freezero_ptr(&sa->sa_dhr, &sa->sa_dhrlen);
	freezero_ptr(&sa->sa_msg1, &sa->sa_msg1len);
	freezero_ptr(&sa->sa_msg2, &sa->sa_msg2len);
	freezero_ptr(&sa->sa_cookie, &sa->sa_cookielen);
	freezero_ptr(&sa->sa_idr2, &sa->sa_idr2len);
	freezero_ptr(&sa->sa_sai, &sa->sa_sailen);
	freezero_ptr(&sa->sa_idi, &sa->sa_idilen);
	freezero_ptr(&sa->sa_idr, &sa->sa_idrlen);
}

/*
 * The identity of sa's peer as iked checked it: its rule's dstid when
 * that is a name (the peer's ID was compared with it), else the peer's
 * address (an address dstid is compared with it).  ikectl's "reset id",
 * "set enforcesingleikesa".
 */
void
ikesa_peerid(const struct iked_sa *sa, char *buf, size_t len)
{
	const struct iked_id	*dst;
	struct sockaddr_storage	 ss;

	if (sa->sa_pol != NULL) {
		dst = &sa->sa_pol->pol_dstid;
		if (dst->id_type == ID_FQDN || dst->id_type == ID_UFQDN) {
			strlcpy(buf, dst->id_str, len);
			return;
		}
	}
	sa_get(&ss, &sa->sa_peer);
	sa_setport((struct sockaddr *)&ss, 0);
	print_host((struct sockaddr *)&ss, buf, len);
}

/*
 * "set enforcesingleikesa": one IKE SA per peer identity (ikesa_peerid():
 * its rule's dstid name, else its address).  The identity established
 * again from another address (a peer that moved, or a second one with
 * its name) ends the older IKE SAs and their children.  From the same
 * address the older phase 1 is replaced as always.
 */
static void
ikesa_single(struct iked_sa *sa)
{
	struct iked_sa	*o;
	char		 id[IKED_ID_MAX], oid[IKED_ID_MAX];
	char		 host[INET6_ADDRSTRLEN + 8];

	if ((sa->sa_cf->cfg_flags & CFG_ENFORCESINGLEIKESA) == 0)
		return;
	ikesa_peerid(sa, id, sizeof(id));
	/* Each search starts afresh: ikesa_free() may free two SAs. */
	for (;;) {
		TAILQ_FOREACH(o, &sa->sa_env->sc_sas, sa_entry) {
			if (o == sa || o->sa_state != SA_S_ESTABLISHED ||
			    o->sa_rekey == sa || o->sa_rekey_peer == sa ||
			    sa_cmpaddr((struct sockaddr *)&o->sa_peer,
			    (struct sockaddr *)&sa->sa_peer) == 0)
				continue;
			ikesa_peerid(o, oid, sizeof(oid));
			if (strcasecmp(id, oid) == 0)
				break;
		}
		if (o == NULL)
			break;
		log_info("%s: enforcesingleikesa: identity %s now at %s, "
		    "deleting its IKE SA", o->sa_name, id,
		    print_host(&sa->sa_peer.sa, host, sizeof(host)));
		ikesa_delete(o);
	}
}

void
ikesa_established(struct iked_sa *sa)
{
	struct iked		*env = sa->sa_env;
	struct iked_sa		*o;

	halfopen_leave(sa);
	ikesa_init_end(sa);
	ikesa_state(sa, SA_S_ESTABLISHED);
	sa->sa_established = now();
	ikesa_trim(sa);
	env->sc_stats.st_ph1_established++;
	tx_stop(&sa->sa_tx);
	/*
	 * IKEv2 SAs are rekeyed at 90% of their life (95% for the
	 * responder: one side goes first); an IKEv1 initiator renews phase
	 * 1 at 90%, its responder lets it end.
	 */
	ikesa_settimer(sa, (u_int)(sa->sa_lifetime * (sa->sa_initiator ?
	    sa->sa_proto->ip_soft_i : sa->sa_proto->ip_soft_r) / 100));
	ikesa_initial_contact(sa);
	ikesa_single(sa);
	/*
	 * An older phase 1 with this peer, and its children, retire here.
	 * IKEv1: one of the same rule still established was renewed (by
	 * us or by the peer): its installed pairs move here, so that their
	 * rekeys and deletes go on this one; it goes at its end.
	 */
	IKESA_FOREACH_PEER(o, env, &sa->sa_peer.sa) {
		if (o == sa)
			continue;
		if (o->sa_state == SA_S_DEAD)
			ikesa_adopt(o, sa);
		else if (!sa->sa_proto->ip_ikerekey &&
		    o->sa_proto == sa->sa_proto &&
		    o->sa_state == SA_S_ESTABLISHED && !o->sa_rekeyed &&
		    strcmp(o->sa_pol->pol_name, sa->sa_pol->pol_name) == 0) {
			log_info("%s: phase 1 renewed; the old one goes at "
			    "its end", o->sa_name);
			ikesa_adopt_installed(o, sa);
			o->sa_rekeyed = 1;
		}
	}
	sa->sa_proto->ip_start_children(sa);
}

/*
 * A Quick Mode the peer started for an outbound policy that already has
 * an installed pair with that peer is the peer's rekey (strongSwan's
 * rekey_time, swanctl --rekey): the pair it replaces, or NULL.  Without
 * this the old pair would live on to its hard lifetime and carry all our
 * outbound traffic (net.key.preferred_oldsa: the oldest SA is used).
 * A pair installed after the peer's Quick Mode began is no rekey but
 * both sides acquiring at once: both pairs stay, as before.
 */
static struct iked_child *
child_peer_rekeyed(struct iked_child *ch)
{
	struct iked	*env = ch->ch_sa->sa_env;
	struct iked_sa	*sa;
	struct iked_child *o, *n;

	if (ch->ch_initiator || ch->ch_old != NULL || ch->ch_spid == 0)
		return (NULL);
	IKESA_FOREACH_PEER(sa, env, &ch->ch_sa->sa_peer.sa) {
		TAILQ_FOREACH(o, &sa->sa_children, ch_entry) {
			if (o == ch || o->ch_state != CH_S_INSTALLED ||
			    o->ch_spid != ch->ch_spid || o->ch_rekeying ||
			    o->ch_order > ch->ch_order)
				continue;
			TAILQ_FOREACH(n, &sa->sa_children, ch_entry)
				if (n->ch_old == o)
					break;
			if (n == NULL)
				return (o);
		}
	}
	return (NULL);
}

/*
 * How long an old pair lives on after its replacement is in: the grace,
 * but always before its hard lifetime (the soft one came at 80-90%), so
 * that it is retired with a DELETE rather than expired by the kernel.
 */
static u_int
child_grace(const struct iked_child *old, u_int grace, int peer)
{
	u_int	 max;

	if (old == NULL || old->ch_lifetime == 0)
		return (grace);
	max = (u_int)(old->ch_lifetime / 10);
	if (max < 1)
		max = 1;
	/* After the peer's rekey, wait a little longer than it does. */
	if (peer)
		max++;
	return (grace < max ? grace : max);
}

/* A rekeyed pair: the new SAs are in; the old ones go after a grace. */
void
child_installed(struct iked_child *ch)
{
	struct iked_child	*old;

	/*
	 * The peer's rekey: the old pair moves here, to go after a longer
	 * grace, unless the peer deletes it first (iked does) or our own
	 * rekey of it already runs.
	 */
	if ((old = child_peer_rekeyed(ch)) != NULL) {
		log_info("%s: the peer rekeyed SAs 0x%08x/0x%08x",
		    ch->ch_sa->sa_name, ntohl(old->ch_spi_in),
		    ntohl(old->ch_spi_out));
		if (old->ch_sa != ch->ch_sa)
			child_move(old, ch->ch_sa);
		child_setold(ch, old);
	}
	ch->ch_order = ++child_order;	/* from now on: when installed */
	ch->ch_state = CH_S_INSTALLED;
	ch->ch_sa->sa_env->sc_stats.st_ph2_established++;
	child_trim(ch);
	tx_stop(&ch->ch_tx);
	if (ch->ch_old != NULL)
		child_settimer(ch, child_grace(ch->ch_old,
		    ch->ch_rekeying ? IKED_REKEY_GRACE :
		    IKED_PEER_REKEY_GRACE, !ch->ch_rekeying));
}

/*
 * SADB_EXPIRE: soft starts a new Quick Mode for the same policy (make
 * before break); hard means the kernel dropped that SA: the peer is told
 * and the pair is gone.
 */
void
ikesa_expire(struct iked *env, uint32_t spi, int hard)
{
	struct iked_child	*ch, *nch;
	struct iked_sa		*sa;
	int			 out;

	if ((ch = child_byspi(env, spi, &out)) == NULL)
		return;
	sa = ch->ch_sa;
	if (hard) {
		log_info("%s: SA 0x%08x expired (hard)", sa->sa_name,
		    ntohl(spi));
		/* A retiring pair's DELETE went already. */
		if (sa->sa_state == SA_S_ESTABLISHED && !ch->ch_retiring)
			ikesa_send_delete(sa, ch);
		kernel_delete(env, ch);
		child_free(ch);
		return;
	}
	if (ch->ch_state != CH_S_INSTALLED || ch->ch_rekeying == 2)
		return;
	/* Only once per pair, and not while a rekey of it runs. */
	if (ch->ch_nnew > 0)
		return;
	log_info("%s: SA 0x%08x soft lifetime reached, rekeying", sa->sa_name,
	    ntohl(spi));
	if (sa->sa_state != SA_S_ESTABLISHED) {
		/* A new phase 1 first; the pair moves to it. */
		struct iked_sa	*nsa;

		if ((nsa = ikesa_bypeer(env, (struct sockaddr *)&sa->sa_peer,
		    sa->sa_pol)) == NULL || nsa->sa_state == SA_S_DEAD) {
			if ((nsa = ikesa_new(env, sa->sa_version, 1, sa->sa_pol,
			    (struct sockaddr *)&sa->sa_local,
			    (struct sockaddr *)&sa->sa_peer, NULL)) == NULL)
				return;
			sa_setport((struct sockaddr *)&nsa->sa_local,
			    env->sc_port);
			sa_setport((struct sockaddr *)&nsa->sa_peer,
			    env->sc_port);
			if (nsa->sa_proto->ip_init(nsa) == -1) {
				ikesa_free(nsa);
				return;
			}
		}
		child_move(ch, nsa);
		sa = nsa;
	}
	if ((nch = child_new(sa, 1)) == NULL)
		return;
	nch->ch_rekeying = 1;
	child_setold(nch, ch);
	ch->ch_rekeying = 2;		/* being replaced */
	child_set_spid(nch, ch->ch_spid);
	nch->ch_saproto = ch->ch_saproto;
	nch->ch_mode = ch->ch_mode;
	nch->ch_reqid = ch->ch_reqid;
	nch->ch_lsel = ch->ch_lsel;
	nch->ch_rsel = ch->ch_rsel;
	nch->ch_lplen = ch->ch_lplen;
	nch->ch_rplen = ch->ch_rplen;
	nch->ch_ulproto = ch->ch_ulproto;
	nch->ch_lifetime = ch->ch_lifetime;
	nch->ch_lifebytes = ch->ch_lifebytes;
	if (sa->sa_state == SA_S_ESTABLISHED)
		(void)ikesa_start_child(nch);
}

/*
 * The kernel answered our DELETE of SA spi: if it was the outbound SA of
 * a pair we retire, the peer may be told now (child_timeout()).
 */
void
ikesa_delete_done(struct iked *env, uint32_t spi)
{
	struct iked_child	*ch;
	int			 out;

	if ((ch = child_byspi(env, spi, &out)) == NULL || !out ||
	    !ch->ch_delwait)
		return;
	ch->ch_delwait = 0;
	if (ch->ch_sa->sa_state == SA_S_ESTABLISHED)
		ikesa_send_delete(ch->ch_sa, ch);
}

/* Somebody else deleted an SA (setkey, FLUSH with spi 0): forget it. */
void
ikesa_spi_deleted(struct iked *env, uint32_t spi)
{
	struct iked_sa		*sa, *nsa;
	struct iked_child	*ch, *next;
	int			 out;

	if (spi != 0) {
		if ((ch = child_byspi(env, spi, &out)) == NULL ||
		    ch->ch_state != CH_S_INSTALLED)
			return;
		log_info("%s: SA 0x%08x deleted from the kernel", 
		    ch->ch_sa->sa_name, ntohl(spi));
		if (ch->ch_sa->sa_state == SA_S_ESTABLISHED)
			ikesa_send_delete(ch->ch_sa, ch);
		kernel_delete(env, ch);
		child_free(ch);
		return;
	}
	for (sa = TAILQ_FIRST(&env->sc_sas); sa != NULL; sa = nsa) {
		nsa = TAILQ_NEXT(sa, sa_entry);
		for (ch = TAILQ_FIRST(&sa->sa_children); ch != NULL;
		    ch = next) {
			next = TAILQ_NEXT(ch, ch_entry);
			if (ch->ch_state == CH_S_INSTALLED)
				child_free(ch);
		}
	}
}

/*
 * An IKE SA and its children go: the peer is told, our SAs leave the
 * kernel.  At exit, and ikectl's reset and terminate.  It may free
 * another SA of sc_sas (ikesa_free()).
 */
void
ikesa_delete(struct iked_sa *sa)
{
	struct iked_child	*ch;

	TAILQ_FOREACH(ch, &sa->sa_children, ch_entry) {
		if (ch->ch_state != CH_S_INSTALLED)
			continue;
		if (sa->sa_state == SA_S_ESTABLISHED)
			ikesa_send_delete(sa, ch);
		kernel_delete(sa->sa_env, ch);
	}
	if (sa->sa_state == SA_S_ESTABLISHED)
		ikesa_send_delete(sa, NULL);
	ikesa_free(sa);
}

/* At exit: tell every peer, and take our SAs out of the kernel. */
void
iked_shutdown_sas(struct iked *env)
{
	struct iked_sa		*sa;

	while ((sa = TAILQ_FIRST(&env->sc_sas)) != NULL)
		ikesa_delete(sa);
	if (env->sc_initev != NULL) {
		event_free(env->sc_initev);
		env->sc_initev = NULL;
	}
}
