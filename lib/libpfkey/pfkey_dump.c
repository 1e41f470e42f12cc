/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * pfkey_sadump() and pfkey_spdump(): one SA or SP message in the format
 * of FreeBSD's setkey -D and setkey -DP, to the byte, since scripts
 * parse it.  That includes the trailing blank after each table-looked-up
 * value (FreeBSD's GETMSGSTR/GETMSGV2S), the tabs, the key hex dump that
 * wraps every 32 bytes, and the 20 characters of ctime() for dates.
 *
 * Algorithm names are those of FreeBSD 14's pfkey_dump.c: algorithms
 * FreeBSD dropped (DES, 3DES, Blowfish, CAST, MD5, RIPEMD-160, ...)
 * print as their numbers, as there.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libpfkey.h"
#include "pfkey_var.h"

struct val2str {
	int		 val;
	const char	*str;
};

static const char *str_satype[] = {
	"unspec", "unknown", "ah", "esp", "unknown", "rsvp", "ospfv2",
	"ripv2", "mip", "ipcomp", "policy", "tcp"
};

static const char *str_mode[] = { "any", "transport", "tunnel" };

static const char *str_state[] = { "larval", "mature", "dying", "dead" };

static const struct val2str str_alg_auth[] = {
	{ SADB_AALG_NONE, "none" },
	{ SADB_AALG_SHA1HMAC, "hmac-sha1" },
	{ SADB_X_AALG_NULL, "null" },
	{ SADB_X_AALG_TCP_MD5, "tcp-md5" },
	{ SADB_X_AALG_SHA2_256, "hmac-sha2-256" },
	{ SADB_X_AALG_SHA2_384, "hmac-sha2-384" },
	{ SADB_X_AALG_SHA2_512, "hmac-sha2-512" },
	{ SADB_X_AALG_AES_XCBC_MAC, "aes-xcbc-mac" },
	{ SADB_X_AALG_CHACHA20POLY1305, "chacha20-poly1305" },
	{ -1, NULL },
};

static const struct val2str str_alg_enc[] = {
	{ SADB_EALG_NONE, "none" },
	{ SADB_EALG_NULL, "null" },
	{ SADB_X_EALG_AESCBC, "aes-cbc" },
	{ SADB_X_EALG_AESCTR, "aes-ctr" },
	{ SADB_X_EALG_AESGCM16, "aes-gcm-16" },
	{ SADB_X_EALG_CHACHA20POLY1305, "chacha20-poly1305" },
	{ -1, NULL },
};

static const struct val2str str_alg_comp[] = {
	{ SADB_X_CALG_NONE, "none" },
	{ SADB_X_CALG_OUI, "oui" },
	{ SADB_X_CALG_DEFLATE, "deflate" },
	{ SADB_X_CALG_LZS, "lzs" },
	{ -1, NULL },
};

static const struct val2str str_sp_scope[] = {
	{ IPSEC_POLICYSCOPE_GLOBAL, "global" },
	{ IPSEC_POLICYSCOPE_IFNET, "ifnet" },
	{ IPSEC_POLICYSCOPE_PCB, "pcb" },
	{ -1, NULL },
};

#define	NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A table entry followed by a blank, or the number if there is none. */
static void
getmsgstr(const char *const *tab, size_t n, u_int num)
{

	if (num >= n || tab[num][0] == '\0')
		printf("%u ", num);
	else
		printf("%s ", tab[num]);
}

static void
getmsgv2s(const struct val2str *v2s, u_int num)
{
	const struct val2str *p;

	for (p = v2s; p->str != NULL; p++)
		if (p->val >= 0 && (u_int)p->val == num) {
			printf("%s ", p->str);
			return;
		}
	printf("%u ", num);
}

/* The numeric address of an address extension's sockaddr. */
static const char *
str_ipaddr(const struct sockaddr *sa, char *buf, size_t len)
{
	int salen;

	salen = pfkey_salen(sa);
	if (salen <= 0 || getnameinfo(sa, (socklen_t)salen, buf,
	    (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
		return ("(null)");	/* FreeBSD's printf("%s", NULL) */
	return (buf);
}

static u_int
sa_port(const struct sockaddr *sa)
{

	switch (sa->sa_family) {
	case AF_INET:
		return (ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port));
	case AF_INET6:
		return (ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port));
	}
	return (0);
}

/* "/prefix" unless the full length, then "[port]" or "[any]". */
static void
str_prefport(char *buf, size_t len, u_int family, u_int pref, u_int port,
    u_int ulp)
{
	char prefbuf[16], portbuf[16];
	u_int plen;

	switch (family) {
	case AF_INET:
		plen = sizeof(struct in_addr) << 3;
		break;
	case AF_INET6:
		plen = sizeof(struct in6_addr) << 3;
		break;
	default:
		snprintf(buf, len, "?");
		return;
	}
	prefbuf[0] = portbuf[0] = '\0';
	if (pref != plen)
		snprintf(prefbuf, sizeof(prefbuf), "/%u", pref);
	/* ICMPv6 keeps type and code in the ports: printed after. */
	if (ulp != IPPROTO_ICMPV6) {
		if (port == IPSEC_PORT_ANY)
			snprintf(portbuf, sizeof(portbuf), "[any]");
		else
			snprintf(portbuf, sizeof(portbuf), "[%u]", port);
	}
	snprintf(buf, len, "%s%s", prefbuf, portbuf);
}

static void
str_upperspec(u_int ulp, u_int p1, u_int p2)
{
	struct protoent *ent;

	if (ulp == IPSEC_ULPROTO_ANY)
		printf("any");
	else if (ulp == IPPROTO_ICMPV6) {
		printf("icmp6");
		if (!(p1 == IPSEC_PORT_ANY && p2 == IPSEC_PORT_ANY))
			printf(" %u,%u", p1, p2);
	} else if (ulp == IPPROTO_IPIP) {
		printf("ip4");
	} else {
		ent = getprotobynumber((int)ulp);
		if (ent != NULL)
			printf("%s", ent->p_name);
		else
			printf("%u", ulp);
		endprotoent();
	}
}

/* "Mon Day hh:mm:ss Year" (ctime() without the weekday), or blanks. */
static const char *
str_time(uint64_t t64, char *buf)
{
	char cbuf[64];
	time_t t;

	memset(buf, ' ', 20);
	buf[20] = '\0';
	t = (time_t)t64;
	if (t64 != 0 && (uint64_t)t == t64 && ctime_r(&t, cbuf) != NULL &&
	    strlen(cbuf) >= 24)
		memcpy(buf, cbuf + 4, 20);
	return (buf);
}

static void
str_lifetime_byte(const struct sadb_lifetime *x, const char *str)
{

	if (x == NULL) {
		printf("\t%s: 0(bytes)", str);
		return;
	}
	printf("\t%s: %.0f(bytes)", str, (double)x->sadb_lifetime_bytes);
}

/*
 * The key as ipsec_hexdump() prints it.  At most the bytes the extension
 * holds (pfkey_align() checked that sadb_key_bits fits).
 */
static void
dump_key(const struct sadb_key *key)
{

	ipsec_hexdump((char *)(uintptr_t)(key + 1), key->sadb_key_bits / 8);
}

/* One SA (the reply to SADB_GET, or one message of SADB_DUMP). */
void
pfkey_sadump(struct sadb_msg *m)
{
	char *mhp[SADB_EXT_MAX + 1];
	char abuf[NI_MAXHOST], tbuf[21];
	struct sadb_sa *m_sa;
	struct sadb_x_sa2 *m_sa2;
	struct sadb_lifetime *m_lftc, *m_lfth, *m_lfts;
	struct sadb_address *m_saddr, *m_daddr;
	struct sadb_key *m_auth, *m_enc;
	struct sadb_x_sa_replay *m_sa_replay;
	struct sadb_x_nat_t_type *natt_type;
	struct sadb_x_nat_t_port *natt_sport, *natt_dport;
	struct sadb_address *natt_oai, *natt_oar;
	time_t now;

	if (pfkey_align(m, mhp) != 0 || pfkey_check(mhp) != 0) {
		printf("%s\n", ipsec_strerror());
		return;
	}

#define	EXT(t, i)	((t *)(void *)mhp[(i)])
	m_sa = EXT(struct sadb_sa, SADB_EXT_SA);
	m_sa2 = EXT(struct sadb_x_sa2, SADB_X_EXT_SA2);
	m_lftc = EXT(struct sadb_lifetime, SADB_EXT_LIFETIME_CURRENT);
	m_lfth = EXT(struct sadb_lifetime, SADB_EXT_LIFETIME_HARD);
	m_lfts = EXT(struct sadb_lifetime, SADB_EXT_LIFETIME_SOFT);
	m_saddr = EXT(struct sadb_address, SADB_EXT_ADDRESS_SRC);
	m_daddr = EXT(struct sadb_address, SADB_EXT_ADDRESS_DST);
	m_auth = EXT(struct sadb_key, SADB_EXT_KEY_AUTH);
	m_enc = EXT(struct sadb_key, SADB_EXT_KEY_ENCRYPT);
	m_sa_replay = EXT(struct sadb_x_sa_replay, SADB_X_EXT_SA_REPLAY);
	natt_type = EXT(struct sadb_x_nat_t_type, SADB_X_EXT_NAT_T_TYPE);
	natt_sport = EXT(struct sadb_x_nat_t_port, SADB_X_EXT_NAT_T_SPORT);
	natt_dport = EXT(struct sadb_x_nat_t_port, SADB_X_EXT_NAT_T_DPORT);
	natt_oai = EXT(struct sadb_address, SADB_X_EXT_NAT_T_OAI);
	natt_oar = EXT(struct sadb_address, SADB_X_EXT_NAT_T_OAR);
#undef EXT

	/* source address */
	if (m_saddr == NULL) {
		printf("no ADDRESS_SRC extension.\n");
		return;
	}
	printf("%s", str_ipaddr(PFKEY_ADDR_SADDR(m_saddr), abuf,
	    sizeof(abuf)));
	if (natt_type != NULL && natt_sport != NULL)
		printf("[%u]", ntohs(natt_sport->sadb_x_nat_t_port_port));

	/* destination address */
	if (m_daddr == NULL) {
		printf("\nno ADDRESS_DST extension.\n");
		return;
	}
	printf(" %s", str_ipaddr(PFKEY_ADDR_SADDR(m_daddr), abuf,
	    sizeof(abuf)));
	if (natt_type != NULL && natt_dport != NULL)
		printf("[%u]", ntohs(natt_dport->sadb_x_nat_t_port_port));

	/* SA type */
	if (m_sa == NULL) {
		printf("\nno SA extension.\n");
		return;
	}
	if (m_sa2 == NULL) {
		printf("\nno SA2 extension.\n");
		return;
	}
	printf("\n\t");

	if (m->sadb_msg_satype == SADB_SATYPE_ESP && natt_type != NULL)
		printf("esp-udp ");
	else
		getmsgstr(str_satype, NELEM(str_satype), m->sadb_msg_satype);

	printf("mode=");
	getmsgstr(str_mode, NELEM(str_mode), m_sa2->sadb_x_sa2_mode);

	printf("spi=%u(0x%08x) reqid=%u(0x%08x)\n",
	    (uint32_t)ntohl(m_sa->sadb_sa_spi),
	    (uint32_t)ntohl(m_sa->sadb_sa_spi),
	    m_sa2->sadb_x_sa2_reqid, m_sa2->sadb_x_sa2_reqid);

	/* other NAT-T information */
	if (natt_type != NULL && (natt_oai != NULL || natt_oar != NULL)) {
		printf("\tNAT:");
		if (natt_oai != NULL)
			printf(" OAI=%s", str_ipaddr(PFKEY_ADDR_SADDR(natt_oai),
			    abuf, sizeof(abuf)));
		if (natt_oar != NULL)
			printf(" OAR=%s", str_ipaddr(PFKEY_ADDR_SADDR(natt_oar),
			    abuf, sizeof(abuf)));
		printf("\n");
	}

	/* encryption key; IPComp's algorithm line has no newline there */
	if (m->sadb_msg_satype == SADB_X_SATYPE_IPCOMP) {
		printf("\tC: ");
		getmsgv2s(str_alg_comp, m_sa->sadb_sa_encrypt);
	} else if (m->sadb_msg_satype == SADB_SATYPE_ESP) {
		if (m_enc != NULL) {
			printf("\tE: ");
			getmsgv2s(str_alg_enc, m_sa->sadb_sa_encrypt);
			dump_key(m_enc);
			printf("\n");
		}
	}

	/* authentication key */
	if (m_auth != NULL) {
		printf("\tA: ");
		getmsgv2s(str_alg_auth, m_sa->sadb_sa_auth);
		dump_key(m_auth);
		printf("\n");
	}

	/* replay window (bytes) and flags */
	printf("\tseq=0x%08x replay=%u flags=0x%08x ",
	    m_sa2->sadb_x_sa2_sequence,
	    m_sa_replay != NULL ?
	    (m_sa_replay->sadb_x_sa_replay_replay >> 3) :
	    (uint32_t)m_sa->sadb_sa_replay,
	    m_sa->sadb_sa_flags);

	printf("state=");
	getmsgstr(str_state, NELEM(str_state), m_sa->sadb_sa_state);
	printf("\n");

	/* lifetime */
	if (m_lftc != NULL) {
		now = time(NULL);

		printf("\tcreated: %s",
		    str_time(m_lftc->sadb_lifetime_addtime, tbuf));
		printf("\tcurrent: %s\n", str_time((uint64_t)now, tbuf));
		printf("\tdiff: %lu(s)",
		    (u_long)(m_lftc->sadb_lifetime_addtime == 0 ? 0 :
		    (uint64_t)now - m_lftc->sadb_lifetime_addtime));

		printf("\thard: %lu(s)", (u_long)(m_lfth == NULL ? 0 :
		    m_lfth->sadb_lifetime_addtime));
		printf("\tsoft: %lu(s)\n", (u_long)(m_lfts == NULL ? 0 :
		    m_lfts->sadb_lifetime_addtime));

		printf("\tlast: %s",
		    str_time(m_lftc->sadb_lifetime_usetime, tbuf));
		printf("\thard: %lu(s)", (u_long)(m_lfth == NULL ? 0 :
		    m_lfth->sadb_lifetime_usetime));
		printf("\tsoft: %lu(s)\n", (u_long)(m_lfts == NULL ? 0 :
		    m_lfts->sadb_lifetime_usetime));

		str_lifetime_byte(m_lftc, "current");
		str_lifetime_byte(m_lfth, "hard");
		str_lifetime_byte(m_lfts, "soft");
		printf("\n");

		printf("\tallocated: %lu",
		    (u_long)m_lftc->sadb_lifetime_allocations);
		printf("\thard: %lu", (u_long)(m_lfth == NULL ? 0 :
		    m_lfth->sadb_lifetime_allocations));
		printf("\tsoft: %lu\n", (u_long)(m_lfts == NULL ? 0 :
		    m_lfts->sadb_lifetime_allocations));
	}

	printf("\tsadb_seq=%lu pid=%lu ", (u_long)m->sadb_msg_seq,
	    (u_long)m->sadb_msg_pid);
	/* The kernel puts the SA's reference count in the reserved field. */
	printf("refcnt=%u\n", m->sadb_msg_reserved);
}

/* One SP (the reply to SADB_X_SPDGET, or one message of SADB_X_SPDDUMP). */
void
pfkey_spdump(struct sadb_msg *m)
{
	char *mhp[SADB_EXT_MAX + 1];
	char abuf[NI_MAXHOST], pbuf[128], tbuf[21], ifname[IF_NAMESIZE];
	struct sadb_address *m_saddr, *m_daddr;
	struct sadb_x_policy *m_xpl;
	struct sadb_lifetime *m_lftc, *m_lfth;
	const struct sockaddr *sa;
	u_int sport, dport;
	char *d_xpl;

	if (pfkey_align(m, mhp) != 0 || pfkey_check(mhp) != 0) {
		printf("%s\n", ipsec_strerror());
		return;
	}

	m_saddr = (struct sadb_address *)(void *)mhp[SADB_EXT_ADDRESS_SRC];
	m_daddr = (struct sadb_address *)(void *)mhp[SADB_EXT_ADDRESS_DST];
	m_xpl = (struct sadb_x_policy *)(void *)mhp[SADB_X_EXT_POLICY];
	m_lftc = (struct sadb_lifetime *)(void *)
	    mhp[SADB_EXT_LIFETIME_CURRENT];
	m_lfth = (struct sadb_lifetime *)(void *)mhp[SADB_EXT_LIFETIME_HARD];

	if (m_saddr != NULL && m_daddr != NULL) {
		/* pfkey_check() made both IPv4 or both IPv6. */
		sa = PFKEY_ADDR_SADDR(m_saddr);
		sport = sa_port(sa);
		str_prefport(pbuf, sizeof(pbuf), sa->sa_family,
		    m_saddr->sadb_address_prefixlen, sport,
		    m_saddr->sadb_address_proto);
		printf("%s%s ", str_ipaddr(sa, abuf, sizeof(abuf)), pbuf);

		sa = PFKEY_ADDR_SADDR(m_daddr);
		dport = sa_port(sa);
		str_prefport(pbuf, sizeof(pbuf), sa->sa_family,
		    m_daddr->sadb_address_prefixlen, dport,
		    m_saddr->sadb_address_proto);
		printf("%s%s ", str_ipaddr(sa, abuf, sizeof(abuf)), pbuf);

		str_upperspec(m_saddr->sadb_address_proto, sport, dport);
	} else
		printf("(no selector, probably per-socket policy) ");

	if (m_xpl == NULL) {
		printf("no X_POLICY extension.\n");
		return;
	}
	d_xpl = ipsec_dump_policy((char *)m_xpl, "\n\t");
	if (d_xpl == NULL) {
		printf("\n\t%s\n", ipsec_strerror());
		return;
	}
	printf("\n\t%s\n", d_xpl);
	free(d_xpl);

	/* lifetime, if the SP has one */
	if (m_lftc != NULL) {
		printf("\tcreated: %s  ",
		    str_time(m_lftc->sadb_lifetime_addtime, tbuf));
		printf("lastused: %s\n",
		    str_time(m_lftc->sadb_lifetime_usetime, tbuf));
	}
	if (m_lfth != NULL) {
		printf("\tlifetime: %lu(s) ",
		    (u_long)m_lfth->sadb_lifetime_addtime);
		printf("validtime: %lu(s)\n",
		    (u_long)m_lfth->sadb_lifetime_usetime);
	}

	printf("\tspid=%ld seq=%ld pid=%ld scope=",
	    (long)m_xpl->sadb_x_policy_id, (long)m->sadb_msg_seq,
	    (long)m->sadb_msg_pid);
	getmsgv2s(str_sp_scope, m_xpl->sadb_x_policy_scope);
	if (m_xpl->sadb_x_policy_scope == IPSEC_POLICYSCOPE_IFNET &&
	    if_indextoname(m_xpl->sadb_x_policy_ifindex, ifname) != NULL)
		printf("ifname=%s", ifname);
	printf("\n");

	printf("\trefcnt=%u\n", m->sadb_msg_reserved);
}
