/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Flood resistance: the budgets of half-open IKE SAs (those a peer
 * opened with an IKEv1 MM1 or an IKEv2 IKE_SA_INIT and that are not
 * established yet), and which new exchanges a busy daemon answers.
 *
 * Each IKE version has its own budget, so that a flood of one cannot
 * lock out the peers of the other, and one source address may hold only
 * IKED_HALFOPEN_PEER of it.  IKEv2 needs little more: past
 * V2_COOKIE_THRESHOLD half-open SAs a responder keeps state only for
 * peers that return a COOKIE (ikev2.c), so a spoofed flood costs it an
 * answer and no memory; a full IKEv2 budget refuses.  IKEv1 has no
 * cookie: a spoofed MM1 looks like a real one until MM3 shows that the
 * peer received our MM2.  A full IKEv1 budget therefore keeps what it
 * has: a new MM1 goes unanswered, and only when it comes again does it
 * evict the oldest exchange not yet past MM2 (HO_NEW), never one past
 * MM3 (HO_PROVEN).  A real initiator retransmits; a flood of random
 * cookies never sends one twice, so it turns over nothing and a real
 * peer's exchange has all the time it needs to reach MM3.  The MM1
 * responder is cheap to make and to evict: no DH before MM3.
 *
 * A daemon that reads datagrams slower than they come loses them at its
 * socket, a real peer's as likely as the flood's, and any answer costs
 * about what the datagram cost its sender.  So net.c reads in batches
 * and says when a batch did not empty its socket and its new exchanges
 * outnumbered twice those under way (real peers keep a busy socket
 * from emptying too, but as many continue as begin): in the next batch
 * only IKED_HALFOPEN_ADMIT new exchanges of each version are answered
 * and the rest are dropped before any work, which keeps the socket
 * drained (and a flood of one version leaves the other's turns): what
 * continues an exchange, and a COOKIE returned, is never lost.
 *
 * What goes unanswered, busy or with a full IKEv1 budget, is remembered
 * (a Bloom filter of the source and SPIi, in two generations of 1 MiB)
 * and answered when it comes again.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event2/event.h>

#include "iked.h"

#define HALFOPEN_QUIET	32	/* half-open: opening lines go to debug */
#define ADMIT_BITS	(1U << 23)	/* per generation: 1 MiB */
#define ADMIT_K		4		/* bits per entry */
#define ADMIT_MAX	(1U << 19)	/* entries, then a new generation */
#define ADMIT_SUMMARY	10		/* seconds between "busy" lines */

static int
hosrc_cmp(const struct iked_hosrc *a, const struct iked_hosrc *b)
{
	if (a->hs_addr.sa.sa_family != b->hs_addr.sa.sa_family)
		return (a->hs_addr.sa.sa_family < b->hs_addr.sa.sa_family ?
		    -1 : 1);
	if (a->hs_addr.sa.sa_family == AF_INET)
		return (memcmp(&a->hs_addr.sin.sin_addr,
		    &b->hs_addr.sin.sin_addr, 4));
	return (memcmp(&a->hs_addr.sin6.sin6_addr, &b->hs_addr.sin6.sin6_addr,
	    16));
}

RB_GENERATE(iked_hosrcs, iked_hosrc, hs_node, hosrc_cmp);

static void	admit_summary(evutil_socket_t, short, void *);
static void	admit_unanswered(struct iked *, const struct sockaddr *,
		    const uint8_t *);

void
halfopen_init(struct iked *env)
{
	int	 v;

	for (v = 0; v < 2; v++) {
		TAILQ_INIT(&env->sc_halfopen[v].ho_new);
		TAILQ_INIT(&env->sc_halfopen[v].ho_proven);
		env->sc_halfopen[v].ho_count = 0;
	}
	env->sc_halfopen[0].ho_max = IKED_HALFOPEN_V1;
	env->sc_halfopen[0].ho_evict = 1;
	env->sc_halfopen[1].ho_max = IKED_HALFOPEN_V2;
	RB_INIT(&env->sc_hosrcs);
	arc4random_buf(&env->sc_admit.ad_key, sizeof(env->sc_admit.ad_key));
}

/* At exit, after the SAs. */
void
halfopen_clear(struct iked *env)
{
	struct iked_admit	*ad = &env->sc_admit;

	free(ad->ad_seen[0]);
	free(ad->ad_seen[1]);
	ad->ad_seen[0] = ad->ad_seen[1] = NULL;
	if (ad->ad_timer != NULL)
		event_free(ad->ad_timer);
	ad->ad_timer = NULL;
}

/* A source address as the per-source index keys it: no port. */
static void
hosrc_key(struct iked_hosrc *key, const struct sockaddr *peer)
{
	memset(key, 0, sizeof(*key));
	sa_set(&key->hs_addr, peer);
	sa_setport(&key->hs_addr.sa, 0);
}

/*
 * Pressure: the opening lines of new exchanges go to the debug log and
 * a summary is logged every ADMIT_SUMMARY seconds until it is over.
 */
static void
halfopen_pressure(struct iked *env, const char *why)
{
	struct iked_admit	*ad = &env->sc_admit;
	struct timeval		 tv = { ADMIT_SUMMARY, 0 };

	if (ad->ad_timer == NULL && (ad->ad_timer = evtimer_new(env->sc_evbase,
	    admit_summary, env)) == NULL)
		return;
	if (evtimer_pending(ad->ad_timer, NULL))
		return;
	log_warnx("under pressure (%s): new exchanges logged with -v only, "
	    "a summary every %d s", why, ADMIT_SUMMARY);
	ad->ad_lastshed = env->sc_stats.st_shed;
	ad->ad_lastevicted = env->sc_stats.st_halfopen_evicted;
	evtimer_add(ad->ad_timer, &tv);
}

static void
admit_summary(evutil_socket_t fd, short event, void *arg)
{
	struct iked		*env = arg;
	struct iked_admit	*ad = &env->sc_admit;
	struct iked_stats	*st = &env->sc_stats;
	struct timeval		 tv = { ADMIT_SUMMARY, 0 };
	uint64_t		 shed, evicted;

	(void)fd;
	(void)event;
	shed = st->st_shed - ad->ad_lastshed;
	evicted = st->st_halfopen_evicted - ad->ad_lastevicted;
	ad->ad_lastshed = st->st_shed;
	ad->ad_lastevicted = st->st_halfopen_evicted;
	log_info("under pressure: half-open ikev1 %u/%u ikev2 %u/%u; in %d s "
	    "%llu new exchanges left unanswered, %llu half-open evicted",
	    env->sc_halfopen[0].ho_count, env->sc_halfopen[0].ho_max,
	    env->sc_halfopen[1].ho_count, env->sc_halfopen[1].ho_max,
	    ADMIT_SUMMARY, (unsigned long long)shed,
	    (unsigned long long)evicted);
	if (shed == 0 && evicted == 0 && !ad->ad_busy &&
	    env->sc_halfopen[0].ho_count < HALFOPEN_QUIET &&
	    env->sc_halfopen[1].ho_count < HALFOPEN_QUIET) {
		log_info("pressure over");
		return;
	}
	evtimer_add(ad->ad_timer, &tv);
}

/* 1 while under pressure: the opening lines go to the debug log. */
int
halfopen_quiet(const struct iked *env)
{
	const struct iked_admit	*ad = &env->sc_admit;

	return (ad->ad_timer != NULL && evtimer_pending(ad->ad_timer, NULL));
}

/* A line about a new exchange: to the debug log while under pressure. */
void
halfopen_log(const struct iked *env, const char *fmt, ...)
{
	va_list	 ap;
	int	 quiet = halfopen_quiet(env);

	if (quiet && !log_getverbose())
		return;
	va_start(ap, fmt);
	vlog(quiet ? LOG_DEBUG : LOG_INFO, fmt, ap);
	va_end(ap);
}

/*
 * Room for one more half-open SA of version from peer, for a new
 * exchange with SPIi spi (NULL: one that proved its address, a COOKIE
 * returned): 0; -1 when it is refused, past the source's share or a
 * full budget; 1 when it goes unanswered for now, to be answered when
 * it comes again (halfopen_admit).  The source's share is checked
 * first: it costs nothing to refuse.  A full IKEv1 budget makes room by
 * evicting its oldest SA whose peer never answered our MM2, but only for
 * an MM1 sent again: a random flood, which sends none twice, then turns
 * over no exchange of a real peer, whatever its rate.
 */
int
halfopen_reserve(struct iked *env, int version, const struct sockaddr *peer,
    const uint8_t *spi)
{
	struct iked_halfopen	*ho = &env->sc_halfopen[version - 1];
	struct iked_hosrc	 key, *hs;
	struct iked_sa		*sa;
	int			 again = 0;

	hosrc_key(&key, peer);
	if ((hs = RB_FIND(iked_hosrcs, &env->sc_hosrcs, &key)) != NULL &&
	    hs->hs_count[version - 1] >= IKED_HALFOPEN_PEER) {
		env->sc_stats.st_halfopen_refused++;
		halfopen_pressure(env, "one address holds too many half-open "
		    "SAs");
		return (-1);
	}
	if (spi != NULL &&
	    (again = halfopen_admit(env, version, peer, spi)) == 0)
		return (1);
	if (ho->ho_count < ho->ho_max)
		return (0);
	if (!ho->ho_evict || (sa = TAILQ_FIRST(&ho->ho_new)) == NULL) {
		env->sc_stats.st_halfopen_refused++;
		halfopen_pressure(env, "half-open budget full");
		return (-1);
	}
	if (spi != NULL && again != 2) {
		admit_unanswered(env, peer, spi);
		halfopen_pressure(env, "half-open budget full");
		return (1);
	}
	env->sc_stats.st_halfopen_evicted++;
	log_debug("%s: evicted: the oldest half-open SA", sa->sa_name);
	ikesa_free(sa);
	return (0);
}

/* sa, just made for a peer's new exchange, takes its place: -1 if not. */
int
halfopen_enter(struct iked_sa *sa, int how)
{
	struct iked		*env = sa->sa_env;
	struct iked_halfopen	*ho = &env->sc_halfopen[sa->sa_version - 1];
	struct iked_hosrc	 key, *hs;

	hosrc_key(&key, &sa->sa_peer.sa);
	if ((hs = RB_FIND(iked_hosrcs, &env->sc_hosrcs, &key)) == NULL) {
		if ((hs = malloc(sizeof(*hs))) == NULL)
			return (-1);
		*hs = key;
		RB_INSERT(iked_hosrcs, &env->sc_hosrcs, hs);
	}
	hs->hs_count[sa->sa_version - 1]++;
	sa->sa_hosrc = hs;
	sa->sa_ho = how;
	TAILQ_INSERT_TAIL(how == HO_NEW ? &ho->ho_new : &ho->ho_proven, sa,
	    sa_hoentry);
	if (++ho->ho_count == HALFOPEN_QUIET)
		halfopen_pressure(env, "many half-open SAs");
	return (0);
}

/* The peer showed it receives at its address: no longer evicted. */
void
halfopen_proven(struct iked_sa *sa)
{
	struct iked_halfopen	*ho;

	if (sa->sa_ho != HO_NEW)
		return;
	ho = &sa->sa_env->sc_halfopen[sa->sa_version - 1];
	TAILQ_REMOVE(&ho->ho_new, sa, sa_hoentry);
	TAILQ_INSERT_TAIL(&ho->ho_proven, sa, sa_hoentry);
	sa->sa_ho = HO_PROVEN;
}

/* Established, or gone. */
void
halfopen_leave(struct iked_sa *sa)
{
	struct iked		*env = sa->sa_env;
	struct iked_halfopen	*ho;
	struct iked_hosrc	*hs = sa->sa_hosrc;

	if (sa->sa_ho == 0)
		return;
	ho = &env->sc_halfopen[sa->sa_version - 1];
	TAILQ_REMOVE(sa->sa_ho == HO_NEW ? &ho->ho_new : &ho->ho_proven, sa,
	    sa_hoentry);
	ho->ho_count--;
	if (hs != NULL && --hs->hs_count[sa->sa_version - 1] == 0 &&
	    hs->hs_count[2 - sa->sa_version] == 0) {
		RB_REMOVE(iked_hosrcs, &env->sc_hosrcs, hs);
		free(hs);
	}
	sa->sa_hosrc = NULL;
	sa->sa_ho = 0;
}

u_int
halfopen_count(const struct iked *env, int version)
{
	return (env->sc_halfopen[version - 1].ho_count);
}

/* net.c: a batch of datagrams begins; busy if the last left some. */
void
halfopen_batch(struct iked *env, int busy)
{
	env->sc_admit.ad_busy = busy;
	env->sc_admit.ad_taken[0] = env->sc_admit.ad_taken[1] = 0;
	env->sc_admit.ad_new = 0;
	env->sc_admit.ad_cont = 0;
}

/* A datagram of the batch continued an exchange under way (its SPIs). */
void
halfopen_continued(struct iked *env)
{
	env->sc_admit.ad_cont++;
}

/*
 * The batch that ends read full (a socket not emptied): is the daemon
 * behind on new exchanges?  Only when they outnumber twice those under
 * way: real peers keep a busy responder's socket from ever emptying (a
 * new exchange comes as each one ends), about one new exchange for
 * each under way, while a flood, padded with junk or not, brings new
 * ones and none under way (continuing one needs SPIs the responder
 * chose).  A batch of junk alone has nothing to shed.
 */
int
halfopen_batch_busy(struct iked *env, int full)
{
	return (full && env->sc_admit.ad_new > 2 * env->sc_admit.ad_cont);
}

/* A keyed hash of a new exchange's source (address, port) and SPIi. */
static uint64_t
admit_hash(const struct iked *env, const struct sockaddr *peer,
    const uint8_t *spi)
{
	uint8_t		 buf[16 + 2 + 8];
	uint64_t	 h = env->sc_admit.ad_key ^ 0xcbf29ce484222325ULL;
	size_t		 len = 0, i;
	in_port_t	 port = sa_port(peer);

	if (peer->sa_family == AF_INET) {
		memcpy(buf, &((const struct sockaddr_in *)peer)->sin_addr, 4);
		len = 4;
	} else if (peer->sa_family == AF_INET6) {
		memcpy(buf, &((const struct sockaddr_in6 *)peer)->sin6_addr,
		    16);
		len = 16;
	}
	buf[len++] = port >> 8;
	buf[len++] = port & 0xff;
	memcpy(buf + len, spi, 8);
	len += 8;
	/* FNV-1a, then MurmurHash3's finaliser to spread every bit. */
	for (i = 0; i < len; i++)
		h = (h ^ buf[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (h);
}

/*
 * ADMIT_K bits of h in a generation's filter (Kirsch and Mitzenmacher:
 * h1 + i * h2).  With ADMIT_MAX entries in ADMIT_BITS, a new exchange
 * is taken for one sent again about 0.25% of the time, per generation.
 */
static uint32_t
admit_bit(uint64_t h, u_int i)
{
	uint32_t	 h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1;

	return ((h1 + i * h2) & (ADMIT_BITS - 1));
}

static int
admit_seen(const uint8_t *f, uint64_t h)
{
	u_int	 i, b;

	if (f == NULL)
		return (0);
	for (i = 0; i < ADMIT_K; i++) {
		b = admit_bit(h, i);
		if ((f[b / 8] & (1 << (b % 8))) == 0)
			return (0);
	}
	return (1);
}

/* Remember a new exchange left unanswered (counted), to answer it again. */
static void
admit_unanswered(struct iked *env, const struct sockaddr *peer,
    const uint8_t *spi)
{
	struct iked_admit	*ad = &env->sc_admit;
	uint64_t		 h = admit_hash(env, peer, spi);
	uint8_t			*f;
	u_int			 i, b;

	env->sc_stats.st_shed++;
	if (ad->ad_seen[0] == NULL || ad->ad_nseen >= ADMIT_MAX) {
		/* A new generation; the previous one is still asked. */
		f = ad->ad_seen[1];
		if (f == NULL && (f = malloc(ADMIT_BITS / 8)) == NULL)
			return;
		memset(f, 0, ADMIT_BITS / 8);
		ad->ad_seen[1] = ad->ad_seen[0];
		ad->ad_seen[0] = f;
		ad->ad_nseen = 0;
	}
	for (i = 0; i < ADMIT_K; i++) {
		b = admit_bit(h, i);
		ad->ad_seen[0][b / 8] |= 1 << (b % 8);
	}
	ad->ad_nseen++;
}

/*
 * Answer this new exchange of version, or leave it unanswered (0,
 * remembered and counted)?  2: it is one left unanswered before, now
 * sent again: always answered.  1: all others, unless the current batch
 * is a busy one and has answered IKED_HALFOPEN_ADMIT of this version
 * already: each version has its share, so that a flood of one does not
 * take the other's peers' turns.
 */
int
halfopen_admit(struct iked *env, int version, const struct sockaddr *peer,
    const uint8_t *spi)
{
	struct iked_admit	*ad = &env->sc_admit;
	uint64_t		 h;

	ad->ad_new++;
	if (ad->ad_seen[0] != NULL) {
		h = admit_hash(env, peer, spi);
		if (admit_seen(ad->ad_seen[0], h) ||
		    admit_seen(ad->ad_seen[1], h)) {
			env->sc_stats.st_readmitted++;
			return (2);
		}
	}
	if (!ad->ad_busy)
		return (1);
	if (ad->ad_taken[version - 1] < IKED_HALFOPEN_ADMIT) {
		ad->ad_taken[version - 1]++;
		return (1);
	}
	admit_unanswered(env, peer, spi);
	halfopen_pressure(env, "more datagrams than time to answer them");
	return (0);
}
