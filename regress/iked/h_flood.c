/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * h_flood: spoofed IKE session openers, as fast as one thread can send
 * them, for t_flood.  Each datagram is an IKEv1 Main Mode MM1 or an
 * IKEv2 IKE_SA_INIT request a responder would accept (the proposal of
 * t_flood's rule), with a random initiator SPI (and nonce, and KE
 * value) and a random source address inside a prefix, built with its
 * IP and UDP headers on a raw socket and sent in batches (sendmmsg).
 *
 *	h_flood -m mm1|init -s PREFIX -d ADDRESS [-p PORT] [-t SECONDS]
 *
 * Linux (IP_HDRINCL, and IPPROTO_RAW's header inclusion for IPv6).  At
 * the end one line on standard output: "sent N in S s: R/s".
 */

#define _GNU_SOURCE		/* sendmmsg(2) */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ikev1.h"
#include "ikev2.h"

#define BATCH		64
#define PKT_MAX		512

static uint64_t	 rnd_state;

/* xorshift64*: a flood needs speed, not secrecy. */
static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (rnd_state * 0x2545f4914f6cdd1dULL);
}

static void
rnd_fill(uint8_t *p, size_t len)
{
	uint64_t	 r;
	size_t		 i;

	for (i = 0; i + 8 <= len; i += 8) {
		r = rnd();
		memcpy(p + i, &r, 8);
	}
	if (i < len) {
		r = rnd();
		memcpy(p + i, &r, len - i);
	}
}

static size_t
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return (2);
}

static size_t
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
	return (4);
}

/* A TV attribute of IKEv1 (and of IKEv2's key length). */
static size_t
attr_tv(uint8_t *p, uint16_t type, uint16_t val)
{
	put16(p, 0x8000 | type);
	put16(p + 2, val);
	return (4);
}

/*
 * MM1: HDR, SA with one proposal of one transform: AES-CBC-256,
 * SHA2-256, PSK, MODP-2048, 8 h.  The initiator cookie is at 0.
 */
static size_t
build_mm1(uint8_t *m)
{
	size_t	 n = 28, sa, prop, xf;

	memset(m, 0, 28);
	m[16] = IKEV1_PAYLOAD_SA;
	m[17] = IKEV1_VERSION;
	m[18] = IKEV1_EXCHANGE_MAIN;
	sa = n;
	n += 4;
	n += put32(m + n, IKEV1_DOI_IPSEC);
	n += put32(m + n, IKEV1_SIT_IDENTITY_ONLY);
	prop = n;
	n += 4;
	m[n++] = 1;			/* proposal number */
	m[n++] = IKEV1_PROTO_ISAKMP;
	m[n++] = 0;			/* SPI size */
	m[n++] = 1;			/* transforms */
	xf = n;
	n += 4;
	m[n++] = 1;			/* transform number */
	m[n++] = IKEV1_KEY_IKE;
	n += put16(m + n, 0);
	n += attr_tv(m + n, IKEV1_ATTR_ENCRYPTION_ALGORITHM,
	    IKEV1_ENC_AES_CBC);
	n += attr_tv(m + n, IKEV1_ATTR_KEY_LENGTH, 256);
	n += attr_tv(m + n, IKEV1_ATTR_HASH_ALGORITHM, IKEV1_HASH_SHA2_256);
	n += attr_tv(m + n, IKEV1_ATTR_AUTHENTICATION_METHOD, IKEV1_AUTH_PSK);
	n += attr_tv(m + n, IKEV1_ATTR_GROUP_DESCRIPTION,
	    IKEV1_GROUP_MODP_2048);
	n += attr_tv(m + n, IKEV1_ATTR_LIFE_TYPE, IKEV1_LIFE_SECONDS);
	n += attr_tv(m + n, IKEV1_ATTR_LIFE_DURATION, 28800);
	m[xf] = IKEV1_PAYLOAD_NONE;
	put16(m + xf + 2, (uint16_t)(n - xf));
	m[prop] = IKEV1_PAYLOAD_NONE;
	put16(m + prop + 2, (uint16_t)(n - prop));
	m[sa] = IKEV1_PAYLOAD_NONE;
	put16(m + sa + 2, (uint16_t)(n - sa));
	put32(m + 24, (uint32_t)n);
	return (n);
}

/*
 * IKE_SA_INIT: HDR, SA (AES-GCM-16-256, PRF-HMAC-SHA2-256, Curve25519),
 * KE (32 bytes), Ni (32 bytes).  SPIi at 0; *ke_off and *ni_off say
 * where the KE data and the nonce, 32 bytes each, are to randomise.
 */
static size_t
build_init(uint8_t *m, size_t *ke_off, size_t *ni_off)
{
	size_t	 n = 28, sa, prop, xf, ke, no;

	memset(m, 0, 28);
	m[16] = IKEV2_PAYLOAD_SA;
	m[17] = IKEV2_VERSION;
	m[18] = IKEV2_EXCHANGE_IKE_SA_INIT;
	m[19] = IKEV2_FLAG_INITIATOR;
	sa = n;
	n += 4;
	prop = n;
	n += 4;
	m[n++] = 1;			/* proposal number */
	m[n++] = IKEV2_SAPROTO_IKE;
	m[n++] = 0;			/* SPI size */
	m[n++] = 3;			/* transforms */
	xf = n;
	m[n] = IKEV2_XFORM_MORE;
	n += 4;
	m[n++] = IKEV2_XFORMTYPE_ENCR;
	m[n++] = 0;
	n += put16(m + n, IKEV2_XFORMENCR_AES_GCM_16);
	n += attr_tv(m + n, 14, 256);	/* Key Length */
	put16(m + xf + 2, (uint16_t)(n - xf));
	xf = n;
	m[n] = IKEV2_XFORM_MORE;
	n += 4;
	m[n++] = IKEV2_XFORMTYPE_PRF;
	m[n++] = 0;
	n += put16(m + n, IKEV2_XFORMPRF_HMAC_SHA2_256);
	put16(m + xf + 2, (uint16_t)(n - xf));
	xf = n;
	m[n] = IKEV2_XFORM_LAST;
	n += 4;
	m[n++] = IKEV2_XFORMTYPE_DH;
	m[n++] = 0;
	n += put16(m + n, IKEV2_XFORMDH_CURVE25519);
	put16(m + xf + 2, (uint16_t)(n - xf));
	m[prop] = IKEV2_XFORM_LAST;
	put16(m + prop + 2, (uint16_t)(n - prop));
	m[sa] = IKEV2_PAYLOAD_KE;
	put16(m + sa + 2, (uint16_t)(n - sa));
	ke = n;
	m[n] = IKEV2_PAYLOAD_NONCE;
	n += 4;
	n += put16(m + n, IKEV2_XFORMDH_CURVE25519);
	n += put16(m + n, 0);
	*ke_off = n;
	n += 32;
	put16(m + ke + 2, (uint16_t)(n - ke));
	no = n;
	m[n] = IKEV2_PAYLOAD_NONE;
	n += 4;
	*ni_off = n;
	n += 32;
	put16(m + no + 2, (uint16_t)(n - no));
	put32(m + 24, (uint32_t)n);
	return (n);
}

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return (sum);
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: h_flood -m mm1|init -s prefix -d address "
	    "[-p port] [-t seconds]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	static uint8_t		 pkt[BATCH][PKT_MAX];
	struct sockaddr_storage	 dst;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	struct mmsghdr		 mm[BATCH];
	struct iovec		 iov[BATCH];
	struct timespec		 t0, t;
	struct ip		*ip;
	struct ip6_hdr		*ip6;
	struct udphdr		*uh;
	uint8_t			 ike[PKT_MAX], src[16], mask[16], *dsta;
	uint8_t			*p, *a, *body;
	uint32_t		 sum;
	const char		*mode = NULL, *prefix = NULL, *dstname = NULL;
	char			 pbuf[INET6_ADDRSTRLEN + 4], *slash;
	size_t			 ikelen, ke_off = 0, ni_off = 0, hlen, len;
	size_t			 alen, i;
	unsigned long long	 sent = 0;
	double			 secs = 10, el;
	int			 ch, af, s, plen, port = 500, k, r;

	while ((ch = getopt(argc, argv, "d:m:p:s:t:")) != -1) {
		switch (ch) {
		case 'd':
			dstname = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 's':
			prefix = optarg;
			break;
		case 't':
			secs = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (mode == NULL || prefix == NULL || dstname == NULL)
		usage();
	if (strcmp(mode, "mm1") == 0)
		ikelen = build_mm1(ike);
	else if (strcmp(mode, "init") == 0)
		ikelen = build_init(ike, &ke_off, &ni_off);
	else
		usage();

	/* The prefix: its address and a mask of the bits kept. */
	strlcpy(pbuf, prefix, sizeof(pbuf));
	if ((slash = strchr(pbuf, '/')) == NULL)
		errx(2, "%s: not a prefix", prefix);
	*slash++ = '\0';
	plen = atoi(slash);
	memset(&dst, 0, sizeof(dst));
	sin = (struct sockaddr_in *)&dst;
	sin6 = (struct sockaddr_in6 *)&dst;
	if (inet_pton(AF_INET, pbuf, src) == 1) {
		af = AF_INET;
		alen = 4;
		sin->sin_family = AF_INET;
		if (inet_pton(AF_INET, dstname, &sin->sin_addr) != 1)
			errx(2, "%s: not an IPv4 address", dstname);
		hlen = sizeof(struct ip);
		dsta = (uint8_t *)&sin->sin_addr;
	} else if (inet_pton(AF_INET6, pbuf, src) == 1) {
		af = AF_INET6;
		alen = 16;
		sin6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, dstname, &sin6->sin6_addr) != 1)
			errx(2, "%s: not an IPv6 address", dstname);
		hlen = sizeof(struct ip6_hdr);
		dsta = (uint8_t *)&sin6->sin6_addr;
	} else
		errx(2, "%s: not an address", pbuf);
	if (plen < 0 || (size_t)plen > alen * 8)
		errx(2, "%s: bad prefix length", prefix);
	memset(mask, 0, sizeof(mask));
	for (k = 0; k < plen; k++)
		mask[k / 8] |= 0x80 >> (k % 8);
	len = hlen + sizeof(struct udphdr) + ikelen;

	/* IPPROTO_RAW: we write the IP header (IPv4 and, on Linux, IPv6). */
	if ((s = socket(af, SOCK_RAW, IPPROTO_RAW)) == -1)
		err(1, "raw socket");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rnd_state = (uint64_t)t0.tv_nsec * 0x9e3779b97f4a7c15ULL ^
	    (uint64_t)getpid() << 32 ^ 1;

	/* The fixed parts of each datagram. */
	for (k = 0; k < BATCH; k++) {
		p = pkt[k];
		uh = (struct udphdr *)(p + hlen);
		memset(p, 0, hlen + sizeof(*uh));
		if (af == AF_INET) {
			ip = (struct ip *)p;
			ip->ip_v = 4;
			ip->ip_hl = sizeof(*ip) >> 2;
			ip->ip_len = htons((uint16_t)len);
			ip->ip_ttl = 64;
			ip->ip_p = IPPROTO_UDP;
			ip->ip_dst = sin->sin_addr;
			/* ip_sum and ip_id: the kernel fills them in. */
		} else {
			ip6 = (struct ip6_hdr *)p;
			ip6->ip6_flow = htonl(6U << 28);
			ip6->ip6_plen = htons((uint16_t)(len - hlen));
			ip6->ip6_nxt = IPPROTO_UDP;
			ip6->ip6_hlim = 64;
			ip6->ip6_dst = sin6->sin6_addr;
		}
		uh->uh_sport = htons(500);
		uh->uh_dport = htons((uint16_t)port);
		uh->uh_ulen = htons((uint16_t)(len - hlen));
		memcpy(p + hlen + sizeof(*uh), ike, ikelen);
		iov[k].iov_base = p;
		iov[k].iov_len = len;
		memset(&mm[k], 0, sizeof(mm[k]));
		mm[k].msg_hdr.msg_name = &dst;
		mm[k].msg_hdr.msg_namelen = af == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		mm[k].msg_hdr.msg_iov = &iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
	}

	for (;;) {
		for (k = 0; k < BATCH; k++) {
			p = pkt[k];
			uh = (struct udphdr *)(p + hlen);
			a = af == AF_INET ?
			    (uint8_t *)&((struct ip *)p)->ip_src :
			    (uint8_t *)&((struct ip6_hdr *)p)->ip6_src;
			rnd_fill(a, alen);
			for (i = 0; i < alen; i++)
				a[i] = (src[i] & mask[i]) | (a[i] & ~mask[i]);
			body = p + hlen + sizeof(*uh);
			rnd_fill(body, 8);		/* SPIi, CKY-I */
			if (ke_off > 0) {
				rnd_fill(body + ke_off, 32);
				rnd_fill(body + ni_off, 32);
			}
			/* The UDP checksum over the pseudo-header. */
			uh->uh_sum = 0;
			sum = csum_add(0, a, alen);
			sum = csum_add(sum, dsta, alen);
			sum += IPPROTO_UDP + (uint32_t)(len - hlen);
			sum = csum_add(sum, (uint8_t *)uh, len - hlen);
			uh->uh_sum = htons(csum_fold(sum));
			if (uh->uh_sum == 0)
				uh->uh_sum = 0xffff;
		}
		if ((r = sendmmsg(s, mm, BATCH, 0)) == -1) {
			if (errno != ENOBUFS && errno != EAGAIN &&
			    errno != EINTR)
				err(1, "sendmmsg");
		} else
			sent += (unsigned)r;
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (double)(t.tv_sec - t0.tv_sec) +
		    (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
		if (el >= secs)
			break;
	}
	printf("sent %llu in %.1f s: %.0f/s\n", sent, el, (double)sent / el);
	return (0);
}
