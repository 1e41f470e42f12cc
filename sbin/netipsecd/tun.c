/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Route-based tunnels: the ipsecN interfaces of if_ipsec(4), each a TUN
 * device netipsecd owns (Linux).  The layer (sys/netipsec/ipsec_if.c)
 * knows an interface by its index and gives it a reqid, tunnel
 * endpoints and its four ifnet-scope policies; here the device is made
 * and configured (the control socket's "if" verbs, ipsecif(8)), what
 * the host routes into it is read and handed to ipsec_if_output(),
 * whose ESP goes out through the raw socket (rawout.c), and what the
 * layer takes out of the interface's tunnel (ipsec_hook_setifinput())
 * is written to the device, so that it arrives on ipsecN.  The devices
 * live as long as netipsecd: they go when it exits.  On a BSD the layer
 * is the kernel's, with FreeBSD's own if_ipsec(4).
 */

#define	_GNU_SOURCE

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <netipsec/ipsec_hook.h>
#include <ukern/ukern_hook.h>

#include "netipsecd.h"

#define	TUN_DEV		"/dev/net/tun"
#define	TUN_MTU		1400		/* FreeBSD's IPSEC_MTU */
#define	TUN_MAX		64		/* interfaces */
#define	TUN_BURST	64		/* packets read per event */
#define	TUN_COOKIE	(1ULL << 63)	/* a held packet of ours */

struct tun {
	LIST_ENTRY(tun)	 t_link;
	char		 t_name[IF_NAMESIZE];
	unsigned int	 t_index;
	int		 t_fd;
	struct event	*t_ev;
	uint64_t	 t_opackets, t_ipackets, t_oerrors;
};

static LIST_HEAD(, tun) tuns = LIST_HEAD_INITIALIZER(tuns);
static pthread_rwlock_t tun_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct event_base *tun_base;
static int tun_ntuns;

static void	tun_read(int, short, void *);
static void	tun_input(void *, unsigned int, struct mbuf *);

void
tun_start(struct event_base *base)
{
	tun_base = base;
	ipsec_hook_setifinput(tun_input, NULL);
}

/* Every interface goes, as netipsecd does. */
void
tun_stop(void)
{
	struct tun	*t;

	ipsec_hook_setifinput(NULL, NULL);
	pthread_rwlock_wrlock(&tun_lock);
	while ((t = LIST_FIRST(&tuns)) != NULL) {
		LIST_REMOVE(t, t_link);
		(void)ipsec_if_destroy(t->t_index);
		event_free(t->t_ev);
		close(t->t_fd);
		free(t);
	}
	tun_ntuns = 0;
	pthread_rwlock_unlock(&tun_lock);
}

static struct tun *
tun_byname(const char *name)
{
	struct tun	*t;

	LIST_FOREACH(t, &tuns, t_link)
		if (strcmp(t->t_name, name) == 0)
			return (t);
	return (NULL);
}

/* ipsecN, as FreeBSD names them. */
static int
tun_name_ok(const char *name)
{
	const char	*p;

	if (strncmp(name, "ipsec", 5) != 0 || name[5] == '\0' ||
	    strlen(name) >= IF_NAMESIZE)
		return (0);
	for (p = name + 5; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return (0);
	return (1);
}

/* The device's MTU and flags, through an ordinary socket's ioctls. */
static int
tun_ifconfig(const char *name, int mtu, int up)
{
	struct ifreq	 ifr;
	int		 s, error = 0;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (errno);
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	if (mtu > 0) {
		ifr.ifr_mtu = mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) == -1)
			error = errno;
	}
	if (error == 0 && up) {
		if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1 ||
		    (ifr.ifr_flags |= IFF_UP,
		    ioctl(s, SIOCSIFFLAGS, &ifr) == -1))
			error = errno;
	}
	close(s);
	return (error);
}

static int
tun_getmtu(const char *name)
{
	struct ifreq	 ifr;
	int		 s, mtu = 0;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	close(s);
	return (mtu);
}

static int
tun_create(const char *name, uint32_t reqid, int mtu, FILE *fp)
{
	struct ifreq	 ifr;
	struct tun	*t;
	int		 fd, error;

	if (!rawout_ready()) {
		fprintf(fp, "error: netipsecd hooks no interface (-i): "
		    "no way out for ESP\n");
		return (-1);
	}
	if (tun_byname(name) != NULL || if_nametoindex(name) != 0) {
		fprintf(fp, "error: %s exists\n", name);
		return (-1);
	}
	if (tun_ntuns >= TUN_MAX) {
		fprintf(fp, "error: %d interfaces already\n", TUN_MAX);
		return (-1);
	}
	if ((fd = open(TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1) {
		fprintf(fp, "error: %s: %s\n", TUN_DEV, strerror(errno));
		return (-1);
	}
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		fprintf(fp, "error: %s: %s\n", name, strerror(errno));
		close(fd);
		return (-1);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		fprintf(fp, "error: %s\n", strerror(ENOMEM));
		close(fd);
		return (-1);
	}
	strlcpy(t->t_name, name, sizeof(t->t_name));
	t->t_fd = fd;
	t->t_index = if_nametoindex(name);
	if (t->t_index == 0 ||
	    (error = tun_ifconfig(name, mtu > 0 ? mtu : TUN_MTU, 1)) != 0 ||
	    (error = ipsec_if_create(t->t_index, reqid)) != 0) {
		if (t->t_index == 0)
			error = errno;
		fprintf(fp, "error: %s: %s\n", name, error == EEXIST ?
		    "reqid in use by another interface" : strerror(error));
		close(fd);
		free(t);
		return (-1);
	}
	if ((t->t_ev = event_new(tun_base, fd, EV_READ | EV_PERSIST, tun_read,
	    t)) == NULL || event_add(t->t_ev, NULL) == -1) {
		fprintf(fp, "error: %s: no event\n", name);
		(void)ipsec_if_destroy(t->t_index);
		if (t->t_ev != NULL)
			event_free(t->t_ev);
		close(fd);
		free(t);
		return (-1);
	}
	pthread_rwlock_wrlock(&tun_lock);
	LIST_INSERT_HEAD(&tuns, t, t_link);
	tun_ntuns++;
	pthread_rwlock_unlock(&tun_lock);
	log_info("%s: created (index %u)", name, t->t_index);
	return (0);
}

static void
tun_destroy(struct tun *t)
{
	(void)ipsec_if_destroy(t->t_index);
	pthread_rwlock_wrlock(&tun_lock);
	LIST_REMOVE(t, t_link);
	tun_ntuns--;
	pthread_rwlock_unlock(&tun_lock);
	event_free(t->t_ev);
	close(t->t_fd);
	log_info("%s: destroyed", t->t_name);
	free(t);
}

/* What the host routed into the interface: protected, sent. */
static void
tun_read(int fd, short event __attribute__((__unused__)), void *arg)
{
	struct tun	*t = arg;
	static uint8_t	 buf[65536];
	struct mbuf	*m;
	const void	*out;
	size_t		 outlen;
	ssize_t		 n;
	int		 i, v;

	for (i = 0; i < TUN_BURST; i++) {
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			return;
		t->t_opackets++;
		if ((m = ukern_m_frombuf(buf, (size_t)n)) == NULL) {
			t->t_oerrors++;
			continue;
		}
		v = ipsec_if_output(t->t_index, &m,
		    TUN_COOKIE | t->t_index);
		if (v == IPSEC_HOOK_REPLACE) {
			if ((out = ukern_m_flat(&m, &outlen)) == NULL ||
			    rawout_packet(out, outlen) != 0)
				t->t_oerrors++;
		} else if (v == IPSEC_HOOK_DROP)
			t->t_oerrors++;
		if (m != NULL)
			ukern_m_freem(m);
	}
}

/* A held packet of an interface's, released (nfq_release()). */
int
tun_release(uint64_t cookie, int verdict, struct mbuf *m)
{
	const void	*out;
	size_t		 outlen;

	if ((cookie & TUN_COOKIE) == 0)
		return (0);
	if (verdict == IPSEC_HOOK_REPLACE && m != NULL &&
	    (out = ukern_m_flat(&m, &outlen)) != NULL)
		(void)rawout_packet(out, outlen);
	if (m != NULL)
		ukern_m_freem(m);
	return (1);
}

/* ipsec_ifinput_t: out of an interface's tunnel, into the interface. */
static void
tun_input(void *arg __attribute__((__unused__)), unsigned int ifindex,
    struct mbuf *m)
{
	struct tun	*t;
	const void	*p;
	size_t		 len;

	if ((p = ukern_m_flat(&m, &len)) != NULL) {
		pthread_rwlock_rdlock(&tun_lock);
		LIST_FOREACH(t, &tuns, t_link)
			if (t->t_index == ifindex)
				break;
		if (t != NULL && write(t->t_fd, p, len) == (ssize_t)len)
			t->t_ipackets++;
		pthread_rwlock_unlock(&tun_lock);
	}
	if (m != NULL)
		ukern_m_freem(m);
}

static int
tun_addr(const char *s, struct sockaddr_storage *ss)
{
	struct addrinfo	 hints, *ai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(s, NULL, &hints, &ai) != 0)
		return (-1);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return (0);
}

static int
tun_number(const char *s, long max, long *v)
{
	char	*end;

	errno = 0;
	*v = strtol(s, &end, 0);
	return (errno != 0 || end == s || *end != '\0' || *v < 0 || *v > max ?
	    -1 : 0);
}

/* One interface, as ifconfig(8) shows an if_ipsec(4) one. */
static void
tun_show(const struct tun *t, FILE *fp)
{
	struct sockaddr_storage	 src, dst;
	char			 s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	uint32_t		 reqid;

	fprintf(fp, "%s: index %u mtu %d\n", t->t_name, t->t_index,
	    tun_getmtu(t->t_name));
	if (ipsec_if_get(t->t_index, &src, &dst, &reqid) != 0)
		return;
	if (src.ss_family == AF_INET)
		fprintf(fp, "\ttunnel inet %s --> %s\n",
		    inet_ntop(AF_INET, &((struct sockaddr_in *)&src)->sin_addr,
		    s, sizeof(s)), inet_ntop(AF_INET,
		    &((struct sockaddr_in *)&dst)->sin_addr, d, sizeof(d)));
	else if (src.ss_family == AF_INET6)
		fprintf(fp, "\ttunnel inet6 %s --> %s\n",
		    inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)&src)->sin6_addr, s, sizeof(s)),
		    inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)&dst)->sin6_addr, d, sizeof(d)));
	fprintf(fp, "\treqid: %u\n", reqid);
	fprintf(fp, "\tpackets: %ju out, %ju in, %ju errors out\n",
	    (uintmax_t)t->t_opackets, (uintmax_t)t->t_ipackets,
	    (uintmax_t)t->t_oerrors);
}

/*
 * The control socket's "if" request: ifconfig(8)'s words for an
 * if_ipsec(4) interface (see ipsecif(8)).  The answer starts with "ok"
 * or "error: why"; what is shown follows.
 *
 *	[name]				show
 *	name create [reqid N] [mtu N] [tunnel SRC DST]
 *	name tunnel SRC DST | -tunnel | reqid N | mtu N ...
 *	name destroy
 */
void
tun_ctl(int argc, char **argv, FILE *fp)
{
	struct sockaddr_storage	 src, dst;
	struct tun		*t;
	const char		*name;
	long			 v, reqid = 0, mtu = 0;
	int			 i, w, error, create = 0;

	if (argc == 0) {
		fprintf(fp, "ok\n");
		LIST_FOREACH(t, &tuns, t_link)
			tun_show(t, fp);
		return;
	}
	name = argv[0];
	if (!tun_name_ok(name)) {
		fprintf(fp, "error: %s: not an ipsecN name\n", name);
		return;
	}
	t = tun_byname(name);
	if (argc == 1) {
		if (t == NULL) {
			fprintf(fp, "error: %s: no such interface\n", name);
			return;
		}
		fprintf(fp, "ok\n");
		tun_show(t, fp);
		return;
	}
	if (strcmp(argv[1], "destroy") == 0 && argc == 2) {
		if (t == NULL) {
			fprintf(fp, "error: %s: no such interface\n", name);
			return;
		}
		tun_destroy(t);
		fprintf(fp, "ok\n");
		return;
	}
	/* Check every word before anything changes. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "create") == 0 && i == 1)
			create = 1;
		else if (strcmp(argv[i], "-tunnel") == 0)
			continue;
		else if (strcmp(argv[i], "reqid") == 0 && i + 1 < argc) {
			if (tun_number(argv[++i], 0x3fff, &reqid) == -1) {
				fprintf(fp, "error: reqid %s: not 0 to "
				    "16383\n", argv[i]);
				return;
			}
		} else if (strcmp(argv[i], "mtu") == 0 && i + 1 < argc) {
			if (tun_number(argv[++i], 65535, &mtu) == -1 ||
			    mtu < 576) {
				fprintf(fp, "error: mtu %s: not 576 to "
				    "65535\n", argv[i]);
				return;
			}
		} else if (strcmp(argv[i], "tunnel") == 0 && i + 2 < argc) {
			if (tun_addr(argv[i + 1], &src) == -1 ||
			    tun_addr(argv[i + 2], &dst) == -1 ||
			    src.ss_family != dst.ss_family) {
				fprintf(fp, "error: tunnel %s %s: not two "
				    "addresses of one family\n", argv[i + 1],
				    argv[i + 2]);
				return;
			}
			i += 2;
		} else {
			fprintf(fp, "error: %s: unknown or incomplete\n",
			    argv[i]);
			return;
		}
	}
	if (create) {
		if (tun_create(name, (uint32_t)reqid, (int)mtu, fp) == -1)
			return;
		t = tun_byname(name);
	} else if (t == NULL) {
		fprintf(fp, "error: %s: no such interface\n", name);
		return;
	}
	for (i = 1 + create; i < argc; i++) {
		error = 0;
		w = i;
		if (strcmp(argv[i], "-tunnel") == 0)
			error = ipsec_if_deltunnel(t->t_index);
		else if (strcmp(argv[i], "reqid") == 0) {
			(void)tun_number(argv[++i], 0x3fff, &v);
			if (!create)
				error = ipsec_if_setreqid(t->t_index,
				    (uint32_t)v);
		} else if (strcmp(argv[i], "mtu") == 0) {
			(void)tun_number(argv[++i], 65535, &v);
			if (!create)
				error = tun_ifconfig(t->t_name, (int)v, 0);
		} else if (strcmp(argv[i], "tunnel") == 0) {
			(void)tun_addr(argv[i + 1], &src);
			(void)tun_addr(argv[i + 2], &dst);
			i += 2;
			error = ipsec_if_settunnel(t->t_index,
			    (struct sockaddr *)&src, (struct sockaddr *)&dst);
		}
		if (error != 0) {
			fprintf(fp, "error: %s %s: %s\n", name, argv[w],
			    error == EEXIST ? "reqid in use by another "
			    "interface" : strerror(error));
			return;
		}
	}
	fprintf(fp, "ok\n");
}
