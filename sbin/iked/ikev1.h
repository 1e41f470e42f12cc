/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IKEv1 wire format: ISAKMP (RFC 2408), the IPsec DOI (RFC 2407), IKE
 * (RFC 2409), NAT-T (RFC 3947, and the drafts peers still send) and DPD
 * (RFC 3706).  Constants and the packed layouts of the fixed parts; the
 * variable parts are read with bounds checks in ikemsg.c and
 * ikev1_pld.c.
 */

#ifndef IKEV1_H
#define IKEV1_H

#include <stdint.h>

#define IKEV1_VERSION		0x10	/* major 1, minor 0 */
#define IKEV1_VERSION_MAJOR(v)	(((v) >> 4) & 0x0f)

#define IKEV1_NONCE_MIN		8	/* RFC 2409 5 */
#define IKEV1_NONCE_MAX		256
#define IKEV1_COOKIE_LEN	8

/* RFC 2408 3.1 ISAKMP header: the same layout as IKEv2's */
struct ikev1_header {
	uint8_t		 ih_icookie[8];
	uint8_t		 ih_rcookie[8];
	uint8_t		 ih_nextpayload;
	uint8_t		 ih_version;
	uint8_t		 ih_exchange;
	uint8_t		 ih_flags;
	uint32_t	 ih_msgid;
	uint32_t	 ih_length;
} __attribute__((__packed__));

/* Header flags */
#define IKEV1_FLAG_ENC		0x01	/* payloads after the header encrypted */
#define IKEV1_FLAG_COMMIT	0x02
#define IKEV1_FLAG_AUTHONLY	0x04

/* Exchange types (RFC 2408 3.1, RFC 2409) */
#define IKEV1_EXCHANGE_NONE		0
#define IKEV1_EXCHANGE_BASE		1
#define IKEV1_EXCHANGE_MAIN		2	/* Identity Protection */
#define IKEV1_EXCHANGE_AUTH_ONLY	3
#define IKEV1_EXCHANGE_AGGRESSIVE	4	/* parsed, never answered */
#define IKEV1_EXCHANGE_INFO		5
#define IKEV1_EXCHANGE_TRANSACTION	6	/* mode config */
#define IKEV1_EXCHANGE_QUICK		32
#define IKEV1_EXCHANGE_NEW_GROUP	33

/* RFC 2408 3.2 Generic payload header */
struct ikev1_payload {
	uint8_t		 pld_nextpayload;
	uint8_t		 pld_reserved;
	uint16_t	 pld_length;	/* with this header */
} __attribute__((__packed__));

/* Payload types */
#define IKEV1_PAYLOAD_NONE	0
#define IKEV1_PAYLOAD_SA	1
#define IKEV1_PAYLOAD_PROPOSAL	2	/* only inside SA */
#define IKEV1_PAYLOAD_TRANSFORM	3	/* only inside a proposal */
#define IKEV1_PAYLOAD_KE	4
#define IKEV1_PAYLOAD_ID	5
#define IKEV1_PAYLOAD_CERT	6
#define IKEV1_PAYLOAD_CR	7
#define IKEV1_PAYLOAD_HASH	8
#define IKEV1_PAYLOAD_SIG	9	/* parsed, not used */
#define IKEV1_PAYLOAD_NONCE	10
#define IKEV1_PAYLOAD_NOTIFY	11
#define IKEV1_PAYLOAD_DELETE	12
#define IKEV1_PAYLOAD_VENDOR	13
#define IKEV1_PAYLOAD_ATTR	14	/* mode config */
#define IKEV1_PAYLOAD_NAT_D	20	/* RFC 3947 */
#define IKEV1_PAYLOAD_NAT_OA	21	/* RFC 3947 */
#define IKEV1_PAYLOAD_PRIVATE	128	/* 128..255: private use */
#define IKEV1_PAYLOAD_NAT_D_DRAFT	130	/* draft-ietf-ipsec-nat-t-ike-02/03 */
#define IKEV1_PAYLOAD_NAT_OA_DRAFT	131
#define IKEV1_PAYLOAD_FRAG	132	/* Cisco/racoon IKE fragmentation */

/* RFC 2408 3.4 SA payload body, IPsec DOI */
struct ikev1_sa {
	uint32_t	 sa_doi;
	uint32_t	 sa_situation;	/* 4 bytes in the IPsec DOI */
	/* followed by proposal payloads */
} __attribute__((__packed__));

#define IKEV1_DOI_ISAKMP		0
#define IKEV1_DOI_IPSEC			1

#define IKEV1_SIT_IDENTITY_ONLY		0x01
#define IKEV1_SIT_SECRECY		0x02
#define IKEV1_SIT_INTEGRITY		0x04

/* RFC 2408 3.5 Proposal payload, after the generic header */
struct ikev1_proposal {
	uint8_t		 p_num;
	uint8_t		 p_protoid;
	uint8_t		 p_spisize;
	uint8_t		 p_ntransforms;
	/* followed by the SPI and transform payloads */
} __attribute__((__packed__));

/* Protocol IDs (RFC 2407 4.4.1) */
#define IKEV1_PROTO_ISAKMP	1
#define IKEV1_PROTO_IPSEC_AH	2
#define IKEV1_PROTO_IPSEC_ESP	3
#define IKEV1_PROTO_IPCOMP	4

/* IPComp transform IDs (RFC 2407 4.4.5) */
#define IKEV1_IPCOMP_DEFLATE	2

/* RFC 2408 3.6 Transform payload, after the generic header */
struct ikev1_transform {
	uint8_t		 t_num;
	uint8_t		 t_id;
	uint16_t	 t_reserved;
	/* followed by SA attributes */
} __attribute__((__packed__));

/* Transform IDs: ISAKMP (RFC 2407 4.4.2) */
#define IKEV1_KEY_IKE		1

/* Transform IDs: AH (RFC 2407 4.4.3) */
#define IKEV1_AH_MD5		2
#define IKEV1_AH_SHA		3
#define IKEV1_AH_DES		4
#define IKEV1_AH_SHA2_256	5
#define IKEV1_AH_SHA2_384	6
#define IKEV1_AH_SHA2_512	7

/* Transform IDs: ESP (RFC 2407 4.4.4 and IANA; as IKEv2's ENCR) */
#define IKEV1_ESP_DES_IV64		1
#define IKEV1_ESP_DES			2
#define IKEV1_ESP_3DES			3
#define IKEV1_ESP_RC5			4
#define IKEV1_ESP_IDEA			5
#define IKEV1_ESP_CAST			6
#define IKEV1_ESP_BLOWFISH		7
#define IKEV1_ESP_3IDEA			8
#define IKEV1_ESP_DES_IV32		9
#define IKEV1_ESP_RC4			10
#define IKEV1_ESP_NULL			11
#define IKEV1_ESP_AES			12	/* AES-CBC, RFC 3602 */
#define IKEV1_ESP_AES_CTR		13
#define IKEV1_ESP_AES_CCM_8		14
#define IKEV1_ESP_AES_CCM_12		15
#define IKEV1_ESP_AES_CCM_16		16
#define IKEV1_ESP_AES_GCM_8		18
#define IKEV1_ESP_AES_GCM_12		19
#define IKEV1_ESP_AES_GCM_16		20
#define IKEV1_ESP_NULL_AUTH_AES_GMAC	23
#define IKEV1_ESP_CHACHA20_POLY1305	28

/* RFC 2408 3.3 Data attributes */
struct ikev1_attribute {
	uint16_t	 attr_type;	/* IKEV1_ATTR_AF_TV | type */
	uint16_t	 attr_length;	/* TV: the value */
	/* TLV: followed by attr_length bytes of value */
} __attribute__((__packed__));

#define IKEV1_ATTR_AF_TV	0x8000
#define IKEV1_ATTR_TYPE		0x7fff

/* Phase 1 (ISAKMP SA) attribute classes (RFC 2409 appendix A) */
#define IKEV1_ATTR_ENCRYPTION_ALGORITHM	1	/* B */
#define IKEV1_ATTR_HASH_ALGORITHM	2	/* B */
#define IKEV1_ATTR_AUTHENTICATION_METHOD	3	/* B */
#define IKEV1_ATTR_GROUP_DESCRIPTION	4	/* B */
#define IKEV1_ATTR_GROUP_TYPE		5	/* B */
#define IKEV1_ATTR_GROUP_PRIME		6	/* V */
#define IKEV1_ATTR_GROUP_GENERATOR_ONE	7	/* V */
#define IKEV1_ATTR_GROUP_GENERATOR_TWO	8	/* V */
#define IKEV1_ATTR_GROUP_CURVE_A	9	/* V */
#define IKEV1_ATTR_GROUP_CURVE_B	10	/* V */
#define IKEV1_ATTR_LIFE_TYPE		11	/* B */
#define IKEV1_ATTR_LIFE_DURATION	12	/* V: TV or 4-byte TLV */
#define IKEV1_ATTR_PRF			13	/* B */
#define IKEV1_ATTR_KEY_LENGTH		14	/* B */
#define IKEV1_ATTR_FIELD_SIZE		15	/* B */
#define IKEV1_ATTR_GROUP_ORDER		16	/* V */

/* Encryption algorithm */
#define IKEV1_ENC_DES_CBC	1
#define IKEV1_ENC_IDEA_CBC	2
#define IKEV1_ENC_BLOWFISH_CBC	3
#define IKEV1_ENC_RC5_CBC	4
#define IKEV1_ENC_3DES_CBC	5
#define IKEV1_ENC_CAST_CBC	6
#define IKEV1_ENC_AES_CBC	7	/* RFC 3602 */
#define IKEV1_ENC_CAMELLIA_CBC	8	/* RFC 4312 */

/* Hash algorithm */
#define IKEV1_HASH_MD5		1
#define IKEV1_HASH_SHA		2
#define IKEV1_HASH_TIGER	3
#define IKEV1_HASH_SHA2_256	4	/* RFC 4868 */
#define IKEV1_HASH_SHA2_384	5
#define IKEV1_HASH_SHA2_512	6

/* Authentication method */
#define IKEV1_AUTH_PSK		1
#define IKEV1_AUTH_DSS_SIG	2
#define IKEV1_AUTH_RSA_SIG	3
#define IKEV1_AUTH_RSA_ENC	4
#define IKEV1_AUTH_RSA_REV_ENC	5
#define IKEV1_AUTH_ECDSA_256	9	/* RFC 4754 */
#define IKEV1_AUTH_ECDSA_384	10
#define IKEV1_AUTH_ECDSA_521	11
#define IKEV1_AUTH_XAUTH_INIT_PSK	65001	/* draft-ietf-ipsec-isakmp-xauth */

/* Group description: the IANA group numbers, as IKEV2_XFORMDH_* */
#define IKEV1_GROUP_MODP_768	1
#define IKEV1_GROUP_MODP_1024	2
#define IKEV1_GROUP_MODP_1536	5
#define IKEV1_GROUP_MODP_2048	14
#define IKEV1_GROUP_MODP_3072	15
#define IKEV1_GROUP_MODP_4096	16
#define IKEV1_GROUP_ECP_256	19
#define IKEV1_GROUP_ECP_384	20
#define IKEV1_GROUP_ECP_521	21

/* Group type */
#define IKEV1_GROUP_TYPE_MODP	1
#define IKEV1_GROUP_TYPE_ECP	2
#define IKEV1_GROUP_TYPE_EC2N	3

/* Life type, phase 1 and phase 2 */
#define IKEV1_LIFE_SECONDS	1
#define IKEV1_LIFE_KILOBYTES	2

/* Phase 2 (IPsec SA) attribute classes (RFC 2407 4.5) */
#define IKEV1_ATTR_SA_LIFE_TYPE		1	/* B */
#define IKEV1_ATTR_SA_LIFE_DURATION	2	/* V: TV or 4-byte TLV */
#define IKEV1_ATTR_SA_GROUP_DESC	3	/* B */
#define IKEV1_ATTR_SA_ENCAP_MODE	4	/* B */
#define IKEV1_ATTR_SA_AUTH_ALG		5	/* B */
#define IKEV1_ATTR_SA_KEY_LENGTH	6	/* B */
#define IKEV1_ATTR_SA_KEY_ROUNDS	7	/* B */
#define IKEV1_ATTR_SA_COMP_DICT_SIZE	8	/* B */
#define IKEV1_ATTR_SA_COMP_PRIV_ALG	9	/* V */
#define IKEV1_ATTR_SA_ECN_TUNNEL	10	/* B, RFC 3168 */
#define IKEV1_ATTR_SA_ESN		11	/* B, RFC 4304 */
#define IKEV1_ESN_64			1	/* its one value */

/* Encapsulation mode */
#define IKEV1_ENCAP_TUNNEL		1
#define IKEV1_ENCAP_TRANSPORT		2
#define IKEV1_ENCAP_UDP_TUNNEL		3	/* RFC 3947 */
#define IKEV1_ENCAP_UDP_TRANSPORT	4	/* RFC 3947 */
#define IKEV1_ENCAP_UDP_TUNNEL_DRAFT	61443	/* draft-ietf-ipsec-nat-t-ike */
#define IKEV1_ENCAP_UDP_TRANSPORT_DRAFT	61444

/* Authentication algorithm (phase 2) */
#define IKEV1_AUTH_HMAC_MD5		1
#define IKEV1_AUTH_HMAC_SHA		2
#define IKEV1_AUTH_DES_MAC		3
#define IKEV1_AUTH_KPDK			4
#define IKEV1_AUTH_HMAC_SHA2_256	5	/* RFC 4868 */
#define IKEV1_AUTH_HMAC_SHA2_384	6
#define IKEV1_AUTH_HMAC_SHA2_512	7
#define IKEV1_AUTH_HMAC_RIPEMD		8
#define IKEV1_AUTH_AES_XCBC_MAC		9
#define IKEV1_AUTH_AES_128_GMAC		11	/* RFC 4543 */
#define IKEV1_AUTH_AES_192_GMAC		12
#define IKEV1_AUTH_AES_256_GMAC		13

/* RFC 2407 4.6.2 Identification payload body */
struct ikev1_id {
	uint8_t		 id_type;
	uint8_t		 id_protoid;	/* IP protocol, 0: any */
	uint16_t	 id_port;	/* 0: any */
	/* followed by the identification data */
} __attribute__((__packed__));

#define IKEV1_ID_IPV4_ADDR		1
#define IKEV1_ID_FQDN			2
#define IKEV1_ID_USER_FQDN		3
#define IKEV1_ID_IPV4_ADDR_SUBNET	4
#define IKEV1_ID_IPV6_ADDR		5
#define IKEV1_ID_IPV6_ADDR_SUBNET	6
#define IKEV1_ID_IPV4_ADDR_RANGE	7
#define IKEV1_ID_IPV6_ADDR_RANGE	8
#define IKEV1_ID_DER_ASN1_DN		9
#define IKEV1_ID_DER_ASN1_GN		10
#define IKEV1_ID_KEY_ID			11

/* RFC 2408 3.9/3.10 Certificate and Certificate Request: 1-byte encoding */
#define IKEV1_CERT_NONE			0
#define IKEV1_CERT_PKCS7		1
#define IKEV1_CERT_PGP			2
#define IKEV1_CERT_DNS_SIGNED_KEY	3
#define IKEV1_CERT_X509_SIG		4
#define IKEV1_CERT_X509_KE		5
#define IKEV1_CERT_KERBEROS		6
#define IKEV1_CERT_CRL			7
#define IKEV1_CERT_ARL			8
#define IKEV1_CERT_SPKI			9
#define IKEV1_CERT_X509_ATTR		10

/* RFC 2408 3.14 Notification payload body */
struct ikev1_notify {
	uint32_t	 n_doi;
	uint8_t		 n_protoid;
	uint8_t		 n_spisize;
	uint16_t	 n_type;
	/* followed by the SPI and the notification data */
} __attribute__((__packed__));

/* Notify error types (RFC 2408 3.14.1) */
#define IKEV1_N_INVALID_PAYLOAD_TYPE		1
#define IKEV1_N_DOI_NOT_SUPPORTED		2
#define IKEV1_N_SITUATION_NOT_SUPPORTED		3
#define IKEV1_N_INVALID_COOKIE			4
#define IKEV1_N_INVALID_MAJOR_VERSION		5
#define IKEV1_N_INVALID_MINOR_VERSION		6
#define IKEV1_N_INVALID_EXCHANGE_TYPE		7
#define IKEV1_N_INVALID_FLAGS			8
#define IKEV1_N_INVALID_MESSAGE_ID		9
#define IKEV1_N_INVALID_PROTOCOL_ID		10
#define IKEV1_N_INVALID_SPI			11
#define IKEV1_N_INVALID_TRANSFORM_ID		12
#define IKEV1_N_ATTRIBUTES_NOT_SUPPORTED	13
#define IKEV1_N_NO_PROPOSAL_CHOSEN		14
#define IKEV1_N_BAD_PROPOSAL_SYNTAX		15
#define IKEV1_N_PAYLOAD_MALFORMED		16
#define IKEV1_N_INVALID_KEY_INFORMATION		17
#define IKEV1_N_INVALID_ID_INFORMATION		18
#define IKEV1_N_INVALID_CERT_ENCODING		19
#define IKEV1_N_INVALID_CERTIFICATE		20
#define IKEV1_N_CERT_TYPE_UNSUPPORTED		21
#define IKEV1_N_INVALID_CERT_AUTHORITY		22
#define IKEV1_N_INVALID_HASH_INFORMATION	23
#define IKEV1_N_AUTHENTICATION_FAILED		24
#define IKEV1_N_INVALID_SIGNATURE		25
#define IKEV1_N_ADDRESS_NOTIFICATION		26
#define IKEV1_N_NOTIFY_SA_LIFETIME		27
#define IKEV1_N_CERTIFICATE_UNAVAILABLE		28
#define IKEV1_N_UNSUPPORTED_EXCHANGE_TYPE	29
#define IKEV1_N_UNEQUAL_PAYLOAD_LENGTHS		30

/* Notify status types */
#define IKEV1_N_CONNECTED			16384
#define IKEV1_N_RESPONDER_LIFETIME		24576	/* RFC 2407 4.6.3.1 */
#define IKEV1_N_REPLAY_STATUS			24577
#define IKEV1_N_INITIAL_CONTACT			24578
#define IKEV1_N_R_U_THERE			36136	/* RFC 3706 */
#define IKEV1_N_R_U_THERE_ACK			36137

/* RFC 2408 3.15 Delete payload body */
struct ikev1_delete {
	uint32_t	 d_doi;
	uint8_t		 d_protoid;
	uint8_t		 d_spisize;
	uint16_t	 d_nspi;
	/* followed by the SPIs */
} __attribute__((__packed__));

/* RFC 3947 5.2 NAT-OA payload body */
struct ikev1_natoa {
	uint8_t		 oa_idtype;	/* IKEV1_ID_IPV4_ADDR or _IPV6_ADDR */
	uint8_t		 oa_reserved[3];
	/* followed by the address */
} __attribute__((__packed__));

/* Vendor IDs: MD5 of the strings in the comments */
#define IKEV1_VID_LEN		16
#define IKEV1_VID_NATT_RFC3947	/* "RFC 3947" */			\
	{ 0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,		\
	  0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f }
#define IKEV1_VID_NATT_DRAFT02N	/* "draft-ietf-ipsec-nat-t-ike-02\n" */	\
	{ 0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e,		\
	  0x08, 0x63, 0x81, 0xb5, 0xec, 0x42, 0x7b, 0x1f }
#define IKEV1_VID_NATT_DRAFT02	/* "draft-ietf-ipsec-nat-t-ike-02" */	\
	{ 0xcd, 0x60, 0x46, 0x43, 0x35, 0xdf, 0x21, 0xf8,		\
	  0x7c, 0xfd, 0xb2, 0xfc, 0x68, 0xb6, 0xa4, 0x48 }
#define IKEV1_VID_NATT_DRAFT03	/* "draft-ietf-ipsec-nat-t-ike-03" */	\
	{ 0x7d, 0x94, 0x19, 0xa6, 0x53, 0x10, 0xca, 0x6f,		\
	  0x2c, 0x17, 0x9d, 0x92, 0x15, 0x52, 0x9d, 0x56 }
/* RFC 3706 section 5.3: 14 fixed bytes, then major 1, minor 0 */
#define IKEV1_VID_DPD							\
	{ 0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,		\
	  0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00 }
#define IKEV1_VID_FRAGMENTATION	/* "FRAGMENTATION" (racoon, Cisco) */	\
	{ 0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8, 0x85,		\
	  0x25, 0xe7, 0xde, 0x7f, 0x00, 0xd6, 0xc2, 0xd3 }

_Static_assert(sizeof(struct ikev1_header) == 28, "ikev1_header");
_Static_assert(sizeof(struct ikev1_payload) == 4, "ikev1_payload");
_Static_assert(sizeof(struct ikev1_notify) == 8, "ikev1_notify");
_Static_assert(sizeof(struct ikev1_delete) == 8, "ikev1_delete");

#endif /* IKEV1_H */
