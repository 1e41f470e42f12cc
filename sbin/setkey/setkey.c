/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * setkey(8): manage the SAD and SPD through PF_KEY, as FreeBSD's setkey
 * does, over libpfkey.  This file holds the command line, the exchange
 * with the kernel (send, read the replies until seq 0) and the dumps.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libpfkey.h"
#include "setkey.h"

#define	MODE_SCRIPT	1
#define	MODE_CMDDUMP	2
#define	MODE_CMDFLUSH	3
#define	MODE_PROMISC	4

static int	so = -1;
static int	f_mode, f_all, f_forever, f_hexdump, f_policy, f_verbose;
static int	f_tflag, f_scope;
static int	failed;		/* some command failed: exit 1 */
static int	lineno;		/* of the command being run, script mode */

static void	usage(void) __attribute__((__noreturn__));
static void	sendkeymsg(struct sadb_msg *, size_t);
static int	postproc(struct sadb_msg *);
static void	shortdump_hdr(void);
static void	shortdump(struct sadb_msg *);
static void	promisc(void) __attribute__((__noreturn__));
static void	printdate(void);
static void	hexdump(const void *, size_t);
static int	get_supported(void);

static void
usage(void)
{
	printf("usage: setkey [-v] -c\n");
	printf("       setkey [-v] -f filename\n");
	printf("       setkey [-Pagltv] -D\n");
	printf("       setkey [-Pv] -F\n");
	printf("       setkey [-h] -x\n");
	exit(1);
}

/* A message of the parser: send it, now. */
static void
parse_send(void *arg, struct sadb_msg *msg, size_t len, int line)
{
	(void)arg;
	lineno = line;
	sendkeymsg(msg, len);
}

/* -D, -DP, -F, -FP: a message without extensions. */
static void
sendkeyshort(u_int type)
{
	struct sk_buf b;

	if (sk_buf_init(&b, type, SADB_SATYPE_UNSPEC) == -1)
		err(1, "malloc");
	/* -g, -t: the scopes of the policies to dump. */
	if (type == SADB_X_SPDDUMP)
		((struct sadb_msg *)(void *)b.b_buf)->sadb_msg_satype =
		    (uint8_t)f_scope;
	sendkeymsg(sk_buf_finish(&b), b.b_len);
	sk_buf_free(&b);
}

int
main(int argc, char *argv[])
{
	struct sk_parse ps;
	FILE *fp = stdin;
	int c;

	while ((c = getopt(argc, argv, "acdf:ghltvxDFP")) != -1) {
		switch (c) {
		case 'c':
			f_mode = MODE_SCRIPT;
			fp = stdin;
			break;
		case 'f':
			f_mode = MODE_SCRIPT;
			if (strcmp(optarg, "-") == 0)
				fp = stdin;
			else if ((fp = fopen(optarg, "r")) == NULL)
				err(1, "fopen");
			break;
		case 'D':
			f_mode = MODE_CMDDUMP;
			break;
		case 'F':
			f_mode = MODE_CMDFLUSH;
			break;
		case 'a':
			f_all = 1;
			break;
		case 'l':
			f_forever = 1;
			break;
		case 'h':
			f_hexdump = 1;
			break;
		case 'x':
			f_mode = MODE_PROMISC;
			f_tflag++;
			break;
		case 'P':
			f_policy = 1;
			break;
		case 'g':
			f_scope |= IPSEC_POLICYSCOPE_GLOBAL;
			break;
		case 't':
			f_scope |= IPSEC_POLICYSCOPE_IFNET;
			break;
		case 'v':
			f_verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc > 0 || f_mode == 0)
		usage();

	if ((so = pfkey_open()) < 0) {
		perror("pfkey_open");
		exit(1);
	}

	switch (f_mode) {
	case MODE_CMDDUMP:
		sendkeyshort(f_policy ? SADB_X_SPDDUMP : SADB_DUMP);
		break;
	case MODE_CMDFLUSH:
		sendkeyshort(f_policy ? SADB_X_SPDFLUSH : SADB_FLUSH);
		break;
	case MODE_SCRIPT:
		if (get_supported() < 0)
			errx(1, "%s", ipsec_strerror());
		memset(&ps, 0, sizeof(ps));
		ps.ps_send = parse_send;
		if (sk_parse(fp, &ps) != 0) {
			printf("parse failed, line %d.\n", ps.ps_line);
			exit(1);
		}
		break;
	case MODE_PROMISC:
		promisc();
		/* NOTREACHED */
	default:
		usage();
	}
	pfkey_close(so);
	exit(failed ? 1 : 0);
}

/* The algorithms and key lengths the kernel supports. */
static int
get_supported(void)
{
	if (pfkey_send_register(so, SADB_SATYPE_UNSPEC) < 0)
		return (-1);
	if (pfkey_recv_register(so) < 0)
		return (-1);
	return (0);
}

/*
 * Send a request and read its replies: those with our pid and its type,
 * until one has seq 0 or an error.  Others' messages (another client's
 * broadcast ADD, say) are skipped.  SO_RCVTIMEO of 1 s, as FreeBSD.
 */
static void
sendkeymsg(struct sadb_msg *req, size_t len)
{
	struct sadb_msg *msg;
	struct timeval tv;
	int done;

	tv.tv_sec = 1;
	tv.tv_usec = 0;
	if (setsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		perror("setsockopt");
		failed = 1;
		return;
	}
	if (f_forever)
		shortdump_hdr();
again:
	if (f_verbose) {
		kdebug_sadb(req);
		printf("\n");
	}
	if (f_hexdump)
		hexdump(req, len);
	if (pfkey_send(so, req, (int)len) < 0) {
		perror("send");
		failed = 1;
		return;
	}

	do {
		if ((msg = pfkey_recv(so)) == NULL) {
			if (__ipsec_errcode == EIPSEC_SYSTEM_ERROR)
				perror("recv");
			else
				warnx("invalid keymsg length");
			failed = 1;
			return;
		}
		if (msg->sadb_msg_pid != req->sadb_msg_pid ||
		    msg->sadb_msg_type != req->sadb_msg_type) {
			free(msg);
			done = 0;
			continue;
		}
		if (f_verbose) {
			kdebug_sadb(msg);
			printf("\n");
		}
		done = postproc(msg) < 0 || msg->sadb_msg_seq == 0;
		free(msg);
	} while (!done);

	if (f_forever) {
		fflush(stdout);
		sleep(1);
		goto again;
	}
}

/*
 * A reply: print the kernel's error or the dump.  An error fails the
 * run, except ENOENT for a dump (an empty table is no failure).
 */
static int
postproc(struct sadb_msg *msg)
{
	char *mhp[SADB_EXT_MAX + 1];
	struct sadb_sa *sa;
	char inf[80];
	const char *errmsg = NULL;

	if (msg->sadb_msg_errno != 0) {
		if (f_mode == MODE_SCRIPT)
			snprintf(inf, sizeof(inf), "The result of line %d: ",
			    lineno);
		else
			inf[0] = '\0';
		switch (msg->sadb_msg_errno) {
		case ENOENT:
			switch (msg->sadb_msg_type) {
			case SADB_DELETE:
			case SADB_GET:
			case SADB_X_SPDDELETE:
				errmsg = "No entry";
				break;
			case SADB_DUMP:
				errmsg = "No SAD entries";
				break;
			case SADB_X_SPDDUMP:
				errmsg = "No SPD entries";
				break;
			}
			break;
		}
		if (errmsg == NULL)
			errmsg = strerror(msg->sadb_msg_errno);
		printf("%s%s.\n", inf, errmsg);
		if (msg->sadb_msg_errno != ENOENT ||
		    (msg->sadb_msg_type != SADB_DUMP &&
		    msg->sadb_msg_type != SADB_X_SPDDUMP))
			failed = 1;
		return (-1);
	}

	switch (msg->sadb_msg_type) {
	case SADB_GET:
		pfkey_sadump(msg);
		break;
	case SADB_DUMP:
		/* DEAD SAs only with -a. */
		if (!f_all && pfkey_align(msg, mhp) == 0 &&
		    pfkey_check(mhp) == 0 &&
		    (sa = (struct sadb_sa *)(void *)mhp[SADB_EXT_SA]) != NULL &&
		    sa->sadb_sa_state == SADB_SASTATE_DEAD)
			break;
		if (f_forever)
			shortdump(msg);
		else
			pfkey_sadump(msg);
		break;
	case SADB_X_SPDDUMP:
		pfkey_spdump(msg);
		break;
	}
	return (0);
}

static void
shortdump_hdr(void)
{
	printf("%-4s %-3s %-1s %-8s %-7s %s -> %s\n",
	    "time", "p", "s", "spi", "ltime", "src", "dst");
}

static const char *
satypestr(u_int satype)
{
	static const char *const tab[] = {
		"unspec", "unknown", "ah", "esp", "unknown", "rsvp", "ospfv2",
		"ripv2", "mip", "ipcomp", "policy", "tcp"
	};
	static char buf[16];

	if (satype < sizeof(tab) / sizeof(tab[0]))
		return (tab[satype]);
	snprintf(buf, sizeof(buf), "%u", satype);
	return (buf);
}

static void
shortdump_addr(const struct sadb_address *a)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	const struct sockaddr *sa;
	struct protoent *pe;

	if (a == NULL) {
		printf("?");
		return;
	}
	/* The kernel says 255 (any) for an SA: not worth printing. */
	if (a->sadb_address_proto != 0 &&
	    a->sadb_address_proto != IPSEC_ULPROTO_ANY) {
		if ((pe = getprotobynumber(a->sadb_address_proto)) != NULL)
			printf("%s ", pe->p_name);
		else
			printf("%u ", a->sadb_address_proto);
	}
	sa = (const struct sockaddr *)(const void *)(a + 1);
	if (getnameinfo(sa, (socklen_t)pfkey_salen(sa), host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		printf("?");
		return;
	}
	if (strcmp(serv, "0") != 0)
		printf("%s[%s]", host, serv);
	else
		printf("%s", host);
}

/* -D -l: one line per SA, FreeBSD's shortdump(). */
static void
shortdump(struct sadb_msg *msg)
{
	static const char *const statestr[] = { "L", "M", "D", "d" };
	char *mhp[SADB_EXT_MAX + 1];
	struct sadb_sa *sa;
	struct sadb_lifetime *lts, *lth, *ltc;
	time_t cur = time(NULL);
	u_long t;

	if (pfkey_align(msg, mhp) != 0 || pfkey_check(mhp) != 0)
		return;
	printf("%02lu%02lu", (u_long)(cur % 3600) / 60, (u_long)(cur % 60));
	printf(" %-3s", satypestr(msg->sadb_msg_satype));
	if ((sa = (struct sadb_sa *)(void *)mhp[SADB_EXT_SA]) != NULL) {
		if (sa->sadb_sa_state <= SADB_SASTATE_DEAD)
			printf(" %-1s", statestr[sa->sadb_sa_state]);
		else
			printf(" %-1u", sa->sadb_sa_state);
		printf(" %08x", (uint32_t)ntohl(sa->sadb_sa_spi));
	} else
		printf("%-1s %-8s", "?", "?");

	lts = (struct sadb_lifetime *)(void *)mhp[SADB_EXT_LIFETIME_SOFT];
	lth = (struct sadb_lifetime *)(void *)mhp[SADB_EXT_LIFETIME_HARD];
	ltc = (struct sadb_lifetime *)(void *)mhp[SADB_EXT_LIFETIME_CURRENT];
	if (lts != NULL && lth != NULL && ltc != NULL) {
		if (ltc->sadb_lifetime_addtime == 0)
			t = 0;
		else
			t = (u_long)(cur - (time_t)ltc->sadb_lifetime_addtime);
		if (t >= 1000)
			printf(" big/");
		else
			printf(" %3lu/", t);
		t = (u_long)lth->sadb_lifetime_addtime;
		if (t >= 1000)
			printf("big");
		else
			printf("%-3lu", t);
	} else
		printf(" ??\?/???");
	printf(" ");
	shortdump_addr((struct sadb_address *)(void *)
	    mhp[SADB_EXT_ADDRESS_SRC]);
	printf(" -> ");
	shortdump_addr((struct sadb_address *)(void *)
	    mhp[SADB_EXT_ADDRESS_DST]);
	printf("\n");
}

static void
hexdump(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 16 == 0)
			printf("%08zx: ", i);
		printf("%02x ", p[i]);
		if (i % 16 == 15)
			printf("\n");
	}
	if (len % 16)
		printf("\n");
}

/* -x: every PF_KEY message, forever (SADB_X_PROMISC). */
static void
promisc(void)
{
	struct sadb_msg msg, *m, *base;

	memset(&msg, 0, sizeof(msg));
	msg.sadb_msg_version = PF_KEY_V2;
	msg.sadb_msg_type = SADB_X_PROMISC;
	msg.sadb_msg_satype = 1;
	msg.sadb_msg_len = PFKEY_UNIT64(sizeof(msg));
	msg.sadb_msg_pid = (uint32_t)getpid();
	if (pfkey_send(so, &msg, sizeof(msg)) < 0)
		err(1, "send");

	for (;;) {
		if ((m = pfkey_recv(so)) == NULL) {
			if (errno == ECONNRESET)
				errx(1, "recv: %s", strerror(errno));
			continue;
		}
		printdate();
		if (f_hexdump)
			hexdump(m, PFKEY_UNUNIT64((size_t)m->sadb_msg_len));
		/* A promiscuous copy carries the message after its header. */
		base = m;
		if (m->sadb_msg_type == SADB_X_PROMISC) {
			if (PFKEY_UNUNIT64((size_t)m->sadb_msg_len) >
			    sizeof(*m))
				base = m + 1;
			else
				base = NULL;
		}
		if (base != NULL) {
			kdebug_sadb(base);
			printf("\n");
		}
		fflush(stdout);
		free(m);
	}
}

/* -x: the time of day with microseconds; -xx: the raw timeval. */
static void
printdate(void)
{
	struct timeval tp;
	struct tm tm;
	long s;

	if (gettimeofday(&tp, NULL) == -1) {
		perror("gettimeofday");
		return;
	}
	if (f_tflag == 1) {
		localtime_r(&tp.tv_sec, &tm);
		s = tm.tm_hour * 3600L + tm.tm_min * 60L + tm.tm_sec;
		printf("%02ld:%02ld:%02ld.%06u ", s / 3600, (s % 3600) / 60,
		    s % 60, (unsigned int)tp.tv_usec);
	} else if (f_tflag == 2) {
		printf("%u.%06u ", (unsigned int)tp.tv_sec,
		    (unsigned int)tp.tv_usec);
	}
	printf("\n");
}
