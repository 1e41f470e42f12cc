/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer target for iked's responder (sbin/iked/ikesa.c, ikev1.c,
 * ikev2.c): whole datagrams from one peer go through ikesa_recv() as
 * they would from the socket, so the state machines run: IKEv1 Main
 * Mode's proposal choice, the key exchange and NAT-D of MM3; IKEv2's
 * IKE_SA_INIT (proposals, KE, NAT detection, cookies, INVALID_KE) and
 * the SK payload checks of what follows; and everything a later message
 * reaches.  The input is a sequence of records
 *
 *	natt (1 byte: odd = port 4500) | length (2 bytes, big endian) | datagram
 *
 * The kernel and the sockets are absent (their descriptors are -1: what
 * iked sends fails and is logged), the configuration is one passive
 * rule for any peer.  Randomness is a counter reset for every input, so
 * the responder's cookie is the same each time and a seed's MM3 finds
 * its SA (and a cookie is not needed); DH keys still come from OpenSSL.  After each input every SA
 * is torn down the way SIGTERM does it.
 *
 * Built and run by regress/fuzz/run.sh; seeds in corpus/iked: a real
 * MM1, MM3 and MM5, and a real IKE_SA_INIT and IKE_AUTH, captured
 * between two ikeds.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event2/event.h>

#include "iked.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct iked	*iked_env;
static struct iked env;
static struct sockaddr_in local, peer;
static uint32_t	 rnd;

/* Deterministic "randomness" for cookies, SPIs and message IDs. */
void
arc4random_buf(void *buf, size_t n)
{
	uint8_t	*p = buf;
	size_t	 i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(++rnd * 0x9d);
}

uint32_t
arc4random(void)
{
	uint32_t	 v;

	arc4random_buf(&v, sizeof(v));
	return (v);
}

static const char conf[] =
    "set dpd_check_interval 30\n"
    "ikev1 \"any\" passive esp transport from any to any peer any "
    "main enc aes-128 auth hmac-sha2-256 group modp2048 "
    "main enc 3des auth hmac-sha1 group modp1024 "
    "quick enc aes-128-gcm quick enc aes-256 auth hmac-sha2-256 "
    "group modp2048 psk \"fuzz\"\n"
    "ikev2 \"any2\" passive esp transport from any to any peer any "
    "ikesa enc aes-128-gcm prf hmac-sha2-256 group curve25519 group ecp256 "
    "ikesa enc aes-256 auth hmac-sha2-256 prf hmac-sha2-256 group modp2048 "
    "childsa enc aes-128-gcm childsa enc aes-256 auth hmac-sha2-256 "
    "psk \"fuzz\"\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct iked_config	*cf;
	int			 i;

	(void)argc;
	(void)argv;
	log_init(0, LOG_DAEMON);
	log_setverbose(0);
	group_setweak(1);
	memset(&env, 0, sizeof(env));
	env.sc_conffile = "fuzz";
	env.sc_port = 500;
	env.sc_nattport = 4500;
	env.sc_pfkey = -1;
	for (i = 0; i < IKED_SOCK_MAX; i++)
		env.sc_sock[i] = -1;
	ikesa_init(&env);
	kernel_spd_init(&env);
	if ((env.sc_evbase = event_base_new()) == NULL)
		abort();
	if (parse_buffer("fuzz", conf, sizeof(conf) - 1,
	    PARSE_NOINCLUDE | PARSE_NORESOLVE, &cf) == -1)
		abort();
	config_setrunning(&env, cf);
	iked_env = &env;
	local.sin_family = peer.sin_family = AF_INET;
	local.sin_port = peer.sin_port = htons(500);
	inet_pton(AF_INET, "192.0.2.2", &local.sin_addr);
	inet_pton(AF_INET, "192.0.2.1", &peer.sin_addr);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in	 l = local, p = peer;
	size_t			 len;
	int			 natt;

	rnd = 0;
	while (size >= 3) {
		natt = data[0] & 1;
		len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		l.sin_port = htons(natt ? 4500 : 500);
		p.sin_port = htons(natt ? 4500 : 500);
		ikesa_recv(&env, natt, (struct sockaddr *)&l,
		    (struct sockaddr *)&p, data, len);
		data += len;
		size -= len;
	}
	iked_shutdown_sas(&env);
	return (0);
}
