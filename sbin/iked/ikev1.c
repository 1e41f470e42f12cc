/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IKEv1 (RFC 2407, 2408, 2409): Main Mode with pre-shared keys, Quick
 * Mode with optional PFS, Informational exchanges (DELETE, notifies,
 * RFC 3706 DPD), and RFC 3947 NAT traversal (vendor ID, NAT-D, floating
 * to port 4500, UDP-encapsulated modes).
 *
 * Message flow, as in the founding document:
 *
 *	Initiator			Responder
 *	HDR, SA			-->
 *				<--	HDR, SA
 *	HDR, KE, Ni, [NAT-D]	-->
 *				<--	HDR, KE, Nr, [NAT-D]
 *	HDR*, IDii, HASH_I	-->
 *				<--	HDR*, IDir, HASH_R
 *	HDR*, HASH(1), SA, Ni, [KE], IDci, IDcr -->
 *				<--	HDR*, HASH(2), SA, Nr, [KE], IDci, IDcr
 *	HDR*, HASH(3)		-->
 *
 * Each side's SPI in the Quick Mode SA payload comes from SADB_GETSPI;
 * after Quick Mode both install the pair with UPDATE and ADD.
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

#include <libpfkey.h>

#include "iked.h"
#include "ikev1.h"

#define V1_NONCE_LEN	32
#define V1_HASH_MAX	64
#define V1_RENEW_AT	90	/* % of phase 1's life: its initiator renews */
#define V1_KEYMAT_MAX	128

static const uint8_t vid_natt[IKEV1_VID_LEN] = IKEV1_VID_NATT_RFC3947;
static const uint8_t vid_dpd[IKEV1_VID_LEN] = IKEV1_VID_DPD;

static void	 v1_send_notify(struct iked_sa *, uint16_t, uint8_t,
		    const uint8_t *, size_t, const uint8_t *, size_t);
static void	 v1_send_plain_notify(struct iked *, const struct ikemsg *,
		    const struct sockaddr *, const struct sockaddr *, uint16_t);
static void	 v1_qm_abandoned(struct iked_child *);

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* %%% Transform numbers: IKEv2 IDs (config.c) to and from IKEv1 */

static uint16_t
v1_enc(uint16_t id)		/* phase 1 encryption attribute */
{
	switch (id) {
	case 12:
		return (IKEV1_ENC_AES_CBC);
	case 3:
		return (IKEV1_ENC_3DES_CBC);
	}
	return (0);
}

static uint16_t
v1_enc_v2(uint16_t v1)
{
	switch (v1) {
	case IKEV1_ENC_AES_CBC:
		return (12);
	case IKEV1_ENC_3DES_CBC:
		return (3);
	}
	return (0);
}

static uint16_t
v1_hash(uint16_t integ)		/* phase 1 hash attribute from an integrity ID */
{
	switch (integ) {
	case 2:
		return (IKEV1_HASH_SHA);
	case 12:
		return (IKEV1_HASH_SHA2_256);
	case 13:
		return (IKEV1_HASH_SHA2_384);
	case 14:
		return (IKEV1_HASH_SHA2_512);
	}
	return (0);
}

static uint16_t
v1_hash_prf(uint16_t hash)	/* the PRF HMAC-<hash> as an IKEv2 PRF ID */
{
	switch (hash) {
	case IKEV1_HASH_SHA:
		return (2);
	case IKEV1_HASH_SHA2_256:
		return (5);
	case IKEV1_HASH_SHA2_384:
		return (6);
	case IKEV1_HASH_SHA2_512:
		return (7);
	}
	return (0);
}

static uint16_t
v1_auth(uint16_t integ)		/* phase 2 authentication algorithm */
{
	switch (integ) {
	case 2:
		return (IKEV1_AUTH_HMAC_SHA);
	case 12:
		return (IKEV1_AUTH_HMAC_SHA2_256);
	case 13:
		return (IKEV1_AUTH_HMAC_SHA2_384);
	case 14:
		return (IKEV1_AUTH_HMAC_SHA2_512);
	}
	return (0);
}

static uint16_t
v1_auth_v2(uint16_t a)
{
	switch (a) {
	case IKEV1_AUTH_HMAC_SHA:
		return (2);
	case IKEV1_AUTH_HMAC_SHA2_256:
		return (12);
	case IKEV1_AUTH_HMAC_SHA2_384:
		return (13);
	case IKEV1_AUTH_HMAC_SHA2_512:
		return (14);
	}
	return (0);
}

/*
 * The AH transform ID (RFC 2407 4.4.3, RFC 4868) of a phase 2
 * authentication algorithm: AH_SHA 3, AH_SHA2_256/384/512 5/6/7.
 */
static uint16_t
v1_ah_id(uint16_t auth)
{
	switch (auth) {
	case IKEV1_AUTH_HMAC_SHA:
		return (IKEV1_AH_SHA);
	case IKEV1_AUTH_HMAC_SHA2_256:
		return (IKEV1_AH_SHA2_256);
	case IKEV1_AUTH_HMAC_SHA2_384:
		return (IKEV1_AH_SHA2_384);
	case IKEV1_AUTH_HMAC_SHA2_512:
		return (IKEV1_AH_SHA2_512);
	}
	return (0);
}

/* The IKEv1 protocol ID of a child's SAs. */
static uint8_t
v1_proto(const struct iked_child *ch)
{
	return (ch->ch_saproto == IPPROTO_AH ? IKEV1_PROTO_IPSEC_AH :
	    IKEV1_PROTO_IPSEC_ESP);
}

/* ESP transform IDs equal the IKEv2 ones for what we support. */
static int
v1_esp_ok(uint16_t id)
{
	return (id == IKEV1_ESP_3DES || id == IKEV1_ESP_AES ||
	    id == IKEV1_ESP_AES_GCM_16 || id == IKEV1_ESP_CHACHA20_POLY1305);
}

/* Key material of an ESP cipher (with an AEAD's salt) and integrity. */
size_t
esp_enckeylen(uint16_t id, uint16_t bits)
{
	switch (id) {
	case IKEV1_ESP_3DES:
		return (24);
	case IKEV1_ESP_AES:
		return (bits / 8);
	case IKEV1_ESP_AES_GCM_16:
		return (bits / 8 + 4);		/* RFC 4106 8.1: salt */
	case IKEV1_ESP_CHACHA20_POLY1305:
		return (32 + 4);		/* RFC 7634 2 */
	}
	return (0);
}

size_t
esp_authkeylen(uint16_t integ)
{
	switch (integ) {
	case 2:
		return (20);
	case 12:
		return (32);
	case 13:
		return (48);
	case 14:
		return (64);
	}
	return (0);
}

static const char *
v1_notify_name(uint16_t type)
{
	switch (type) {
	case IKEV1_N_NO_PROPOSAL_CHOSEN:
		return ("NO-PROPOSAL-CHOSEN");
	case IKEV1_N_INVALID_ID_INFORMATION:
		return ("INVALID-ID-INFORMATION");
	case IKEV1_N_AUTHENTICATION_FAILED:
		return ("AUTHENTICATION-FAILED");
	case IKEV1_N_INVALID_HASH_INFORMATION:
		return ("INVALID-HASH-INFORMATION");
	case IKEV1_N_PAYLOAD_MALFORMED:
		return ("PAYLOAD-MALFORMED");
	case IKEV1_N_INVALID_PAYLOAD_TYPE:
		return ("INVALID-PAYLOAD-TYPE");
	case IKEV1_N_INITIAL_CONTACT:
		return ("INITIAL-CONTACT");
	case IKEV1_N_RESPONDER_LIFETIME:
		return ("RESPONDER-LIFETIME");
	case IKEV1_N_R_U_THERE:
		return ("R-U-THERE");
	case IKEV1_N_R_U_THERE_ACK:
		return ("R-U-THERE-ACK");
	}
	return (NULL);
}

/* %%% Encryption (RFC 2409 Appendix B) */

/*
 * Encrypt the payload chain b (its first payload type in b->ib_first)
 * into a message with IV iv, which becomes the last ciphertext block.
 */
static int
v1_seal(struct iked_sa *sa, uint8_t exchange, uint32_t msgid, uint8_t *iv,
    struct ikebuf *b, uint8_t **out, size_t *outlen)
{
	struct ikebuf	 m;
	size_t		 bl, ivl, len, pad;
	uint8_t		*ct;
	int		 ret = -1;

	bl = cipher_blocklength(sa->sa_cipher);
	ivl = cipher_ivlength(sa->sa_cipher);
	if (b->ib_error)
		return (-1);
	len = b->ib_len;
	pad = (bl - len % bl) % bl;
	if (ikebuf_add(b, NULL, pad) == -1)
		return (-1);
	len = b->ib_len;
	if ((ct = malloc(len)) == NULL)
		return (-1);
	if (cipher_encrypt(sa->sa_cipher, iv, NULL, 0, b->ib_buf, len, ct,
	    NULL) == -1)
		goto done;
	memcpy(iv, ct + len - ivl, ivl);
	if (ikebuf_init(&m) == -1)
		goto done;
	ikemsg_build_hdr(&m, 1, sa->sa_ispi, sa->sa_rspi, exchange, 0, msgid);
	ikemsg_build_body(&m, b->ib_first, ct, len);
	if (ikemsg_build_done(&m) == -1) {
		ikebuf_free(&m);
		goto done;
	}
	*out = m.ib_buf;
	*outlen = m.ib_len;
	ret = 0;
 done:
	free(ct);
	return (ret);
}

/*
 * Decrypt m's body with iv and parse it; newiv gets the last ciphertext
 * block, for the caller to keep once the message has been verified.
 */
static int
v1_open(struct iked_sa *sa, struct ikemsg *m, const uint8_t *iv,
    uint8_t *newiv, uint8_t **plain)
{
	const uint8_t	*ct = m->msg_buf + m->msg_encoff;
	size_t		 len = m->msg_enclen, ivl;

	*plain = NULL;
	if (sa->sa_cipher == NULL || (m->msg_flags & IKEV1_FLAG_ENC) == 0)
		return (-1);
	ivl = cipher_ivlength(sa->sa_cipher);
	if (len == 0 || len % cipher_blocklength(sa->sa_cipher) != 0)
		return (-1);
	if ((*plain = malloc(len)) == NULL)
		return (-1);
	if (cipher_decrypt(sa->sa_cipher, iv, NULL, 0, ct, len, *plain,
	    NULL) == -1)
		return (-1);
	memcpy(newiv, ct + len - ivl, ivl);
	if (ikemsg_parse_inner(m, *plain, len,
	    &sa->sa_env->sc_stats.st_msg) != IKEMSG_OK)
		return (-1);
	return (0);
}

/* The first IV of a phase 2 or informational exchange. */
static int
v1_msgiv(struct iked_sa *sa, uint32_t msgid, uint8_t *iv)
{
	uint8_t	 mid[4];

	put32(mid, msgid);
	return (kdf_ikev1_iv(sa->sa_prf, sa->sa_iv, sa->sa_ivlen, mid,
	    sizeof(mid), iv, sa->sa_ivlen));
}

/* %%% Identities */

static const iked_idmap v1_idmap = {
	[ID_FQDN] = IKEV1_ID_FQDN,
	[ID_UFQDN] = IKEV1_ID_USER_FQDN,
	[ID_IPV4] = IKEV1_ID_IPV4_ADDR,
	[ID_IPV6] = IKEV1_ID_IPV6_ADDR,
	[ID_ASN1DN] = IKEV1_ID_DER_ASN1_DN
};

/* Whether the SA's rule authenticates with RSA signatures, not a psk. */
static int
v1_pubkey(const struct iked_sa *sa)
{
	return (sa->sa_pol != NULL && sa->sa_pol->pol_auth != CA_AUTH_NONE);
}

static int
v1_build_myid(struct iked_sa *sa, struct ikebuf *b, uint8_t **body,
    size_t *bodylen)
{
	size_t			 off = b->ib_len, dlen;
	uint8_t			 type;
	const void		*data;

	uint8_t			*chain, id[CA_ID_MAX];
	size_t			 clen;
	char			 why[CA_WHY_MAX];

	if (!v1_pubkey(sa)) {
		ikesa_myid(sa, v1_idmap, &type, &data, &dlen);
		if (ikev1_build_id(b, type, 0, 0, data, dlen) == -1)
			return (-1);
		setbuf_dup(body, bodylen, b->ib_buf + off + 4,
		    b->ib_len - off - 4);
		return (*body != NULL ? 0 : -1);
	}
	/* The ID and certificates of the ca process (IKEv2's numbers). */
	if ((chain = malloc(CA_CHAIN_MAX)) == NULL)
		return (-1);
	if (auth_local(sa->sa_env, &sa->sa_pol->pol_srcid, chain,
	    CA_CHAIN_MAX, &clen, &type, id, sizeof(id), &dlen, why,
	    sizeof(why)) == -1) {
		log_warnx("%s: cannot authenticate with rule \"%s\": %s",
		    sa->sa_name, sa->sa_pol->pol_name, why);
		free(chain);
		return (-1);
	}
	if (ikev1_build_id(b, type, 0, 0, id, dlen) == -1) {
		free(chain);
		return (-1);
	}
	setbuf_dup(body, bodylen, b->ib_buf + off + 4, b->ib_len - off - 4);
	auth_chain_build(b, chain, clen, ikev1_build_cert, IKEV1_PAYLOAD_CERT,
	    IKEV1_CERT_X509_SIG);
	free(chain);
	return (*body != NULL && !b->ib_error ? 0 : -1);
}

/* The peer's phase 1 ID against dstid, when the rule sets one. */
static int
v1_check_peerid(struct iked_sa *sa, const struct ikemsg_id *id)
{
	return (ikesa_check_peerid(sa, v1_idmap, id->id_type, id->id_data,
	    id->id_len));
}

/* A Quick Mode ID from a selector: an address, or a subnet. */
static int
v1_build_selid(struct ikebuf *b, const struct sockaddr *sa,
    uint8_t plen, uint8_t ulproto)
{
	uint8_t			 data[32];
	size_t			 alen;
	uint8_t			 type;
	int			 i;

	if (sa->sa_family == AF_INET) {
		alen = 4;
		memcpy(data, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else {
		alen = 16;
		memcpy(data, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
	if (plen >= alen * 8) {
		type = alen == 4 ? IKEV1_ID_IPV4_ADDR : IKEV1_ID_IPV6_ADDR;
	} else {
		type = alen == 4 ? IKEV1_ID_IPV4_ADDR_SUBNET :
		    IKEV1_ID_IPV6_ADDR_SUBNET;
		memset(data + alen, 0, alen);
		for (i = 0; i < plen; i++)
			data[alen + i / 8] |= 0x80 >> (i % 8);
		alen *= 2;
	}
	return (ikev1_build_id(b, type, ulproto == IPSEC_ULPROTO_ANY ? 0 :
	    ulproto, sa_port(sa), data, alen));
}

/* The selector a Quick Mode ID names; ranges are refused. */
static int
v1_parse_selid(const struct ikemsg_id *id, union iked_sockaddr *ss,
    uint8_t *plen, uint8_t *ulproto)
{
	size_t	 alen;
	int	 i, n;

	memset(ss, 0, sizeof(*ss));
	switch (id->id_type) {
	case IKEV1_ID_IPV4_ADDR:
	case IKEV1_ID_IPV4_ADDR_SUBNET:
		ss->sin.sin_family = AF_INET;
		alen = 4;
		memcpy(&ss->sin.sin_addr, id->id_data, 4);
		break;
	case IKEV1_ID_IPV6_ADDR:
	case IKEV1_ID_IPV6_ADDR_SUBNET:
		ss->sin6.sin6_family = AF_INET6;
		alen = 16;
		memcpy(&ss->sin6.sin6_addr, id->id_data, 16);
		break;
	default:
		return (-1);
	}
	*plen = (uint8_t)(alen * 8);
	if (id->id_type == IKEV1_ID_IPV4_ADDR_SUBNET ||
	    id->id_type == IKEV1_ID_IPV6_ADDR_SUBNET) {
		if (id->id_len < 2 * alen)
			return (-1);
		for (n = 0, i = 0; i < (int)alen * 8; i++) {
			if (id->id_data[alen + i / 8] & (0x80 >> (i % 8)))
				n = i + 1;
		}
		*plen = (uint8_t)n;
	}
	sa_setport((struct sockaddr *)ss, id->id_port);
	*ulproto = id->id_proto == 0 ? IPSEC_ULPROTO_ANY : id->id_proto;
	return (0);
}

/* %%% NAT-D (RFC 3947 3.2), hashed by natt.c with the phase 1 hash */

/* The peer's end first, then ours (RFC 3947 3.2). */
static int
v1_build_natd(struct iked_sa *sa, struct ikebuf *b)
{
	uint8_t	 h[NATT_HASH_MAX];
	size_t	 hl;

	if (natt_hash(sa, sa->sa_prf, &sa->sa_peer.sa, h, &hl) == -1 ||
	    ikev1_build_hash(b, IKEV1_PAYLOAD_NAT_D, h, hl) == -1 ||
	    natt_claim(sa, sa->sa_prf, h, &hl) == -1)
		return (-1);
	return (ikev1_build_hash(b, IKEV1_PAYLOAD_NAT_D, h, hl));
}

/* Compare the peer's NAT-D payloads (ours first) with what we see. */
static void
v1_check_natd(struct iked_sa *sa, const struct ikemsg *m)
{
	const struct ikemsg_pld	*p;
	const uint8_t		*body;
	uint8_t			 h[NATT_HASH_MAX];
	size_t			 len, hl;
	int			 n = 0, peer_ok = 0, local_ok = 0;

	if ((sa->sa_nat & SA_NATT_VID) == 0)
		return;
	for (p = ikemsg_find(m, IKEV1_PAYLOAD_NAT_D, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV1_PAYLOAD_NAT_D, p), n++) {
		body = ikemsg_pld_body(p, &len);
		if (natt_hash(sa, sa->sa_prf, n == 0 ? &sa->sa_local.sa :
		    &sa->sa_peer.sa, h, &hl) == -1 || len != hl ||
		    memcmp(h, body, hl) != 0)
			continue;
		if (n == 0)
			local_ok = 1;
		else
			peer_ok = 1;
	}
	if (n > 0)
		natt_result(sa, local_ok, peer_ok);
}

/* %%% Phase 1 proposals */

/* Our Main Mode SA payload: one proposal, a transform per combination. */
static int
v1_build_mm_sa(struct iked_sa *sa, struct ikemsg_sa *s)
{
	struct iked_proposal	*prop;
	u_int			 e, a, g, num = 1;
	const struct iked_xform	*enc, *auth, *grp;

	ikemsg_sa_init(s, IKEV1_DOI_IPSEC, IKEV1_SIT_IDENTITY_ONLY);
	if (ikemsg_sa_prop(s, 1, IKEV1_PROTO_ISAKMP, NULL, 0) == -1)
		return (-1);
	TAILQ_FOREACH(prop, &sa->sa_pol->pol_proposals, prop_entry) {
		if (!prop_usable(prop, 1, PROP_IKE))
			continue;
		for (e = 0; e < prop->prop_nxf[XF_ENC]; e++)
		for (a = 0; a < prop->prop_nxf[XF_AUTH]; a++)
		for (g = 0; g < prop->prop_nxf[XF_GROUP]; g++) {
			enc = prop->prop_xf[XF_ENC][e];
			auth = prop->prop_xf[XF_AUTH][a];
			grp = prop->prop_xf[XF_GROUP][g];
			if (v1_enc(enc->xf_id) == 0 ||
			    v1_hash(auth->xf_id) == 0 || num > 255)
				continue;
			if (ikemsg_sa_xf(s, 0, (uint8_t)num++,
			    IKEV1_KEY_IKE) == -1 ||
			    ikemsg_sa_attr(s, IKEV1_ATTR_ENCRYPTION_ALGORITHM,
			    v1_enc(enc->xf_id)) == -1 ||
			    (enc->xf_keylen && ikemsg_sa_attr(s,
			    IKEV1_ATTR_KEY_LENGTH, enc->xf_keylen) == -1) ||
			    ikemsg_sa_attr(s, IKEV1_ATTR_HASH_ALGORITHM,
			    v1_hash(auth->xf_id)) == -1 ||
			    ikemsg_sa_attr(s, IKEV1_ATTR_AUTHENTICATION_METHOD,
			    v1_pubkey(sa) ? IKEV1_AUTH_RSA_SIG :
			    IKEV1_AUTH_PSK) == -1 ||
			    ikemsg_sa_attr(s, IKEV1_ATTR_GROUP_DESCRIPTION,
			    grp->xf_id) == -1 ||
			    ikemsg_sa_attr(s, IKEV1_ATTR_LIFE_TYPE,
			    IKEV1_LIFE_SECONDS) == -1 ||
			    ikemsg_sa_attr(s, IKEV1_ATTR_LIFE_DURATION,
			    (uint32_t)sa->sa_pol->pol_ikelifetime) == -1)
				return (-1);
		}
	}
	return (s->sa_nxf > 0 ? 0 : -1);
}

struct v1_p1choice {
	uint16_t	 enc, keylen, hash, group;
	uint64_t	 life;
	uint16_t	 method;	/* authentication */
};

static void
v1_p1_attrs(const struct ikemsg_sa *s, const struct ikemsg_xf *xf,
    struct v1_p1choice *c)
{
	const struct ikemsg_attr	*at;
	u_int				 i;
	uint16_t			 ltype = 0;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < xf->xf_nattr; i++) {
		at = &s->sa_attr[xf->xf_attr + i];
		switch (at->at_type) {
		case IKEV1_ATTR_ENCRYPTION_ALGORITHM:
			c->enc = (uint16_t)at->at_val;
			break;
		case IKEV1_ATTR_KEY_LENGTH:
			c->keylen = (uint16_t)at->at_val;
			break;
		case IKEV1_ATTR_HASH_ALGORITHM:
			c->hash = (uint16_t)at->at_val;
			break;
		case IKEV1_ATTR_AUTHENTICATION_METHOD:
			c->method = (uint16_t)at->at_val;
			break;
		case IKEV1_ATTR_GROUP_DESCRIPTION:
			c->group = (uint16_t)at->at_val;
			break;
		case IKEV1_ATTR_LIFE_TYPE:
			ltype = (uint16_t)at->at_val;
			break;
		case IKEV1_ATTR_LIFE_DURATION:
			/* TV, or a TLV of up to 4 bytes (at_val has it). */
			if (ltype == IKEV1_LIFE_SECONDS &&
			    (at->at_tv || at->at_len <= 4))
				c->life = at->at_val;
			break;
		}
	}
}

/* Is the peer's phase 1 transform one of our rule's? */
static int
v1_p1_acceptable(struct iked_sa *sa, const struct v1_p1choice *c)
{
	struct iked_proposal	*prop;
	u_int			 e, a, g;
	int			 enc_ok, auth_ok, grp_ok;

	if (c->method != (v1_pubkey(sa) ? IKEV1_AUTH_RSA_SIG : IKEV1_AUTH_PSK))
		return (0);
	TAILQ_FOREACH(prop, &sa->sa_pol->pol_proposals, prop_entry) {
		if (!prop_usable(prop, 1, PROP_IKE))
			continue;
		enc_ok = auth_ok = grp_ok = 0;
		for (e = 0; e < prop->prop_nxf[XF_ENC]; e++)
			if (v1_enc(prop->prop_xf[XF_ENC][e]->xf_id) == c->enc &&
			    prop->prop_xf[XF_ENC][e]->xf_keylen ==
			    (c->enc == IKEV1_ENC_AES_CBC ? c->keylen : 0))
				enc_ok = 1;
		for (a = 0; a < prop->prop_nxf[XF_AUTH]; a++)
			if (v1_hash(prop->prop_xf[XF_AUTH][a]->xf_id) == c->hash)
				auth_ok = 1;
		for (g = 0; g < prop->prop_nxf[XF_GROUP]; g++)
			if (prop->prop_xf[XF_GROUP][g]->xf_id == c->group)
				grp_ok = 1;
		if (enc_ok && auth_ok && grp_ok)
			return (1);
	}
	return (0);
}

/* The chosen transform, as numbers: what MM2 commits us to. */
static void
v1_p1_choose(struct iked_sa *sa, const struct v1_p1choice *c)
{
	sa->sa_enc = v1_enc_v2(c->enc);
	sa->sa_enckeylen = c->enc == IKEV1_ENC_AES_CBC ? c->keylen : 192;
	sa->sa_prfid = v1_hash_prf(c->hash);
	sa->sa_group = c->group;
	sa->sa_lifetime = c->life != 0 && c->life < sa->sa_pol->pol_ikelifetime ?
	    c->life : sa->sa_pol->pol_ikelifetime;
}

/*
 * Its PRF, cipher and group.  A responder makes them at MM3, once the
 * peer has shown that it received our MM2: what a spoofed MM1 costs us
 * (and what evicting it frees) stays small.
 */
static int
v1_p1_setup(struct iked_sa *sa)
{
	if (sa->sa_prf != NULL)
		return (0);
	if ((sa->sa_prf = hash_new(XF_PRF, sa->sa_prfid)) == NULL ||
	    (sa->sa_cipher = cipher_new(sa->sa_enc, sa->sa_enckeylen)) == NULL ||
	    (sa->sa_dh = group_get(sa->sa_group)) == NULL)
		return (-1);
	return (0);
}

/* %%% Phase 1 */

static void
v1_mm_giveup(void *arg)
{
	struct iked_sa	*sa = arg;

	log_warnx("%s: main mode timed out: no answer from the peer",
	    sa->sa_name);
	ikesa_dead(sa, NULL);
}

static int
v1_send(struct iked_sa *sa, struct iked_tx *tx, struct ikebuf *b,
    int retransmit, void (*giveup)(void *), void *arg)
{
	/* Kept for retransmissions: its size, not the buffer's. */
	if (ikemsg_build_done(b) == -1 || ikebuf_trim(b) == -1) {
		ikebuf_free(b);
		return (-1);
	}
	if (tx_send(sa->sa_env, tx, sa, b->ib_buf, b->ib_len, retransmit,
	    giveup, arg) == -1)
		return (-1);
	b->ib_buf = NULL;		/* tx owns it */
	return (0);
}

int
ikev1_init_mm(struct iked_sa *sa)
{
	struct ikemsg_sa	*s;
	struct ikebuf		 b;
	size_t			 off;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (-1);
	if (v1_build_mm_sa(sa, s) == -1) {
		log_warnx("%s: rule \"%s\" has no IKEv1 main mode transform",
		    sa->sa_name, sa->sa_pol->pol_name);
		free(s);
		return (-1);
	}
	if (ikebuf_init(&b) == -1) {
		free(s);
		return (-1);
	}
	ikemsg_build_hdr(&b, 1, sa->sa_ispi, sa->sa_rspi,
	    IKEV1_EXCHANGE_MAIN, 0, 0);
	off = b.ib_len;
	ikev1_build_sa(&b, s);
	free(s);
	if (!b.ib_error)
		setbuf_dup(&sa->sa_sai, &sa->sa_sailen, b.ib_buf + off + 4,
		    b.ib_len - off - 4);
	ikev1_build_vendor(&b, vid_natt, sizeof(vid_natt));
	ikev1_build_vendor(&b, vid_dpd, sizeof(vid_dpd));
	ikesa_state(sa, SA_S_MM1);
	log_info("%s: main mode: MM1 -> SA (initiator cookie %02x%02x%02x%02x"
	    "...)", sa->sa_name, sa->sa_ispi[0], sa->sa_ispi[1],
	    sa->sa_ispi[2], sa->sa_ispi[3]);
	return (v1_send(sa, &sa->sa_tx, &b, 1, v1_mm_giveup, sa));
}

static void
v1_vendor_ids(struct iked_sa *sa, const struct ikemsg *m)
{
	const struct ikemsg_pld	*p;
	const uint8_t		*body;
	size_t			 len;

	for (p = ikemsg_find(m, IKEV1_PAYLOAD_VENDOR, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV1_PAYLOAD_VENDOR, p)) {
		body = ikemsg_pld_body(p, &len);
		if (len == sizeof(vid_natt) &&
		    memcmp(body, vid_natt, len) == 0)
			sa->sa_nat |= SA_NATT_VID;
		if (len == sizeof(vid_dpd) && memcmp(body, vid_dpd, len) == 0)
			sa->sa_nat |= SA_DPD_VID;
	}
}

/* KE and nonce of the peer, then g^xy and the SKEYIDs. */
static int
v1_p1_keys(struct iked_sa *sa, const struct ikemsg *m)
{
	const struct ikemsg_pld	*ke, *no;
	const uint8_t		*kb, *nb, *peerpub;
	size_t			 kl, nl, peerlen, ivl;
	uint8_t			*gxy = NULL, iv[V1_HASH_MAX];
	size_t			 gxylen = 0;
	int			 ret = -1;

	if ((ke = ikemsg_find(m, IKEV1_PAYLOAD_KE, NULL)) == NULL ||
	    (no = ikemsg_find(m, IKEV1_PAYLOAD_NONCE, NULL)) == NULL)
		return (-1);
	kb = ikemsg_pld_body(ke, &kl);
	nb = ikemsg_pld_body(no, &nl);
	if (nl < IKEV1_NONCE_MIN || nl > IKEV1_NONCE_MAX ||
	    ikesa_ke_peer(sa, kb, kl, nb, nl) == -1)
		return (-1);
	peerpub = sa->sa_initiator ? sa->sa_dhr : sa->sa_dhi;
	peerlen = sa->sa_initiator ? sa->sa_dhrlen : sa->sa_dhilen;
	if (dh_create_shared(sa->sa_dh, peerpub, peerlen, &gxy, &gxylen) == -1)
		return (-1);
	if (kdf_ikev1_phase1(sa->sa_prf, v1_pubkey(sa) ? NULL :
	    sa->sa_pol->pol_psk, sa->sa_pol->pol_psklen, sa->sa_ni, sa->sa_nilen, sa->sa_nr,
	    sa->sa_nrlen, gxy, gxylen, sa->sa_ispi, sa->sa_rspi,
	    cipher_keylength(sa->sa_cipher), &sa->sa_keys) == -1)
		goto done;
	sa->sa_keyed = 1;
	if (cipher_setkey(sa->sa_cipher, sa->sa_keys.v1_enc,
	    cipher_keylength(sa->sa_cipher)) == -1)
		goto done;
	ivl = cipher_ivlength(sa->sa_cipher);
	if (kdf_ikev1_iv(sa->sa_prf, sa->sa_dhi, sa->sa_dhilen, sa->sa_dhr,
	    sa->sa_dhrlen, iv, ivl) == -1)
		goto done;
	memcpy(sa->sa_iv, iv, ivl);
	sa->sa_ivlen = ivl;
	ret = 0;
 done:
	if (gxy != NULL)
		freezero(gxy, gxylen);
	return (ret);
}

/* HASH_I or HASH_R (RFC 2409 5). */
static int
v1_p1_hash(struct iked_sa *sa, int initiator, uint8_t *out)
{
	struct iked_hash	*prf = sa->sa_prf;
	const uint8_t		*g1, *g2, *c1, *c2, *id;
	size_t			 g1l, g2l, idl;

	if (initiator) {
		g1 = sa->sa_dhi; g1l = sa->sa_dhilen;
		g2 = sa->sa_dhr; g2l = sa->sa_dhrlen;
		c1 = sa->sa_ispi; c2 = sa->sa_rspi;
		id = sa->sa_idi; idl = sa->sa_idilen;
	} else {
		g1 = sa->sa_dhr; g1l = sa->sa_dhrlen;
		g2 = sa->sa_dhi; g2l = sa->sa_dhilen;
		c1 = sa->sa_rspi; c2 = sa->sa_ispi;
		id = sa->sa_idr; idl = sa->sa_idrlen;
	}
	if (hash_setkey(prf, sa->sa_keys.v1_skeyid,
	    sa->sa_keys.v1_prflen) == -1 || hash_init(prf) == -1 ||
	    hash_update(prf, g1, g1l) == -1 || hash_update(prf, g2, g2l) == -1 ||
	    hash_update(prf, c1, 8) == -1 || hash_update(prf, c2, 8) == -1 ||
	    hash_update(prf, sa->sa_sai, sa->sa_sailen) == -1 ||
	    hash_update(prf, id, idl) == -1)
		return (-1);
	return (hash_final(prf, out));
}

/* Our KE and nonce. */
static int
v1_p1_ke(struct iked_sa *sa, struct ikebuf *b)
{
	if (ikesa_ke_mine(sa, V1_NONCE_LEN) == -1)
		return (-1);
	if (sa->sa_initiator) {
		ikev1_build_ke(b, sa->sa_dhi, sa->sa_dhilen);
		ikev1_build_nonce(b, sa->sa_ni, sa->sa_nilen);
	} else {
		ikev1_build_ke(b, sa->sa_dhr, sa->sa_dhrlen);
		ikev1_build_nonce(b, sa->sa_nr, sa->sa_nrlen);
	}
	if (sa->sa_nat & SA_NATT_VID)
		v1_build_natd(sa, b);
	/* A certificate request (any CA): peers send theirs if asked. */
	if (v1_pubkey(sa))
		ikev1_build_cert(b, IKEV1_PAYLOAD_CR, IKEV1_CERT_X509_SIG,
		    NULL, 0);
	return (b->ib_error ? -1 : 0);
}

static void	v1_continue(struct iked_sa *);
static void	v1_hold(struct iked_sa *, const struct ikemsg *,
		    const uint8_t *, size_t, const struct sockaddr *,
		    const struct sockaddr *, int);

/* Our SIG from the ca process's answer, or why there is none. */
static void
v1_take_sig(struct iked_sa *sa, const struct auth_answer *a)
{
	if (a->aa_ok == 0 && a->aa_signok == 0)
		setbuf_dup(&sa->sa_mysig, &sa->sa_mysiglen, a->aa_sig,
		    a->aa_siglen);
	if (a->aa_ok == -1 || a->aa_signok == -1 || sa->sa_mysig == NULL) {
		log_warnx("%s: cannot sign with rule \"%s\": %s", sa->sa_name,
		    sa->sa_pol->pol_name, a->aa_ok == -1 ||
		    a->aa_signok == -1 ? a->aa_why : "out of memory");
		sa->sa_mysigerr = 1;
	}
}

/* The ca process has signed our HASH_x (or could not). */
static void
v1_signed(struct iked *env, void *arg, const struct auth_answer *a)
{
	struct iked_sa	*sa = arg;

	(void)env;
	sa->sa_authwait = 0;
	v1_take_sig(sa, a);
	v1_continue(sa);
}

/* Ask for SIG_x over h: 1 (v1_signed() takes it up), or -1. */
static int
v1_sign(struct iked_sa *sa, const uint8_t *h)
{
	if (sa->sa_authwait)
		return (1);
	if (auth_sign_v1_start(sa->sa_env, h, hash_length(sa->sa_prf),
	    v1_signed, sa) == -1) {
		log_warnx("%s: cannot sign with rule \"%s\": out of memory",
		    sa->sa_name, sa->sa_pol->pol_name);
		sa->sa_mysigerr = 1;
		return (-1);
	}
	sa->sa_authwait = 1;
	return (1);
}

/* The responder's HASH_R into h, with its IDir (kept in sa_idr). */
static int
v1_responder_hash(struct iked_sa *sa, uint8_t *h)
{
	struct ikebuf	 b;
	int		 ret;

	if (ikebuf_init(&b) == -1)
		return (-1);
	ret = v1_build_myid(sa, &b, &sa->sa_idr, &sa->sa_idrlen);
	ikebuf_free(&b);
	if (ret == -1 || v1_p1_hash(sa, 0, h) == -1)
		return (-1);
	return (0);
}

/*
 * The responder's SIG_R, if the verdict on SIG_I did not bring it
 * (before MM5's IV is taken): 0 (a pre-shared key, or signed), 1
 * (asked), -1.
 */
static int
v1_presign(struct iked_sa *sa)
{
	uint8_t		 h[V1_HASH_MAX];

	if (!v1_pubkey(sa) || sa->sa_mysig != NULL || sa->sa_mysigerr)
		return (0);
	if (sa->sa_authwait)
		return (1);
	if (v1_responder_hash(sa, h) == -1) {
		sa->sa_mysigerr = 1;
		return (-1);
	}
	return (v1_sign(sa, h));
}

/*
 * MM5 or MM6: ID, HASH_x (or CERT, SIG_x), encrypted.  0, -1, or 1:
 * the signature is asked for; sent when it comes (v1_continue()).
 */
static int
v1_send_mm_auth(struct iked_sa *sa)
{
	struct ikebuf	 b;
	uint8_t		 h[V1_HASH_MAX], *msg;
	size_t		 msglen;
	int		 i = sa->sa_initiator;
	static const uint8_t zero[8];

	if (ikebuf_init(&b) == -1)
		return (-1);
	if (v1_build_myid(sa, &b, i ? &sa->sa_idi : &sa->sa_idr,
	    i ? &sa->sa_idilen : &sa->sa_idrlen) == -1 ||
	    v1_p1_hash(sa, i, h) == -1) {
		ikebuf_free(&b);
		return (-1);
	}
	if (v1_pubkey(sa)) {
		/* SIG_I or SIG_R: HASH_x signed (RFC 2409 5.1). */
		if (sa->sa_mysig == NULL) {
			ikebuf_free(&b);
			return (sa->sa_mysigerr ? -1 : v1_sign(sa, h));
		}
		ikev1_build_hash(&b, IKEV1_PAYLOAD_SIG, sa->sa_mysig,
		    sa->sa_mysiglen);
	} else
		ikev1_build_hash(&b, IKEV1_PAYLOAD_HASH, h,
		    hash_length(sa->sa_prf));
	/*
	 * Racoon's rule: INITIAL-CONTACT when this is our only SA with it.
	 * A phase 1 renewed or replacing one that expired (its pairs still
	 * in use) is not: the peer would drop those pairs.
	 */
	if (i && ikesa_first_contact(sa)) {
		uint8_t	 spi[16];

		memcpy(spi, sa->sa_ispi, 8);
		memcpy(spi + 8, sa->sa_rspi, 8);
		ikev1_build_notify(&b, IKEV1_DOI_IPSEC, IKEV1_PROTO_ISAKMP,
		    spi, sizeof(spi), IKEV1_N_INITIAL_CONTACT, NULL, 0);
	}
	(void)zero;
	if (v1_seal(sa, IKEV1_EXCHANGE_MAIN, 0, sa->sa_iv, &b, &msg,
	    &msglen) == -1) {
		ikebuf_free(&b);
		return (-1);
	}
	ikebuf_free(&b);
	return (tx_send(sa->sa_env, &sa->sa_tx, sa, msg, msglen, i,
	    v1_mm_giveup, sa));
}

/* What v1_check_mm_auth() found in MM5 or MM6. */
enum v1_auth {
	V1_AUTH_OK = 0,
	V1_AUTH_MALFORMED,	/* undecryptable, or no ID and HASH */
	V1_AUTH_HASH,		/* HASH_I or HASH_R differs: another key */
	V1_AUTH_ID,		/* the peer's ID is not the rule's dstid */
	V1_AUTH_SIG,		/* its certificate or SIG refused, logged */
	V1_AUTH_WAIT		/* the ca process answers later */
};

/* The ca process's verdict on the peer's SIG. */
static void
v1_verified(struct iked *env, void *arg, const struct auth_answer *a)
{
	struct iked_sa	*sa = arg;

	(void)env;
	sa->sa_authwait = 0;
	if (a->aa_ok == 0) {
		sa->sa_peerok = 1;
		log_info("%s: main mode: the peer's RSA signature verified "
		    "(%s)", sa->sa_name, sa->sa_peercert ? "certificate" :
		    "raw public key");
		if (sa->sa_signasked)
			v1_take_sig(sa, a);
		sa->sa_signasked = 0;
	} else {
		sa->sa_peerok = -1;
		log_warnx("%s: main mode: AUTHENTICATION_FAILED: %s",
		    sa->sa_name, a->aa_why);
	}
	v1_continue(sa);
}

/*
 * The peer's SIG over HASH_x h, with the CERTs of m: asked of the ca
 * process (1: v1_verified() takes its verdict up), or the verdict
 * already given (0, or -1 with its reason logged).
 */
static int
v1_verify_sig(struct iked_sa *sa, const struct ikemsg *m,
    const struct ikemsg_id *id, const uint8_t *sig, size_t siglen,
    const uint8_t *h)
{
	struct ca_peer		 cp;
	uint8_t			*chain, myh[V1_HASH_MAX];
	char			 why[CA_WHY_MAX];
	size_t			 chainlen = 0;
	int			 ret = -1, r;

	if (sa->sa_peerok != 0)
		return (sa->sa_peerok > 0 ? 0 : -1);
	if (sa->sa_authwait)
		return (1);
	if ((chain = malloc(CA_CHAIN_MAX)) == NULL)
		return (-1);
	why[0] = '\0';
	if (auth_chain_from(m, IKEV1_PAYLOAD_CERT, IKEV1_CERT_X509_SIG, chain,
	    &chainlen) == -1) {
		snprintf(why, sizeof(why), "the peer's certificates are too "
		    "large");
		goto done;
	}
	memset(&cp, 0, sizeof(cp));
	cp.cp_version = 1;
	cp.cp_chain = chain;
	cp.cp_chainlen = chainlen;
	cp.cp_idtype = id->id_type;
	cp.cp_id = id->id_data;
	cp.cp_idlen = id->id_len;
	cp.cp_dstid = &sa->sa_pol->pol_dstid;
	cp.cp_mode = sa->sa_pol->pol_auth;
	cp.cp_auth = sig;
	cp.cp_authlen = siglen;
	cp.cp_data = h;
	cp.cp_datalen = hash_length(sa->sa_prf);
	/* The responder's SIG_R with the verdict, made only if verified. */
	if (!sa->sa_initiator && sa->sa_mysig == NULL && !sa->sa_mysigerr &&
	    v1_responder_hash(sa, myh) == 0) {
		r = auth_verify_sign_start(sa->sa_env, &cp, CA_AUTH_RSA, 0,
		    myh, hash_length(sa->sa_prf), v1_verified, sa);
		sa->sa_signasked = r == 0;
	} else
		r = auth_verify_start(sa->sa_env, &cp, v1_verified, sa);
	if (r == 0) {
		sa->sa_authwait = 1;
		sa->sa_peercert = chainlen > 0;
		ret = 1;
	} else
		snprintf(why, sizeof(why), "out of memory");
 done:
	if (ret == -1)
		log_warnx("%s: main mode: AUTHENTICATION_FAILED: %s",
		    sa->sa_name, why);
	free(chain);
	return (ret);
}

static enum v1_auth
v1_check_mm_auth(struct iked_sa *sa, struct ikemsg *m, const uint8_t *plain)
{
	const struct ikemsg_pld	*idp, *hp, *np;
	struct ikemsg_id	 id;
	struct ikemsg_notify	 n;
	const uint8_t		*hb;
	uint8_t			 h[V1_HASH_MAX];
	size_t			 hl;
	int			 peer_is_i = !sa->sa_initiator;

	(void)plain;
	if ((idp = ikemsg_find(m, IKEV1_PAYLOAD_ID, NULL)) == NULL ||
	    (hp = ikemsg_find(m, v1_pubkey(sa) ? IKEV1_PAYLOAD_SIG :
	    IKEV1_PAYLOAD_HASH, NULL)) == NULL ||
	    ikev1_pld_id(idp, &id) != IKEMSG_OK)
		return (V1_AUTH_MALFORMED);
	if (peer_is_i)
		setbuf_dup(&sa->sa_idi, &sa->sa_idilen, idp->pld_buf + 4,
		    idp->pld_len - 4);
	else
		setbuf_dup(&sa->sa_idr, &sa->sa_idrlen, idp->pld_buf + 4,
		    idp->pld_len - 4);
	hb = ikemsg_pld_body(hp, &hl);
	if (v1_pubkey(sa)) {
		if (v1_p1_hash(sa, peer_is_i, h) == -1)
			return (V1_AUTH_SIG);
		switch (v1_verify_sig(sa, m, &id, hb, hl, h)) {
		case 0:
			break;
		case 1:
			return (V1_AUTH_WAIT);
		default:
			return (V1_AUTH_SIG);
		}
	} else {
		if (hl != hash_length(sa->sa_prf) ||
		    v1_p1_hash(sa, peer_is_i, h) == -1 ||
		    CRYPTO_memcmp(h, hb, hl) != 0)
			return (V1_AUTH_HASH);
		if (v1_check_peerid(sa, &id) == -1)
			return (V1_AUTH_ID);
	}
	for (np = ikemsg_find(m, IKEV1_PAYLOAD_NOTIFY, NULL); np != NULL;
	    np = ikemsg_find(m, IKEV1_PAYLOAD_NOTIFY, np))
		if (ikev1_pld_notify(np, &n) == IKEMSG_OK &&
		    n.n_type == IKEV1_N_INITIAL_CONTACT)
			sa->sa_nat |= SA_IC_RECV;
	return (V1_AUTH_OK);
}

static void
v1_established(struct iked_sa *sa)
{
	log_info("%s: phase 1 established (%s, %s%s)", sa->sa_name,
	    sa->sa_initiator ? "initiator" : "responder",
	    sa->sa_nat & SA_NATT_FLOAT ? "NAT-T on port 4500" : "port 500",
	    sa->sa_nat & SA_DPD_VID ? ", DPD" : "");
	/* Our SIG is out: it is not needed again. */
	if (sa->sa_mysig != NULL)
		freezero(sa->sa_mysig, sa->sa_mysiglen);
	sa->sa_mysig = NULL;
	sa->sa_mysiglen = 0;
	if (sa->sa_nat & SA_DPD_VID)
		ikesa_liveness_start(sa);
	ikesa_established(sa);
}

/*
 * MM2's SA payload: the transform xf the responder chose, echoed with
 * its attributes as the initiator proposed them (RFC 2409 5).
 */
static int
v1_build_mm2_sa(struct iked_sa *sa, const struct ikemsg_sa *s,
    const struct ikemsg_xf *xf, struct ikebuf *b)
{
	struct ikemsg_sa	*o;
	const struct ikemsg_attr *at;
	uint8_t			 vbuf[32][4], *v;
	u_int			 k, n;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return (-1);
	ikemsg_sa_init(o, IKEV1_DOI_IPSEC, IKEV1_SIT_IDENTITY_ONLY);
	ikemsg_sa_prop(o, s->sa_prop[0].p_num, IKEV1_PROTO_ISAKMP, NULL, 0);
	ikemsg_sa_xf(o, 0, xf->xf_num, xf->xf_id);
	for (k = 0; k < xf->xf_nattr && k < 32; k++) {
		at = &s->sa_attr[xf->xf_attr + k];
		if (at->at_tv)
			ikemsg_sa_attr(o, at->at_type, at->at_val);
		else if (at->at_data != NULL)
			ikemsg_sa_attr_var(o, at->at_type, at->at_data,
			    at->at_len);
		else {
			/* A short TLV kept as a number. */
			v = vbuf[k];
			for (n = 0; n < at->at_len && n < 4; n++)
				v[n] = (at->at_val >> (8 * (at->at_len - 1 -
				    n))) & 0xff;
			ikemsg_sa_attr_var(o, at->at_type, v, (uint16_t)n);
		}
	}
	if (ikebuf_init(b) == -1) {
		free(o);
		return (-1);
	}
	ikemsg_build_hdr(b, 1, sa->sa_ispi, sa->sa_rspi, IKEV1_EXCHANGE_MAIN,
	    0, 0);
	ikev1_build_sa(b, o);
	free(o);
	return (0);
}

/* R: MM1 (SA) from a new initiator; MM2 (SA) answers it. */
static void
v1_recv_mm1(struct iked_sa *sa, struct ikemsg *m, const uint8_t *raw,
    size_t rawlen, const struct sockaddr *local, const struct sockaddr *peer)
{
	struct iked		*env = sa->sa_env;
	const struct ikemsg_pld	*p;
	struct ikemsg_sa	*s = NULL;
	struct v1_p1choice	 c;
	struct ikebuf		 b;
	u_int			 i;

	if ((p = ikemsg_find(m, IKEV1_PAYLOAD_SA, NULL)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL ||
	    ikev1_pld_sa(p, s) != IKEMSG_OK || s->sa_nprop != 1 ||
	    s->sa_prop[0].p_proto != IKEV1_PROTO_ISAKMP) {
		log_info("%s: malformed MM1, dropped", sa->sa_name);
		env->sc_stats.st_dropped++;
		free(s);
		ikesa_free(sa);
		return;
	}
	v1_vendor_ids(sa, m);
	for (i = 0; i < s->sa_prop[0].p_nxf; i++) {
		v1_p1_attrs(s, &s->sa_xf[s->sa_prop[0].p_xf + i], &c);
		if (v1_p1_acceptable(sa, &c))
			break;
	}
	if (i == s->sa_prop[0].p_nxf) {
		log_warnx("%s: main mode: no proposal chosen: none of the "
		    "peer's %u transforms matches rule \"%s\"", sa->sa_name,
		    s->sa_prop[0].p_nxf, sa->sa_pol->pol_name);
		v1_send_plain_notify(env, m, local, peer,
		    IKEV1_N_NO_PROPOSAL_CHOSEN);
		free(s);
		ikesa_free(sa);
		return;
	}
	v1_p1_choose(sa, &c);
	setbuf_dup(&sa->sa_sai, &sa->sa_sailen, p->pld_buf + 4,
	    p->pld_len - 4);
	halfopen_log(env, "%s: main mode: MM1 <- SA, responding",
	    sa->sa_name);
	if (v1_build_mm2_sa(sa, s, &s->sa_xf[s->sa_prop[0].p_xf + i],
	    &b) == -1) {
		free(s);
		ikesa_dead(sa, "out of memory");
		return;
	}
	free(s);
	ikev1_build_vendor(&b, vid_natt, sizeof(vid_natt));
	ikev1_build_vendor(&b, vid_dpd, sizeof(vid_dpd));
	tx_setrx(&sa->sa_tx, raw, rawlen);
	ikesa_state(sa, SA_S_MM2);
	halfopen_log(env, "%s: main mode: MM2 -> SA", sa->sa_name);
	(void)v1_send(sa, &sa->sa_tx, &b, 0, NULL, NULL);
}

/* I: MM2 (SA), the responder's choice; MM3 (KE, Ni) follows. */
static void
v1_recv_mm2(struct iked_sa *sa, struct ikemsg *m, const uint8_t *raw,
    size_t rawlen)
{
	const struct ikemsg_pld	*p;
	struct ikemsg_sa	*s = NULL;
	struct v1_p1choice	 c;
	struct ikebuf		 b;

	if ((p = ikemsg_find(m, IKEV1_PAYLOAD_SA, NULL)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL ||
	    ikev1_pld_sa(p, s) != IKEMSG_OK || s->sa_nprop != 1 ||
	    s->sa_prop[0].p_nxf != 1) {
		sa->sa_env->sc_stats.st_dropped++;
		free(s);
		return;
	}
	v1_p1_attrs(s, &s->sa_xf[s->sa_prop[0].p_xf], &c);
	free(s);
	if (!v1_p1_acceptable(sa, &c)) {
		log_warnx("%s: main mode: the peer chose a transform we did "
		    "not propose", sa->sa_name);
		ikesa_dead(sa, NULL);
		return;
	}
	memcpy(sa->sa_rspi, m->msg_rspi, 8);
	v1_vendor_ids(sa, m);
	v1_p1_choose(sa, &c);
	if (v1_p1_setup(sa) == -1 || ikebuf_init(&b) == -1) {
		ikesa_dead(sa, "cannot set up the chosen transform");
		return;
	}
	log_info("%s: main mode: MM2 <- SA (%s, prf %s, group %s)",
	    sa->sa_name, xform_name(XF_ENC, sa->sa_enc, sa->sa_enckeylen),
	    xform_name(XF_PRF, sa->sa_prfid, 0),
	    xform_name(XF_GROUP, sa->sa_group, 0));
	ikemsg_build_hdr(&b, 1, sa->sa_ispi, sa->sa_rspi, IKEV1_EXCHANGE_MAIN,
	    0, 0);
	if (v1_p1_ke(sa, &b) == -1) {
		ikebuf_free(&b);
		ikesa_dead(sa, "key exchange failed");
		return;
	}
	tx_setrx(&sa->sa_tx, raw, rawlen);
	ikesa_state(sa, SA_S_MM3);
	log_info("%s: main mode: MM3 -> KE, Ni%s", sa->sa_name,
	    sa->sa_nat & SA_NATT_VID ? ", NAT-D" : "");
	(void)v1_send(sa, &sa->sa_tx, &b, 1, v1_mm_giveup, sa);
}

/* R: MM3 (KE, Ni); MM4 (KE, Nr) answers it. */
static void
v1_recv_mm3(struct iked_sa *sa, struct ikemsg *m, const uint8_t *raw,
    size_t rawlen)
{
	struct ikebuf	 b;

	if (v1_p1_setup(sa) == -1) {
		ikesa_dead(sa, "cannot set up the chosen transform");
		return;
	}
	if (ikebuf_init(&b) == -1)
		return;
	ikemsg_build_hdr(&b, 1, sa->sa_ispi, sa->sa_rspi, IKEV1_EXCHANGE_MAIN,
	    0, 0);
	if (v1_p1_ke(sa, &b) == -1 || v1_p1_keys(sa, m) == -1) {
		ikebuf_free(&b);
		sa->sa_env->sc_stats.st_dropped++;
		ikesa_dead(sa, "bad key exchange in MM3");
		return;
	}
	v1_check_natd(sa, m);
	tx_setrx(&sa->sa_tx, raw, rawlen);
	/* It answered our MM2: no longer one a flood evicts. */
	halfopen_proven(sa);
	ikesa_state(sa, SA_S_MM4);
	log_info("%s: main mode: MM3 <- KE, Ni; MM4 -> KE, Nr", sa->sa_name);
	(void)v1_send(sa, &sa->sa_tx, &b, 0, NULL, NULL);
}

/* I: MM4 (KE, Nr); MM5 (IDii, HASH_I) follows, encrypted. */
static void
v1_recv_mm4(struct iked_sa *sa, struct ikemsg *m, const uint8_t *raw,
    size_t rawlen)
{
	if (v1_p1_keys(sa, m) == -1) {
		sa->sa_env->sc_stats.st_dropped++;
		ikesa_dead(sa, "bad key exchange in MM4");
		return;
	}
	v1_check_natd(sa, m);
	natt_float(sa);
	tx_setrx(&sa->sa_tx, raw, rawlen);
	ikesa_state(sa, SA_S_MM5);
	log_info("%s: main mode: MM4 <- KE, Nr; MM5 -> IDii, HASH_I%s",
	    sa->sa_name, sa->sa_nat & SA_NATT_FLOAT ?
	    " (floated to port 4500)" : "");
	if (v1_send_mm_auth(sa) == -1)
		ikesa_dead(sa, "cannot send MM5");
}

/*
 * MM5 (R) or MM6 (I): decrypted and authenticated, or the phase 1 ends
 * with one line that says why; or 1: the ca process answers later, and
 * the message, kept undecrypted, is taken up again (v1_continue()).
 */
static int
v1_recv_mm_auth(struct iked_sa *sa, struct ikemsg *m, const char *what,
    const char *hash)
{
	uint8_t		*plain = NULL, newiv[16];
	enum v1_auth	 r;

	if (v1_open(sa, m, sa->sa_iv, newiv, &plain) == -1)
		r = V1_AUTH_MALFORMED;
	else
		r = v1_check_mm_auth(sa, m, plain);
	if (plain != NULL)
		freezero(plain, m->msg_enclen);
	/* The responder signs SIG_R before it takes MM5's IV. */
	if (r == V1_AUTH_OK && !sa->sa_initiator && v1_presign(sa) == 1)
		r = V1_AUTH_WAIT;
	switch (r) {
	case V1_AUTH_OK:
		memcpy(sa->sa_iv, newiv, sa->sa_ivlen);
		return (0);
	case V1_AUTH_WAIT:
		return (1);
	case V1_AUTH_MALFORMED:
		log_warnx("%s: main mode: %s does not decrypt: pre-shared key "
		    "mismatch?", sa->sa_name, what);
		break;
	case V1_AUTH_HASH:
		log_warnx("%s: main mode: %s mismatch: pre-shared key "
		    "mismatch?", sa->sa_name, hash);
		break;
	case V1_AUTH_ID:
		log_warnx("%s: main mode: peer ID is not the rule's dstid",
		    sa->sa_name);
		break;
	case V1_AUTH_SIG:
		break;		/* said */
	}
	sa->sa_env->sc_stats.st_badauth++;
	ikesa_dead(sa, "authentication failed");
	return (-1);
}

/* R: MM5 (IDii, HASH_I); MM6 (IDir, HASH_R) answers it: established. */
static void
v1_recv_mm5(struct iked_sa *sa, struct ikemsg *m, const uint8_t *raw,
    size_t rawlen, const struct sockaddr *local, const struct sockaddr *peer,
    int natt)
{
	switch (v1_recv_mm_auth(sa, m, "MM5", v1_pubkey(sa) ? "SIG_I" :
	    "HASH_I")) {
	case 0:
		break;
	case 1:
		v1_hold(sa, m, raw, rawlen, local, peer, natt);
		return;
	default:
		return;
	}
	if (natt) {
		/* The initiator floated: follow it (and its NAT). */
		memcpy(&sa->sa_local, local, sa_len(local));
		ikesa_set_peer(sa, peer);
		sa->sa_nat |= SA_NATT_FLOAT;
	}
	tx_setrx(&sa->sa_tx, raw, rawlen);
	log_info("%s: main mode: MM5 <- IDii, %s_I verified; "
	    "MM6 -> IDir, %s_R", sa->sa_name, v1_pubkey(sa) ? "SIG" : "HASH",
	    v1_pubkey(sa) ? "CERT, SIG" : "HASH");
	/* SIG_R came before MM5's IV was taken: nothing waits now. */
	if (v1_send_mm_auth(sa) != 0) {
		ikesa_dead(sa, "cannot send MM6");
		return;
	}
	v1_established(sa);
}

/* I: MM6 (IDir, HASH_R): established. */
static void
v1_recv_mm6(struct iked_sa *sa, struct ikemsg *m, const uint8_t *raw,
    size_t rawlen)
{
	switch (v1_recv_mm_auth(sa, m, "MM6", v1_pubkey(sa) ? "SIG_R" :
	    "HASH_R")) {
	case 0:
		break;
	case 1:
		v1_hold(sa, m, raw, rawlen, NULL, NULL, 0);
		return;
	default:
		return;
	}
	tx_setrx(&sa->sa_tx, raw, rawlen);
	log_info("%s: main mode: MM6 <- IDir, %s_R verified", sa->sa_name,
	    v1_pubkey(sa) ? "SIG" : "HASH");
	v1_established(sa);
}

static void	v1_recv_mm(struct iked_sa *, struct ikemsg *, const uint8_t *,
		    size_t, const struct sockaddr *, const struct sockaddr *,
		    int);

/*
 * MM5 or MM6 kept, still encrypted (its IV not yet taken), until the
 * ca process answers; if there is no memory the phase 1 ends.
 */
static void
v1_hold(struct iked_sa *sa, const struct ikemsg *m, const uint8_t *raw,
    size_t rawlen, const struct sockaddr *local, const struct sockaddr *peer,
    int natt)
{
	struct ikemsg_held	*h;
	uint8_t			*none = NULL;
	size_t			 nonelen = 0;

	if ((h = ikemsg_hold(m, raw, rawlen, &none, &nonelen)) == NULL) {
		auth_cancel(sa->sa_env, sa);
		sa->sa_authwait = 0;
		ikesa_dead(sa, "out of memory");
		return;
	}
	if (local != NULL)
		memcpy(&h->h_local, local, sa_len(local));
	if (peer != NULL)
		memcpy(&h->h_peer, peer, sa_len(peer));
	h->h_natt = natt;
	sa->sa_held = h;
}

/*
 * The answer the phase 1 waited for has come: MM5 or MM6 is taken up
 * again, or the initiator's MM5 goes out.
 */
static void
v1_continue(struct iked_sa *sa)
{
	struct ikemsg_held	*h;

	if ((h = sa->sa_held) == NULL) {
		if (sa->sa_initiator && sa->sa_state == SA_S_MM5 &&
		    v1_send_mm_auth(sa) == -1)
			ikesa_dead(sa, "cannot send MM5");
		return;
	}
	sa->sa_held = NULL;
	v1_recv_mm(sa, &h->h_msg, h->h_raw, h->h_rawlen,
	    (struct sockaddr *)&h->h_local, (struct sockaddr *)&h->h_peer,
	    h->h_natt);
	ikemsg_held_free(h);
}

/* Main Mode: each message to the handler of the state that awaits it. */
static void
v1_recv_mm(struct iked_sa *sa, struct ikemsg *m, const uint8_t *raw,
    size_t rawlen, const struct sockaddr *local, const struct sockaddr *peer,
    int natt)
{
	/* One waits for the ca process: this is its retransmission. */
	if (sa->sa_held != NULL)
		return;
	if (tx_isretransmit(sa->sa_env, &sa->sa_tx, raw, rawlen))
		return;
	switch (sa->sa_state) {
	case SA_S_INIT:
		v1_recv_mm1(sa, m, raw, rawlen, local, peer);
		break;
	case SA_S_MM1:
		v1_recv_mm2(sa, m, raw, rawlen);
		break;
	case SA_S_MM2:
		v1_recv_mm3(sa, m, raw, rawlen);
		break;
	case SA_S_MM3:
		v1_recv_mm4(sa, m, raw, rawlen);
		break;
	case SA_S_MM4:
		v1_recv_mm5(sa, m, raw, rawlen, local, peer, natt);
		break;
	case SA_S_MM5:
		v1_recv_mm6(sa, m, raw, rawlen);
		break;
	default:
		sa->sa_env->sc_stats.st_dropped++;
		break;
	}
}

/* %%% Quick Mode */

/* Where the payloads after HASH start, and their length. */
static int
v1_after_hash(const struct ikemsg *m, const uint8_t **start, size_t *len,
    const uint8_t **hash, size_t *hashlen)
{
	u_int	 i, first = m->msg_npld;

	for (i = 0; i < m->msg_npld; i++)
		if (m->msg_pld[i].pld_inner) {
			first = i;
			break;
		}
	if (first == m->msg_npld ||
	    m->msg_pld[first].pld_type != IKEV1_PAYLOAD_HASH)
		return (-1);
	*hash = ikemsg_pld_body(&m->msg_pld[first], hashlen);
	*start = m->msg_pld[first].pld_buf + m->msg_pld[first].pld_len;
	if (first + 1 == m->msg_npld)
		*len = 0;
	else
		*len = (size_t)(m->msg_pld[m->msg_npld - 1].pld_buf +
		    m->msg_pld[m->msg_npld - 1].pld_len - *start);
	return (0);
}

/* prf(SKEYID_a, [0 |] M-ID | [a] | [b] | rest) */
static int
v1_qm_hash(struct iked_sa *sa, int zero, uint32_t msgid, const uint8_t *a,
    size_t al, const uint8_t *b, size_t bl, const uint8_t *rest, size_t rl,
    uint8_t *out)
{
	struct iked_hash	*prf = sa->sa_prf;
	uint8_t			 mid[4], z = 0;

	put32(mid, msgid);
	if (hash_setkey(prf, sa->sa_keys.v1_a, sa->sa_keys.v1_prflen) == -1 ||
	    hash_init(prf) == -1 ||
	    (zero && hash_update(prf, &z, 1) == -1) ||
	    hash_update(prf, mid, 4) == -1 || hash_update(prf, a, al) == -1 ||
	    hash_update(prf, b, bl) == -1 || hash_update(prf, rest, rl) == -1)
		return (-1);
	return (hash_final(prf, out));
}

/* Start a chain with room for HASH; returns the HASH body's offset. */
static size_t
v1_hash_placeholder(struct iked_sa *sa, struct ikebuf *b)
{
	uint8_t	 zero[V1_HASH_MAX];

	memset(zero, 0, sizeof(zero));
	ikev1_build_hash(b, IKEV1_PAYLOAD_HASH, zero, hash_length(sa->sa_prf));
	return (4);
}

static int	 v1_build_qm_life(struct iked_child *, struct ikemsg_sa *);

static uint16_t
v1_encap(struct iked_child *ch)
{
	int	 udp = (ch->ch_sa->sa_nat & SA_NATT_FLOAT) != 0;

	if (ch->ch_mode == IPSEC_MODE_TRANSPORT)
		return (udp ? IKEV1_ENCAP_UDP_TRANSPORT : IKEV1_ENCAP_TRANSPORT);
	return (udp ? IKEV1_ENCAP_UDP_TUNNEL : IKEV1_ENCAP_TUNNEL);
}

/*
 * The initiator's ESP or AH transforms, a transform per combination,
 * into the open proposal; the PFS group (the first proposal's) in *group.
 */
static int
v1_build_qm_xfs(struct iked_child *ch, struct ikemsg_sa *s, uint16_t *group)
{
	struct iked_sa		*sa = ch->ch_sa;
	struct iked_proposal	*prop;
	const struct iked_xform	*enc, *auth;
	u_int			 e, a, na, ne, num = 1;
	uint16_t		 id;
	int			 first = 1;

	*group = 0;
	TAILQ_FOREACH(prop, &sa->sa_pol->pol_proposals, prop_entry) {
		if (!prop_usable(prop, 1, PROP_CHILD))
			continue;
		/* One KE payload: the first proposal's group for all. */
		if (first) {
			*group = prop->prop_nxf[XF_GROUP] > 0 &&
			    !prop->prop_nogroup ?
			    prop->prop_xf[XF_GROUP][0]->xf_id : 0;
			first = 0;
		}
		na = prop->prop_nxf[XF_AUTH] ? prop->prop_nxf[XF_AUTH] : 1;
		/* AH: a transform per authenticator, no cipher. */
		ne = ch->ch_saproto == IPPROTO_AH ? 1 : prop->prop_nxf[XF_ENC];
		for (e = 0; e < ne; e++)
		for (a = 0; a < na; a++) {
			enc = ch->ch_saproto == IPPROTO_AH ? NULL :
			    prop->prop_xf[XF_ENC][e];
			auth = prop->prop_nxf[XF_AUTH] ?
			    prop->prop_xf[XF_AUTH][a] : NULL;
			if (enc == NULL)
				id = auth != NULL ?
				    v1_ah_id(v1_auth(auth->xf_id)) : 0;
			else
				id = v1_esp_ok(enc->xf_id) ? enc->xf_id : 0;
			if (id == 0 || num > 255)
				continue;
			if (ikemsg_sa_xf(s, 0, (uint8_t)num++, id) == -1 ||
			    v1_build_qm_life(ch, s) == -1 ||
			    (*group && ikemsg_sa_attr(s,
			    IKEV1_ATTR_SA_GROUP_DESC, *group) == -1) ||
			    ikemsg_sa_attr(s, IKEV1_ATTR_SA_ENCAP_MODE,
			    v1_encap(ch)) == -1 ||
			    (auth != NULL && ikemsg_sa_attr(s,
			    IKEV1_ATTR_SA_AUTH_ALG, v1_auth(auth->xf_id)) == -1) ||
			    (enc != NULL && enc->xf_id != IKEV1_ESP_3DES &&
			    ikemsg_sa_attr(s, IKEV1_ATTR_SA_KEY_LENGTH,
			    enc->xf_keylen) == -1) ||
			    (prop->prop_esn == PROP_ESN_YES && ikemsg_sa_attr(s,
			    IKEV1_ATTR_SA_ESN, IKEV1_ESN_64) == -1))
				return (-1);
		}
	}
	return (s->sa_prop[s->sa_nprop - 1].p_nxf > 0 ? 0 : -1);
}

/* A Quick Mode transform's lifetimes, as the initiator proposes them. */
static int
v1_build_qm_life(struct iked_child *ch, struct ikemsg_sa *s)
{
	if (ikemsg_sa_attr(s, IKEV1_ATTR_SA_LIFE_TYPE,
	    IKEV1_LIFE_SECONDS) == -1 ||
	    ikemsg_sa_attr(s, IKEV1_ATTR_SA_LIFE_DURATION,
	    (uint32_t)ch->ch_lifetime) == -1)
		return (-1);
	if (ch->ch_lifebytes >= 1024 && (ikemsg_sa_attr(s,
	    IKEV1_ATTR_SA_LIFE_TYPE, IKEV1_LIFE_KILOBYTES) == -1 ||
	    ikemsg_sa_attr(s, IKEV1_ATTR_SA_LIFE_DURATION,
	    (uint32_t)(ch->ch_lifebytes / 1024 > UINT32_MAX ?
	    UINT32_MAX : ch->ch_lifebytes / 1024)) == -1))
		return (-1);
	return (0);
}

/* The IPComp proposal beside ESP or AH: our CPI (2 bytes), deflate. */
static int
v1_build_qm_ipcomp(struct iked_child *ch, struct ikemsg_sa *s, uint8_t num,
    int ours)
{
	uint16_t	 cpi = htons(ch->ch_cpi_in);

	if (ikemsg_sa_prop(s, num, IKEV1_PROTO_IPCOMP,
	    (const uint8_t *)&cpi, sizeof(cpi)) == -1 ||
	    ikemsg_sa_xf(s, 0, 1, IKEV1_IPCOMP_DEFLATE) == -1)
		return (-1);
	if (ours)
		return (v1_build_qm_life(ch, s) == -1 ||
		    ikemsg_sa_attr(s, IKEV1_ATTR_SA_ENCAP_MODE,
		    v1_encap(ch)) == -1 ? -1 : 0);
	/* The responder: the lifetimes as proposed, as for ESP. */
	if ((ch->ch_plife != 0 && (ikemsg_sa_attr(s, IKEV1_ATTR_SA_LIFE_TYPE,
	    IKEV1_LIFE_SECONDS) == -1 || ikemsg_sa_attr(s,
	    IKEV1_ATTR_SA_LIFE_DURATION, ch->ch_plife) == -1)) ||
	    (ch->ch_pkbytes != 0 && (ikemsg_sa_attr(s, IKEV1_ATTR_SA_LIFE_TYPE,
	    IKEV1_LIFE_KILOBYTES) == -1 || ikemsg_sa_attr(s,
	    IKEV1_ATTR_SA_LIFE_DURATION, ch->ch_pkbytes) == -1)))
		return (-1);
	return (ikemsg_sa_attr(s, IKEV1_ATTR_SA_ENCAP_MODE, ch->ch_encap));
}

/*
 * The initiator's Quick Mode SA.  With IPComp (a CPI from GETSPI) the
 * proposal numbered 1 is ESP or AH and IPComp together (RFC 2408 4.2:
 * one number, both protocols, as racoon proposes them), number 2 the
 * same ESP or AH alone, for a peer without IPComp.
 */
static int
v1_build_qm_sa(struct iked_child *ch, struct ikemsg_sa *s)
{
	uint16_t	 group;

	ikemsg_sa_init(s, IKEV1_DOI_IPSEC, IKEV1_SIT_IDENTITY_ONLY);
	if (ikemsg_sa_prop(s, 1, v1_proto(ch),
	    (const uint8_t *)&ch->ch_spi_in, 4) == -1 ||
	    v1_build_qm_xfs(ch, s, &group) == -1)
		return (-1);
	if (ch->ch_cpi_in != 0 &&
	    (v1_build_qm_ipcomp(ch, s, 1, 1) == -1 ||
	    ikemsg_sa_prop(s, 2, v1_proto(ch),
	    (const uint8_t *)&ch->ch_spi_in, 4) == -1 ||
	    v1_build_qm_xfs(ch, s, &group) == -1))
		return (-1);
	ch->ch_group = group;
	return (0);
}

struct v1_p2choice {
	uint16_t	 id, keylen, auth, group, encap;
	uint16_t	 esn;		/* RFC 4304: 1, 64-bit numbers */
	uint64_t	 life, kbytes;
};

static void
v1_p2_attrs(const struct ikemsg_sa *s, const struct ikemsg_xf *xf,
    struct v1_p2choice *c)
{
	const struct ikemsg_attr	*at;
	u_int				 i;
	uint16_t			 ltype = 0;

	memset(c, 0, sizeof(*c));
	c->id = xf->xf_id;
	for (i = 0; i < xf->xf_nattr; i++) {
		at = &s->sa_attr[xf->xf_attr + i];
		switch (at->at_type) {
		case IKEV1_ATTR_SA_LIFE_TYPE:
			ltype = (uint16_t)at->at_val;
			break;
		case IKEV1_ATTR_SA_LIFE_DURATION:
			if (!at->at_tv && at->at_len > 4)
				break;		/* longer than we take */
			if (ltype == IKEV1_LIFE_SECONDS)
				c->life = at->at_val;
			else if (ltype == IKEV1_LIFE_KILOBYTES)
				c->kbytes = at->at_val;
			break;
		case IKEV1_ATTR_SA_GROUP_DESC:
			c->group = (uint16_t)at->at_val;
			break;
		case IKEV1_ATTR_SA_ENCAP_MODE:
			c->encap = (uint16_t)at->at_val;
			break;
		case IKEV1_ATTR_SA_AUTH_ALG:
			c->auth = (uint16_t)at->at_val;
			break;
		case IKEV1_ATTR_SA_KEY_LENGTH:
			c->keylen = (uint16_t)at->at_val;
			break;
		case IKEV1_ATTR_SA_ESN:
			/* Any other value than 1 is no ESN we know. */
			c->esn = at->at_val == IKEV1_ESN_64 ? 1 : 0xffff;
			break;
		}
	}
}

/* Is a peer's phase 2 transform in our rule's quick proposals? */
static int
v1_p2_acceptable(struct iked_child *ch, const struct v1_p2choice *c)
{
	struct iked_proposal	*prop;
	const struct iked_xform	*enc;
	u_int			 e, a, g;
	int			 enc_ok, auth_ok, grp_ok, ah;
	uint16_t		 mode;

	ah = ch->ch_saproto == IPPROTO_AH;
	if ((ah ? c->auth == 0 || c->id != v1_ah_id(c->auth) || c->keylen :
	    !v1_esp_ok(c->id)) || c->esn > 1)
		return (0);
	mode = (c->encap == IKEV1_ENCAP_TRANSPORT ||
	    c->encap == IKEV1_ENCAP_UDP_TRANSPORT ||
	    c->encap == IKEV1_ENCAP_UDP_TRANSPORT_DRAFT) ?
	    IPSEC_MODE_TRANSPORT : IPSEC_MODE_TUNNEL;
	if (c->encap == 0 || (ch->ch_mode != IPSEC_MODE_ANY &&
	    mode != ch->ch_mode))
		return (0);
	TAILQ_FOREACH(prop, &ch->ch_sa->sa_pol->pol_proposals, prop_entry) {
		if (!prop_usable(prop, 1, PROP_CHILD))
			continue;
		enc_ok = ah;
		auth_ok = prop->prop_nxf[XF_AUTH] == 0 && c->auth == 0;
		grp_ok = c->group == 0;
		for (e = 0; e < prop->prop_nxf[XF_ENC]; e++) {
			enc = prop->prop_xf[XF_ENC][e];
			if (enc->xf_id == c->id && (c->id == IKEV1_ESP_3DES ||
			    enc->xf_keylen == c->keylen))
				enc_ok = 1;
		}
		for (a = 0; a < prop->prop_nxf[XF_AUTH]; a++)
			if (v1_auth(prop->prop_xf[XF_AUTH][a]->xf_id) == c->auth)
				auth_ok = 1;
		/* PFS: one of our groups, or any we know if we set none. */
		for (g = 0; g < prop->prop_nxf[XF_GROUP]; g++)
			if (prop->prop_xf[XF_GROUP][g]->xf_id == c->group)
				grp_ok = 1;
		if (prop->prop_nxf[XF_GROUP] == 0 && c->group != 0) {
			struct dh_group *dh = group_get(c->group);

			grp_ok = dh != NULL;
			group_free(dh);
		}
		if (prop->prop_nxf[XF_GROUP] > 0 && !prop->prop_nogroup &&
		    c->group == 0)
			grp_ok = 0;	/* we require PFS */
		/*
		 * ESN as the rule says: esn wants it, noesn refuses it;
		 * neither takes what the peer chose, but an initiator
		 * offered none.
		 */
		if (enc_ok && auth_ok && grp_ok &&
		    (prop->prop_esn == PROP_ESN_YES ? c->esn != 0 :
		    prop->prop_esn == PROP_ESN_NO || ch->ch_initiator ?
		    c->esn == 0 : 1))
			return (1);
	}
	return (0);
}

static void
v1_p2_set(struct iked_child *ch, const struct v1_p2choice *c)
{
	/* AH's transform ID names its authenticator, not a cipher. */
	ch->ch_enc = ch->ch_saproto == IPPROTO_AH ? 0 : c->id;
	ch->ch_enckeylen = c->keylen;
	ch->ch_auth = v1_auth_v2(c->auth);
	ch->ch_group = c->group;
	ch->ch_encap = c->encap;
	ch->ch_esn = c->esn == 1;
	ch->ch_plife = (uint32_t)c->life;
	ch->ch_pkbytes = (uint32_t)c->kbytes;
	if (c->life != 0 && c->life < ch->ch_lifetime)
		ch->ch_lifetime = c->life;
	if (c->kbytes != 0 && c->kbytes * 1024 < ch->ch_lifebytes)
		ch->ch_lifebytes = c->kbytes * 1024;
	if (ch->ch_mode == IPSEC_MODE_ANY)
		ch->ch_mode = (c->encap == IKEV1_ENCAP_TRANSPORT ||
		    c->encap == IKEV1_ENCAP_UDP_TRANSPORT) ?
		    IPSEC_MODE_TRANSPORT : IPSEC_MODE_TUNNEL;
}

/* The CPI of an IPComp proposal (RFC 2407 4.4.1: 2 bytes, or 4). */
static uint16_t
v1_cpi(const struct ikemsg_prop *p)
{
	uint32_t	 cpi;

	if (p->p_spisize == 2)
		cpi = (uint32_t)p->p_spi[0] << 8 | p->p_spi[1];
	else if (p->p_spisize == 4)
		cpi = get32(p->p_spi);
	else
		return (0);
	/* 1-255 are well known, not negotiated (RFC 3173 3.3). */
	return (cpi >= 0x100 && cpi <= 0xffff ? (uint16_t)cpi : 0);
}

/* An IPComp proposal we take: deflate, in the child's mode. */
static int
v1_ipcomp_ok(const struct ikemsg_sa *s, const struct ikemsg_prop *p,
    uint16_t encap)
{
	const struct ikemsg_attr	*at;
	u_int				 i;

	if (v1_cpi(p) == 0)
		return (0);
	for (i = 0; i < p->p_nxf; i++) {
		if (s->sa_xf[p->p_xf + i].xf_id != IKEV1_IPCOMP_DEFLATE)
			continue;
		at = ikemsg_xf_attr(s, &s->sa_xf[p->p_xf + i],
		    IKEV1_ATTR_SA_ENCAP_MODE);
		if (at == NULL || at->at_val == encap)
			return (1);
	}
	return (0);
}

/*
 * The responder's choice among the peer's Quick Mode proposals.  Those
 * with one number go together (RFC 2408 4.2): here ESP or AH, ours,
 * alone or with IPComp (deflate), which our rule must say.  The first
 * number all of whose proposals we take, and its first transform we
 * take, in the peer's order: the ESP or AH proposal in *pe, the IPComp
 * one in *pc (or -1), the transform in *c.  -1 if none.
 */
static int
v1_qm_choose(struct iked_child *ch, const struct ikemsg_sa *s,
    struct v1_p2choice *c, int *pe, int *pc)
{
	const struct ikemsg_prop	*p;
	u_int				 i, j, k;
	int				 e, comp, bad;

	for (i = 0; i < s->sa_nprop; i = j) {
		e = comp = -1;
		bad = 0;
		for (j = i; j < s->sa_nprop &&
		    s->sa_prop[j].p_num == s->sa_prop[i].p_num; j++) {
			p = &s->sa_prop[j];
			if (p->p_proto == v1_proto(ch) && p->p_spisize == 4 &&
			    e == -1)
				e = (int)j;
			else if (p->p_proto == IKEV1_PROTO_IPCOMP &&
			    comp == -1)
				comp = (int)j;
			else
				bad = 1;
		}
		if (bad || e == -1 || (comp != -1 &&
		    (ch->ch_sa->sa_pol->pol_flags & POL_IPCOMP) == 0))
			continue;
		p = &s->sa_prop[e];
		for (k = 0; k < p->p_nxf; k++) {
			v1_p2_attrs(s, &s->sa_xf[p->p_xf + k], c);
			if (v1_p2_acceptable(ch, c) && (comp == -1 ||
			    v1_ipcomp_ok(s, &s->sa_prop[comp], c->encap)))
				break;
		}
		if (k < p->p_nxf) {
			*pe = e;
			*pc = comp;
			return (0);
		}
	}
	return (-1);
}

static void
v1_qm_giveup(void *arg)
{
	struct iked_child	*ch = arg;

	log_warnx("%s: quick mode timed out: no answer from the peer",
	    ch->ch_sa->sa_name);
	if (ch->ch_initiator && !ch->ch_rekeying)
		kernel_acquire_fail(ch->ch_sa->sa_env, ch->ch_acqseq, ETIMEDOUT);
	v1_qm_abandoned(ch);
	kernel_delete(ch->ch_sa->sa_env, ch);
	child_free(ch);
}

int
ikev1_init_qm(struct iked_child *ch)
{
	struct iked_sa	*sa = ch->ch_sa;

	do {
		ch->ch_msgid = arc4random();
	} while (ch->ch_msgid == 0 || child_bymsgid(sa, ch->ch_msgid) != ch);
	if (v1_msgiv(sa, ch->ch_msgid, ch->ch_iv) == -1 ||
	    kernel_getspi(sa->sa_env, ch) == -1) {
		v1_qm_giveup(ch);
		return (-1);
	}
	return (0);
}

/*
 * KEYMAT for both SAs and the install of which (KERNEL_SA_IN/_OUT).  The
 * responder puts its inbound SA in before it sends QM2 (QM2 waits for
 * the kernel's answer, ikesa_update_done()), so that ESP the initiator
 * sends right after QM3 finds it, and its outbound SA when QM3 proves
 * the initiator has the keys.
 */
static int
v1_qm_install(struct iked_child *ch, int which)
{
	struct iked_sa	*sa = ch->ch_sa;
	uint8_t		 kin[V1_KEYMAT_MAX], kout[V1_KEYMAT_MAX];
	uint8_t		*gqm = NULL;
	size_t		 gqmlen = 0, el, al;
	uint8_t		 proto = v1_proto(ch);
	const uint8_t	*ni = ch->ch_ni, *nr = ch->ch_nr;
	int		 ret = -1;

	el = esp_enckeylen(ch->ch_enc, ch->ch_enckeylen);
	al = esp_authkeylen(ch->ch_auth);
	if (el + al > V1_KEYMAT_MAX)
		return (-1);
	if (ch->ch_group != 0 && (ch->ch_dh == NULL ||
	    dh_create_shared(ch->ch_dh, ch->ch_dhpeer, ch->ch_dhpeerlen, &gqm,
	    &gqmlen) == -1))
		return (-1);
	if (kdf_ikev1_keymat(sa->sa_prf, sa->sa_keys.v1_d,
	    sa->sa_keys.v1_prflen, gqm, gqmlen, proto,
	    (const uint8_t *)&ch->ch_spi_in, ni, ch->ch_nilen, nr,
	    ch->ch_nrlen, kin, el + al) == -1 ||
	    kdf_ikev1_keymat(sa->sa_prf, sa->sa_keys.v1_d,
	    sa->sa_keys.v1_prflen, gqm, gqmlen, proto,
	    (const uint8_t *)&ch->ch_spi_out, ni, ch->ch_nilen, nr,
	    ch->ch_nrlen, kout, el + al) == -1)
		goto done;
	if ((which & KERNEL_SA_OUT) && !ch->ch_initiator &&
	    sa->sa_pol->pol_polsrc == POLSRC_GENERATE &&
	    kernel_spd_find(sa->sa_env, IPSEC_DIR_OUTBOUND,
	    (struct sockaddr *)&ch->ch_lsel, ch->ch_lplen,
	    (struct sockaddr *)&ch->ch_rsel, ch->ch_rplen,
	    ch->ch_ulproto) == NULL) {
		log_warnx("%s: generate-policy: installing the peer's "
		    "selectors as policy", sa->sa_name);
		(void)kernel_generate_flows(sa->sa_env, ch);
	}
	ret = kernel_install(sa->sa_env, ch, kin, kout, el, al, which);
	if (ret == 0 && (which & KERNEL_SA_OUT)) {
		log_info("%s: quick mode done: SAs in 0x%08x out 0x%08x "
		    "installed (%s, esp %u/%u auth %u%s%s%s%s)", sa->sa_name,
		    ntohl(ch->ch_spi_in), ntohl(ch->ch_spi_out),
		    ch->ch_mode == IPSEC_MODE_TRANSPORT ? "transport" :
		    "tunnel", ch->ch_enc, ch->ch_enckeylen, ch->ch_auth,
		    ch->ch_group ? ", pfs" : "", ch->ch_esn ? ", esn" : "",
		    sa->sa_nat & SA_NATT_FLOAT ? ", udp-encap" : "",
		    ch->ch_cpi_in != 0 && ch->ch_cpi_out != 0 ?
		    ", ipcomp" : "");
		child_installed(ch);
	}
 done:
	explicit_bzero(kin, sizeof(kin));
	explicit_bzero(kout, sizeof(kout));
	if (gqm != NULL)
		freezero(gqm, gqmlen);
	return (ret);
}

/*
 * RFC 2407 4.6.3.1: a responder whose lifetimes are shorter than the
 * proposal's says so in QM2 (28800 s when the proposal had none).
 */
static void
v1_build_resplife(struct iked_child *ch, struct ikebuf *b)
{
	uint8_t		 data[24];
	size_t		 len = 0;
	uint64_t	 plife = ch->ch_plife ? ch->ch_plife : 28800;
	uint32_t	 kb = (uint32_t)(ch->ch_lifebytes / 1024);

	if (ch->ch_lifetime < plife) {
		data[len++] = 0x80;
		data[len++] = IKEV1_ATTR_SA_LIFE_TYPE;
		data[len++] = 0;
		data[len++] = IKEV1_LIFE_SECONDS;
		data[len++] = 0;
		data[len++] = IKEV1_ATTR_SA_LIFE_DURATION;
		data[len++] = 0;
		data[len++] = 4;
		put32(data + len, (uint32_t)ch->ch_lifetime);
		len += 4;
	}
	if (ch->ch_lifebytes >= 1024 && (ch->ch_pkbytes == 0 ||
	    kb < ch->ch_pkbytes)) {
		data[len++] = 0x80;
		data[len++] = IKEV1_ATTR_SA_LIFE_TYPE;
		data[len++] = 0;
		data[len++] = IKEV1_LIFE_KILOBYTES;
		data[len++] = 0;
		data[len++] = IKEV1_ATTR_SA_LIFE_DURATION;
		data[len++] = 0;
		data[len++] = 4;
		put32(data + len, kb);
		len += 4;
	}
	if (len == 0)
		return;
	ikev1_build_notify(b, IKEV1_DOI_IPSEC, v1_proto(ch),
	    &ch->ch_spi_in, 4, IKEV1_N_RESPONDER_LIFETIME, data, len);
}

/* The initiator takes the responder's shorter lifetimes. */
static void
v1_recv_resplife(struct iked_child *ch, const struct ikemsg *m)
{
	const struct ikemsg_pld		*p;
	struct ikemsg_notify		 n;
	struct ikemsg_sa		*s;
	const struct ikemsg_attr	*at;
	u_int				 i, na;
	uint16_t			 ltype = 0;

	for (p = ikemsg_find(m, IKEV1_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV1_PAYLOAD_NOTIFY, p)) {
		if (ikev1_pld_notify(p, &n) != IKEMSG_OK ||
		    n.n_type != IKEV1_N_RESPONDER_LIFETIME)
			continue;
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return;
		if (ikemsg_attrs(n.n_data, n.n_datalen, s, &na) ==
		    IKEMSG_OK)
			for (i = 0; i < s->sa_nattr; i++) {
				at = &s->sa_attr[i];
				if (at->at_type == IKEV1_ATTR_SA_LIFE_TYPE)
					ltype = (uint16_t)at->at_val;
				if (at->at_type != IKEV1_ATTR_SA_LIFE_DURATION ||
				    (!at->at_tv && at->at_len > 4) ||
				    at->at_val == 0)
					continue;
				if (ltype == IKEV1_LIFE_SECONDS &&
				    at->at_val < ch->ch_lifetime)
					ch->ch_lifetime = at->at_val;
				if (ltype == IKEV1_LIFE_KILOBYTES &&
				    (uint64_t)at->at_val * 1024 <
				    ch->ch_lifebytes)
					ch->ch_lifebytes =
					    (uint64_t)at->at_val * 1024;
			}
		free(s);
		log_info("%s: quick mode: RESPONDER-LIFETIME: %llu s, %llu "
		    "bytes", ch->ch_sa->sa_name,
		    (unsigned long long)ch->ch_lifetime,
		    (unsigned long long)ch->ch_lifebytes);
	}
}

/* Build and send QM1 (initiator) or QM2 (responder) once the SPI is known. */
void
ikev1_getspi_done(struct iked_child *ch)
{
	struct iked_sa		*sa = ch->ch_sa;
	struct ikemsg_sa	*s = NULL;
	struct ikebuf		 b;
	uint8_t			 nonce[V1_NONCE_LEN], h[V1_HASH_MAX];
	uint8_t			*pub = NULL, *msg;
	size_t			 publen = 0, msglen, hoff, restoff;
	int			 init = ch->ch_initiator;

	if (sa->sa_state != SA_S_ESTABLISHED || ikebuf_init(&b) == -1)
		goto fail;
	if (init) {
		if ((s = calloc(1, sizeof(*s))) == NULL ||
		    v1_build_qm_sa(ch, s) == -1) {
			log_warnx("%s: rule \"%s\" has no usable quick mode "
			    "transform", sa->sa_name, sa->sa_pol->pol_name);
			ikebuf_free(&b);
			goto fail;
		}
	} else {
		/* The chosen transform, with our SPI. */
		struct v1_p2choice c;

		if ((s = calloc(1, sizeof(*s))) == NULL) {
			ikebuf_free(&b);
			goto fail;
		}
		memset(&c, 0, sizeof(c));
		ikemsg_sa_init(s, IKEV1_DOI_IPSEC, IKEV1_SIT_IDENTITY_ONLY);
		/* RFC 2408 4.2: the number of the proposal chosen. */
		ikemsg_sa_prop(s, ch->ch_propnum, v1_proto(ch),
		    (const uint8_t *)&ch->ch_spi_in, 4);
		ikemsg_sa_xf(s, 0, 1, ch->ch_saproto == IPPROTO_AH ?
		    v1_ah_id(v1_auth(ch->ch_auth)) : ch->ch_enc);
		/*
		 * The lifetimes as proposed (peers compare the transform
		 * with theirs); a shorter one of ours goes in the
		 * RESPONDER-LIFETIME notify below.
		 */
		if (ch->ch_plife != 0) {
			ikemsg_sa_attr(s, IKEV1_ATTR_SA_LIFE_TYPE,
			    IKEV1_LIFE_SECONDS);
			ikemsg_sa_attr(s, IKEV1_ATTR_SA_LIFE_DURATION,
			    ch->ch_plife);
		}
		if (ch->ch_pkbytes != 0) {
			ikemsg_sa_attr(s, IKEV1_ATTR_SA_LIFE_TYPE,
			    IKEV1_LIFE_KILOBYTES);
			ikemsg_sa_attr(s, IKEV1_ATTR_SA_LIFE_DURATION,
			    ch->ch_pkbytes);
		}
		if (ch->ch_group)
			ikemsg_sa_attr(s, IKEV1_ATTR_SA_GROUP_DESC,
			    ch->ch_group);
		ikemsg_sa_attr(s, IKEV1_ATTR_SA_ENCAP_MODE, ch->ch_encap);
		if (ch->ch_auth)
			ikemsg_sa_attr(s, IKEV1_ATTR_SA_AUTH_ALG,
			    v1_auth(ch->ch_auth));
		if (ch->ch_saproto != IPPROTO_AH &&
		    ch->ch_enc != IKEV1_ESP_3DES)
			ikemsg_sa_attr(s, IKEV1_ATTR_SA_KEY_LENGTH,
			    ch->ch_enckeylen);
		if (ch->ch_esn)
			ikemsg_sa_attr(s, IKEV1_ATTR_SA_ESN, IKEV1_ESN_64);
		/*
		 * IPComp, if the peer's choice had it and our CPI came;
		 * without it the peer finds its proposal half answered
		 * and gives up, as it should.
		 */
		if (ch->ch_cpi_out != 0 && ch->ch_cpi_in == 0)
			log_warnx("%s: quick mode: no CPI of ours for the "
			    "peer's IPComp", sa->sa_name);
		if (ch->ch_cpi_out != 0 && ch->ch_cpi_in != 0)
			v1_build_qm_ipcomp(ch, s, ch->ch_propnum, 0);
	}
	hoff = v1_hash_placeholder(sa, &b);
	restoff = b.ib_len;
	ikev1_build_sa(&b, s);
	arc4random_buf(nonce, sizeof(nonce));
	if (init)
		setbuf_dup(&ch->ch_ni, &ch->ch_nilen, nonce, sizeof(nonce));
	else
		setbuf_dup(&ch->ch_nr, &ch->ch_nrlen, nonce, sizeof(nonce));
	ikev1_build_nonce(&b, nonce, sizeof(nonce));
	explicit_bzero(nonce, sizeof(nonce));
	if (ch->ch_group != 0) {
		if ((ch->ch_dh = group_get(ch->ch_group)) == NULL ||
		    dh_create_exchange(ch->ch_dh, &pub, &publen) == -1) {
			ikebuf_free(&b);
			goto fail;
		}
		setbuf_dup(&ch->ch_dhpub, &ch->ch_dhpublen, pub, publen);
		ikev1_build_ke(&b, pub, publen);
		freezero(pub, publen);
	}
	/* IDci, IDcr: initiator's selector first. */
	if (init) {
		v1_build_selid(&b, &ch->ch_lsel.sa, ch->ch_lplen, ch->ch_ulproto);
		v1_build_selid(&b, &ch->ch_rsel.sa, ch->ch_rplen, ch->ch_ulproto);
	} else if (ch->ch_sabodylen != 0) {
		/* The peer sent IDs (ch_sabody flags it): echo them. */
		v1_build_selid(&b, &ch->ch_rsel.sa, ch->ch_rplen, ch->ch_ulproto);
		v1_build_selid(&b, &ch->ch_lsel.sa, ch->ch_lplen, ch->ch_ulproto);
	}
	if (!init)
		v1_build_resplife(ch, &b);
	if (b.ib_error ||
	    v1_qm_hash(sa, 0, ch->ch_msgid, init ? NULL : ch->ch_ni,
	    init ? 0 : ch->ch_nilen, NULL, 0, b.ib_buf + restoff,
	    b.ib_len - restoff, h) == -1) {
		ikebuf_free(&b);
		goto fail;
	}
	memcpy(b.ib_buf + hoff, h, hash_length(sa->sa_prf));
	if (v1_seal(sa, IKEV1_EXCHANGE_QUICK, ch->ch_msgid, ch->ch_iv, &b,
	    &msg, &msglen) == -1) {
		ikebuf_free(&b);
		goto fail;
	}
	ikebuf_free(&b);
	free(s);
	ch->ch_state = CH_S_SENT;
	log_info("%s: quick mode: %s -> HASH(%d), SA (spi 0x%08x), N%s%s, "
	    "IDci, IDcr", sa->sa_name, init ? "QM1" : "QM2", init ? 1 : 2,
	    ntohl(ch->ch_spi_in), init ? "i" : "r", ch->ch_group ? ", KE" : "");
	if (init) {
		(void)tx_send(sa->sa_env, &ch->ch_tx, sa, msg, msglen, 1,
		    v1_qm_giveup, ch);
		return;
	}
	/* QM2 waits for the kernel to take our inbound SA. */
	ch->ch_resp = msg;
	ch->ch_resplen = msglen;
	if (v1_qm_install(ch, KERNEL_SA_IN) == -1) {
		log_warnx("%s: quick mode: inbound SA 0x%08x not installed",
		    sa->sa_name, ntohl(ch->ch_spi_in));
		ch->ch_resp = NULL;
		ch->ch_resplen = 0;
		ikev1_send_qm2(ch, msg, msglen);
	}
	return;
 fail:
	free(s);
	v1_qm_giveup(ch);
}

/* QM2, held until our inbound SA was in, to the initiator. */
void
ikev1_send_qm2(struct iked_child *ch, uint8_t *msg, size_t len)
{
	struct iked_sa	*sa = ch->ch_sa;

	(void)tx_send(sa->sa_env, &ch->ch_tx, sa, msg, len, 1, v1_qm_giveup,
	    ch);
}

/* The peer's nonce and KE of a Quick Mode message. */
static int
v1_qm_peer_ke(struct iked_child *ch, const struct ikemsg *m)
{
	const struct ikemsg_pld	*no, *ke;
	const uint8_t		*b;
	size_t			 l;

	if ((no = ikemsg_find(m, IKEV1_PAYLOAD_NONCE, NULL)) == NULL)
		return (-1);
	b = ikemsg_pld_body(no, &l);
	if (l < IKEV1_NONCE_MIN || l > IKEV1_NONCE_MAX)
		return (-1);
	if (ch->ch_initiator)
		setbuf_dup(&ch->ch_nr, &ch->ch_nrlen, b, l);
	else
		setbuf_dup(&ch->ch_ni, &ch->ch_nilen, b, l);
	ke = ikemsg_find(m, IKEV1_PAYLOAD_KE, NULL);
	if ((ke != NULL) != (ch->ch_group != 0))
		return (-1);
	if (ke != NULL) {
		b = ikemsg_pld_body(ke, &l);
		setbuf_dup(&ch->ch_dhpeer, &ch->ch_dhpeerlen, b, l);
	}
	return (0);
}

/* QM1 at the responder: a new child for a new message ID. */
static void
v1_recv_qm1(struct iked_sa *sa, struct ikemsg *m, const uint8_t *raw,
    size_t rawlen, const uint8_t *iv0, const uint8_t *newiv)
{
	struct iked		*env = sa->sa_env;
	const struct ikemsg_pld	*p, *idp;
	struct ikemsg_sa	*s = NULL;
	struct ikemsg_id	 idci, idcr;
	struct iked_child	*ch;
	struct iked_spd		*out, *in;
	struct v1_p2choice	 c;
	char			 l[128], r[128];
	u_int			 nid = 0;
	int			 pe, pc;

	(void)iv0;
	if ((ch = child_new(sa, 0)) == NULL)
		return;
	ch->ch_msgid = m->msg_msgid;
	memcpy(ch->ch_iv, newiv, sa->sa_ivlen);
	tx_setrx(&ch->ch_tx, raw, rawlen);
	ch->ch_tx.tx_sa = sa;
	ch->ch_lifetime = sa->sa_pol->pol_lifetime;
	ch->ch_lifebytes = sa->sa_pol->pol_lifebytes;
	ch->ch_mode = IPSEC_MODE_ANY;

	if ((p = ikemsg_find(m, IKEV1_PAYLOAD_SA, NULL)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL ||
	    ikev1_pld_sa(p, s) != IKEMSG_OK || s->sa_nprop < 1) {
		log_warnx("%s: quick mode: malformed QM1", sa->sa_name);
		goto drop;
	}
	/* Selectors: IDci is the peer's, IDcr ours; none: the endpoints. */
	for (idp = ikemsg_find(m, IKEV1_PAYLOAD_ID, NULL); idp != NULL;
	    idp = ikemsg_find(m, IKEV1_PAYLOAD_ID, idp), nid++)
		if (ikev1_pld_id(idp, nid == 0 ? &idci : &idcr) != IKEMSG_OK ||
		    nid > 1)
			goto drop;
	if (nid == 2) {
		if (v1_parse_selid(&idci, &ch->ch_rsel, &ch->ch_rplen,
		    &ch->ch_ulproto) == -1 ||
		    v1_parse_selid(&idcr, &ch->ch_lsel, &ch->ch_lplen,
		    &ch->ch_ulproto) == -1) {
			log_warnx("%s: quick mode: unsupported ID type",
			    sa->sa_name);
			v1_send_notify(sa, IKEV1_N_INVALID_ID_INFORMATION, 0,
			    NULL, 0, NULL, 0);
			goto drop;
		}
		ch->ch_sabodylen = 1;		/* echo the IDs */
	} else if (nid == 0) {
		ch->ch_rsel = sa->sa_peer;
		ch->ch_lsel = sa->sa_local;
		sa_setport((struct sockaddr *)&ch->ch_rsel, 0);
		sa_setport((struct sockaddr *)&ch->ch_lsel, 0);
		ch->ch_rplen = ch->ch_lplen =
		    ch->ch_rsel.sa.sa_family == AF_INET6 ? 128 : 32;
		ch->ch_ulproto = IPSEC_ULPROTO_ANY;
	} else
		goto drop;
	print_host((struct sockaddr *)&ch->ch_rsel, r, sizeof(r));
	print_host((struct sockaddr *)&ch->ch_lsel, l, sizeof(l));

	/* iface: the interface's policy, whatever the IDs say. */
	if (sa->sa_pol->pol_iface[0] != '\0') {
		if (ch->ch_lsel.sa.sa_family != ch->ch_rsel.sa.sa_family ||
		    ikesa_iface_child(ch, ch->ch_lsel.sa.sa_family) == -1) {
			v1_send_notify(sa, IKEV1_N_INVALID_ID_INFORMATION, 0,
			    NULL, 0, NULL, 0);
			goto drop;
		}
		out = in = NULL;
		goto chosen;
	}
	/* Racoon's responder rule: our SPD must have the pair. */
	out = kernel_spd_find(env, IPSEC_DIR_OUTBOUND,
	    (struct sockaddr *)&ch->ch_lsel, ch->ch_lplen,
	    (struct sockaddr *)&ch->ch_rsel, ch->ch_rplen, ch->ch_ulproto);
	in = kernel_spd_find(env, IPSEC_DIR_INBOUND,
	    (struct sockaddr *)&ch->ch_rsel, ch->ch_rplen,
	    (struct sockaddr *)&ch->ch_lsel, ch->ch_lplen, ch->ch_ulproto);
	if (out == NULL || in == NULL) {
		if (sa->sa_pol->pol_polsrc != POLSRC_GENERATE) {
			log_warnx("%s: quick mode: no policy for %s/%u <-> "
			    "%s/%u proto %u in the SPD (and rule \"%s\" "
			    "does not generate-policy)", sa->sa_name, r,
			    ch->ch_rplen, l, ch->ch_lplen, ch->ch_ulproto,
			    sa->sa_pol->pol_name);
			v1_send_notify(sa, IKEV1_N_INVALID_ID_INFORMATION, 0,
			    NULL, 0, NULL, 0);
			goto drop;
		}
	} else {
		child_set_spid(ch, out->spd_id);
		ch->ch_mode = out->spd_mode;
		ch->ch_saproto = out->spd_proto;
		ch->ch_reqid = out->spd_level == IPSEC_LEVEL_UNIQUE ?
		    out->spd_reqid : 0;
	}
 chosen:
	/* NO-PROPOSAL-CHOSEN: IKEv1 has no NO_ADDITIONAL_SAS. */
	if (!ikesa_child_room(sa, ch, "the peer's quick mode")) {
		v1_send_notify(sa, IKEV1_N_NO_PROPOSAL_CHOSEN, 0, NULL, 0,
		    NULL, 0);
		goto drop;
	}
	if (v1_qm_choose(ch, s, &c, &pe, &pc) == -1) {
		log_warnx("%s: quick mode: no proposal chosen: none of the "
		    "peer's transforms for %s <-> %s matches rule \"%s\"",
		    sa->sa_name, r, l, sa->sa_pol->pol_name);
		v1_send_notify(sa, IKEV1_N_NO_PROPOSAL_CHOSEN, 0, NULL, 0,
		    NULL, 0);
		goto drop;
	}
	v1_p2_set(ch, &c);
	child_set_spi_out(ch, s->sa_prop[pe].p_spi);
	ch->ch_propnum = s->sa_prop[pe].p_num;
	/* IPComp: kernel_getspi() then asks for a CPI of ours. */
	ch->ch_cpi_out = pc != -1 ? v1_cpi(&s->sa_prop[pc]) : 0;
	if (v1_qm_peer_ke(ch, m) == -1) {
		log_warnx("%s: quick mode: bad nonce or KE", sa->sa_name);
		goto drop;
	}
	log_info("%s: quick mode: QM1 <- HASH(1) verified, SA (peer spi "
	    "0x%08x), %s/%u <-> %s/%u", sa->sa_name, ntohl(ch->ch_spi_out),
	    r, ch->ch_rplen, l, ch->ch_lplen);
	free(s);
	if (kernel_getspi(env, ch) == -1)
		v1_qm_giveup(ch);
	return;
 drop:
	free(s);
	env->sc_stats.st_dropped++;
	child_free(ch);
}

/* QM2 at the initiator: the peer's choice; QM3 and the install. */
static void
v1_recv_qm2(struct iked_child *ch, struct ikemsg *m, const uint8_t *raw,
    size_t rawlen)
{
	struct iked_sa		*sa = ch->ch_sa;
	const struct ikemsg_pld	*p;
	struct ikemsg_sa	*s = NULL;
	struct v1_p2choice	 c;
	struct ikebuf		 b;
	uint8_t			 h[V1_HASH_MAX], *msg;
	size_t			 msglen;

	/* One proposal: ESP or AH (first), with IPComp, or alone. */
	if ((p = ikemsg_find(m, IKEV1_PAYLOAD_SA, NULL)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL ||
	    ikev1_pld_sa(p, s) != IKEMSG_OK || s->sa_nprop < 1 ||
	    s->sa_nprop > 2 || s->sa_prop[0].p_nxf != 1 ||
	    s->sa_prop[0].p_spisize != 4 ||
	    s->sa_prop[0].p_proto != v1_proto(ch) || (s->sa_nprop == 2 &&
	    (s->sa_prop[1].p_proto != IKEV1_PROTO_IPCOMP ||
	    s->sa_prop[1].p_num != s->sa_prop[0].p_num ||
	    s->sa_prop[1].p_nxf != 1))) {
		log_warnx("%s: quick mode: malformed QM2", sa->sa_name);
		goto fail;
	}
	v1_p2_attrs(s, &s->sa_xf[s->sa_prop[0].p_xf], &c);
	if (!v1_p2_acceptable(ch, &c)) {
		log_warnx("%s: quick mode: the peer chose a transform we did "
		    "not propose", sa->sa_name);
		goto fail;
	}
	if (s->sa_nprop == 2 && (ch->ch_cpi_in == 0 ||
	    !v1_ipcomp_ok(s, &s->sa_prop[1], c.encap))) {
		log_warnx("%s: quick mode: the peer chose an IPComp we did "
		    "not propose", sa->sa_name);
		goto fail;
	}
	v1_p2_set(ch, &c);
	v1_recv_resplife(ch, m);
	child_set_spi_out(ch, s->sa_prop[0].p_spi);
	if ((ch->ch_cpi_out = s->sa_nprop == 2 ?
	    v1_cpi(&s->sa_prop[1]) : 0) == 0)
		kernel_ipcomp_unused(sa->sa_env, ch);
	if (v1_qm_peer_ke(ch, m) == -1) {
		log_warnx("%s: quick mode: bad nonce or KE in QM2",
		    sa->sa_name);
		goto fail;
	}
	free(s);
	s = NULL;
	log_info("%s: quick mode: QM2 <- HASH(2) verified, SA (peer spi "
	    "0x%08x); QM3 -> HASH(3)", sa->sa_name, ntohl(ch->ch_spi_out));
	/* QM3: HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) */
	if (ikebuf_init(&b) == -1)
		goto fail;
	if (v1_qm_hash(sa, 1, ch->ch_msgid, ch->ch_ni, ch->ch_nilen,
	    ch->ch_nr, ch->ch_nrlen, NULL, 0, h) == -1) {
		ikebuf_free(&b);
		goto fail;
	}
	ikev1_build_hash(&b, IKEV1_PAYLOAD_HASH, h, hash_length(sa->sa_prf));
	if (v1_seal(sa, IKEV1_EXCHANGE_QUICK, ch->ch_msgid, ch->ch_iv, &b,
	    &msg, &msglen) == -1) {
		ikebuf_free(&b);
		goto fail;
	}
	ikebuf_free(&b);
	tx_setrx(&ch->ch_tx, raw, rawlen);
	(void)tx_send(sa->sa_env, &ch->ch_tx, sa, msg, msglen, 0, NULL, NULL);
	if (v1_qm_install(ch, KERNEL_SA_IN | KERNEL_SA_OUT) == -1)
		goto fail;
	return;
 fail:
	free(s);
	sa->sa_env->sc_stats.st_dropped++;
	v1_qm_giveup(ch);
}

/* %%% Informational */

static int
v1_send_info(struct iked_sa *sa, struct ikebuf *body)
{
	struct ikebuf	 b;
	uint8_t		 h[V1_HASH_MAX], iv[16], *msg;
	size_t		 msglen;
	uint32_t	 msgid;

	if (sa->sa_state != SA_S_ESTABLISHED || body->ib_error)
		return (-1);
	do {
		msgid = arc4random();
	} while (msgid == 0);
	if (ikebuf_init(&b) == -1)
		return (-1);
	if (v1_qm_hash(sa, 0, msgid, NULL, 0, NULL, 0, body->ib_buf,
	    body->ib_len, h) == -1 || v1_msgiv(sa, msgid, iv) == -1) {
		ikebuf_free(&b);
		return (-1);
	}
	ikev1_build_hash(&b, IKEV1_PAYLOAD_HASH, h, hash_length(sa->sa_prf));
	/* The body's payloads follow HASH in the chain. */
	b.ib_buf[0] = body->ib_first;
	ikebuf_add(&b, body->ib_buf, body->ib_len);
	if (v1_seal(sa, IKEV1_EXCHANGE_INFO, msgid, iv, &b, &msg,
	    &msglen) == -1) {
		ikebuf_free(&b);
		return (-1);
	}
	ikebuf_free(&b);
	(void)net_send(sa->sa_env, (struct sockaddr *)&sa->sa_local,
	    (struct sockaddr *)&sa->sa_peer, msg, msglen);
	freezero(msg, msglen);
	return (0);
}

static void
v1_send_notify(struct iked_sa *sa, uint16_t type, uint8_t proto,
    const uint8_t *spi, size_t spilen, const uint8_t *data, size_t len)
{
	struct ikebuf	 b;

	if (ikebuf_init(&b) == -1)
		return;
	ikev1_build_notify(&b, IKEV1_DOI_IPSEC, proto ? proto :
	    IKEV1_PROTO_IPSEC_ESP, spi, (uint8_t)spilen, type, data, len);
	if (v1_send_info(sa, &b) == 0)
		log_info("%s: informational -> %s", sa->sa_name,
		    v1_notify_name(type) ? v1_notify_name(type) : "notify");
	ikebuf_free(&b);
}

/* Before keys exist: an unencrypted notify (RFC 2408 5.1). */
static void
v1_send_plain_notify(struct iked *env, const struct ikemsg *m,
    const struct sockaddr *local, const struct sockaddr *peer, uint16_t type)
{
	struct ikebuf	 b;

	if (ikebuf_init(&b) == -1)
		return;
	ikemsg_build_hdr(&b, 1, m->msg_ispi, m->msg_rspi, IKEV1_EXCHANGE_INFO,
	    0, 0);
	ikev1_build_notify(&b, IKEV1_DOI_IPSEC, IKEV1_PROTO_ISAKMP, NULL, 0,
	    type, NULL, 0);
	if (ikemsg_build_done(&b) == 0)
		(void)net_send(env, local, peer, b.ib_buf, b.ib_len);
	ikebuf_free(&b);
}

/* DELETE: of one child (our inbound SPI), or of phase 1 (ch NULL). */
void
ikev1_send_delete(struct iked_sa *sa, struct iked_child *ch)
{
	struct ikebuf	 b;
	uint8_t		 spi[16];

	if (sa->sa_state != SA_S_ESTABLISHED || ikebuf_init(&b) == -1)
		return;
	if (ch != NULL)
		ikev1_build_delete(&b, IKEV1_DOI_IPSEC, ch->ch_saproto ==
		    IPPROTO_AH ? IKEV1_PROTO_IPSEC_AH : IKEV1_PROTO_IPSEC_ESP,
		    4, 1, &ch->ch_spi_in);
	else {
		memcpy(spi, sa->sa_ispi, 8);
		memcpy(spi + 8, sa->sa_rspi, 8);
		ikev1_build_delete(&b, IKEV1_DOI_IPSEC, IKEV1_PROTO_ISAKMP,
		    16, 1, spi);
	}
	if (v1_send_info(sa, &b) == 0)
		log_info("%s: informational -> DELETE %s", sa->sa_name,
		    ch != NULL ? "phase 2" : "phase 1");
	ikebuf_free(&b);
}

/* RFC 3706: R-U-THERE each interval; dpd_maxfail unanswered: dead. */
static void
v1_liveness(struct iked_sa *sa)
{
	uint8_t			 spi[16], seq[4];

	if (sa->sa_dpdmiss >= sa->sa_cf->cfg_dpd_maxfail) {
		log_warnx("%s: dead peer: %u R-U-THERE unanswered, deleting "
		    "its SAs", sa->sa_name, sa->sa_dpdmiss);
		ikesa_dead_peer(sa, "dead peer");
		return;
	}
	if (sa->sa_dpdseq == 0)
		sa->sa_dpdseq = arc4random() & 0x7fffffff;
	sa->sa_dpdseq++;
	put32(seq, sa->sa_dpdseq);
	memcpy(spi, sa->sa_ispi, 8);
	memcpy(spi + 8, sa->sa_rspi, 8);
	sa->sa_dpdmiss++;
	v1_send_notify(sa, IKEV1_N_R_U_THERE, IKEV1_PROTO_ISAKMP, spi, 16,
	    seq, 4);
	/* Unanswered probes come faster: 5 s apart at most. */
	ikesa_liveness_next(sa, sa->sa_dpdmiss > 1 &&
	    sa->sa_cf->cfg_dpd_interval > 5 ? 5 : 0);
}

static void
v1_recv_info(struct iked_sa *sa, struct ikemsg *m)
{
	struct iked		*env = sa->sa_env;
	const struct ikemsg_pld	*p;
	struct ikemsg_notify	 n;
	struct ikemsg_delete	 d;
	struct iked_child	*ch;
	uint32_t		 spi;
	uint16_t		 i;
	const char		*name;
	int			 out;

	for (p = ikemsg_find(m, IKEV1_PAYLOAD_NOTIFY, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV1_PAYLOAD_NOTIFY, p)) {
		if (ikev1_pld_notify(p, &n) != IKEMSG_OK)
			continue;
		name = v1_notify_name(n.n_type);
		switch (n.n_type) {
		case IKEV1_N_R_U_THERE:
			if (n.n_datalen == 4)
				v1_send_notify(sa, IKEV1_N_R_U_THERE_ACK,
				    IKEV1_PROTO_ISAKMP, n.n_spi, n.n_spisize,
				    n.n_data, 4);
			break;
		case IKEV1_N_R_U_THERE_ACK:
			if (n.n_datalen == 4 &&
			    get32(n.n_data) == sa->sa_dpdseq) {
				sa->sa_dpdmiss = 0;
				ikesa_liveness_next(sa, 0);
			}
			break;
		case IKEV1_N_INITIAL_CONTACT:
			log_info("%s: informational <- INITIAL-CONTACT",
			    sa->sa_name);
			break;
		default:
			if (name != NULL)
				log_warnx("%s: informational <- %s",
				    sa->sa_name, name);
			else
				log_info("%s: informational <- notify %u",
				    sa->sa_name, n.n_type);
			/* An error for a Quick Mode of ours: it failed. */
			if (n.n_type < 8192)
				TAILQ_FOREACH(ch, &sa->sa_children, ch_entry)
					if (ch->ch_initiator &&
					    ch->ch_state == CH_S_SENT) {
						v1_qm_giveup(ch);
						break;
					}
			break;
		}
	}
	for (p = ikemsg_find(m, IKEV1_PAYLOAD_DELETE, NULL); p != NULL;
	    p = ikemsg_find(m, IKEV1_PAYLOAD_DELETE, p)) {
		if (ikev1_pld_delete(p, &d) != IKEMSG_OK)
			continue;
		if (d.d_proto == IKEV1_PROTO_ISAKMP) {
			log_info("%s: informational <- DELETE phase 1",
			    sa->sa_name);
			ikesa_dead(sa, "deleted by the peer");
			return;
		}
		if (d.d_spisize != 4)
			continue;
		for (i = 0; i < d.d_nspi; i++) {
			memcpy(&spi, d.d_spi + 4 * i, 4);
			/*
			 * The peer's inbound SPI is our outbound one, of a
			 * pair with this peer (it may sit on the phase 1 that
			 * renewed sa).
			 */
			if ((ch = child_byspi(env, spi, &out)) == NULL ||
			    !out || sa_cmpaddr(&ch->ch_sa->sa_peer.sa,
			    &sa->sa_peer.sa) != 0)
				continue;
			log_info("%s: informational <- DELETE SA 0x%08x",
			    sa->sa_name, ntohl(spi));
			/*
			 * A pair we retired: its inbound SA waits out its
			 * grace (child_timeout()), for what the peer sent on
			 * it just before this DELETE overtook it.
			 */
			if (ch->ch_retiring && ch->ch_timer != NULL &&
			    evtimer_pending(ch->ch_timer, NULL))
				continue;
			kernel_delete(env, ch);
			child_free(ch);
		}
	}
}

/* %%% Dispatch */

static void
v1_recv_sa(struct iked *env, struct iked_sa *sa, struct ikemsg *m,
    const uint8_t *raw, size_t rawlen, const struct sockaddr *local,
    const struct sockaddr *peer, int natt)
{
	struct iked_child	*ch;
	const uint8_t		*rest, *hb;
	uint8_t			*plain = NULL, iv[16], newiv[16];
	uint8_t			 h[V1_HASH_MAX];
	size_t			 restlen, hl;

	switch (m->msg_exchange) {
	case IKEV1_EXCHANGE_MAIN:
		if (sa->sa_state == SA_S_ESTABLISHED) {
			/* A retransmitted MM5: MM6 again. */
			(void)tx_isretransmit(env, &sa->sa_tx, raw, rawlen);
			return;
		}
		v1_recv_mm(sa, m, raw, rawlen, local, peer, natt);
		return;
	case IKEV1_EXCHANGE_INFO:
		if ((m->msg_flags & IKEV1_FLAG_ENC) == 0) {
			/* Unauthenticated: only believed during phase 1. */
			const struct ikemsg_pld	*p;
			struct ikemsg_notify	 n;

			if (sa->sa_state == SA_S_ESTABLISHED)
				return;
			p = ikemsg_find(m, IKEV1_PAYLOAD_NOTIFY, NULL);
			if (p != NULL && ikev1_pld_notify(p, &n) == IKEMSG_OK) {
				log_warnx("%s: main mode: the peer says %s",
				    sa->sa_name, v1_notify_name(n.n_type) ?
				    v1_notify_name(n.n_type) : "error");
				if (sa->sa_initiator && n.n_type < 8192)
					ikesa_dead(sa, "refused by the peer");
			}
			return;
		}
		if (sa->sa_state != SA_S_ESTABLISHED)
			return;
		if (v1_msgiv(sa, m->msg_msgid, iv) == -1 ||
		    v1_open(sa, m, iv, newiv, &plain) == -1 ||
		    v1_after_hash(m, &rest, &restlen, &hb, &hl) == -1 ||
		    hl != hash_length(sa->sa_prf) ||
		    v1_qm_hash(sa, 0, m->msg_msgid, NULL, 0, NULL, 0, rest,
		    restlen, h) == -1 || CRYPTO_memcmp(h, hb, hl) != 0) {
			env->sc_stats.st_badauth++;
			log_debug("%s: informational: bad HASH, dropped",
			    sa->sa_name);
			break;
		}
		v1_recv_info(sa, m);
		break;
	case IKEV1_EXCHANGE_QUICK:
		if (sa->sa_state != SA_S_ESTABLISHED || m->msg_msgid == 0) {
			env->sc_stats.st_dropped++;
			return;
		}
		ch = child_bymsgid(sa, m->msg_msgid);
		if (ch != NULL && tx_isretransmit(env, &ch->ch_tx, raw, rawlen))
			return;
		if (ch != NULL && ch->ch_state == CH_S_INSTALLED) {
			env->sc_stats.st_dropped++;
			return;
		}
		if (ch == NULL) {
			/* A new Quick Mode from the peer (QM1). */
			if (v1_msgiv(sa, m->msg_msgid, iv) == -1)
				return;
		} else
			memcpy(iv, ch->ch_iv, sa->sa_ivlen);
		if (v1_open(sa, m, iv, newiv, &plain) == -1 ||
		    v1_after_hash(m, &rest, &restlen, &hb, &hl) == -1 ||
		    hl != hash_length(sa->sa_prf)) {
			env->sc_stats.st_dropped++;
			log_debug("%s: quick mode: undecryptable, dropped",
			    sa->sa_name);
			break;
		}
		if (ch == NULL) {
			if (v1_qm_hash(sa, 0, m->msg_msgid, NULL, 0, NULL, 0,
			    rest, restlen, h) == -1 ||
			    CRYPTO_memcmp(h, hb, hl) != 0) {
				env->sc_stats.st_badauth++;
				log_warnx("%s: quick mode: HASH(1) mismatch, "
				    "dropped", sa->sa_name);
				break;
			}
			v1_recv_qm1(sa, m, raw, rawlen, iv, newiv);
			break;
		}
		if (ch->ch_initiator && ch->ch_state == CH_S_SENT) {
			if (v1_qm_hash(sa, 0, m->msg_msgid, ch->ch_ni,
			    ch->ch_nilen, NULL, 0, rest, restlen, h) == -1 ||
			    CRYPTO_memcmp(h, hb, hl) != 0) {
				env->sc_stats.st_badauth++;
				log_warnx("%s: quick mode: HASH(2) mismatch, "
				    "dropped", sa->sa_name);
				break;
			}
			memcpy(ch->ch_iv, newiv, sa->sa_ivlen);
			v1_recv_qm2(ch, m, raw, rawlen);
			break;
		}
		if (!ch->ch_initiator && ch->ch_state == CH_S_SENT) {
			/* QM3 */
			if (v1_qm_hash(sa, 1, m->msg_msgid, ch->ch_ni,
			    ch->ch_nilen, ch->ch_nr, ch->ch_nrlen, NULL, 0,
			    h) == -1 || CRYPTO_memcmp(h, hb, hl) != 0) {
				env->sc_stats.st_badauth++;
				log_warnx("%s: quick mode: HASH(3) mismatch, "
				    "dropped", sa->sa_name);
				break;
			}
			memcpy(ch->ch_iv, newiv, sa->sa_ivlen);
			log_info("%s: quick mode: QM3 <- HASH(3) verified",
			    sa->sa_name);
			tx_setrx(&ch->ch_tx, raw, rawlen);
			if (v1_qm_install(ch, KERNEL_SA_OUT) == -1)
				v1_qm_giveup(ch);
			break;
		}
		env->sc_stats.st_dropped++;
		break;
	default:
		env->sc_stats.st_dropped++;
		log_debug("%s: exchange %u not supported, dropped",
		    sa->sa_name, m->msg_exchange);
		break;
	}
	if (plain != NULL)
		freezero(plain, m->msg_enclen);
}

/*
 * An IKEv1 message: its phase 1 by the cookies, or a new responder's
 * for an MM1 (CKY-R zero) from a peer a rule admits.
 */
static void
v1_recv(struct iked *env, struct ikemsg *m, const struct sockaddr *local,
    const struct sockaddr *peer, int natt)
{
	static const uint8_t	 zero[8];
	struct iked_sa		*sa;
	struct iked_policy	*pol;
	char			 p[128];

	/* An IKEv2 SA's SPIs are no IKEv1 exchange's. */
	if ((sa = ikesa_bycookies(env, m->msg_ispi, m->msg_rspi)) != NULL &&
	    sa->sa_proto == &ikev1_proto) {
		halfopen_continued(env);
		v1_recv_sa(env, sa, m, m->msg_buf, m->msg_len, local, peer,
		    natt);
		return;
	}
	if (memcmp(m->msg_rspi, zero, 8) != 0 ||
	    m->msg_exchange != IKEV1_EXCHANGE_MAIN ||
	    (m->msg_flags & IKEV1_FLAG_ENC)) {
		env->sc_stats.st_dropped++;
		log_debug("%s: no SA for cookies, dropped",
		    print_host(peer, p, sizeof(p)));
		return;
	}
	/* A retransmitted MM1 finds its responder SA by CKY-I. */
	IKESA_FOREACH_SPI(sa, env, m->msg_ispi)
		if (!sa->sa_initiator && sa->sa_proto == &ikev1_proto &&
		    sa_cmpaddr(&sa->sa_peer.sa, peer) == 0)
			break;
	if (sa == NULL &&
	    ((pol = ikesa_rule(env, 1, local, peer, "main mode")) == NULL ||
	    (sa = ikesa_responder(env, 1, pol, local, peer, m->msg_ispi, 0,
	    "MM1")) == NULL))
		return;
	v1_recv_sa(env, sa, m, m->msg_buf, m->msg_len, local, peer, natt);
}

/*
 * IKEv1 has no rekey of phase 1: before it expires, while it has pairs
 * that will need Quick Modes, its initiator starts a new Main Mode
 * (racoon and strongSwan do the same).  The pairs move to the new phase
 * 1 once it is established (ikesa_established()); sa lives on to its
 * end for the Quick Modes still running on it.
 */
static int
v1_renew(struct iked_sa *sa)
{
	struct iked		*env = sa->sa_env;
	struct iked_sa		*nsa;
	struct iked_child	*ch;

	if (sa->sa_rekeyed)
		return (-1);
	TAILQ_FOREACH(ch, &sa->sa_children, ch_entry)
		if (ch->ch_state == CH_S_INSTALLED && !ch->ch_retiring)
			break;
	if (ch == NULL || ikesa_successor(sa) != NULL)
		return (-1);
	if ((nsa = ikesa_new(env, 1, 1, sa->sa_pol, &sa->sa_local.sa,
	    &sa->sa_peer.sa, NULL)) == NULL)
		return (-1);
	sa_setport(&nsa->sa_local.sa, env->sc_port);
	sa_setport(&nsa->sa_peer.sa, env->sc_port);
	log_info("%s: phase 1 expires in %llu s: renewing it", sa->sa_name,
	    (unsigned long long)(sa->sa_lifetime -
	    sa->sa_lifetime * V1_RENEW_AT / 100));
	if (ikev1_init_mm(nsa) == -1) {
		ikesa_free(nsa);
		return (-1);
	}
	return (0);
}

/*
 * The lifetime timer of an established phase 1: its initiator renews it
 * once (at V1_RENEW_AT %) and lets it run to its end; then, or at the
 * responder's, it ends.
 */
static int
v1_soft(struct iked_sa *sa)
{
	if (!sa->sa_initiator || sa->sa_renewing)
		return (-1);
	sa->sa_renewing = 1;
	(void)v1_renew(sa);
	ikesa_settimer(sa, (u_int)(sa->sa_lifetime -
	    sa->sa_lifetime * V1_RENEW_AT / 100));
	return (0);
}

/* The Quick Modes that waited for their phase 1, each on its own. */
static void
v1_start_children(struct iked_sa *sa)
{
	struct iked_child	*ch, *next;

	/* Starting one may free it (its GETSPI refused), not the others. */
	for (ch = TAILQ_FIRST(&sa->sa_children); ch != NULL; ch = next) {
		next = TAILQ_NEXT(ch, ch_entry);
		if (ch->ch_state == 0)
			(void)ikev1_init_qm(ch);
	}
}

/*
 * A responder whose QM2 never got its QM3: the initiator may hold the
 * pair all the same (QM3 lost, not QM2) and send into an SA we no
 * longer have until its lifetime ends.  A DELETE of it makes the
 * initiator's next packet start a new Quick Mode.
 */
static void
v1_qm_abandoned(struct iked_child *ch)
{
	if (!ch->ch_initiator && ch->ch_state == CH_S_SENT &&
	    ch->ch_resp == NULL)
		ikev1_send_delete(ch->ch_sa, ch);
}

const struct iked_proto ikev1_proto = {
	.ip_version = 1,
	.ip_saname = "phase 1",
	.ip_chname = "quick mode",
	.ip_soft_i = V1_RENEW_AT,
	.ip_soft_r = 100,
	.ip_children_die = 0,
	.ip_ikerekey = 0,
	.ip_recv = v1_recv,
	.ip_init = ikev1_init_mm,
	.ip_soft = v1_soft,
	.ip_start_child = ikev1_init_qm,
	.ip_start_children = v1_start_children,
	.ip_send_delete = ikev1_send_delete,
	.ip_getspi_done = ikev1_getspi_done,
	.ip_send_held = ikev1_send_qm2,
	.ip_child_abandoned = v1_qm_abandoned,
	.ip_child_gone = NULL,
	.ip_liveness = v1_liveness
};
