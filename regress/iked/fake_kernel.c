/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The kernel of the exchange tests: the PF_KEY requests of
 * sbin/iked/kernel.c answered by a fake SAD per peer.  GETSPI is
 * answered when the test lets the kernel run (xt_kernel_run), as the
 * real reply arrives later on the PF_KEY socket; UPDATE, ADD and
 * DELETE take effect at once and are checked the way the kernel checks
 * them (UPDATE needs the larval SA of a GETSPI, ADD a free SPI).
 * kernel.c is linked too, for its SPD lookups (the tests fill
 * sc_spds), with the functions below renamed away (Makefile).
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpfkey.h>

#include "exchange_harness.h"

#define XT_SEQ_BASE	0x80000000U	/* as kernel.c: above acquire seqs */

static void
xt_endpoints(struct iked_child *ch, struct sockaddr_storage *local,
    struct sockaddr_storage *peer)
{
	sa_get(local, &ch->ch_sa->sa_local);
	sa_get(peer, &ch->ch_sa->sa_peer);
	sa_setport((struct sockaddr *)local, 0);
	sa_setport((struct sockaddr *)peer, 0);
}

static struct xt_sa *
xt_sad_lookup(struct xt_peer *p, uint32_t spi, const struct sockaddr *dst)
{
	int	 i;

	for (i = 0; i < XT_SAD_MAX; i++)
		if (p->p_sad[i].xs_used && p->p_sad[i].xs_spi == spi &&
		    sa_cmpaddr((struct sockaddr *)&p->p_sad[i].xs_dst, dst) ==
		    0)
			return (&p->p_sad[i]);
	return (NULL);
}

static struct xt_sa *
xt_sad_new(struct xt_peer *p)
{
	int	 i;

	for (i = 0; i < XT_SAD_MAX; i++)
		if (!p->p_sad[i].xs_used) {
			memset(&p->p_sad[i], 0, sizeof(p->p_sad[i]));
			p->p_sad[i].xs_used = 1;
			return (&p->p_sad[i]);
		}
	p->p_kerrors++;
	return (NULL);
}

static void
xt_sad_remove(struct xt_peer *p, struct xt_sa *xs)
{
	explicit_bzero(xs, sizeof(*xs));
	p->p_ndelete++;
}

int
kernel_getspi(struct iked *env, struct iked_child *ch)
{
	struct xt_peer		*p = xt_peer(env);
	struct xt_getspi	*gs;

	if ((gs = calloc(1, sizeof(*gs))) == NULL)
		return (-1);
	gs->gs_seq = ch->ch_acqseq != 0 && ch->ch_initiator &&
	    !ch->ch_rekeying ? ch->ch_acqseq : XT_SEQ_BASE + ++p->p_kseq;
	gs->gs_spi = htonl(++p->p_nextspi);
	xt_endpoints(ch, &gs->gs_dst, &gs->gs_src);
	child_set_getspi_seq(ch, gs->gs_seq);
	ch->ch_state = CH_S_GETSPI;
	TAILQ_INSERT_TAIL(&p->p_getspi, gs, gs_entry);
	p->p_ngetspi++;
	return (0);
}

u_int
xt_kernel_pending(struct xt_peer *p)
{
	struct xt_getspi	*gs;
	u_int			 n = 0;

	TAILQ_FOREACH(gs, &p->p_getspi, gs_entry)
		n++;
	return (n + p->p_nupdfail);
}

/* The GETSPI replies, as kernel.c's dispatch takes them. */
void
xt_kernel_run(struct xt_peer *p)
{
	struct xt_getspi	*gs;
	struct iked_child	*ch;
	struct xt_sa		*xs;
	uint32_t		 seq;

	xt_enter(p);
	while ((gs = TAILQ_FIRST(&p->p_getspi)) != NULL) {
		TAILQ_REMOVE(&p->p_getspi, gs, gs_entry);
		/* The larval SA exists whether or not anyone still waits. */
		if ((xs = xt_sad_new(p)) != NULL) {
			xs->xs_larval = 1;
			xs->xs_spi = gs->gs_spi;
			xs->xs_src = gs->gs_src;
			xs->xs_dst = gs->gs_dst;
		}
		if ((ch = child_bygetspi(&p->p_env, gs->gs_seq)) != NULL) {
			child_set_spi_in(ch, gs->gs_spi);
			ch->ch_sa->sa_proto->ip_getspi_done(ch);
		}
		free(gs);
	}
	/* Refused UPDATEs, as kernel.c's dispatch takes an errno reply. */
	while (p->p_nupdfail > 0) {
		seq = p->p_updfail[0];
		memmove(p->p_updfail, p->p_updfail + 1,
		    --p->p_nupdfail * sizeof(p->p_updfail[0]));
		ikesa_update_failed(&p->p_env, seq, ESRCH);
	}
}

int
kernel_install(struct iked *env, struct iked_child *ch, const uint8_t *kin,
    const uint8_t *kout, size_t enclen, size_t authlen, int which)
{
	struct xt_peer		*p = xt_peer(env);
	struct sockaddr_storage	 local, peer;
	struct xt_sa		*xs;
	int			 dir;

	xt_endpoints(ch, &local, &peer);
	if (enclen > XT_KEY_MAX || authlen > XT_KEY_MAX) {
		p->p_kerrors++;
		return (-1);
	}
	for (dir = 0; dir < 2; dir++) {
		if (!(which & (dir == 0 ? KERNEL_SA_IN : KERNEL_SA_OUT)))
			continue;
		if (dir == 0) {
			/* UPDATE: the larval SA of our GETSPI. */
			xs = xt_sad_lookup(p, ch->ch_spi_in,
			    (struct sockaddr *)&local);
			if (xs != NULL && xs->xs_larval &&
			    p->p_larval_lost > 0 && p->p_nupdfail < 4) {
				/* Expired: sent, refused in the reply. */
				p->p_larval_lost--;
				xt_sad_remove(p, xs);
				p->p_updfail[p->p_nupdfail++] =
				    ch->ch_getspi_seq;
				continue;
			}
			if (xs == NULL || !xs->xs_larval) {
				p->p_kerrors++;		/* ESRCH */
				return (-1);
			}
			xs->xs_larval = 0;
			p->p_nupdate++;
			/* The kernel's reply: a held answer goes. */
			ikesa_update_done(env, ch->ch_getspi_seq);
		} else {
			/* ADD: a new SPI towards the peer. */
			if (xt_sad_lookup(p, ch->ch_spi_out,
			    (struct sockaddr *)&peer) != NULL) {
				p->p_kerrors++;		/* EEXIST */
				return (-1);
			}
			if ((xs = xt_sad_new(p)) == NULL)
				return (-1);
			xs->xs_out = 1;
			xs->xs_spi = ch->ch_spi_out;
			xs->xs_src = local;
			xs->xs_dst = peer;
			p->p_nadd++;
		}
		xs->xs_mode = ch->ch_mode;
		xs->xs_reqid = ch->ch_reqid;
		xs->xs_enc = ch->ch_enc;
		xs->xs_auth = ch->ch_auth;
		xs->xs_enclen = enclen;
		xs->xs_authlen = authlen;
		memcpy(xs->xs_key, dir == 0 ? kin : kout, enclen + authlen);
		xs->xs_encap = (ch->ch_sa->sa_nat & SA_NATT_FLOAT) != 0;
	}
	if (which & KERNEL_SA_OUT) {
		/* The ADD's reply: at once. */
		child_set_addseq(ch, XT_SEQ_BASE + ++p->p_kseq);
		ch->ch_addpending = 0;
	}
	return (0);
}

void
kernel_delete(struct iked *env, struct iked_child *ch)
{
	struct xt_peer		*p = xt_peer(env);
	struct sockaddr_storage	 local, peer;
	struct xt_sa		*xs;

	xt_endpoints(ch, &local, &peer);
	if (ch->ch_spi_in != 0 && (xs = xt_sad_lookup(p, ch->ch_spi_in,
	    (struct sockaddr *)&local)) != NULL)
		xt_sad_remove(p, xs);
	if (ch->ch_spi_out != 0 && ch->ch_state == CH_S_INSTALLED &&
	    (xs = xt_sad_lookup(p, ch->ch_spi_out,
	    (struct sockaddr *)&peer)) != NULL)
		xt_sad_remove(p, xs);
}

void
kernel_delete_dir(struct iked *env, struct iked_child *ch, int which)
{
	struct xt_peer		*p = xt_peer(env);
	struct sockaddr_storage	 local, peer;
	struct xt_sa		*xs;

	xt_endpoints(ch, &local, &peer);
	if ((which & KERNEL_SA_IN) && ch->ch_spi_in != 0 &&
	    (xs = xt_sad_lookup(p, ch->ch_spi_in,
	    (struct sockaddr *)&local)) != NULL)
		xt_sad_remove(p, xs);
	if ((which & KERNEL_SA_OUT) && ch->ch_spi_out != 0 &&
	    ch->ch_state == CH_S_INSTALLED &&
	    (xs = xt_sad_lookup(p, ch->ch_spi_out,
	    (struct sockaddr *)&peer)) != NULL) {
		xt_sad_remove(p, xs);
		/* The kernel's reply (it may free nothing). */
		ikesa_delete_done(env, ch->ch_spi_out);
	}
}

void
kernel_delete_peer(struct iked *env, const struct sockaddr *local,
    const struct sockaddr *peer)
{
	struct xt_peer	*p = xt_peer(env);
	struct xt_sa	*xs;
	int		 i;

	for (i = 0; i < XT_SAD_MAX; i++) {
		xs = &p->p_sad[i];
		if (!xs->xs_used)
			continue;
		if ((sa_cmpaddr((struct sockaddr *)&xs->xs_src, local) == 0 &&
		    sa_cmpaddr((struct sockaddr *)&xs->xs_dst, peer) == 0) ||
		    (sa_cmpaddr((struct sockaddr *)&xs->xs_src, peer) == 0 &&
		    sa_cmpaddr((struct sockaddr *)&xs->xs_dst, local) == 0))
			xt_sad_remove(p, xs);
	}
}

void
kernel_acquire_fail(struct iked *env, uint32_t seq, int error)
{
	struct xt_peer	*p = xt_peer(env);

	if (seq == 0)
		return;
	p->p_nacqfail++;
	p->p_acqfail_seq = seq;
	p->p_acqfail_err = error;
}

int
kernel_generate_flows(struct iked *env, struct iked_child *ch)
{
	(void)env;
	(void)ch;
	return (0);
}

/* SAs of the fake SAD: larval ones, or installed ones (out: -1 any). */
u_int
xt_sad_count(struct xt_peer *p, int larval, int out)
{
	u_int	 i, n = 0;

	for (i = 0; i < XT_SAD_MAX; i++) {
		if (!p->p_sad[i].xs_used ||
		    p->p_sad[i].xs_larval != (larval != 0))
			continue;
		if (larval || out == -1 || p->p_sad[i].xs_out == out)
			n++;
	}
	return (n);
}

const struct xt_sa *
xt_sad_find(struct xt_peer *p, uint32_t spi, int out)
{
	u_int	 i;

	for (i = 0; i < XT_SAD_MAX; i++)
		if (p->p_sad[i].xs_used && !p->p_sad[i].xs_larval &&
		    p->p_sad[i].xs_spi == spi && p->p_sad[i].xs_out == out)
			return (&p->p_sad[i]);
	return (NULL);
}

/* The nth installed SA of a direction, in SAD order. */
const struct xt_sa *
xt_sad_nth(struct xt_peer *p, int out, u_int nth)
{
	u_int	 i;

	for (i = 0; i < XT_SAD_MAX; i++)
		if (p->p_sad[i].xs_used && !p->p_sad[i].xs_larval &&
		    p->p_sad[i].xs_out == out && nth-- == 0)
			return (&p->p_sad[i]);
	return (NULL);
}
