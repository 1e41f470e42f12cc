/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * mbuf(9) chains: m_length, m_copydata and m_copyback across buffers,
 * m_pullup, m_append, m_adj from either end, M_PREPEND, m_catpkt; every
 * result checked byte for byte against a flat copy of the packet.
 */

#include <atf-c.h>
#include <ukern/ukern.h>

/* The packet's bytes: i * 7 + 3. */
static uint8_t
pat(int i)
{

	return ((uint8_t)(i * 7 + 3));
}

/*
 * A packet of the given buffer lengths, in order (a 0 makes an empty
 * buffer), its bytes pat(0), pat(1), ...
 */
static struct mbuf *
mkchain(const int *lens, int n)
{
	struct mbuf *m0, *m;
	uint8_t b[512];
	int i, j, off;

	off = 0;
	m0 = NULL;
	for (i = 0; i < n; i++) {
		ATF_REQUIRE(lens[i] <= (int)sizeof(b));
		for (j = 0; j < lens[i]; j++)
			b[j] = pat(off + j);
		m = i == 0 ? m_get2(lens[i], M_WAITOK, MT_DATA, M_PKTHDR) :
		    m_get(M_WAITOK, MT_DATA);
		ATF_REQUIRE(m != NULL);
		ATF_REQUIRE(m_append(m, lens[i], b));
		if (m0 == NULL)
			m0 = m;
		else
			m_catpkt(m0, m);
		off += lens[i];
	}
	return (m0);
}

/* The chain holds exactly want[0..len) and its header says len. */
static void
check(struct mbuf *m, const uint8_t *want, int len)
{
	uint8_t got[2048];

	ATF_REQUIRE(len <= (int)sizeof(got));
	ATF_CHECK_EQ((int)m_length(m, NULL), len);
	ATF_CHECK_EQ(m->m_pkthdr.len, len);
	m_copydata(m, 0, len, got);
	ATF_CHECK(memcmp(got, want, len) == 0);
}

static void
flat(uint8_t *p, int off, int len)
{
	int i;

	for (i = 0; i < len; i++)
		p[i] = pat(off + i);
}

static const int lens[] = { 10, 0, 7, 100, 1, 50 };
#define	TOTAL	168

ATF_TC_WITHOUT_HEAD(copydata);
ATF_TC_BODY(copydata, tc)
{
	struct mbuf *m, *last;
	uint8_t want[TOTAL], got[TOTAL];
	int off, len;

	m = mkchain(lens, nitems(lens));
	flat(want, 0, TOTAL);
	ATF_CHECK_EQ(m_length(m, &last), TOTAL);
	ATF_CHECK_EQ(last->m_len, 50);
	ATF_CHECK(last->m_next == NULL);
	check(m, want, TOTAL);
	/* Every window that crosses a boundary. */
	for (off = 0; off < TOTAL; off += 3)
		for (len = 0; off + len <= TOTAL; len += 11) {
			memset(got, 0, sizeof(got));
			m_copydata(m, off, len, got);
			ATF_CHECK_MSG(memcmp(got, want + off, len) == 0,
			    "off %d len %d", off, len);
		}
	m_freem(m);
}

ATF_TC_WITHOUT_HEAD(copyback);
ATF_TC_BODY(copyback, tc)
{
	struct mbuf *m;
	uint8_t want[TOTAL + 40], in[64];
	int i;

	m = mkchain(lens, nitems(lens));
	flat(want, 0, TOTAL);
	for (i = 0; i < (int)sizeof(in); i++)
		in[i] = (uint8_t)(0xa0 ^ i);
	/* Across the empty buffer and the 7-byte one. */
	m_copyback(m, 8, 20, in);
	memcpy(want + 8, in, 20);
	check(m, want, TOTAL);
	/* Past the end: the packet grows, zeros before what is written. */
	m_copyback(m, TOTAL + 5, 30, in);
	memset(want + TOTAL, 0, 5);
	memcpy(want + TOTAL + 5, in, 30);
	check(m, want, TOTAL + 35);
	/* Nothing at the very end, and nothing at all: nothing changes. */
	m_copyback(m, TOTAL + 35, 0, in);
	m_copyback(m, 0, 0, in);
	check(m, want, TOTAL + 35);
	m_freem(m);
	{
		static const int empty[] = { 0, 0, 0 };

		m = mkchain(empty, nitems(empty));
		m_copyback(m, 0, 0, in);
		check(m, want, 0);
		m_copyback(m, 0, 3, in);	/* grows the last */
		check(m, in, 3);
		m_freem(m);
	}
}

/* m_devget(): the bytes, and off bytes more of leading space, as FreeBSD. */
ATF_TC_WITHOUT_HEAD(devget);
ATF_TC_BODY(devget, tc)
{
	struct mbuf *m;
	uint8_t b[100];
	int lead;

	flat(b, 0, sizeof(b));
	m = m_devget((char *)b, sizeof(b), 0, NULL, NULL);
	ATF_REQUIRE(m != NULL);
	check(m, b, sizeof(b));
	lead = M_LEADINGSPACE(m);
	ATF_CHECK(lead >= max_linkhdr);
	m_freem(m);
	m = m_devget((char *)b, sizeof(b), 16, NULL, NULL);
	ATF_REQUIRE(m != NULL);
	check(m, b, sizeof(b));
	ATF_CHECK_EQ(M_LEADINGSPACE(m), lead + 16);
	m_freem(m);
	ATF_CHECK(m_devget((char *)b, sizeof(b), max_linkhdr + 1, NULL,
	    NULL) == NULL);
}

ATF_TC_WITHOUT_HEAD(pullup);
ATF_TC_BODY(pullup, tc)
{
	struct mbuf *m;
	uint8_t want[TOTAL];

	flat(want, 0, TOTAL);
	m = mkchain(lens, nitems(lens));
	/* Already there: the same mbuf, untouched. */
	ATF_REQUIRE(m_pullup(m, 10) == m);
	ATF_CHECK_EQ(m->m_len, 10);
	/* From four buffers: the emptied ones go, the rest stays. */
	m = m_pullup(m, 60);
	ATF_REQUIRE(m != NULL);
	ATF_CHECK_EQ(m->m_len, 60);
	ATF_CHECK(memcmp(mtod(m, uint8_t *), want, 60) == 0);
	ATF_CHECK_EQ(m->m_next->m_len, 57);
	check(m, want, TOTAL);
	/* The whole packet. */
	m = m_pullup(m, TOTAL);
	ATF_REQUIRE(m != NULL);
	ATF_CHECK_EQ(m->m_len, TOTAL);
	ATF_CHECK(m->m_next == NULL);
	check(m, want, TOTAL);
	/* More than there is: the chain is freed (ASan would see a leak). */
	ATF_CHECK(m_pullup(m, TOTAL + 1) == NULL);
}

ATF_TC_WITHOUT_HEAD(append_prepend);
ATF_TC_BODY(append_prepend, tc)
{
	struct mbuf *m;
	uint8_t want[40 + TOTAL + 300], big[300];
	int i;

	m = mkchain(lens, nitems(lens));
	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = (uint8_t)(i ^ 0x5a);
	/* After the last buffer, more than its room. */
	ATF_REQUIRE(m_append(m, sizeof(big), big));
	flat(want + 40, 0, TOTAL);
	memcpy(want + 40 + TOTAL, big, sizeof(big));
	/* Before the first, more than its leading space. */
	M_PREPEND(m, max_linkhdr + 40, M_NOWAIT);
	ATF_REQUIRE(m != NULL);
	if (m == NULL)
		return;		/* for cppcheck: ATF_REQUIRE does not return */
	ATF_CHECK_EQ(m->m_pkthdr.len, max_linkhdr + 40 + TOTAL +
	    (int)sizeof(big));
	m_adj(m, max_linkhdr);
	m_copyback(m, 0, 40, big);
	memcpy(want, big, 40);
	check(m, want, 40 + TOTAL + sizeof(big));
	m_freem(m);
}

ATF_TC_WITHOUT_HEAD(adj);
ATF_TC_BODY(adj, tc)
{
	struct mbuf *m;
	uint8_t want[TOTAL];

	flat(want, 0, TOTAL);
	m = mkchain(lens, nitems(lens));
	/* From the head, across the first three buffers. */
	m_adj(m, 15);
	check(m, want + 15, TOTAL - 15);
	/* From the tail, across the last two. */
	m_adj(m, -60);
	check(m, want + 15, TOTAL - 75);
	/* More than there is: nothing left, the chain still whole. */
	m_adj(m, -1000);
	ATF_CHECK_EQ((int)m_length(m, NULL), 0);
	ATF_CHECK_EQ(m->m_pkthdr.len, 0);
	m_freem(m);

	m = mkchain(lens, nitems(lens));
	m_adj(m, 1000);
	ATF_CHECK_EQ((int)m_length(m, NULL), 0);
	ATF_CHECK_EQ(m->m_pkthdr.len, 0);
	m_freem(m);
}

/* One buffer behaves as before chains came (the ESP path's case). */
ATF_TC_WITHOUT_HEAD(single);
ATF_TC_BODY(single, tc)
{
	static const int one[] = { 64 };
	struct mbuf *m;
	uint8_t want[64 + 16], tail[16];

	m = mkchain(one, 1);
	flat(want, 0, 64);
	memset(tail, 0xee, sizeof(tail));
	ATF_REQUIRE(m_append(m, sizeof(tail), tail));
	memcpy(want + 64, tail, sizeof(tail));
	ATF_CHECK(m->m_next == NULL);
	ATF_CHECK_EQ(m->m_len, 80);
	check(m, want, 80);
	M_PREPEND(m, 8, M_NOWAIT);
	ATF_REQUIRE(m != NULL);
	if (m == NULL)
		return;		/* as above */
	ATF_CHECK_EQ(m->m_len, 88);
	ATF_CHECK_EQ(m->m_pkthdr.len, 88);
	m_adj(m, 8);
	m_adj(m, -16);
	check(m, want, 64);
	ATF_CHECK_EQ(m->m_len, 64);
	m_freem(m);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, copydata);
	ATF_TP_ADD_TC(tp, copyback);
	ATF_TP_ADD_TC(tp, devget);
	ATF_TP_ADD_TC(tp, pullup);
	ATF_TP_ADD_TC(tp, append_prepend);
	ATF_TP_ADD_TC(tp, adj);
	ATF_TP_ADD_TC(tp, single);
	return (atf_no_error());
}
