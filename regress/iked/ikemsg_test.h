/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Helpers shared by the IKE message tests: the real-world messages
 * (also written out as the fuzzers' seeds), and loops that damage a
 * good message in every way a length can be wrong.
 */

#ifndef IKEMSG_TEST_H
#define IKEMSG_TEST_H

#include <sys/types.h>

#include <atf-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iked.h"
#include "ikev1.h"
#include "ikev2.h"

#define X4(b)	b, b, b, b
#define X8(b)	X4(b), X4(b)
#define X16(b)	X8(b), X8(b)
#define X20(b)	X16(b), X4(b)
#define X32(b)	X16(b), X16(b)

static inline uint16_t
t_get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static inline void
t_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void
t_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* A copy of msg in a heap buffer of exactly len bytes (ASan sees overruns). */
static inline int
t_parse(struct ikemsg *m, const uint8_t *msg, size_t len, uint8_t **copy)
{
	int	 error;

	*copy = malloc(len ? len : 1);
	ATF_REQUIRE(*copy != NULL);
	memcpy(*copy, msg, len);
	error = ikemsg_parse(m, *copy, len, 0, NULL);
	return (error);
}

static inline int
t_parse_free(const uint8_t *msg, size_t len)
{
	struct ikemsg	*m;
	uint8_t		*copy;
	int		 error;

	m = malloc(sizeof(*m));
	ATF_REQUIRE(m != NULL);
	error = t_parse(m, msg, len, &copy);
	free(copy);
	free(m);
	return (error);
}

/*
 * Truncated at every offset: as a short datagram, and with the header
 * length made to agree, so that the payload chain itself is cut.
 */
static inline void
t_truncate_all(const uint8_t *msg, size_t len)
{
	uint8_t	*b;
	size_t	 i;
	int	 error;

	b = malloc(len);
	ATF_REQUIRE(b != NULL);
	for (i = 0; i < len; i++) {
		error = t_parse_free(msg, i);
		ATF_CHECK_MSG(error == IKEMSG_ESHORT, "cut at %zu: %s", i,
		    ikemsg_strerror(error));
		if (i < 28)
			continue;
		memcpy(b, msg, i);
		t_put32(b + 24, (uint32_t)i);
		error = t_parse_free(b, i);
		ATF_CHECK_MSG(error != IKEMSG_OK, "cut at %zu, length agreed",
		    i);
	}
	free(b);
}

/* The 16-bit length at off, one less and one more: refused with want. */
static inline void
t_len_pm1(const uint8_t *msg, size_t len, size_t off, int want)
{
	uint8_t		*b;
	uint16_t	 v;
	int		 d, error;

	b = malloc(len);
	ATF_REQUIRE(b != NULL);
	for (d = -1; d <= 1; d += 2) {
		memcpy(b, msg, len);
		v = t_get16(b + off);
		t_put16(b + off, (uint16_t)(v + d));
		error = t_parse_free(b, len);
		ATF_CHECK_MSG(error != IKEMSG_OK &&
		    (want == -1 || error == want),
		    "length at %zu %+d: %s", off, d, ikemsg_strerror(error));
	}
	free(b);
}

/*
 * IKE_SA_INIT request as strongSwan 5.9/6.0 sends it with the default
 * proposals cut to two (RFC 7296 3.1-3.10, RFC 7383 2.3, RFC 7427 4,
 * RFC 5685 3): HDR, SA, KEi, Ni, N(NAT_DETECTION_SOURCE_IP),
 * N(NAT_DETECTION_DESTINATION_IP), N(IKEV2_FRAGMENTATION_SUPPORTED),
 * N(SIGNATURE_HASH_ALGORITHMS), N(REDIRECT_SUPPORTED).
 */
static const uint8_t t_v2_sa_init[] = {
	/* 3.1 header: SPIi, SPIr 0, next SA, 2.0, IKE_SA_INIT, I, 0, 304 */
	0x7c, 0x2a, 0x91, 0x04, 0xd3, 0x5e, 0x10, 0x6b,
	X8(0x00),
	0x21, 0x20, 0x22, 0x08, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x30,
	/* 3.3 SA: next KE, length 4 + 72 + 36 */
	0x22, 0x00, 0x00, 0x70,
	/* proposal 1 (more), IKE, no SPI, 7 transforms, length 72 */
	0x02, 0x00, 0x00, 0x48, 0x01, 0x01, 0x00, 0x07,
	/* ENCR AES_CBC, KEY_LENGTH 128 (TV) */
	0x03, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x0c, 0x80, 0x0e, 0x00, 0x80,
	/* ENCR AES_CBC, KEY_LENGTH 256 */
	0x03, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x0c, 0x80, 0x0e, 0x01, 0x00,
	/* INTEG HMAC_SHA2_256_128 */
	0x03, 0x00, 0x00, 0x08, 0x03, 0x00, 0x00, 0x0c,
	/* PRF HMAC_SHA2_256 */
	0x03, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x05,
	/* DH curve25519, ECP_256, MODP_2048 (last) */
	0x03, 0x00, 0x00, 0x08, 0x04, 0x00, 0x00, 0x1f,
	0x03, 0x00, 0x00, 0x08, 0x04, 0x00, 0x00, 0x13,
	0x00, 0x00, 0x00, 0x08, 0x04, 0x00, 0x00, 0x0e,
	/* proposal 2 (last), IKE: AES_GCM_16-256, PRF SHA2_256, curve25519 */
	0x00, 0x00, 0x00, 0x24, 0x02, 0x01, 0x00, 0x03,
	0x03, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x14, 0x80, 0x0e, 0x01, 0x00,
	0x03, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x05,
	0x00, 0x00, 0x00, 0x08, 0x04, 0x00, 0x00, 0x1f,
	/* 3.4 KE: next Nonce, length 40, group 31, 32 bytes */
	0x28, 0x00, 0x00, 0x28, 0x00, 0x1f, 0x00, 0x00,
	X32(0x5a),
	/* 3.9 Nonce: next N, length 36, 32 bytes */
	0x29, 0x00, 0x00, 0x24,
	X32(0xa5),
	/* 3.10 N(NAT_DETECTION_SOURCE_IP): SHA-1, 20 bytes */
	0x29, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x04,
	X20(0x11),
	/* N(NAT_DETECTION_DESTINATION_IP) */
	0x29, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x05,
	X20(0x22),
	/* N(IKEV2_FRAGMENTATION_SUPPORTED), no data */
	0x29, 0x00, 0x00, 0x08, 0x00, 0x00, 0x40, 0x2e,
	/* N(SIGNATURE_HASH_ALGORITHMS): SHA2-256, -384, -512, identity */
	0x29, 0x00, 0x00, 0x10, 0x00, 0x00, 0x40, 0x2f,
	0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x05,
	/* N(REDIRECT_SUPPORTED), last */
	0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x40, 0x16,
};

/*
 * Main Mode message 1 (RFC 2409 5, RFC 2408 3.1-3.6, RFC 2407 4.6.1):
 * HDR, SA (one ISAKMP proposal, two KEY_IKE transforms), VID(RFC 3947),
 * VID(draft-ietf-ipsec-nat-t-ike-02\n), VID(DPD, RFC 3706).
 */
static const uint8_t t_v1_mm1[] = {
	/* header: CKY-I, CKY-R 0, next SA, 1.0, Main, no flags, 0, 180 */
	0x3b, 0x91, 0x0c, 0x55, 0xe2, 0x07, 0x6a, 0x18,
	X8(0x00),
	0x01, 0x10, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0xb4,
	/* SA: next VID, length 92, DOI IPsec, SIT_IDENTITY_ONLY */
	0x0d, 0x00, 0x00, 0x5c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	/* proposal 1 (last), length 80, PROTO_ISAKMP, no SPI, 2 transforms */
	0x00, 0x00, 0x00, 0x50, 0x01, 0x01, 0x00, 0x02,
	/* transform 1 (more), length 40, KEY_IKE */
	0x03, 0x00, 0x00, 0x28, 0x01, 0x01, 0x00, 0x00,
	0x80, 0x01, 0x00, 0x07,		/* encryption AES-CBC */
	0x80, 0x0e, 0x00, 0x80,		/* key length 128 */
	0x80, 0x02, 0x00, 0x04,		/* hash SHA2-256 */
	0x80, 0x03, 0x00, 0x01,		/* auth pre-shared key */
	0x80, 0x04, 0x00, 0x0e,		/* group 14 */
	0x80, 0x0b, 0x00, 0x01,		/* life type seconds */
	0x00, 0x0c, 0x00, 0x04, 0x00, 0x01, 0x51, 0x80,	/* 86400, TLV */
	/* transform 2 (last), length 32, KEY_IKE */
	0x00, 0x00, 0x00, 0x20, 0x02, 0x01, 0x00, 0x00,
	0x80, 0x01, 0x00, 0x05,		/* 3DES-CBC */
	0x80, 0x02, 0x00, 0x02,		/* SHA */
	0x80, 0x03, 0x00, 0x01,		/* pre-shared key */
	0x80, 0x04, 0x00, 0x02,		/* group 2 */
	0x80, 0x0b, 0x00, 0x01,		/* seconds */
	0x80, 0x0c, 0x70, 0x80,		/* 28800, TV */
	/* VID "RFC 3947" */
	0x0d, 0x00, 0x00, 0x14,
	0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
	0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f,
	/* VID "draft-ietf-ipsec-nat-t-ike-02\n" */
	0x0d, 0x00, 0x00, 0x14,
	0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e,
	0x08, 0x63, 0x81, 0xb5, 0xec, 0x42, 0x7b, 0x1f,
	/* VID DPD 1.0, last */
	0x00, 0x00, 0x00, 0x14,
	0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
	0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
};

/* Write the messages as seed files when T_WRITE_SEEDS names a directory. */
static inline void
t_write_seed(const char *name, const uint8_t *msg, size_t len)
{
	const char	*dir;
	char		 path[1024];
	FILE		*fp;

	if ((dir = getenv("T_WRITE_SEEDS")) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL)
		return;
	fwrite(msg, 1, len, fp);
	fclose(fp);
}

#endif /* IKEMSG_TEST_H */
