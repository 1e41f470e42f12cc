/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Two iked(8) peers in one process, in the style of strongSwan's
 * exchange_test_helper: the real daemon core (ikesa.c, ikev2.c, ...)
 * with the network (fake_net.c), PF_KEY (fake_kernel.c) and randomness
 * (exchange_harness.c) replaced by deterministic fakes.
 *
 * Nothing runs by itself: a datagram moves when the test delivers it,
 * a kernel reply (GETSPI) arrives when the test lets the kernel run,
 * and a timer fires when the test fires it.  libevent's loop is never
 * entered, so wall-clock time plays no part.
 */

#ifndef EXCHANGE_HARNESS_H
#define EXCHANGE_HARNESS_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include "iked.h"

#define XT_SAD_MAX	64	/* SAs in one fake SAD */
#define XT_KEY_MAX	64

/* A datagram sent by a peer and not yet delivered. */
struct xt_dgram {
	TAILQ_ENTRY(xt_dgram)	 dg_entry;
	struct sockaddr_storage	 dg_src;	/* with ports */
	struct sockaddr_storage	 dg_dst;
	uint8_t			*dg_buf;	/* the IKE message */
	size_t			 dg_len;
	int			 dg_natt;	/* port 4500 */
};
TAILQ_HEAD(xt_dgrams, xt_dgram);

/* One SA of the fake SAD. */
struct xt_sa {
	int			 xs_used;
	int			 xs_larval;	/* GETSPI, not yet UPDATEd */
	int			 xs_out;	/* ADDed: outbound */
	uint32_t		 xs_spi;	/* network order */
	struct sockaddr_storage	 xs_src;	/* no ports */
	struct sockaddr_storage	 xs_dst;
	uint8_t			 xs_mode;
	uint32_t		 xs_reqid;
	uint16_t		 xs_enc, xs_auth;	/* IKEv2 transform IDs */
	uint8_t			 xs_key[2 * XT_KEY_MAX];	/* enc | auth */
	size_t			 xs_enclen, xs_authlen;
	int			 xs_encap;	/* UDP-encapsulated */
};

/* A GETSPI the kernel has not answered yet. */
struct xt_getspi {
	TAILQ_ENTRY(xt_getspi)	 gs_entry;
	uint32_t		 gs_seq;
	uint32_t		 gs_spi;	/* network order */
	struct sockaddr_storage	 gs_src, gs_dst;
};
TAILQ_HEAD(xt_getspis, xt_getspi);

struct xt_peer {
	struct iked		 p_env;		/* first: fakes get &p_env */
	const char		*p_name;	/* "A", "B" */
	struct sockaddr_storage	 p_addr;	/* port 500 */
	struct xt_dgrams	 p_out;		/* what it sent */
	/* The fake kernel. */
	struct xt_sa		 p_sad[XT_SAD_MAX];
	struct xt_getspis	 p_getspi;
	uint32_t		 p_nextspi;
	uint32_t		 p_kseq;
	u_int			 p_ngetspi;	/* GETSPIs asked */
	u_int			 p_nupdate;	/* UPDATEs of larval SAs */
	u_int			 p_nadd;
	u_int			 p_ndelete;	/* SAs deleted */
	u_int			 p_kerrors;	/* UPDATE without GETSPI, dup ADD */
	u_int			 p_nacqfail;
	/*
	 * The next p_larval_lost UPDATEs find their larval SA gone (its
	 * lifetime ran out): refused, the reply (seq) at the next run.
	 */
	u_int			 p_larval_lost;
	uint32_t		 p_updfail[4];
	u_int			 p_nupdfail;
	uint32_t		 p_acqfail_seq;
	int			 p_acqfail_err;
	/* Randomness: first bytes for its next 32-byte nonces. */
	uint8_t			 p_nonce[8];
	u_int			 p_nnonce;
	u_int			 p_sent;	/* datagrams sent */
};

extern struct xt_peer	*xt_a, *xt_b;

void	 xt_setup(const char *, const char *);
void	 xt_teardown(void);
struct xt_peer *xt_peer(struct iked *);
struct xt_peer *xt_byaddr(const struct sockaddr *);
void	 xt_enter(struct xt_peer *);

/* The network. */
u_int	 xt_queued(struct xt_peer *);
const struct xt_dgram *xt_peek(struct xt_peer *);
void	 xt_deliver(struct xt_peer *);	/* first queued one, then drop it */
void	 xt_deliver_copy(struct xt_peer *);	/* keep it queued */
void	 xt_drop(struct xt_peer *);
void	 xt_hold(struct xt_peer *);	/* first one behind the others */
void	 xt_drop_all(struct xt_peer *);
void	 xt_inject(struct xt_peer *, const struct sockaddr *,
	    const uint8_t *, size_t);
int	 xt_dgram_exch(const struct xt_dgram *, int *, uint32_t *);
void	 xt_run(void);			/* until both are quiet */

/* The kernel. */
u_int	 xt_kernel_pending(struct xt_peer *);
void	 xt_kernel_run(struct xt_peer *);	/* answer every GETSPI */
u_int	 xt_sad_count(struct xt_peer *, int, int);
const struct xt_sa *xt_sad_find(struct xt_peer *, uint32_t, int);
const struct xt_sa *xt_sad_nth(struct xt_peer *, int, u_int);
struct iked_spd *xt_spd_add(struct xt_peer *, uint32_t, uint8_t,
	    const char *, int, const char *, int, const char *,
	    const char *);
void	 xt_acquire(struct xt_peer *, uint32_t, uint32_t);
void	 xt_expire(struct xt_peer *, uint32_t, int);

/* Time. */
void	 xt_fire(struct xt_peer *, struct event *);

/* Randomness. */
void	 xt_nonce(struct xt_peer *, uint8_t);

/* The daemon's state. */
struct iked_sa *xt_ikesa(struct xt_peer *);
u_int	 xt_nikesa(struct xt_peer *);
u_int	 xt_nchildren(struct xt_peer *, int);
struct iked_child *xt_child_nth(struct xt_peer *, u_int);

#endif /* EXCHANGE_HARNESS_H */
