/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Anti-replay: the RFC 6479 window.  The bitmap is a power-of-two ring of
 * 32-bit blocks, one more block than the window needs, so that sliding
 * the window clears whole blocks and never shifts bits.  Sequence
 * numbers are kept as 64 bits; without ESN the high half is always 0.
 */

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/keydb.h>
#include <netipsec/ipsec_replay.h>

MALLOC_DEFINE(M_IPSEC_REPLAY, "ipsec-replay", "anti-replay bitmaps");

#define	REPLAY_BLKBITS	32

static inline uint64_t
replay_window(const struct secreplay *rp)
{

	return ((uint64_t)rp->wsize * 8);
}

/*
 * Set up the lock and the bitmap of an SA's window (wsize bytes, i.e.
 * wsize * 8 packets; 0 = no replay check).  Idempotent.
 */
int
ipsec_replay_init(struct secasvar *sav)
{
	struct secreplay *rp;
	uint64_t window;
	u_int n;

	rp = sav->replay;
	if (rp == NULL || (rp->flags & SECREPLAY_F_INIT))
		return (0);
	window = replay_window(rp);
	if (window > IPSEC_REPLAY_MAXWINDOW)
		return (EINVAL);
	rp->bitmap = NULL;
	rp->bitmap_size = 0;
	if (window > 0) {
		n = 1;
		while (n < howmany(window, REPLAY_BLKBITS) + 1)
			n <<= 1;
		rp->bitmap = malloc(n * sizeof(uint32_t), M_IPSEC_REPLAY,
		    M_NOWAIT | M_ZERO);
		if (rp->bitmap == NULL)
			return (ENOBUFS);
		rp->bitmap_size = n;
	}
	rp->last = 0;
	mtx_init(&rp->lock, "ipsec replay", NULL, MTX_DEF);
	rp->flags |= SECREPLAY_F_INIT;
	return (0);
}

/*
 * The next output sequence number (64 bits; without ESN only the low
 * half goes on the wire).  EINVAL when it would wrap, unless the SA
 * allows cycling (SADB_X_EXT_CYCSEQ; counted in the SA's overflow).
 */
int
ipsec_nextseq(struct secasvar *sav, uint64_t *seqp)
{
	struct secreplay *rp;
	int wrap;

	rp = sav->replay;
	mtx_lock(&rp->lock);
	if (sav->flags & SADB_X_SAFLAGS_ESN)
		wrap = rp->count == UINT64_MAX;
	else
		wrap = (uint32_t)rp->count == UINT32_MAX;
	if (wrap) {
		if ((sav->flags & SADB_X_EXT_CYCSEQ) == 0) {
			mtx_unlock(&rp->lock);
			return (EINVAL);
		}
		rp->overflow++;
	}
	*seqp = ++rp->count;
	mtx_unlock(&rp->lock);
	return (0);
}

void
ipsec_replay_fini(struct secasvar *sav)
{
	struct secreplay *rp;

	rp = sav->replay;
	if (rp == NULL || (rp->flags & SECREPLAY_F_INIT) == 0)
		return;
	if (rp->bitmap != NULL)
		free(rp->bitmap, M_IPSEC_REPLAY);
	rp->bitmap = NULL;
	rp->bitmap_size = 0;
	mtx_destroy(&rp->lock);
	rp->flags &= ~SECREPLAY_F_INIT;
}

/*
 * The 64-bit sequence number of a received low half (RFC 4303 Appendix
 * A).  With no window the high half is the one that puts the number
 * nearest to the highest seen.
 */
static uint64_t
replay_infer(const struct secreplay *rp, uint32_t seql)
{
	uint32_t tl, th, w;

	tl = (uint32_t)rp->last;
	th = (uint32_t)(rp->last >> 32);
	if (rp->bitmap == NULL)
		w = 1U << 31;
	else
		w = (uint32_t)replay_window(rp);
	if (tl >= w - 1) {
		/* The window lies within one subspace. */
		if (seql < tl - w + 1)
			th++;
	} else {
		/* The window spans two subspaces. */
		if (seql >= tl - w + 1 && th > 0)
			th--;
	}
	return (((uint64_t)th << 32) | seql);
}

/* 0 if seq64 is new and within the window; the lock is held. */
static int
replay_test(const struct secreplay *rp, uint64_t seq64)
{
	uint64_t blk;

	if (seq64 > rp->last)
		return (0);
	if (rp->last - seq64 >= replay_window(rp))
		return (EACCES);
	blk = (seq64 / REPLAY_BLKBITS) & (rp->bitmap_size - 1);
	if (rp->bitmap[blk] & (1U << (seq64 % REPLAY_BLKBITS)))
		return (EACCES);
	return (0);
}

/*
 * Before the ICV: is seq (the packet's low 32 bits) acceptable?  Returns
 * 0 and the full 64-bit number the ICV covers, or EACCES for a replayed,
 * too old or zero sequence number.
 */
int
ipsec_chkreplay(struct secasvar *sav, uint32_t seq, uint64_t *seq64)
{
	struct secreplay *rp;
	int error, esn;

	rp = sav->replay;
	esn = (sav->flags & SADB_X_SAFLAGS_ESN) != 0;
	if (rp == NULL || (rp->flags & SECREPLAY_F_INIT) == 0) {
		*seq64 = seq;
		return (esn ? EINVAL : 0);
	}
	mtx_lock(&rp->lock);
	*seq64 = esn ? replay_infer(rp, seq) : seq;
	if (rp->bitmap == NULL)
		error = 0;		/* window 0: no check */
	else if (*seq64 == 0)
		error = EACCES;		/* never sent (RFC 4303 §3.3.3) */
	else
		error = replay_test(rp, *seq64);
	mtx_unlock(&rp->lock);
	return (error);
}

/*
 * After the ICV has passed: record seq64 (from ipsec_chkreplay()) and
 * slide the window.  EACCES if another packet with the same number got
 * there first.
 */
int
ipsec_updatereplay(struct secasvar *sav, uint64_t seq64)
{
	struct secreplay *rp;
	uint64_t idx, lastidx, diff, i;
	u_int mask;

	rp = sav->replay;
	if (rp == NULL || (rp->flags & SECREPLAY_F_INIT) == 0)
		return (0);
	mtx_lock(&rp->lock);
	if (rp->bitmap == NULL) {
		/* No window; ESN still needs the highest number seen. */
		if (seq64 > rp->last)
			rp->last = seq64;
		mtx_unlock(&rp->lock);
		return (0);
	}
	if (seq64 == 0 || replay_test(rp, seq64) != 0) {
		mtx_unlock(&rp->lock);
		return (EACCES);
	}
	mask = rp->bitmap_size - 1;
	if (seq64 > rp->last) {
		/* Clear the blocks the window slides over. */
		idx = seq64 / REPLAY_BLKBITS;
		lastidx = rp->last / REPLAY_BLKBITS;
		diff = MIN(idx - lastidx, (uint64_t)rp->bitmap_size);
		for (i = 1; i <= diff; i++)
			rp->bitmap[(lastidx + i) & mask] = 0;
		rp->last = seq64;
	}
	rp->bitmap[(seq64 / REPLAY_BLKBITS) & mask] |=
	    1U << (seq64 % REPLAY_BLKBITS);
	mtx_unlock(&rp->lock);
	return (0);
}
