/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IKEv2 (RFC 7296) on the daemon core: IKE_SA_INIT (NAT detection,
 * COOKIE and INVALID_KE_PAYLOAD answered and obeyed), IKE_AUTH with a
 * pre-shared key and the first child SA, CREATE_CHILD_SA for more
 * children and for child rekeys (REKEY_SA, optional PFS), INFORMATIONAL
 * for DELETE and liveness checks.  One request of ours is out at a time
 * (window 1); a retransmitted request gets the cached response.
 *
 *	Initiator			Responder
 *	HDR, SAi1, KEi, Ni, N(NAT_D)*	-->
 *				<--	HDR, SAr1, KEr, Nr, N(NAT_D)*
 *	HDR, SK {IDi, [IDr,] AUTH, SAi2, TSi, TSr}	-->
 *				<--	HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
 *
 * The child's inbound SPI comes from SADB_GETSPI before it is sent, as
 * in IKEv1; both SAs go in with UPDATE and ADD.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <libpfkey.h>

#include "iked.h"
#include "ikev2.h"

#define V2_NONCE_LEN		32
#define V2_MAX_MD		64
#define V2_COOKIE_THRESHOLD	32	/* half-open SAs before COOKIEs */
#define V2_COOKIE_LEN		16
#define V2_KEYPAD		"Key Pad for IKEv2"
#define V2_REDUNDANT_WAIT	10	/* s: the peer's DELETE of its
					   redundant IKE SA, 3 retransmissions
					   included (RFC 7296 2.8.2) */

static void	 v2_send_request(struct iked_sa *, uint8_t, struct ikebuf *,
		    struct iked_child *);
static void	 v2_send_response(struct iked_sa *, uint8_t, uint32_t,
		    struct ikebuf *);
static void	 v2_established(struct iked_sa *);
static void	 v2_respond_child(struct iked_child *);
static void	 v2_rekey_ike_req(struct iked_sa *, struct ikemsg *,
		    const struct ikemsg_sa *);
static void	 v2_rekey_ike_resp(struct iked_sa *, struct ikemsg *);
static void	 v2_rekey_move(struct iked_sa *, struct iked_sa *);

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static const char *
v2_notify_name(uint16_t type)
{
	switch (type) {
	case IKEV2_N_NO_PROPOSAL_CHOSEN:
		return ("NO_PROPOSAL_CHOSEN");
	case IKEV2_N_INVALID_KE_PAYLOAD:
		return ("INVALID_KE_PAYLOAD");
	case IKEV2_N_AUTHENTICATION_FAILED:
		return ("AUTHENTICATION_FAILED");
	case IKEV2_N_TS_UNACCEPTABLE:
		return ("TS_UNACCEPTABLE");
	case IKEV2_N_INVALID_SYNTAX:
		return ("INVALID_SYNTAX");
	case IKEV2_N_NO_ADDITIONAL_SAS:
		return ("NO_ADDITIONAL_SAS");
	case IKEV2_N_CHILD_SA_NOT_FOUND:
		return ("CHILD_SA_NOT_FOUND");
	case IKEV2_N_TEMPORARY_FAILURE:
		return ("TEMPORARY_FAILURE");
	case IKEV2_N_INVALID_SPI:
		return ("INVALID_SPI");
	}
	return (NULL);
}

/* %%% Transforms */

/* An AES-style cipher says its key length in an attribute. */
static int
v2_has_keylen(uint16_t encr)
{
	return (encr == IKEV2_XFORMENCR_AES_CBC ||
	    encr == IKEV2_XFORMENCR_AES_CTR ||
	    encr == IKEV2_XFORMENCR_AES_GCM_16);
}

static int
v2_is_aead(uint16_t encr)
{
	return (encr == IKEV2_XFORMENCR_AES_GCM_16 ||
	    encr == IKEV2_XFORMENCR_CHACHA20_POLY1305);
}

/* The protocol of a rule's child SAs in IKEv2 payloads: ESP or AH. */
static uint8_t
v2_childproto(const struct iked_sa *sa)
{
	return (sa->sa_pol->pol_saproto == IPPROTO_AH ? IKEV2_SAPROTO_AH :
	    IKEV2_SAPROTO_ESP);
}

/*
 * The CPI of a deflate IPCOMP_SUPPORTED notify in m (RFC 7296 3.10.1:
 * CPI, then the transform ID), host order; 0 if there is none.
 */
static uint16_t
v2_ipcomp_cpi(struct ikemsg *m)
{
	const struct ikemsg_pld	*p;
	struct ikemsg_notify	 n;

	for (p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, p))
		if (ikev2_pld_notify(p, &n) == IKEMSG_OK &&
		    n.n_type == IKEV2_N_IPCOMP_SUPPORTED && n.n_datalen >= 3 &&
		    n.n_data[2] == IKEV2_IPCOMP_DEFLATE && get16(n.n_data) != 0)
			return (get16(n.n_data));
	return (0);
}

/* Our IPCOMP_SUPPORTED: our CPI and deflate. */
static void
v2_build_ipcomp(struct ikebuf *b, uint16_t cpi)
{
	uint8_t	 d[3];

	d[0] = (uint8_t)(cpi >> 8);
	d[1] = (uint8_t)cpi;
	d[2] = IKEV2_IPCOMP_DEFLATE;
	ikev2_build_notify(b, 0, NULL, 0, IKEV2_N_IPCOMP_SUPPORTED, d,
	    sizeof(d));
}

/*
 * Our proposals of one kind into s: IKE ones (ENCR, PRF, INTEG, DH) or
 * child ones (ENCR, INTEG, ESN, DH with PFS); spi for child SAs.
 */
static int
v2_build_props(struct iked_sa *sa, struct ikemsg_sa *s, int ike,
    const uint8_t *spi, size_t spisize, int withdh, uint16_t firstgroup)
{
	struct iked_proposal	*prop;
	const struct iked_xform	*xf;
	u_int			 i, num = 1;
	uint16_t		 g;

	ikemsg_sa_init(s, 0, 0);
	TAILQ_FOREACH(prop, &sa->sa_pol->pol_proposals, prop_entry) {
		if (!prop_usable(prop, 2, ike ? PROP_IKE : PROP_CHILD) ||
		    num > 255)
			continue;
		if (ikemsg_sa_prop(s, (uint8_t)num++, ike ? IKEV2_SAPROTO_IKE :
		    v2_childproto(sa), spi, (uint8_t)spisize) == -1)
			return (-1);
		for (i = 0; i < prop->prop_nxf[XF_ENC]; i++) {
			xf = prop->prop_xf[XF_ENC][i];
			if (ikemsg_sa_xf(s, IKEV2_XFORMTYPE_ENCR, 0,
			    xf->xf_id) == -1 ||
			    (v2_has_keylen(xf->xf_id) && ikemsg_sa_attr(s,
			    IKEV2_ATTR_KEY_LENGTH, xf->xf_keylen) == -1))
				return (-1);
		}
		if (ike)
			for (i = 0; i < prop->prop_nxf[XF_PRF]; i++)
				if (ikemsg_sa_xf(s, IKEV2_XFORMTYPE_PRF, 0,
				    prop->prop_xf[XF_PRF][i]->xf_id) == -1)
					return (-1);
		for (i = 0; i < prop->prop_nxf[XF_AUTH]; i++)
			if (ikemsg_sa_xf(s, IKEV2_XFORMTYPE_INTEG, 0,
			    prop->prop_xf[XF_AUTH][i]->xf_id) == -1)
				return (-1);
		if (ike || (withdh && !prop->prop_nogroup)) {
			/* The group of our KE goes first. */
			if (firstgroup != 0 && ikemsg_sa_xf(s,
			    IKEV2_XFORMTYPE_DH, 0, firstgroup) == -1)
				return (-1);
			for (i = 0; i < prop->prop_nxf[XF_GROUP]; i++) {
				g = prop->prop_xf[XF_GROUP][i]->xf_id;
				if (g != firstgroup && ikemsg_sa_xf(s,
				    IKEV2_XFORMTYPE_DH, 0, g) == -1)
					return (-1);
			}
		}
		/* ESN: the rule's, or both for the peer to choose. */
		if (!ike && prop->prop_esn != PROP_ESN_NO &&
		    ikemsg_sa_xf(s, IKEV2_XFORMTYPE_ESN, 0,
		    IKEV2_XFORMESN_ESN) == -1)
			return (-1);
		if (!ike && prop->prop_esn != PROP_ESN_YES &&
		    ikemsg_sa_xf(s, IKEV2_XFORMTYPE_ESN, 0,
		    IKEV2_XFORMESN_NONE) == -1)
			return (-1);
	}
	return (s->sa_nprop > 0 ? 0 : -1);
}

struct v2_choice {
	uint8_t		 propnum;
	uint8_t		 proto;		/* IKEV2_SAPROTO_* */
	uint8_t		 spi[8];
	uint8_t		 spisize;
	uint16_t	 encr, encrbits, prf, integ, dh;
	int		 esn;
	int		 hasdh;
};

static uint16_t
v2_xf_keylen(const struct ikemsg_sa *s, const struct ikemsg_xf *xf)
{
	const struct ikemsg_attr *at;

	at = ikemsg_xf_attr(s, xf, IKEV2_ATTR_KEY_LENGTH);
	return (at != NULL ? (uint16_t)at->at_val : 0);
}

/*
 * The first of the peer's proposals (in its order) that one of ours
 * covers, each transform type taken in the peer's order; with
 * wantgroup, DH must be that group (INVALID_KE_PAYLOAD otherwise).
 */
static int
v2_choose(struct iked_sa *sa, const struct ikemsg_sa *s, int ike, int pfs,
    struct v2_choice *out, uint16_t *ourgroup)
{
	const struct ikemsg_prop	*p;
	const struct ikemsg_xf		*xf;
	struct iked_proposal		*q;
	struct v2_choice		 c;
	u_int				 i, j, k;
	int				 ok, aead, want;

	*ourgroup = 0;
	for (i = 0; i < s->sa_nprop; i++) {
		p = &s->sa_prop[i];
		if (p->p_proto != (ike ? IKEV2_SAPROTO_IKE :
		    v2_childproto(sa)))
			continue;
		TAILQ_FOREACH(q, &sa->sa_pol->pol_proposals, prop_entry) {
			if (!prop_usable(q, 2, ike ? PROP_IKE : PROP_CHILD))
				continue;
			memset(&c, 0, sizeof(c));
			c.propnum = p->p_num;
			c.proto = p->p_proto;
			c.spisize = p->p_spisize > 8 ? 8 : p->p_spisize;
			memcpy(c.spi, p->p_spi, c.spisize);
			c.esn = -1;
			aead = 0;
			/* ENCR: none for AH */
			ok = p->p_proto == IKEV2_SAPROTO_AH;
			for (j = 0; j < p->p_nxf && !ok; j++) {
				xf = &s->sa_xf[p->p_xf + j];
				if (xf->xf_type != IKEV2_XFORMTYPE_ENCR)
					continue;
				for (k = 0; k < q->prop_nxf[XF_ENC]; k++)
					if (q->prop_xf[XF_ENC][k]->xf_id ==
					    xf->xf_id && (!v2_has_keylen(
					    xf->xf_id) ||
					    q->prop_xf[XF_ENC][k]->xf_keylen ==
					    v2_xf_keylen(s, xf))) {
						c.encr = xf->xf_id;
						c.encrbits = q->prop_xf[XF_ENC][k]->
						    xf_keylen;
						aead = v2_is_aead(c.encr);
						ok = 1;
						break;
					}
			}
			if (!ok)
				continue;
			/* PRF (IKE) */
			if (ike) {
				ok = 0;
				for (j = 0; j < p->p_nxf && !ok; j++) {
					xf = &s->sa_xf[p->p_xf + j];
					if (xf->xf_type != IKEV2_XFORMTYPE_PRF)
						continue;
					for (k = 0; k < q->prop_nxf[XF_PRF]; k++)
						if (q->prop_xf[XF_PRF][k]->xf_id
						    == xf->xf_id) {
							c.prf = xf->xf_id;
							ok = 1;
						}
				}
				if (!ok)
					continue;
			}
			/* INTEG: none with an AEAD */
			if (!aead) {
				ok = 0;
				for (j = 0; j < p->p_nxf && !ok; j++) {
					xf = &s->sa_xf[p->p_xf + j];
					if (xf->xf_type != IKEV2_XFORMTYPE_INTEG)
						continue;
					for (k = 0; k < q->prop_nxf[XF_AUTH];
					    k++)
						if (q->prop_xf[XF_AUTH][k]->
						    xf_id == xf->xf_id) {
							c.integ = xf->xf_id;
							ok = 1;
						}
				}
				if (!ok)
					continue;
			}
			/* DH: IKE always, a child with PFS */
			want = ike || (pfs && q->prop_nxf[XF_GROUP] > 0 &&
			    !q->prop_nogroup);
			ok = !want;
			for (j = 0; j < p->p_nxf; j++) {
				xf = &s->sa_xf[p->p_xf + j];
				if (xf->xf_type != IKEV2_XFORMTYPE_DH)
					continue;
				if (xf->xf_id == IKEV2_XFORMDH_NONE && !want) {
					ok = 1;
					break;
				}
				for (k = 0; k < q->prop_nxf[XF_GROUP]; k++)
					if (q->prop_xf[XF_GROUP][k]->xf_id ==
					    xf->xf_id && !c.hasdh) {
						c.dh = xf->xf_id;
						c.hasdh = 1;
					}
				if (c.hasdh) {
					ok = 1;
					break;
				}
			}
			if (want && !c.hasdh)
				ok = 0;
			if (!ok)
				continue;
			if (want && *ourgroup == 0)
				*ourgroup = q->prop_xf[XF_GROUP][0]->xf_id;
			/* ESN (child) */
			if (!ike) {
				/* The peer's first that the rule allows. */
				for (j = 0; j < p->p_nxf; j++) {
					xf = &s->sa_xf[p->p_xf + j];
					if (xf->xf_type != IKEV2_XFORMTYPE_ESN)
						continue;
					if (xf->xf_id == IKEV2_XFORMESN_ESN &&
					    q->prop_esn != PROP_ESN_NO) {
						c.esn = 1;
						break;
					}
					if (xf->xf_id == IKEV2_XFORMESN_NONE &&
					    q->prop_esn != PROP_ESN_YES) {
						c.esn = 0;
						break;
					}
				}
				if (c.esn == -1) {
					/* None given means no ESN. */
					for (j = 0; j < p->p_nxf; j++)
						if (s->sa_xf[p->p_xf + j].
						    xf_type ==
						    IKEV2_XFORMTYPE_ESN)
							break;
					if (j < p->p_nxf ||
					    q->prop_esn == PROP_ESN_YES)
						continue;
					c.esn = 0;
				}
			}
			*out = c;
			return (0);
		}
	}
	return (-1);
}

/* The chosen proposal as one SA payload. */
static int
v2_build_chosen(struct ikebuf *b, const struct v2_choice *c, int ike,
    const uint8_t *spi, size_t spisize)
{
	struct ikemsg_sa	*s;
	int			 ret;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (-1);
	ikemsg_sa_init(s, 0, 0);
	ikemsg_sa_prop(s, c->propnum, ike ? IKEV2_SAPROTO_IKE : c->proto,
	    spi, (uint8_t)spisize);
	if (c->proto != IKEV2_SAPROTO_AH)
		ikemsg_sa_xf(s, IKEV2_XFORMTYPE_ENCR, 0, c->encr);
	if (v2_has_keylen(c->encr))
		ikemsg_sa_attr(s, IKEV2_ATTR_KEY_LENGTH, c->encrbits);
	if (ike)
		ikemsg_sa_xf(s, IKEV2_XFORMTYPE_PRF, 0, c->prf);
	if (c->integ)
		ikemsg_sa_xf(s, IKEV2_XFORMTYPE_INTEG, 0, c->integ);
	if (c->hasdh)
		ikemsg_sa_xf(s, IKEV2_XFORMTYPE_DH, 0, c->dh);
	if (!ike)
		ikemsg_sa_xf(s, IKEV2_XFORMTYPE_ESN, 0, c->esn ?
		    IKEV2_XFORMESN_ESN : IKEV2_XFORMESN_NONE);
	ret = ikev2_build_sa(b, s);
	free(s);
	return (ret);
}

/* %%% NAT detection (RFC 7296 2.23), hashed by natt.c with SHA-1 */

static void
v2_build_natd(struct iked_sa *sa, struct ikebuf *b)
{
	uint8_t	 h[NATT_HASH_MAX];
	size_t	 hl;

	if (natt_claim(sa, NULL, h, &hl) == 0)
		ikev2_build_notify(b, 0, NULL, 0,
		    IKEV2_N_NAT_DETECTION_SOURCE_IP, h, hl);
	if (natt_hash(sa, NULL, &sa->sa_peer.sa, h, &hl) == 0)
		ikev2_build_notify(b, 0, NULL, 0,
		    IKEV2_N_NAT_DETECTION_DESTINATION_IP, h, hl);
}

static void
v2_check_natd(struct iked_sa *sa, const struct ikemsg *m)
{
	const struct ikemsg_pld	*p;
	struct ikemsg_notify	 n;
	uint8_t			 h[NATT_HASH_MAX];
	size_t			 hl;
	int			 nsrc = 0, srcok = 0, dstseen = 0, dstok = 0;

	for (p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, p)) {
		if (ikev2_pld_notify(p, &n) != IKEMSG_OK)
			continue;
		if (n.n_type == IKEV2_N_NAT_DETECTION_SOURCE_IP) {
			nsrc++;
			if (natt_hash(sa, NULL, &sa->sa_peer.sa, h, &hl) == 0 &&
			    n.n_datalen == hl && memcmp(h, n.n_data, hl) == 0)
				srcok = 1;
		} else if (n.n_type == IKEV2_N_NAT_DETECTION_DESTINATION_IP) {
			dstseen = 1;
			if (natt_hash(sa, NULL, &sa->sa_local.sa, h, &hl) == 0 &&
			    n.n_datalen == hl && memcmp(h, n.n_data, hl) == 0)
				dstok = 1;
		}
	}
	if (nsrc == 0 || !dstseen)
		return;			/* the peer does no NAT-T */
	sa->sa_nat |= SA_NATT_VID;
	natt_result(sa, dstok, srcok);
}

/* %%% Keys (RFC 7296 2.14) */

static int
v2_sa_keys(struct iked_sa *sa, const struct v2_choice *c,
    struct iked_sa *old)
{
	uint8_t		*gir = NULL, skeyseed[V2_MAX_MD];
	size_t		 girlen = 0, integlen = 0, enclen;
	const uint8_t	*peerpub;
	size_t		 peerlen;
	int		 ret = -1;

	sa->sa_enc = c->encr;
	sa->sa_enckeylen = c->encrbits;
	sa->sa_prfid = c->prf;
	sa->sa_integid = c->integ;
	sa->sa_lifetime = sa->sa_pol->pol_ikelifetime;
	if ((sa->sa_prf = hash_new(XF_PRF, c->prf)) == NULL ||
	    (sa->sa_cipher = cipher_new(c->encr, c->encrbits)) == NULL ||
	    (sa->sa_cipher_in = cipher_new(c->encr, c->encrbits)) == NULL ||
	    (c->integ != 0 && (sa->sa_integ = hash_new(XF_AUTH, c->integ)) ==
	    NULL))
		return (-1);
	if (sa->sa_integ != NULL)
		integlen = hash_keylength(sa->sa_integ);
	enclen = cipher_keylength(sa->sa_cipher);
	peerpub = sa->sa_initiator ? sa->sa_dhr : sa->sa_dhi;
	peerlen = sa->sa_initiator ? sa->sa_dhrlen : sa->sa_dhilen;
	if (dh_create_shared(sa->sa_dh, peerpub, peerlen, &gir, &girlen) == -1)
		return (-1);
	/* A rekey (RFC 7296 2.18): prf_old(SK_d old, g^ir | Ni | Nr). */
	if ((old != NULL ? kdf_ikev2_skeyseed(old->sa_prf, old->sa_k2.sk_d,
	    old->sa_k2.sk_prflen, gir, girlen, sa->sa_ni, sa->sa_nilen,
	    sa->sa_nr, sa->sa_nrlen, skeyseed) :
	    kdf_ikev2_skeyseed(sa->sa_prf, NULL, 0, gir, girlen, sa->sa_ni,
	    sa->sa_nilen, sa->sa_nr, sa->sa_nrlen, skeyseed)) == -1 ||
	    kdf_ikev2_sa(sa->sa_prf, skeyseed, sa->sa_ni, sa->sa_nilen,
	    sa->sa_nr, sa->sa_nrlen, sa->sa_ispi, sa->sa_rspi, integlen,
	    enclen, &sa->sa_k2) == -1)
		goto done;
	sa->sa_k2set = 1;
	if (cipher_setkey(sa->sa_cipher, sa->sa_initiator ? sa->sa_k2.sk_ei :
	    sa->sa_k2.sk_er, enclen) == -1 ||
	    cipher_setkey(sa->sa_cipher_in, sa->sa_initiator ?
	    sa->sa_k2.sk_er : sa->sa_k2.sk_ei, enclen) == -1)
		goto done;
	ret = 0;
 done:
	explicit_bzero(skeyseed, sizeof(skeyseed));
	if (gir != NULL)
		freezero(gir, girlen);
	return (ret);
}

/* %%% SK payloads */

/*
 * data (len bytes of a payload chain whose first payload is first)
 * sealed into one message: an SK payload, or with total != 0 fragment
 * num of total (RFC 7383 2.5, the first type in fragment 1 only).
 */
static int
v2_seal_one(struct iked_sa *sa, uint8_t exchange, int response,
    uint32_t msgid, const uint8_t *data, size_t len, uint8_t first,
    uint16_t num, uint16_t total, uint8_t **out, size_t *outlen)
{
	struct ikebuf	 m;
	struct iked_cipher *c = sa->sa_cipher;
	size_t		 ivl, icvl, bl, datalen, pad, bodyoff;
	uint8_t		*plain = NULL, *iv, *ct, flags;
	int		 ret = -1;

	if (!sa->sa_k2set)
		return (-1);
	ivl = cipher_ivlength(c);
	icvl = sa->sa_integ ? hash_length(sa->sa_integ) : cipher_taglength(c);
	bl = cipher_blocklength(c);
	pad = (bl - (len + 1) % bl) % bl;
	datalen = len + pad + 1;
	flags = (sa->sa_initiator ? IKEV2_FLAG_INITIATOR : 0) |
	    (response ? IKEV2_FLAG_RESPONSE : 0);
	if (ikebuf_init(&m) == -1)
		return (-1);
	ikemsg_build_hdr(&m, 2, sa->sa_ispi, sa->sa_rspi, exchange, flags,
	    msgid);
	if ((total == 0 ? ikev2_build_sk(&m, len ? first : 0,
	    ivl + datalen + icvl, &bodyoff) : ikev2_build_skf(&m, first, num,
	    total, ivl + datalen + icvl, &bodyoff)) == -1 ||
	    ikemsg_build_done(&m) == -1 || (plain = malloc(datalen)) == NULL)
		goto done;
	if (len)
		memcpy(plain, data, len);
	memset(plain + len, 0, pad);
	plain[datalen - 1] = (uint8_t)pad;
	iv = m.ib_buf + bodyoff;
	ct = iv + ivl;
	arc4random_buf(iv, ivl);
	if (sa->sa_integ == NULL) {
		if (cipher_encrypt(c, iv, m.ib_buf, bodyoff, plain, datalen,
		    ct, ct + datalen) == -1)
			goto done;
	} else {
		if (cipher_encrypt(c, iv, NULL, 0, plain, datalen, ct,
		    NULL) == -1 ||
		    hash_setkey(sa->sa_integ, sa->sa_initiator ?
		    sa->sa_k2.sk_ai : sa->sa_k2.sk_ar,
		    sa->sa_k2.sk_integlen) == -1 ||
		    hash_compute(sa->sa_integ, m.ib_buf, bodyoff + ivl +
		    datalen, ct + datalen) == -1)
			goto done;
	}
	*out = m.ib_buf;
	*outlen = m.ib_len;
	m.ib_buf = NULL;
	ret = 0;
 done:
	if (plain != NULL)
		freezero(plain, datalen);
	if (m.ib_buf != NULL)
		ikebuf_free(&m);
	return (ret);
}

/* inner (a bare chain) sealed into a message. */
static int
v2_seal(struct iked_sa *sa, uint8_t exchange, int response, uint32_t msgid,
    struct ikebuf *inner, uint8_t **out, size_t *outlen)
{
	if (inner->ib_error)
		return (-1);
	return (v2_seal_one(sa, exchange, response, msgid, inner->ib_buf,
	    inner->ib_len, inner->ib_first, 0, 0, out, outlen));
}

static int	v2_seal_frags(struct iked_sa *, uint8_t, int, uint32_t,
		    struct ikebuf *, size_t, uint8_t **, size_t *,
		    struct iked_tx *);

/* The whole message *msg, or in its place its fragments. */
static void
v2_maybe_frag(struct iked_sa *sa, uint8_t exchange, int response,
    uint32_t msgid, struct ikebuf *inner, uint8_t **msg, size_t *len,
    struct iked_tx *tx)
{
	uint8_t	*frags;
	size_t	 flen;

	if (v2_seal_frags(sa, exchange, response, msgid, inner, *len, &frags,
	    &flen, tx) == 1) {
		freezero(*msg, *len);
		*msg = frags;
		*len = flen;
	}
}

/*
 * The notifies of an IKE_SA_INIT request or response that set up the
 * SA: IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383), and the peer's
 * SIGNATURE_HASH_ALGORITHMS (RFC 7427): the hashes it verifies, which
 * our Digital Signature may use.
 */
static void
v2_init_notifies(struct iked_sa *sa, const struct ikemsg *m)
{
	const struct ikemsg_pld	*p;
	struct ikemsg_notify	 n;
	char			 list[64];
	size_t			 i, off;
	u_int			 h;

	for (p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, p)) {
		if (ikev2_pld_notify(p, &n) != IKEMSG_OK)
			continue;
		if (n.n_type == IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED &&
		    (sa->sa_cf->cfg_flags & CFG_FRAGMENTATION))
			sa->sa_v2flags |= SA_V2_FRAG;
		if (n.n_type != IKEV2_N_SIGNATURE_HASH_ALGORITHMS)
			continue;
		list[0] = '\0';
		for (i = 0, off = 0; i + 1 < n.n_datalen; i += 2) {
			h = (u_int)(n.n_data[i] << 8 | n.n_data[i + 1]);
			if (h < 32)
				sa->sa_peerhashes |= 1U << h;
			if (off < sizeof(list))
				off += (size_t)snprintf(list + off,
				    sizeof(list) - off, " %u", h);
		}
		log_debug("%s: the peer verifies hashes%s (RFC 7427)",
		    sa->sa_name, list);
	}
}

/*
 * A message larger than "set fragment_size" (cfg_fragsize: 1228 bytes,
 * RFC 7383 2.5.1), once both sides announced
 * IKEV2_FRAGMENTATION_SUPPORTED, as fragments, each sealed on
 * its own, back to back in *out with their lengths in tx; 0 when it
 * goes whole (tx unchanged).
 */
static int
v2_seal_frags(struct iked_sa *sa, uint8_t exchange, int response,
    uint32_t msgid, struct ikebuf *inner, size_t wholelen, uint8_t **out,
    size_t *outlen, struct iked_tx *tx)
{
	struct iked_cipher *c = sa->sa_cipher;
	size_t		 fragsize = sa->sa_cf->cfg_fragsize;
	size_t		 over, chunk, off, total_len = 0, flen;
	uint8_t		*buf = NULL, *f, *nb;
	uint16_t	*lens = NULL, total, num;
	int		 ret = -1;

	free(tx->tx_frags);
	tx->tx_frags = NULL;
	tx->tx_nfrags = 0;
	if (!(sa->sa_v2flags & SA_V2_FRAG) ||
	    !(sa->sa_cf->cfg_flags & CFG_FRAGMENTATION) ||
	    exchange == IKEV2_EXCHANGE_IKE_SA_INIT ||
	    wholelen <= fragsize)
		return (0);
	/* Header, SKF header, IV, ICV, a block of padding. */
	over = 28 + 8 + cipher_ivlength(c) + (sa->sa_integ ?
	    hash_length(sa->sa_integ) : cipher_taglength(c)) +
	    cipher_blocklength(c) + 1;
	if (fragsize <= over + 16)
		return (-1);
	chunk = fragsize - over;
	total = (uint16_t)((inner->ib_len + chunk - 1) / chunk);
	if (total == 0 || total > IKEMSG_FRAG_MAX)
		return (-1);
	if ((lens = calloc(total, sizeof(*lens))) == NULL)
		return (-1);
	for (num = 1, off = 0; num <= total; num++, off += chunk) {
		if (v2_seal_one(sa, exchange, response, msgid,
		    inner->ib_buf + off, inner->ib_len - off < chunk ?
		    inner->ib_len - off : chunk, inner->ib_first, num, total,
		    &f, &flen) == -1)
			goto done;
		if ((nb = malloc(total_len + flen)) == NULL) {
			freezero(f, flen);
			goto done;
		}
		if (buf != NULL) {
			memcpy(nb, buf, total_len);
			freezero(buf, total_len);
		}
		memcpy(nb + total_len, f, flen);
		freezero(f, flen);
		buf = nb;
		total_len += flen;
		lens[num - 1] = (uint16_t)flen;
	}
	log_debug("%s: a %zu-byte message sent as %u fragments", sa->sa_name,
	    wholelen, total);
	*out = buf;
	*outlen = total_len;
	tx->tx_frags = lens;
	tx->tx_nfrags = total;
	buf = NULL;
	lens = NULL;
	ret = 1;
 done:
	if (buf != NULL)
		freezero(buf, total_len);
	free(lens);
	return (ret);
}

/* Verify and decrypt m's SK payload; parse its payloads into m. */
static int
v2_open(struct iked_sa *sa, struct ikemsg *m, const uint8_t *raw,
    uint8_t **plain, size_t *plainlen)
{
	struct ikemsg_sk	 sk;
	struct iked_cipher	*c = sa->sa_cipher_in;
	size_t			 ivl, icvl, len;

	*plain = NULL;
	*plainlen = 0;
	if (!sa->sa_k2set || (m->msg_enctype != IKEV2_PAYLOAD_SK &&
	    m->msg_enctype != IKEV2_PAYLOAD_SKF))
		return (-1);
	ivl = cipher_ivlength(c);
	icvl = sa->sa_integ ? hash_length(sa->sa_integ) : cipher_taglength(c);
	if (ikemsg_sk(m, ivl, icvl, &sk) != IKEMSG_OK)
		return (-1);
	if (sa->sa_integ != NULL) {
		if (hash_setkey(sa->sa_integ, sa->sa_initiator ?
		    sa->sa_k2.sk_ar : sa->sa_k2.sk_ai,
		    sa->sa_k2.sk_integlen) == -1 ||
		    hash_verify(sa->sa_integ, raw, (size_t)(sk.sk_icv - raw),
		    sk.sk_icv) == -1)
			return (-2);
	}
	if ((*plain = malloc(sk.sk_datalen ? sk.sk_datalen : 1)) == NULL)
		return (-1);
	*plainlen = sk.sk_datalen;
	if (cipher_decrypt(c, sk.sk_iv, sa->sa_integ ? NULL : sk.sk_aad,
	    sa->sa_integ ? 0 : sk.sk_aadlen, sk.sk_data, sk.sk_datalen,
	    *plain, sa->sa_integ ? NULL : sk.sk_icv) == -1)
		return (-2);
	if (ikemsg_sk_unpad(*plain, sk.sk_datalen, &len) != IKEMSG_OK)
		return (-1);
	if (m->msg_enctype == IKEV2_PAYLOAD_SKF) {
		/* A fragment (RFC 7383 2.6): kept until all are here. */
		int	 complete;
		uint8_t	*whole, first;
		size_t	 wlen;

		if (!(sa->sa_v2flags & SA_V2_FRAG))
			return (-1);
		if (sa->sa_frag == NULL &&
		    (sa->sa_frag = calloc(1, sizeof(*sa->sa_frag))) == NULL)
			return (-1);
		if (ikemsg_frag_add(sa->sa_frag, m, *plain, len, &complete) !=
		    IKEMSG_OK)
			return (-1);
		if (!complete)
			return (1);
		if (ikemsg_frag_take(sa->sa_frag, &whole, &wlen, &first) !=
		    IKEMSG_OK)
			return (-1);
		/* Taken: the state is clear; it goes until the next. */
		free(sa->sa_frag);
		sa->sa_frag = NULL;
		freezero(*plain, *plainlen);
		*plain = whole;
		*plainlen = wlen;
		len = wlen;
		m->msg_encnext = first;
		log_debug("%s: a %zu-byte message reassembled from %u "
		    "fragments", sa->sa_name, wlen, m->msg_fragtotal);
	}
	if (ikemsg_parse_inner(m, *plain, len,
	    &sa->sa_env->sc_stats.st_msg) != IKEMSG_OK)
		return (-1);
	return (0);
}

/* %%% Identities and AUTH (RFC 7296 2.15) */

static const iked_idmap v2_idmap = {
	[ID_FQDN] = IKEV2_ID_FQDN,
	[ID_UFQDN] = IKEV2_ID_UFQDN,
	[ID_IPV4] = IKEV2_ID_IPV4,
	[ID_IPV6] = IKEV2_ID_IPV6,
	[ID_ASN1DN] = IKEV2_ID_ASN1_DN
};

/* Whether the SA's rule authenticates with a key pair, not the psk. */
static int
v2_pubkey(const struct iked_sa *sa)
{
	return (sa->sa_pol != NULL && sa->sa_pol->pol_auth != CA_AUTH_NONE);
}

/* RFC 7427 4: the hashes our signatures and verification take. */
static void
v2_build_sighashes(struct ikebuf *b)
{
	static const uint8_t	 hashes[] = {
		0, IKEV2_SIGHASH_SHA2_256, 0, IKEV2_SIGHASH_SHA2_384,
		0, IKEV2_SIGHASH_SHA2_512, 0, IKEV2_SIGHASH_IDENTITY
	};

	ikev2_build_notify(b, 0, NULL, 0, IKEV2_N_SIGNATURE_HASH_ALGORITHMS,
	    hashes, sizeof(hashes));
}

/* CERTREQ (encoding X.509 signature): the SHA-1 of each CA's key. */
static void
v2_build_certreq(struct iked_sa *sa, struct ikebuf *b)
{
	uint8_t		 hashes[CA_CHAIN_MAX];
	size_t		 len = 0;

	if (auth_certreq(sa->sa_env, hashes, sizeof(hashes), &len) == 0 &&
	    len > 0)
		ikev2_build_cert(b, IKEV2_PAYLOAD_CERTREQ,
		    IKEV2_CERT_X509_CERT, hashes, len);
}

/*
 * Our ID payload (type IDi or IDr), and with a key pair our CERTs, and
 * the initiator's CERTREQ; the ID payload's body (after the generic
 * header: ID type, reserved, data) into *body for the AUTH.
 */
static int
v2_build_myid(struct iked_sa *sa, struct ikebuf *b, uint8_t type,
    uint8_t **body, size_t *bodylen)
{
	size_t			 off = b->ib_len, dlen, clen;
	uint8_t			 idtype;
	const void		*data;
	uint8_t			*chain = NULL, id[CA_ID_MAX];
	char			 why[CA_WHY_MAX];

	if (!v2_pubkey(sa)) {
		ikesa_myid(sa, v2_idmap, &idtype, &data, &dlen);
		if (ikev2_build_id(b, type, idtype, data, dlen) == -1)
			return (-1);
	} else {
		if ((chain = malloc(CA_CHAIN_MAX)) == NULL)
			return (-1);
		if (auth_local(sa->sa_env, &sa->sa_pol->pol_srcid, chain,
		    CA_CHAIN_MAX, &clen, &idtype, id, sizeof(id), &dlen, why,
		    sizeof(why)) == -1) {
			log_warnx("%s: cannot authenticate with rule \"%s\": "
			    "%s", sa->sa_name, sa->sa_pol->pol_name, why);
			free(chain);
			return (-1);
		}
		if (ikev2_build_id(b, type, idtype, id, dlen) == -1) {
			free(chain);
			return (-1);
		}
		setbuf_dup(body, bodylen, b->ib_buf + off + 4,
		    b->ib_len - off - 4);
		auth_chain_build(b, chain, clen, ikev2_build_cert,
		    IKEV2_PAYLOAD_CERT, IKEV2_CERT_X509_CERT);
		free(chain);
		if (type == IKEV2_PAYLOAD_IDi)
			v2_build_certreq(sa, b);
		return (*body != NULL && !b->ib_error ? 0 : -1);
	}
	setbuf_dup(body, bodylen, b->ib_buf + off + 4, b->ib_len - off - 4);
	return (*body != NULL ? 0 : -1);
}

/* dstid: the identity the peer must have sent. */
static int
v2_check_peerid(struct iked_sa *sa, const struct ikemsg_id *id)
{
	return (ikesa_check_peerid(sa, v2_idmap, id->id_type, id->id_data,
	    id->id_len));
}

/*
 * AUTH = prf(prf(PSK, "Key Pad for IKEv2"), <message> | <nonce> |
 * prf(SK_px, ID')), for the initiator's side (msg1, Nr, SK_pi) or the
 * responder's (msg2, Ni, SK_pr).
 */
static int
v2_psk_auth(struct iked_sa *sa, int initiator, const uint8_t *idb,
    size_t idblen, uint8_t *out)
{
	struct iked_hash	*prf = sa->sa_prf;
	uint8_t			 key[V2_MAX_MD], macid[V2_MAX_MD];
	size_t			 hl = hash_length(prf);
	int			 ret = -1;

	if (prf_compute(prf, initiator ? sa->sa_k2.sk_pi : sa->sa_k2.sk_pr,
	    sa->sa_k2.sk_prflen, idb, idblen, macid) == -1 ||
	    prf_compute(prf, sa->sa_pol->pol_psk, sa->sa_pol->pol_psklen,
	    V2_KEYPAD, strlen(V2_KEYPAD), key) == -1 ||
	    hash_setkey(prf, key, hl) == -1 || hash_init(prf) == -1 ||
	    hash_update(prf, initiator ? sa->sa_msg1 : sa->sa_msg2,
	    initiator ? sa->sa_msg1len : sa->sa_msg2len) == -1 ||
	    hash_update(prf, initiator ? sa->sa_nr : sa->sa_ni,
	    initiator ? sa->sa_nrlen : sa->sa_nilen) == -1 ||
	    hash_update(prf, macid, hl) == -1 || hash_final(prf, out) == -1)
		goto done;
	ret = 0;
 done:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(macid, sizeof(macid));
	return (ret);
}

/*
 * What a signature covers (RFC 7296 2.15): <message> | <nonce> |
 * prf(SK_px, ID'), the initiator's side or the responder's.  A new
 * buffer, or NULL.
 */
static uint8_t *
v2_signed_octets(struct iked_sa *sa, int initiator, const uint8_t *idb,
    size_t idblen, size_t *lenp)
{
	const uint8_t	*msg = initiator ? sa->sa_msg1 : sa->sa_msg2;
	const uint8_t	*nonce = initiator ? sa->sa_nr : sa->sa_ni;
	size_t		 msglen = initiator ? sa->sa_msg1len : sa->sa_msg2len;
	size_t		 noncelen = initiator ? sa->sa_nrlen : sa->sa_nilen;
	size_t		 hl = hash_length(sa->sa_prf);
	uint8_t		*buf;

	if (msg == NULL || nonce == NULL ||
	    (buf = malloc(msglen + noncelen + hl)) == NULL)
		return (NULL);
	memcpy(buf, msg, msglen);
	memcpy(buf + msglen, nonce, noncelen);
	if (prf_compute(sa->sa_prf, initiator ? sa->sa_k2.sk_pi :
	    sa->sa_k2.sk_pr, sa->sa_k2.sk_prflen, idb, idblen,
	    buf + msglen + noncelen) == -1) {
		free(buf);
		return (NULL);
	}
	*lenp = msglen + noncelen + hl;
	return (buf);
}

static void	v2_continue(struct iked_sa *);

/* Our signature from the ca process's answer, or why there is none. */
static void
v2_take_sig(struct iked_sa *sa, const struct auth_answer *a)
{
	if (a->aa_ok == 0 && a->aa_signok == 0)
		setbuf_dup(&sa->sa_mysig, &sa->sa_mysiglen, a->aa_sig,
		    a->aa_siglen);
	if (a->aa_ok == -1 || a->aa_signok == -1 || sa->sa_mysig == NULL) {
		log_warnx("%s: cannot sign with rule \"%s\" (%s): %s",
		    sa->sa_name, sa->sa_pol->pol_name,
		    print_auth(sa->sa_pol->pol_auth), a->aa_ok == -1 ||
		    a->aa_signok == -1 ? a->aa_why : "out of memory");
		sa->sa_mysigerr = 1;
	} else {
		sa->sa_mysigmethod = a->aa_method;
		log_debug("%s: AUTH method %u, %zu bytes", sa->sa_name,
		    a->aa_method, a->aa_siglen);
	}
}

/* The ca process has signed our AUTH (or could not). */
static void
v2_signed(struct iked *env, void *arg, const struct auth_answer *a)
{
	struct iked_sa	*sa = arg;

	(void)env;
	sa->sa_authwait = 0;
	v2_take_sig(sa, a);
	v2_continue(sa);
}

/*
 * Ask the ca process for our signature over the AUTH octets of idb:
 * 1 (v2_signed() takes it up), or -1.
 */
static int
v2_sign(struct iked_sa *sa, int initiator, const uint8_t *idb,
    size_t idblen)
{
	uint8_t		*data;
	size_t		 len;
	int		 ret;

	if (sa->sa_authwait)
		return (1);
	if ((data = v2_signed_octets(sa, initiator, idb, idblen, &len)) ==
	    NULL) {
		sa->sa_mysigerr = 1;
		return (-1);
	}
	ret = auth_sign_start(sa->sa_env, sa->sa_pol->pol_auth,
	    sa->sa_peerhashes, data, len, v2_signed, sa);
	freezero(data, len);
	if (ret == -1) {
		log_warnx("%s: cannot sign with rule \"%s\": out of memory",
		    sa->sa_name, sa->sa_pol->pol_name);
		sa->sa_mysigerr = 1;
		return (-1);
	}
	sa->sa_authwait = 1;
	return (1);
}

/*
 * Our AUTH payload, for the ID payload body idb: a MAC or a signature.
 * 0, -1, or 1: the signature is asked for; build again once it came.
 */
static int
v2_build_myauth(struct iked_sa *sa, struct ikebuf *b, int initiator,
    const uint8_t *idb, size_t idblen)
{
	uint8_t		 auth[V2_MAX_MD];
	int		 ret;

	if (!v2_pubkey(sa)) {
		if (v2_psk_auth(sa, initiator, idb, idblen, auth) == -1)
			return (-1);
		ret = ikev2_build_auth(b, IKEV2_AUTH_SHARED_KEY_MIC, auth,
		    hash_length(sa->sa_prf));
		explicit_bzero(auth, sizeof(auth));
		return (ret);
	}
	if (sa->sa_mysigerr)
		return (-1);
	if (sa->sa_mysig == NULL)
		return (v2_sign(sa, initiator, idb, idblen));
	return (ikev2_build_auth(b, sa->sa_mysigmethod, sa->sa_mysig,
	    sa->sa_mysiglen));
}

/*
 * Our AUTH, asked for as early as it can be: the initiator's once
 * IKE_SA_INIT is done (while the kernel allocates the child's SPI),
 * the responder's once the initiator's is verified (every answer to
 * that IKE_AUTH, a child, an error or none, then has it at once).
 * 0 (a pre-shared key, or signed), 1 (asked), -1.
 */
static int
v2_presign(struct iked_sa *sa, int initiator)
{
	struct ikebuf	 b;
	uint8_t		*idb = NULL;
	size_t		 idblen = 0;
	int		 ret;

	if (!v2_pubkey(sa) || sa->sa_mysig != NULL || sa->sa_mysigerr)
		return (0);
	if (sa->sa_authwait)
		return (1);
	if (ikebuf_init(&b) == -1)
		return (-1);
	if (initiator)
		ret = v2_build_myid(sa, &b, IKEV2_PAYLOAD_IDi, &idb, &idblen);
	else
		ret = v2_build_myid(sa, &b, IKEV2_PAYLOAD_IDr, &sa->sa_idr2,
		    &sa->sa_idr2len);
	ikebuf_free(&b);
	if (ret == -1)
		sa->sa_mysigerr = 1;
	else
		ret = v2_sign(sa, initiator, initiator ? idb : sa->sa_idr2,
		    initiator ? idblen : sa->sa_idr2len);
	if (idb != NULL)
		freezero(idb, idblen);
	return (ret);
}

/*
 * What the responder's AUTH signs, with its IDr (kept in sa_idr2): a
 * new buffer, or NULL (signed later, v2_presign()).
 */
static uint8_t *
v2_responder_octets(struct iked_sa *sa, size_t *lenp)
{
	struct ikebuf	 b;
	int		 ret;

	if (ikebuf_init(&b) == -1)
		return (NULL);
	ret = v2_build_myid(sa, &b, IKEV2_PAYLOAD_IDr, &sa->sa_idr2,
	    &sa->sa_idr2len);
	ikebuf_free(&b);
	if (ret == -1)
		return (NULL);
	return (v2_signed_octets(sa, 0, sa->sa_idr2, sa->sa_idr2len, lenp));
}

/* The ca process's verdict on the peer's AUTH. */
static void
v2_verified(struct iked *env, void *arg, const struct auth_answer *a)
{
	struct iked_sa	*sa = arg;

	sa->sa_authwait = 0;
	if (a->aa_ok == 0) {
		sa->sa_peerok = 1;
		log_info("%s: the peer's signature verified (AUTH method %u%s)",
		    sa->sa_name, sa->sa_peermethod, sa->sa_peercert ?
		    ", certificate" : ", raw public key");
		if (sa->sa_signasked)
			v2_take_sig(sa, a);
	}
	sa->sa_signasked = 0;
	if (a->aa_ok != 0) {
		sa->sa_peerok = -1;
		env->sc_stats.st_badauth++;
		log_warnx("%s: IKE_AUTH: AUTHENTICATION_FAILED: %s",
		    sa->sa_name, a->aa_why);
	}
	v2_continue(sa);
}

/*
 * The peer's AUTH (of the initiator if initiator), for ID payload idp
 * and the CERTs of m: 0, or -1 with the reason logged and counted, or
 * 1: a signature, whose verdict the ca process sends later (m waits;
 * asked again then, the answer is the verdict).
 */
static int
v2_verify_peer(struct iked_sa *sa, const struct ikemsg *m, int initiator,
    const struct ikemsg_pld *idp, const struct ikemsg_id *id, uint8_t method,
    const uint8_t *ad, size_t al)
{
	struct ca_peer		 cp;
	uint8_t			 want[V2_MAX_MD], *chain = NULL;
	uint8_t			*data = NULL, *mydata;
	char			 why[CA_WHY_MAX];
	size_t			 chainlen = 0, len = 0, mylen;
	int			 ret = -1, r;

	/* Asked before: the verdict (logged and counted as it came). */
	if (sa->sa_peerok != 0)
		return (sa->sa_peerok > 0 ? 0 : -1);
	if (sa->sa_authwait)
		return (1);
	if (!v2_pubkey(sa)) {
		if (method != IKEV2_AUTH_SHARED_KEY_MIC) {
			snprintf(why, sizeof(why), "the peer signs (AUTH "
			    "method %u); rule \"%s\" has a psk", method,
			    sa->sa_pol->pol_name);
			goto fail;
		}
		if (al != hash_length(sa->sa_prf) ||
		    v2_psk_auth(sa, initiator, idp->pld_buf + 4,
		    idp->pld_len - 4, want) == -1 ||
		    CRYPTO_memcmp(want, ad, al) != 0) {
			explicit_bzero(want, sizeof(want));
			snprintf(why, sizeof(why), "the peer's AUTH does not "
			    "match (pre-shared key mismatch?)");
			goto fail;
		}
		explicit_bzero(want, sizeof(want));
		if (v2_check_peerid(sa, id) == -1) {
			snprintf(why, sizeof(why), "peer ID is not the rule's "
			    "dstid");
			goto fail;
		}
		return (0);
	}
	if (method == IKEV2_AUTH_SHARED_KEY_MIC) {
		snprintf(why, sizeof(why), "the peer uses a pre-shared key; "
		    "rule \"%s\" wants a signature (%s)", sa->sa_pol->pol_name,
		    print_auth(sa->sa_pol->pol_auth));
		goto fail;
	}
	if ((chain = malloc(CA_CHAIN_MAX)) == NULL)
		goto fail;
	if (auth_chain_from(m, IKEV2_PAYLOAD_CERT, IKEV2_CERT_X509_CERT, chain,
	    &chainlen) == -1) {
		snprintf(why, sizeof(why), "the peer's certificates are too "
		    "large");
		goto fail;
	}
	if ((data = v2_signed_octets(sa, initiator, idp->pld_buf + 4,
	    idp->pld_len - 4, &len)) == NULL) {
		snprintf(why, sizeof(why), "out of memory");
		goto fail;
	}
	memset(&cp, 0, sizeof(cp));
	cp.cp_version = 2;
	cp.cp_chain = chain;
	cp.cp_chainlen = chainlen;
	cp.cp_idtype = id->id_type;
	cp.cp_id = id->id_data;
	cp.cp_idlen = id->id_len;
	cp.cp_dstid = &sa->sa_pol->pol_dstid;
	cp.cp_mode = sa->sa_pol->pol_auth;
	/* What we announced: an initiator always, a responder if asked. */
	cp.cp_hashes = sa->sa_initiator || sa->sa_peerhashes != 0 ?
	    CA_HASHES_OURS : 0;
	cp.cp_method = method;
	cp.cp_auth = ad;
	cp.cp_authlen = al;
	cp.cp_data = data;
	cp.cp_datalen = len;
	/*
	 * The responder's own AUTH in the same round trip, signed only if
	 * the initiator's verifies (v2_presign() has it then).
	 */
	if (!sa->sa_initiator && sa->sa_mysig == NULL && !sa->sa_mysigerr &&
	    (mydata = v2_responder_octets(sa, &mylen)) != NULL) {
		r = auth_verify_sign_start(sa->sa_env, &cp,
		    sa->sa_pol->pol_auth, sa->sa_peerhashes, mydata, mylen,
		    v2_verified, sa);
		freezero(mydata, mylen);
		sa->sa_signasked = r == 0;
	} else
		r = auth_verify_start(sa->sa_env, &cp, v2_verified, sa);
	if (r == -1) {
		snprintf(why, sizeof(why), "out of memory");
		goto fail;
	}
	sa->sa_authwait = 1;
	sa->sa_peermethod = method;
	sa->sa_peercert = chainlen > 0;
	ret = 1;
	goto done;
 fail:
	sa->sa_env->sc_stats.st_badauth++;
	log_warnx("%s: IKE_AUTH: AUTHENTICATION_FAILED: %s", sa->sa_name, why);
 done:
	free(chain);
	if (data != NULL)
		freezero(data, len);
	return (ret);
}

/* %%% Traffic selectors */

static void
v2_sel2ts(const struct sockaddr *sa, uint8_t plen, uint8_t ulproto,
    struct ikemsg_ts *ts)
{
	size_t			 alen;
	int			 i;
	in_port_t		 port = sa_port(sa);

	memset(ts, 0, sizeof(*ts));
	if (sa->sa_family == AF_INET) {
		ts->ts_type = IKEV2_TS_IPV4_ADDR_RANGE;
		alen = 4;
		memcpy(ts->ts_saddr, &((const struct sockaddr_in *)sa)->sin_addr,
		    4);
	} else {
		ts->ts_type = IKEV2_TS_IPV6_ADDR_RANGE;
		alen = 16;
		memcpy(ts->ts_saddr,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
	memcpy(ts->ts_eaddr, ts->ts_saddr, alen);
	for (i = plen; i < (int)alen * 8; i++) {
		ts->ts_saddr[i / 8] &= ~(0x80 >> (i % 8));
		ts->ts_eaddr[i / 8] |= 0x80 >> (i % 8);
	}
	ts->ts_proto = ulproto == IPSEC_ULPROTO_ANY ? 0 : ulproto;
	ts->ts_sport = port;
	ts->ts_eport = port ? port : 65535;
}

/* Does the TS range cover the prefix (and its protocol and port)? */
static int
v2_ts_covers(const struct ikemsg_ts *ts, const struct sockaddr_storage *ss,
    uint8_t plen, uint8_t ulproto)
{
	struct ikemsg_ts	 t;
	size_t			 alen;

	v2_sel2ts((const struct sockaddr *)ss, plen, ulproto, &t);
	if (t.ts_type != ts->ts_type)
		return (0);
	alen = t.ts_type == IKEV2_TS_IPV4_ADDR_RANGE ? 4 : 16;
	if (memcmp(ts->ts_saddr, t.ts_saddr, alen) > 0 ||
	    memcmp(ts->ts_eaddr, t.ts_eaddr, alen) < 0)
		return (0);
	if (ts->ts_proto != 0 && ts->ts_proto != t.ts_proto)
		return (0);
	if (ts->ts_sport > t.ts_sport || ts->ts_eport < t.ts_eport)
		return (0);
	return (1);
}

/* A TS that is exactly one prefix (generate-policy takes it as is). */
static int
v2_ts2sel(const struct ikemsg_ts *ts, union iked_sockaddr *ss,
    uint8_t *plen, uint8_t *ulproto)
{
	struct ikemsg_ts	 t;
	size_t			 alen;
	int			 p;

	memset(ss, 0, sizeof(*ss));
	if (ts->ts_type == IKEV2_TS_IPV4_ADDR_RANGE) {
		ss->sin.sin_family = AF_INET;
		alen = 4;
		memcpy(&ss->sin.sin_addr, ts->ts_saddr, 4);
	} else {
		ss->sin6.sin6_family = AF_INET6;
		alen = 16;
		memcpy(&ss->sin6.sin6_addr, ts->ts_saddr, 16);
	}
	*ulproto = ts->ts_proto ? ts->ts_proto : IPSEC_ULPROTO_ANY;
	if (ts->ts_sport == ts->ts_eport)
		sa_setport(&ss->sa, ts->ts_sport);
	else if (ts->ts_sport != 0 || ts->ts_eport != 65535)
		return (-1);
	for (p = (int)alen * 8; p >= 0; p--) {
		v2_sel2ts(&ss->sa, (uint8_t)p, *ulproto, &t);
		if (memcmp(t.ts_saddr, ts->ts_saddr, alen) == 0 &&
		    memcmp(t.ts_eaddr, ts->ts_eaddr, alen) == 0) {
			*plen = (uint8_t)p;
			return (0);
		}
	}
	return (-1);
}

/* Does the outbound policy spd fit the proposed TSi and TSr? */
static int
v2_narrow_fits(struct iked *env, const struct iked_spd *spd,
    const struct ikemsg_ts *tsi, u_int ni, const struct ikemsg_ts *tsr,
    u_int nr, int transport)
{
	u_int		 i, j;

	if (spd->spd_type != IPSEC_POLICY_IPSEC ||
	    (spd->spd_mode == IPSEC_MODE_TRANSPORT) != transport)
		return (0);
	for (i = 0; i < nr; i++)
		if (v2_ts_covers(&tsr[i], &spd->spd_src, spd->spd_sprefix,
		    spd->spd_ulproto))
			break;
	for (j = 0; j < ni; j++)
		if (v2_ts_covers(&tsi[j], &spd->spd_dst, spd->spd_dprefix,
		    spd->spd_ulproto))
			break;
	if (i == nr || j == ni)
		return (0);
	return (kernel_spd_find(env, IPSEC_DIR_INBOUND,
	    (const struct sockaddr *)&spd->spd_dst, spd->spd_dprefix,
	    (const struct sockaddr *)&spd->spd_src, spd->spd_sprefix,
	    spd->spd_ulproto) != NULL);
}

/*
 * The responder's narrowing (RFC 7296 2.9): an outbound policy of ours
 * (with its inbound twin) whose selectors the proposed TSr (ours) and
 * TSi (the peer's) cover, in the wanted mode; NULL if none.  Of several,
 * the first in the kernel's order.  A TSi covers a policy's destination
 * only if the prefix starts inside it: only the policies whose
 * destination starts in one of the TSi ranges are tried.
 */
static struct iked_spd *
v2_narrow(struct iked *env, const struct ikemsg_ts *tsi, u_int ni,
    const struct ikemsg_ts *tsr, u_int nr, int transport)
{
	struct iked_spd	*spd, *found = NULL;
	uint8_t		 key[16];
	size_t		 alen;
	u_int		 k;
	int		 af;

	for (k = 0; k < ni; k++) {
		af = tsi[k].ts_type == IKEV2_TS_IPV4_ADDR_RANGE ? AF_INET :
		    AF_INET6;
		alen = af == AF_INET ? 4 : 16;
		memset(key, 0, sizeof(key));
		memcpy(key, tsi[k].ts_saddr, alen);
		for (spd = kernel_spd_dst_first(env, IPSEC_DIR_OUTBOUND, af,
		    key); spd != NULL && memcmp(spd->spd_dkey,
		    tsi[k].ts_eaddr, alen) <= 0;
		    spd = kernel_spd_dst_next(env, spd))
			if ((found == NULL || spd->spd_seq < found->spd_seq) &&
			    v2_narrow_fits(env, spd, tsi, ni, tsr, nr,
			    transport))
				found = spd;
	}
	return (found);
}

static void
v2_build_ts(struct iked_child *ch, struct ikebuf *b, int init)
{
	struct ikemsg_ts	 l, r;

	v2_sel2ts(&ch->ch_lsel.sa, ch->ch_lplen, ch->ch_ulproto, &l);
	v2_sel2ts(&ch->ch_rsel.sa, ch->ch_rplen, ch->ch_ulproto, &r);
	/* TSi is the exchange initiator's side. */
	ikev2_build_ts(b, IKEV2_PAYLOAD_TSi, init ? &l : &r, 1);
	ikev2_build_ts(b, IKEV2_PAYLOAD_TSr, init ? &r : &l, 1);
}

/* %%% Sending */

static void
v2_req_giveup(void *arg)
{
	struct iked_sa		*sa = arg;

	log_warnx("%s: no answer from the peer to our %s request: it is dead",
	    sa->sa_name, sa->sa_reqtype == IKEV2_EXCHANGE_IKE_SA_INIT ?
	    "IKE_SA_INIT" : sa->sa_reqtype == IKEV2_EXCHANGE_IKE_AUTH ?
	    "IKE_AUTH" : sa->sa_reqtype == IKEV2_EXCHANGE_CREATE_CHILD_SA ?
	    "CREATE_CHILD_SA" : "INFORMATIONAL");
	/* Its SAs go with it. */
	ikesa_dead_peer(sa, NULL);
}

/* An encrypted request of ours (window 1: the caller checked sa_busy). */
static void
v2_send_request(struct iked_sa *sa, uint8_t exchange, struct ikebuf *inner,
    struct iked_child *ch)
{
	uint8_t	*msg;
	size_t	 len;

	if (v2_seal(sa, exchange, 0, sa->sa_reqid, inner, &msg, &len) == -1) {
		log_warnx("%s: cannot build a request", sa->sa_name);
		return;
	}
	v2_maybe_frag(sa, exchange, 0, sa->sa_reqid, inner, &msg, &len,
	    &sa->sa_tx);
	sa->sa_reqid++;
	sa->sa_busy = 1;
	sa->sa_reqtype = exchange;
	ikesa_setreq(sa, ch);
	(void)tx_send(sa->sa_env, &sa->sa_tx, sa, msg, len, 1, v2_req_giveup,
	    sa);
}

static void
v2_send_response(struct iked_sa *sa, uint8_t exchange, uint32_t msgid,
    struct ikebuf *inner)
{
	uint8_t	*msg;
	size_t	 len;

	if (v2_seal(sa, exchange, 1, msgid, inner, &msg, &len) == -1) {
		log_warnx("%s: cannot build a response", sa->sa_name);
		return;
	}
	v2_maybe_frag(sa, exchange, 1, msgid, inner, &msg, &len, &sa->sa_rtx);
	(void)tx_send(sa->sa_env, &sa->sa_rtx, sa, msg, len, 0, NULL, NULL);
}

/* An unencrypted IKE_SA_INIT error response, keeping no state. */
static void
v2_init_error(struct iked *env, const struct ikemsg *m,
    const struct sockaddr *local, const struct sockaddr *peer, uint16_t type,
    const void *data, size_t len)
{
	struct ikebuf	 b;
	uint8_t		 rspi[8];

	memset(rspi, 0, sizeof(rspi));
	if (ikebuf_init(&b) == -1)
		return;
	ikemsg_build_hdr(&b, 2, m->msg_ispi, rspi, IKEV2_EXCHANGE_IKE_SA_INIT,
	    IKEV2_FLAG_RESPONSE, 0);
	ikev2_build_notify(&b, 0, NULL, 0, type, data, len);
	if (ikemsg_build_done(&b) == 0)
		(void)net_send(env, local, peer, b.ib_buf, b.ib_len);
	ikebuf_free(&b);
}

/* %%% IKE_SA_INIT */

static int
v2_send_init(struct iked_sa *sa)
{
	struct ikemsg_sa	*s;
	struct ikebuf		 b;
	uint8_t			 rspi[8];

	memset(rspi, 0, sizeof(rspi));
	if (ikesa_ke_mine(sa, V2_NONCE_LEN) == -1 ||
	    (s = calloc(1, sizeof(*s))) == NULL)
		return (-1);
	if (v2_build_props(sa, s, 1, NULL, 0, 1, sa->sa_group) == -1 ||
	    ikebuf_init(&b) == -1) {
		free(s);
		return (-1);
	}
	ikemsg_build_hdr(&b, 2, sa->sa_ispi, rspi, IKEV2_EXCHANGE_IKE_SA_INIT,
	    IKEV2_FLAG_INITIATOR, 0);
	if (sa->sa_cookie != NULL)
		ikev2_build_notify(&b, 0, NULL, 0, IKEV2_N_COOKIE,
		    sa->sa_cookie, sa->sa_cookielen);
	ikev2_build_sa(&b, s);
	free(s);
	ikev2_build_ke(&b, sa->sa_group, sa->sa_dhi, sa->sa_dhilen);
	ikev2_build_nonce(&b, sa->sa_ni, sa->sa_nilen);
	{
		/* NAT-D with SPIr zero, as the responder will check. */
		uint8_t	 save[8];

		memcpy(save, sa->sa_rspi, 8);
		memset(sa->sa_rspi, 0, 8);
		v2_build_natd(sa, &b);
		memcpy(sa->sa_rspi, save, 8);
	}
	if (sa->sa_cf->cfg_flags & CFG_FRAGMENTATION)
		ikev2_build_notify(&b, 0, NULL, 0,
		    IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	if (v2_pubkey(sa))
		v2_build_sighashes(&b);
	if (ikemsg_build_done(&b) == -1) {
		ikebuf_free(&b);
		return (-1);
	}
	setbuf_dup(&sa->sa_msg1, &sa->sa_msg1len, b.ib_buf, b.ib_len);
	ikesa_state(sa, SA_S_V2_INIT);
	sa->sa_busy = 1;
	sa->sa_reqtype = IKEV2_EXCHANGE_IKE_SA_INIT;
	sa->sa_reqid = 1;
	log_info("%s: IKE_SA_INIT -> SA, KE (group %u), Ni, N(NAT_D)%s "
	    "(SPIi %02x%02x%02x%02x...)", sa->sa_name, sa->sa_group,
	    sa->sa_cookie ? ", N(COOKIE)" : "", sa->sa_ispi[0],
	    sa->sa_ispi[1], sa->sa_ispi[2], sa->sa_ispi[3]);
	if (tx_send(sa->sa_env, &sa->sa_tx, sa, b.ib_buf, b.ib_len, 1,
	    v2_req_giveup, sa) == -1)
		return (-1);
	return (0);
}

int
ikev2_init_ike(struct iked_sa *sa)
{
	struct iked_proposal	*prop;

	memset(sa->sa_rspi, 0, 8);
	TAILQ_FOREACH(prop, &sa->sa_pol->pol_proposals, prop_entry)
		if (prop_usable(prop, 2, PROP_IKE) &&
		    prop->prop_nxf[XF_GROUP] > 0) {
			sa->sa_group = prop->prop_xf[XF_GROUP][0]->xf_id;
			break;
		}
	if (sa->sa_group == 0) {
		log_warnx("%s: rule \"%s\" has no IKE group", sa->sa_name,
		    sa->sa_pol->pol_name);
		return (-1);
	}
	return (v2_send_init(sa));
}

/* The initiator gets the responder's IKE_SA_INIT answer. */
static void
v2_recv_init_resp(struct iked_sa *sa, struct ikemsg *m, const uint8_t *raw,
    size_t rawlen)
{
	const struct ikemsg_pld	*p;
	struct ikemsg_notify	 n;
	struct ikemsg_sa	*s = NULL;
	struct v2_choice	 c;
	const uint8_t		*kb, *nb;
	size_t			 kl, nl;
	uint16_t		 group, ourgroup;
	struct iked_proposal	*prop;
	u_int			 i;

	for (p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, p)) {
		if (ikev2_pld_notify(p, &n) != IKEMSG_OK)
			continue;
		/*
		 * The answer to a retransmission of the request we sent
		 * before we had the cookie: the request with it is out
		 * already.  (A new cookie, the responder's new secret, is
		 * taken as the first was.)
		 */
		if (n.n_type == IKEV2_N_COOKIE && sa->sa_cookie != NULL &&
		    n.n_datalen == sa->sa_cookielen &&
		    memcmp(n.n_data, sa->sa_cookie, n.n_datalen) == 0) {
			log_debug("%s: IKE_SA_INIT <- N(COOKIE) again, "
			    "ignored", sa->sa_name);
			return;
		}
		if (n.n_type == IKEV2_N_COOKIE && n.n_datalen >= 1 &&
		    n.n_datalen <= 64) {
			log_info("%s: IKE_SA_INIT <- N(COOKIE): the responder "
			    "is busy, retrying with the cookie", sa->sa_name);
			setbuf_dup(&sa->sa_cookie, &sa->sa_cookielen,
			    n.n_data, n.n_datalen);
			tx_clear(&sa->sa_tx);
			if (v2_send_init(sa) == -1)
				ikesa_dead(sa, "cannot retry IKE_SA_INIT");
			return;
		}
		if (n.n_type == IKEV2_N_INVALID_KE_PAYLOAD &&
		    n.n_datalen == 2) {
			group = get16(n.n_data);
			TAILQ_FOREACH(prop, &sa->sa_pol->pol_proposals,
			    prop_entry)
				for (i = 0; prop_usable(prop, 2, PROP_IKE) &&
				    i < prop->prop_nxf[XF_GROUP]; i++)
					if (prop->prop_xf[XF_GROUP][i]->xf_id ==
					    group)
						goto retry;
			log_warnx("%s: IKE_SA_INIT <- INVALID_KE_PAYLOAD: the "
			    "responder wants group %u, not in rule \"%s\"",
			    sa->sa_name, group, sa->sa_pol->pol_name);
			ikesa_dead(sa, NULL);
			return;
 retry:
			if (group == sa->sa_group) {
				ikesa_dead(sa, "INVALID_KE_PAYLOAD loop");
				return;
			}
			log_info("%s: IKE_SA_INIT <- INVALID_KE_PAYLOAD: "
			    "retrying with group %u", sa->sa_name, group);
			group_free(sa->sa_dh);
			sa->sa_dh = NULL;
			sa->sa_group = group;
			tx_clear(&sa->sa_tx);
			if (v2_send_init(sa) == -1)
				ikesa_dead(sa, "cannot retry IKE_SA_INIT");
			return;
		}
		if (n.n_type < 16384) {
			log_warnx("%s: IKE_SA_INIT <- %s", sa->sa_name,
			    v2_notify_name(n.n_type) ?
			    v2_notify_name(n.n_type) : "error");
			ikesa_dead(sa, "refused by the peer");
			return;
		}
	}
	if ((p = ikemsg_find(m, IKEV2_PAYLOAD_SA, NULL)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL ||
	    ikev2_pld_sa(p, s) != IKEMSG_OK || s->sa_nprop != 1 ||
	    v2_choose(sa, s, 1, 1, &c, &ourgroup) == -1) {
		log_warnx("%s: IKE_SA_INIT: the peer's choice is not one of "
		    "ours", sa->sa_name);
		free(s);
		ikesa_dead(sa, NULL);
		return;
	}
	free(s);
	if ((p = ikemsg_find(m, IKEV2_PAYLOAD_KE, NULL)) == NULL ||
	    ikev2_pld_ke(p, &group, &kb, &kl) != IKEMSG_OK ||
	    group != sa->sa_group || c.dh != group ||
	    kl != dh_getlen(sa->sa_dh) ||
	    (p = ikemsg_find(m, IKEV2_PAYLOAD_NONCE, NULL)) == NULL) {
		ikesa_dead(sa, "IKE_SA_INIT: bad KE");
		return;
	}
	nb = ikemsg_pld_body(p, &nl);
	if (nl < IKEV2_NONCE_MIN || nl > IKEV2_NONCE_MAX) {
		ikesa_dead(sa, "IKE_SA_INIT: bad nonce");
		return;
	}
	memcpy(sa->sa_rspi, m->msg_rspi, 8);
	if (ikesa_ke_peer(sa, kb, kl, nb, nl) == -1) {
		ikesa_dead(sa, "IKE_SA_INIT: out of memory");
		return;
	}
	setbuf_dup(&sa->sa_msg2, &sa->sa_msg2len, raw, rawlen);
	v2_init_notifies(sa, m);
	v2_check_natd(sa, m);
	if (v2_sa_keys(sa, &c, NULL) == -1) {
		ikesa_dead(sa, "IKE_SA_INIT: key derivation failed");
		return;
	}
	tx_clear(&sa->sa_tx);
	sa->sa_busy = 0;
	natt_float(sa);
	ikesa_state(sa, SA_S_V2_AUTH);
	log_info("%s: IKE_SA_INIT <- SA (encr %u/%u prf %u integ %u group %u), "
	    "KE, Nr%s", sa->sa_name, c.encr, c.encrbits, c.prf, c.integ, c.dh,
	    sa->sa_nat & SA_NATT_FLOAT ? "; floated to port 4500" : "");
	/* The signature comes while the kernel allocates our SPI. */
	(void)v2_presign(sa, 1);
	ikev2_next(sa);
}

/* A cookie (RFC 7296 2.6): a keyed hash of Ni, the address and SPIi. */
static void
v2_cookie(struct iked *env, const struct ikemsg *m, const uint8_t *ni,
    size_t nilen, const struct sockaddr *peer, uint8_t *out)
{
	uint8_t		 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	EVP_MD_CTX	*ctx;

	memset(out, 0, V2_COOKIE_LEN);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return;
	if (EVP_DigestInit_ex2(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, env->sc_cookie_secret,
	    sizeof(env->sc_cookie_secret)) &&
	    EVP_DigestUpdate(ctx, ni, nilen) &&
	    EVP_DigestUpdate(ctx, peer, sa_len(peer)) &&
	    EVP_DigestUpdate(ctx, m->msg_ispi, 8) &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen))
		memcpy(out, md, V2_COOKIE_LEN);
	EVP_MD_CTX_free(ctx);
}

/* The responder's IKE_SA_INIT. */
static void
v2_recv_init_req(struct iked *env, struct ikemsg *m, const uint8_t *raw,
    size_t rawlen, const struct sockaddr *local, const struct sockaddr *peer)
{
	const struct ikemsg_pld	*p;
	struct ikemsg_notify	 n;
	struct ikemsg_sa	*s = NULL;
	struct iked_policy	*pol;
	struct iked_sa		*sa;
	struct v2_choice	 c;
	struct ikebuf		 b;
	const uint8_t		*kb, *nb, *cookie = NULL;
	uint8_t			 want[V2_COOKIE_LEN], gbuf[2];
	size_t			 kl, nl, cookielen = 0;
	uint16_t		 group, ourgroup;
	int			 proven;

	if ((pol = ikesa_rule(env, 2, local, peer, "IKE_SA_INIT")) == NULL)
		return;
	if ((p = ikemsg_find(m, IKEV2_PAYLOAD_NONCE, NULL)) == NULL) {
		env->sc_stats.st_dropped++;
		return;
	}
	nb = ikemsg_pld_body(p, &nl);
	if (nl < IKEV2_NONCE_MIN || nl > IKEV2_NONCE_MAX) {
		env->sc_stats.st_dropped++;
		return;
	}
	for (p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, p))
		if (ikev2_pld_notify(p, &n) == IKEMSG_OK &&
		    n.n_type == IKEV2_N_COOKIE) {
			cookie = n.n_data;
			cookielen = n.n_datalen;
		}
	/*
	 * Many half-open SAs: state only for peers that prove their
	 * address with a COOKIE.  A new exchange (one without the cookie)
	 * may wait for its retransmission when we are busy (halfopen.c).
	 */
	proven = 0;
	if (halfopen_count(env, 2) >= V2_COOKIE_THRESHOLD) {
		/* A busy batch sheds what brings no cookie before any work. */
		if (cookie == NULL &&
		    !halfopen_admit(env, 2, peer, m->msg_ispi))
			return;
		v2_cookie(env, m, nb, nl, peer, want);
		if (cookie == NULL || cookielen != V2_COOKIE_LEN ||
		    CRYPTO_memcmp(cookie, want, V2_COOKIE_LEN) != 0) {
			if (cookie != NULL &&
			    !halfopen_admit(env, 2, peer, m->msg_ispi))
				return;
			v2_init_error(env, m, local, peer, IKEV2_N_COOKIE,
			    want, sizeof(want));
			env->sc_stats.st_halfopen_refused++;
			return;
		}
		proven = 1;
	}
	if ((sa = ikesa_responder(env, 2, pol, local, peer, m->msg_ispi,
	    proven, "IKE_SA_INIT")) == NULL)
		return;
	if ((p = ikemsg_find(m, IKEV2_PAYLOAD_SA, NULL)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL ||
	    ikev2_pld_sa(p, s) != IKEMSG_OK) {
		free(s);
		env->sc_stats.st_dropped++;
		ikesa_free(sa);
		return;
	}
	if (v2_choose(sa, s, 1, 1, &c, &ourgroup) == -1) {
		log_warnx("%s: IKE_SA_INIT: no proposal chosen: none of the "
		    "peer's matches rule \"%s\"", sa->sa_name, pol->pol_name);
		v2_init_error(env, m, local, peer, IKEV2_N_NO_PROPOSAL_CHOSEN,
		    NULL, 0);
		free(s);
		ikesa_free(sa);
		return;
	}
	free(s);
	if ((p = ikemsg_find(m, IKEV2_PAYLOAD_KE, NULL)) == NULL ||
	    ikev2_pld_ke(p, &group, &kb, &kl) != IKEMSG_OK) {
		env->sc_stats.st_dropped++;
		ikesa_free(sa);
		return;
	}
	if (group != c.dh) {
		log_info("%s: IKE_SA_INIT: KE of group %u, we want %u: "
		    "INVALID_KE_PAYLOAD", sa->sa_name, group, c.dh);
		gbuf[0] = c.dh >> 8;
		gbuf[1] = c.dh & 0xff;
		v2_init_error(env, m, local, peer, IKEV2_N_INVALID_KE_PAYLOAD,
		    gbuf, sizeof(gbuf));
		ikesa_free(sa);
		return;
	}
	sa->sa_group = group;
	if (ikesa_ke_peer(sa, kb, kl, nb, nl) == -1 ||
	    ikesa_ke_mine(sa, V2_NONCE_LEN) == -1) {
		env->sc_stats.st_dropped++;
		ikesa_free(sa);
		return;
	}
	setbuf_dup(&sa->sa_msg1, &sa->sa_msg1len, raw, rawlen);
	v2_init_notifies(sa, m);
	{
		/* The initiator computed NAT-D with SPIr zero. */
		uint8_t	 save[8];

		memcpy(save, sa->sa_rspi, 8);
		memset(sa->sa_rspi, 0, 8);
		v2_check_natd(sa, m);
		memcpy(sa->sa_rspi, save, 8);
	}
	if (v2_sa_keys(sa, &c, NULL) == -1) {
		ikesa_dead(sa, "IKE_SA_INIT: key derivation failed");
		return;
	}
	if (ikebuf_init(&b) == -1) {
		ikesa_free(sa);
		return;
	}
	ikemsg_build_hdr(&b, 2, sa->sa_ispi, sa->sa_rspi,
	    IKEV2_EXCHANGE_IKE_SA_INIT, IKEV2_FLAG_RESPONSE, 0);
	v2_build_chosen(&b, &c, 1, NULL, 0);
	ikev2_build_ke(&b, sa->sa_group, sa->sa_dhr, sa->sa_dhrlen);
	ikev2_build_nonce(&b, sa->sa_nr, sa->sa_nrlen);
	if (sa->sa_nat & SA_NATT_VID)
		v2_build_natd(sa, &b);
	if ((sa->sa_cf->cfg_flags & CFG_FRAGMENTATION) &&
	    (sa->sa_v2flags & SA_V2_FRAG))
		ikev2_build_notify(&b, 0, NULL, 0,
		    IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	if (v2_pubkey(sa)) {
		v2_build_certreq(sa, &b);
		if (sa->sa_peerhashes != 0)
			v2_build_sighashes(&b);
	}
	if (ikemsg_build_done(&b) == -1) {
		ikebuf_free(&b);
		ikesa_free(sa);
		return;
	}
	setbuf_dup(&sa->sa_msg2, &sa->sa_msg2len, b.ib_buf, b.ib_len);
	tx_setrx(&sa->sa_rtx, raw, rawlen);
	ikesa_state(sa, SA_S_V2_RINIT);
	sa->sa_peerid = 1;
	halfopen_log(env, "%s: IKE_SA_INIT <- SA, KE, Ni; -> SA (encr %u/%u "
	    "prf %u integ %u group %u), KE, Nr", sa->sa_name, c.encr,
	    c.encrbits, c.prf, c.integ, c.dh);
	(void)tx_send(env, &sa->sa_rtx, sa, b.ib_buf, b.ib_len, 0, NULL, NULL);
}

/* %%% Children */

/* Compare two nonces (a shorter prefix is lower). */
static int
v2_nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int	 r;

	if ((r = memcmp(a, b, al < bl ? al : bl)) != 0)
		return (r);
	return ((al > bl) - (al < bl));
}

/* The lower of an exchange's nonces Ni and Nr, with its length. */
static const uint8_t *
v2_nonce_low(const uint8_t *ni, size_t nil, const uint8_t *nr, size_t nrl,
    size_t *len)
{
	if (v2_nonce_cmp(ni, nil, nr, nrl) < 0) {
		*len = nil;
		return (ni);
	}
	*len = nrl;
	return (nr);
}

/*
 * RFC 7296 2.8.1: both peers rekeyed the same pair at once, and ch (a
 * new pair, just installed) completes the second of the two exchanges
 * on this side.  The exchange holding the lowest of the four nonces
 * lost: its initiator deletes the pair it made.  The winner's initiator
 * deletes the old pair after its grace (child_timeout).  Both sides see
 * the same four nonces, so they agree without another message.
 */
static void
v2_rekey_collision(struct iked_child *ch)
{
	struct iked_sa		*sa = ch->ch_sa;
	struct iked_child	*o, *mine, *peers;
	const uint8_t		*ml, *pl;
	size_t			 mll, pll;

	if (ch->ch_old == NULL)
		return;
	TAILQ_FOREACH(o, &sa->sa_children, ch_entry)
		if (o != ch && o->ch_old == ch->ch_old &&
		    o->ch_state == CH_S_INSTALLED &&
		    o->ch_initiator != ch->ch_initiator)
			break;
	if (o == NULL)
		return;
	mine = ch->ch_initiator ? ch : o;
	peers = ch->ch_initiator ? o : ch;
	if (mine->ch_ni == NULL || mine->ch_nr == NULL ||
	    peers->ch_ni == NULL || peers->ch_nr == NULL)
		return;
	ml = v2_nonce_low(mine->ch_ni, mine->ch_nilen, mine->ch_nr,
	    mine->ch_nrlen, &mll);
	pl = v2_nonce_low(peers->ch_ni, peers->ch_nilen, peers->ch_nr,
	    peers->ch_nrlen, &pll);
	if (v2_nonce_cmp(ml, mll, pl, pll) > 0) {
		log_info("%s: rekey collision: ours won; the peer deletes its "
		    "new SAs 0x%08x/0x%08x", sa->sa_name,
		    ntohl(peers->ch_spi_in), ntohl(peers->ch_spi_out));
		return;
	}
	log_info("%s: rekey collision: the peer's won; deleting our new SAs "
	    "0x%08x/0x%08x", sa->sa_name, ntohl(mine->ch_spi_in),
	    ntohl(mine->ch_spi_out));
	ikesa_send_delete(sa, mine);
	kernel_delete(sa->sa_env, mine);
	child_free(mine);
}

/* A child of the peer's CREATE_CHILD_SA that we have not answered yet. */
static int
v2_child_pending(const struct iked_child *ch)
{
	return (!ch->ch_initiator &&
	    ch->ch_v2exch == IKEV2_EXCHANGE_CREATE_CHILD_SA);
}

/*
 * Child SA keys, installed in the kernel.  They come from the SK_d of
 * xsa, the IKE SA whose exchange made the child: not always ch's own,
 * which may be the one that replaced it (a rekey of the IKE SA that
 * crossed the exchange moved the child).
 */
static int
v2_child_install(struct iked_child *ch, struct iked_sa *xsa,
    const uint8_t *gir, size_t girlen)
{
	struct iked_sa		*sa = ch->ch_sa;
	struct iked_childkeys	 ck;
	size_t			 el, al;
	const uint8_t		*ni, *nr, *kin, *kout;
	size_t			 nil, nrl;
	int			 ret;

	el = esp_enckeylen(ch->ch_enc, ch->ch_enckeylen);
	al = esp_authkeylen(ch->ch_auth);
	/* IKE_AUTH's child uses the IKE SA's nonces. */
	ni = ch->ch_ni ? ch->ch_ni : xsa->sa_ni;
	nil = ch->ch_ni ? ch->ch_nilen : xsa->sa_nilen;
	nr = ch->ch_nr ? ch->ch_nr : xsa->sa_nr;
	nrl = ch->ch_nr ? ch->ch_nrlen : xsa->sa_nrlen;
	if (kdf_ikev2_child(xsa->sa_prf, xsa->sa_k2.sk_d,
	    xsa->sa_k2.sk_prflen, gir, girlen, ni, nil, nr, nrl, el, al,
	    &ck) == -1)
		return (-1);
	/* KEYMAT: the exchange initiator's direction first. */
	kout = ch->ch_initiator ? ck.ck_ei : ck.ck_er;
	kin = ch->ch_initiator ? ck.ck_er : ck.ck_ei;
	ret = kernel_install(sa->sa_env, ch, kin, kout, el, al,
	    KERNEL_SA_IN | KERNEL_SA_OUT);
	kdf_childkeys_free(&ck);
	if (ret == 0) {
		log_info("%s: child SA done: SAs in 0x%08x out 0x%08x "
		    "installed (%s, esp %u/%u auth %u%s%s%s%s)", sa->sa_name,
		    ntohl(ch->ch_spi_in), ntohl(ch->ch_spi_out),
		    ch->ch_mode == IPSEC_MODE_TRANSPORT ? "transport" :
		    "tunnel", ch->ch_enc, ch->ch_enckeylen, ch->ch_auth,
		    ch->ch_group ? ", pfs" : "", ch->ch_esn ? ", esn" : "",
		    sa->sa_nat & SA_NATT_FLOAT ? ", udp-encap" : "",
		    ch->ch_cpi_in != 0 && ch->ch_cpi_out != 0 ?
		    ", ipcomp" : "");
		child_installed(ch);
		v2_rekey_collision(ch);	/* may free ch if it lost */
	}
	return (ret);
}

static void
v2_child_set(struct iked_child *ch, const struct v2_choice *c)
{
	ch->ch_enc = c->encr;
	ch->ch_enckeylen = c->encrbits;
	ch->ch_auth = c->integ;
	ch->ch_group = c->hasdh ? c->dh : 0;
	ch->ch_esn = c->esn > 0;
	if (c->spisize == 4)
		child_set_spi_out(ch, c->spi);
}

static void
v2_child_fail(struct iked_child *ch, const char *why)
{
	if (why != NULL)
		log_warnx("%s: child SA failed: %s", ch->ch_sa->sa_name, why);
	if (ch->ch_initiator && !ch->ch_rekeying)
		kernel_acquire_fail(ch->ch_sa->sa_env, ch->ch_acqseq, ENOENT);
	if (ch->ch_state == CH_S_GETSPI || ch->ch_state == CH_S_SENT)
		kernel_delete(ch->ch_sa->sa_env, ch);
	child_free(ch);
}

/* The SA payload and friends of a child request (IKE_AUTH or CCSA). */
static int
v2_build_child_req(struct iked_child *ch, struct ikebuf *b, int ccsa)
{
	struct iked_sa		*sa = ch->ch_sa;
	struct ikemsg_sa	*s;
	struct iked_proposal	*prop;
	uint8_t			 nonce[V2_NONCE_LEN], *pub = NULL;
	size_t			 publen = 0;
	uint16_t		 group = 0;

	if (ccsa) {
		/*
		 * PFS: the group the peer asked for with INVALID_KE_PAYLOAD
		 * (v2_recv_ccsa_resp set it), else the old pair's, as
		 * strongSwan does; a peer that takes only one group gets it
		 * without a round trip.
		 */
		if (ch->ch_group != 0)
			group = ch->ch_group;
		else if (ch->ch_old != NULL)
			group = ch->ch_old->ch_group;
		/* Else the first child proposal's group. */
		TAILQ_FOREACH(prop, &sa->sa_pol->pol_proposals, prop_entry)
			if (group == 0 && prop_usable(prop, 2, PROP_CHILD)) {
				if (prop->prop_nxf[XF_GROUP] > 0 &&
				    !prop->prop_nogroup)
					group = prop->prop_xf[XF_GROUP][0]->
					    xf_id;
				break;
			}
		ch->ch_group = group;
	}
	if (ch->ch_old != NULL)
		ikev2_build_notify(b, v2_childproto(sa),
		    &ch->ch_old->ch_spi_in, 4, IKEV2_N_REKEY_SA, NULL, 0);
	if (ch->ch_mode == IPSEC_MODE_TRANSPORT)
		ikev2_build_notify(b, 0, NULL, 0, IKEV2_N_USE_TRANSPORT_MODE,
		    NULL, 0);
	if (ch->ch_cpi_in != 0)
		v2_build_ipcomp(b, ch->ch_cpi_in);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (-1);
	if (v2_build_props(sa, s, 0, (const uint8_t *)&ch->ch_spi_in, 4,
	    group != 0, group) == -1) {
		free(s);
		log_warnx("%s: rule \"%s\" has no child SA proposal",
		    sa->sa_name, sa->sa_pol->pol_name);
		return (-1);
	}
	ikev2_build_sa(b, s);
	free(s);
	if (ccsa) {
		arc4random_buf(nonce, sizeof(nonce));
		setbuf_dup(&ch->ch_ni, &ch->ch_nilen, nonce, sizeof(nonce));
		explicit_bzero(nonce, sizeof(nonce));
		ikev2_build_nonce(b, ch->ch_ni, ch->ch_nilen);
		if (group != 0) {
			group_free(ch->ch_dh);	/* a retry's first KE */
			if ((ch->ch_dh = group_get(group)) == NULL ||
			    dh_create_exchange(ch->ch_dh, &pub, &publen) == -1)
				return (-1);
			setbuf_dup(&ch->ch_dhpub, &ch->ch_dhpublen, pub,
			    publen);
			ikev2_build_ke(b, group, pub, publen);
			freezero(pub, publen);
		}
	}
	v2_build_ts(ch, b, 1);
	return (b->ib_error ? -1 : 0);
}

static void
v2_send_auth(struct iked_sa *sa, struct iked_child *ch)
{
	struct ikebuf	 b;
	uint8_t		 spi[16];
	uint8_t		*idb = NULL;
	size_t		 idblen = 0;
	int		 r = -1;

	if (ikebuf_init(&b) == -1)
		return;
	if (v2_build_myid(sa, &b, IKEV2_PAYLOAD_IDi, &idb, &idblen) == -1 ||
	    (r = v2_build_myauth(sa, &b, 1, idb, idblen)) != 0) {
		ikebuf_free(&b);
		free(idb);
		/* 1: built again when the signature comes (v2_continue). */
		if (r == -1)
			ikesa_dead(sa, "cannot build IKE_AUTH");
		return;
	}
	freezero(idb, idblen);
	if (ikesa_bypeer(sa->sa_env, (struct sockaddr *)&sa->sa_peer, NULL) ==
	    sa) {
		memcpy(spi, sa->sa_ispi, 8);
		memcpy(spi + 8, sa->sa_rspi, 8);
		ikev2_build_notify(&b, 0, NULL, 0, IKEV2_N_INITIAL_CONTACT,
		    NULL, 0);
	}
	if (ch != NULL && v2_build_child_req(ch, &b, 0) == -1) {
		ikebuf_free(&b);
		v2_child_fail(ch, NULL);
		ch = NULL;
		if (ikebuf_init(&b) == -1)
			return;
	}
	if (ch != NULL)
		ch->ch_state = CH_S_SENT;
	log_info("%s: IKE_AUTH -> IDi, AUTH%s", sa->sa_name, ch != NULL ?
	    ", SA, TSi, TSr" : "");
	v2_send_request(sa, IKEV2_EXCHANGE_IKE_AUTH, &b, ch);
	ikebuf_free(&b);
}

/* Our next request, if none is out: a DELETE, or a child. */
void
ikev2_next(struct iked_sa *sa)
{
	struct iked_child	*ch, *getspi = NULL, *ready = NULL, *wait = NULL;
	struct ikebuf		 b;

	if (sa->sa_busy || sa->sa_version != 2)
		return;
	if (sa->sa_state == SA_S_ESTABLISHED && sa->sa_v2ndel > 0) {
		if (ikebuf_init(&b) == -1)
			return;
		ikev2_build_delete(&b, v2_childproto(sa), 4,
		    (uint16_t)sa->sa_v2ndel, sa->sa_v2del);
		log_info("%s: INFORMATIONAL -> DELETE %u child SA(s)",
		    sa->sa_name, sa->sa_v2ndel);
		sa->sa_v2ndel = 0;
		v2_send_request(sa, IKEV2_EXCHANGE_INFORMATIONAL, &b, NULL);
		ikebuf_free(&b);
		return;
	}
	if (sa->sa_state != SA_S_V2_AUTH && sa->sa_state != SA_S_ESTABLISHED)
		return;
	/*
	 * An IKE SA rekey that found the window in use (a child's
	 * CREATE_CHILD_SA out) goes before further children, unless the
	 * peer rekeyed or deleted the SA meanwhile.
	 */
	if (sa->sa_rekeywait && sa->sa_state == SA_S_ESTABLISHED) {
		sa->sa_rekeywait = 0;
		if (!sa->sa_rekeyed && sa->sa_rekey == NULL &&
		    !(sa->sa_v2flags & SA_V2_DELETING) &&
		    ikev2_rekey_ike(sa) == 0 && sa->sa_busy)
			return;
	}
	TAILQ_FOREACH(ch, &sa->sa_children, ch_entry) {
		if (!ch->ch_initiator)
			continue;
		if (ch->ch_state == CH_S_GETSPI && ch->ch_spi_in != 0 &&
		    ready == NULL)
			ready = ch;
		else if (ch->ch_state == CH_S_GETSPI && ch->ch_spi_in == 0)
			getspi = ch;
		else if (ch->ch_state == 0 && wait == NULL)
			wait = ch;
	}
	if (ready != NULL) {
		if (sa->sa_state == SA_S_V2_AUTH) {
			v2_send_auth(sa, ready);
			return;
		}
		if (ikebuf_init(&b) == -1)
			return;
		if (v2_build_child_req(ready, &b, 1) == -1) {
			ikebuf_free(&b);
			v2_child_fail(ready, "cannot build CREATE_CHILD_SA");
			return;
		}
		ready->ch_state = CH_S_SENT;
		log_info("%s: CREATE_CHILD_SA -> %sSA (spi 0x%08x), Ni%s, TSi, "
		    "TSr", sa->sa_name, ready->ch_old ? "N(REKEY_SA), " : "",
		    ntohl(ready->ch_spi_in), ready->ch_group ? ", KEi" : "");
		v2_send_request(sa, IKEV2_EXCHANGE_CREATE_CHILD_SA, &b, ready);
		ikebuf_free(&b);
		return;
	}
	if (getspi == NULL && wait != NULL)
		if (kernel_getspi(sa->sa_env, wait) == -1)
			v2_child_fail(wait, "GETSPI failed");
}

void
ikev2_getspi_done(struct iked_child *ch)
{
	if (ch->ch_initiator)
		ikev2_next(ch->ch_sa);
	else
		v2_respond_child(ch);
}

/* The responder's chosen child proposal, with our SPI. */
static int
v2_build_child_chosen(struct iked_child *ch, struct ikebuf *b)
{
	struct v2_choice	 c;

	memset(&c, 0, sizeof(c));
	c.propnum = ch->ch_v2prop;
	c.proto = v2_childproto(ch->ch_sa);
	c.encr = ch->ch_enc;
	c.encrbits = ch->ch_enckeylen;
	c.integ = ch->ch_auth;
	c.hasdh = ch->ch_group != 0;
	c.dh = ch->ch_group;
	c.esn = ch->ch_esn;
	return (v2_build_chosen(b, &c, 0, (const uint8_t *)&ch->ch_spi_in, 4));
}

/* The responder's answer once its inbound SPI is known. */
static void
v2_respond_child(struct iked_child *ch)
{
	struct iked_sa	*sa = ch->ch_sa;
	struct ikebuf	 b;
	uint8_t		 nonce[V2_NONCE_LEN], *pub = NULL;
	uint8_t		*gir = NULL;
	size_t		 publen = 0, girlen = 0;
	int		 ccsa = ch->ch_v2exch == IKEV2_EXCHANGE_CREATE_CHILD_SA;

	if (ikebuf_init(&b) == -1)
		return;
	if (!ccsa) {
		if (v2_build_myid(sa, &b, IKEV2_PAYLOAD_IDr, &sa->sa_idr2,
		    &sa->sa_idr2len) == -1 ||
		    v2_build_myauth(sa, &b, 0, sa->sa_idr2, sa->sa_idr2len) !=
		    0) {
			ikebuf_free(&b);
			v2_child_fail(ch, "cannot build IKE_AUTH");
			return;
		}
	}
	if (ch->ch_mode == IPSEC_MODE_TRANSPORT)
		ikev2_build_notify(&b, 0, NULL, 0, IKEV2_N_USE_TRANSPORT_MODE,
		    NULL, 0);
	/* Without a CPI of ours (GETSPI failed), no IPComp. */
	if (ch->ch_cpi_out != 0 && ch->ch_cpi_in != 0)
		v2_build_ipcomp(&b, ch->ch_cpi_in);
	else
		ch->ch_cpi_out = 0;
	v2_build_child_chosen(ch, &b);
	if (ccsa) {
		arc4random_buf(nonce, sizeof(nonce));
		setbuf_dup(&ch->ch_nr, &ch->ch_nrlen, nonce, sizeof(nonce));
		explicit_bzero(nonce, sizeof(nonce));
		ikev2_build_nonce(&b, ch->ch_nr, ch->ch_nrlen);
		if (ch->ch_group != 0) {
			if ((ch->ch_dh = group_get(ch->ch_group)) == NULL ||
			    dh_create_exchange(ch->ch_dh, &pub, &publen) == -1 ||
			    dh_create_shared(ch->ch_dh, ch->ch_dhpeer,
			    ch->ch_dhpeerlen, &gir, &girlen) == -1) {
				if (pub != NULL)
					freezero(pub, publen);
				ikebuf_free(&b);
				v2_child_fail(ch, "PFS key exchange failed");
				return;
			}
			ikev2_build_ke(&b, ch->ch_group, pub, publen);
			freezero(pub, publen);
		}
	}
	v2_build_ts(ch, &b, 0);
	/*
	 * The answer is sealed now and held until the kernel's reply to
	 * our UPDATE (ikesa_update_done()): the initiator sends ESP the
	 * moment it has the answer, and over an asynchronous PF_KEY
	 * (netipsecd) the inbound SA must be in first.
	 */
	if (v2_seal(sa, ch->ch_v2exch, 1, ch->ch_msgid, &b, &ch->ch_resp,
	    &ch->ch_resplen) == 0)
		v2_maybe_frag(sa, ch->ch_v2exch, 1, ch->ch_msgid, &b,
		    &ch->ch_resp, &ch->ch_resplen, &sa->sa_rtx);
	else
		log_warnx("%s: cannot build a response", sa->sa_name);
	ikebuf_free(&b);
	log_info("%s: %s -> %sSA (spi 0x%08x), TSi, TSr", sa->sa_name,
	    ccsa ? "CREATE_CHILD_SA" : "IKE_AUTH", ccsa ? "" : "IDr, AUTH, ",
	    ntohl(ch->ch_spi_in));
	if (v2_child_install(ch, sa, gir, girlen) == -1) {
		if (gir != NULL)
			freezero(gir, girlen);
		if (ch->ch_resp != NULL)
			freezero(ch->ch_resp, ch->ch_resplen);
		ch->ch_resp = NULL;
		ch->ch_resplen = 0;
		/* The exchange still needs an answer. */
		if (ikebuf_init(&b) == -1)
			return;
		ikev2_build_notify(&b, 0, NULL, 0, IKEV2_N_TEMPORARY_FAILURE,
		    NULL, 0);
		v2_send_response(sa, ch->ch_v2exch, ch->ch_msgid, &b);
		ikebuf_free(&b);
		ch->ch_v2exch = 0;
		v2_child_fail(ch, "the kernel refused the SAs");
		return;
	}
	if (gir != NULL)
		freezero(gir, girlen);
	if (!ccsa)
		v2_established(sa);
}

/* A child of the peer's request refused: the caller answers for it. */
static void
v2_child_drop(struct iked_child *ch)
{
	ch->ch_v2exch = 0;
	child_free(ch);
}

/*
 * A child the peer asks for (IKE_AUTH or CREATE_CHILD_SA): selectors
 * narrowed to our SPD, a proposal, then GETSPI; 0, or the notify type
 * to refuse with.
 */
static uint16_t
v2_child_request(struct iked_sa *sa, struct ikemsg *m, uint8_t exchange,
    uint32_t msgid, int ccsa)
{
	struct iked		*env = sa->sa_env;
	const struct ikemsg_pld	*p;
	struct ikemsg_notify	 n;
	struct ikemsg_sa	*s = NULL;
	struct ikemsg_ts	 tsi[IKEMSG_TS_MAX], tsr[IKEMSG_TS_MAX];
	struct iked_child	*ch, *old = NULL;
	struct iked_spd		*spd;
	struct v2_choice	 c;
	u_int			 ni = 0, nr = 0;
	uint16_t		 ourgroup, group;
	const uint8_t		*kb, *nb;
	size_t			 kl, nl;
	int			 transport = 0;
	uint32_t		 spi;
	char			 l[128], r[128];

	for (p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, p)) {
		if (ikev2_pld_notify(p, &n) != IKEMSG_OK)
			continue;
		if (n.n_type == IKEV2_N_USE_TRANSPORT_MODE)
			transport = 1;
		if (n.n_type == IKEV2_N_REKEY_SA && n.n_spisize == 4) {
			memcpy(&spi, n.n_spi, 4);
			TAILQ_FOREACH(old, &sa->sa_children, ch_entry)
				if (old->ch_spi_out == spi &&
				    old->ch_state == CH_S_INSTALLED)
					break;
			if (old == NULL)
				return (IKEV2_N_CHILD_SA_NOT_FOUND);
		}
	}
	if (ccsa && old == NULL &&
	    !ikesa_child_room(sa, NULL, "the peer's CREATE_CHILD_SA"))
		return (IKEV2_N_NO_ADDITIONAL_SAS);
	if ((p = ikemsg_find(m, IKEV2_PAYLOAD_TSi, NULL)) == NULL ||
	    ikev2_pld_ts(p, tsi, IKEMSG_TS_MAX, &ni) != IKEMSG_OK ||
	    (p = ikemsg_find(m, IKEV2_PAYLOAD_TSr, NULL)) == NULL ||
	    ikev2_pld_ts(p, tsr, IKEMSG_TS_MAX, &nr) != IKEMSG_OK ||
	    ni == 0 || nr == 0)
		return (IKEV2_N_TS_UNACCEPTABLE);
	if ((ch = child_new(sa, 0)) == NULL)
		return (IKEV2_N_TEMPORARY_FAILURE);
	ch->ch_msgid = msgid;
	ch->ch_v2exch = exchange;
	/* IPComp if both want it: kernel_getspi() then asks for a CPI. */
	if (sa->sa_pol->pol_flags & POL_IPCOMP)
		ch->ch_cpi_out = v2_ipcomp_cpi(m);
	ch->ch_lifetime = sa->sa_pol->pol_lifetime;
	ch->ch_lifebytes = sa->sa_pol->pol_lifebytes;
	if (old != NULL) {
		/* The peer rekeys: our own rekey of it would be a collision. */
		child_setold(ch, old);
		old->ch_rekeying = 2;
	}
	if (sa->sa_pol->pol_iface[0] != '\0') {
		/*
		 * iface: the interface carries what is routed into it, so
		 * the peer's TSi and TSr are taken as proposed (their
		 * first ranges, as prefixes); the interface's policy gives
		 * the rest.
		 */
		if (transport || v2_ts2sel(&tsr[0], &ch->ch_lsel,
		    &ch->ch_lplen, &ch->ch_ulproto) == -1 ||
		    v2_ts2sel(&tsi[0], &ch->ch_rsel, &ch->ch_rplen,
		    &ch->ch_ulproto) == -1 ||
		    ch->ch_lsel.sa.sa_family != ch->ch_rsel.sa.sa_family ||
		    ikesa_iface_child(ch, ch->ch_lsel.sa.sa_family) == -1) {
			log_warnx("%s: child SA: TS_UNACCEPTABLE for iface "
			    "%s (tunnel mode, one family, prefixes)",
			    sa->sa_name, sa->sa_pol->pol_iface);
			v2_child_drop(ch);
			return (IKEV2_N_TS_UNACCEPTABLE);
		}
	} else if ((spd = v2_narrow(env, tsi, ni, tsr, nr, transport)) !=
	    NULL) {
		child_set_spid(ch, spd->spd_id);
		ch->ch_mode = spd->spd_mode;
		ch->ch_saproto = spd->spd_proto;
		ch->ch_reqid = spd->spd_level == IPSEC_LEVEL_UNIQUE ?
		    spd->spd_reqid : 0;
		sa_set(&ch->ch_lsel, (struct sockaddr *)&spd->spd_src);
		sa_set(&ch->ch_rsel, (struct sockaddr *)&spd->spd_dst);
		ch->ch_lplen = spd->spd_sprefix;
		ch->ch_rplen = spd->spd_dprefix;
		ch->ch_ulproto = spd->spd_ulproto;
	} else if (sa->sa_pol->pol_polsrc == POLSRC_GENERATE &&
	    v2_ts2sel(&tsr[0], &ch->ch_lsel, &ch->ch_lplen,
	    &ch->ch_ulproto) == 0 && v2_ts2sel(&tsi[0], &ch->ch_rsel,
	    &ch->ch_rplen, &ch->ch_ulproto) == 0) {
		ch->ch_mode = transport ? IPSEC_MODE_TRANSPORT :
		    IPSEC_MODE_TUNNEL;
		log_warnx("%s: generate-policy: installing the peer's "
		    "selectors as policy", sa->sa_name);
		(void)kernel_generate_flows(env, ch);
	} else {
		v2_sel2ts(&ch->ch_lsel.sa, 0, 0, &tsr[IKEMSG_TS_MAX - 1]);
		v2_ts2sel(&tsr[0], &ch->ch_lsel, &ch->ch_lplen, &ch->ch_ulproto);
		v2_ts2sel(&tsi[0], &ch->ch_rsel, &ch->ch_rplen, &ch->ch_ulproto);
		print_host((struct sockaddr *)&ch->ch_rsel, r, sizeof(r));
		print_host((struct sockaddr *)&ch->ch_lsel, l, sizeof(l));
		log_warnx("%s: child SA: TS_UNACCEPTABLE: no %s policy in the "
		    "SPD for %s/%u <-> %s/%u (and rule \"%s\" does not "
		    "generate-policy)", sa->sa_name, transport ? "transport" :
		    "tunnel", r, ch->ch_rplen, l, ch->ch_lplen,
		    sa->sa_pol->pol_name);
		v2_child_drop(ch);
		return (IKEV2_N_TS_UNACCEPTABLE);
	}
	if ((p = ikemsg_find(m, IKEV2_PAYLOAD_SA, NULL)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL ||
	    ikev2_pld_sa(p, s) != IKEMSG_OK ||
	    v2_choose(sa, s, 0, ccsa, &c, &ourgroup) == -1 ||
	    c.spisize != 4) {
		log_warnx("%s: child SA: NO_PROPOSAL_CHOSEN: none of the "
		    "peer's proposals matches rule \"%s\"", sa->sa_name,
		    sa->sa_pol->pol_name);
		free(s);
		v2_child_drop(ch);
		return (IKEV2_N_NO_PROPOSAL_CHOSEN);
	}
	free(s);
	v2_child_set(ch, &c);
	ch->ch_v2prop = c.propnum;
	if (ccsa) {
		if ((p = ikemsg_find(m, IKEV2_PAYLOAD_NONCE, NULL)) == NULL) {
			v2_child_drop(ch);
			return (IKEV2_N_INVALID_SYNTAX);
		}
		nb = ikemsg_pld_body(p, &nl);
		if (nl < IKEV2_NONCE_MIN || nl > IKEV2_NONCE_MAX) {
			v2_child_drop(ch);
			return (IKEV2_N_INVALID_SYNTAX);
		}
		setbuf_dup(&ch->ch_ni, &ch->ch_nilen, nb, nl);
		if (ch->ch_group != 0) {
			if ((p = ikemsg_find(m, IKEV2_PAYLOAD_KE, NULL)) ==
			    NULL || ikev2_pld_ke(p, &group, &kb, &kl) !=
			    IKEMSG_OK || group != ch->ch_group) {
				v2_child_drop(ch);
				return (IKEV2_N_INVALID_KE_PAYLOAD);
			}
			setbuf_dup(&ch->ch_dhpeer, &ch->ch_dhpeerlen, kb, kl);
		}
	}
	print_host((struct sockaddr *)&ch->ch_rsel, r, sizeof(r));
	print_host((struct sockaddr *)&ch->ch_lsel, l, sizeof(l));
	log_info("%s: %s <- SA (peer spi 0x%08x), %s/%u <-> %s/%u%s",
	    sa->sa_name, ccsa ? "CREATE_CHILD_SA" : "IKE_AUTH",
	    ntohl(ch->ch_spi_out), r, ch->ch_rplen, l, ch->ch_lplen,
	    old != NULL ? " (rekey)" : "");
	if (kernel_getspi(env, ch) == -1) {
		v2_child_drop(ch);
		return (IKEV2_N_TEMPORARY_FAILURE);
	}
	return (0);
}

/*
 * Answer a request with one error notify (and nothing else), after our
 * IDr and AUTH if withauth: -1 if those cannot be made (the peer gets
 * the notify alone, and the caller must not think us authenticated).
 */
static int
v2_respond_error(struct iked_sa *sa, uint8_t exchange, uint32_t msgid,
    int withauth, uint16_t type)
{
	struct ikebuf	 b;
	int		 ret = 0;

	if (ikebuf_init(&b) == -1)
		return (-1);
	if (withauth && (v2_build_myid(sa, &b, IKEV2_PAYLOAD_IDr,
	    &sa->sa_idr2, &sa->sa_idr2len) == -1 || v2_build_myauth(sa, &b,
	    0, sa->sa_idr2, sa->sa_idr2len) != 0)) {
		ret = -1;
		ikebuf_free(&b);
		if (ikebuf_init(&b) == -1)
			return (-1);
	}
	ikev2_build_notify(&b, 0, NULL, 0, type, NULL, 0);
	log_info("%s: %s -> N(%s)", sa->sa_name,
	    exchange == IKEV2_EXCHANGE_IKE_AUTH ? "IKE_AUTH" :
	    "CREATE_CHILD_SA", v2_notify_name(type) ? v2_notify_name(type) :
	    "error");
	v2_send_response(sa, exchange, msgid, &b);
	ikebuf_free(&b);
	return (ret);
}

/*
 * A child of the peer's CREATE_CHILD_SA goes before our answer went (a
 * timeout, a failure, its IKE SA closing): the peer still gets one,
 * else its window stays closed until it gives up on us.
 */
void
ikev2_child_unanswered(struct iked_child *ch)
{
	if (!v2_child_pending(ch))
		return;
	ch->ch_v2exch = 0;
	if (ch->ch_sa->sa_state == SA_S_ESTABLISHED)
		v2_respond_error(ch->ch_sa, IKEV2_EXCHANGE_CREATE_CHILD_SA,
		    ch->ch_msgid, 0, IKEV2_N_TEMPORARY_FAILURE);
}

/*
 * Our answer for the child ch is out.  If its IKE SA was rekeyed
 * meanwhile (v2_rekey_move() left ch there), ch joins the new one.
 */
void
ikev2_child_answered(struct iked_child *ch)
{
	struct iked_sa	*sa = ch->ch_sa, *nsa;

	ch->ch_v2exch = 0;
	if (!sa->sa_rekeyed)
		return;
	if ((nsa = ikesa_bypeer(sa->sa_env, &sa->sa_peer.sa,
	    sa->sa_pol)) == NULL)
		nsa = ikesa_bypeer(sa->sa_env, &sa->sa_peer.sa, NULL);
	if (nsa != NULL && nsa != sa && nsa->sa_version == 2 &&
	    nsa->sa_state == SA_S_ESTABLISHED)
		child_move(ch, nsa);
}

/* %%% IKE_AUTH */

/* 1: m waits for the ca process (v2_continue()); else 0. */
static int
v2_recv_auth_req(struct iked_sa *sa, struct ikemsg *m)
{
	struct iked		*env = sa->sa_env;
	const struct ikemsg_pld	*idp, *ap, *p;
	struct ikemsg_id	 id;
	struct ikemsg_notify	 n;
	const uint8_t		*ad;
	uint8_t			 method;
	size_t			 al;
	uint16_t		 err;

	if ((idp = ikemsg_find(m, IKEV2_PAYLOAD_IDi, NULL)) == NULL ||
	    ikev2_pld_id(idp, &id) != IKEMSG_OK ||
	    (ap = ikemsg_find(m, IKEV2_PAYLOAD_AUTH, NULL)) == NULL ||
	    ikev2_pld_auth(ap, &method, &ad, &al) != IKEMSG_OK) {
		env->sc_stats.st_dropped++;
		v2_respond_error(sa, IKEV2_EXCHANGE_IKE_AUTH, m->msg_msgid, 0,
		    IKEV2_N_INVALID_SYNTAX);
		ikesa_dead(sa, "malformed IKE_AUTH");
		return (0);
	}
	switch (v2_verify_peer(sa, m, 1, idp, &id, method, ad, al)) {
	case 0:
		break;
	case 1:
		return (1);
	default:
		v2_respond_error(sa, IKEV2_EXCHANGE_IKE_AUTH, m->msg_msgid, 0,
		    IKEV2_N_AUTHENTICATION_FAILED);
		ikesa_dead(sa, "authentication failed");
		return (0);
	}
	/* Our signature first: what follows answers at once. */
	if (v2_presign(sa, 0) == 1)
		return (1);
	for (p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, p))
		if (ikev2_pld_notify(p, &n) == IKEMSG_OK &&
		    n.n_type == IKEV2_N_INITIAL_CONTACT)
			sa->sa_nat |= SA_IC_RECV;
	log_info("%s: IKE_AUTH <- IDi, AUTH verified", sa->sa_name);
	/* Stale SAs go before this IKE_AUTH's child is installed. */
	ikesa_initial_contact(sa);
	if (ikemsg_find(m, IKEV2_PAYLOAD_SA, NULL) == NULL) {
		/* Childless: just the IKE SA. */
		if (v2_respond_error(sa, IKEV2_EXCHANGE_IKE_AUTH,
		    m->msg_msgid, 1, IKEV2_N_CHILDLESS_IKEV2_SUPPORTED) == -1)
			ikesa_dead(sa, "cannot authenticate");
		else
			v2_established(sa);
		return (0);
	}
	if ((err = v2_child_request(sa, m, IKEV2_EXCHANGE_IKE_AUTH,
	    m->msg_msgid, 0)) != 0) {
		/* The IKE SA stands; the child does not. */
		if (v2_respond_error(sa, IKEV2_EXCHANGE_IKE_AUTH,
		    m->msg_msgid, 1, err) == -1)
			ikesa_dead(sa, "cannot authenticate");
		else
			v2_established(sa);
	}
	return (0);
}

/*
 * We refuse the responder's AUTH, but it has installed its side of the
 * child: RFC 7296 2.21.2, an INFORMATIONAL with AUTHENTICATION_FAILED,
 * sent once, so that it deletes the IKE SA and its children.
 */
static void
v2_auth_refused(struct iked_sa *sa)
{
	struct ikebuf	 b;
	uint8_t		*msg;
	size_t		 len;

	if (ikebuf_init(&b) == -1)
		return;
	ikev2_build_notify(&b, 0, NULL, 0, IKEV2_N_AUTHENTICATION_FAILED,
	    NULL, 0);
	if (v2_seal(sa, IKEV2_EXCHANGE_INFORMATIONAL, 0, sa->sa_reqid++, &b,
	    &msg, &len) == 0) {
		log_info("%s: INFORMATIONAL -> N(AUTHENTICATION_FAILED)",
		    sa->sa_name);
		(void)net_send(sa->sa_env, (struct sockaddr *)&sa->sa_local,
		    (struct sockaddr *)&sa->sa_peer, msg, len);
		freezero(msg, len);
	}
	ikebuf_free(&b);
}

/* 1: m waits for the ca process (v2_continue()); else 0. */
static int
v2_recv_auth_resp(struct iked_sa *sa, struct ikemsg *m)
{
	struct iked		*env = sa->sa_env;
	struct iked_child	*ch = sa->sa_reqch;
	const struct ikemsg_pld	*idp, *ap, *p;
	struct ikemsg_id	 id;
	struct ikemsg_notify	 n;
	struct ikemsg_sa	*s = NULL;
	struct v2_choice	 c;
	const uint8_t		*ad;
	uint8_t			 method;
	size_t			 al;
	uint16_t		 ourgroup, err = 0;
	int			 transport = 0;

	for (p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, p)) {
		if (ikev2_pld_notify(p, &n) != IKEMSG_OK)
			continue;
		if (n.n_type == IKEV2_N_USE_TRANSPORT_MODE)
			transport = 1;
		else if (n.n_type < 16384 && err == 0)
			err = n.n_type;
	}
	if (err == IKEV2_N_AUTHENTICATION_FAILED ||
	    (idp = ikemsg_find(m, IKEV2_PAYLOAD_IDr, NULL)) == NULL ||
	    ikev2_pld_id(idp, &id) != IKEMSG_OK ||
	    (ap = ikemsg_find(m, IKEV2_PAYLOAD_AUTH, NULL)) == NULL ||
	    ikev2_pld_auth(ap, &method, &ad, &al) != IKEMSG_OK) {
		if (err != 0)
			log_warnx("%s: IKE_AUTH <- %s", sa->sa_name,
			    v2_notify_name(err) ? v2_notify_name(err) :
			    "error");
		env->sc_stats.st_badauth++;
		ikesa_dead(sa, "IKE_AUTH refused");
		return (0);
	}
	switch (v2_verify_peer(sa, m, 0, idp, &id, method, ad, al)) {
	case 0:
		break;
	case 1:
		return (1);
	default:
		v2_auth_refused(sa);
		ikesa_dead(sa, "authentication failed");
		return (0);
	}
	log_info("%s: IKE_AUTH <- IDr, AUTH verified", sa->sa_name);
	sa->sa_busy = 0;
	tx_clear(&sa->sa_tx);
	if (ch != NULL) {
		ikesa_setreq(sa, NULL);
		if (err != 0) {
			log_warnx("%s: IKE_AUTH <- %s: no child SA",
			    sa->sa_name, v2_notify_name(err) ?
			    v2_notify_name(err) : "error");
			v2_child_fail(ch, NULL);
		} else if ((p = ikemsg_find(m, IKEV2_PAYLOAD_SA, NULL)) ==
		    NULL || (s = calloc(1, sizeof(*s))) == NULL ||
		    ikev2_pld_sa(p, s) != IKEMSG_OK || s->sa_nprop != 1 ||
		    v2_choose(sa, s, 0, 0, &c, &ourgroup) == -1 ||
		    c.spisize != 4) {
			v2_child_fail(ch, "the peer's child proposal is not "
			    "one of ours");
		} else if (transport != (ch->ch_mode ==
		    IPSEC_MODE_TRANSPORT)) {
			v2_child_fail(ch, "the peer chose another mode");
		} else {
			v2_child_set(ch, &c);
			ch->ch_group = 0;
			if ((ch->ch_cpi_out = ch->ch_cpi_in != 0 ?
			    v2_ipcomp_cpi(m) : 0) == 0)
				kernel_ipcomp_unused(sa->sa_env, ch);
			if (v2_child_install(ch, sa, NULL, 0) == -1)
				v2_child_fail(ch, "the kernel refused the SAs");
		}
		free(s);
	}
	v2_established(sa);
	return (0);
}

/*
 * The answer the IKE SA waited for has come: the message it held is
 * taken up again, or the initiator's IKE_AUTH goes out.
 */
static void
v2_continue(struct iked_sa *sa)
{
	struct ikemsg_held	*h;
	int			 response, parked = 0;

	if ((h = sa->sa_held) == NULL) {
		if (sa->sa_initiator && sa->sa_state == SA_S_V2_AUTH)
			ikev2_next(sa);
		return;
	}
	sa->sa_held = NULL;
	response = (h->h_msg.msg_flags & IKEV2_FLAG_RESPONSE) != 0;
	if (h->h_msg.msg_exchange == IKEV2_EXCHANGE_IKE_AUTH) {
		if (response && sa->sa_state == SA_S_V2_AUTH)
			parked = v2_recv_auth_resp(sa, &h->h_msg);
		else if (!response && sa->sa_state == SA_S_V2_RINIT)
			parked = v2_recv_auth_req(sa, &h->h_msg);
	}
	if (parked)
		sa->sa_held = h;
	else
		ikemsg_held_free(h);
}

/* %%% CREATE_CHILD_SA */

static void
v2_recv_ccsa_req(struct iked_sa *sa, struct ikemsg *m)
{
	const struct ikemsg_pld	*p;
	struct ikemsg_sa	*s;
	uint16_t		 err;
	u_int			 i;

	/*
	 * RFC 7296 2.25: nothing new on an IKE SA we are closing: one we
	 * rekeyed (its children moved to the new one; a crossed rekey of
	 * the peer's arriving after ours completed ends here, 2.8.2) or
	 * one whose DELETE is out.  The peer tries again on the new SA.
	 */
	if (sa->sa_rekeyed || (sa->sa_v2flags & SA_V2_DELETING)) {
		v2_respond_error(sa, IKEV2_EXCHANGE_CREATE_CHILD_SA,
		    m->msg_msgid, 0, IKEV2_N_TEMPORARY_FAILURE);
		return;
	}
	/* A proposal for protocol IKE: the peer rekeys the IKE SA. */
	if ((p = ikemsg_find(m, IKEV2_PAYLOAD_SA, NULL)) != NULL &&
	    (s = calloc(1, sizeof(*s))) != NULL) {
		if (ikev2_pld_sa(p, s) == IKEMSG_OK)
			for (i = 0; i < s->sa_nprop; i++)
				if (s->sa_prop[i].p_proto ==
				    IKEV2_SAPROTO_IKE) {
					v2_rekey_ike_req(sa, m, s);
					free(s);
					return;
				}
		free(s);
	}
	if ((err = v2_child_request(sa, m, IKEV2_EXCHANGE_CREATE_CHILD_SA,
	    m->msg_msgid, 1)) != 0)
		v2_respond_error(sa, IKEV2_EXCHANGE_CREATE_CHILD_SA,
		    m->msg_msgid, 0, err);
}

static void
v2_recv_ccsa_resp(struct iked_sa *sa, struct ikemsg *m)
{
	struct iked_child	*ch = sa->sa_reqch;
	const struct ikemsg_pld	*p;
	struct ikemsg_notify	 n;
	struct ikemsg_sa	*s = NULL;
	struct v2_choice	 c;
	const uint8_t		*kb, *nb;
	size_t			 kl, nl, girlen = 0;
	uint8_t			*gir = NULL;
	uint16_t		 ourgroup, group, err = 0, kegroup = 0;
	int			 transport = 0;
	struct iked_proposal	*prop;
	u_int			 i;

	sa->sa_busy = 0;
	ikesa_setreq(sa, NULL);
	tx_clear(&sa->sa_tx);
	if (ch == NULL && sa->sa_rekey != NULL) {
		v2_rekey_ike_resp(sa, m);
		return;
	}
	if (ch == NULL) {
		/* Its child is gone (child_free() forgot it): the next. */
		ikev2_next(sa);
		return;
	}
	for (p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, p)) {
		if (ikev2_pld_notify(p, &n) != IKEMSG_OK)
			continue;
		if (n.n_type == IKEV2_N_USE_TRANSPORT_MODE)
			transport = 1;
		else if (n.n_type < 16384 && err == 0)
			err = n.n_type;
		if (n.n_type == IKEV2_N_INVALID_KE_PAYLOAD && n.n_datalen == 2)
			kegroup = get16(n.n_data);
	}
	/*
	 * INVALID_KE_PAYLOAD (RFC 7296 1.3): the peer wants another PFS
	 * group.  Retry with it if a child proposal of ours has it and it
	 * is not the one we just sent; giving up here left a rekey undone
	 * until the hard expiry, and every later ACQUIRE failing the same
	 * way (strongSwan with one PFS group that is not our first).
	 */
	if (err == IKEV2_N_INVALID_KE_PAYLOAD && kegroup != 0 &&
	    kegroup != ch->ch_group) {
		TAILQ_FOREACH(prop, &sa->sa_pol->pol_proposals, prop_entry)
			for (i = 0; prop_usable(prop, 2, PROP_CHILD) &&
			    !prop->prop_nogroup &&
			    i < prop->prop_nxf[XF_GROUP]; i++)
				if (prop->prop_xf[XF_GROUP][i]->xf_id ==
				    kegroup) {
					log_info("%s: CREATE_CHILD_SA <- "
					    "INVALID_KE_PAYLOAD: retrying with "
					    "group %u", sa->sa_name, kegroup);
					ch->ch_group = kegroup;
					ch->ch_state = CH_S_GETSPI; /* ready */
					ikev2_next(sa);
					return;
				}
	}
	if (err != 0) {
		log_warnx("%s: CREATE_CHILD_SA <- %s", sa->sa_name,
		    v2_notify_name(err) ? v2_notify_name(err) : "error");
		if (ch->ch_old != NULL)
			ch->ch_old->ch_rekeying = 0;	/* try again later */
		v2_child_fail(ch, NULL);
		return;
	}
	if ((p = ikemsg_find(m, IKEV2_PAYLOAD_SA, NULL)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL ||
	    ikev2_pld_sa(p, s) != IKEMSG_OK || s->sa_nprop != 1 ||
	    v2_choose(sa, s, 0, 1, &c, &ourgroup) == -1 || c.spisize != 4 ||
	    transport != (ch->ch_mode == IPSEC_MODE_TRANSPORT) ||
	    (p = ikemsg_find(m, IKEV2_PAYLOAD_NONCE, NULL)) == NULL) {
		free(s);
		v2_child_fail(ch, "bad CREATE_CHILD_SA response");
		return;
	}
	free(s);
	nb = ikemsg_pld_body(p, &nl);
	if (nl < IKEV2_NONCE_MIN || nl > IKEV2_NONCE_MAX) {
		v2_child_fail(ch, "bad nonce");
		return;
	}
	setbuf_dup(&ch->ch_nr, &ch->ch_nrlen, nb, nl);
	v2_child_set(ch, &c);
	if ((ch->ch_cpi_out = ch->ch_cpi_in != 0 ? v2_ipcomp_cpi(m) : 0) == 0)
		kernel_ipcomp_unused(sa->sa_env, ch);
	if (ch->ch_group != 0) {
		if ((p = ikemsg_find(m, IKEV2_PAYLOAD_KE, NULL)) == NULL ||
		    ikev2_pld_ke(p, &group, &kb, &kl) != IKEMSG_OK ||
		    group != ch->ch_group || ch->ch_dh == NULL ||
		    dh_create_shared(ch->ch_dh, kb, kl, &gir, &girlen) == -1) {
			v2_child_fail(ch, "bad PFS key exchange");
			return;
		}
	}
	if (v2_child_install(ch, sa, gir, girlen) == -1)
		v2_child_fail(ch, "the kernel refused the SAs");
	if (gir != NULL)
		freezero(gir, girlen);
	ikev2_next(sa);
}

/* %%% INFORMATIONAL */

static void
v2_recv_info_req(struct iked_sa *sa, struct ikemsg *m)
{
	struct iked		*env = sa->sa_env;
	const struct ikemsg_pld	*p;
	struct ikemsg_delete	 d;
	struct ikemsg_notify	 n;
	struct iked_child	*ch, *next;
	struct ikebuf		 b;
	uint32_t		 spi, mine[16];
	uint16_t		 i, nmine = 0;
	int			 ikedel = 0, authfail = 0;

	/* The initiator refused our AUTH after we installed the child. */
	for (p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, p))
		if (ikev2_pld_notify(p, &n) == IKEMSG_OK &&
		    n.n_type == IKEV2_N_AUTHENTICATION_FAILED) {
			log_warnx("%s: INFORMATIONAL <- N(AUTHENTICATION_"
			    "FAILED): the peer refused our authentication",
			    sa->sa_name);
			env->sc_stats.st_badauth++;
			authfail = ikedel = 1;
		}
	for (p = ikemsg_find(m, IKEV2_PAYLOAD_DELETE, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_DELETE, p)) {
		if (ikev2_pld_delete(p, &d) != IKEMSG_OK)
			continue;
		if (d.d_proto == IKEV2_SAPROTO_IKE) {
			ikedel = 1;
			continue;
		}
		if (d.d_spisize != 4)
			continue;
		for (i = 0; i < d.d_nspi; i++) {
			memcpy(&spi, d.d_spi + 4 * i, 4);
			for (ch = TAILQ_FIRST(&sa->sa_children); ch != NULL;
			    ch = next) {
				next = TAILQ_NEXT(ch, ch_entry);
				if (ch->ch_spi_out != spi ||
				    ch->ch_state != CH_S_INSTALLED)
					continue;
				log_info("%s: INFORMATIONAL <- DELETE child "
				    "SA 0x%08x", sa->sa_name, ntohl(spi));
				if (nmine < 16)
					mine[nmine++] = ch->ch_spi_in;
				kernel_delete(env, ch);
				child_free(ch);
			}
		}
	}
	if (ikedel && sa->sa_rekey_peer != NULL) {
		/*
		 * RFC 7296 2.8.2: the peer's rekey, which we answered while
		 * ours was out, completed first on its side, and the peer
		 * deletes the old SA.  The peer's new SA takes the children;
		 * ours, unanswered, goes now (2.25.2: forget our rekey).  Its
		 * answer, if any, finds no SA: the peer closes its copy of
		 * ours itself (v2_rekey_collision_ike()).
		 */
		log_info("%s: IKE SA rekey collision: the peer's rekey "
		    "completed first; its new SA stays", sa->sa_name);
		if (sa->sa_rekey != NULL &&
		    sa->sa_rekey->sa_state != SA_S_ESTABLISHED)
			ikesa_free(sa->sa_rekey);
		v2_rekey_move(sa, sa->sa_rekey_peer);
		sa->sa_rekey_peer = NULL;
	}
	if (ikebuf_init(&b) == -1)
		return;
	if (nmine > 0 && !ikedel)
		ikev2_build_delete(&b, v2_childproto(sa), 4, nmine, mine);
	v2_send_response(sa, IKEV2_EXCHANGE_INFORMATIONAL, m->msg_msgid, &b);
	ikebuf_free(&b);
	if (ikedel) {
		if (!authfail)
			log_info("%s: INFORMATIONAL <- DELETE IKE SA",
			    sa->sa_name);
		/* Its children go with it (RFC 7296 1.4.1). */
		TAILQ_FOREACH(ch, &sa->sa_children, ch_entry)
			if (ch->ch_state == CH_S_INSTALLED)
				kernel_delete(env, ch);
		while ((ch = TAILQ_FIRST(&sa->sa_children)) != NULL)
			child_free(ch);
		ikesa_dead(sa, authfail ? "refused by the peer" :
		    "deleted by the peer");
	}
}

static void
v2_recv_info_resp(struct iked_sa *sa, struct ikemsg *m)
{
	const struct ikemsg_pld	*p;
	struct ikemsg_delete	 d;
	struct iked_child	*ch, *next;
	uint32_t		 spi;
	uint16_t		 i;

	/*
	 * The peer deleted its side of the pairs we deleted: ours go.  A
	 * pair we retired after a rekey keeps its inbound SA to the end of
	 * its grace (child_timeout()): this answer may overtake what the
	 * peer sent on the pair just before (its IKE messages bypass its
	 * data plane's queue, its ESP does not).
	 */
	for (p = ikemsg_find(m, IKEV2_PAYLOAD_DELETE, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_DELETE, p)) {
		if (ikev2_pld_delete(p, &d) != IKEMSG_OK || d.d_spisize != 4)
			continue;
		for (i = 0; i < d.d_nspi; i++) {
			memcpy(&spi, d.d_spi + 4 * i, 4);
			for (ch = TAILQ_FIRST(&sa->sa_children); ch != NULL;
			    ch = next) {
				next = TAILQ_NEXT(ch, ch_entry);
				if (ch->ch_spi_out != spi ||
				    ch->ch_state != CH_S_INSTALLED)
					continue;
				if (ch->ch_retiring && ch->ch_timer != NULL &&
				    evtimer_pending(ch->ch_timer, NULL))
					continue;
				kernel_delete(sa->sa_env, ch);
				child_free(ch);
			}
		}
	}
	sa->sa_busy = 0;
	tx_clear(&sa->sa_tx);
	sa->sa_dpdmiss = 0;
	if (sa->sa_v2flags & SA_V2_DELETING) {
		ikesa_dead(sa, NULL);
		return;
	}
	ikesa_liveness_next(sa, 0);
	ikev2_next(sa);
}

/* DELETE of one child (our inbound SPI) or of the IKE SA (ch NULL). */
void
ikev2_send_delete(struct iked_sa *sa, struct iked_child *ch)
{
	struct ikebuf	 b;

	if (sa->sa_state != SA_S_ESTABLISHED)
		return;
	if (ch != NULL) {
		if (sa->sa_env->sc_exiting)
			return;		/* the IKE SA's DELETE covers it */
		if (sa->sa_v2ndel < sizeof(sa->sa_v2del) /
		    sizeof(sa->sa_v2del[0]))
			sa->sa_v2del[sa->sa_v2ndel++] = ch->ch_spi_in;
		ikev2_next(sa);
		return;
	}
	if (ikebuf_init(&b) == -1)
		return;
	ikev2_build_delete(&b, IKEV2_SAPROTO_IKE, 0, 0, NULL);
	log_info("%s: INFORMATIONAL -> DELETE IKE SA", sa->sa_name);
	if (sa->sa_env->sc_exiting || sa->sa_busy) {
		/* Best effort, out of the window: we are going. */
		uint8_t	*msg;
		size_t	 len;

		if (v2_seal(sa, IKEV2_EXCHANGE_INFORMATIONAL, 0, sa->sa_reqid++,
		    &b, &msg, &len) == 0) {
			(void)net_send(sa->sa_env,
			    (struct sockaddr *)&sa->sa_local,
			    (struct sockaddr *)&sa->sa_peer, msg, len);
			freezero(msg, len);
		}
	} else {
		sa->sa_v2flags |= SA_V2_DELETING;
		v2_send_request(sa, IKEV2_EXCHANGE_INFORMATIONAL, &b, NULL);
	}
	ikebuf_free(&b);
}

/* Liveness (RFC 7296 2.4): an empty INFORMATIONAL each interval. */
static void
v2_liveness(struct iked_sa *sa)
{
	struct ikebuf	 b;

	if (sa->sa_busy) {
		ikesa_liveness_next(sa, 0);
		return;
	}
	if (ikebuf_init(&b) == -1)
		return;
	log_debug("%s: INFORMATIONAL -> liveness check", sa->sa_name);
	v2_send_request(sa, IKEV2_EXCHANGE_INFORMATIONAL, &b, NULL);
	ikebuf_free(&b);
}

static void
v2_established(struct iked_sa *sa)
{
	if (sa->sa_state == SA_S_ESTABLISHED)
		return;
	log_info("%s: IKE SA established (%s, %s)", sa->sa_name,
	    sa->sa_initiator ? "initiator" : "responder",
	    sa->sa_nat & SA_NATT_FLOAT ? "NAT-T on port 4500" : "port 500");
	/* Our AUTH is out and answered: its signature is not needed. */
	if (sa->sa_mysig != NULL)
		freezero(sa->sa_mysig, sa->sa_mysiglen);
	sa->sa_mysig = NULL;
	sa->sa_mysiglen = 0;
	ikesa_liveness_start(sa);
	ikesa_established(sa);
	ikev2_next(sa);
}

/*
 * A new request from the peer: the cached response answered the one
 * before.  Until this one's answer is built (after GETSPI, maybe), its
 * retransmissions get nothing rather than that stale response.
 */
static void
v2_rtx_forget(struct iked_sa *sa)
{
	if (sa->sa_rtx.tx_buf != NULL)
		freezero(sa->sa_rtx.tx_buf, sa->sa_rtx.tx_len);
	sa->sa_rtx.tx_buf = NULL;
	sa->sa_rtx.tx_len = 0;
}

/* %%% Dispatch */

static void
v2_recv(struct iked *env, struct ikemsg *m, const struct sockaddr *local,
    const struct sockaddr *peer, int natt)
{
	static const uint8_t	 zero[8];
	const uint8_t		*raw = m->msg_buf;
	size_t			 rawlen = m->msg_len;
	struct iked_sa		*sa;
	uint8_t			*plain = NULL;
	size_t			 plainlen = 0;
	int			 response = (m->msg_flags & IKEV2_FLAG_RESPONSE) != 0;
	int			 r, parked = 0;

	/* The SA: by both SPIs, or IKE_SA_INIT's by SPIi alone. */
	sa = NULL;
	if (m->msg_exchange == IKEV2_EXCHANGE_IKE_SA_INIT) {
		IKESA_FOREACH_SPI(sa, env, m->msg_ispi)
			if (sa->sa_proto == &ikev2_proto &&
			    sa->sa_initiator == response &&
			    sa_cmpaddr((struct sockaddr *)&sa->sa_peer,
			    peer) == 0)
				break;
		if (!response) {
			if (memcmp(m->msg_rspi, zero, 8) != 0 ||
			    m->msg_msgid != 0) {
				env->sc_stats.st_dropped++;
				return;
			}
			if (sa != NULL) {
				/* A retransmission: the same answer. */
				(void)tx_isretransmit(env, &sa->sa_rtx, raw,
				    rawlen);
				return;
			}
			v2_recv_init_req(env, m, raw, rawlen, local, peer);
			return;
		}
		if (sa == NULL || sa->sa_state != SA_S_V2_INIT ||
		    m->msg_msgid != 0) {
			env->sc_stats.st_dropped++;
			return;
		}
		halfopen_continued(env);
		v2_recv_init_resp(sa, m, raw, rawlen);
		return;
	}
	IKESA_FOREACH_SPI(sa, env, m->msg_ispi)
		if (sa->sa_proto == &ikev2_proto &&
		    memcmp(sa->sa_rspi, m->msg_rspi, 8) == 0)
			break;
	if (sa == NULL || sa->sa_state == SA_S_DEAD) {
		env->sc_stats.st_dropped++;
		log_debug("IKEv2: no SA for the SPIs, dropped");
		return;
	}
	/*
	 * Its last message waits for the ca process: what comes now is a
	 * retransmission of it (or of its answer to ours), or out of turn.
	 */
	if (sa->sa_held != NULL) {
		log_debug("%s: busy authenticating, dropped", sa->sa_name);
		return;
	}
	halfopen_continued(env);
	if (response) {
		if (!sa->sa_busy || m->msg_msgid + 1 != sa->sa_reqid ||
		    m->msg_exchange != sa->sa_reqtype) {
			env->sc_stats.st_dropped++;
			return;
		}
	} else {
		if (tx_isretransmit(env, &sa->sa_rtx, raw, rawlen))
			return;
		if (m->msg_enctype == IKEV2_PAYLOAD_SKF &&
		    m->msg_msgid + 1 == sa->sa_peerid) {
			/* RFC 7383 2.6.1: fragment 1 again, answer again. */
			if (m->msg_fragnum == 1 && sa->sa_rtx.tx_buf != NULL)
				tx_output(env, &sa->sa_rtx);
			return;
		}
		if (m->msg_msgid != sa->sa_peerid) {
			env->sc_stats.st_dropped++;
			log_debug("%s: request %u, want %u: dropped",
			    sa->sa_name, m->msg_msgid, sa->sa_peerid);
			return;
		}
	}
	if ((r = v2_open(sa, m, raw, &plain, &plainlen)) == 1) {
		freezero(plain, plainlen);
		return;			/* more fragments to come */
	}
	if (r != 0) {
		if (r == -2)
			env->sc_stats.st_badauth++;
		env->sc_stats.st_dropped++;
		log_debug("%s: %s: does not decrypt, dropped", sa->sa_name,
		    response ? "response" : "request");
		if (sa->sa_state == SA_S_V2_RINIT && r == -2) {
			/* Wrong keys in IKE_AUTH: a PSK mismatch shows here. */
			log_warnx("%s: IKE_AUTH does not decrypt", sa->sa_name);
		}
		goto done;
	}
	if (natt && !(sa->sa_nat & SA_NATT_FLOAT) &&
	    (sa->sa_nat & SA_NATT_VID)) {
		/* The initiator floated (and maybe its NAT mapped it). */
		memcpy(&sa->sa_local, local, sa_len(local));
		ikesa_set_peer(sa, peer);
		sa->sa_nat |= SA_NATT_FLOAT;
	}
	if (!response) {
		tx_setrx(&sa->sa_rtx, raw, rawlen);
		v2_rtx_forget(sa);
		sa->sa_peerid++;
	}
	switch (m->msg_exchange) {
	case IKEV2_EXCHANGE_IKE_AUTH:
		if (response && sa->sa_state == SA_S_V2_AUTH)
			parked = v2_recv_auth_resp(sa, m);
		else if (!response && sa->sa_state == SA_S_V2_RINIT)
			parked = v2_recv_auth_req(sa, m);
		else
			env->sc_stats.st_dropped++;
		break;
	case IKEV2_EXCHANGE_CREATE_CHILD_SA:
		if (sa->sa_state != SA_S_ESTABLISHED)
			env->sc_stats.st_dropped++;
		else if (response)
			v2_recv_ccsa_resp(sa, m);
		else
			v2_recv_ccsa_req(sa, m);
		break;
	case IKEV2_EXCHANGE_INFORMATIONAL:
		if (response)
			v2_recv_info_resp(sa, m);
		else
			v2_recv_info_req(sa, m);
		break;
	default:
		env->sc_stats.st_dropped++;
		break;
	}
 done:
	/* Kept until the ca process answers (the SA is alive: it asked). */
	if (parked && (sa->sa_held = ikemsg_hold(m, raw, rawlen, &plain,
	    &plainlen)) == NULL) {
		auth_cancel(env, sa);
		sa->sa_authwait = 0;
		ikesa_dead(sa, "out of memory");
	}
	if (plain != NULL)
		freezero(plain, plainlen);
}

/* %%% IKE SA rekey (RFC 7296 2.18) */

/* The children, and what else lives on, move to the new IKE SA. */
static void
v2_rekey_move(struct iked_sa *old, struct iked_sa *nsa)
{
	struct iked_child	*ch, *next;

	/*
	 * A child of the peer's CREATE_CHILD_SA on old not yet answered
	 * stays until it is (ikev2_child_answered()): its keys come from
	 * old's SK_d, its answer goes on old.
	 */
	for (ch = TAILQ_FIRST(&old->sa_children); ch != NULL; ch = next) {
		next = TAILQ_NEXT(ch, ch_entry);
		if (!v2_child_pending(ch))
			child_move(ch, nsa);
	}
	nsa->sa_nat = old->sa_nat & ~SA_IC_RECV;
	nsa->sa_v2flags = old->sa_v2flags & SA_V2_FRAG;
	old->sa_rekeyed = 1;
	old->sa_rekey = NULL;
	log_info("%s: IKE SA rekeyed: new SPIs %02x%02x%02x%02x.../"
	    "%02x%02x%02x%02x...", nsa->sa_name, nsa->sa_ispi[0],
	    nsa->sa_ispi[1], nsa->sa_ispi[2], nsa->sa_ispi[3],
	    nsa->sa_rspi[0], nsa->sa_rspi[1], nsa->sa_rspi[2],
	    nsa->sa_rspi[3]);
}

/*
 * RFC 7296 2.8.2: both peers rekeyed the IKE SA sa at once and both
 * exchanges succeeded: mine (ours, keyed now) and peers (the peer's, that
 * we answered).  The new SA made by the exchange holding the lowest of
 * the four nonces is redundant: its creator (that exchange's initiator)
 * deletes it with a DELETE sent on it.  The children move to the other
 * one, whose creator deletes the old SA.  Both sides see the same four
 * nonces, so they agree without another message.
 */
static void
v2_rekey_collision_ike(struct iked_sa *sa, struct iked_sa *mine,
    struct iked_sa *peers)
{
	const uint8_t	*ml, *pl;
	size_t		 mll, pll;

	sa->sa_rekey_peer = NULL;
	ml = v2_nonce_low(mine->sa_ni, mine->sa_nilen, mine->sa_nr,
	    mine->sa_nrlen, &mll);
	pl = v2_nonce_low(peers->sa_ni, peers->sa_nilen, peers->sa_nr,
	    peers->sa_nrlen, &pll);
	if (v2_nonce_cmp(ml, mll, pl, pll) < 0) {
		log_info("%s: IKE SA rekey collision: the peer's won; "
		    "deleting our new IKE SA", sa->sa_name);
		v2_rekey_move(sa, peers);
		sa->sa_rekey = peers;	/* the peer deletes sa */
		/* Going: no new child or rekey of it (ikesa_bypeer). */
		mine->sa_rekeyed = 1;
		v2_established(mine);
		ikev2_send_delete(mine, NULL);
		ikev2_next(peers);
		return;
	}
	log_info("%s: IKE SA rekey collision: ours won; the peer deletes its "
	    "new IKE SA", sa->sa_name);
	v2_rekey_move(sa, mine);
	v2_established(mine);
	/*
	 * peers stays, childless, for the peer's DELETE on it (2.8.2: the
	 * creator of the redundant SA closes it); going, it takes no new
	 * child.  But the peer may never learn that it made it: should our
	 * DELETE of the old SA reach it before our answer to its rekey, it
	 * forgets that rekey (2.25.2, v2_recv_info_req()) and the answer
	 * finds no SA there.  So peers goes after a short wait, not at the
	 * end of its lifetime: then ikesa_timeout() sends one DELETE on it
	 * and frees it.  If the peer's DELETE of it was only late, ours
	 * crosses it: the peer, deleting it too, answers ours and stops
	 * retransmitting its own (v2_recv_info_req()).
	 */
	peers->sa_rekeyed = 1;
	ikesa_settimer(peers, V2_REDUNDANT_WAIT);
	if (peers->sa_dpdtimer != NULL)
		evtimer_del(peers->sa_dpdtimer);
	ikev2_send_delete(sa, NULL);
}

/* Ours: CREATE_CHILD_SA {SA(IKE, new SPIi), Ni, KEi} on the old SA. */
int
ikev2_rekey_ike(struct iked_sa *sa)
{
	struct iked_sa		*nsa;
	struct ikemsg_sa	*s;
	struct ikebuf		 b;

	if (sa->sa_busy) {
		/*
		 * Our window (1) is in use: the rekey goes when its answer
		 * is in (ikev2_next).  A timer of 2 s here was overridden by
		 * the caller's margin timer, delaying the rekey by a tenth
		 * of the lifetime.
		 */
		sa->sa_rekeywait = 1;
		return (0);
	}
	if ((nsa = ikesa_new(sa->sa_env, 2, 1, sa->sa_pol,
	    (struct sockaddr *)&sa->sa_local,
	    (struct sockaddr *)&sa->sa_peer, NULL)) == NULL)
		return (-1);
	/* NAT-T and fragmentation as on the old SA, for its DELETE too. */
	nsa->sa_nat = sa->sa_nat & ~SA_IC_RECV;
	nsa->sa_v2flags = sa->sa_v2flags & SA_V2_FRAG;
	nsa->sa_group = sa->sa_group;
	if (ikesa_ke_mine(nsa, V2_NONCE_LEN) == -1 ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		ikesa_free(nsa);
		return (-1);
	}
	if (v2_build_props(sa, s, 1, nsa->sa_ispi, 8, 1, nsa->sa_group) ==
	    -1 || ikebuf_init(&b) == -1) {
		free(s);
		ikesa_free(nsa);
		return (-1);
	}
	ikev2_build_sa(&b, s);
	free(s);
	ikev2_build_nonce(&b, nsa->sa_ni, nsa->sa_nilen);
	ikev2_build_ke(&b, nsa->sa_group, nsa->sa_dhi, nsa->sa_dhilen);
	ikesa_state(nsa, SA_S_V2_INIT);
	sa->sa_rekey = nsa;
	log_info("%s: CREATE_CHILD_SA -> SA (IKE, new SPIi %02x%02x%02x%02x"
	    "...), Ni, KEi: rekeying the IKE SA", sa->sa_name,
	    nsa->sa_ispi[0], nsa->sa_ispi[1], nsa->sa_ispi[2],
	    nsa->sa_ispi[3]);
	v2_send_request(sa, IKEV2_EXCHANGE_CREATE_CHILD_SA, &b, NULL);
	ikebuf_free(&b);
	return (0);
}

static void
v2_rekey_ike_resp(struct iked_sa *sa, struct ikemsg *m)
{
	struct iked_sa		*nsa = sa->sa_rekey, *peer;
	const struct ikemsg_pld	*p;
	struct ikemsg_notify	 n;
	struct ikemsg_sa	*s = NULL;
	struct v2_choice	 c;
	const uint8_t		*kb, *nb;
	size_t			 kl, nl;
	uint16_t		 group, ourgroup;

	for (p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, p))
		if (ikev2_pld_notify(p, &n) == IKEMSG_OK && n.n_type < 16384) {
			log_warnx("%s: IKE SA rekey refused: %s", sa->sa_name,
			    v2_notify_name(n.n_type) ?
			    v2_notify_name(n.n_type) : "error");
			goto fail;
		}
	if ((p = ikemsg_find(m, IKEV2_PAYLOAD_SA, NULL)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL ||
	    ikev2_pld_sa(p, s) != IKEMSG_OK || s->sa_nprop != 1 ||
	    v2_choose(sa, s, 1, 1, &c, &ourgroup) == -1 || c.spisize != 8 ||
	    c.dh != nsa->sa_group ||
	    (p = ikemsg_find(m, IKEV2_PAYLOAD_KE, NULL)) == NULL ||
	    ikev2_pld_ke(p, &group, &kb, &kl) != IKEMSG_OK ||
	    group != nsa->sa_group || kl != dh_getlen(nsa->sa_dh) ||
	    (p = ikemsg_find(m, IKEV2_PAYLOAD_NONCE, NULL)) == NULL) {
		log_warnx("%s: IKE SA rekey: bad response", sa->sa_name);
		goto fail;
	}
	nb = ikemsg_pld_body(p, &nl);
	if (nl < IKEV2_NONCE_MIN || nl > IKEV2_NONCE_MAX)
		goto fail;
	memcpy(nsa->sa_rspi, c.spi, 8);
	if (ikesa_ke_peer(nsa, kb, kl, nb, nl) == -1 ||
	    v2_sa_keys(nsa, &c, sa) == -1)
		goto fail;
	free(s);
	nsa->sa_reqid = 0;
	nsa->sa_peerid = 0;
	if (sa->sa_rekey_peer != NULL) {
		v2_rekey_collision_ike(sa, nsa, sa->sa_rekey_peer);
		return;
	}
	v2_rekey_move(sa, nsa);
	v2_established(nsa);
	/* The old SA goes: our DELETE, answered, frees it. */
	ikev2_send_delete(sa, NULL);
	return;
 fail:
	free(s);
	sa->sa_rekey = NULL;
	ikesa_free(nsa);
	if ((peer = sa->sa_rekey_peer) != NULL) {
		/*
		 * RFC 7296 2.8.2: the peer refused ours (TEMPORARY_FAILURE:
		 * its rekey, which we answered, completed first there).  Its
		 * new SA takes the children; the peer deletes the old SA.
		 */
		log_info("%s: IKE SA rekey collision: ours refused; the "
		    "peer's new SA stays", sa->sa_name);
		sa->sa_rekey_peer = NULL;
		v2_rekey_move(sa, peer);
		sa->sa_rekey = peer;
		ikev2_next(peer);
		return;
	}
	ikev2_next(sa);
}

/* The peer's: answer with SA(IKE, new SPIr), Nr, KEr. */
static void
v2_rekey_ike_req(struct iked_sa *sa, struct ikemsg *m,
    const struct ikemsg_sa *s)
{
	struct iked		*env = sa->sa_env;
	const struct ikemsg_pld	*p;
	struct iked_sa		*nsa;
	struct v2_choice	 c;
	struct ikebuf		 b;
	const uint8_t		*kb, *nb;
	uint8_t			 gbuf[2];
	size_t			 kl, nl;
	uint16_t		 group, ourgroup;

	if (v2_choose(sa, s, 1, 1, &c, &ourgroup) == -1 || c.spisize != 8) {
		log_warnx("%s: IKE SA rekey: no proposal chosen", sa->sa_name);
		v2_respond_error(sa, IKEV2_EXCHANGE_CREATE_CHILD_SA,
		    m->msg_msgid, 0, IKEV2_N_NO_PROPOSAL_CHOSEN);
		return;
	}
	if ((p = ikemsg_find(m, IKEV2_PAYLOAD_KE, NULL)) == NULL ||
	    ikev2_pld_ke(p, &group, &kb, &kl) != IKEMSG_OK ||
	    (p = ikemsg_find(m, IKEV2_PAYLOAD_NONCE, NULL)) == NULL) {
		v2_respond_error(sa, IKEV2_EXCHANGE_CREATE_CHILD_SA,
		    m->msg_msgid, 0, IKEV2_N_INVALID_SYNTAX);
		return;
	}
	nb = ikemsg_pld_body(p, &nl);
	if (group != c.dh) {
		if (ikebuf_init(&b) == -1)
			return;
		gbuf[0] = c.dh >> 8;
		gbuf[1] = c.dh & 0xff;
		ikev2_build_notify(&b, 0, NULL, 0, IKEV2_N_INVALID_KE_PAYLOAD,
		    gbuf, sizeof(gbuf));
		v2_send_response(sa, IKEV2_EXCHANGE_CREATE_CHILD_SA,
		    m->msg_msgid, &b);
		ikebuf_free(&b);
		return;
	}
	if (nl < IKEV2_NONCE_MIN || nl > IKEV2_NONCE_MAX ||
	    (nsa = ikesa_new(env, 2, 0, sa->sa_pol,
	    (struct sockaddr *)&sa->sa_local,
	    (struct sockaddr *)&sa->sa_peer, c.spi)) == NULL) {
		v2_respond_error(sa, IKEV2_EXCHANGE_CREATE_CHILD_SA,
		    m->msg_msgid, 0, IKEV2_N_TEMPORARY_FAILURE);
		return;
	}
	nsa->sa_group = group;
	nsa->sa_nat = sa->sa_nat & ~SA_IC_RECV;
	nsa->sa_v2flags = sa->sa_v2flags & SA_V2_FRAG;
	if (ikesa_ke_peer(nsa, kb, kl, nb, nl) == -1 ||
	    ikesa_ke_mine(nsa, V2_NONCE_LEN) == -1) {
		ikesa_free(nsa);
		v2_respond_error(sa, IKEV2_EXCHANGE_CREATE_CHILD_SA,
		    m->msg_msgid, 0, IKEV2_N_INVALID_SYNTAX);
		return;
	}
	if (v2_sa_keys(nsa, &c, sa) == -1 || ikebuf_init(&b) == -1) {
		ikesa_free(nsa);
		v2_respond_error(sa, IKEV2_EXCHANGE_CREATE_CHILD_SA,
		    m->msg_msgid, 0, IKEV2_N_TEMPORARY_FAILURE);
		return;
	}
	v2_build_chosen(&b, &c, 1, nsa->sa_rspi, 8);
	ikev2_build_nonce(&b, nsa->sa_nr, nsa->sa_nrlen);
	ikev2_build_ke(&b, group, nsa->sa_dhr, nsa->sa_dhrlen);
	log_info("%s: CREATE_CHILD_SA <- SA (IKE), Ni, KEi: the peer rekeys "
	    "the IKE SA; -> SA, Nr, KEr", sa->sa_name);
	v2_send_response(sa, IKEV2_EXCHANGE_CREATE_CHILD_SA, m->msg_msgid,
	    &b);
	ikebuf_free(&b);
	ikesa_state(nsa, SA_S_V2_RINIT);
	nsa->sa_reqid = 0;
	nsa->sa_peerid = 0;
	if (sa->sa_rekey != NULL) {
		/*
		 * RFC 7296 2.8.2: our rekey of the same SA is out.  Both new
		 * SAs exist for now; our response (v2_rekey_ike_resp) or the
		 * peer's DELETE of the old SA (v2_recv_info_req) decides.
		 */
		log_info("%s: IKE SA rekey collision: the peer's new SA "
		    "waits for our rekey's response", sa->sa_name);
		sa->sa_rekey_peer = nsa;
		v2_established(nsa);
		return;
	}
	v2_rekey_move(sa, nsa);
	sa->sa_rekey = nsa;
	v2_established(nsa);
}

/*
 * The lifetime timer of an established IKE SA: rekeyed once (RFC 7296
 * 2.18), and the rest of its life is a margin for the peer to switch;
 * then, or if the rekey cannot start, it ends.
 */
static int
v2_soft(struct iked_sa *sa)
{
	if (sa->sa_rekeyed || sa->sa_rekey != NULL || ikev2_rekey_ike(sa) == -1)
		return (-1);
	ikesa_settimer(sa, (u_int)(sa->sa_lifetime / 10 + 1));
	return (0);
}

/* Children go one request at a time: ikev2_next() picks them. */
static int
v2_start_child(struct iked_child *ch)
{
	ikev2_next(ch->ch_sa);
	return (0);
}

static void
v2_start_children(struct iked_sa *sa)
{
	struct iked_child	*ch;

	TAILQ_FOREACH(ch, &sa->sa_children, ch_entry)
		if (ch->ch_state == 0)
			break;
	if (ch != NULL)
		ikev2_next(sa);
}

/* The answer held for the kernel's UPDATE (ikesa_update_done()). */
static void
v2_send_held(struct iked_child *ch, uint8_t *msg, size_t len)
{
	struct iked_sa	*sa = ch->ch_sa;

	(void)tx_send(sa->sa_env, &sa->sa_rtx, sa, msg, len, 0, NULL, NULL);
	ikev2_child_answered(ch);
}

const struct iked_proto ikev2_proto = {
	.ip_version = 2,
	.ip_saname = "IKE SA",
	.ip_chname = "child SA negotiation",
	.ip_soft_i = 90,	/* one side goes first */
	.ip_soft_r = 95,
	.ip_children_die = 1,
	.ip_ikerekey = 1,
	.ip_recv = v2_recv,
	.ip_init = ikev2_init_ike,
	.ip_soft = v2_soft,
	.ip_start_child = v2_start_child,
	.ip_start_children = v2_start_children,
	.ip_send_delete = ikev2_send_delete,
	.ip_getspi_done = ikev2_getspi_done,
	.ip_send_held = v2_send_held,
	.ip_child_abandoned = NULL,
	.ip_child_gone = ikev2_child_unanswered,
	.ip_liveness = v2_liveness
};
