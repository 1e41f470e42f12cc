/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libpfkey: the PF_KEY client library, with the KAME libipsec API
 * (pfkey_open(), pfkey_send_*(), pfkey_recv(), ipsec_set_policy(), ...)
 * so that setkey, IKE daemons and ported programs build unchanged.
 *
 * On a BSD kernel it talks to the native PF_KEY socket.  Elsewhere it
 * connects to netipsecd: an AF_UNIX SOCK_SEQPACKET socket carrying one
 * PF_KEYv2 message per packet, byte for byte.  See libpfkey(3).
 */

#ifndef _LIBPFKEY_H_
#define _LIBPFKEY_H_

#include <sys/types.h>
#include <sys/socket.h>
#include <stdint.h>

#include <netinet/in.h>
#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>

/* Linux calls IPComp's protocol number (108) IPPROTO_COMP. */
#if !defined(IPPROTO_IPCOMP) && defined(IPPROTO_COMP)
#define	IPPROTO_IPCOMP	IPPROTO_COMP
#endif

/*
 * BSD's caddr_t is char *; glibc only has it with _DEFAULT_SOURCE.  The
 * prototypes below spell it char * so that they do not need it, the
 * typedef is for ported sources ("caddr_t mhp[SADB_EXT_MAX + 1]").
 */
#if defined(__GLIBC__) && !defined(__daddr_t_defined)
typedef char	*caddr_t;
#endif

/* The default netipsecd address: in the abstract AF_UNIX namespace. */
#define	PFKEY_UNIX_ABSTRACT	"netipsec.pfkey"
/* Environment variable naming a filesystem socket that overrides it. */
#define	PFKEY_SOCKET_ENV	"PFKEY_SOCKET"

/* Default rate of the SOFT lifetime against the HARD one, in percent. */
#define	PFKEY_SOFT_LIFETIME_RATE	80

/* __ipsec_errcode values (KAME ipsec_strerror.h). */
#define	EIPSEC_NO_ERROR		0	/* success */
#define	EIPSEC_NOT_SUPPORTED	1	/* not supported */
#define	EIPSEC_INVAL_ARGUMENT	2	/* invalid argument */
#define	EIPSEC_INVAL_SADBMSG	3	/* invalid sadb message */
#define	EIPSEC_INVAL_VERSION	4	/* invalid version */
#define	EIPSEC_INVAL_POLICY	5	/* invalid security policy */
#define	EIPSEC_INVAL_ADDRESS	6	/* invalid address specification */
#define	EIPSEC_INVAL_PROTO	7	/* invalid ipsec protocol */
#define	EIPSEC_INVAL_MODE	8	/* invalid ipsec mode */
#define	EIPSEC_INVAL_LEVEL	9	/* invalid ipsec level */
#define	EIPSEC_INVAL_SATYPE	10	/* invalid SA type */
#define	EIPSEC_INVAL_MSGTYPE	11	/* invalid message type */
#define	EIPSEC_INVAL_EXTTYPE	12	/* invalid extension type */
#define	EIPSEC_INVAL_ALGS	13	/* invalid algorithm type */
#define	EIPSEC_INVAL_KEYLEN	14	/* invalid key length */
#define	EIPSEC_INVAL_FAMILY	15	/* invalid address family */
#define	EIPSEC_INVAL_PREFIXLEN	16	/* invalid prefix length */
#define	EIPSEC_INVAL_DIR	17	/* invalid direction */
#define	EIPSEC_INVAL_SPI	18	/* invalid SPI */
#define	EIPSEC_NO_PROTO		19	/* no protocol specified */
#define	EIPSEC_NO_ALGS		20	/* no algorithm specified */
#define	EIPSEC_NO_BUFS		21	/* no buffers available */
#define	EIPSEC_DO_GET_SUPP_LIST	22	/* must get supported algorithm first */
#define	EIPSEC_PROTO_MISMATCH	23	/* protocol mismatch */
#define	EIPSEC_FAMILY_MISMATCH	24	/* family mismatch */
#define	EIPSEC_FEW_ARGUMENTS	25	/* too few arguments */
#define	EIPSEC_SYSTEM_ERROR	26	/* system error */
#define	EIPSEC_MAX		27	/* unknown error */

struct sockaddr;
struct sadb_alg;

/*
 * ipsec-tools' pfkey_send_update2()/pfkey_send_add2() arguments.  Times
 * and byte counts are 64-bit here; l_natt_sport/dport are in host byte
 * order; l_natt_oai/oar are FreeBSD's two NAT-T original addresses.
 */
struct pfkey_send_sa_args {
	int		 so;
	unsigned int	 type;		/* set by the call */
	unsigned int	 satype;
	unsigned int	 mode;
	struct sockaddr	*src;
	struct sockaddr	*dst;
	uint32_t	 spi;		/* network byte order */
	uint32_t	 reqid;
	unsigned int	 wsize;		/* replay window, bytes */
	const char	*keymat;	/* encryption key, then auth key */
	unsigned int	 e_type, e_keylen;
	unsigned int	 a_type, a_keylen;
	unsigned int	 flags;
	uint32_t	 l_alloc;
	uint64_t	 l_bytes;
	uint64_t	 l_addtime;
	uint64_t	 l_usetime;
	uint32_t	 seq;
	uint8_t		 l_natt_type;	/* 0: no NAT-T extensions */
	uint16_t	 l_natt_sport, l_natt_dport;
	struct sockaddr	*l_natt_oai;
	struct sockaddr	*l_natt_oar;
	uint16_t	 l_natt_frag;
};
struct sadb_msg;

__BEGIN_DECLS
extern int	__ipsec_errcode;
void	__ipsec_set_strerror(const char *);

/* Sockets. */
int	pfkey_open(void);
int	pfkey_open_path(const char *);
void	pfkey_close(int);
int	pfkey_send(int, struct sadb_msg *, int);
struct sadb_msg *pfkey_recv(int);

/* Parsing received messages. */
int	pfkey_align(struct sadb_msg *, char **);
int	pfkey_check(char **);
int	pfkey_salen(const struct sockaddr *);

/*
 * Message builders: bytes sent, or -1 with __ipsec_errcode set.  The
 * KAME prototypes, with u_int spelled out (not every host defines it).
 */
int	pfkey_send_getspi(int, unsigned int, unsigned int, struct sockaddr *,
	    struct sockaddr *, uint32_t, uint32_t, uint32_t, uint32_t);
int	pfkey_send_update(int, unsigned int, unsigned int, struct sockaddr *,
	    struct sockaddr *, uint32_t, uint32_t, unsigned int, char *,
	    unsigned int, unsigned int, unsigned int, unsigned int,
	    unsigned int, uint32_t, uint64_t, uint64_t, uint64_t, uint32_t);
int	pfkey_send_add(int, unsigned int, unsigned int, struct sockaddr *,
	    struct sockaddr *, uint32_t, uint32_t, unsigned int, char *,
	    unsigned int, unsigned int, unsigned int, unsigned int,
	    unsigned int, uint32_t, uint64_t, uint64_t, uint64_t, uint32_t);
int	pfkey_send_update2(struct pfkey_send_sa_args *);
int	pfkey_send_add2(struct pfkey_send_sa_args *);
int	pfkey_send_delete(int, unsigned int, unsigned int, struct sockaddr *,
	    struct sockaddr *, uint32_t);
int	pfkey_send_delete_all(int, unsigned int, unsigned int,
	    struct sockaddr *, struct sockaddr *);
int	pfkey_send_get(int, unsigned int, unsigned int, struct sockaddr *,
	    struct sockaddr *, uint32_t);
int	pfkey_send_register(int, unsigned int);
int	pfkey_recv_register(int);
int	pfkey_set_supported(struct sadb_msg *, int);
int	pfkey_send_flush(int, unsigned int);
int	pfkey_send_dump(int, unsigned int);
int	pfkey_send_promisc_toggle(int, int);
int	pfkey_send_spdadd(int, struct sockaddr *, unsigned int,
	    struct sockaddr *, unsigned int, unsigned int, char *, int,
	    uint32_t);
int	pfkey_send_spdadd2(int, struct sockaddr *, unsigned int,
	    struct sockaddr *, unsigned int, unsigned int, uint64_t, uint64_t,
	    char *, int, uint32_t);
int	pfkey_send_spdupdate(int, struct sockaddr *, unsigned int,
	    struct sockaddr *, unsigned int, unsigned int, char *, int,
	    uint32_t);
int	pfkey_send_spdupdate2(int, struct sockaddr *, unsigned int,
	    struct sockaddr *, unsigned int, unsigned int, uint64_t, uint64_t,
	    char *, int, uint32_t);
int	pfkey_send_spddelete(int, struct sockaddr *, unsigned int,
	    struct sockaddr *, unsigned int, unsigned int, char *, int,
	    uint32_t);
int	pfkey_send_spddelete2(int, uint32_t);
int	pfkey_send_spdget(int, uint32_t);
int	pfkey_send_spdsetidx(int, struct sockaddr *, unsigned int,
	    struct sockaddr *, unsigned int, unsigned int, char *, int,
	    uint32_t);
int	pfkey_send_spdflush(int);
int	pfkey_send_spddump(int);

/* Algorithms the kernel supports (after pfkey_recv_register()). */
int	ipsec_check_keylen(unsigned int, unsigned int, unsigned int);
int	ipsec_check_keylen2(unsigned int, unsigned int, unsigned int);
int	ipsec_get_keylen(unsigned int, unsigned int, struct sadb_alg *);
unsigned int pfkey_set_softrate(unsigned int, unsigned int);
unsigned int pfkey_get_softrate(unsigned int);

/*
 * A socket's own policies (FreeBSD's IP_IPSEC_POLICY and
 * IPV6_IPSEC_POLICY, which these are on a BSD; netipsecd's policy socket
 * elsewhere, where the socket must be bound first).  "policy" is what
 * ipsec_set_policy() makes, for one direction.  0, or -1 with errno.
 * See ipsec_setsockpolicy(3).
 */
int	ipsec_setsockpolicy(int, const void *, size_t);
int	ipsec_getsockpolicy(int, int, void *, size_t *);
int	ipsec_closesockpolicy(int);

/* Formatters: setkey -D, setkey -DP, setkey -v. */
void	pfkey_sadump(struct sadb_msg *);
void	pfkey_spdump(struct sadb_msg *);
void	kdebug_sadb(struct sadb_msg *);
void	ipsec_hexdump(char *, int);
void	ipsec_bindump(char *, int);
__END_DECLS

#endif /* !_LIBPFKEY_H_ */
