/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * iked's privilege separation, in process: the configuration the parent
 * sends the engine (sbin/iked/cfgmsg.c) arrives whole and equal, and a
 * broken sequence is refused; the parent's check of the engine's PF_KEY
 * messages (sbin/iked/pfkey_filter.c) lets through what iked sends and
 * refuses what would open the SPD, on messages built by libpfkey.
 * And the engine's requests to the ca process (sbin/iked/auth.c) over a
 * real socket pair, answered by a forked process as iked's would.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <signal.h>

#include <atf-c.h>
#include <event2/event.h>
#include <libpfkey.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <netipsec/ipsec.h>

#include "iked.h"
#include "ikev2.h"

static const char conftext[] =
    "set passive\n"
    "set ikelifetime 12h\n"
    "set lifetime 2h bytes 2G\n"
    "set fragmentation\n"
    "set dpd_check_interval 7\n"
    "net = \"10.1.0.0/16\"\n"
    "ikev2 \"gw\" active esp tunnel from $net to 10.2.0.0/16, "
    "from 10.3.0.0/16 to any local 198.51.100.1 peer 203.0.113.1 "
    "ikesa enc aes-256-gcm prf hmac-sha2-384 group ecp384 "
    "childsa enc chacha20-poly1305 group curve448 esn "
    "srcid gw1.example.com dstid user@example.com "
    "ikelifetime 90m lifetime 1d bytes 512K psk \"gw secret\"\n"
    "ikev2 \"v6\" esp transport inet6 proto { tcp, udp } "
    "from 2001:db8::1 port 500 to 2001:db8::/64 "
    "peer 2001:db8::2 psk 0x0102\n"
    "ikev1 \"legacy\" active ah transport install-policies "
    "from 192.0.2.1 to 192.0.2.2 peer 192.0.2.2 "
    "main enc 3des auth hmac-sha1 group modp1024 lifetime 8h "
    "quick auth hmac-sha2-512 group none srcid 192.0.2.1 psk \"legacy\"\n"
    "ike \"both\" esp from 192.0.2.1 to 192.0.2.9 peer 192.0.2.9 "
    "psk \"both ways\"\n"
    "ikev2 quick natt generate-policy from any to any peer any "
    "psk \"anyone\"\n";

static struct iked_config *
conf(const char *text)
{
	struct iked_config	*cf;

	ATF_REQUIRE_EQ(parse_buffer("privsep_test", text, strlen(text),
	    PARSE_NOINCLUDE | PARSE_NORESOLVE | PARSE_QUIET, &cf), 0);
	ATF_REQUIRE(cf != NULL);
	return (cf);
}

/* The canonical text of cf, with its PSKs (iked -nvv). */
static char *
text(const struct iked_config *cf)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	ATF_REQUIRE((fp = open_memstream(&buf, &len)) != NULL);
	print_config(fp, cf, 2);
	ATF_REQUIRE(fclose(fp) == 0);
	return (buf);
}

/* Both ends of an imsg channel. */
struct chan {
	struct imsgbuf	 tx, rx;
};

static void
chan_open(struct chan *c)
{
	int	 sv[2];

	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	imsg_init(&c->tx, sv[0]);
	imsg_init(&c->rx, sv[1]);
}

static void
chan_close(struct chan *c)
{
	close(c->tx.fd);
	close(c->rx.fd);
	imsg_clear(&c->tx);
	imsg_clear(&c->rx);
}

/*
 * Everything queued on tx, through cfgmsg_recv(): 1 and *cfp when a
 * configuration came whole, -1 at the first refusal, 0 if neither.
 */
static int
chan_recv(struct chan *c, struct iked_config **cfp)
{
	struct cfgmsg_state	 cs;
	struct imsg		 im;
	int			 r, ret = 0;

	memset(&cs, 0, sizeof(cs));
	*cfp = NULL;
	while (!TAILQ_EMPTY(&c->tx.out)) {
		ATF_REQUIRE(imsg_flush(&c->tx) != -1);
		ATF_REQUIRE(imsg_read(&c->rx) > 0);
		while ((r = imsg_get(&c->rx, &im)) == 1) {
			if (ret == 0)
				ret = cfgmsg_recv(&cs, &im, cfp);
			imsg_free(&im);
		}
		ATF_REQUIRE(r == 0);
	}
	cfgmsg_abort(&cs);
	return (ret);
}

ATF_TC_WITHOUT_HEAD(cfgmsg_roundtrip);
ATF_TC_BODY(cfgmsg_roundtrip, tc)
{
	struct iked_config	*cf, *got;
	struct chan		 c;
	char			*want, *have;

	cf = conf(conftext);
	want = text(cf);
	chan_open(&c);
	ATF_REQUIRE_EQ(cfgmsg_send(&c.tx, cf), 0);
	ATF_REQUIRE_EQ(chan_recv(&c, &got), 1);
	ATF_REQUIRE(got != NULL);
	have = text(got);
	ATF_CHECK_STREQ(have, want);
	ATF_CHECK_EQ(got->cfg_npolicies, 5);
	ATF_CHECK(strstr(have, "psk 0x67772073656372657") != NULL);
	free(want);
	free(have);
	config_free(cf);
	config_free(got);
	chan_close(&c);
}

/* An empty configuration ("ikectl reset all", a file of comments). */
ATF_TC_WITHOUT_HEAD(cfgmsg_empty);
ATF_TC_BODY(cfgmsg_empty, tc)
{
	struct iked_config	*cf, *got;
	struct chan		 c;

	cf = conf("# nothing\n");
	chan_open(&c);
	ATF_REQUIRE_EQ(cfgmsg_send(&c.tx, cf), 0);
	ATF_REQUIRE_EQ(chan_recv(&c, &got), 1);
	ATF_CHECK_EQ(got->cfg_npolicies, 0);
	ATF_CHECK(TAILQ_EMPTY(&got->cfg_policies));
	config_free(cf);
	config_free(got);
	chan_close(&c);
}

/* The messages of a configuration, as the parent would send them. */
struct seq {
	uint32_t	 type[64];
	size_t		 len[64];
	uint8_t		*data[64];
	u_int		 n;
};

static void
seq_of(struct seq *s, const char *conftxt)
{
	struct iked_config	*cf;
	struct chan		 c;
	struct imsg		 im;
	int			 r;

	memset(s, 0, sizeof(*s));
	cf = conf(conftxt);
	chan_open(&c);
	ATF_REQUIRE_EQ(cfgmsg_send(&c.tx, cf), 0);
	while (!TAILQ_EMPTY(&c.tx.out)) {
		ATF_REQUIRE(imsg_flush(&c.tx) != -1);
		ATF_REQUIRE(imsg_read(&c.rx) > 0);
		while ((r = imsg_get(&c.rx, &im)) == 1) {
			ATF_REQUIRE(s->n < 64);
			s->type[s->n] = im.hdr.type;
			s->len[s->n] = imsg_datalen(&im);
			s->data[s->n] = malloc(s->len[s->n] + 1);
			ATF_REQUIRE(s->data[s->n] != NULL);
			if (s->len[s->n] > 0)
				memcpy(s->data[s->n], im.data, s->len[s->n]);
			s->n++;
			imsg_free(&im);
		}
	}
	config_free(cf);
	chan_close(&c);
}

static void
seq_free(struct seq *s)
{
	u_int	 i;

	for (i = 0; i < s->n; i++)
		free(s->data[i]);
}

/* Feed s, with message skip left out, or message bad changed by fn. */
static int
seq_feed(const struct seq *s, u_int skip, u_int bad,
    void (*fn)(uint8_t *, size_t *))
{
	struct cfgmsg_state	 cs;
	struct iked_config	*cf = NULL;
	struct imsg		 im;
	uint8_t			 buf[IMSG_MAXDATA];
	size_t			 len;
	u_int			 i;
	int			 r = 0;

	memset(&cs, 0, sizeof(cs));
	for (i = 0; i < s->n && r == 0; i++) {
		if (i == skip)
			continue;
		len = s->len[i];
		memcpy(buf, s->data[i], len);
		if (i == bad)
			fn(buf, &len);
		memset(&im, 0, sizeof(im));
		im.hdr.type = s->type[i];
		im.hdr.len = (uint16_t)(IMSG_HDRLEN + len);
		im.data = buf;
		im.fd = -1;
		r = cfgmsg_recv(&cs, &im, &cf);
	}
	cfgmsg_abort(&cs);
	config_free(cf);
	return (r);
}

static void
truncate1(uint8_t *buf, size_t *len)
{
	(void)buf;
	(*len)--;
}

static void
lengthen(uint8_t *buf, size_t *len)
{
	buf[(*len)++] = 'x';
}

static void
trash(uint8_t *buf, size_t *len)
{
	memset(buf, 0xff, *len);
}

ATF_TC_WITHOUT_HEAD(cfgmsg_broken);
ATF_TC_BODY(cfgmsg_broken, tc)
{
	struct seq	 s;
	u_int		 i;

	seq_of(&s, conftext);
	ATF_REQUIRE(s.n > 5);
	ATF_REQUIRE_EQ(s.type[0], IMSG_CFG_START);
	ATF_REQUIRE_EQ(s.type[s.n - 1], IMSG_CFG_END);
	/* Whole, it is taken. */
	ATF_CHECK_EQ(seq_feed(&s, s.n, s.n, NULL), 1);
	/*
	 * Any message left out, any one shorter, longer or garbage: no
	 * configuration (without the last, it is still to come).
	 */
	for (i = 0; i < s.n; i++) {
		ATF_CHECK_EQ_MSG(seq_feed(&s, i, s.n, NULL),
		    i == s.n - 1 ? 0 : -1,
		    "message %u (type %u) left out", i, s.type[i]);
		if (s.len[i] > 0)
			ATF_CHECK_EQ_MSG(seq_feed(&s, s.n, i, truncate1), -1,
			    "message %u (type %u) one byte short", i,
			    s.type[i]);
		ATF_CHECK_EQ_MSG(seq_feed(&s, s.n, i, lengthen), -1,
		    "message %u (type %u) one byte long", i, s.type[i]);
		if (s.len[i] > 0)
			ATF_CHECK_EQ_MSG(seq_feed(&s, s.n, i, trash), -1,
			    "message %u (type %u) of 0xff bytes", i,
			    s.type[i]);
	}
	seq_free(&s);
}

/* A PF_KEY message as libpfkey builds it: what send() puts on so. */
struct pmsg {
	uint8_t		 buf[4096];
	size_t		 len;
};

static int	pk_sv[2] = { -1, -1 };

static int
pk_sock(void)
{
	if (pk_sv[0] == -1)
		ATF_REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pk_sv) == 0);
	return (pk_sv[0]);
}

static void
pk_take(struct pmsg *m, int sent)
{
	ssize_t	 n;

	ATF_REQUIRE_MSG(sent > 0, "libpfkey: %s", ipsec_strerror());
	n = recv(pk_sv[1], m->buf, sizeof(m->buf), 0);
	ATF_REQUIRE(n > 0);
	m->len = (size_t)n;
}

static struct sockaddr *
sin4(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in	*s = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	ATF_REQUIRE(inet_pton(AF_INET, a, &s->sin_addr) == 1);
	return ((struct sockaddr *)ss);
}

/* X_SPDUPDATE of 192.0.2.1 -> .2 with policy text pol. */
static void
pk_spd(struct pmsg *m, const char *pol, int update)
{
	struct sockaddr_storage	 s, d;
	char			*buf;

	buf = ipsec_set_policy(pol, (int)strlen(pol));
	ATF_REQUIRE_MSG(buf != NULL, "%s: %s", pol, ipsec_strerror());
	pk_take(m, update ? pfkey_send_spdupdate(pk_sock(),
	    sin4(&s, "192.0.2.1"), 32, sin4(&d, "192.0.2.2"), 32, 255, buf,
	    ipsec_get_policylen(buf), 1) : pfkey_send_spdadd(pk_sock(),
	    sin4(&s, "192.0.2.1"), 32, sin4(&d, "192.0.2.2"), 32, 255, buf,
	    ipsec_get_policylen(buf), 1));
	free(buf);
}

ATF_TC_WITHOUT_HEAD(filter_allows);
ATF_TC_BODY(filter_allows, tc)
{
	struct pfkey_send_sa_args	 a;
	struct sockaddr_storage		 s, d;
	struct pfkey_ids		*ids;
	struct pmsg			 m;
	uint8_t				 key[36];
	struct sadb_msg			 acq;
	uint32_t			 me = (uint32_t)getpid();

	ATF_REQUIRE((ids = pfkey_ids_new()) != NULL);
	pk_take(&m, pfkey_send_register(pk_sock(), SADB_SATYPE_ESP));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);
	pk_take(&m, pfkey_send_spddump(pk_sock()));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);
	pk_take(&m, pfkey_send_getspi(pk_sock(), SADB_SATYPE_ESP,
	    IPSEC_MODE_TRANSPORT, sin4(&s, "192.0.2.2"), sin4(&d, "192.0.2.1"),
	    0, 0, 0, 7));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);

	memset(&a, 0, sizeof(a));
	memset(key, 0x5a, sizeof(key));
	a.so = pk_sock();
	a.satype = SADB_SATYPE_ESP;
	a.mode = IPSEC_MODE_TRANSPORT;
	a.src = sin4(&s, "192.0.2.2");
	a.dst = sin4(&d, "192.0.2.1");
	a.spi = htonl(0x1000);
	a.wsize = 8;
	a.keymat = (const char *)key;
	a.e_type = SADB_X_EALG_AESGCM16;
	a.e_keylen = 20;
	a.seq = 7;
	pk_take(&m, pfkey_send_update2(&a));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);
	pk_take(&m, pfkey_send_add2(&a));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);
	pk_take(&m, pfkey_send_delete(pk_sock(), SADB_SATYPE_ESP,
	    IPSEC_MODE_ANY, sin4(&s, "192.0.2.2"), sin4(&d, "192.0.2.1"),
	    htonl(0x1000)));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);

	pk_spd(&m, "out ipsec esp/transport//require", 1);
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);
	pk_spd(&m, "in ipsec esp/tunnel/192.0.2.2-192.0.2.1/unique", 0);
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);

	/* A child's IPComp pair, and IPComp under ESP in a policy. */
	pk_take(&m, pfkey_send_getspi(pk_sock(), SADB_X_SATYPE_IPCOMP,
	    IPSEC_MODE_TRANSPORT, sin4(&s, "192.0.2.2"), sin4(&d, "192.0.2.1"),
	    0x100, 0xffff, 0, 8));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);
	memset(&a, 0, sizeof(a));
	a.so = pk_sock();
	a.satype = SADB_X_SATYPE_IPCOMP;
	a.mode = IPSEC_MODE_TRANSPORT;
	a.src = sin4(&s, "192.0.2.2");
	a.dst = sin4(&d, "192.0.2.1");
	a.spi = htonl(0x2000);
	a.e_type = SADB_X_CALG_DEFLATE;
	a.seq = 8;
	pk_take(&m, pfkey_send_update2(&a));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);
	pk_take(&m, pfkey_send_delete(pk_sock(), SADB_X_SATYPE_IPCOMP,
	    IPSEC_MODE_ANY, sin4(&s, "192.0.2.2"), sin4(&d, "192.0.2.1"),
	    htonl(0x2000)));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);
	pk_spd(&m, "out ipsec ipcomp/transport//use esp/transport//require", 1);
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);

	/* A failed negotiation (RFC 2367 3.1.6), as kernel.c sends it. */
	memset(&acq, 0, sizeof(acq));
	acq.sadb_msg_version = PF_KEY_V2;
	acq.sadb_msg_type = SADB_ACQUIRE;
	acq.sadb_msg_satype = SADB_SATYPE_ESP;
	acq.sadb_msg_errno = ETIMEDOUT;
	acq.sadb_msg_len = PFKEY_UNIT64(sizeof(acq));
	acq.sadb_msg_pid = me;
	ATF_CHECK_EQ(pfkey_filter(&acq, sizeof(acq), me, ids), 0);
	pfkey_ids_free(ids);
}

/* Set the policy id of an X_SPD* message, and its pid. */
static void
pk_setid(struct pmsg *m, uint32_t id, uint32_t pid)
{
	caddr_t			 mhp[SADB_EXT_MAX + 1];
	struct sadb_x_policy	*xpl;
	struct sadb_msg		*msg = (struct sadb_msg *)(void *)m->buf;

	ATF_REQUIRE(pfkey_align(msg, mhp) == 0);
	xpl = (struct sadb_x_policy *)(void *)mhp[SADB_X_EXT_POLICY];
	ATF_REQUIRE(xpl != NULL);
	xpl->sadb_x_policy_id = id;
	msg->sadb_msg_pid = pid;
}

ATF_TC_WITHOUT_HEAD(filter_refuses);
ATF_TC_BODY(filter_refuses, tc)
{
	struct sockaddr_storage	 s, d;
	struct pfkey_ids	*ids;
	struct pmsg		 m, reply;
	static const char *const open[] = {
		"out bypass", "in bypass", "out none", "out discard",
		"out ipsec esp/transport//use",
		"out ipsec esp/transport//default",
		"in ipsec esp/transport//require ah/transport//use",
		"out ipsec ipcomp/transport//require",
		"out ipsec ipcomp/transport//use",
	};
	static const uint8_t scopes[] = {
		IPSEC_POLICYSCOPE_IFNET, IPSEC_POLICYSCOPE_PCB
	};
	caddr_t			 mhp[SADB_EXT_MAX + 1];
	struct sadb_x_policy	*xpl;
	uint32_t		 me = (uint32_t)getpid();
	size_t			 i;

	ATF_REQUIRE((ids = pfkey_ids_new()) != NULL);
	/* What empties the SAD or the SPD, or reads every key. */
	pk_take(&m, pfkey_send_flush(pk_sock(), SADB_SATYPE_UNSPEC));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), EPERM);
	pk_take(&m, pfkey_send_spdflush(pk_sock()));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), EPERM);
	pk_take(&m, pfkey_send_dump(pk_sock(), SADB_SATYPE_UNSPEC));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), EPERM);
	pk_take(&m, pfkey_send_promisc_toggle(pk_sock(), 1));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), EPERM);
	pk_take(&m, pfkey_send_register(pk_sock(), SADB_X_SATYPE_IPCOMP));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), EPERM);
	pk_take(&m, pfkey_send_getspi(pk_sock(), SADB_X_SATYPE_TCPSIGNATURE,
	    IPSEC_MODE_TRANSPORT, sin4(&s, "192.0.2.2"), sin4(&d, "192.0.2.1"),
	    0, 0, 0, 7));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), EPERM);

	/* A policy that would let cleartext through, or none. */
	for (i = 0; i < sizeof(open) / sizeof(open[0]); i++) {
		pk_spd(&m, open[i], i % 2);
		ATF_CHECK_EQ_MSG(pfkey_filter(m.buf, m.len, me, ids), EPERM,
		    "%s", open[i]);
	}

	/* A good policy, but of a socket's or an interface's scope. */
	for (i = 0; i < sizeof(scopes); i++) {
		pk_spd(&m, "out ipsec esp/transport//require", 1);
		ATF_REQUIRE(pfkey_align((struct sadb_msg *)(void *)m.buf,
		    mhp) == 0);
		xpl = (struct sadb_x_policy *)(void *)mhp[SADB_X_EXT_POLICY];
		ATF_REQUIRE(xpl != NULL);
		xpl->sadb_x_policy_scope = IPSEC_POLICYSCOPE_GLOBAL;
		ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);
		xpl->sadb_x_policy_scope = scopes[i];
		ATF_CHECK_EQ_MSG(pfkey_filter(m.buf, m.len, me, ids), EPERM,
		    "scope %u", scopes[i]);
	}

	/* A good request in another process's name. */
	pk_take(&m, pfkey_send_getspi(pk_sock(), SADB_SATYPE_ESP,
	    IPSEC_MODE_TRANSPORT, sin4(&s, "192.0.2.2"), sin4(&d, "192.0.2.1"),
	    0, 0, 0, 7));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me + 1, ids), EPERM);

	/* Deleting the admin's policy; then one the engine put in. */
	pk_take(&m, pfkey_send_spddelete2(pk_sock(), 42));
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), EPERM);
	pk_spd(&reply, "out ipsec esp/transport//require", 1);
	pk_setid(&reply, 42, 4242);
	pfkey_filter_learn(reply.buf, reply.len, 4241, ids);	/* not its */
	ATF_CHECK_EQ(pfkey_ids_count(ids), 0);
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), EPERM);
	pfkey_filter_learn(reply.buf, reply.len, 4242, ids);
	ATF_CHECK_EQ(pfkey_ids_count(ids), 1);
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), 0);
	/* Gone (by anyone): refused again. */
	pfkey_filter_learn(m.buf, m.len, 4242, ids);
	ATF_CHECK_EQ(pfkey_ids_count(ids), 0);
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), EPERM);

	/* Malformed: short, a length that lies, a wrong version. */
	pk_take(&m, pfkey_send_spddump(pk_sock()));
	ATF_CHECK_EQ(pfkey_filter(m.buf, 8, me, ids), EINVAL);
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len + 8, me, ids), EINVAL);
	((struct sadb_msg *)(void *)m.buf)->sadb_msg_version = 1;
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), EINVAL);
	pk_spd(&m, "out ipsec esp/transport//require", 1);
	m.buf[m.len - 1] ^= 0xff;
	((struct sadb_msg *)(void *)m.buf)->sadb_msg_len++;
	ATF_CHECK_EQ(pfkey_filter(m.buf, m.len, me, ids), EINVAL);
	pfkey_ids_free(ids);
}


/*
 * An iked directory in dir: a self-signed P-256 certificate for
 * "x.test" as the CA and as ours (certs/x.test.crt), its key.
 */
static void
auth_mkdir(const char *dir)
{
	EVP_PKEY	*pk;
	X509		*x;
	X509_NAME	*n;
	X509_EXTENSION	*ext;
	FILE		*fp;
	char		 path[256];
	const char	*sub[] = { "ca", "certs", "private" };
	size_t		 i;

	ATF_REQUIRE(mkdir(dir, 0755) == 0);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub[i]);
		ATF_REQUIRE(mkdir(path, 0700) == 0);
	}
	ATF_REQUIRE((pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) !=
	    NULL);
	ATF_REQUIRE((x = X509_new()) != NULL);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"x.test", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, pk);
	/* An FQDN ID must be a subjectAltName. */
	if ((ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
	    "DNS:x.test")) == NULL || X509_add_ext(x, ext, -1) != 1)
		abort();
	X509_EXTENSION_free(ext);
	ATF_REQUIRE(X509_sign(x, pk, EVP_sha256()) != 0);
	snprintf(path, sizeof(path), "%s/ca/ca.crt", dir);
	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	PEM_write_X509(fp, x);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/certs/x.test.crt", dir);
	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	PEM_write_X509(fp, x);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/private/local.key", dir);
	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	ATF_REQUIRE(fchmod(fileno(fp), 0600) == 0);
	PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	X509_free(x);
	EVP_PKEY_free(pk);
}

struct async_slot {
	int		 done;
	int		 ok;
	char		 why[CA_WHY_MAX];
	uint8_t		 method;
	uint8_t		 sig[CA_SIG_MAX];
	size_t		 siglen;
};
static int	 async_left;

static void
async_cb(struct iked *env, void *arg, const struct auth_answer *a)
{
	struct async_slot	*s = arg;

	s->done++;
	s->ok = a->aa_ok;
	snprintf(s->why, sizeof(s->why), "%s", a->aa_why);
	s->method = a->aa_method;
	memcpy(s->sig, a->aa_sig, a->aa_siglen);
	s->siglen = a->aa_siglen;
	if (--async_left == 0)
		event_base_loopbreak(env->sc_evbase);
}

/* A ca process on fd; mute: it reads and never answers. */
static pid_t
async_ca(struct ca_store *ca, int sv[2], int mute)
{
	static uint8_t	 req[AUTH_MSG_MAX], rep[AUTH_MSG_MAX];
	ssize_t		 r;
	size_t		 n;
	pid_t		 pid;

	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		while ((r = recv(sv[1], req, sizeof(req), 0)) > 0)
			if (!mute && (n = auth_dispatch(ca, req, (size_t)r,
			    rep, sizeof(rep))) > 0)
				(void)send(sv[1], rep, n, 0);
		_exit(0);
	}
	ATF_REQUIRE(pid > 0);
	close(sv[1]);
	return (pid);
}

static void
async_stop(evutil_socket_t fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	event_base_loopbreak(arg);
}

/* The loop until every answer came, or secs. */
static void
async_run(struct iked *env, int secs)
{
	struct timeval	 tv = { secs, 0 };
	struct event	*ev;

	ATF_REQUIRE((ev = evtimer_new(env->sc_evbase, async_stop,
	    env->sc_evbase)) != NULL);
	evtimer_add(ev, &tv);
	event_base_dispatch(env->sc_evbase);
	event_free(ev);
}

/* The answer to the one request just made: its status, or -2 if none. */
static int
async_one(struct iked *env, struct async_slot *slot)
{
	async_left = 1;
	async_run(env, 20);
	return (slot->done == 1 ? slot->ok : -2);
}

ATF_TC_WITHOUT_HEAD(auth_rpc);
ATF_TC_BODY(auth_rpc, tc)
{
	static const struct iked_id	 srcid = { ID_FQDN, "x.test" };
	static const uint8_t		 junk[] = "a TBSCertificate, say";
	uint8_t				 octets[124];
	struct iked			 env;
	struct ca_store			*ca;
	struct ca_peer			 cp;
	uint8_t				 chain[CA_CHAIN_MAX], id[CA_ID_MAX];
	uint8_t				 sig[CA_SIG_MAX];
	uint8_t				 rep[AUTH_MSG_MAX], idtype;
	char				 why[CA_WHY_MAX];
	struct async_slot		 sl;
	size_t				 chainlen, idlen, n;
	int				 sv[2], status;
	pid_t				 pid;

	log_init(1, LOG_DAEMON);
	/* An IKE_SA_INIT of 60 bytes, a nonce and a PRF output of 32. */
	memset(octets, 0x5a, sizeof(octets));
	octets[17] = 0x20;
	octets[18] = 34;
	memcpy(octets + 24, "\0\0\0\x3c", 4);
	auth_mkdir("keys");
	ATF_REQUIRE((ca = auth_load("keys")) != NULL);
	ATF_REQUIRE(ca_haskey(ca));
	pid = async_ca(ca, sv, 0);
	memset(&env, 0, sizeof(env));
	env.sc_cafd = sv[0];
	ATF_REQUIRE((env.sc_evbase = event_base_new()) != NULL);

	/* Our certificate, found by srcid, and the ID to send. */
	ATF_REQUIRE_EQ(auth_local(&env, &srcid, chain, sizeof(chain),
	    &chainlen, &idtype, id, sizeof(id), &idlen, why, sizeof(why)), 0);
	ATF_CHECK(chainlen > 100);
	ATF_CHECK_EQ(idtype, IKEV2_ID_FQDN);
	ATF_CHECK(idlen == 6 && memcmp(id, "x.test", 6) == 0);
	ATF_REQUIRE_EQ(auth_certreq(&env, rep, sizeof(rep), &n), 0);
	ATF_CHECK_EQ(n, 20);
	/* Asked again: the same, from the engine's cache, then anew. */
	memset(id, 0, sizeof(id));
	ATF_REQUIRE_EQ(auth_local(&env, &srcid, chain, sizeof(chain),
	    &chainlen, &idtype, id, sizeof(id), &idlen, why, sizeof(why)), 0);
	ATF_CHECK(idlen == 6 && memcmp(id, "x.test", 6) == 0);
	auth_forget();
	ATF_REQUIRE_EQ(auth_local(&env, &srcid, chain, sizeof(chain),
	    &chainlen, &idtype, id, sizeof(id), &idlen, why, sizeof(why)), 0);
	ATF_CHECK(idlen == 6 && memcmp(id, "x.test", 6) == 0);

	/* Signed by the other process, verified by it. */
	memset(&sl, 0, sizeof(sl));
	ATF_REQUIRE_EQ(auth_sign_start(&env, CA_AUTH_RFC7427, CA_HASHES_OURS,
	    octets, sizeof(octets), async_cb, &sl), 0);
	ATF_REQUIRE_EQ(async_one(&env, &sl), 0);
	ATF_CHECK_EQ(sl.method, IKEV2_AUTH_SIG);
	memcpy(sig, sl.sig, sl.siglen);
	memset(&cp, 0, sizeof(cp));
	cp.cp_version = 2;
	cp.cp_chain = chain;
	cp.cp_chainlen = chainlen;
	cp.cp_idtype = idtype;
	cp.cp_id = id;
	cp.cp_idlen = idlen;
	cp.cp_dstid = &srcid;
	cp.cp_mode = CA_AUTH_RFC7427;
	cp.cp_hashes = CA_HASHES_OURS;
	cp.cp_method = sl.method;
	cp.cp_auth = sig;
	cp.cp_authlen = sl.siglen;
	cp.cp_data = octets;
	cp.cp_datalen = sizeof(octets);
	memset(&sl, 0, sizeof(sl));
	ATF_REQUIRE_EQ(auth_verify_start(&env, &cp, async_cb, &sl), 0);
	ATF_CHECK_EQ(async_one(&env, &sl), 0);
	/* Other octets: refused, and the reason comes across. */
	cp.cp_datalen--;
	memset(&sl, 0, sizeof(sl));
	ATF_REQUIRE_EQ(auth_verify_start(&env, &cp, async_cb, &sl), 0);
	ATF_CHECK_EQ(async_one(&env, &sl), -1);
	ATF_CHECK_MSG(strstr(sl.why, "signature") != NULL, "why: %s", sl.why);
	/* What is not an AUTH's octets is not signed: no oracle. */
	memset(&sl, 0, sizeof(sl));
	ATF_REQUIRE_EQ(auth_sign_start(&env, CA_AUTH_RFC7427, CA_HASHES_OURS,
	    junk, sizeof(junk), async_cb, &sl), 0);
	ATF_CHECK_EQ(async_one(&env, &sl), -1);
	ATF_CHECK_MSG(strstr(sl.why, "not signed") != NULL, "why: %s", sl.why);
	octets[18] = 35;	/* IKE_AUTH */
	memset(&sl, 0, sizeof(sl));
	ATF_REQUIRE_EQ(auth_sign_start(&env, CA_AUTH_RFC7427, CA_HASHES_OURS,
	    octets, sizeof(octets), async_cb, &sl), 0);
	ATF_CHECK_EQ(async_one(&env, &sl), -1);
	octets[18] = 34;
	/* ECDSA P-256 cannot sign RSA's method. */
	memset(&sl, 0, sizeof(sl));
	ATF_REQUIRE_EQ(auth_sign_start(&env, CA_AUTH_RSA, 0, octets,
	    sizeof(octets), async_cb, &sl), 0);
	ATF_CHECK_EQ(async_one(&env, &sl), -1);
	/* IKEv1: a HASH is signed, nothing else. */
	memset(&sl, 0, sizeof(sl));
	ATF_REQUIRE_EQ(auth_sign_v1_start(&env, octets, 32, async_cb, &sl),
	    0);
	ATF_CHECK_MSG(async_one(&env, &sl) == -1 && strstr(sl.why,
	    "RSA") != NULL, "an ECDSA key for IKEv1's SIG: %s", sl.why);
	memset(&sl, 0, sizeof(sl));
	ATF_REQUIRE_EQ(auth_sign_v1_start(&env, octets, 33, async_cb, &sl),
	    0);
	ATF_CHECK_MSG(async_one(&env, &sl) == -1 && strstr(sl.why,
	    "not an IKEv1 HASH") != NULL, "why: %s", sl.why);
	auth_close(&env);

	/* The process gone: an error, not a hang. */
	close(sv[0]);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	close(sv[1]);
	env.sc_cafd = sv[0];
	auth_forget();
	ATF_CHECK_EQ(auth_certreq(&env, rep, sizeof(rep), &n), -1);
	close(sv[0]);
	event_base_free(env.sc_evbase);
	ca_free(ca);
}

/*
 * The asynchronous calls (auth_*_start()) to a ca process: answers in
 * order through the event loop, more requests than the flow allows at
 * once, a cancelled caller, and a process that is gone or hangs.
 */
#define ASYNC_N	200	/* more than AUTH_MSG_MAX of requests in flight */

ATF_TC(auth_async);
ATF_TC_HEAD(auth_async, tc)
{
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(auth_async, tc)
{
	static const struct iked_id	 srcid = { ID_FQDN, "x.test" };
	static struct async_slot	 slot[ASYNC_N], vslot[ASYNC_N];
	uint8_t				 octets[124];
	uint8_t				 chain[CA_CHAIN_MAX], id[CA_ID_MAX];
	struct iked			 env;
	struct ca_store			*ca;
	struct ca_peer			 cp;
	uint8_t				 idtype;
	char				 why[CA_WHY_MAX];
	size_t				 chainlen, idlen;
	int				 sv[2], status, i;
	pid_t				 pid;

	log_init(1, LOG_DAEMON);
	memset(octets, 0x5a, sizeof(octets));
	octets[17] = 0x20;
	octets[18] = 34;
	memcpy(octets + 24, "\0\0\0\x3c", 4);
	auth_mkdir("keys");
	ATF_REQUIRE((ca = auth_load("keys")) != NULL);
	memset(&env, 0, sizeof(env));
	ATF_REQUIRE((env.sc_evbase = event_base_new()) != NULL);
	pid = async_ca(ca, sv, 0);
	env.sc_cafd = sv[0];
	ATF_REQUIRE_EQ(auth_local(&env, &srcid, chain, sizeof(chain),
	    &chainlen, &idtype, id, sizeof(id), &idlen, why, sizeof(why)), 0);

	/* Signatures, one caller cancelled: the others in order. */
	for (i = 0; i < ASYNC_N; i++)
		ATF_REQUIRE_EQ(auth_sign_start(&env, CA_AUTH_RFC7427,
		    CA_HASHES_OURS, octets, sizeof(octets), async_cb,
		    &slot[i]), 0);
	auth_cancel(&env, &slot[5]);
	async_left = ASYNC_N - 1;
	async_run(&env, 20);
	ATF_CHECK_EQ(async_left, 0);
	ATF_CHECK_EQ(slot[5].done, 0);
	for (i = 0; i < ASYNC_N; i++) {
		if (i == 5)
			continue;
		ATF_CHECK_EQ_MSG(slot[i].done, 1, "request %d: %d answers",
		    i, slot[i].done);
		ATF_CHECK_EQ_MSG(slot[i].ok, 0, "request %d: %s", i,
		    slot[i].why);
		ATF_CHECK_EQ(slot[i].method, IKEV2_AUTH_SIG);
	}

	/* Each verified, with its chain: more bytes than one flight. */
	memset(&cp, 0, sizeof(cp));
	cp.cp_version = 2;
	cp.cp_chain = chain;
	cp.cp_chainlen = chainlen;
	cp.cp_idtype = idtype;
	cp.cp_id = id;
	cp.cp_idlen = idlen;
	cp.cp_dstid = &srcid;
	cp.cp_mode = CA_AUTH_RFC7427;
	cp.cp_hashes = CA_HASHES_OURS;
	cp.cp_method = IKEV2_AUTH_SIG;
	cp.cp_data = octets;
	cp.cp_datalen = sizeof(octets);
	ATF_REQUIRE(ASYNC_N * (chainlen + sizeof(octets)) > AUTH_MSG_MAX);
	for (i = 0; i < ASYNC_N; i++) {
		cp.cp_auth = slot[i == 5 ? 4 : i].sig;
		cp.cp_authlen = slot[i == 5 ? 4 : i].siglen;
		/* The last one over other octets: refused. */
		if (i == ASYNC_N - 1)
			cp.cp_datalen--;
		ATF_REQUIRE_EQ(auth_verify_start(&env, &cp, async_cb,
		    &vslot[i]), 0);
	}
	async_left = ASYNC_N;
	async_run(&env, 20);
	ATF_CHECK_EQ(async_left, 0);
	for (i = 0; i < ASYNC_N - 1; i++)
		ATF_CHECK_MSG(vslot[i].done == 1 && vslot[i].ok == 0,
		    "verify %d: %d answers, %s", i, vslot[i].done,
		    vslot[i].why);
	ATF_CHECK_EQ(vslot[ASYNC_N - 1].ok, -1);
	ATF_CHECK_MSG(strstr(vslot[ASYNC_N - 1].why, "signature") != NULL,
	    "why: %s", vslot[ASYNC_N - 1].why);

	/*
	 * Verified and signed in one round trip; a forged AUTH gets no
	 * signature, and what is not an AUTH's octets is not signed.
	 */
	memset(vslot, 0, 3 * sizeof(vslot[0]));
	cp.cp_auth = slot[0].sig;
	cp.cp_authlen = slot[0].siglen;
	cp.cp_datalen = sizeof(octets);
	ATF_REQUIRE_EQ(auth_verify_sign_start(&env, &cp, CA_AUTH_RFC7427,
	    CA_HASHES_OURS, octets, sizeof(octets), async_cb, &vslot[0]), 0);
	ATF_REQUIRE_EQ(auth_verify_sign_start(&env, &cp, CA_AUTH_RFC7427,
	    CA_HASHES_OURS, octets, 20, async_cb, &vslot[1]), 0);
	cp.cp_datalen--;
	ATF_REQUIRE_EQ(auth_verify_sign_start(&env, &cp, CA_AUTH_RFC7427,
	    CA_HASHES_OURS, octets, sizeof(octets), async_cb, &vslot[2]), 0);
	async_left = 3;
	async_run(&env, 20);
	ATF_CHECK_MSG(vslot[0].ok == 0 && vslot[0].siglen > 0 &&
	    vslot[0].method == IKEV2_AUTH_SIG, "verify+sign: %s",
	    vslot[0].why);
	ATF_CHECK_MSG(vslot[1].ok == 0 && vslot[1].siglen == 0 &&
	    strstr(vslot[1].why, "not signed") != NULL, "junk: %s",
	    vslot[1].why);
	ATF_CHECK_MSG(vslot[2].ok == -1 && vslot[2].siglen == 0,
	    "forged: %d, %zu bytes signed", vslot[2].ok, vslot[2].siglen);
	auth_close(&env);
	close(sv[0]);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);

	/* A process that is gone: each caller is told, none waits. */
	memset(slot, 0, sizeof(slot));
	pid = async_ca(ca, sv, 1);
	env.sc_cafd = sv[0];
	for (i = 0; i < 3; i++)
		ATF_REQUIRE_EQ(auth_sign_start(&env, CA_AUTH_RFC7427,
		    CA_HASHES_OURS, octets, sizeof(octets), async_cb,
		    &slot[i]), 0);
	ATF_REQUIRE(kill(pid, SIGKILL) == 0);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	async_left = 3;
	async_run(&env, 5);
	for (i = 0; i < 3; i++)
		ATF_CHECK_MSG(slot[i].done == 1 && slot[i].ok == -1 &&
		    strstr(slot[i].why, "gone") != NULL, "request %d: %d "
		    "answers, %s", i, slot[i].done, slot[i].why);
	auth_close(&env);
	close(sv[0]);

	/* One that hangs: refused after AUTH_WAIT_MS, not waited for. */
	memset(slot, 0, sizeof(slot));
	pid = async_ca(ca, sv, 1);
	env.sc_cafd = sv[0];
	ATF_REQUIRE_EQ(auth_sign_start(&env, CA_AUTH_RFC7427, CA_HASHES_OURS,
	    octets, sizeof(octets), async_cb, &slot[0]), 0);
	async_left = 1;
	async_run(&env, AUTH_WAIT_MS / 1000 + 5);
	ATF_CHECK_MSG(slot[0].done == 1 && slot[0].ok == -1 &&
	    strstr(slot[0].why, "does not answer") != NULL, "%d answers, %s",
	    slot[0].done, slot[0].why);
	auth_close(&env);
	close(sv[0]);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	event_base_free(env.sc_evbase);
	ca_free(ca);
}

/* What the ca process makes of broken requests: nothing, no crash. */
ATF_TC_WITHOUT_HEAD(auth_dispatch_broken);
ATF_TC_BODY(auth_dispatch_broken, tc)
{
	uint8_t		 rep[AUTH_MSG_MAX];
	static const uint8_t certreq[] = { 0, 0, 0, 9, 0, 0, 0, 2 };
	static const uint8_t unknown[] = { 0, 0, 0, 9, 0, 0, 0, 77 };
	static const uint8_t shortreq[] = { 0, 0, 0, 9, 0, 0 };
	/* SIGN whose blob claims more bytes than there are. */
	static const uint8_t longblob[] = { 0, 0, 0, 9, 0, 0, 0, 3,
	    0, 0, 0, 5, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0, 1, 2 };
	struct ca_store	*ca;
	size_t		 n;

	log_init(1, LOG_DAEMON);
	ATF_CHECK_EQ(auth_dispatch(NULL, shortreq, sizeof(shortreq), rep,
	    sizeof(rep)), 0);
	/* No store yet: a refusal with its reason, the sequence echoed. */
	n = auth_dispatch(NULL, certreq, sizeof(certreq), rep, sizeof(rep));
	ATF_REQUIRE(n > 12);
	ATF_CHECK(memcmp(rep, "\0\0\0\x09\0\0\0\x01", 8) == 0);
	/* [seq][status][why length]["no keys loaded"] */
	ATF_CHECK(memcmp(rep + 12, "no keys loaded", 14) == 0);
	/* With keys: an unknown operation and a lying length, dropped. */
	auth_mkdir("k");
	ATF_REQUIRE((ca = auth_load("k")) != NULL);
	ATF_CHECK_EQ(auth_dispatch(ca, unknown, sizeof(unknown), rep,
	    sizeof(rep)), 0);
	ATF_CHECK_EQ(auth_dispatch(ca, longblob, sizeof(longblob), rep,
	    sizeof(rep)), 0);
	ATF_CHECK(auth_dispatch(ca, certreq, sizeof(certreq), rep,
	    sizeof(rep)) > 12);
	ca_free(ca);
}

ATF_TP_ADD_TCS(tp)
{
	log_init(1, LOG_DAEMON);
	ATF_TP_ADD_TC(tp, cfgmsg_roundtrip);
	ATF_TP_ADD_TC(tp, cfgmsg_empty);
	ATF_TP_ADD_TC(tp, cfgmsg_broken);
	ATF_TP_ADD_TC(tp, filter_allows);
	ATF_TP_ADD_TC(tp, filter_refuses);
	ATF_TP_ADD_TC(tp, auth_rpc);
	ATF_TP_ADD_TC(tp, auth_async);
	ATF_TP_ADD_TC(tp, auth_dispatch_broken);
	return (atf_no_error());
}
