/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The configuration printed back in iked.conf(5) syntax, every default
 * written out ("iked -nv"): the canonical form that the tests compare
 * and that parses again to the same configuration.  The psk is printed
 * only at -vv.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "iked.h"

const char *
print_addr(const struct iked_addr *a, char *buf, size_t len)
{
	char		 host[INET6_ADDRSTRLEN];
	const void	*src;
	int		 max;

	if (a->addr_flags & ADDR_DYNAMIC)
		strlcpy(buf, "dynamic", len);
	else if (a->addr_af == AF_UNSPEC)
		strlcpy(buf, "any", len);
	else {
		if (a->addr_af == AF_INET) {
			src = &((const struct sockaddr_in *)&a->addr)->sin_addr;
			max = 32;
		} else {
			src = &((const struct sockaddr_in6 *)
			    &a->addr)->sin6_addr;
			max = 128;
		}
		if (inet_ntop(a->addr_af, src, host, sizeof(host)) == NULL)
			strlcpy(host, "?", sizeof(host));
		if (a->addr_mask == max)
			snprintf(buf, len, "%s", host);
		else
			snprintf(buf, len, "%s/%d", host, a->addr_mask);
	}
	return (buf);
}

/* The largest unit that divides the value exactly. */
const char *
print_time(uint64_t t, char *buf, size_t len)
{
	if (t % 86400 == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(t / 86400));
	else if (t % 3600 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(t / 3600));
	else if (t % 60 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(t / 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)t);
	return (buf);
}

const char *
print_bytes(uint64_t b, char *buf, size_t len)
{
	static const char	 units[] = "TGMK";
	int			 i;

	for (i = 0; units[i] != '\0'; i++) {
		unsigned int	 shift = 10 * (4 - (unsigned int)i);

		if (b % (1ULL << shift) == 0) {
			snprintf(buf, len, "%llu%c",
			    (unsigned long long)(b >> shift), units[i]);
			return (buf);
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)b);
	return (buf);
}

/* Words of a rule, its continuation lines indented by a tab. */
static int	print_bol;

static void
pr(FILE *fp, const char *fmt, ...)
    __attribute__((__format__(printf, 2, 3)));

static void
pr(FILE *fp, const char *fmt, ...)
{
	va_list	 ap;

	if (!print_bol)
		fputc(' ', fp);
	print_bol = 0;
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
}

static void
pr_cont(FILE *fp)
{
	fprintf(fp, " \\\n\t");
	print_bol = 1;
}

static void
print_proposal(FILE *fp, const struct iked_proposal *prop)
{
	static const char *const kw[XF_NTYPES] = {
		[XF_ENC] = "enc",
		[XF_AUTH] = "auth",
		[XF_PRF] = "prf",
		[XF_GROUP] = "group"
	};
	u_int	 t, i;

	pr_cont(fp);
	if (prop->prop_type == PROP_IKE)
		pr(fp, "%s", prop->prop_version == 1 ? "main" : "ikesa");
	else
		pr(fp, "%s", prop->prop_version == 1 ? "quick" : "childsa");
	for (t = XF_ENC; t < XF_NTYPES; t++)
		for (i = 0; i < prop->prop_nxf[t]; i++)
			pr(fp, "%s %s", kw[t], prop->prop_xf[t][i]->xf_name);
	if (prop->prop_nogroup)
		pr(fp, "group none");
	if (prop->prop_esn == PROP_ESN_YES)
		pr(fp, "esn");
	else if (prop->prop_esn == PROP_ESN_NO)
		pr(fp, "noesn");
}

static void
print_flow_addr(FILE *fp, const char *kw, const struct iked_addr *a)
{
	char	 buf[128];

	pr(fp, "%s %s", kw, print_addr(a, buf, sizeof(buf)));
	if (a->addr_port != 0)
		pr(fp, "port %u", a->addr_port);
}

static void
print_policy(FILE *fp, const struct iked_policy *pol, int verbose)
{
	const struct iked_flow		*flow;
	const struct iked_proposal	*prop;
	const char			*name;
	char				 buf[128];
	u_int				 i, n;
	size_t				 k;

	print_bol = 1;
	pr(fp, "%s \"%s\"", policy_versionname(pol), pol->pol_name);
	if (pol->pol_flags & POL_QUICK)
		pr(fp, "quick");
	if (pol->pol_flags & POL_SKIP)
		pr(fp, "skip");
	if (pol->pol_flags & POL_DEFAULT)
		pr(fp, "default");
	pr(fp, "%s %s %s", pol->pol_flags & POL_ACTIVE ? "active" :
	    "passive", pol->pol_saproto == IPPROTO_AH ? "ah" : "esp",
	    pol->pol_flags & POL_TRANSPORT ? "transport" : "tunnel");
	if (pol->pol_flags & POL_NATT)
		pr(fp, "natt");
	if (pol->pol_flags & POL_IPCOMP)
		pr(fp, "ipcomp");
	if (pol->pol_af == AF_INET)
		pr(fp, "inet");
	else if (pol->pol_af == AF_INET6)
		pr(fp, "inet6");
	if (pol->pol_polsrc == POLSRC_INSTALL)
		pr(fp, "install-policies");
	else if (pol->pol_polsrc == POLSRC_GENERATE)
		pr(fp, "generate-policy");

	if (pol->pol_nprotos > 0) {
		pr_cont(fp);
		pr(fp, "proto");
		if (pol->pol_nprotos > 1)
			pr(fp, "{");
		for (i = 0; i < pol->pol_nprotos; i++) {
			name = parse_protoname(pol->pol_protos[i]);
			if (name != NULL)
				pr(fp, "%s%s", name,
				    i + 1 < pol->pol_nprotos ? "," : "");
			else
				pr(fp, "%u%s", pol->pol_protos[i],
				    i + 1 < pol->pol_nprotos ? "," : "");
		}
		if (pol->pol_nprotos > 1)
			pr(fp, "}");
	}
	/* The flows as written: the protocols multiplied them. */
	n = 0;
	TAILQ_FOREACH(flow, &pol->pol_flows, flow_entry) {
		if (pol->pol_nprotos > 1 && n++ % pol->pol_nprotos != 0)
			continue;
		pr_cont(fp);
		print_flow_addr(fp, "from", &flow->flow_src);
		print_flow_addr(fp, "to", &flow->flow_dst);
	}
	if ((pol->pol_local.addr_flags & ADDR_SET) ||
	    (pol->pol_peer.addr_flags & ADDR_SET)) {
		pr_cont(fp);
		if (pol->pol_local.addr_flags & ADDR_SET)
			pr(fp, "local %s", print_addr(&pol->pol_local,
			    buf, sizeof(buf)));
		if (pol->pol_peer.addr_flags & ADDR_SET)
			pr(fp, "peer %s", print_addr(&pol->pol_peer,
			    buf, sizeof(buf)));
	}
	TAILQ_FOREACH(prop, &pol->pol_proposals, prop_entry)
		print_proposal(fp, prop);
	if (pol->pol_srcid.id_type != ID_NONE ||
	    pol->pol_dstid.id_type != ID_NONE) {
		pr_cont(fp);
		if (pol->pol_srcid.id_type != ID_NONE)
			pr(fp, "srcid \"%s\"", pol->pol_srcid.id_str);
		if (pol->pol_dstid.id_type != ID_NONE)
			pr(fp, "dstid \"%s\"", pol->pol_dstid.id_str);
	}
	pr_cont(fp);
	pr(fp, "ikelifetime %s",
	    print_time(pol->pol_ikelifetime, buf, sizeof(buf)));
	pr(fp, "lifetime %s", print_time(pol->pol_lifetime, buf, sizeof(buf)));
	pr(fp, "bytes %s", print_bytes(pol->pol_lifebytes, buf, sizeof(buf)));
	if (pol->pol_iface[0] != '\0')
		pr(fp, "iface \"%s\"", pol->pol_iface);
	if (pol->pol_psk != NULL) {
		pr_cont(fp);
		if (verbose >= 2) {
			pr(fp, "psk 0x");
			for (k = 0; k < pol->pol_psklen; k++)
				fprintf(fp, "%02x", pol->pol_psk[k]);
		} else
			pr(fp, "psk \"********\"");
	} else if (pol->pol_auth != CA_AUTH_NONE) {
		pr_cont(fp);
		pr(fp, "%s", print_auth(pol->pol_auth));
	}
	fputc('\n', fp);
}

const char *
print_auth(enum ca_authmode mode)
{
	switch (mode) {
	case CA_AUTH_RSA:
		return ("rsa");
	case CA_AUTH_ECDSA256:
		return ("ecdsa256");
	case CA_AUTH_ECDSA384:
		return ("ecdsa384");
	case CA_AUTH_ECDSA521:
		return ("ecdsa521");
	case CA_AUTH_RFC7427:
		return ("rfc7427");
	default:
		return ("psk");
	}
}

void
print_config(FILE *fp, const struct iked_config *cf, int verbose)
{
	const struct iked_policy	*pol;
	char				 buf[32], buf2[32];

	fprintf(fp, "set %s\n", cf->cfg_flags & CFG_PASSIVE ? "passive" :
	    "active");
	fprintf(fp, "set couple\n");
	fprintf(fp, "set %s\n", cf->cfg_flags & CFG_FRAGMENTATION ?
	    "fragmentation" : "nofragmentation");
	if (cf->cfg_fragsize != IKED_FRAGSIZE_DEFAULT)
		fprintf(fp, "set fragment_size %u\n", cf->cfg_fragsize);
	if (cf->cfg_ocsp_url != NULL) {
		fprintf(fp, "set ocsp \"%s\"", cf->cfg_ocsp_url);
		if (cf->cfg_ocsp_tolerate != IKED_OCSP_TOLERATE)
			fprintf(fp, " tolerate %ld", cf->cfg_ocsp_tolerate);
		if (cf->cfg_ocsp_maxage != -1)
			fprintf(fp, " maxage %ld", cf->cfg_ocsp_maxage);
		fputc('\n', fp);
	}
	fprintf(fp, "set %s\n", cf->cfg_flags & CFG_ENFORCESINGLEIKESA ?
	    "enforcesingleikesa" : "noenforcesingleikesa");
	fprintf(fp, "set novendorid\n");
	fprintf(fp, "set dpd_check_interval %u\n", cf->cfg_dpd_interval);
	fprintf(fp, "set dpd_maxfail %u\n", cf->cfg_dpd_maxfail);
	fprintf(fp, "set dpd_action %s\n", cf->cfg_flags & CFG_DPDRESTART ?
	    "restart" : "trap");
	fprintf(fp, "set maxchildren %u\n", cf->cfg_maxchildren);
	fprintf(fp, "set ikelifetime %s\n",
	    print_time(cf->cfg_ikelifetime, buf, sizeof(buf)));
	fprintf(fp, "set lifetime %s bytes %s\n",
	    print_time(cf->cfg_lifetime, buf, sizeof(buf)),
	    print_bytes(cf->cfg_lifebytes, buf2, sizeof(buf2)));
	TAILQ_FOREACH(pol, &cf->cfg_policies, pol_entry)
		print_policy(fp, pol, verbose);
}
