/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IKEv2 wire format: RFC 7296 and the IANA "IKEv2 Parameters" registry,
 * with RFC 7383 (fragmentation), RFC 7427 (signature hash algorithms),
 * RFC 8031 (Curve25519/448) and RFC 9242 (IKE_INTERMEDIATE).  Constants
 * and the packed layouts of the fixed parts; the variable parts are
 * read with bounds checks in ikemsg.c and ikev2_pld.c.
 */

#ifndef IKEV2_H
#define IKEV2_H

#include <stdint.h>

#define IKEV2_VERSION		0x20	/* major 2, minor 0 */
#define IKEV2_VERSION_MAJOR(v)	(((v) >> 4) & 0x0f)

#define IKEV2_PORT		500
#define IKEV2_NATT_PORT		4500
#define IKEV2_NONESP_MARKER_LEN	4	/* four zero bytes on port 4500 */

#define IKEV2_NONCE_MIN		16
#define IKEV2_NONCE_MAX		256
#define IKEV2_SPI_LEN		8	/* IKE SA SPI */

/* 3.1 The IKE header */
struct ikev2_header {
	uint8_t		 ike_ispi[8];
	uint8_t		 ike_rspi[8];
	uint8_t		 ike_nextpayload;
	uint8_t		 ike_version;
	uint8_t		 ike_exchange;
	uint8_t		 ike_flags;
	uint32_t	 ike_msgid;
	uint32_t	 ike_length;
} __attribute__((__packed__));

/* Exchange types */
#define IKEV2_EXCHANGE_IKE_SA_INIT		34
#define IKEV2_EXCHANGE_IKE_AUTH			35
#define IKEV2_EXCHANGE_CREATE_CHILD_SA		36
#define IKEV2_EXCHANGE_INFORMATIONAL		37
#define IKEV2_EXCHANGE_IKE_SESSION_RESUME	38	/* RFC 5723 */
#define IKEV2_EXCHANGE_IKE_INTERMEDIATE		43	/* RFC 9242 */

/* Header flags */
#define IKEV2_FLAG_INITIATOR	0x08
#define IKEV2_FLAG_VERSION	0x10	/* "I could speak a higher version" */
#define IKEV2_FLAG_RESPONSE	0x20

/* 3.2 Generic payload header */
struct ikev2_payload {
	uint8_t		 pld_nextpayload;
	uint8_t		 pld_flags;	/* critical bit, 7 reserved bits */
	uint16_t	 pld_length;	/* with this header */
} __attribute__((__packed__));

#define IKEV2_CRITICAL_PAYLOAD	0x80

/* Payload types */
#define IKEV2_PAYLOAD_NONE	0
#define IKEV2_PAYLOAD_SA	33	/* Security Association */
#define IKEV2_PAYLOAD_KE	34	/* Key Exchange */
#define IKEV2_PAYLOAD_IDi	35	/* Identification - Initiator */
#define IKEV2_PAYLOAD_IDr	36	/* Identification - Responder */
#define IKEV2_PAYLOAD_CERT	37	/* Certificate */
#define IKEV2_PAYLOAD_CERTREQ	38	/* Certificate Request */
#define IKEV2_PAYLOAD_AUTH	39	/* Authentication */
#define IKEV2_PAYLOAD_NONCE	40	/* Nonce */
#define IKEV2_PAYLOAD_NOTIFY	41	/* Notify */
#define IKEV2_PAYLOAD_DELETE	42	/* Delete */
#define IKEV2_PAYLOAD_VENDOR	43	/* Vendor ID */
#define IKEV2_PAYLOAD_TSi	44	/* Traffic Selector - Initiator */
#define IKEV2_PAYLOAD_TSr	45	/* Traffic Selector - Responder */
#define IKEV2_PAYLOAD_SK	46	/* Encrypted and Authenticated */
#define IKEV2_PAYLOAD_CP	47	/* Configuration */
#define IKEV2_PAYLOAD_EAP	48	/* Extensible Authentication */
#define IKEV2_PAYLOAD_GSPM	49	/* RFC 6467 */
#define IKEV2_PAYLOAD_SKF	53	/* Encrypted Fragment, RFC 7383 */

/* 3.3 Security Association payload: proposal substructure */
struct ikev2_sa_proposal {
	uint8_t		 sap_more;	/* 0 last, 2 more */
	uint8_t		 sap_reserved;
	uint16_t	 sap_length;
	uint8_t		 sap_proposalnr;
	uint8_t		 sap_protoid;
	uint8_t		 sap_spisize;
	uint8_t		 sap_transforms;
	/* followed by the SPI and the transforms */
} __attribute__((__packed__));

#define IKEV2_SAP_LAST		0
#define IKEV2_SAP_MORE		2

/* Protocol IDs */
#define IKEV2_SAPROTO_NONE	0
#define IKEV2_SAPROTO_IKE	1
#define IKEV2_SAPROTO_AH	2
#define IKEV2_SAPROTO_ESP	3

/* 3.3.2 Transform substructure */
struct ikev2_transform {
	uint8_t		 xfrm_more;	/* 0 last, 3 more */
	uint8_t		 xfrm_reserved;
	uint16_t	 xfrm_length;
	uint8_t		 xfrm_type;
	uint8_t		 xfrm_reserved1;
	uint16_t	 xfrm_id;
	/* followed by attributes */
} __attribute__((__packed__));

#define IKEV2_XFORM_LAST	0
#define IKEV2_XFORM_MORE	3

/* Transform types */
#define IKEV2_XFORMTYPE_ENCR	1
#define IKEV2_XFORMTYPE_PRF	2
#define IKEV2_XFORMTYPE_INTEG	3
#define IKEV2_XFORMTYPE_DH	4	/* "Key Exchange Method" since RFC 9370 */
#define IKEV2_XFORMTYPE_ESN	5
#define IKEV2_XFORMTYPE_MAX	6

/* Transform type 1: encryption */
#define IKEV2_XFORMENCR_NONE			0
#define IKEV2_XFORMENCR_DES_IV64		1
#define IKEV2_XFORMENCR_DES			2
#define IKEV2_XFORMENCR_3DES			3
#define IKEV2_XFORMENCR_RC5			4
#define IKEV2_XFORMENCR_IDEA			5
#define IKEV2_XFORMENCR_CAST			6
#define IKEV2_XFORMENCR_BLOWFISH		7
#define IKEV2_XFORMENCR_3IDEA			8
#define IKEV2_XFORMENCR_DES_IV32		9
#define IKEV2_XFORMENCR_NULL			11
#define IKEV2_XFORMENCR_AES_CBC			12
#define IKEV2_XFORMENCR_AES_CTR			13
#define IKEV2_XFORMENCR_AES_CCM_8		14
#define IKEV2_XFORMENCR_AES_CCM_12		15
#define IKEV2_XFORMENCR_AES_CCM_16		16
#define IKEV2_XFORMENCR_AES_GCM_8		18
#define IKEV2_XFORMENCR_AES_GCM_12		19
#define IKEV2_XFORMENCR_AES_GCM_16		20
#define IKEV2_XFORMENCR_NULL_AES_GMAC		21
#define IKEV2_XFORMENCR_CAMELLIA_CBC		23
#define IKEV2_XFORMENCR_CAMELLIA_CTR		24
#define IKEV2_XFORMENCR_CAMELLIA_CCM_8		25
#define IKEV2_XFORMENCR_CAMELLIA_CCM_12		26
#define IKEV2_XFORMENCR_CAMELLIA_CCM_16		27
#define IKEV2_XFORMENCR_CHACHA20_POLY1305	28	/* RFC 7634 */

/* Transform type 2: pseudorandom function */
#define IKEV2_XFORMPRF_HMAC_MD5			1
#define IKEV2_XFORMPRF_HMAC_SHA1		2
#define IKEV2_XFORMPRF_HMAC_TIGER		3
#define IKEV2_XFORMPRF_AES128_XCBC		4
#define IKEV2_XFORMPRF_HMAC_SHA2_256		5
#define IKEV2_XFORMPRF_HMAC_SHA2_384		6
#define IKEV2_XFORMPRF_HMAC_SHA2_512		7
#define IKEV2_XFORMPRF_AES128_CMAC		8

/* Transform type 3: integrity */
#define IKEV2_XFORMAUTH_NONE			0
#define IKEV2_XFORMAUTH_HMAC_MD5_96		1
#define IKEV2_XFORMAUTH_HMAC_SHA1_96		2
#define IKEV2_XFORMAUTH_DES_MAC			3
#define IKEV2_XFORMAUTH_KPDK_MD5		4
#define IKEV2_XFORMAUTH_AES_XCBC_96		5
#define IKEV2_XFORMAUTH_HMAC_MD5_128		6
#define IKEV2_XFORMAUTH_HMAC_SHA1_160		7
#define IKEV2_XFORMAUTH_AES_CMAC_96		8
#define IKEV2_XFORMAUTH_AES_128_GMAC		9
#define IKEV2_XFORMAUTH_AES_192_GMAC		10
#define IKEV2_XFORMAUTH_AES_256_GMAC		11
#define IKEV2_XFORMAUTH_HMAC_SHA2_256_128	12
#define IKEV2_XFORMAUTH_HMAC_SHA2_384_192	13
#define IKEV2_XFORMAUTH_HMAC_SHA2_512_256	14

/* Transform type 4: Diffie-Hellman group (the same numbers in IKEv1) */
#define IKEV2_XFORMDH_NONE			0
#define IKEV2_XFORMDH_MODP_768			1
#define IKEV2_XFORMDH_MODP_1024			2
#define IKEV2_XFORMDH_MODP_1536			5
#define IKEV2_XFORMDH_MODP_2048			14
#define IKEV2_XFORMDH_MODP_3072			15
#define IKEV2_XFORMDH_MODP_4096			16
#define IKEV2_XFORMDH_MODP_6144			17
#define IKEV2_XFORMDH_MODP_8192			18
#define IKEV2_XFORMDH_ECP_256			19
#define IKEV2_XFORMDH_ECP_384			20
#define IKEV2_XFORMDH_ECP_521			21
#define IKEV2_XFORMDH_MODP_1024_160		22
#define IKEV2_XFORMDH_MODP_2048_224		23
#define IKEV2_XFORMDH_MODP_2048_256		24
#define IKEV2_XFORMDH_ECP_192			25
#define IKEV2_XFORMDH_ECP_224			26
#define IKEV2_XFORMDH_BRAINPOOL_P224R1		27
#define IKEV2_XFORMDH_BRAINPOOL_P256R1		28
#define IKEV2_XFORMDH_BRAINPOOL_P384R1		29
#define IKEV2_XFORMDH_BRAINPOOL_P512R1		30
#define IKEV2_XFORMDH_CURVE25519		31
#define IKEV2_XFORMDH_CURVE448			32
#define IKEV2_XFORMDH_ML_KEM_512		35
#define IKEV2_XFORMDH_ML_KEM_768		36
#define IKEV2_XFORMDH_ML_KEM_1024		37

/* Transform type 5: extended sequence numbers */
#define IKEV2_XFORMESN_NONE			0
#define IKEV2_XFORMESN_ESN			1

/* 3.3.5 Transform attributes */
struct ikev2_attribute {
	uint16_t	 attr_type;	/* IKEV2_ATTRAF_TV | type */
	uint16_t	 attr_length;	/* TV: the value */
} __attribute__((__packed__));

#define IKEV2_ATTRAF_TV		0x8000	/* attribute format: TV */
#define IKEV2_ATTRAF_TYPE	0x7fff
#define IKEV2_ATTR_KEY_LENGTH	14	/* TV, bits */

/* 3.4 Key Exchange payload */
struct ikev2_keyexchange {
	uint16_t	 kex_dhgroup;
	uint16_t	 kex_reserved;
	/* followed by the key exchange data */
} __attribute__((__packed__));

/* 3.5 Identification payloads */
struct ikev2_id {
	uint8_t		 id_type;
	uint8_t		 id_reserved[3];
	/* followed by the identification data */
} __attribute__((__packed__));

#define IKEV2_ID_NONE		0
#define IKEV2_ID_IPV4		1
#define IKEV2_ID_FQDN		2
#define IKEV2_ID_UFQDN		3	/* RFC822_ADDR */
#define IKEV2_ID_IPV6		5
#define IKEV2_ID_ASN1_DN	9
#define IKEV2_ID_ASN1_GN	10
#define IKEV2_ID_KEY_ID		11
#define IKEV2_ID_FC_NAME	12
#define IKEV2_ID_NULL		13	/* RFC 7619 */

/* 3.6 Certificate and 3.7 Certificate Request payloads */
struct ikev2_cert {
	uint8_t		 cert_type;	/* encoding */
	/* followed by the data */
} __attribute__((__packed__));

#define IKEV2_CERT_NONE			0
#define IKEV2_CERT_X509_PKCS7		1
#define IKEV2_CERT_PGP			2
#define IKEV2_CERT_DNS_SIGNED_KEY	3
#define IKEV2_CERT_X509_CERT		4
#define IKEV2_CERT_KERBEROS_TOKEN	6
#define IKEV2_CERT_CRL			7
#define IKEV2_CERT_ARL			8
#define IKEV2_CERT_SPKI			9
#define IKEV2_CERT_X509_ATTR		10
#define IKEV2_CERT_RSA_KEY		11
#define IKEV2_CERT_HASHURL_X509		12
#define IKEV2_CERT_HASHURL_X509_BUNDLE	13
#define IKEV2_CERT_OCSP			14
#define IKEV2_CERT_RAW_PUBKEY		15	/* RFC 7670 */

/* 3.8 Authentication payload */
struct ikev2_auth {
	uint8_t		 auth_method;
	uint8_t		 auth_reserved[3];
	/* followed by the authentication data */
} __attribute__((__packed__));

#define IKEV2_AUTH_NONE			0
#define IKEV2_AUTH_RSA_SIG		1
#define IKEV2_AUTH_SHARED_KEY_MIC	2
#define IKEV2_AUTH_DSS_SIG		3
#define IKEV2_AUTH_ECDSA_256		9
#define IKEV2_AUTH_ECDSA_384		10
#define IKEV2_AUTH_ECDSA_521		11
#define IKEV2_AUTH_GSPM			12
#define IKEV2_AUTH_NULL			13
#define IKEV2_AUTH_SIG			14	/* RFC 7427 */

/* RFC 7427 hash algorithms (SIGNATURE_HASH_ALGORITHMS data, 2 bytes each) */
#define IKEV2_SIGHASH_RESERVED		0
#define IKEV2_SIGHASH_SHA1		1
#define IKEV2_SIGHASH_SHA2_256		2
#define IKEV2_SIGHASH_SHA2_384		3
#define IKEV2_SIGHASH_SHA2_512		4
#define IKEV2_SIGHASH_IDENTITY		5

/* 3.10 Notify payload */
struct ikev2_notify {
	uint8_t		 n_protoid;
	uint8_t		 n_spisize;
	uint16_t	 n_type;
	/* followed by the SPI and the notification data */
} __attribute__((__packed__));

/* Notify error types */
#define IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD	1
#define IKEV2_N_INVALID_IKE_SPI			4
#define IKEV2_N_INVALID_MAJOR_VERSION		5
#define IKEV2_N_INVALID_SYNTAX			7
#define IKEV2_N_INVALID_MESSAGE_ID		9
#define IKEV2_N_INVALID_SPI			11
#define IKEV2_N_NO_PROPOSAL_CHOSEN		14
#define IKEV2_N_INVALID_KE_PAYLOAD		17
#define IKEV2_N_AUTHENTICATION_FAILED		24
#define IKEV2_N_SINGLE_PAIR_REQUIRED		34
#define IKEV2_N_NO_ADDITIONAL_SAS		35
#define IKEV2_N_INTERNAL_ADDRESS_FAILURE	36
#define IKEV2_N_FAILED_CP_REQUIRED		37
#define IKEV2_N_TS_UNACCEPTABLE			38
#define IKEV2_N_INVALID_SELECTORS		39
#define IKEV2_N_UNACCEPTABLE_ADDRESSES		40	/* RFC 4555 */
#define IKEV2_N_UNEXPECTED_NAT_DETECTED		41	/* RFC 4555 */
#define IKEV2_N_USE_ASSIGNED_HoA		42	/* RFC 5026 */
#define IKEV2_N_TEMPORARY_FAILURE		43
#define IKEV2_N_CHILD_SA_NOT_FOUND		44
#define IKEV2_N_INVALID_GROUP_ID		45
#define IKEV2_N_AUTHORIZATION_FAILED		46
#define IKEV2_N_STATE_NOT_FOUND			47	/* RFC 9242 */
#define IKEV2_N_ERROR_MAX			16383	/* errors are below */

/* Notify status types */
#define IKEV2_N_INITIAL_CONTACT			16384
#define IKEV2_N_SET_WINDOW_SIZE			16385
#define IKEV2_N_ADDITIONAL_TS_POSSIBLE		16386
#define IKEV2_N_IPCOMP_SUPPORTED		16387
/* IPCOMP_SUPPORTED transform IDs (RFC 7296 3.10.1, IANA) */
#define IKEV2_IPCOMP_DEFLATE			2
#define IKEV2_N_NAT_DETECTION_SOURCE_IP		16388
#define IKEV2_N_NAT_DETECTION_DESTINATION_IP	16389
#define IKEV2_N_COOKIE				16390
#define IKEV2_N_USE_TRANSPORT_MODE		16391
#define IKEV2_N_HTTP_CERT_LOOKUP_SUPPORTED	16392
#define IKEV2_N_REKEY_SA			16393
#define IKEV2_N_ESP_TFC_PADDING_NOT_SUPPORTED	16394
#define IKEV2_N_NON_FIRST_FRAGMENTS_ALSO	16395
#define IKEV2_N_MOBIKE_SUPPORTED		16396
#define IKEV2_N_ADDITIONAL_IP4_ADDRESS		16397
#define IKEV2_N_ADDITIONAL_IP6_ADDRESS		16398
#define IKEV2_N_NO_ADDITIONAL_ADDRESSES		16399
#define IKEV2_N_UPDATE_SA_ADDRESSES		16400
#define IKEV2_N_COOKIE2				16401
#define IKEV2_N_NO_NATS_ALLOWED			16402
#define IKEV2_N_AUTH_LIFETIME			16403
#define IKEV2_N_MULTIPLE_AUTH_SUPPORTED		16404
#define IKEV2_N_ANOTHER_AUTH_FOLLOWS		16405
#define IKEV2_N_REDIRECT_SUPPORTED		16406
#define IKEV2_N_REDIRECT			16407
#define IKEV2_N_REDIRECTED_FROM			16408
#define IKEV2_N_EAP_ONLY_AUTHENTICATION		16417
#define IKEV2_N_CHILDLESS_IKEV2_SUPPORTED	16418
#define IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED	16430
#define IKEV2_N_SIGNATURE_HASH_ALGORITHMS	16431
#define IKEV2_N_USE_PPK				16435
#define IKEV2_N_INTERMEDIATE_EXCHANGE_SUPPORTED	16438

/* Data lengths fixed by the RFCs */
#define IKEV2_NATD_LEN		20	/* SHA-1 of SPIs, address and port */
#define IKEV2_COOKIE_MIN	1
#define IKEV2_COOKIE_MAX	64	/* RFC 7296 2.6 */

/* 3.11 Delete payload */
struct ikev2_delete {
	uint8_t		 del_protoid;
	uint8_t		 del_spisize;
	uint16_t	 del_nspi;
	/* followed by the SPIs */
} __attribute__((__packed__));

/* 3.13 Traffic Selector payloads */
struct ikev2_tsp {
	uint8_t		 tsp_count;
	uint8_t		 tsp_reserved[3];
	/* followed by the traffic selectors */
} __attribute__((__packed__));

struct ikev2_ts {
	uint8_t		 ts_type;
	uint8_t		 ts_protoid;	/* 0: any */
	uint16_t	 ts_length;
	uint16_t	 ts_startport;
	uint16_t	 ts_endport;
	/* followed by the start and end addresses */
} __attribute__((__packed__));

#define IKEV2_TS_IPV4_ADDR_RANGE	7	/* 16 bytes */
#define IKEV2_TS_IPV6_ADDR_RANGE	8	/* 40 bytes */
#define IKEV2_TS_FC_ADDR_RANGE		9	/* RFC 4595, not used */

/* 3.15 Configuration payload */
struct ikev2_cp {
	uint8_t		 cp_type;
	uint8_t		 cp_reserved[3];
	/* followed by the attributes */
} __attribute__((__packed__));

#define IKEV2_CP_REQUEST	1
#define IKEV2_CP_REPLY		2
#define IKEV2_CP_SET		3
#define IKEV2_CP_ACK		4

/* RFC 7383 2.5 Encrypted Fragment payload, after the generic header */
struct ikev2_frag {
	uint16_t	 frag_num;	/* 1 .. frag_total */
	uint16_t	 frag_total;
	/* followed by IV, encrypted fragment, ICV as in SK */
} __attribute__((__packed__));

_Static_assert(sizeof(struct ikev2_header) == 28, "ikev2_header");
_Static_assert(sizeof(struct ikev2_payload) == 4, "ikev2_payload");
_Static_assert(sizeof(struct ikev2_sa_proposal) == 8, "ikev2_sa_proposal");
_Static_assert(sizeof(struct ikev2_transform) == 8, "ikev2_transform");
_Static_assert(sizeof(struct ikev2_ts) == 8, "ikev2_ts");

#endif /* IKEV2_H */
