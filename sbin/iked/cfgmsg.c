/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * A parsed configuration from the parent, which reads iked.conf, to the
 * engine, which cannot: IMSG_CFG_START with the "set" values, then for
 * each rule IMSG_CFG_POLICY (its fields, its PSK and the name of its
 * file) followed by its flows and proposals, then IMSG_CFG_END.  Plain
 * values only: a transform travels as (type, id, key length) and is
 * looked up again in iked_xforms.  The receiver checks every count,
 * length, string and enumeration, as for any input from another
 * process; a broken sequence drops what was received so far.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "iked.h"

struct cfgmsg_config {
	u_int		 cc_flags;
	u_int		 cc_dpd_interval;
	u_int		 cc_dpd_maxfail;
	u_int		 cc_fragsize;
	u_int		 cc_maxchildren;
	u_int		 cc_npolicies;
	uint64_t	 cc_ikelifetime;
	uint64_t	 cc_lifetime;
	uint64_t	 cc_lifebytes;
};

struct cfgmsg_policy {
	char			 cp_name[IKED_NAME_MAX];
	char			 cp_iface[IKED_IFNAME_MAX];
	u_int			 cp_ifindex;
	int			 cp_version;
	u_int			 cp_flags;
	int			 cp_af;
	int			 cp_polsrc;
	uint8_t			 cp_saproto;
	uint8_t			 cp_protos[IKED_PROTO_MAX];
	u_int			 cp_nprotos;
	struct iked_addr	 cp_local;
	struct iked_addr	 cp_peer;
	struct iked_id		 cp_srcid;
	struct iked_id		 cp_dstid;
	uint64_t		 cp_ikelifetime;
	uint64_t		 cp_lifetime;
	uint64_t		 cp_lifebytes;
	int			 cp_auth;	/* enum ca_authmode */
	int			 cp_line;
	u_int			 cp_nflows;
	u_int			 cp_nproposals;
	u_int			 cp_psklen;	/* bytes after the struct */
	u_int			 cp_filelen;	/* then these, no NUL */
};

struct cfgmsg_flow {
	struct iked_addr	 cf_src;
	struct iked_addr	 cf_dst;
	uint8_t			 cf_proto;
};

struct cfgmsg_xform {
	uint16_t		 cx_id;
	uint16_t		 cx_keylen;
};

struct cfgmsg_proposal {
	int			 cp_type;
	int			 cp_version;
	int			 cp_esn;
	int			 cp_nogroup;
	u_int			 cp_nxf[XF_NTYPES];
	struct cfgmsg_xform	 cp_xf[XF_NTYPES][IKED_XFORM_MAX];
};

#define POL_FLAGS_ALL	(POL_ACTIVE | POL_PASSIVE | POL_QUICK | POL_SKIP | \
			 POL_DEFAULT | POL_NATT | POL_TRANSPORT)

static int
cfgmsg_compose(struct imsgbuf *ib, uint32_t type, const void *data,
    size_t len)
{
	return (imsg_compose(ib, type, 0, -1, data, len));
}

static int
cfgmsg_send_policy(struct imsgbuf *ib, const struct iked_policy *pol)
{
	struct cfgmsg_policy		 cp;
	struct cfgmsg_flow		 cf;
	struct cfgmsg_proposal		 pp;
	const struct iked_flow		*flow;
	const struct iked_proposal	*prop;
	uint8_t				*buf;
	size_t				 filelen, len;
	u_int				 t, i;
	int				 ret;

	memset(&cp, 0, sizeof(cp));
	memcpy(cp.cp_name, pol->pol_name, sizeof(cp.cp_name));
	memcpy(cp.cp_iface, pol->pol_iface, sizeof(cp.cp_iface));
	cp.cp_ifindex = pol->pol_ifindex;
	cp.cp_version = pol->pol_version;
	cp.cp_flags = pol->pol_flags;
	cp.cp_af = pol->pol_af;
	cp.cp_polsrc = (int)pol->pol_polsrc;
	cp.cp_saproto = pol->pol_saproto;
	memcpy(cp.cp_protos, pol->pol_protos, sizeof(cp.cp_protos));
	cp.cp_nprotos = pol->pol_nprotos;
	cp.cp_local = pol->pol_local;
	cp.cp_peer = pol->pol_peer;
	cp.cp_srcid = pol->pol_srcid;
	cp.cp_dstid = pol->pol_dstid;
	cp.cp_ikelifetime = pol->pol_ikelifetime;
	cp.cp_lifetime = pol->pol_lifetime;
	cp.cp_lifebytes = pol->pol_lifebytes;
	cp.cp_auth = (int)pol->pol_auth;
	cp.cp_line = pol->pol_line;
	TAILQ_FOREACH(flow, &pol->pol_flows, flow_entry)
		cp.cp_nflows++;
	TAILQ_FOREACH(prop, &pol->pol_proposals, prop_entry)
		cp.cp_nproposals++;
	filelen = pol->pol_file != NULL ? strlen(pol->pol_file) : 0;
	if (filelen > PATH_MAX)
		filelen = PATH_MAX;
	cp.cp_psklen = (u_int)pol->pol_psklen;
	cp.cp_filelen = (u_int)filelen;
	len = sizeof(cp) + pol->pol_psklen + filelen;
	if ((buf = malloc(len)) == NULL)
		return (-1);
	memcpy(buf, &cp, sizeof(cp));
	if (pol->pol_psklen > 0)
		memcpy(buf + sizeof(cp), pol->pol_psk, pol->pol_psklen);
	if (filelen > 0)
		memcpy(buf + sizeof(cp) + pol->pol_psklen, pol->pol_file,
		    filelen);
	ret = cfgmsg_compose(ib, IMSG_CFG_POLICY, buf, len);
	explicit_bzero(buf, len);
	free(buf);
	if (ret == -1)
		return (-1);

	TAILQ_FOREACH(flow, &pol->pol_flows, flow_entry) {
		memset(&cf, 0, sizeof(cf));
		cf.cf_src = flow->flow_src;
		cf.cf_dst = flow->flow_dst;
		cf.cf_proto = flow->flow_proto;
		if (cfgmsg_compose(ib, IMSG_CFG_FLOW, &cf, sizeof(cf)) == -1)
			return (-1);
	}
	TAILQ_FOREACH(prop, &pol->pol_proposals, prop_entry) {
		memset(&pp, 0, sizeof(pp));
		pp.cp_type = (int)prop->prop_type;
		pp.cp_version = prop->prop_version;
		pp.cp_esn = prop->prop_esn;
		pp.cp_nogroup = prop->prop_nogroup;
		for (t = 0; t < XF_NTYPES; t++) {
			pp.cp_nxf[t] = prop->prop_nxf[t];
			for (i = 0; i < prop->prop_nxf[t] &&
			    i < IKED_XFORM_MAX; i++) {
				pp.cp_xf[t][i].cx_id = prop->prop_xf[t][i]->xf_id;
				pp.cp_xf[t][i].cx_keylen =
				    prop->prop_xf[t][i]->xf_keylen;
			}
		}
		if (cfgmsg_compose(ib, IMSG_CFG_PROPOSAL, &pp,
		    sizeof(pp)) == -1)
			return (-1);
	}
	return (0);
}

/* Queue cf on ib (imsg_flush() sends it): 0, or -1 with errno. */
int
cfgmsg_send(struct imsgbuf *ib, const struct iked_config *cf)
{
	struct cfgmsg_config		 cc;
	const struct iked_policy	*pol;

	memset(&cc, 0, sizeof(cc));
	cc.cc_flags = cf->cfg_flags;
	cc.cc_dpd_interval = cf->cfg_dpd_interval;
	cc.cc_dpd_maxfail = cf->cfg_dpd_maxfail;
	cc.cc_fragsize = cf->cfg_fragsize;
	cc.cc_maxchildren = cf->cfg_maxchildren;
	cc.cc_ikelifetime = cf->cfg_ikelifetime;
	cc.cc_lifetime = cf->cfg_lifetime;
	cc.cc_lifebytes = cf->cfg_lifebytes;
	TAILQ_FOREACH(pol, &cf->cfg_policies, pol_entry)
		cc.cc_npolicies++;
	if (cfgmsg_compose(ib, IMSG_CFG_START, &cc, sizeof(cc)) == -1)
		return (-1);
	TAILQ_FOREACH(pol, &cf->cfg_policies, pol_entry)
		if (cfgmsg_send_policy(ib, pol) == -1)
			return (-1);
	return (cfgmsg_compose(ib, IMSG_CFG_END, NULL, 0));
}

void
cfgmsg_abort(struct cfgmsg_state *cs)
{
	config_free(cs->cs_cf);
	memset(cs, 0, sizeof(*cs));
}

static int
cfgmsg_addr_ok(const struct iked_addr *a)
{
	int	 af = a->addr.ss_family, max;

	if ((af != AF_UNSPEC && af != AF_INET && af != AF_INET6) ||
	    (a->addr_af != AF_UNSPEC && a->addr_af != AF_INET &&
	    a->addr_af != AF_INET6) ||
	    (a->addr_flags & ~(ADDR_ANY | ADDR_DYNAMIC | ADDR_SET)) != 0)
		return (0);
	max = af == AF_INET6 || a->addr_af == AF_INET6 ? 128 : 32;
	return (a->addr_mask >= 0 && a->addr_mask <= max);
}

static int
cfgmsg_id_ok(const struct iked_id *id)
{
	return ((int)id->id_type >= ID_NONE && id->id_type <= ID_ASN1DN &&
	    memchr(id->id_str, '\0', sizeof(id->id_str)) != NULL);
}

static struct iked_policy *
cfgmsg_policy(struct cfgmsg_state *cs, const struct imsg *im)
{
	struct cfgmsg_policy	 cp;
	struct iked_policy	*pol;
	const uint8_t		*p = im->data;
	size_t			 len = imsg_datalen(im);

	if (len < sizeof(cp))
		return (NULL);
	memcpy(&cp, p, sizeof(cp));
	if (memchr(cp.cp_name, '\0', sizeof(cp.cp_name)) == NULL ||
	    memchr(cp.cp_iface, '\0', sizeof(cp.cp_iface)) == NULL ||
	    cp.cp_version < 0 || cp.cp_version > 2 ||
	    (cp.cp_flags & ~POL_FLAGS_ALL) != 0 ||
	    (cp.cp_af != AF_UNSPEC && cp.cp_af != AF_INET &&
	    cp.cp_af != AF_INET6) ||
	    cp.cp_polsrc < POLSRC_SPD || cp.cp_polsrc > POLSRC_GENERATE ||
	    (cp.cp_saproto != IPPROTO_ESP && cp.cp_saproto != IPPROTO_AH) ||
	    cp.cp_nprotos > IKED_PROTO_MAX ||
	    !cfgmsg_addr_ok(&cp.cp_local) || !cfgmsg_addr_ok(&cp.cp_peer) ||
	    !cfgmsg_id_ok(&cp.cp_srcid) || !cfgmsg_id_ok(&cp.cp_dstid) ||
	    cp.cp_psklen > IKED_PSK_MAX || cp.cp_filelen > PATH_MAX ||
	    cp.cp_auth < CA_AUTH_NONE || cp.cp_auth > CA_AUTH_RFC7427 ||
	    len != sizeof(cp) + cp.cp_psklen + cp.cp_filelen ||
	    cp.cp_nflows > IMSG_MAXSIZE * 64 ||
	    cp.cp_nproposals > IMSG_MAXSIZE) {
		explicit_bzero(&cp, sizeof(cp));
		return (NULL);
	}
	if ((pol = policy_new(cp.cp_version)) == NULL)
		return (NULL);
	memcpy(pol->pol_name, cp.cp_name, sizeof(pol->pol_name));
	memcpy(pol->pol_iface, cp.cp_iface, sizeof(pol->pol_iface));
	pol->pol_ifindex = cp.cp_ifindex;
	pol->pol_flags = cp.cp_flags;
	pol->pol_af = cp.cp_af;
	pol->pol_polsrc = (enum iked_polsrc)cp.cp_polsrc;
	pol->pol_saproto = cp.cp_saproto;
	memcpy(pol->pol_protos, cp.cp_protos, sizeof(pol->pol_protos));
	pol->pol_nprotos = cp.cp_nprotos;
	pol->pol_local = cp.cp_local;
	pol->pol_peer = cp.cp_peer;
	pol->pol_srcid = cp.cp_srcid;
	pol->pol_dstid = cp.cp_dstid;
	pol->pol_ikelifetime = cp.cp_ikelifetime;
	pol->pol_lifetime = cp.cp_lifetime;
	pol->pol_lifebytes = cp.cp_lifebytes;
	pol->pol_auth = (enum ca_authmode)cp.cp_auth;
	pol->pol_line = cp.cp_line;
	p += sizeof(cp);
	if (cp.cp_psklen > 0) {
		if ((pol->pol_psk = malloc(cp.cp_psklen)) == NULL)
			goto fail;
		memcpy(pol->pol_psk, p, cp.cp_psklen);
		pol->pol_psklen = cp.cp_psklen;
		p += cp.cp_psklen;
	}
	if ((pol->pol_file = malloc(cp.cp_filelen + 1)) == NULL)
		goto fail;
	memcpy(pol->pol_file, p, cp.cp_filelen);
	pol->pol_file[cp.cp_filelen] = '\0';
	cs->cs_nflow = cp.cp_nflows;
	cs->cs_nprop = cp.cp_nproposals;
	explicit_bzero(&cp, sizeof(cp));
	return (pol);
 fail:
	explicit_bzero(&cp, sizeof(cp));
	policy_free(pol);
	return (NULL);
}

static int
cfgmsg_flow(struct iked_policy *pol, const struct imsg *im)
{
	struct cfgmsg_flow	 cf;
	struct iked_flow	*flow;

	if (imsg_get_data(im, &cf, sizeof(cf)) == -1 ||
	    !cfgmsg_addr_ok(&cf.cf_src) || !cfgmsg_addr_ok(&cf.cf_dst))
		return (-1);
	if ((flow = calloc(1, sizeof(*flow))) == NULL)
		return (-1);
	flow->flow_src = cf.cf_src;
	flow->flow_dst = cf.cf_dst;
	flow->flow_proto = cf.cf_proto;
	TAILQ_INSERT_TAIL(&pol->pol_flows, flow, flow_entry);
	return (0);
}

static int
cfgmsg_proposal(struct iked_policy *pol, const struct imsg *im)
{
	struct cfgmsg_proposal	 pp;
	struct iked_proposal	*prop;
	u_int			 t, i;

	if (imsg_get_data(im, &pp, sizeof(pp)) == -1 ||
	    (pp.cp_type != PROP_IKE && pp.cp_type != PROP_CHILD) ||
	    pp.cp_version < 1 || pp.cp_version > 2)
		return (-1);
	for (t = 0; t < XF_NTYPES; t++)
		if (pp.cp_nxf[t] > IKED_XFORM_MAX)
			return (-1);
	if ((prop = proposal_new(pol, pp.cp_version,
	    (enum iked_proptype)pp.cp_type)) == NULL)
		return (-1);
	if (pp.cp_esn < PROP_ESN_ANY || pp.cp_esn > PROP_ESN_NO)
		return (-1);
	prop->prop_esn = pp.cp_esn;
	prop->prop_nogroup = pp.cp_nogroup != 0;
	for (t = 0; t < XF_NTYPES; t++) {
		for (i = 0; i < pp.cp_nxf[t]; i++)
			/* Type 0 is none; a proposal holds the others. */
			if (t == 0 || (prop->prop_xf[t][i] = xform_byid(
			    (enum iked_xftype)t, pp.cp_xf[t][i].cx_id,
			    pp.cp_xf[t][i].cx_keylen)) == NULL)
				return (-1);	/* freed with the policy */
		prop->prop_nxf[t] = pp.cp_nxf[t];
	}
	return (0);
}

/*
 * One message of the sequence: 0 while it goes on (or if im is not one
 * of it), 1 with *cfp when it is whole, -1 if it is broken (what came
 * is dropped; the running configuration stays).
 */
int
cfgmsg_recv(struct cfgmsg_state *cs, const struct imsg *im,
    struct iked_config **cfp)
{
	struct cfgmsg_config	 cc;
	struct iked_policy	*pol;

	*cfp = NULL;
	switch (im->hdr.type) {
	case IMSG_CFG_START:
		cfgmsg_abort(cs);
		if (imsg_get_data(im, &cc, sizeof(cc)) == -1 ||
		    (cc.cc_flags & ~(CFG_PASSIVE | CFG_FRAGMENTATION |
		    CFG_ENFORCESINGLEIKESA | CFG_DPDRESTART)) != 0 ||
		    (cs->cs_cf = config_new()) == NULL)
			goto fail;
		cs->cs_cf->cfg_flags = cc.cc_flags;
		cs->cs_cf->cfg_dpd_interval = cc.cc_dpd_interval;
		cs->cs_cf->cfg_dpd_maxfail = cc.cc_dpd_maxfail;
		cs->cs_cf->cfg_fragsize = cc.cc_fragsize;
		cs->cs_cf->cfg_maxchildren = cc.cc_maxchildren;
		cs->cs_cf->cfg_ikelifetime = cc.cc_ikelifetime;
		cs->cs_cf->cfg_lifetime = cc.cc_lifetime;
		cs->cs_cf->cfg_lifebytes = cc.cc_lifebytes;
		cs->cs_npol = cc.cc_npolicies;
		return (0);
	case IMSG_CFG_POLICY:
		if (cs->cs_cf == NULL || cs->cs_npol == 0 ||
		    cs->cs_nflow != 0 || cs->cs_nprop != 0 ||
		    (pol = cfgmsg_policy(cs, im)) == NULL)
			goto fail;
		TAILQ_INSERT_TAIL(&cs->cs_cf->cfg_policies, pol, pol_entry);
		cs->cs_cf->cfg_npolicies++;
		cs->cs_pol = pol;
		cs->cs_npol--;
		return (0);
	case IMSG_CFG_FLOW:
		if (cs->cs_pol == NULL || cs->cs_nflow == 0 ||
		    cfgmsg_flow(cs->cs_pol, im) == -1)
			goto fail;
		cs->cs_nflow--;
		return (0);
	case IMSG_CFG_PROPOSAL:
		if (cs->cs_pol == NULL || cs->cs_nflow != 0 ||
		    cs->cs_nprop == 0 || cfgmsg_proposal(cs->cs_pol, im) == -1)
			goto fail;
		cs->cs_nprop--;
		return (0);
	case IMSG_CFG_END:
		if (cs->cs_cf == NULL || cs->cs_npol != 0 ||
		    cs->cs_nflow != 0 || cs->cs_nprop != 0 ||
		    imsg_datalen(im) != 0)
			goto fail;
		*cfp = cs->cs_cf;
		memset(cs, 0, sizeof(*cs));
		return (1);
	default:
		return (0);
	}
 fail:
	cfgmsg_abort(cs);
	errno = EBADMSG;
	return (-1);
}
