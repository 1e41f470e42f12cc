/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IKEv1 payload bodies (RFC 2408 3.4-3.16, RFC 2407 4.6, RFC 3947 5):
 * their checks, decoders and builders.  ikemsg.c has already checked
 * that a payload's length fits the message and its type's minimum;
 * ikev1_pld_check() checks the rest of its layout when the message is
 * parsed, and the decoders check again, so each one stands on its own.
 * KE, HASH, SIG, nonce, vendor ID and NAT-D bodies are opaque: read
 * them with ikemsg_pld_body().
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "iked.h"
#include "ikev1.h"

#define get16	ikemsg_get16
#define get32	ikemsg_get32
#define V1_DOI_LEN	4	/* Notify and Delete begin with the DOI */

/* DOI, situation (IPsec DOI: 4 bytes, no labels), proposal payloads. */
int
ikev1_pld_sa(const struct ikemsg_pld *pld, struct ikemsg_sa *sa)
{
	const uint8_t	*p;
	size_t		 len;
	uint32_t	 doi, sit;

	p = ikemsg_pld_body(pld, &len);
	if (len < 8)
		return (IKEMSG_EBADLEN);
	doi = get32(p);
	sit = get32(p + 4);
	if (sa != NULL)
		ikemsg_sa_init(sa, doi, sit);
	if (doi != IKEV1_DOI_IPSEC)
		return (IKEMSG_EDOI);
	/* Secrecy and integrity labels (RFC 2407 4.6.1) are not supported. */
	if (sit != IKEV1_SIT_IDENTITY_ONLY)
		return (IKEMSG_ESYNTAX);
	return (ikemsg_props(p + 8, len - 8, 1, sa));
}

int
ikev1_pld_id(const struct ikemsg_pld *pld, struct ikemsg_id *id)
{
	const uint8_t	*p;
	size_t		 len, want;

	memset(id, 0, sizeof(*id));
	p = ikemsg_pld_body(pld, &len);
	if (len <= 4)
		return (IKEMSG_EBADLEN);
	id->id_type = p[0];
	id->id_proto = p[1];
	id->id_port = get16(p + 2);
	id->id_data = p + 4;
	id->id_len = len - 4;
	switch (id->id_type) {
	case IKEV1_ID_IPV4_ADDR:
		want = 4;
		break;
	case IKEV1_ID_IPV4_ADDR_SUBNET:
	case IKEV1_ID_IPV4_ADDR_RANGE:
		want = 8;
		break;
	case IKEV1_ID_IPV6_ADDR:
		want = 16;
		break;
	case IKEV1_ID_IPV6_ADDR_SUBNET:
	case IKEV1_ID_IPV6_ADDR_RANGE:
		want = 32;
		break;
	default:
		want = id->id_len;
		break;
	}
	if (id->id_len != want)
		return (IKEMSG_EBADLEN);
	return (IKEMSG_OK);
}

int
ikev1_pld_notify(const struct ikemsg_pld *pld, struct ikemsg_notify *n)
{
	int	 error;

	if ((error = ikemsg_pld_notify(pld, V1_DOI_LEN, n)) != IKEMSG_OK)
		return (error);
	switch (n->n_type) {
	case IKEV1_N_R_U_THERE:		/* RFC 3706 5.2: both cookies, seq */
	case IKEV1_N_R_U_THERE_ACK:
		if (n->n_spisize != 16 || n->n_datalen != 4)
			return (IKEMSG_EBADLEN);
		break;
	}
	return (IKEMSG_OK);
}

int
ikev1_pld_delete(const struct ikemsg_pld *pld, struct ikemsg_delete *d)
{
	int	 error;

	if ((error = ikemsg_pld_delete(pld, V1_DOI_LEN, d)) != IKEMSG_OK)
		return (error);
	if (d->d_nspi == 0 || d->d_spisize == 0)
		return (IKEMSG_ESYNTAX);
	return (IKEMSG_OK);
}

/* RFC 3947 5.2: an ID type and an IPv4 or IPv6 address. */
int
ikev1_pld_natoa(const struct ikemsg_pld *pld, uint8_t *idtype,
    const uint8_t **addr, size_t *alen)
{
	const uint8_t	*p;
	size_t		 len;

	p = ikemsg_pld_body(pld, &len);
	if (len < 4)
		return (IKEMSG_EBADLEN);
	*idtype = p[0];
	*addr = p + 4;
	*alen = len - 4;
	if ((p[0] == IKEV1_ID_IPV4_ADDR && *alen != 4) ||
	    (p[0] == IKEV1_ID_IPV6_ADDR && *alen != 16))
		return (IKEMSG_EBADLEN);
	if (p[0] != IKEV1_ID_IPV4_ADDR && p[0] != IKEV1_ID_IPV6_ADDR)
		return (IKEMSG_ESYNTAX);
	return (IKEMSG_OK);
}

int
ikev1_pld_check(const struct ikemsg_pld *pld)
{
	struct ikemsg_id	 id;
	struct ikemsg_notify	 n;
	struct ikemsg_delete	 d;
	const uint8_t		*p, *data;
	size_t			 len;
	uint8_t			 u8;
	u_int			 nattr;

	switch (pld->pld_type) {
	case IKEV1_PAYLOAD_SA:
		return (ikev1_pld_sa(pld, NULL));
	case IKEV1_PAYLOAD_ID:
		return (ikev1_pld_id(pld, &id));
	case IKEV1_PAYLOAD_CERT:
	case IKEV1_PAYLOAD_CR:
		return (ikemsg_pld_cert(pld, &u8, &data, &len));
	case IKEV1_PAYLOAD_NOTIFY:
		return (ikev1_pld_notify(pld, &n));
	case IKEV1_PAYLOAD_DELETE:
		return (ikev1_pld_delete(pld, &d));
	case IKEV1_PAYLOAD_NAT_OA:
	case IKEV1_PAYLOAD_NAT_OA_DRAFT:
		return (ikev1_pld_natoa(pld, &u8, &data, &len));
	case IKEV1_PAYLOAD_ATTR:
		/* Mode config: type, reserved, identifier, attributes. */
		p = ikemsg_pld_body(pld, &len);
		return (ikemsg_attrs(p + 4, len - 4, NULL, &nattr));
	default:
		return (IKEMSG_OK);
	}
}

/* Builders: each appends one payload; -1 with ib_error set on failure. */
int
ikev1_build_sa(struct ikebuf *b, const struct ikemsg_sa *sa)
{
	size_t	 off;

	off = ikemsg_build_pld(b, IKEV1_PAYLOAD_SA, 0);
	ikebuf_add32(b, sa->sa_doi);
	ikebuf_add32(b, sa->sa_sit);
	ikemsg_build_props(b, 1, sa);
	ikemsg_build_pld_end(b, off);
	return (b->ib_error ? -1 : 0);
}

int
ikev1_build_ke(struct ikebuf *b, const void *data, size_t len)
{
	return (ikemsg_build_raw(b, IKEV1_PAYLOAD_KE, NULL, 0, data, len));
}

int
ikev1_build_id(struct ikebuf *b, uint8_t idtype, uint8_t proto,
    uint16_t port, const void *data, size_t len)
{
	uint8_t	 fixed[4] = { idtype, proto, port >> 8, port & 0xff };

	return (ikemsg_build_raw(b, IKEV1_PAYLOAD_ID, fixed, sizeof(fixed),
	    data, len));
}

/* type: IKEV1_PAYLOAD_CERT or _CR */
int
ikev1_build_cert(struct ikebuf *b, uint8_t type, uint8_t enc,
    const void *data, size_t len)
{
	return (ikemsg_build_raw(b, type, &enc, 1, data, len));
}

/* Opaque bodies: type IKEV1_PAYLOAD_HASH, _SIG, _NAT_D (or its draft). */
int
ikev1_build_hash(struct ikebuf *b, uint8_t type, const void *data,
    size_t len)
{
	return (ikemsg_build_raw(b, type, NULL, 0, data, len));
}

int
ikev1_build_nonce(struct ikebuf *b, const void *data, size_t len)
{
	return (ikemsg_build_raw(b, IKEV1_PAYLOAD_NONCE, NULL, 0, data, len));
}

int
ikev1_build_notify(struct ikebuf *b, uint32_t doi, uint8_t proto,
    const void *spi, uint8_t spisize, uint16_t type, const void *data,
    size_t len)
{
	return (ikemsg_build_nd(b, IKEV1_PAYLOAD_NOTIFY, &doi, proto, spisize,
	    type, spi, spisize, data, len));
}

int
ikev1_build_delete(struct ikebuf *b, uint32_t doi, uint8_t proto,
    uint8_t spisize, uint16_t nspi, const void *spis)
{
	return (ikemsg_build_nd(b, IKEV1_PAYLOAD_DELETE, &doi, proto, spisize,
	    nspi, spis, (size_t)spisize * nspi, NULL, 0));
}

int
ikev1_build_vendor(struct ikebuf *b, const void *data, size_t len)
{
	return (ikemsg_build_raw(b, IKEV1_PAYLOAD_VENDOR, NULL, 0, data, len));
}

/* type: IKEV1_PAYLOAD_NAT_OA or its draft number */
int
ikev1_build_natoa(struct ikebuf *b, uint8_t type, uint8_t idtype,
    const void *addr, size_t alen)
{
	uint8_t	 fixed[4] = { idtype, 0, 0, 0 };

	return (ikemsg_build_raw(b, type, fixed, sizeof(fixed), addr, alen));
}
