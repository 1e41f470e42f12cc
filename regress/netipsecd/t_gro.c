/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * netipsecd's receive coalescing (sbin/netipsecd/gro.c), on packets built
 * here: which decrypted TCP segments join a run, and that the run's
 * packet carries their bytes with lengths and checksums a receiver
 * accepts (checked against a plain RFC 1071 sum).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "../../sbin/netipsecd/gro.h"

#define	TH_PUSH		0x08
#define	TH_ACK		0x10

/* The plain RFC 1071 sum of big-endian words, for reference. */
static uint32_t
ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (sum);
}

static void
wr16(uint8_t *p, size_t v)
{

	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
wr32(uint8_t *p, uint32_t v)
{

	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

/* Whether a packet's IP (v4) and TCP checksums verify. */
static int
cksum_ok(const uint8_t *ip, size_t len)
{
	uint8_t	ph[40];
	size_t	hlen, l4;

	memset(ph, 0, sizeof(ph));
	if (ip[0] >> 4 == 4) {
		hlen = 20;
		if (ref_sum(0, ip, hlen) != 0xffff)
			return (0);
		l4 = len - hlen;
		memcpy(ph, ip + 12, 8);
		ph[9] = 6;
		wr16(ph + 10, l4);
		return (ref_sum(ref_sum(0, ph, 12), ip + hlen, l4) == 0xffff);
	}
	hlen = 40;
	l4 = len - hlen;
	memcpy(ph, ip + 8, 32);
	wr16(ph + 34, l4);
	ph[39] = 6;
	return (ref_sum(ref_sum(0, ph, 40), ip + hlen, l4) == 0xffff);
}

/* Recompute a packet's IP (v4) and TCP checksums after a change. */
static void
fix(uint8_t *p, size_t len)
{
	uint8_t	ph[40], *th;
	size_t	hlen = p[0] >> 4 == 4 ? 20 : 40, l4 = len - hlen;
	uint32_t sum;

	memset(ph, 0, sizeof(ph));
	th = p + hlen;
	if (hlen == 20) {
		p[10] = p[11] = 0;
		wr16(p + 10, (uint16_t)~ref_sum(0, p, 20));
		memcpy(ph, p + 12, 8);
		ph[9] = 6;
		wr16(ph + 10, l4);
		sum = ref_sum(0, ph, 12);
	} else {
		memcpy(ph, p + 8, 32);
		wr16(ph + 34, l4);
		ph[39] = 6;
		sum = ref_sum(0, ph, 40);
	}
	th[16] = th[17] = 0;
	wr16(th + 16, (uint16_t)~ref_sum(sum, th, l4));
}

/*
 * A TCP segment 192.0.2.1:1000 -> 192.0.2.2:2000 (or 2001:db8::1 ->
 * ::2), with 12 bytes of options (timestamps), payload bytes starting at
 * seq.  Returns its length.
 */
static size_t
seg(uint8_t *p, int af, uint32_t seq, size_t plen, uint8_t flags)
{
	size_t	hlen = af == 4 ? 20 : 40, thlen = 32, i, len;
	uint8_t	*th;

	len = hlen + thlen + plen;
	memset(p, 0, hlen + thlen);
	if (af == 4) {
		p[0] = 0x45;
		wr16(p + 2, len);
		wr16(p + 4, seq & 0xffff);	/* the id changes */
		p[6] = 0x40;			/* DF */
		p[8] = 64;
		p[9] = 6;
		memcpy(p + 12, "\300\000\002\001\300\000\002\002", 8);
	} else {
		p[0] = 0x60;
		wr16(p + 4, thlen + plen);
		p[6] = 6;
		p[7] = 64;
		p[8] = 0x20; p[9] = 0x01; p[10] = 0x0d; p[11] = 0xb8;
		p[23] = 1;
		p[24] = 0x20; p[25] = 0x01; p[26] = 0x0d; p[27] = 0xb8;
		p[39] = 2;
	}
	th = p + hlen;
	wr16(th, 1000);
	wr16(th + 2, 2000);
	wr32(th + 4, seq);
	wr32(th + 8, 77);
	th[12] = (uint8_t)(thlen / 4) << 4;
	th[13] = flags;
	wr16(th + 14, 500);
	memcpy(th + 20, "\001\001\010\012\000\000\000\001\000\000\000\002",
	    12);
	for (i = 0; i < plen; i++)
		th[thlen + i] = (uint8_t)((seq + i) * 7 + 3);
	fix(p, len);
	return (len);
}

/* The ESP packet that carried a segment: only its IP header matters. */
static const uint8_t *
outer(int af)
{
	static uint8_t	o4[20], o6[40];

	if (af == 4) {
		o4[0] = 0x45;
		memcpy(o4 + 12, "\300\000\002\001\300\000\002\002", 8);
		return (o4);
	}
	o6[0] = 0x60;
	o6[24] = 0x20; o6[25] = 0x01; o6[26] = 0x0d; o6[27] = 0xb8;
	o6[39] = 2;
	return (o6);
}

/*
 * Coalesce n segments of the sizes in plens starting at seq 1000; check
 * the run's packet: length, headers, payload, checksums.
 */
static void
run(int af, const size_t *plens, int n)
{
	struct gro	 g;
	struct gro_seg	 sg;
	uint8_t		 p[2000];
	const uint8_t	*m;
	size_t		 len, mlen, total = 0, hlen = af == 4 ? 20 : 40, i;
	uint32_t	 seq = 1000;
	int		 k;

	ATF_REQUIRE(gro_init(&g, GRO_MAX) == 0);
	for (k = 0; k < n; k++) {
		len = seg(p, af, seq, plens[k], TH_ACK);
		ATF_REQUIRE(cksum_ok(p, len));
		ATF_REQUIRE_MSG(gro_check(&g, p, len, outer(af), hlen, &sg),
		    "segment %d not eligible", k);
		if (k == 0)
			gro_start(&g, p, len, &sg);
		else
			ATF_REQUIRE_MSG(gro_append(&g, p, &sg) == 0,
			    "segment %d not appended", k);
		seq += (uint32_t)plens[k];
		total += plens[k];
	}
	m = gro_finish(&g, &mlen);
	ATF_REQUIRE(m != NULL);
	ATF_REQUIRE_EQ(mlen, hlen + 32 + total);
	ATF_REQUIRE_MSG(cksum_ok(m, mlen), "bad checksum after %d", n);
	ATF_REQUIRE_EQ((m[hlen + 4] << 24 | m[hlen + 5] << 16 |
	    m[hlen + 6] << 8 | m[hlen + 7]), 1000);
	for (i = 0; i < total; i++)
		ATF_REQUIRE_EQ(m[hlen + 32 + i], (uint8_t)((1000 + i) * 7 + 3));
	ATF_REQUIRE(gro_finish(&g, &mlen) == NULL);
	gro_fini(&g);
}

ATF_TC_WITHOUT_HEAD(sum);
ATF_TC_BODY(sum, tc)
{
	uint8_t	b[101];
	size_t	i, len;

	for (i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37 + 11);
	for (len = 0; len <= sizeof(b); len++)
		ATF_REQUIRE_EQ(gro_sum(b, len), ref_sum(0, b, len));
}

ATF_TC_WITHOUT_HEAD(merge4);
ATF_TC_BODY(merge4, tc)
{
	const size_t	plens[] = { 1332, 1332, 1332, 1332, 1332, 600 };

	run(4, plens, 1);
	run(4, plens, 2);
	run(4, plens, 6);
}

ATF_TC_WITHOUT_HEAD(merge6);
ATF_TC_BODY(merge6, tc)
{
	const size_t	plens[] = { 1300, 1300, 1300, 10 };

	run(6, plens, 4);
}

/* Payloads of odd lengths: later ones start at odd offsets. */
ATF_TC_WITHOUT_HEAD(odd);
ATF_TC_BODY(odd, tc)
{
	const size_t	plens[] = { 1331, 7, 1, 1332, 999 };

	run(4, plens, 5);
	run(6, plens, 5);
}

/* What must not join, or not start, a run. */
ATF_TC_WITHOUT_HEAD(refused);
ATF_TC_BODY(refused, tc)
{
	struct gro	 g;
	struct gro_seg	 sg;
	uint8_t		 p[2000], q[2000], o[20];
	size_t		 len, qlen;

	ATF_REQUIRE(gro_init(&g, GRO_MAX) == 0);
	len = seg(p, 4, 1000, 100, TH_ACK);
	ATF_REQUIRE(gro_check(&g, p, len, outer(4), 20, &sg));
	gro_start(&g, p, len, &sg);

	/* A gap in the sequence. */
	qlen = seg(q, 4, 1101, 100, TH_ACK);
	ATF_REQUIRE(gro_check(&g, q, qlen, outer(4), 20, &sg));
	ATF_CHECK(gro_append(&g, q, &sg) == -1);
	/* Another ack number. */
	qlen = seg(q, 4, 1100, 100, TH_ACK);
	q[20 + 11] ^= 1;
	fix(q, qlen);
	ATF_REQUIRE(gro_check(&g, q, qlen, outer(4), 20, &sg));
	ATF_CHECK(gro_append(&g, q, &sg) == -1);
	/* Another TTL. */
	qlen = seg(q, 4, 1100, 100, TH_ACK);
	q[8] = 63;
	fix(q, qlen);
	ATF_REQUIRE(gro_check(&g, q, qlen, outer(4), 20, &sg));
	ATF_CHECK(gro_append(&g, q, &sg) == -1);
	/* Other options (a newer timestamp). */
	qlen = seg(q, 4, 1100, 100, TH_ACK);
	q[20 + 27] ^= 1;
	fix(q, qlen);
	ATF_REQUIRE(gro_check(&g, q, qlen, outer(4), 20, &sg));
	ATF_CHECK(gro_append(&g, q, &sg) == -1);

	/* A bad TCP checksum: not eligible, the kernel drops it alone. */
	qlen = seg(q, 4, 1100, 100, TH_ACK);
	q[20 + 40] ^= 0x55;
	ATF_CHECK(!gro_check(&g, q, qlen, outer(4), 20, &sg));
	/* SYN, FIN, RST, no ACK. */
	qlen = seg(q, 4, 1100, 100, TH_ACK | 0x01);
	ATF_CHECK(!gro_check(&g, q, qlen, outer(4), 20, &sg));
	qlen = seg(q, 4, 1100, 100, 0x02);
	ATF_CHECK(!gro_check(&g, q, qlen, outer(4), 20, &sg));
	qlen = seg(q, 4, 1100, 100, TH_ACK | 0x04);
	ATF_CHECK(!gro_check(&g, q, qlen, outer(4), 20, &sg));
	qlen = seg(q, 4, 1100, 100, TH_PUSH);
	ATF_CHECK(!gro_check(&g, q, qlen, outer(4), 20, &sg));
	/* No data. */
	qlen = seg(q, 4, 1100, 0, TH_ACK);
	ATF_CHECK(!gro_check(&g, q, qlen, outer(4), 20, &sg));
	/* Not for the ESP packet's destination: it may be forwarded. */
	qlen = seg(q, 4, 1100, 100, TH_ACK);
	memcpy(o, outer(4), 20);
	o[19] = 3;
	ATF_CHECK(!gro_check(&g, q, qlen, o, 20, &sg));
	/* A fragment; IP options. */
	qlen = seg(q, 4, 1100, 100, TH_ACK);
	q[6] |= 0x20;
	fix(q, qlen);
	ATF_CHECK(!gro_check(&g, q, qlen, outer(4), 20, &sg));
	qlen = seg(q, 4, 1100, 100, TH_ACK);
	q[0] = 0x46;
	ATF_CHECK(!gro_check(&g, q, qlen, outer(4), 20, &sg));
	/* IPv6 in an IPv4 ESP packet. */
	qlen = seg(q, 6, 1100, 100, TH_ACK);
	ATF_CHECK(!gro_check(&g, q, qlen, outer(4), 20, &sg));

	/* The next segment still joins; PSH ends the run. */
	qlen = seg(q, 4, 1100, 100, TH_ACK | TH_PUSH);
	ATF_REQUIRE(gro_check(&g, q, qlen, outer(4), 20, &sg));
	ATF_CHECK(sg.sg_push);
	ATF_REQUIRE(gro_append(&g, q, &sg) == 0);
	qlen = seg(q, 4, 1200, 100, TH_ACK);
	ATF_REQUIRE(gro_check(&g, q, qlen, outer(4), 20, &sg));
	ATF_CHECK(gro_append(&g, q, &sg) == -1);
	gro_fini(&g);

	/* Off. */
	ATF_REQUIRE(gro_init(&g, 0) == 0);
	ATF_CHECK(!gro_check(&g, p, len, outer(4), 20, &sg));
	gro_fini(&g);
}

/* A run stops short of its maximum. */
ATF_TC_WITHOUT_HEAD(full);
ATF_TC_BODY(full, tc)
{
	struct gro	 g;
	struct gro_seg	 sg;
	uint8_t		 p[2000];
	const uint8_t	*m;
	size_t		 len;

	ATF_REQUIRE(gro_init(&g, 3000) == 0);
	len = seg(p, 4, 1000, 1400, TH_ACK);
	ATF_REQUIRE(gro_check(&g, p, len, outer(4), 20, &sg));
	gro_start(&g, p, len, &sg);
	len = seg(p, 4, 2400, 1400, TH_ACK);
	ATF_REQUIRE(gro_check(&g, p, len, outer(4), 20, &sg));
	ATF_REQUIRE(gro_append(&g, p, &sg) == 0);
	len = seg(p, 4, 3800, 1400, TH_ACK);
	ATF_REQUIRE(gro_check(&g, p, len, outer(4), 20, &sg));
	ATF_CHECK(gro_append(&g, p, &sg) == -1);
	m = gro_finish(&g, &len);
	ATF_REQUIRE(m != NULL);
	ATF_CHECK_EQ(len, 20 + 32 + 2800);
	ATF_CHECK(cksum_ok(m, len));
	gro_fini(&g);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, sum);
	ATF_TP_ADD_TC(tp, merge4);
	ATF_TP_ADD_TC(tp, merge6);
	ATF_TP_ADD_TC(tp, odd);
	ATF_TP_ADD_TC(tp, refused);
	ATF_TP_ADD_TC(tp, full);
	return (atf_no_error());
}
