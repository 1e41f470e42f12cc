/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * sbin/iked/policy.c: which rule of an iked.conf governs an exchange or
 * answers an ACQUIRE.  The rules are indexed by peer (a tree of the
 * rules of one host, an array of the others); the answers must be
 * OpenBSD's evaluation of the file in order: the last matching rule,
 * or the first matching quick one.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <atf-c.h>
#include <libpfkey.h>

#include "iked.h"

#define PSK	"psk \"policy-test-only-0123456789\""

static struct iked_config *
conf(const char *text)
{
	struct iked_config	*cf;

	ATF_REQUIRE_EQ_MSG(parse_buffer("policy_test", text, strlen(text),
	    PARSE_NOINCLUDE | PARSE_NORESOLVE | PARSE_QUIET, &cf), 0,
	    "%s", text);
	ATF_REQUIRE(cf != NULL);
	return (cf);
}

static struct sockaddr *
addr4(struct sockaddr_storage *ss, const char *addr)
{
	struct sockaddr_in	*s = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	s->sin_port = htons(500);
	ATF_REQUIRE(inet_pton(AF_INET, addr, &s->sin_addr) == 1);
	return ((struct sockaddr *)ss);
}

/* The name of the rule for an exchange with peer, or "-". */
static const char *
match(struct iked_config *cf, int version, const char *peer, int initiator)
{
	struct sockaddr_storage	 l, p;
	struct iked_policy	*pol;

	pol = policy_match(cf, version, addr4(&l, "192.0.2.1"), addr4(&p, peer),
	    initiator);
	return (pol != NULL ? pol->pol_name : "-");
}

ATF_TC_WITHOUT_HEAD(last_match_and_quick);
ATF_TC_BODY(last_match_and_quick, tc)
{
	struct iked_config	*cf;

	cf = conf(
	    "ikev2 \"a\" passive esp from any to any peer 198.51.100.1 " PSK "\n"
	    "ikev2 \"any\" passive esp from any to any peer any " PSK "\n"
	    "ikev2 \"b\" passive esp from any to any peer 198.51.100.1 " PSK "\n"
	    "ikev2 \"net\" passive esp from any to any peer 198.51.100.0/24 "
	    PSK "\n"
	    "ikev2 \"q\" quick passive esp from any to any peer 198.51.100.2 "
	    PSK "\n"
	    "ikev2 \"after-q\" passive esp from any to any peer 198.51.100.2 "
	    PSK "\n"
	    "ikev1 \"v1\" passive esp from any to any peer 198.51.100.3 "
	    PSK "\n"
	    "ikev2 \"skip\" skip passive esp from any to any peer 198.51.100.4 "
	    PSK "\n"
	    "ikev2 \"act\" active esp from any to any peer 198.51.100.5 "
	    PSK "\n");
	/* One host's rules and the others interleave in file order. */
	ATF_CHECK_STREQ(match(cf, 2, "198.51.100.1", 0), "net");
	ATF_CHECK_STREQ(match(cf, 2, "198.51.100.2", 0), "q");
	ATF_CHECK_STREQ(match(cf, 2, "198.51.100.9", 0), "net");
	ATF_CHECK_STREQ(match(cf, 2, "203.0.113.7", 0), "any");
	/* Another version's rule does not match; either version does. */
	ATF_CHECK_STREQ(match(cf, 2, "198.51.100.3", 0), "net");
	ATF_CHECK_STREQ(match(cf, 1, "198.51.100.3", 0), "v1");
	ATF_CHECK_STREQ(match(cf, 0, "198.51.100.3", 0), "v1");
	/* A responder skips "skip" rules, an initiator passive ones. */
	ATF_CHECK_STREQ(match(cf, 2, "198.51.100.4", 0), "net");
	ATF_CHECK_STREQ(match(cf, 2, "198.51.100.5", 1), "act");
	ATF_CHECK_STREQ(match(cf, 2, "198.51.100.1", 1), "-");
	ATF_CHECK_STREQ(match(cf, 1, "203.0.113.7", 0), "-");
	config_free(cf);
}

/* The evaluation policy.c indexes, written out: every rule in order. */
static const char *
reference(struct iked_config *cf, int version, const char *peer,
    int initiator)
{
	struct sockaddr_storage	 ps;
	struct sockaddr		*p = addr4(&ps, peer);
	struct iked_policy	*pol, *found = NULL;
	const struct iked_addr	*a;

	TAILQ_FOREACH(pol, &cf->cfg_policies, pol_entry) {
		if (version != 0 && pol->pol_version != 0 &&
		    pol->pol_version != version)
			continue;
		if (initiator && (pol->pol_flags & POL_PASSIVE))
			continue;
		if (!initiator && (pol->pol_flags & POL_SKIP))
			continue;
		a = &pol->pol_peer;
		if ((a->addr_flags & ADDR_SET) &&
		    !(a->addr_flags & (ADDR_ANY | ADDR_DYNAMIC)) &&
		    !sa_inprefix(p, (const struct sockaddr *)&a->addr,
		    a->addr_mask))
			continue;
		found = pol;
		if (pol->pol_flags & POL_QUICK)
			break;
	}
	return (found != NULL ? found->pol_name : "-");
}

/*
 * Hundreds of rules, host rules of a few peers mixed with networks and
 * "any", some quick, of both versions, active and passive: each peer,
 * version and role gets the rule the file's order gives.
 */
ATF_TC_WITHOUT_HEAD(index_agrees_with_order);
ATF_TC_BODY(index_agrees_with_order, tc)
{
	struct iked_config	*cf;
	char			*text, peer[32];
	size_t			 size = 0;
	FILE			*fp;
	u_int			 i, seed = 12, n = 0;
	int			 version, init, host;

	ATF_REQUIRE((fp = open_memstream(&text, &size)) != NULL);
	for (i = 0; i < 600; i++) {
		seed = seed * 1103515245 + 12345;
		/* An active rule needs one peer: the others are passive. */
		host = (seed >> 20) % 8 > 1;
		fprintf(fp, "%s \"r%u\" %s%s esp from any to any peer ",
		    (seed >> 8) % 3 == 0 ? "ikev1" : (seed >> 8) % 3 == 1 ?
		    "ikev2" : "ike", i, (seed >> 12) % 17 == 0 ? "quick " : "",
		    !host || (seed >> 16) % 2 ? "passive" : "active");
		if (host)
			fprintf(fp, "198.51.100.%u", 1 + (seed >> 4) % 40);
		else if ((seed >> 20) % 8 == 1)
			fprintf(fp, "198.51.100.%u/28", ((seed >> 4) % 4) * 16);
		else
			fprintf(fp, "any");
		fprintf(fp, " " PSK "\n");
	}
	ATF_REQUIRE(fclose(fp) == 0);
	cf = conf(text);
	free(text);
	for (i = 0; i < 70; i++) {
		snprintf(peer, sizeof(peer), "198.51.100.%u", i);
		for (version = 0; version <= 2; version++)
			for (init = 0; init <= 1; init++) {
				ATF_CHECK_STREQ_MSG(match(cf, version, peer,
				    init), reference(cf, version, peer, init),
				    "peer %s version %d initiator %d", peer,
				    version, init);
				n++;
			}
	}
	ATF_CHECK_EQ(n, 70 * 3 * 2);
	config_free(cf);
}

/* An ACQUIRE is answered by an active rule whose flows cover it. */
ATF_TC_WITHOUT_HEAD(acquire_flows);
ATF_TC_BODY(acquire_flows, tc)
{
	struct iked_config	*cf;
	struct iked_spd		 spd;
	struct sockaddr_storage	 l, p;
	struct iked_policy	*pol;

	cf = conf(
	    "ikev2 \"wide\" active esp tunnel from 10.1.0.0/16 to 10.2.0.0/16 "
	    "peer 198.51.100.1 " PSK "\n"
	    "ikev2 \"narrow\" active esp tunnel from 10.1.1.0/24 to "
	    "10.2.1.0/24 peer 198.51.100.1 " PSK "\n"
	    "ikev2 \"resp\" passive esp tunnel from 10.1.0.0/16 to any "
	    "peer 198.51.100.1 " PSK "\n");
	memset(&spd, 0, sizeof(spd));
	spd.spd_dir = IPSEC_DIR_OUTBOUND;
	spd.spd_type = IPSEC_POLICY_IPSEC;
	addr4(&spd.spd_src, "10.1.1.0");
	addr4(&spd.spd_dst, "10.2.1.0");
	spd.spd_sprefix = 24;
	spd.spd_dprefix = 24;
	pol = policy_acquire(cf, &spd, addr4(&l, "192.0.2.1"),
	    addr4(&p, "198.51.100.1"));
	ATF_REQUIRE(pol != NULL);
	ATF_CHECK_STREQ(pol->pol_name, "narrow");
	addr4(&spd.spd_src, "10.1.2.0");
	addr4(&spd.spd_dst, "10.2.2.0");
	pol = policy_acquire(cf, &spd, addr4(&l, "192.0.2.1"),
	    addr4(&p, "198.51.100.1"));
	ATF_REQUIRE(pol != NULL);
	ATF_CHECK_STREQ(pol->pol_name, "wide");
	/* No active rule for another peer. */
	ATF_CHECK(policy_acquire(cf, &spd, addr4(&l, "192.0.2.1"),
	    addr4(&p, "198.51.100.2")) == NULL);
	config_free(cf);
}

ATF_TP_ADD_TCS(tp)
{
	log_init(1, LOG_DAEMON);
	ATF_TP_ADD_TC(tp, last_match_and_quick);
	ATF_TP_ADD_TC(tp, index_agrees_with_order);
	ATF_TP_ADD_TC(tp, acquire_flows);
	return (atf_no_error());
}
