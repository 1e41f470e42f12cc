/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IKE messages of both versions, as received: the header (RFC 2408 3.1
 * and RFC 7296 3.1 share its layout) and the chain of generic payload
 * headers, every length checked against its parent before anything is
 * read.  Each known payload's own structure (proposals, transforms,
 * attributes, selectors, SPIs) is checked by ikev1_pld_check() or
 * ikev2_pld_check() while the chain is walked, so that the state
 * machines get either a message whose lengths all add up or an error
 * code they can answer with.  Nothing here reads outside the buffer it
 * was given; every loop is bounded by a byte count and an IKEMSG_*_MAX.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "iked.h"
#include "ikev1.h"
#include "ikev2.h"

#define IKEMSG_HDR_LEN	28
#define IKEMSG_PLD_HDR	4

#define get16	ikemsg_get16
#define get32	ikemsg_get32

/*
 * The smallest and largest payload of each type, generic header
 * included; 0 for an unknown type.  The rest of each layout is checked
 * by ikev*_pld_check().
 */
static int
ikemsg_pld_bounds(int version, uint8_t type, size_t *min, size_t *max)
{
	*max = 65535;
	if (version == 2) {
		switch (type) {
		case IKEV2_PAYLOAD_SA:
			*min = 4 + 8;	/* one proposal, no transform */
			break;
		case IKEV2_PAYLOAD_KE:
		case IKEV2_PAYLOAD_IDi:
		case IKEV2_PAYLOAD_IDr:
		case IKEV2_PAYLOAD_AUTH:
		case IKEV2_PAYLOAD_NOTIFY:
		case IKEV2_PAYLOAD_DELETE:
		case IKEV2_PAYLOAD_TSi:
		case IKEV2_PAYLOAD_TSr:
		case IKEV2_PAYLOAD_CP:
		case IKEV2_PAYLOAD_SKF:
			*min = 4 + 4;
			break;
		case IKEV2_PAYLOAD_EAP:
			*min = 4 + 4;	/* code, identifier, length */
			break;
		case IKEV2_PAYLOAD_CERT:
		case IKEV2_PAYLOAD_CERTREQ:
		case IKEV2_PAYLOAD_VENDOR:
		case IKEV2_PAYLOAD_GSPM:
			*min = 4 + 1;
			break;
		case IKEV2_PAYLOAD_NONCE:
			*min = 4 + IKEV2_NONCE_MIN;
			*max = 4 + IKEV2_NONCE_MAX;
			break;
		case IKEV2_PAYLOAD_SK:
			*min = 4 + 1;
			break;
		default:
			return (0);
		}
		return (1);
	}
	switch (type) {
	case IKEV1_PAYLOAD_SA:
		*min = 4 + 8 + 8;	/* DOI, situation, one proposal */
		break;
	case IKEV1_PAYLOAD_ID:
	case IKEV1_PAYLOAD_NAT_OA:
	case IKEV1_PAYLOAD_NAT_OA_DRAFT:
	case IKEV1_PAYLOAD_ATTR:
		*min = 4 + 4;
		break;
	case IKEV1_PAYLOAD_KE:
	case IKEV1_PAYLOAD_CERT:
	case IKEV1_PAYLOAD_CR:
	case IKEV1_PAYLOAD_HASH:
	case IKEV1_PAYLOAD_SIG:
	case IKEV1_PAYLOAD_VENDOR:
	case IKEV1_PAYLOAD_NAT_D:
	case IKEV1_PAYLOAD_NAT_D_DRAFT:
		*min = 4 + 1;
		break;
	case IKEV1_PAYLOAD_NONCE:
		*min = 4 + IKEV1_NONCE_MIN;
		*max = 4 + IKEV1_NONCE_MAX;
		break;
	case IKEV1_PAYLOAD_NOTIFY:
	case IKEV1_PAYLOAD_DELETE:
		*min = 4 + 8;
		break;
	default:
		if (type >= IKEV1_PAYLOAD_PRIVATE) {
			*min = 4;	/* private use: kept, not read */
			break;
		}
		return (0);
	}
	return (1);
}

/*
 * Walk a payload chain in buf[off, end) starting with type first.  The
 * IKEv2 SK/SKF payload ends the outer chain: its "next payload" is the
 * first inner one.  IKEv1's decrypted body may end in padding.
 */
static int
ikemsg_chain(struct ikemsg *m, const uint8_t *buf, size_t off, size_t end,
    uint8_t first, int inner)
{
	struct ikemsg_pld	*pld;
	uint8_t			 type = first, next;
	size_t			 plen, min, max;
	int			 error;

	while (type != 0) {
		if (m->msg_npld >= IKEMSG_PLD_MAX)
			return (IKEMSG_ETOOMANY);
		if (end - off < IKEMSG_PLD_HDR)
			return (IKEMSG_EBADLEN);
		next = buf[off];
		plen = get16(buf + off + 2);
		if (plen < IKEMSG_PLD_HDR || plen > end - off)
			return (IKEMSG_EBADLEN);
		if (!ikemsg_pld_bounds(m->msg_version, type, &min, &max)) {
			m->msg_badtype = type;
			if (m->msg_version == 1)
				return (IKEMSG_EPLDTYPE);
			if (buf[off + 1] & IKEV2_CRITICAL_PAYLOAD)
				return (IKEMSG_ECRITICAL);
			min = IKEMSG_PLD_HDR;	/* skipped by its users */
			max = 65535;
		}
		if (plen < min || plen > max)
			return (IKEMSG_EBADLEN);

		pld = &m->msg_pld[m->msg_npld++];
		pld->pld_buf = buf + off;
		pld->pld_len = (uint16_t)plen;
		pld->pld_type = type;
		pld->pld_flags = m->msg_version == 2 ? buf[off + 1] : 0;
		pld->pld_inner = (uint8_t)inner;

		if (m->msg_version == 2 && (type == IKEV2_PAYLOAD_SK ||
		    type == IKEV2_PAYLOAD_SKF)) {
			/* RFC 7296 3.14: last, and never nested. */
			if (inner || off + plen != end)
				return (IKEMSG_ESYNTAX);
			m->msg_enctype = type;
			m->msg_encnext = next;
			m->msg_encoff = off + 4;	/* outer: buf is msg_buf */
			m->msg_enclen = plen - 4;
			if (type == IKEV2_PAYLOAD_SKF) {
				m->msg_fragnum = get16(buf + off + 4);
				m->msg_fragtotal = get16(buf + off + 6);
				m->msg_encoff += 4;
				m->msg_enclen -= 4;
				/* RFC 7383 2.5 */
				if (m->msg_fragnum == 0 ||
				    m->msg_fragtotal == 0 ||
				    m->msg_fragnum > m->msg_fragtotal ||
				    m->msg_fragtotal > IKEMSG_FRAG_MAX ||
				    (m->msg_fragnum != 1 && next != 0) ||
				    (m->msg_fragnum == 1 && next == 0))
					return (IKEMSG_EFRAG);
			}
			if (m->msg_enclen == 0)
				return (IKEMSG_EBADLEN);
			return (IKEMSG_OK);
		}

		error = m->msg_version == 2 ? ikev2_pld_check(pld) :
		    ikev1_pld_check(pld);
		if (error != IKEMSG_OK)
			return (error);
		off += plen;
		type = next;
	}
	/* IKEv1 pads encrypted bodies; anything else must end here. */
	if (off != end && !(m->msg_version == 1 && inner))
		return (IKEMSG_EBADLEN);
	return (IKEMSG_OK);
}

static int
ikemsg_parse1(struct ikemsg *m, const uint8_t *buf, size_t len, u_int flags)
{
	static const uint8_t	 marker[IKEV2_NONESP_MARKER_LEN];
	size_t			 hlen;
	u_int			 major;

	memset(m, 0, sizeof(*m));
	if (flags & IKEMSG_F_NATT) {
		/* RFC 3948 2.2/2.3: keepalive, ESP, or marker + IKE. */
		if (len == 1 && buf[0] == 0xff)
			return (IKEMSG_ENOTIKE);
		if (len < sizeof(marker))
			return (IKEMSG_ESHORT);
		if (memcmp(buf, marker, sizeof(marker)) != 0)
			return (IKEMSG_ENOTIKE);
		buf += sizeof(marker);
		len -= sizeof(marker);
	}
	if (len < IKEMSG_HDR_LEN)
		return (IKEMSG_ESHORT);

	m->msg_buf = buf;
	memcpy(m->msg_ispi, buf, 8);
	memcpy(m->msg_rspi, buf + 8, 8);
	m->msg_nextpld = buf[16];
	m->msg_exchange = buf[18];
	m->msg_flags = buf[19];
	m->msg_msgid = get32(buf + 20);
	hlen = get32(buf + 24);

	major = IKEV2_VERSION_MAJOR(buf[17]);
	if (major != 1 && major != 2)
		return (IKEMSG_EVERSION);
	m->msg_version = (int)major;

	if (hlen < IKEMSG_HDR_LEN)
		return (IKEMSG_EBADLEN);
	if (hlen > len)
		return (IKEMSG_ESHORT);
	/* Some IKEv1 peers send trailing bytes after the message. */
	if (hlen != len && major == 2)
		return (IKEMSG_EBADLEN);
	m->msg_len = hlen;

	if (major == 1 && (m->msg_flags & IKEV1_FLAG_ENC)) {
		if (hlen == IKEMSG_HDR_LEN || m->msg_nextpld == 0)
			return (IKEMSG_EBADLEN);
		m->msg_encoff = IKEMSG_HDR_LEN;
		m->msg_enclen = hlen - IKEMSG_HDR_LEN;
		m->msg_encnext = m->msg_nextpld;
		return (IKEMSG_OK);
	}
	return (ikemsg_chain(m, buf, IKEMSG_HDR_LEN, hlen, m->msg_nextpld, 0));
}

/*
 * Parse a received datagram; with IKEMSG_F_NATT it came to port 4500
 * and starts with the non-ESP marker.  Returns IKEMSG_OK or the error,
 * counted in st (may be NULL).
 */
int
ikemsg_parse(struct ikemsg *m, const uint8_t *buf, size_t len, u_int flags,
    struct ikemsg_stats *st)
{
	int	 error;

	error = ikemsg_parse1(m, buf, len, flags);
	ikemsg_stats_count(st, error);
	return (error);
}

/*
 * Parse a decrypted body into m after the outer payloads: the IKEv1
 * body (padding allowed at the end), or IKEv2 inner payloads with the
 * padding already removed (ikemsg_sk_unpad()), possibly reassembled from
 * fragments.  The first payload type is m->msg_encnext (for reassembled
 * fragments, set it from ikemsg_frag_take()).
 */
int
ikemsg_parse_inner(struct ikemsg *m, const uint8_t *buf, size_t len,
    struct ikemsg_stats *st)
{
	int	 error;

	if (m->msg_encoff == 0)
		error = IKEMSG_ESYNTAX;
	else if (m->msg_encnext == 0)	/* an empty SK: liveness check */
		error = len == 0 ? IKEMSG_OK : IKEMSG_EBADLEN;
	else
		error = ikemsg_chain(m, buf, 0, len, m->msg_encnext, 1);
	ikemsg_stats_count(st, error);
	return (error);
}

/*
 * The regions of m's SK or SKF payload for a cipher with this IV and
 * ICV length; the AAD is everything before the IV (RFC 5282 5.1, RFC
 * 7383 2.5.3).
 */
int
ikemsg_sk(const struct ikemsg *m, size_t ivlen, size_t icvlen,
    struct ikemsg_sk *sk)
{
	memset(sk, 0, sizeof(*sk));
	if (m->msg_version != 2 || m->msg_encoff == 0)
		return (IKEMSG_ESYNTAX);
	/* At least the pad length byte must be encrypted. */
	if (m->msg_enclen < ivlen || m->msg_enclen - ivlen < icvlen + 1)
		return (IKEMSG_EBADLEN);
	sk->sk_aad = m->msg_buf;
	sk->sk_aadlen = m->msg_encoff;
	sk->sk_iv = m->msg_buf + m->msg_encoff;
	sk->sk_data = sk->sk_iv + ivlen;
	sk->sk_datalen = m->msg_enclen - ivlen - icvlen;
	sk->sk_icv = sk->sk_data + sk->sk_datalen;
	sk->sk_icvlen = icvlen;
	return (IKEMSG_OK);
}

/* RFC 7296 3.14: the last byte of the plaintext is the pad length. */
int
ikemsg_sk_unpad(const uint8_t *plain, size_t len, size_t *outlen)
{
	*outlen = 0;
	if (len == 0 || (size_t)plain[len - 1] + 1 > len)
		return (IKEMSG_EBADLEN);
	*outlen = len - 1 - plain[len - 1];
	return (IKEMSG_OK);
}

/* The next payload of a type after prev (NULL: from the first). */
const struct ikemsg_pld *
ikemsg_find(const struct ikemsg *m, uint8_t type,
    const struct ikemsg_pld *prev)
{
	u_int	 i;

	i = prev == NULL ? 0 : (u_int)(prev - m->msg_pld) + 1;
	for (; i < m->msg_npld; i++)
		if (m->msg_pld[i].pld_type == type)
			return (&m->msg_pld[i]);
	return (NULL);
}

const uint8_t *
ikemsg_pld_body(const struct ikemsg_pld *pld, size_t *len)
{
	*len = pld->pld_len - IKEMSG_PLD_HDR;
	return (pld->pld_buf + IKEMSG_PLD_HDR);
}

/* CERT and CERTREQ (IKEv1: CR): encoding, then data (a request's may be empty). */
int
ikemsg_pld_cert(const struct ikemsg_pld *pld, uint8_t *enc,
    const uint8_t **data, size_t *len)
{
	const uint8_t	*p;
	size_t		 blen;

	p = ikemsg_pld_body(pld, &blen);
	if (blen < 1)
		return (IKEMSG_EBADLEN);
	*enc = p[0];
	*data = p + 1;
	*len = blen - 1;
	return (IKEMSG_OK);
}

/*
 * Notify and Delete begin alike in both versions: [DOI (IKEv1: doilen
 * 4)], protocol, SPI size, a 16-bit number (the notify type; the number
 * of SPIs), then the SPIs and the data.  The version's parser checks
 * what its types require.
 */
static const uint8_t *
ikemsg_pld_nd(const struct ikemsg_pld *pld, size_t doilen, uint32_t *doi,
    uint8_t *proto, uint8_t *spisize, uint16_t *num, size_t *restlen)
{
	const uint8_t	*p;
	size_t		 len;

	p = ikemsg_pld_body(pld, &len);
	if (len < doilen + 4)
		return (NULL);
	*doi = doilen ? get32(p) : 0;
	p += doilen;
	*proto = p[0];
	*spisize = p[1];
	*num = get16(p + 2);
	*restlen = len - doilen - 4;
	return (p + 4);
}

int
ikemsg_pld_notify(const struct ikemsg_pld *pld, size_t doilen,
    struct ikemsg_notify *n)
{
	const uint8_t	*p;
	size_t		 len;

	memset(n, 0, sizeof(*n));
	if ((p = ikemsg_pld_nd(pld, doilen, &n->n_doi, &n->n_proto,
	    &n->n_spisize, &n->n_type, &len)) == NULL ||
	    (size_t)n->n_spisize > len)
		return (IKEMSG_EBADLEN);
	n->n_spi = n->n_spisize ? p : NULL;
	n->n_data = p + n->n_spisize;
	n->n_datalen = len - n->n_spisize;
	return (IKEMSG_OK);
}

int
ikemsg_pld_delete(const struct ikemsg_pld *pld, size_t doilen,
    struct ikemsg_delete *d)
{
	const uint8_t	*p;
	size_t		 len;

	memset(d, 0, sizeof(*d));
	if ((p = ikemsg_pld_nd(pld, doilen, &d->d_doi, &d->d_proto,
	    &d->d_spisize, &d->d_nspi, &len)) == NULL ||
	    (size_t)d->d_spisize * d->d_nspi != len)
		return (IKEMSG_EBADLEN);
	d->d_spi = d->d_nspi ? p : NULL;
	return (IKEMSG_OK);
}

const char *
ikemsg_strerror(int error)
{
	static const char *const msgs[IKEMSG_NERRORS] = {
		[IKEMSG_OK] = "ok",
		[IKEMSG_ESHORT] = "message truncated",
		[IKEMSG_EBADLEN] = "bad length",
		[IKEMSG_EVERSION] = "unsupported major version",
		[IKEMSG_ESYNTAX] = "invalid syntax",
		[IKEMSG_ECRITICAL] = "unsupported critical payload",
		[IKEMSG_EPLDTYPE] = "invalid payload type",
		[IKEMSG_EDOI] = "DOI not supported",
		[IKEMSG_ETOOMANY] = "too many payloads or substructures",
		[IKEMSG_EFRAG] = "bad fragment",
		[IKEMSG_ENOTIKE] = "not an IKE message"
	};

	if (error < 0 || error >= IKEMSG_NERRORS)
		return ("unknown error");
	return (msgs[error]);
}

/* The notify type to answer a parse error with (0: drop silently). */
uint16_t
ikemsg_error_notify(int version, int error)
{
	switch (error) {
	case IKEMSG_OK:
	case IKEMSG_ENOTIKE:
		return (0);
	case IKEMSG_EVERSION:
		return (version == 1 ? IKEV1_N_INVALID_MAJOR_VERSION :
		    IKEV2_N_INVALID_MAJOR_VERSION);
	case IKEMSG_ECRITICAL:
		return (version == 1 ? IKEV1_N_INVALID_PAYLOAD_TYPE :
		    IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	case IKEMSG_EPLDTYPE:
		return (version == 1 ? IKEV1_N_INVALID_PAYLOAD_TYPE :
		    IKEV2_N_INVALID_SYNTAX);
	case IKEMSG_EDOI:
		return (version == 1 ? IKEV1_N_DOI_NOT_SUPPORTED :
		    IKEV2_N_INVALID_SYNTAX);
	default:
		return (version == 1 ? IKEV1_N_PAYLOAD_MALFORMED :
		    IKEV2_N_INVALID_SYNTAX);
	}
}

void
ikemsg_stats_count(struct ikemsg_stats *st, int error)
{
	if (st == NULL)
		return;
	switch (error) {
	case IKEMSG_OK:
		st->ims_parsed++;
		break;
	case IKEMSG_ESHORT:
		st->ims_dropped_short++;
		break;
	case IKEMSG_EBADLEN:
		st->ims_dropped_badlen++;
		break;
	case IKEMSG_EVERSION:
		st->ims_dropped_version++;
		break;
	case IKEMSG_ECRITICAL:
		st->ims_dropped_critical++;
		break;
	case IKEMSG_EPLDTYPE:
		st->ims_dropped_pldtype++;
		break;
	case IKEMSG_EDOI:
		st->ims_dropped_doi++;
		break;
	case IKEMSG_ETOOMANY:
		st->ims_dropped_toomany++;
		break;
	case IKEMSG_EFRAG:
		st->ims_dropped_frag++;
		break;
	case IKEMSG_ENOTIKE:
		st->ims_notike++;
		break;
	default:
		st->ims_dropped_syntax++;
		break;
	}
}

/*
 * SA attributes (RFC 2408 3.3; RFC 7296 3.3.5 uses the same format) in
 * buf[0, len) appended to sa (NULL: check only); *nattr counts them.
 */
int
ikemsg_attrs(const uint8_t *buf, size_t len, struct ikemsg_sa *sa,
    u_int *nattr)
{
	struct ikemsg_attr	*at, scratch;
	size_t			 off = 0, alen;
	uint16_t		 type;
	u_int			 i;

	*nattr = 0;
	while (off < len) {
		if (len - off < 4)
			return (IKEMSG_EBADLEN);
		if (*nattr >= IKEMSG_XFATTR_MAX)
			return (IKEMSG_ETOOMANY);
		if (sa != NULL) {
			if (sa->sa_nattr >= IKEMSG_ATTR_MAX)
				return (IKEMSG_ETOOMANY);
			at = &sa->sa_attr[sa->sa_nattr];
		} else
			at = &scratch;
		memset(at, 0, sizeof(*at));
		type = get16(buf + off);
		at->at_type = type & IKEV1_ATTR_TYPE;
		if (type & IKEV1_ATTR_AF_TV) {
			at->at_tv = 1;
			at->at_val = get16(buf + off + 2);
			off += 4;
		} else {
			alen = get16(buf + off + 2);
			if (alen > len - off - 4)
				return (IKEMSG_EBADLEN);
			at->at_len = (uint16_t)alen;
			at->at_data = buf + off + 4;
			/* Variable-length numbers: 4-byte life durations. */
			if (alen <= 4)
				for (i = 0; i < alen; i++)
					at->at_val = at->at_val << 8 |
					    at->at_data[i];
			off += 4 + alen;
		}
		if (sa != NULL)
			sa->sa_nattr++;
		(*nattr)++;
	}
	return (IKEMSG_OK);
}

/*
 * Describing an SA to build: proposals, then each one's transforms,
 * then each transform's attributes, appended in order.
 */
void
ikemsg_sa_init(struct ikemsg_sa *sa, uint32_t doi, uint32_t sit)
{
	memset(sa, 0, sizeof(*sa));
	sa->sa_doi = doi;
	sa->sa_sit = sit;
}

int
ikemsg_sa_prop(struct ikemsg_sa *sa, uint8_t num, uint8_t proto,
    const uint8_t *spi, uint8_t spisize)
{
	struct ikemsg_prop	*p;

	if (sa->sa_nprop >= IKEMSG_PROP_MAX || spisize > IKEMSG_SPI_MAX)
		return (-1);
	p = &sa->sa_prop[sa->sa_nprop++];
	memset(p, 0, sizeof(*p));
	p->p_num = num;
	p->p_proto = proto;
	p->p_spisize = spisize;
	if (spisize > 0)
		memcpy(p->p_spi, spi, spisize);
	p->p_xf = sa->sa_nxf;
	return (0);
}

int
ikemsg_sa_xf(struct ikemsg_sa *sa, uint8_t type, uint8_t num, uint16_t id)
{
	struct ikemsg_xf	*xf;

	if (sa->sa_nprop == 0 || sa->sa_nxf >= IKEMSG_XF_MAX)
		return (-1);
	xf = &sa->sa_xf[sa->sa_nxf++];
	memset(xf, 0, sizeof(*xf));
	xf->xf_type = type;
	xf->xf_num = num;
	xf->xf_id = id;
	xf->xf_attr = sa->sa_nattr;
	sa->sa_prop[sa->sa_nprop - 1].p_nxf++;
	return (0);
}

static struct ikemsg_attr *
ikemsg_sa_newattr(struct ikemsg_sa *sa, uint16_t type)
{
	struct ikemsg_attr	*at;

	if (sa->sa_nxf == 0 || sa->sa_nattr >= IKEMSG_ATTR_MAX ||
	    sa->sa_xf[sa->sa_nxf - 1].xf_nattr >= IKEMSG_XFATTR_MAX)
		return (NULL);
	at = &sa->sa_attr[sa->sa_nattr++];
	memset(at, 0, sizeof(*at));
	at->at_type = type & IKEV1_ATTR_TYPE;
	sa->sa_xf[sa->sa_nxf - 1].xf_nattr++;
	return (at);
}

/* A number: TV when it fits 16 bits, else a 4-byte TLV (life durations). */
int
ikemsg_sa_attr(struct ikemsg_sa *sa, uint16_t type, uint32_t val)
{
	struct ikemsg_attr	*at;

	if ((at = ikemsg_sa_newattr(sa, type)) == NULL)
		return (-1);
	at->at_val = val;
	if (val <= 0xffff)
		at->at_tv = 1;
	else
		at->at_len = 4;
	return (0);
}

/* A TLV; data must live until the SA is built. */
int
ikemsg_sa_attr_var(struct ikemsg_sa *sa, uint16_t type, const uint8_t *data,
    uint16_t len)
{
	struct ikemsg_attr	*at;

	if ((at = ikemsg_sa_newattr(sa, type)) == NULL)
		return (-1);
	at->at_len = len;
	at->at_data = data;
	return (0);
}

const struct ikemsg_attr *
ikemsg_xf_attr(const struct ikemsg_sa *sa, const struct ikemsg_xf *xf,
    uint16_t type)
{
	u_int	 i;

	for (i = 0; i < xf->xf_nattr; i++)
		if (xf->xf_attr + i < sa->sa_nattr &&
		    sa->sa_attr[xf->xf_attr + i].at_type == type)
			return (&sa->sa_attr[xf->xf_attr + i]);
	return (NULL);
}

/*
 * Proposals and their transforms in buf[0, len): RFC 7296 3.3.1/3.3.2
 * substructures and RFC 2408 3.5/3.6 payloads have the same layout
 * (a 4-byte header whose first byte is 2 on all proposals but the last,
 * and 3 on all transforms but the last), except for the transform's
 * fixed part: IKEv2 type, reserved, 2-byte ID; IKEv1 number, 1-byte ID,
 * 2 reserved.  Appended to sa, or only checked when sa is NULL.
 */
int
ikemsg_props(const uint8_t *buf, size_t len, int version,
    struct ikemsg_sa *sa)
{
	const uint8_t	*p, *t;
	size_t		 off, plen, toff, tend, tlen;
	u_int		 nprop = 0, nxf = 0, nattr = 0, n, ntrans, xfn;
	uint8_t		 spisize;
	int		 error;

	for (off = 0; off < len; off += plen) {
		p = buf + off;
		if (len - off < 8)
			return (IKEMSG_EBADLEN);
		plen = get16(p + 2);
		if (plen < 8 || plen > len - off)
			return (IKEMSG_EBADLEN);
		if ((p[0] != 0 && p[0] != 2) ||
		    (p[0] == 0) != (off + plen == len))
			return (IKEMSG_ESYNTAX);
		if (nprop >= IKEMSG_PROP_MAX)
			return (IKEMSG_ETOOMANY);
		spisize = p[6];
		ntrans = p[7];
		if (spisize > IKEMSG_SPI_MAX)
			return (IKEMSG_ESYNTAX);
		if (8 + (size_t)spisize > plen)
			return (IKEMSG_EBADLEN);
		if (ntrans == 0)
			return (IKEMSG_ESYNTAX);
		if (sa != NULL && ikemsg_sa_prop(sa, p[4], p[5], p + 8,
		    spisize) == -1)
			return (IKEMSG_ETOOMANY);
		nprop++;

		xfn = 0;
		tend = off + plen;
		for (toff = off + 8 + spisize; toff < tend; toff += tlen) {
			t = buf + toff;
			if (tend - toff < 8)
				return (IKEMSG_EBADLEN);
			tlen = get16(t + 2);
			if (tlen < 8 || tlen > tend - toff)
				return (IKEMSG_EBADLEN);
			if ((t[0] != 0 && t[0] != 3) ||
			    (t[0] == 0) != (toff + tlen == tend))
				return (IKEMSG_ESYNTAX);
			if (nxf >= IKEMSG_XF_MAX)
				return (IKEMSG_ETOOMANY);
			if (sa != NULL) {
				if (version == 2)
					error = ikemsg_sa_xf(sa, t[4], 0,
					    get16(t + 6));
				else
					error = ikemsg_sa_xf(sa, 0, t[4], t[5]);
				if (error == -1)
					return (IKEMSG_ETOOMANY);
			}
			nxf++;
			xfn++;
			if ((error = ikemsg_attrs(t + 8, tlen - 8, sa,
			    &n)) != IKEMSG_OK)
				return (error);
			if (sa != NULL)
				sa->sa_xf[sa->sa_nxf - 1].xf_nattr = n;
			nattr += n;
			if (nattr > IKEMSG_ATTR_MAX)
				return (IKEMSG_ETOOMANY);
		}
		if (xfn != ntrans)
			return (IKEMSG_ESYNTAX);
	}
	if (nprop == 0)
		return (IKEMSG_ESYNTAX);
	return (IKEMSG_OK);
}
