/*
 * The anti-replay window (sys/netipsec/ipsec_replay.c): duplicates, old
 * packets, reordering, window sizes 32 to 4096, the check/update split,
 * and ESN high-order bits inferred per RFC 4303 Appendix A.  Kernel code,
 * built with -D_KERNEL.
 */
#include <atf-c.h>

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/keydb.h>
#include <netipsec/ipsec_replay.h>

MALLOC_DEFINE(M_TEST, "test", "replay test");

static struct secasvar *
mkwin(u_int packets, int esn)
{
	static struct secasvar sav;
	static struct secreplay rp;

	memset(&sav, 0, sizeof(sav));
	memset(&rp, 0, sizeof(rp));
	rp.wsize = packets / 8;
	sav.replay = &rp;
	sav.flags = esn ? SADB_X_SAFLAGS_ESN : 0;
	ATF_REQUIRE_EQ(ipsec_replay_init(&sav), 0);
	return (&sav);
}

/* Check, then (if the ICV had passed) update: 0 if accepted. */
static int
rx(struct secasvar *sav, uint32_t seq)
{
	uint64_t s64;
	int error;

	error = ipsec_chkreplay(sav, seq, &s64);
	if (error == 0)
		error = ipsec_updatereplay(sav, s64);
	return (error);
}

static uint32_t rs = 88172645;

static uint32_t
rnd(void)
{

	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return (rs);
}

ATF_TC_WITHOUT_HEAD(basic);
ATF_TC_BODY(basic, tc)
{
	struct secasvar *sav;

	sav = mkwin(32, 0);
	ATF_CHECK_EQ(rx(sav, 0), EACCES);	/* never sent */
	ATF_CHECK_EQ(rx(sav, 1), 0);
	ATF_CHECK_EQ(rx(sav, 1), EACCES);	/* duplicate */
	ATF_CHECK_EQ(rx(sav, 3), 0);
	ATF_CHECK_EQ(rx(sav, 2), 0);		/* reordered, in window */
	ATF_CHECK_EQ(rx(sav, 2), EACCES);
	ATF_CHECK_EQ(rx(sav, 100), 0);
	ATF_CHECK_EQ(rx(sav, 69), 0);		/* 100 - 69 = 31 < 32 */
	ATF_CHECK_EQ(rx(sav, 68), EACCES);	/* 32 behind: too old */
	ATF_CHECK_EQ(rx(sav, 3), EACCES);
	ipsec_replay_fini(sav);
}

/* Check twice, update once: the second update loses (ICV race). */
ATF_TC_WITHOUT_HEAD(split);
ATF_TC_BODY(split, tc)
{
	struct secasvar *sav;
	uint64_t a, b;

	sav = mkwin(64, 0);
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 7, &a), 0);
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 7, &b), 0);
	ATF_CHECK_EQ(a, 7);
	/* An ICV failure updates nothing: the number stays usable. */
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 7, &b), 0);
	ATF_CHECK_EQ(ipsec_updatereplay(sav, a), 0);
	ATF_CHECK_EQ(ipsec_updatereplay(sav, b), EACCES);
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 7, &b), EACCES);
	ipsec_replay_fini(sav);
}

ATF_TC_WITHOUT_HEAD(window0);
ATF_TC_BODY(window0, tc)
{
	struct secasvar *sav;

	sav = mkwin(0, 0);
	ATF_CHECK(sav->replay->bitmap == NULL);
	ATF_CHECK_EQ(rx(sav, 5), 0);
	ATF_CHECK_EQ(rx(sav, 5), 0);
	ATF_CHECK_EQ(rx(sav, 1), 0);
	ATF_CHECK_EQ(rx(sav, 0), 0);
	ipsec_replay_fini(sav);
}

/*
 * For each window size, random arrivals against a model that remembers
 * every number accepted: accepted iff new and within W of the highest.
 */
static void
window_model(u_int w)
{
	struct secasvar *sav;
	uint8_t *seen;
	uint32_t top, s, n, i, lo;
	int want;

	n = w * 40;
	seen = malloc(n + 1, M_TEST, M_WAITOK | M_ZERO);
	ATF_REQUIRE(seen != NULL);
	sav = mkwin(w, 0);
	top = 0;
	for (i = 0; i < n * 3; i++) {
		/* Mostly near the top, some far behind, some ahead. */
		lo = top > w + w / 2 ? top - w - w / 2 : 1;
		s = lo + rnd() % (top - lo + 1 + w / 4);
		if (s > n)
			s = n;
		if (s == 0)
			s = 1;
		want = !seen[s] && (s > top || top - s < w);
		ATF_REQUIRE_EQ_MSG(rx(sav, s) == 0, want,
		    "w %u seq %u top %u", w, s, top);
		if (want) {
			seen[s] = 1;
			if (s > top)
				top = s;
		}
	}
	/* The edges, exactly. */
	s = top + 2 * w + 1000;
	ATF_CHECK_EQ(rx(sav, s), 0);
	ATF_CHECK_EQ(rx(sav, s - w + 1), 0);
	ATF_CHECK_EQ(rx(sav, s - w), EACCES);
	ATF_CHECK_EQ(rx(sav, s - w + 1), EACCES);
	/* A jump larger than the whole bitmap clears it. */
	s += 10 * w;
	ATF_CHECK_EQ(rx(sav, s), 0);
	for (i = 1; i < w; i++)
		ATF_REQUIRE_EQ(rx(sav, s - i), 0);
	ipsec_replay_fini(sav);
	free(seen, M_TEST);
}

ATF_TC_WITHOUT_HEAD(sizes);
ATF_TC_BODY(sizes, tc)
{

	window_model(32);
	window_model(64);
	window_model(1024);
	window_model(4096);
}

ATF_TC_WITHOUT_HEAD(toolarge);
ATF_TC_BODY(toolarge, tc)
{
	struct secasvar sav;
	struct secreplay rp;

	memset(&sav, 0, sizeof(sav));
	memset(&rp, 0, sizeof(rp));
	sav.replay = &rp;
	rp.wsize = IPSEC_REPLAY_MAXWINDOW / 8 + 1;
	ATF_CHECK_EQ(ipsec_replay_init(&sav), EINVAL);
}

/* RFC 4303 Appendix A: both cases, and the wrap of the low half. */
ATF_TC_WITHOUT_HEAD(esn);
ATF_TC_BODY(esn, tc)
{
	struct secasvar *sav;
	uint64_t s64;
	uint32_t s;

	sav = mkwin(64, 1);
	/* Window within one subspace (Tl >= W - 1). */
	sav->replay->last = 0x1fffffff0ULL;
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 0xffffffe0, &s64), 0);
	ATF_CHECK_EQ(s64, 0x1ffffffe0ULL);
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 5, &s64), 0);
	ATF_CHECK_EQ(s64, 0x200000005ULL);
	/* Across the wrap: accepted in order, then old ones still work. */
	for (s = 0xfffffff1; s != 10; s++)
		ATF_REQUIRE_EQ(rx(sav, s), 0);
	ATF_CHECK_EQ(sav->replay->last, 0x200000009ULL);
	/* Window spans two subspaces (Tl < W - 1). */
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 0xfffffff5, &s64), EACCES);
	ATF_CHECK_EQ(s64, 0x1fffffff5ULL);	/* replayed */
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 0xffffffd0, &s64), 0);
	ATF_CHECK_EQ(s64, 0x1ffffffd0ULL);	/* in window, unseen */
	/* Below the window: taken as the next subspace (Appendix A). */
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 0xffffff00, &s64), 0);
	ATF_CHECK_EQ(s64, 0x2ffffff00ULL);
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 20, &s64), 0);
	ATF_CHECK_EQ(s64, 0x200000014ULL);
	ATF_CHECK_EQ(rx(sav, 5), EACCES);
	ipsec_replay_fini(sav);

	/* The start of an ESN SA: the first subspace, high half 0. */
	sav = mkwin(32, 1);
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 1, &s64), 0);
	ATF_CHECK_EQ(s64, 1);
	ipsec_replay_fini(sav);

	/* No window: the nearest high half. */
	sav = mkwin(0, 1);
	sav->replay->last = 0x3fffffff0ULL;
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 2, &s64), 0);
	ATF_CHECK_EQ(s64, 0x400000002ULL);
	ATF_CHECK_EQ(ipsec_updatereplay(sav, s64), 0);
	ATF_CHECK_EQ(ipsec_chkreplay(sav, 0xfffffff8, &s64), 0);
	ATF_CHECK_EQ(s64, 0x3fffffff8ULL);
	ipsec_replay_fini(sav);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, basic);
	ATF_TP_ADD_TC(tp, split);
	ATF_TP_ADD_TC(tp, window0);
	ATF_TP_ADD_TC(tp, sizes);
	ATF_TP_ADD_TC(tp, toolarge);
	ATF_TP_ADD_TC(tp, esn);
	return (atf_no_error());
}
