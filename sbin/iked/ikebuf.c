/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Building IKE messages of both versions: a growing buffer (the ibuf of
 * OpenBSD's iked, reduced to what the builders need), the IKE header,
 * and generic payloads chained through their "next payload" bytes.
 * Errors are sticky: a builder that fails leaves ib_error set and
 * ikemsg_build_done() refuses the message, so callers may check once.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iked.h"
#include "ikev1.h"
#include "ikev2.h"

#define IKEBUF_NONEXT	((size_t)-1)	/* bare chain, no payload yet */

/* A bare payload chain (e.g. the plaintext of SK) until a header is added. */
int
ikebuf_init(struct ikebuf *b)
{
	memset(b, 0, sizeof(*b));
	b->ib_nextoff = IKEBUF_NONEXT;
	b->ib_size = 512;
	if ((b->ib_buf = malloc(b->ib_size)) == NULL) {
		b->ib_error = 1;
		b->ib_size = 0;
		return (-1);
	}
	return (0);
}

void
ikebuf_free(struct ikebuf *b)
{
	if (b->ib_buf != NULL) {
		/* Plaintext chains hold nonces, AUTH data, keys. */
		explicit_bzero(b->ib_buf, b->ib_size);
		free(b->ib_buf);
	}
	memset(b, 0, sizeof(*b));
}

static int
ikebuf_grow(struct ikebuf *b, size_t len)
{
	uint8_t	*nb;
	size_t	 nsize;

	if (b->ib_error)
		return (-1);
	if (len > IKEMSG_SIZE_MAX || b->ib_len > IKEMSG_SIZE_MAX - len) {
		b->ib_error = 1;
		return (-1);
	}
	if (b->ib_len + len <= b->ib_size)
		return (0);
	nsize = b->ib_size ? b->ib_size : 512;
	while (nsize < b->ib_len + len)
		nsize *= 2;
	/* Not realloc(): the old copy may hold secrets. */
	if ((nb = malloc(nsize)) == NULL) {
		b->ib_error = 1;
		return (-1);
	}
	if (b->ib_len > 0)
		memcpy(nb, b->ib_buf, b->ib_len);
	if (b->ib_buf != NULL) {
		explicit_bzero(b->ib_buf, b->ib_size);
		free(b->ib_buf);
	}
	b->ib_buf = nb;
	b->ib_size = nsize;
	return (0);
}

/* The buffer cut to what it holds, for a message kept a while. */
int
ikebuf_trim(struct ikebuf *b)
{
	uint8_t	*nb;

	if (b->ib_error)
		return (-1);
	if (b->ib_len == b->ib_size || b->ib_len == 0)
		return (0);
	if ((nb = malloc(b->ib_len)) == NULL)
		return (0);		/* keeps the larger one */
	memcpy(nb, b->ib_buf, b->ib_len);
	explicit_bzero(b->ib_buf, b->ib_size);
	free(b->ib_buf);
	b->ib_buf = nb;
	b->ib_size = b->ib_len;
	return (0);
}

int
ikebuf_add(struct ikebuf *b, const void *data, size_t len)
{
	if (ikebuf_grow(b, len) == -1)
		return (-1);
	if (len > 0) {
		if (data != NULL)
			memcpy(b->ib_buf + b->ib_len, data, len);
		else
			memset(b->ib_buf + b->ib_len, 0, len);
	}
	b->ib_len += len;
	return (0);
}

int
ikebuf_add8(struct ikebuf *b, uint8_t v)
{
	return (ikebuf_add(b, &v, 1));
}

int
ikebuf_add16(struct ikebuf *b, uint16_t v)
{
	uint8_t	 p[2] = { v >> 8, v & 0xff };

	return (ikebuf_add(b, p, sizeof(p)));
}

int
ikebuf_add32(struct ikebuf *b, uint32_t v)
{
	uint8_t	 p[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
		    v & 0xff };

	return (ikebuf_add(b, p, sizeof(p)));
}

void
ikebuf_set16(struct ikebuf *b, size_t off, uint16_t v)
{
	if (b->ib_error || off + 2 > b->ib_len)
		return;
	b->ib_buf[off] = v >> 8;
	b->ib_buf[off + 1] = v & 0xff;
}

/* The header, before any payload; version 1 or 2. */
int
ikemsg_build_hdr(struct ikebuf *b, int version, const uint8_t *ispi,
    const uint8_t *rspi, uint8_t exchange, uint8_t flags, uint32_t msgid)
{
	if (b->ib_len != 0 || (version != 1 && version != 2)) {
		b->ib_error = 1;
		return (-1);
	}
	ikebuf_add(b, ispi, 8);
	ikebuf_add(b, rspi, 8);
	ikebuf_add8(b, 0);			/* next payload */
	ikebuf_add8(b, version == 1 ? IKEV1_VERSION : IKEV2_VERSION);
	ikebuf_add8(b, exchange);
	ikebuf_add8(b, flags);
	ikebuf_add32(b, msgid);
	if (ikebuf_add32(b, 0) == -1)		/* set by ikemsg_build_done() */
		return (-1);
	b->ib_hdr = 1;
	b->ib_nextoff = 16;
	return (0);
}

/* Chain the type into the previous payload (or header). */
static void
ikemsg_build_chain(struct ikebuf *b, uint8_t type, size_t newnext)
{
	if (b->ib_nextoff == IKEBUF_NONEXT)
		b->ib_first = type;
	else
		b->ib_buf[b->ib_nextoff] = type;
	b->ib_nextoff = newnext;
}

/*
 * Open a payload: its generic header, chained to the previous one.
 * Returns its offset for ikemsg_build_pld_end() (0 after an error).
 */
size_t
ikemsg_build_pld(struct ikebuf *b, uint8_t type, uint8_t flags)
{
	size_t	 off = b->ib_len;

	if (ikebuf_grow(b, 4) == -1)
		return (0);
	ikemsg_build_chain(b, type, off);
	ikebuf_add8(b, 0);
	ikebuf_add8(b, flags);
	ikebuf_add16(b, 0);
	return (off);
}

/* Close the payload opened at off: everything since is its body. */
void
ikemsg_build_pld_end(struct ikebuf *b, size_t off)
{
	if (b->ib_error)
		return;
	if (b->ib_len - off > 65535) {
		b->ib_error = 1;
		return;
	}
	ikebuf_set16(b, off + 2, (uint16_t)(b->ib_len - off));
}

/* A payload made of a fixed part and data. */
int
ikemsg_build_raw(struct ikebuf *b, uint8_t type, const void *fixed,
    size_t fixedlen, const void *data, size_t len)
{
	size_t	 off;

	off = ikemsg_build_pld(b, type, 0);
	ikebuf_add(b, fixed, fixedlen);
	ikebuf_add(b, data, len);
	ikemsg_build_pld_end(b, off);
	return (b->ib_error ? -1 : 0);
}

/*
 * An IKEv1 encrypted body: the ciphertext of a chain whose first payload
 * is first; sets the E flag.  Must come right after the header.
 */
/*
 * Notify or Delete (ikemsg_pld_nd()): [the DOI, IKEv1's], protocol,
 * SPI size, the notify type or the number of SPIs, the SPIs, the data.
 */
int
ikemsg_build_nd(struct ikebuf *b, uint8_t type, const uint32_t *doi,
    uint8_t proto, uint8_t spisize, uint16_t num, const void *spis,
    size_t spilen, const void *data, size_t len)
{
	size_t	 off;

	off = ikemsg_build_pld(b, type, 0);
	if (doi != NULL)
		ikebuf_add32(b, *doi);
	ikebuf_add8(b, proto);
	ikebuf_add8(b, spisize);
	ikebuf_add16(b, num);
	ikebuf_add(b, spis, spilen);
	ikebuf_add(b, data, len);
	ikemsg_build_pld_end(b, off);
	return (b->ib_error ? -1 : 0);
}

int
ikemsg_build_body(struct ikebuf *b, uint8_t first, const void *data,
    size_t len)
{
	if (!b->ib_hdr || b->ib_len != 28 || len == 0) {
		b->ib_error = 1;
		return (-1);
	}
	b->ib_buf[16] = first;
	b->ib_buf[19] |= IKEV1_FLAG_ENC;
	b->ib_nextoff = IKEBUF_NONEXT;	/* nothing may follow */
	b->ib_first = first;
	return (ikebuf_add(b, data, len));
}

/* Set the header's length; -1 if anything failed on the way. */
int
ikemsg_build_done(struct ikebuf *b)
{
	if (b->ib_error)
		return (-1);
	if (b->ib_hdr) {
		b->ib_buf[24] = (uint8_t)(b->ib_len >> 24);
		b->ib_buf[25] = (uint8_t)(b->ib_len >> 16);
		b->ib_buf[26] = (uint8_t)(b->ib_len >> 8);
		b->ib_buf[27] = (uint8_t)b->ib_len;
	}
	return (0);
}

/*
 * The proposals of sa (see ikemsg_props() for the shared layout), into
 * the open SA payload.  Attributes: TV, or TLV with at_data, or with
 * at_data NULL the number at_val in at_len (1..4) bytes.
 */
int
ikemsg_build_props(struct ikebuf *b, int version, const struct ikemsg_sa *sa)
{
	const struct ikemsg_prop	*p;
	const struct ikemsg_xf		*xf;
	const struct ikemsg_attr	*at;
	size_t				 poff, toff;
	u_int				 i, j, k, n;

	if (sa->sa_nprop == 0 || sa->sa_nprop > IKEMSG_PROP_MAX) {
		b->ib_error = 1;
		return (-1);
	}
	for (i = 0; i < sa->sa_nprop; i++) {
		p = &sa->sa_prop[i];
		if (p->p_nxf == 0 || p->p_nxf > 255 ||
		    p->p_xf + p->p_nxf > sa->sa_nxf ||
		    p->p_spisize > IKEMSG_SPI_MAX) {
			b->ib_error = 1;
			return (-1);
		}
		poff = b->ib_len;
		ikebuf_add8(b, i + 1 < sa->sa_nprop ? 2 : 0);
		ikebuf_add8(b, 0);
		ikebuf_add16(b, 0);
		ikebuf_add8(b, p->p_num);
		ikebuf_add8(b, p->p_proto);
		ikebuf_add8(b, p->p_spisize);
		ikebuf_add8(b, (uint8_t)p->p_nxf);
		ikebuf_add(b, p->p_spi, p->p_spisize);
		for (j = 0; j < p->p_nxf; j++) {
			xf = &sa->sa_xf[p->p_xf + j];
			if (xf->xf_attr + xf->xf_nattr > sa->sa_nattr) {
				b->ib_error = 1;
				return (-1);
			}
			toff = b->ib_len;
			ikebuf_add8(b, j + 1 < p->p_nxf ? 3 : 0);
			ikebuf_add8(b, 0);
			ikebuf_add16(b, 0);
			if (version == 2) {
				ikebuf_add8(b, xf->xf_type);
				ikebuf_add8(b, 0);
				ikebuf_add16(b, xf->xf_id);
			} else {
				ikebuf_add8(b, xf->xf_num);
				ikebuf_add8(b, (uint8_t)xf->xf_id);
				ikebuf_add16(b, 0);
			}
			for (k = 0; k < xf->xf_nattr; k++) {
				at = &sa->sa_attr[xf->xf_attr + k];
				if (at->at_tv) {
					ikebuf_add16(b, at->at_type | 0x8000);
					ikebuf_add16(b, (uint16_t)at->at_val);
					continue;
				}
				ikebuf_add16(b, at->at_type & 0x7fff);
				ikebuf_add16(b, at->at_len);
				if (at->at_data != NULL)
					ikebuf_add(b, at->at_data, at->at_len);
				else if (at->at_len >= 1 && at->at_len <= 4)
					for (n = at->at_len; n > 0; n--)
						ikebuf_add8(b, (uint8_t)
						    (at->at_val >> (8 * (n - 1))));
				else
					b->ib_error = 1;
			}
			ikebuf_set16(b, toff + 2, (uint16_t)(b->ib_len - toff));
		}
		ikebuf_set16(b, poff + 2, (uint16_t)(b->ib_len - poff));
	}
	return (b->ib_error ? -1 : 0);
}
