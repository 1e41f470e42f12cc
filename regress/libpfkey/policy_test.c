/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ipsec_set_policy(), ipsec_dump_policy(), ipsec_get_policylen(): the
 * policy-string vectors of FreeBSD's lib/libipsec/test-policy.c, the
 * error each bad string gets, the buffer layout, and round trips.
 */

#include "libpfkey_test.h"

static char *
t_policy(const char *s)
{

	return (ipsec_set_policy(s, (int)strlen(s)));
}

/* Parse s and dump it back with delimiter " ". */
static char *
t_roundtrip(const char *s)
{
	char *buf, *out;

	buf = t_policy(s);
	ATF_REQUIRE_MSG(buf != NULL, "\"%s\": %s", s, ipsec_strerror());
	out = ipsec_dump_policy(buf, NULL);
	ATF_REQUIRE_MSG(out != NULL, "dump of \"%s\": %s", s,
	    ipsec_strerror());
	free(buf);
	return (out);
}

ATF_TC_WITHOUT_HEAD(freebsd_vectors_ok);
ATF_TC_BODY(freebsd_vectors_ok, tc)
{
	static const char *ok[] = {
		"out ipsec",
		"in entrust",
		"out entrust",
		"in ipsec ah/transport",
		"out ipsec ah/transport/",
		"in ipsec esp / transport / 10.0.0.1-10.0.0.2",
		"in ipsec esp/tunnel/::1-::2",
		"in ipsec esp/tunnel/::1-::2/require",
		"out ipsec ah/transport//use",
		"in ipsec ah/transport esp/tunnel/::1-::1",
		"in ipsec\n"
		    "ah/transport//use\n"
		    "esp/tunnel/::1-::2/require",
		"out ipsec\n"
		    "esp/transport/fec0::10-fec0::11/use\n"
		    "ah/transport//require",
		"out ipsec esp/transport/fec0::10-fec0::11/use",
		/* These two fail only at setsockopt(), not in the parser. */
		"out discard",
		"out none",
	};
	size_t i;
	char *buf;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		buf = t_policy(ok[i]);
		ATF_CHECK_MSG(buf != NULL, "\"%s\" failed: %s", ok[i],
		    ipsec_strerror());
		if (buf != NULL)
			ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_NO_ERROR);
		free(buf);
	}
}

ATF_TC_WITHOUT_HEAD(freebsd_vectors_error);
ATF_TC_BODY(freebsd_vectors_error, tc)
{
	static const struct {
		const char	*s;
		int		 error;
	} bad[] = {
		{ "must_error", EIPSEC_INVAL_DIR },
		{ "in ipsec must_error", EIPSEC_INVAL_PROTO },
		{ "out ipsec esp/must_error", EIPSEC_INVAL_MODE },
		{ "out ipsec esp", EIPSEC_FEW_ARGUMENTS },
		{ "in ipsec ah/tunnel", EIPSEC_INVAL_ADDRESS },
		{ "out ipsec ah/tunnel/", EIPSEC_INVAL_ADDRESS },
		{ "in ipsec esp/tunnel/10.0.0.1-::2",
		    EIPSEC_FAMILY_MISMATCH },
		{ "out ipsec ah/transport esp/use", EIPSEC_INVAL_MODE },
		{ "in ipsec ah/transport esp/tunnel", EIPSEC_INVAL_ADDRESS },
	};
	size_t i;
	char *buf;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf = t_policy(bad[i].s);
		ATF_CHECK_MSG(buf == NULL, "\"%s\" was accepted", bad[i].s);
		ATF_CHECK_MSG(__ipsec_errcode == bad[i].error,
		    "\"%s\": error %d (%s), want %d", bad[i].s,
		    __ipsec_errcode, ipsec_strerror(), bad[i].error);
		free(buf);
	}
}

ATF_TC_WITHOUT_HEAD(more_errors);
ATF_TC_BODY(more_errors, tc)
{
	static const struct {
		const char	*s;
		int		 error;
	} bad[] = {
		{ "", EIPSEC_FEW_ARGUMENTS },
		{ "   \n\t", EIPSEC_FEW_ARGUMENTS },
		{ "fwd ipsec", EIPSEC_INVAL_DIR },
		{ "any ipsec", EIPSEC_INVAL_DIR },
		{ "out drop", EIPSEC_INVAL_POLICY },
		{ "out discard esp/transport//require", EIPSEC_INVAL_POLICY },
		{ "out ipsec esp/", EIPSEC_FEW_ARGUMENTS },
		{ "out ipsec esp/ ah/transport", EIPSEC_FEW_ARGUMENTS },
		{ "out ipsec esp/transport//", EIPSEC_INVAL_LEVEL },
		{ "out ipsec esp/transport//sometimes", EIPSEC_INVAL_LEVEL },
		{ "out ipsec esp/transport//unique:0", EIPSEC_INVAL_LEVEL },
		{ "out ipsec esp/transport//unique:32768", EIPSEC_INVAL_LEVEL },
		{ "out ipsec esp/transport//unique:", EIPSEC_INVAL_LEVEL },
		{ "out ipsec esp/transport/require", EIPSEC_INVAL_ADDRESS },
		{ "out ipsec esp/tunnel/10.0.0.1/require",
		    EIPSEC_INVAL_ADDRESS },
		{ "out ipsec esp/tunnel/10.0.0.1-", EIPSEC_INVAL_ADDRESS },
		{ "out ipsec esp/tunnel/host.example-10.0.0.2",
		    EIPSEC_INVAL_ADDRESS },
		{ "out ipsec esp/tunnel/10.0.0.1-10.0.0.300",
		    EIPSEC_INVAL_ADDRESS },
		{ "out ipsec esp/tunnel/10.0.0.1-10.0.0.2/fast",
		    EIPSEC_INVAL_LEVEL },
		{ "out ipsec esp/transport//require foo", EIPSEC_INVAL_PROTO },
		{ "out ipsec esp/transport//require/", EIPSEC_INVAL_PROTO },
		{ "out ipsec ESP/transport", EIPSEC_INVAL_PROTO },
		{ "out ipsec esp/transport!", EIPSEC_INVAL_PROTO },
		/* me-any is for outbound, any-me for inbound policies. */
		{ "in ipsec esp/transport/me-any", EIPSEC_INVAL_DIR },
		{ "out ipsec esp/transport/any-me", EIPSEC_INVAL_DIR },
		{ "out ipsec esp/transport/me-me", EIPSEC_INVAL_ADDRESS },
		{ "out ipsec esp/tunnel/me-any", EIPSEC_INVAL_ADDRESS },
		{ "out ipsec esp/transport/10.0.0.1-any",
		    EIPSEC_INVAL_ADDRESS },
	};
	size_t i;
	char *buf;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf = t_policy(bad[i].s);
		ATF_CHECK_MSG(buf == NULL, "\"%s\" was accepted", bad[i].s);
		ATF_CHECK_MSG(__ipsec_errcode == bad[i].error,
		    "\"%s\": error %d (%s), want %d", bad[i].s,
		    __ipsec_errcode, ipsec_strerror(), bad[i].error);
		free(buf);
	}
	/* NULL and a negative length are refused, not read. */
	ATF_CHECK(ipsec_set_policy(NULL, 3) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	ATF_CHECK(ipsec_set_policy("out ipsec", -1) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
}

ATF_TC_WITHOUT_HEAD(strerror_text);
ATF_TC_BODY(strerror_text, tc)
{

	ATF_REQUIRE(t_policy("out ipsec esp") == NULL);
	ATF_CHECK_STREQ(ipsec_strerror(), "Too few arguments");
	ATF_REQUIRE(t_policy("in ipsec esp/tunnel/10.0.0.1-::2") == NULL);
	ATF_CHECK_STREQ(ipsec_strerror(), "Family mismatch");
	ATF_REQUIRE(t_policy("in ipsec ah/tunnel") == NULL);
	ATF_CHECK_STREQ(ipsec_strerror(), "Invalid address specification");
	ATF_REQUIRE(t_policy("out ipsec esp/transport//maybe") == NULL);
	ATF_CHECK_STREQ(ipsec_strerror(), "Invalid ipsec level");
	/* KAME's spelling, which scripts may match. */
	ATF_REQUIRE(t_policy("sideways ipsec") == NULL);
	ATF_CHECK_STREQ(ipsec_strerror(), "Invalid direciton");

	__ipsec_errcode = EIPSEC_NO_ERROR;
	ATF_CHECK_STREQ(ipsec_strerror(), "Success");
	__ipsec_errcode = 1000;
	ATF_CHECK_STREQ(ipsec_strerror(), "Unknown error");
	__ipsec_set_strerror("Connection refused");
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_SYSTEM_ERROR);
	ATF_CHECK_STREQ(ipsec_strerror(), "Connection refused");
}

/* The binary layout: header, then requests in bytes, unpadded. */
ATF_TC_WITHOUT_HEAD(layout);
ATF_TC_BODY(layout, tc)
{
	struct sadb_x_policy xpl;
	struct sadb_x_ipsecrequest req;
	struct sockaddr_in s4, d4;
	struct sockaddr_in6 d6;
	char *buf;
	size_t off;

	buf = t_policy("out ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:7 "
	    "ah/transport//require "
	    "ipcomp/tunnel/2001:db8::1-2001:db8::2/use");
	ATF_REQUIRE_MSG(buf != NULL, "%s", ipsec_strerror());
	memcpy(&xpl, buf, sizeof(xpl));
	ATF_CHECK_EQ(xpl.sadb_x_policy_exttype, SADB_X_EXT_POLICY);
	ATF_CHECK_EQ(xpl.sadb_x_policy_type, IPSEC_POLICY_IPSEC);
	ATF_CHECK_EQ(xpl.sadb_x_policy_dir, IPSEC_DIR_OUTBOUND);
	ATF_CHECK_EQ(xpl.sadb_x_policy_id, 0);
	ATF_CHECK_EQ(xpl.sadb_x_policy_scope, 0);
	ATF_CHECK_EQ(xpl.sadb_x_policy_priority, 0);
	/* 16 + (8 + 16 + 16) + 8 + (8 + 28 + 28) = 128 bytes. */
	ATF_CHECK_EQ(xpl.sadb_x_policy_len, 128 / 8);
	ATF_CHECK_EQ(ipsec_get_policylen(buf), 128);

	off = sizeof(xpl);
	memcpy(&req, buf + off, sizeof(req));
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_len, 8 + 16 + 16);
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_proto, IPPROTO_ESP);
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_mode, IPSEC_MODE_TUNNEL);
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_level, IPSEC_LEVEL_UNIQUE);
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_reqid, 7);
	memcpy(&s4, buf + off + 8, sizeof(s4));
	memcpy(&d4, buf + off + 8 + 16, sizeof(d4));
	ATF_CHECK_EQ(s4.sin_family, AF_INET);
	ATF_CHECK_EQ(s4.sin_port, 0);
	ATF_CHECK_EQ(ntohl(s4.sin_addr.s_addr), 0xc0000201);
	ATF_CHECK_EQ(ntohl(d4.sin_addr.s_addr), 0xc0000202);
	off += req.sadb_x_ipsecrequest_len;

	memcpy(&req, buf + off, sizeof(req));
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_len, 8);
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_proto, IPPROTO_AH);
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_mode, IPSEC_MODE_TRANSPORT);
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_level, IPSEC_LEVEL_REQUIRE);
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_reqid, 0);
	off += req.sadb_x_ipsecrequest_len;

	memcpy(&req, buf + off, sizeof(req));
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_len, 8 + 28 + 28);
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_proto, IPPROTO_IPCOMP);
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_level, IPSEC_LEVEL_USE);
	memcpy(&d6, buf + off + 8 + 28, sizeof(d6));
	ATF_CHECK_EQ(d6.sin6_family, AF_INET6);
	ATF_CHECK_EQ(d6.sin6_addr.s6_addr[15], 2);
	off += req.sadb_x_ipsecrequest_len;
	ATF_CHECK_EQ(off, 128);
	free(buf);

	/* Omitted level = default; bare direction = discard. */
	buf = t_policy("in ipsec esp/transport");
	ATF_REQUIRE(buf != NULL);
	memcpy(&req, buf + sizeof(xpl), sizeof(req));
	ATF_CHECK_EQ(req.sadb_x_ipsecrequest_level, IPSEC_LEVEL_DEFAULT);
	free(buf);
	buf = t_policy("out");
	ATF_REQUIRE(buf != NULL);
	memcpy(&xpl, buf, sizeof(xpl));
	ATF_CHECK_EQ(xpl.sadb_x_policy_type, IPSEC_POLICY_DISCARD);
	ATF_CHECK_EQ(xpl.sadb_x_policy_dir, IPSEC_DIR_OUTBOUND);
	ATF_CHECK_EQ(xpl.sadb_x_policy_len, 2);
	free(buf);

	ATF_CHECK_EQ(ipsec_get_policylen(NULL), -1);
}

/* The length argument bounds the string; a NUL ends it earlier. */
ATF_TC_WITHOUT_HEAD(length_argument);
ATF_TC_BODY(length_argument, tc)
{
	const char *s = "out ipsec esp/transport//require garbage";
	char *buf, *out;

	buf = ipsec_set_policy(s,
	    (int)strlen("out ipsec esp/transport//require"));
	ATF_REQUIRE_MSG(buf != NULL, "%s", ipsec_strerror());
	out = ipsec_dump_policy(buf, NULL);
	ATF_CHECK_STREQ(out, "out ipsec esp/transport//require");
	free(out);
	free(buf);

	buf = ipsec_set_policy("in discard\0 junk", 100);
	ATF_REQUIRE(buf != NULL);
	free(buf);

	/* Cut in the middle of a word: "ipse" is no action. */
	ATF_CHECK(ipsec_set_policy("out ipsec", 8) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_POLICY);
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	static const struct {
		const char	*in;
		const char	*out;
	} rt[] = {
		{ "in discard", "in discard" },
		{ "out none", "out none" },
		{ "in entrust", "in entrust" },
		{ "out bypass", "out bypass" },
		{ "out ipsec", "out ipsec" },
		{ "in", "in discard" },
		{ "out", "out discard" },
		{ "out ipsec esp/transport//require",
		    "out ipsec esp/transport//require" },
		{ "out ipsec esp/transport",
		    "out ipsec esp/transport//default" },
		{ "out ipsec ah/transport/",
		    "out ipsec ah/transport//default" },
		{ "out ipsec esp/transport/me-any/use",
		    "out ipsec esp/transport//use" },
		{ "in ipsec esp/transport/any-me",
		    "in ipsec esp/transport//default" },
		{ "out ipsec esp/tunnel/66.22.66.22-44.33.44.33/require",
		    "out ipsec esp/tunnel/66.22.66.22-44.33.44.33/require" },
		{ "in ipsec esp / tunnel / 10.0.0.1 - 10.0.0.2 / use",
		    "in ipsec esp/tunnel/10.0.0.1-10.0.0.2/use" },
		{ "in ipsec esp/tunnel/2001:db8:23::2-2001:db8:34::2/require",
		    "in ipsec esp/tunnel/2001:db8:23::2-2001:db8:34::2/"
		    "require" },
		{ "out ipsec esp/tunnel/::1-::2/",
		    "out ipsec esp/tunnel/::1-::2/default" },
		{ "out ipsec esp/transport/fec0::10-fec0::11/use",
		    "out ipsec esp/transport/fec0::10-fec0::11/use" },
		/* Bundles, outermost last; newlines are blanks. */
		{ "out ipsec esp/transport//require ah/transport//require",
		    "out ipsec esp/transport//require ah/transport//require" },
		{ "in ipsec\nah/transport//use\nesp/tunnel/::1-::2/require\n",
		    "in ipsec ah/transport//use esp/tunnel/::1-::2/require" },
		{ "out ipsec ipcomp/tunnel/192.0.2.1-192.0.2.2/use "
		    "esp/tunnel/192.0.2.1-192.0.2.2/require "
		    "ah/transport//unique",
		    "out ipsec ipcomp/tunnel/192.0.2.1-192.0.2.2/use "
		    "esp/tunnel/192.0.2.1-192.0.2.2/require "
		    "ah/transport//unique" },
		{ "out ipsec tcp/transport//require",
		    "out ipsec tcp/transport//require" },
		/* Request ids: ':' in the manual range, '#' above it. */
		{ "out ipsec esp/tunnel/10.0.34.4-10.0.23.2/unique:100",
		    "out ipsec esp/tunnel/10.0.34.4-10.0.23.2/unique:100" },
		{ "out ipsec esp/transport//unique:1",
		    "out ipsec esp/transport//unique:1" },
		{ "out ipsec esp/transport//unique:16383",
		    "out ipsec esp/transport//unique:16383" },
		{ "out ipsec esp/transport//unique:16384",
		    "out ipsec esp/transport//unique#16384" },
		{ "out ipsec esp/transport//unique:32767",
		    "out ipsec esp/transport//unique#32767" },
		{ "out ipsec esp/transport//unique:007",
		    "out ipsec esp/transport//unique:7" },
		/* Numeric forms getaddrinfo(3) accepts are normalised. */
		{ "out ipsec esp/tunnel/0:0::0:1-2001:DB8::A/require",
		    "out ipsec esp/tunnel/::1-2001:db8::a/require" },
	};
	size_t i;
	char *out;

	for (i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
		out = t_roundtrip(rt[i].in);
		ATF_CHECK_MSG(strcmp(out, rt[i].out) == 0,
		    "\"%s\" -> \"%s\", want \"%s\"", rt[i].in, out,
		    rt[i].out);
		free(out);
	}
}

/* Dump, parse the dump, dump again: a fixed point. */
ATF_TC_WITHOUT_HEAD(dump_reparses);
ATF_TC_BODY(dump_reparses, tc)
{
	static const char *pol[] = {
		"out ipsec esp/tunnel/192.0.2.1-198.51.100.2/unique:5 "
		    "ah/transport//require",
		"in ipsec ipcomp/tunnel/2001:db8::1-2001:db8::2/use "
		    "esp/transport//default",
		"out discard",
	};
	char *b1, *b2, *d1, *d2;
	size_t i;

	for (i = 0; i < sizeof(pol) / sizeof(pol[0]); i++) {
		b1 = t_policy(pol[i]);
		ATF_REQUIRE(b1 != NULL);
		d1 = ipsec_dump_policy(b1, "\n\t");
		ATF_REQUIRE(d1 != NULL);
		b2 = t_policy(d1);
		ATF_REQUIRE_MSG(b2 != NULL, "\"%s\": %s", d1, ipsec_strerror());
		ATF_CHECK_EQ(ipsec_get_policylen(b1), ipsec_get_policylen(b2));
		ATF_CHECK(memcmp(b1, b2, ipsec_get_policylen(b1)) == 0);
		d2 = ipsec_dump_policy(b2, "\n\t");
		ATF_CHECK_STREQ(d1, d2);
		free(b1);
		free(b2);
		free(d1);
		free(d2);
	}
}

ATF_TC_WITHOUT_HEAD(dump_delimiter);
ATF_TC_BODY(dump_delimiter, tc)
{
	char *buf, *out;

	buf = t_policy("out ipsec esp/tunnel/66.22.66.22-44.33.44.33/require "
	    "ah/transport//use");
	ATF_REQUIRE(buf != NULL);
	out = ipsec_dump_policy(buf, "\n\t");
	ATF_CHECK_STREQ(out, "out ipsec\n\t"
	    "esp/tunnel/66.22.66.22-44.33.44.33/require\n\t"
	    "ah/transport//use");
	free(out);
	out = ipsec_dump_policy(buf, "");
	ATF_CHECK_STREQ(out, "out ipsec"
	    "esp/tunnel/66.22.66.22-44.33.44.33/require"
	    "ah/transport//use");
	free(out);
	free(buf);
}

/* Malformed buffers are refused with the right code, never overrun. */
ATF_TC_WITHOUT_HEAD(dump_bad_buffers);
ATF_TC_BODY(dump_bad_buffers, tc)
{
	uint64_t raw[16];
	struct sadb_x_policy *xpl;
	struct sadb_x_ipsecrequest *req;
	struct sockaddr_in6 s6;
	char *buf;

	buf = t_policy("out ipsec esp/tunnel/10.1.1.1-10.2.2.2/require");
	ATF_REQUIRE(buf != NULL);
	memcpy(raw, buf, 56);
	free(buf);
	xpl = (struct sadb_x_policy *)(void *)raw;
	req = (struct sadb_x_ipsecrequest *)(void *)(xpl + 1);

	ATF_CHECK(ipsec_dump_policy(NULL, NULL) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);

	xpl->sadb_x_policy_exttype = SADB_X_EXT_SA2;
	ATF_CHECK(ipsec_dump_policy((char *)raw, NULL) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_EXTTYPE);
	xpl->sadb_x_policy_exttype = SADB_X_EXT_POLICY;

	xpl->sadb_x_policy_dir = IPSEC_DIR_MAX;
	ATF_CHECK(ipsec_dump_policy((char *)raw, NULL) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_DIR);
	xpl->sadb_x_policy_dir = IPSEC_DIR_OUTBOUND;

	xpl->sadb_x_policy_type = 9;
	ATF_CHECK(ipsec_dump_policy((char *)raw, NULL) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_POLICY);
	xpl->sadb_x_policy_type = IPSEC_POLICY_IPSEC;

	/* A request longer than the policy. */
	req->sadb_x_ipsecrequest_len = 48;
	ATF_CHECK(ipsec_dump_policy((char *)raw, NULL) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SADBMSG);
	/* A zero-length request (KAME looped forever). */
	req->sadb_x_ipsecrequest_len = 0;
	ATF_CHECK(ipsec_dump_policy((char *)raw, NULL) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SADBMSG);
	/* Room for addresses that do not add up. */
	req->sadb_x_ipsecrequest_len = 32;
	xpl->sadb_x_policy_len = 6;
	ATF_CHECK(ipsec_dump_policy((char *)raw, NULL) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ADDRESS);
	xpl->sadb_x_policy_len = 7;
	req->sadb_x_ipsecrequest_len = 40;

	req->sadb_x_ipsecrequest_proto = IPPROTO_UDP;
	ATF_CHECK(ipsec_dump_policy((char *)raw, NULL) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_PROTO);
	req->sadb_x_ipsecrequest_proto = IPPROTO_ESP;
	req->sadb_x_ipsecrequest_mode = 7;
	ATF_CHECK(ipsec_dump_policy((char *)raw, NULL) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_MODE);
	req->sadb_x_ipsecrequest_mode = IPSEC_MODE_ANY;
	req->sadb_x_ipsecrequest_level = 4;
	ATF_CHECK(ipsec_dump_policy((char *)raw, NULL) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_LEVEL);
	req->sadb_x_ipsecrequest_level = IPSEC_LEVEL_REQUIRE;

	/* Mode "any" only comes from the kernel; it prints. */
	buf = ipsec_dump_policy((char *)raw, NULL);
	ATF_CHECK_STREQ(buf, "out ipsec esp/any/10.1.1.1-10.2.2.2/require");
	free(buf);

	/* An IPv6 sockaddr where an IPv4 one fits no more. */
	s6 = t_sin6("::1", 0);
	memcpy((char *)(req + 1) + 16, &s6, 2);
	ATF_CHECK(ipsec_dump_policy((char *)raw, NULL) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ADDRESS);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, freebsd_vectors_ok);
	ATF_TP_ADD_TC(tp, freebsd_vectors_error);
	ATF_TP_ADD_TC(tp, more_errors);
	ATF_TP_ADD_TC(tp, strerror_text);
	ATF_TP_ADD_TC(tp, layout);
	ATF_TP_ADD_TC(tp, length_argument);
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, dump_reparses);
	ATF_TP_ADD_TC(tp, dump_delimiter);
	ATF_TP_ADD_TC(tp, dump_bad_buffers);
	return (atf_no_error());
}
