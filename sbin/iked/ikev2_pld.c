/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IKEv2 payload bodies (RFC 7296 3.3-3.15, RFC 7383 2.5): their checks,
 * decoders and builders.  ikemsg.c has already checked that a payload's
 * length fits the message and its type's minimum; ikev2_pld_check()
 * checks the rest of its layout when the message is parsed, and the
 * decoders check again, so each one stands on its own.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "iked.h"
#include "ikev2.h"

#define get16	ikemsg_get16

int
ikev2_pld_sa(const struct ikemsg_pld *pld, struct ikemsg_sa *sa)
{
	const uint8_t	*p;
	size_t		 len;

	if (sa != NULL)
		ikemsg_sa_init(sa, 0, 0);
	p = ikemsg_pld_body(pld, &len);
	return (ikemsg_props(p, len, 2, sa));
}

int
ikev2_pld_ke(const struct ikemsg_pld *pld, uint16_t *group,
    const uint8_t **data, size_t *len)
{
	const uint8_t	*p;
	size_t		 blen;

	p = ikemsg_pld_body(pld, &blen);
	if (blen <= 4)
		return (IKEMSG_EBADLEN);
	*group = get16(p);
	*data = p + 4;
	*len = blen - 4;
	return (IKEMSG_OK);
}

int
ikev2_pld_id(const struct ikemsg_pld *pld, struct ikemsg_id *id)
{
	const uint8_t	*p;
	size_t		 len;

	memset(id, 0, sizeof(*id));
	p = ikemsg_pld_body(pld, &len);
	if (len <= 4)
		return (IKEMSG_EBADLEN);
	id->id_type = p[0];
	id->id_data = p + 4;
	id->id_len = len - 4;
	if ((id->id_type == IKEV2_ID_IPV4 && id->id_len != 4) ||
	    (id->id_type == IKEV2_ID_IPV6 && id->id_len != 16))
		return (IKEMSG_EBADLEN);
	return (IKEMSG_OK);
}

int
ikev2_pld_auth(const struct ikemsg_pld *pld, uint8_t *method,
    const uint8_t **data, size_t *len)
{
	const uint8_t	*p;
	size_t		 blen;

	p = ikemsg_pld_body(pld, &blen);
	if (blen <= 4)
		return (IKEMSG_EBADLEN);
	*method = p[0];
	*data = p + 4;
	*len = blen - 4;
	return (IKEMSG_OK);
}

/* Notify, with the data lengths the RFCs fix for the types we use. */
int
ikev2_pld_notify(const struct ikemsg_pld *pld, struct ikemsg_notify *n)
{
	int	 error;

	if ((error = ikemsg_pld_notify(pld, 0, n)) != IKEMSG_OK)
		return (error);
	switch (n->n_type) {
	case IKEV2_N_NAT_DETECTION_SOURCE_IP:
	case IKEV2_N_NAT_DETECTION_DESTINATION_IP:
		if (n->n_datalen != IKEV2_NATD_LEN)
			return (IKEMSG_EBADLEN);
		break;
	case IKEV2_N_COOKIE:
		if (n->n_datalen < IKEV2_COOKIE_MIN ||
		    n->n_datalen > IKEV2_COOKIE_MAX)
			return (IKEMSG_EBADLEN);
		break;
	case IKEV2_N_INVALID_KE_PAYLOAD:
		if (n->n_datalen != 2)
			return (IKEMSG_EBADLEN);
		break;
	case IKEV2_N_SIGNATURE_HASH_ALGORITHMS:
		if (n->n_datalen % 2 != 0)
			return (IKEMSG_EBADLEN);
		break;
	case IKEV2_N_REKEY_SA:
		if (n->n_spisize != 4)
			return (IKEMSG_ESYNTAX);
		break;
	}
	return (IKEMSG_OK);
}

int
ikev2_pld_delete(const struct ikemsg_pld *pld, struct ikemsg_delete *d)
{
	int	 error;

	if ((error = ikemsg_pld_delete(pld, 0, d)) != IKEMSG_OK)
		return (error);
	switch (d->d_proto) {
	case IKEV2_SAPROTO_IKE:		/* 3.11: the SA the message is on */
		if (d->d_spisize != 0 || d->d_nspi != 0)
			return (IKEMSG_ESYNTAX);
		break;
	case IKEV2_SAPROTO_AH:
	case IKEV2_SAPROTO_ESP:
		if (d->d_spisize != 4 || d->d_nspi == 0)
			return (IKEMSG_ESYNTAX);
		break;
	default:
		return (IKEMSG_ESYNTAX);
	}
	return (IKEMSG_OK);
}

/*
 * Traffic selectors into ts[0, max) (ts NULL: check only).  Types we do
 * not know are returned with their type and no addresses.
 */
int
ikev2_pld_ts(const struct ikemsg_pld *pld, struct ikemsg_ts *ts, u_int max,
    u_int *nts)
{
	const uint8_t	*p, *s;
	size_t		 len, off, slen, alen;
	u_int		 count, n = 0;

	*nts = 0;
	p = ikemsg_pld_body(pld, &len);
	if (len < 4)
		return (IKEMSG_EBADLEN);
	count = p[0];
	if (count == 0)
		return (IKEMSG_ESYNTAX);
	if (count > IKEMSG_TS_MAX || (ts != NULL && count > max))
		return (IKEMSG_ETOOMANY);
	for (off = 4; off < len; off += slen) {
		s = p + off;
		if (len - off < 8)
			return (IKEMSG_EBADLEN);
		slen = get16(s + 2);
		if (slen < 8 || slen > len - off)
			return (IKEMSG_EBADLEN);
		if (n >= count)
			return (IKEMSG_ESYNTAX);
		switch (s[0]) {
		case IKEV2_TS_IPV4_ADDR_RANGE:
			alen = 4;
			break;
		case IKEV2_TS_IPV6_ADDR_RANGE:
			alen = 16;
			break;
		default:
			alen = 0;
			break;
		}
		if (alen != 0 && slen != 8 + 2 * alen)
			return (IKEMSG_EBADLEN);
		if (ts != NULL) {
			memset(&ts[n], 0, sizeof(ts[n]));
			ts[n].ts_type = s[0];
			ts[n].ts_proto = s[1];
			ts[n].ts_sport = get16(s + 4);
			ts[n].ts_eport = get16(s + 6);
			memcpy(ts[n].ts_saddr, s + 8, alen);
			memcpy(ts[n].ts_eaddr, s + 8 + alen, alen);
		}
		n++;
	}
	if (n != count)
		return (IKEMSG_ESYNTAX);
	*nts = n;
	return (IKEMSG_OK);
}

/* CP attributes: 2-byte type (R bit, 15 bits), 2-byte length, value. */
static int
ikev2_pld_cp(const struct ikemsg_pld *pld)
{
	const uint8_t	*p;
	size_t		 len, off, alen;
	u_int		 n = 0;

	p = ikemsg_pld_body(pld, &len);
	for (off = 4; off < len; off += 4 + alen) {
		if (len - off < 4)
			return (IKEMSG_EBADLEN);
		if (++n > IKEMSG_ATTR_MAX)
			return (IKEMSG_ETOOMANY);
		alen = get16(p + off + 2);
		if (alen > len - off - 4)
			return (IKEMSG_EBADLEN);
	}
	return (IKEMSG_OK);
}

/* Everything a payload's length implies, beyond the generic header. */
int
ikev2_pld_check(const struct ikemsg_pld *pld)
{
	struct ikemsg_id	 id;
	struct ikemsg_notify	 n;
	struct ikemsg_delete	 d;
	const uint8_t		*p, *data;
	size_t			 len;
	uint16_t		 group;
	uint8_t			 u8;
	u_int			 nts;

	switch (pld->pld_type) {
	case IKEV2_PAYLOAD_SA:
		return (ikev2_pld_sa(pld, NULL));
	case IKEV2_PAYLOAD_KE:
		return (ikev2_pld_ke(pld, &group, &data, &len));
	case IKEV2_PAYLOAD_IDi:
	case IKEV2_PAYLOAD_IDr:
		return (ikev2_pld_id(pld, &id));
	case IKEV2_PAYLOAD_CERT:
	case IKEV2_PAYLOAD_CERTREQ:
		return (ikemsg_pld_cert(pld, &u8, &data, &len));
	case IKEV2_PAYLOAD_AUTH:
		return (ikev2_pld_auth(pld, &u8, &data, &len));
	case IKEV2_PAYLOAD_NOTIFY:
		return (ikev2_pld_notify(pld, &n));
	case IKEV2_PAYLOAD_DELETE:
		return (ikev2_pld_delete(pld, &d));
	case IKEV2_PAYLOAD_TSi:
	case IKEV2_PAYLOAD_TSr:
		return (ikev2_pld_ts(pld, NULL, 0, &nts));
	case IKEV2_PAYLOAD_CP:
		return (ikev2_pld_cp(pld));
	case IKEV2_PAYLOAD_EAP:
		/* RFC 3748 4: the EAP length is the whole payload body. */
		p = ikemsg_pld_body(pld, &len);
		if (get16(p + 2) != len)
			return (IKEMSG_EBADLEN);
		return (IKEMSG_OK);
	default:
		/* Nonce, vendor ID, GSPM: opaque; unknown: skipped. */
		return (IKEMSG_OK);
	}
}

/* Builders: each appends one payload; -1 with ib_error set on failure. */
int
ikev2_build_sa(struct ikebuf *b, const struct ikemsg_sa *sa)
{
	size_t	 off;

	off = ikemsg_build_pld(b, IKEV2_PAYLOAD_SA, 0);
	ikemsg_build_props(b, 2, sa);
	ikemsg_build_pld_end(b, off);
	return (b->ib_error ? -1 : 0);
}

int
ikev2_build_ke(struct ikebuf *b, uint16_t group, const void *data,
    size_t len)
{
	uint8_t	 fixed[4] = { group >> 8, group & 0xff, 0, 0 };

	return (ikemsg_build_raw(b, IKEV2_PAYLOAD_KE, fixed, sizeof(fixed),
	    data, len));
}

/* type: IKEV2_PAYLOAD_IDi or _IDr */
int
ikev2_build_id(struct ikebuf *b, uint8_t type, uint8_t idtype,
    const void *data, size_t len)
{
	uint8_t	 fixed[4] = { idtype, 0, 0, 0 };

	return (ikemsg_build_raw(b, type, fixed, sizeof(fixed), data, len));
}

/* type: IKEV2_PAYLOAD_CERT or _CERTREQ */
int
ikev2_build_cert(struct ikebuf *b, uint8_t type, uint8_t enc,
    const void *data, size_t len)
{
	return (ikemsg_build_raw(b, type, &enc, 1, data, len));
}

int
ikev2_build_auth(struct ikebuf *b, uint8_t method, const void *data,
    size_t len)
{
	uint8_t	 fixed[4] = { method, 0, 0, 0 };

	return (ikemsg_build_raw(b, IKEV2_PAYLOAD_AUTH, fixed, sizeof(fixed),
	    data, len));
}

int
ikev2_build_nonce(struct ikebuf *b, const void *data, size_t len)
{
	return (ikemsg_build_raw(b, IKEV2_PAYLOAD_NONCE, NULL, 0, data, len));
}

int
ikev2_build_notify(struct ikebuf *b, uint8_t proto, const void *spi,
    uint8_t spisize, uint16_t type, const void *data, size_t len)
{
	return (ikemsg_build_nd(b, IKEV2_PAYLOAD_NOTIFY, NULL, proto, spisize,
	    type, spi, spisize, data, len));
}

int
ikev2_build_delete(struct ikebuf *b, uint8_t proto, uint8_t spisize,
    uint16_t nspi, const void *spis)
{
	return (ikemsg_build_nd(b, IKEV2_PAYLOAD_DELETE, NULL, proto, spisize,
	    nspi, spis, (size_t)spisize * nspi, NULL, 0));
}

int
ikev2_build_vendor(struct ikebuf *b, const void *data, size_t len)
{
	return (ikemsg_build_raw(b, IKEV2_PAYLOAD_VENDOR, NULL, 0, data, len));
}

/* type: IKEV2_PAYLOAD_TSi or _TSr */
int
ikev2_build_ts(struct ikebuf *b, uint8_t type, const struct ikemsg_ts *ts,
    u_int n)
{
	size_t	 off, alen;
	u_int	 i;

	if (n == 0 || n > IKEMSG_TS_MAX) {
		b->ib_error = 1;
		return (-1);
	}
	off = ikemsg_build_pld(b, type, 0);
	ikebuf_add8(b, (uint8_t)n);
	ikebuf_add(b, NULL, 3);
	for (i = 0; i < n; i++) {
		if (ts[i].ts_type == IKEV2_TS_IPV4_ADDR_RANGE)
			alen = 4;
		else if (ts[i].ts_type == IKEV2_TS_IPV6_ADDR_RANGE)
			alen = 16;
		else {
			b->ib_error = 1;
			return (-1);
		}
		ikebuf_add8(b, ts[i].ts_type);
		ikebuf_add8(b, ts[i].ts_proto);
		ikebuf_add16(b, (uint16_t)(8 + 2 * alen));
		ikebuf_add16(b, ts[i].ts_sport);
		ikebuf_add16(b, ts[i].ts_eport);
		ikebuf_add(b, ts[i].ts_saddr, alen);
		ikebuf_add(b, ts[i].ts_eaddr, alen);
	}
	ikemsg_build_pld_end(b, off);
	return (b->ib_error ? -1 : 0);
}

/*
 * The SK payload, last in the message: first is the type of the first
 * inner payload (the bare chain's ib_first), len the size of IV,
 * ciphertext and ICV.  *bodyoff gets where the crypto layer writes
 * them, after ikemsg_build_done() has set the length it authenticates.
 */
int
ikev2_build_sk(struct ikebuf *b, uint8_t first, size_t len, size_t *bodyoff)
{
	size_t	 off;

	*bodyoff = 0;
	off = ikemsg_build_pld(b, IKEV2_PAYLOAD_SK, 0);
	if (ikebuf_add(b, NULL, len) == -1)
		return (-1);
	b->ib_buf[off] = first;
	ikemsg_build_pld_end(b, off);
	if (b->ib_error)
		return (-1);
	*bodyoff = off + 4;
	return (0);
}

/* RFC 7383 2.5: only fragment 1 names the first inner payload. */
int
ikev2_build_skf(struct ikebuf *b, uint8_t first, uint16_t num,
    uint16_t total, size_t len, size_t *bodyoff)
{
	size_t	 off;

	*bodyoff = 0;
	if (num == 0 || num > total || total > IKEMSG_FRAG_MAX) {
		b->ib_error = 1;
		return (-1);
	}
	off = ikemsg_build_pld(b, IKEV2_PAYLOAD_SKF, 0);
	ikebuf_add16(b, num);
	ikebuf_add16(b, total);
	if (ikebuf_add(b, NULL, len) == -1)
		return (-1);
	b->ib_buf[off] = num == 1 ? first : 0;
	ikemsg_build_pld_end(b, off);
	if (b->ib_error)
		return (-1);
	*bodyoff = off + 8;
	return (0);
}
