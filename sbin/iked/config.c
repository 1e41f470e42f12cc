/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The configuration as plain structs: the transform table, allocation and
 * freeing (key material zeroed), the defaults a rule gets for what it
 * leaves out, and config_setrunning(), which makes a parsed configuration
 * the running one.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iked.h"

/*
 * The names OpenBSD iked and strongSwan's users write.  Order matters
 * only for print: each (type, id, keylen) prints as its first name.
 */
const struct iked_xform iked_xforms[] = {
	{ "aes-128",		XF_ENC,	12, 128, XF_IKE | XF_ESP | XF_V1 },
	{ "aes-192",		XF_ENC,	12, 192, XF_IKE | XF_ESP | XF_V1 },
	{ "aes-256",		XF_ENC,	12, 256, XF_IKE | XF_ESP | XF_V1 },
	{ "aes-128-gcm",	XF_ENC,	20, 128, XF_IKE | XF_ESP | XF_AEAD },
	{ "aes-192-gcm",	XF_ENC,	20, 192, XF_ESP | XF_AEAD },
	{ "aes-256-gcm",	XF_ENC,	20, 256, XF_IKE | XF_ESP | XF_AEAD },
	{ "chacha20-poly1305",	XF_ENC,	28, 256, XF_IKE | XF_ESP | XF_AEAD },
	{ "3des",		XF_ENC,	3, 0,
	    XF_IKE | XF_ESP | XF_V1 | XF_LEGACY },
	{ "hmac-sha1",		XF_AUTH, 2, 0,
	    XF_IKE | XF_ESP | XF_V1 | XF_LEGACY },
	{ "hmac-sha2-256",	XF_AUTH, 12, 0, XF_IKE | XF_ESP | XF_V1 },
	{ "hmac-sha2-384",	XF_AUTH, 13, 0, XF_IKE | XF_ESP | XF_V1 },
	{ "hmac-sha2-512",	XF_AUTH, 14, 0, XF_IKE | XF_ESP | XF_V1 },
	{ "hmac-sha1",		XF_PRF,	2, 0, XF_IKE | XF_LEGACY },
	{ "hmac-sha2-256",	XF_PRF,	5, 0, XF_IKE },
	{ "hmac-sha2-384",	XF_PRF,	6, 0, XF_IKE },
	{ "hmac-sha2-512",	XF_PRF,	7, 0, XF_IKE },
	{ "prf-hmac-sha1",	XF_PRF,	2, 0, XF_IKE | XF_LEGACY },
	{ "prf-hmac-sha2-256",	XF_PRF,	5, 0, XF_IKE },
	{ "prf-hmac-sha2-384",	XF_PRF,	6, 0, XF_IKE },
	{ "prf-hmac-sha2-512",	XF_PRF,	7, 0, XF_IKE },
	{ "modp1024",		XF_GROUP, 2, 0,
	    XF_IKE | XF_ESP | XF_V1 | XF_LEGACY },
	{ "modp1536",		XF_GROUP, 5, 0, XF_IKE | XF_ESP | XF_V1 },
	{ "modp2048",		XF_GROUP, 14, 0, XF_IKE | XF_ESP | XF_V1 },
	{ "modp3072",		XF_GROUP, 15, 0, XF_IKE | XF_ESP | XF_V1 },
	{ "modp4096",		XF_GROUP, 16, 0, XF_IKE | XF_ESP | XF_V1 },
	{ "ecp256",		XF_GROUP, 19, 0, XF_IKE | XF_ESP | XF_V1 },
	{ "ecp384",		XF_GROUP, 20, 0, XF_IKE | XF_ESP | XF_V1 },
	{ "ecp521",		XF_GROUP, 21, 0, XF_IKE | XF_ESP | XF_V1 },
	{ "curve25519",		XF_GROUP, 31, 0, XF_IKE | XF_ESP | XF_V1 },
	{ "curve448",		XF_GROUP, 32, 0, XF_IKE | XF_ESP },
	{ NULL,			0, 0, 0, 0 }
};

const struct iked_xform *
xform_lookup(enum iked_xftype type, const char *name)
{
	const struct iked_xform	*xf;

	for (xf = iked_xforms; xf->xf_name != NULL; xf++)
		if (xf->xf_type == type && strcmp(xf->xf_name, name) == 0)
			return (xf);
	return (NULL);
}

/*
 * The name of transform id of type (an IKEv2 transform ID, as the
 * table above holds them) with keylen bits (0: any), or "?".
 */
/* The transform of that type, number and key length (bits), or NULL. */
const struct iked_xform *
xform_byid(enum iked_xftype type, uint16_t id, uint16_t keylen)
{
	const struct iked_xform	*xf;

	for (xf = iked_xforms; xf->xf_name != NULL; xf++)
		if (xf->xf_type == type && xf->xf_id == id &&
		    xf->xf_keylen == keylen)
			return (xf);
	return (NULL);
}

const char *
xform_name(enum iked_xftype type, uint16_t id, uint16_t keylen)
{
	const struct iked_xform	*xf;

	for (xf = iked_xforms; xf->xf_name != NULL; xf++)
		if (xf->xf_type == type && xf->xf_id == id &&
		    (keylen == 0 || xf->xf_keylen == 0 ||
		    xf->xf_keylen == keylen))
			return (xf->xf_name);
	return ("?");
}

/* The rule named name, or NULL. */
struct iked_policy *
policy_byname(struct iked_config *cf, const char *name)
{
	struct iked_policy	*pol;

	if (cf == NULL)
		return (NULL);
	TAILQ_FOREACH(pol, &cf->cfg_policies, pol_entry)
		if (strcmp(pol->pol_name, name) == 0)
			return (pol);
	return (NULL);
}

struct iked_config *
config_new(void)
{
	struct iked_config	*cf;

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return (NULL);
	cf->cfg_dpd_interval = IKED_DPD_DEFAULT;
	cf->cfg_dpd_maxfail = IKED_DPD_MAXFAIL_DEFAULT;
	cf->cfg_fragsize = IKED_FRAGSIZE_DEFAULT;
	cf->cfg_maxchildren = IKED_MAXCHILDREN_DEFAULT;
	cf->cfg_ikelifetime = IKED_IKELIFETIME_DEFAULT;
	cf->cfg_lifetime = IKED_LIFETIME_DEFAULT;
	cf->cfg_lifebytes = IKED_LIFEBYTES_DEFAULT;
	cf->cfg_ocsp_tolerate = IKED_OCSP_TOLERATE;
	cf->cfg_ocsp_maxage = -1;
	TAILQ_INIT(&cf->cfg_policies);
	return (cf);
}

void
config_free(struct iked_config *cf)
{
	struct iked_policy	*pol;

	if (cf == NULL)
		return;
	while ((pol = TAILQ_FIRST(&cf->cfg_policies)) != NULL) {
		TAILQ_REMOVE(&cf->cfg_policies, pol, pol_entry);
		policy_free(pol);
	}
	policy_index_free(cf);
	free(cf->cfg_ocsp_url);
	free(cf);
}

struct iked_policy *
policy_new(int version)
{
	struct iked_policy	*pol;

	if ((pol = calloc(1, sizeof(*pol))) == NULL)
		return (NULL);
	pol->pol_version = version;
	pol->pol_saproto = IPPROTO_ESP;
	pol->pol_af = AF_UNSPEC;
	TAILQ_INIT(&pol->pol_flows);
	TAILQ_INIT(&pol->pol_proposals);
	return (pol);
}

/* The keyword that starts the rule: "ikev1", "ikev2", or "ike" (both). */
const char *
policy_versionname(const struct iked_policy *pol)
{
	switch (pol->pol_version) {
	case 1:
		return ("ikev1");
	case 2:
		return ("ikev2");
	default:
		return ("ike");
	}
}

void
policy_free(struct iked_policy *pol)
{
	struct iked_flow	*flow;
	struct iked_proposal	*prop;

	if (pol == NULL)
		return;
	while ((flow = TAILQ_FIRST(&pol->pol_flows)) != NULL) {
		TAILQ_REMOVE(&pol->pol_flows, flow, flow_entry);
		free(flow);
	}
	while ((prop = TAILQ_FIRST(&pol->pol_proposals)) != NULL) {
		TAILQ_REMOVE(&pol->pol_proposals, prop, prop_entry);
		free(prop);
	}
	if (pol->pol_psk != NULL) {
		explicit_bzero(pol->pol_psk, pol->pol_psklen);
		free(pol->pol_psk);
	}
	free(pol->pol_file);
	explicit_bzero(pol, sizeof(*pol));
	free(pol);
}

/* A proposal of the rule for IKE version 1 or 2 (0: the rule's). */
struct iked_proposal *
proposal_new(struct iked_policy *pol, int version, enum iked_proptype type)
{
	struct iked_proposal	*prop;

	if ((prop = calloc(1, sizeof(*prop))) == NULL)
		return (NULL);
	prop->prop_type = type;
	prop->prop_version = version != 0 ? version : pol->pol_version;
	TAILQ_INSERT_TAIL(&pol->pol_proposals, prop, prop_entry);
	return (prop);
}

static void
proposal_add(struct iked_proposal *prop, enum iked_xftype type,
    const char *name)
{
	const struct iked_xform	*xf;

	if ((xf = xform_lookup(type, name)) != NULL &&
	    prop->prop_nxf[type] < IKED_XFORM_MAX)
		prop->prop_xf[type][prop->prop_nxf[type]++] = xf;
}

/*
 * Check a proposal against its rule and fill in what it leaves out.
 * Returns -1 with the reason in err when the proposal cannot be used.
 */
int
proposal_complete(struct iked_policy *pol, struct iked_proposal *prop,
    char *err, size_t errlen)
{
	const struct iked_xform	*xf;
	u_int			 i, t, naead = 0, nenc, want;
	int			 ike = prop->prop_type == PROP_IKE;
	int			 v1 = prop->prop_version == 1;

	/* What each transform may be used for. */
	want = ike ? (v1 ? XF_V1 : XF_IKE) : XF_ESP;
	for (t = XF_ENC; t < XF_NTYPES; t++)
		for (i = 0; i < prop->prop_nxf[t]; i++) {
			xf = prop->prop_xf[t][i];
			if ((xf->xf_flags & want) == 0) {
				snprintf(err, errlen, "%s is not usable in %s",
				    xf->xf_name, ike ? (v1 ? "main mode" :
				    "an IKE SA") : (v1 ? "quick mode" :
				    "a child SA"));
				return (-1);
			}
		}
	if (ike && prop->prop_nogroup) {
		strlcpy(err, "group none is only for child SAs", errlen);
		return (-1);
	}
	if (ike && prop->prop_esn != PROP_ESN_ANY) {
		strlcpy(err, "esn is only for child SAs", errlen);
		return (-1);
	}
	if (v1 && prop->prop_nxf[XF_PRF] > 0) {
		strlcpy(err, "prf is not an IKEv1 transform", errlen);
		return (-1);
	}
	if (!ike && prop->prop_nxf[XF_PRF] > 0) {
		strlcpy(err, "prf is only for IKE SAs", errlen);
		return (-1);
	}
	nenc = prop->prop_nxf[XF_ENC];
	for (i = 0; i < nenc; i++)
		if (prop->prop_xf[XF_ENC][i]->xf_flags & XF_AEAD)
			naead++;
	if (naead != 0 && naead != nenc) {
		strlcpy(err, "AEAD and other ciphers in one proposal", errlen);
		return (-1);
	}
	if (naead != 0 && prop->prop_nxf[XF_AUTH] > 0) {
		strlcpy(err, "auth with an AEAD cipher", errlen);
		return (-1);
	}
	if (!ike && pol->pol_saproto == IPPROTO_AH && nenc > 0) {
		strlcpy(err, "enc with ah", errlen);
		return (-1);
	}

	/* Defaults. */
	if (!ike && pol->pol_saproto == IPPROTO_AH) {
		if (prop->prop_nxf[XF_AUTH] == 0)
			proposal_add(prop, XF_AUTH, "hmac-sha2-256");
		return (0);
	}
	if (nenc == 0) {
		if (v1 && ike)
			proposal_add(prop, XF_ENC, "aes-128");
		else if (prop->prop_nxf[XF_AUTH] > 0)
			proposal_add(prop, XF_ENC, "aes-256");
		else
			proposal_add(prop, XF_ENC, "aes-128-gcm");
		naead = prop->prop_xf[XF_ENC][0]->xf_flags & XF_AEAD;
	}
	if (naead == 0 && prop->prop_nxf[XF_AUTH] == 0)
		proposal_add(prop, XF_AUTH, "hmac-sha2-256");
	if (ike && !v1 && prop->prop_nxf[XF_PRF] == 0)
		proposal_add(prop, XF_PRF, "hmac-sha2-256");
	if (ike && prop->prop_nxf[XF_GROUP] == 0) {
		if (v1)
			proposal_add(prop, XF_GROUP, "modp2048");
		else {
			proposal_add(prop, XF_GROUP, "curve25519");
			proposal_add(prop, XF_GROUP, "ecp256");
			proposal_add(prop, XF_GROUP, "modp2048");
		}
	}
	return (0);
}

/*
 * The proposals a rule gets for each version and kind of which it wrote
 * none, in this order; proposal_complete() fills in the rest.  They meet
 * what strongSwan, racoon and OpenBSD's iked offer and accept when their
 * own configurations name no proposals (iked.conf(5), DEFAULTS).  Names
 * of one type are separated by spaces.
 */
static const struct default_prop {
	int			 dp_version;
	enum iked_proptype	 dp_type;
	const char		*dp_enc;
	const char		*dp_auth;
	const char		*dp_group;
} default_props[] = {
	/* AEAD first; AES-CBC with HMAC for peers without GCM. */
	{ 2, PROP_IKE,		"aes-128-gcm",		NULL,	NULL },
	{ 2, PROP_IKE,		"aes-256",		NULL,	NULL },
	{ 2, PROP_CHILD,	"aes-128-gcm",		NULL,	NULL },
	{ 2, PROP_CHILD,	"aes-128 aes-256",	"hmac-sha2-256", NULL },
	/*
	 * strongSwan sends one Main Mode transform: AES-CBC-128, SHA2-256
	 * and its first group (curve25519, an ECP or a MODP one, by its
	 * plugins).
	 */
	{ 1, PROP_IKE,		"aes-128 aes-256",	"hmac-sha2-256",
	    "modp2048 curve25519 ecp256 ecp384 modp3072 modp4096" },
	/* racoon.conf(5)'s example offers nothing else: last resort. */
	{ 1, PROP_IKE,		"3des",		"hmac-sha1",	"modp1024" },
	{ 1, PROP_CHILD,	"aes-128-gcm",		NULL,	NULL },
	/* racoon's example: rijndael (AES-128) with hmac_sha1. */
	{ 1, PROP_CHILD,	"aes-128 aes-256",
	    "hmac-sha2-256 hmac-sha1", NULL }
};

/* Add the space-separated transforms of type to prop. */
static void
proposal_add_list(struct iked_proposal *prop, enum iked_xftype type,
    const char *names)
{
	char	 name[32];
	size_t	 n;

	while (names != NULL && *names != '\0') {
		n = strcspn(names, " ");
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, names, n);
			name[n] = '\0';
			proposal_add(prop, type, name);
		}
		names += n;
		names += strspn(names, " ");
	}
}

/* The default proposals of one IKE version where the rule wrote none. */
static void
policy_default_proposals(struct iked_policy *pol, int version)
{
	struct iked_proposal	*prop;
	char			 err[128];
	const struct default_prop *dp;
	int			 nprop[PROP_CHILD + 1] = { 0 }, ah;
	size_t			 i;

	TAILQ_FOREACH(prop, &pol->pol_proposals, prop_entry)
		if (prop->prop_version == version)
			nprop[prop->prop_type]++;
	for (i = 0; i < sizeof(default_props) / sizeof(default_props[0]);
	    i++) {
		dp = &default_props[i];
		ah = dp->dp_type == PROP_CHILD &&
		    pol->pol_saproto == IPPROTO_AH;
		/* AH takes the integrity of the non-AEAD one only. */
		if (dp->dp_version != version || nprop[dp->dp_type] != 0 ||
		    (ah && dp->dp_auth == NULL) ||
		    (prop = proposal_new(pol, version, dp->dp_type)) == NULL)
			continue;
		if (!ah)
			proposal_add_list(prop, XF_ENC, dp->dp_enc);
		proposal_add_list(prop, XF_AUTH, dp->dp_auth);
		proposal_add_list(prop, XF_GROUP, dp->dp_group);
		if (proposal_complete(pol, prop, err, sizeof(err)) == -1) {
			TAILQ_REMOVE(&pol->pol_proposals, prop, prop_entry);
			free(prop);
		}
	}
}

/*
 * Fill in what a complete rule left out: the default proposals of each
 * version it serves, and lifetimes.  The proposals the rule wrote have
 * been completed already.
 */
void
policy_defaults(struct iked_config *cf, struct iked_policy *pol)
{
	struct iked_proposals	 ike, child;
	struct iked_proposal	*prop;

	if (pol->pol_version != 2)
		policy_default_proposals(pol, 1);
	if (pol->pol_version != 1)
		policy_default_proposals(pol, 2);

	/* IKE proposals before child ones, each kind in the written order. */
	TAILQ_INIT(&ike);
	TAILQ_INIT(&child);
	while ((prop = TAILQ_FIRST(&pol->pol_proposals)) != NULL) {
		TAILQ_REMOVE(&pol->pol_proposals, prop, prop_entry);
		if (prop->prop_type == PROP_IKE)
			TAILQ_INSERT_TAIL(&ike, prop, prop_entry);
		else
			TAILQ_INSERT_TAIL(&child, prop, prop_entry);
	}
	TAILQ_CONCAT(&pol->pol_proposals, &ike, prop_entry);
	TAILQ_CONCAT(&pol->pol_proposals, &child, prop_entry);

	if (pol->pol_ikelifetime == 0)
		pol->pol_ikelifetime = cf->cfg_ikelifetime;
	if (pol->pol_lifetime == 0)
		pol->pol_lifetime = cf->cfg_lifetime;
	if (pol->pol_lifebytes == 0)
		pol->pol_lifebytes = cf->cfg_lifebytes;
	if ((pol->pol_flags & (POL_ACTIVE | POL_PASSIVE)) == 0)
		pol->pol_flags |= (cf->cfg_flags & CFG_PASSIVE) ?
		    POL_PASSIVE : POL_ACTIVE;
}

/*
 * Make a parsed configuration the running one and free the old one.
 * Established SAs will keep what they need from their policy (the
 * daemon core copies it); nothing else points into the old config.
 */
/* Whether a rule of cf authenticates with a key pair. */
int
config_needkeys(const struct iked_config *cf)
{
	const struct iked_policy	*pol;

	TAILQ_FOREACH(pol, &cf->cfg_policies, pol_entry)
		if (pol->pol_auth != CA_AUTH_NONE)
			return (1);
	return (0);
}

void
config_setrunning(struct iked *env, struct iked_config *cf)
{
	struct iked_config	*old = env->sc_config;
	struct iked_policy	*pol;

	env->sc_config = cf;
	config_ref(cf);
	TAILQ_FOREACH(pol, &cf->cfg_policies, pol_entry) {
		log_debug("%s: policy \"%s\" (%s, %s)", __func__,
		    pol->pol_name, policy_versionname(pol),
		    pol->pol_flags & POL_ACTIVE ? "active" : "passive");
		/* racoon's warning: the peer chooses what we protect. */
		if (pol->pol_polsrc == POLSRC_GENERATE)
			log_warnx("%s:%d: rule \"%s\": generate-policy lets "
			    "any peer that knows the key install policies "
			    "here; dangerous", pol->pol_file ? pol->pol_file :
			    "-", pol->pol_line, pol->pol_name);
	}
	if (old != NULL)
		config_unref(old);
}

/*
 * SAs keep the configuration they were negotiated under (their rule, its
 * PSK and proposals) until they end, across reloads.
 */
void
config_ref(struct iked_config *cf)
{
	cf->cfg_refcnt++;
}

void
config_unref(struct iked_config *cf)
{
	if (cf != NULL && --cf->cfg_refcnt == 0)
		config_free(cf);
}
