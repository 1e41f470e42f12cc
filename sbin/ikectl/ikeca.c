/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ikeca.c: ikectl's "ca" commands, a small X.509 certificate authority
 * for iked(8) and its peers in OpenBSD's ikectl(8) layout, made with
 * libcrypto alone (no openssl(1)).  Nothing here talks to iked.
 *
 * A CA NAME lives in CADIR/NAME:
 *
 *	ca.crt			the CA's self-signed certificate
 *	private/ca.key		its key (unencrypted, mode 0600)
 *	serial			the next serial number, hexadecimal
 *	index			the certificates issued (openssl-ca(1))
 *	NAME.crl		the CRL
 *	certs/ID.crt		a host's certificate
 *	private/ID.key		its key
 *
 * Every file is written whole or not at all: to a hidden file in the
 * same directory, renamed into place once everything an operation
 * writes is ready.  Whatever is not renamed by then is removed at exit.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ikectl.h"

#define IKECA_NAME_MAX		64	/* a CN's bound (RFC 5280) */
#define IKECA_CA_DAYS		3650
#define IKECA_CERT_DAYS		365
#define IKECA_CRL_DAYS		30
#define IKECA_TMPS		8
#define IKECA_FILE_MAX		(1024 * 1024)
/* RFC 4945 section 5.1.3.12: IP security end entity. */
#define IKECA_EKU		"serverAuth,clientAuth,1.3.6.1.5.5.8.2.2"

static const struct ikeca_keytype {
	const char	*kt_name;
	const char	*kt_alg;	/* EVP_PKEY_Q_keygen()'s type */
	const char	*kt_curve;	/* EC: the group */
	size_t		 kt_bits;	/* RSA: the modulus */
} ikeca_keytypes[] = {
	{ "rsa",	"RSA",		NULL,		3072 },
	{ "ecdsa256",	"EC",		"P-256",	0 },
	{ "ecdsa384",	"EC",		"P-384",	0 },
	{ "ecdsa521",	"EC",		"P-521",	0 },
	{ "ed25519",	"ED25519",	NULL,		0 }
};
#define IKECA_KEYTYPES \
	(sizeof(ikeca_keytypes) / sizeof(ikeca_keytypes[0]))

struct ikeca {
	const struct ikeca_opts		*ca_opts;
	const struct ikeca_keytype	*ca_keytype;
	const char			*ca_name;
	const char			*ca_cadir;
	char				 ca_dir[PATH_MAX];
	X509				*ca_cert;
	EVP_PKEY			*ca_key;
};

/* One line of the index, its fields pointing into the file's text. */
struct ikeca_entry {
	char		*e_status;	/* "V" or "R" */
	char		*e_expiry;	/* notAfter, ASN.1 time */
	char		*e_revoked;	/* revocation time, or "" */
	char		*e_serial;	/* hexadecimal */
	char		*e_file;	/* certs/ID.crt */
	char		*e_subject;	/* /CN=ID */
};

struct ikeca_index {
	char			*ix_text;
	struct ikeca_entry	*ix_entries;
	size_t			 ix_n;
};

/* What is written and not yet renamed into place. */
static struct ikeca_tmp {
	char		t_tmp[PATH_MAX];
	char		t_path[PATH_MAX];
	int		t_isdir;
} ikeca_tmps[IKECA_TMPS];
static size_t	ikeca_ntmps;

static void	ikeca_rmtree(const char *);

static void __attribute__((__noreturn__, __format__(__printf__, 1, 2)))
ikeca_sslerr(const char *fmt, ...)
{
	char		 what[256];
	unsigned long	 e;
	const char	*why;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	e = ERR_peek_last_error();
	why = e != 0 ? ERR_reason_error_string(e) : NULL;
	errx(1, "%s: %s", what, why != NULL ? why : "libcrypto failed");
}

static void __attribute__((__format__(__printf__, 2, 3)))
ikeca_path(char *buf, const char *fmt, ...)
{
	va_list		 ap;
	int		 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		errx(1, "path too long");
}

static void
ikeca_cleanup(void)
{
	size_t	 i;

	for (i = 0; i < ikeca_ntmps; i++)
		if (ikeca_tmps[i].t_tmp[0] != '\0')
			ikeca_rmtree(ikeca_tmps[i].t_tmp);
	ikeca_ntmps = 0;
}

/* A hidden name next to path, for mkstemp() or mkdtemp(). */
static struct ikeca_tmp *
ikeca_tmp_new(const char *path, int isdir)
{
	struct ikeca_tmp	*t;
	const char		*base;
	int			 dirlen;

	if (ikeca_ntmps == IKECA_TMPS)
		errx(1, "too many files at once");
	t = &ikeca_tmps[ikeca_ntmps];
	if ((base = strrchr(path, '/')) != NULL) {
		base++;
		dirlen = (int)(base - path);
	} else {
		base = path;
		dirlen = 0;
	}
	ikeca_path(t->t_tmp, "%.*s.%s.XXXXXX", dirlen, path, base);
	ikeca_path(t->t_path, "%s", path);
	t->t_isdir = isdir;
	return (t);
}

static void
ikeca_writefd(int fd, const char *path, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "%s", path);
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		err(1, "%s", path);
}

/* A new file in a directory of our own making. */
static void
ikeca_create(const char *path, mode_t mode, const void *buf, size_t len)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)) == -1)
		err(1, "%s", path);
	if (fchmod(fd, mode) == -1)
		err(1, "%s", path);
	ikeca_writefd(fd, path, buf, len);
	if (close(fd) == -1)
		err(1, "%s", path);
}

/* path's new contents, in place at the next ikeca_commit(). */
static void
ikeca_stage(const char *path, mode_t mode, const void *buf, size_t len)
{
	struct ikeca_tmp	*t;
	int			 fd;

	t = ikeca_tmp_new(path, 0);
	if ((fd = mkstemp(t->t_tmp)) == -1)
		err(1, "%s", path);
	ikeca_ntmps++;
	if (fchmod(fd, mode) == -1)
		err(1, "%s", path);
	ikeca_writefd(fd, path, buf, len);
	if (close(fd) == -1)
		err(1, "%s", path);
}

/* A new directory path, in place at the next ikeca_commit(). */
static const char *
ikeca_stage_dir(const char *path, mode_t mode)
{
	struct ikeca_tmp	*t;

	t = ikeca_tmp_new(path, 1);
	if (mkdtemp(t->t_tmp) == NULL)
		err(1, "%s", path);
	ikeca_ntmps++;
	if (chmod(t->t_tmp, mode) == -1)
		err(1, "%s", path);
	return (t->t_tmp);
}

static void
ikeca_commit(void)
{
	struct ikeca_tmp	*t;
	struct stat		 st;
	size_t			 i;

	for (i = 0; i < ikeca_ntmps; i++) {
		t = &ikeca_tmps[i];
		/* rename(2) would replace an empty directory. */
		if (t->t_isdir && lstat(t->t_path, &st) == 0)
			errx(1, "%s: already exists", t->t_path);
		if (rename(t->t_tmp, t->t_path) == -1)
			err(1, "%s", t->t_path);
		t->t_tmp[0] = '\0';
	}
	ikeca_ntmps = 0;
}

static void
ikeca_rmtree(const char *path)
{
	char		 sub[PATH_MAX];
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;

	if (lstat(path, &st) == -1)
		return;
	if (!S_ISDIR(st.st_mode)) {
		(void)unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(sub, sizeof(sub), "%s/%s", path,
			    de->d_name) < (int)sizeof(sub))
				ikeca_rmtree(sub);
		}
		closedir(d);
	}
	(void)rmdir(path);
}

static void
ikeca_mkdir(const char *path, mode_t mode)
{
	struct stat	 st;

	if (mkdir(path, mode) == 0) {
		if (chmod(path, mode) == -1)
			err(1, "%s", path);
		return;
	}
	if (errno != EEXIST)
		err(1, "%s", path);
	if (stat(path, &st) == -1)
		err(1, "%s", path);
	if (!S_ISDIR(st.st_mode))
		errx(1, "%s: not a directory", path);
}

/* mkdir -p: the parents as mode 0755. */
static void
ikeca_mkdirs(const char *path, mode_t mode)
{
	char	 buf[PATH_MAX], *p;

	ikeca_path(buf, "%s", path);
	for (p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		ikeca_mkdir(buf, 0755);
		*p = '/';
	}
	ikeca_mkdir(buf, mode);
}

static int
ikeca_exists(const char *path)
{
	struct stat	 st;

	if (lstat(path, &st) == 0)
		return (1);
	if (errno != ENOENT)
		err(1, "%s", path);
	return (0);
}

/* The whole file, NUL-terminated; NULL if it does not exist. */
static char *
ikeca_read(const char *path, size_t *lenp, int must)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1) {
		if (errno == ENOENT && !must)
			return (NULL);
		err(1, "%s", path);
	}
	if (fstat(fd, &st) == -1)
		err(1, "%s", path);
	if (!S_ISREG(st.st_mode) || st.st_size > IKECA_FILE_MAX)
		errx(1, "%s: not a regular file of at most %d bytes", path,
		    IKECA_FILE_MAX);
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		err(1, NULL);
	while (len < (size_t)st.st_size) {
		if ((n = read(fd, buf + len, (size_t)st.st_size - len)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "%s", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return (buf);
}

static void
ikeca_free_secret(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	OPENSSL_cleanse(buf, len);
	free(buf);
}

/* Encrypted keys are not ours: refuse rather than prompt. */
static int
ikeca_nopass(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return (-1);
}

static X509 *
ikeca_read_cert(const char *path)
{
	BIO	*b;
	X509	*x;
	char	*buf;
	size_t	 len;

	buf = ikeca_read(path, &len, 1);
	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL)
		ikeca_sslerr("%s", path);
	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		ikeca_sslerr("%s: not a PEM certificate", path);
	BIO_free(b);
	free(buf);
	return (x);
}

static EVP_PKEY *
ikeca_read_key(const char *path)
{
	EVP_PKEY	*key;
	BIO		*b;
	char		*buf;
	size_t		 len;

	buf = ikeca_read(path, &len, 1);
	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL)
		ikeca_sslerr("%s", path);
	key = PEM_read_bio_PrivateKey(b, NULL, ikeca_nopass, NULL);
	if (key == NULL)
		ikeca_sslerr("%s: not an unencrypted PEM private key", path);
	BIO_free(b);
	ikeca_free_secret(buf, len);
	return (key);
}

/* The bytes a PEM_write_bio_*() call left in a memory BIO. */
static size_t
ikeca_bio_data(BIO *b, char **p)
{
	long	 n;

	if ((n = BIO_get_mem_data(b, p)) <= 0)
		ikeca_sslerr("PEM encoding");
	return ((size_t)n);
}

/* What b holds, to path with mode, staged or created at once. */
static void
ikeca_write_bio(const char *path, mode_t mode, BIO *b, int staged)
{
	char	*p;
	size_t	 len;

	len = ikeca_bio_data(b, &p);
	if (staged)
		ikeca_stage(path, mode, p, len);
	else
		ikeca_create(path, mode, p, len);
	BIO_free(b);
}

static void
ikeca_write_cert(const char *path, X509 *x, int staged)
{
	BIO	*b;

	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(b, x))
		ikeca_sslerr("%s", path);
	ikeca_write_bio(path, 0644, b, staged);
}

static void
ikeca_write_key(const char *path, EVP_PKEY *key, int staged)
{
	BIO	*b;

	/* secmem: the PEM is cleansed when freed. */
	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
		ikeca_sslerr("%s", path);
	ikeca_write_bio(path, 0600, b, staged);
}

static void
ikeca_write_crl(const char *path, X509_CRL *crl, int staged)
{
	BIO	*b;

	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509_CRL(b, crl))
		ikeca_sslerr("%s", path);
	ikeca_write_bio(path, 0644, b, staged);
}

/*
 * A CA's name, a directory's name and its CN: letters, digits, '-',
 * '_' and '.', not first.
 */
static void
ikeca_check_name(const char *name)
{
	const char	*p;

	if (*name == '\0' || *name == '.' || strlen(name) > IKECA_NAME_MAX)
		errx(1, "CA name \"%s\": 1 to %d characters, not starting "
		    "with '.'", name, IKECA_NAME_MAX);
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL)
			errx(1, "CA name \"%s\": only letters, digits, '-', "
			    "'_' and '.'", name);
}

enum ikeca_idtype { ID_IPV4, ID_IPV6, ID_EMAIL, ID_FQDN };

static int
ikeca_fqdn_ok(const char *p)
{
	if (*p == '\0' || *p == '.' || *p == '-')
		return (0);
	for (; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL)
			return (0);
	return (1);
}

/* A host's ID, its certificate's file name and its subjectAltName. */
static enum ikeca_idtype
ikeca_check_id(const char *id)
{
	struct in6_addr	 in6;
	struct in_addr	 in;
	const char	*at, *p;

	if (*id == '\0' || strlen(id) > IKECA_NAME_MAX)
		errx(1, "ID \"%s\": 1 to %d characters", id, IKECA_NAME_MAX);
	if (inet_pton(AF_INET, id, &in) == 1)
		return (ID_IPV4);
	if (inet_pton(AF_INET6, id, &in6) == 1)
		return (ID_IPV6);
	if ((at = strchr(id, '@')) != NULL) {
		for (p = id; p < at; p++)
			if (!isgraph((unsigned char)*p) ||
			    strchr("/@\\\"(),:;<>[]", *p) != NULL)
				break;
		if (p == id || p < at || *id == '.' || !ikeca_fqdn_ok(at + 1))
			errx(1, "ID \"%s\": not an e-mail address", id);
		return (ID_EMAIL);
	}
	if (!ikeca_fqdn_ok(id))
		errx(1, "ID \"%s\": not an address, an e-mail address or a "
		    "host name", id);
	return (ID_FQDN);
}

static const struct ikeca_keytype *
ikeca_keytype(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return (&ikeca_keytypes[0]);
	for (i = 0; i < IKECA_KEYTYPES; i++)
		if (strcmp(ikeca_keytypes[i].kt_name, name) == 0)
			return (&ikeca_keytypes[i]);
	errx(1, "key type \"%s\": not one of rsa, ecdsa256, ecdsa384, "
	    "ecdsa521, ed25519", name);
}

static EVP_PKEY *
ikeca_keygen(const struct ikeca_keytype *kt)
{
	EVP_PKEY	*key;

	if (kt->kt_curve != NULL)
		key = EVP_PKEY_Q_keygen(NULL, NULL, kt->kt_alg, kt->kt_curve);
	else if (kt->kt_bits != 0)
		key = EVP_PKEY_Q_keygen(NULL, NULL, kt->kt_alg, kt->kt_bits);
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, kt->kt_alg);
	if (key == NULL)
		ikeca_sslerr("%s key generation", kt->kt_name);
	return (key);
}

/* The digest a key signs with: none for Ed25519, the curve's for EC. */
static const EVP_MD *
ikeca_md(EVP_PKEY *key)
{
	if (EVP_PKEY_is_a(key, "ED25519"))
		return (NULL);
	if (EVP_PKEY_is_a(key, "EC")) {
		if (EVP_PKEY_get_bits(key) > 384)
			return (EVP_sha512());
		if (EVP_PKEY_get_bits(key) > 256)
			return (EVP_sha384());
	}
	return (EVP_sha256());
}

static void
ikeca_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION	*ext;

	if ((ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value)) == NULL ||
	    !X509_add_ext(x, ext, -1))
		ikeca_sslerr("extension %s", OBJ_nid2sn(nid));
	X509_EXTENSION_free(ext);
}

static void
ikeca_san(X509 *x, const char *id, enum ikeca_idtype type)
{
	GENERAL_NAMES		*gens;
	GENERAL_NAME		*gen;
	ASN1_OCTET_STRING	*os;
	ASN1_IA5STRING		*ia5;

	if ((gens = GENERAL_NAMES_new()) == NULL ||
	    (gen = GENERAL_NAME_new()) == NULL)
		ikeca_sslerr("subjectAltName");
	switch (type) {
	case ID_IPV4:
	case ID_IPV6:
		if ((os = a2i_IPADDRESS(id)) == NULL)
			ikeca_sslerr("subjectAltName %s", id);
		GENERAL_NAME_set0_value(gen, GEN_IPADD, os);
		break;
	case ID_EMAIL:
	case ID_FQDN:
		if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
		    !ASN1_STRING_set(ia5, id, -1))
			ikeca_sslerr("subjectAltName %s", id);
		GENERAL_NAME_set0_value(gen,
		    type == ID_EMAIL ? GEN_EMAIL : GEN_DNS, ia5);
		break;
	}
	if (!sk_GENERAL_NAME_push(gens, gen) ||
	    !X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT))
		ikeca_sslerr("subjectAltName %s", id);
	GENERAL_NAMES_free(gens);
}

/*
 * A certificate for key with CN=cn: the CA's own (issuer NULL,
 * self-signed) or, signed by issuer/signkey, a host's for id.
 */
static X509 *
ikeca_cert(EVP_PKEY *key, const char *cn, const BIGNUM *serial, int days,
    X509 *issuer, EVP_PKEY *signkey, enum ikeca_idtype type)
{
	X509V3_CTX	 ctx;
	X509_NAME	*name;
	X509		*x;

	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL ||
	    (name = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL ||
	    !X509_set_pubkey(x, key))
		ikeca_sslerr("certificate %s", cn);
	X509_NAME_free(name);

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (issuer == NULL) {
		ikeca_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		ikeca_ext(x, &ctx, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
		ikeca_ext(x, &ctx, NID_subject_key_identifier, "hash");
		signkey = key;
	} else {
		ikeca_ext(x, &ctx, NID_basic_constraints, "CA:FALSE");
		ikeca_ext(x, &ctx, NID_key_usage,
		    "critical,digitalSignature,keyEncipherment");
		ikeca_ext(x, &ctx, NID_ext_key_usage, IKECA_EKU);
		ikeca_ext(x, &ctx, NID_subject_key_identifier, "hash");
		ikeca_ext(x, &ctx, NID_authority_key_identifier,
		    "keyid:always");
		ikeca_san(x, cn, type);
	}
	if (X509_sign(x, signkey, ikeca_md(signkey)) <= 0)
		ikeca_sslerr("signing certificate %s", cn);
	return (x);
}

/* The index, its entries pointing into its text. */
static void
ikeca_index_read(struct ikeca *ca, struct ikeca_index *ix)
{
	struct ikeca_entry	*e;
	char			 path[PATH_MAX], *line, *next, **f;
	size_t			 lineno = 0;
	int			 i;

	ikeca_path(path, "%s/index", ca->ca_dir);
	memset(ix, 0, sizeof(*ix));
	ix->ix_text = ikeca_read(path, NULL, 1);
	for (line = ix->ix_text; *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) == NULL)
			errx(1, "%s:%zu: no newline", path, lineno);
		*next++ = '\0';
		e = reallocarray(ix->ix_entries, ix->ix_n + 1, sizeof(*e));
		if (e == NULL)
			err(1, NULL);
		ix->ix_entries = e;
		e = &ix->ix_entries[ix->ix_n++];
		for (i = 0; i < 6; i++) {
			if (line == NULL)
				errx(1, "%s:%zu: malformed", path, lineno);
			f = i == 0 ? &e->e_status : i == 1 ? &e->e_expiry :
			    i == 2 ? &e->e_revoked : i == 3 ? &e->e_serial :
			    i == 4 ? &e->e_file : &e->e_subject;
			*f = strsep(&line, "\t");
		}
		if (line != NULL || (strcmp(e->e_status, "V") != 0 &&
		    strcmp(e->e_status, "R") != 0))
			errx(1, "%s:%zu: malformed", path, lineno);
	}
}

/*
 * The index as text in buf, with one more line if add is not NULL; its
 * length, buf freed by the caller.
 */
static size_t
ikeca_index_text(const struct ikeca_index *ix,
    const struct ikeca_entry *add, char **buf)
{
	const struct ikeca_entry	*e;
	BIO				*b;
	char				*p;
	size_t				 i, len;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		ikeca_sslerr("index");
	for (i = 0; i <= ix->ix_n; i++) {
		if ((e = i < ix->ix_n ? &ix->ix_entries[i] : add) == NULL)
			break;
		if (BIO_printf(b, "%s\t%s\t%s\t%s\t%s\t%s\n", e->e_status,
		    e->e_expiry, e->e_revoked, e->e_serial, e->e_file,
		    e->e_subject) <= 0)
			ikeca_sslerr("index");
	}
	len = (size_t)BIO_get_mem_data(b, &p);
	if ((*buf = malloc(len + 1)) == NULL)
		err(1, NULL);
	memcpy(*buf, p, len);
	BIO_free(b);
	return (len);
}

static void
ikeca_index_free(struct ikeca_index *ix)
{
	free(ix->ix_entries);
	free(ix->ix_text);
}

static char *
ikeca_serial_hex(const ASN1_INTEGER *ai)
{
	BIGNUM	*bn;
	char	*hex;

	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL)
		ikeca_sslerr("serial number");
	BN_free(bn);
	return (hex);
}

/* An ASN.1 time as its string, for the index. */
static char *
ikeca_time_str(const ASN1_TIME *t)
{
	char	*s;

	if ((s = strndup((const char *)ASN1_STRING_get0_data(t),
	    (size_t)ASN1_STRING_length(t))) == NULL)
		err(1, NULL);
	return (s);
}

/* The CRL of every certificate the index says is revoked. */
static X509_CRL *
ikeca_crl(struct ikeca *ca, const struct ikeca_index *ix)
{
	X509V3_CTX		 ctx;
	X509_CRL		*crl, *old;
	X509_REVOKED		*rev;
	X509_EXTENSION		*ext;
	ASN1_INTEGER		*ai, *num;
	ASN1_TIME		*t;
	BIGNUM			*bn = NULL;
	BIO			*b;
	char			 path[PATH_MAX], *buf;
	size_t			 i, len;

	/* The number of the CRL it replaces, plus one. */
	ikeca_path(path, "%s/%s.crl", ca->ca_dir, ca->ca_name);
	if ((buf = ikeca_read(path, &len, 0)) != NULL) {
		if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL ||
		    (old = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) ==
		    NULL)
			ikeca_sslerr("%s: not a PEM CRL", path);
		if ((num = X509_CRL_get_ext_d2i(old, NID_crl_number, NULL,
		    NULL)) != NULL) {
			bn = ASN1_INTEGER_to_BN(num, NULL);
			ASN1_INTEGER_free(num);
		}
		X509_CRL_free(old);
		BIO_free(b);
		free(buf);
	}
	if (bn == NULL && (bn = BN_new()) == NULL)
		ikeca_sslerr("CRL number");
	if (!BN_add_word(bn, 1) || (num = BN_to_ASN1_INTEGER(bn, NULL)) ==
	    NULL)
		ikeca_sslerr("CRL number");
	BN_free(bn);

	if ((crl = X509_CRL_new()) == NULL || !X509_CRL_set_version(crl, 1) ||
	    !X509_CRL_set_issuer_name(crl,
	    X509_get_subject_name(ca->ca_cert)) ||
	    (t = X509_gmtime_adj(NULL, 0)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, t) ||
	    X509_time_adj_ex(t, IKECA_CRL_DAYS, 0, NULL) == NULL ||
	    !X509_CRL_set1_nextUpdate(crl, t))
		ikeca_sslerr("CRL");
	ASN1_TIME_free(t);
	for (i = 0; i < ix->ix_n; i++) {
		if (strcmp(ix->ix_entries[i].e_status, "R") != 0)
			continue;
		bn = NULL;
		if (BN_hex2bn(&bn, ix->ix_entries[i].e_serial) == 0 ||
		    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
		    (t = ASN1_TIME_new()) == NULL ||
		    !ASN1_TIME_set_string(t, ix->ix_entries[i].e_revoked) ||
		    (rev = X509_REVOKED_new()) == NULL ||
		    !X509_REVOKED_set_serialNumber(rev, ai) ||
		    !X509_REVOKED_set_revocationDate(rev, t) ||
		    !X509_CRL_add0_revoked(crl, rev))
			ikeca_sslerr("index: serial %s",
			    ix->ix_entries[i].e_serial);
		BN_free(bn);
		ASN1_INTEGER_free(ai);
		ASN1_TIME_free(t);
	}
	if (!X509_CRL_sort(crl) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
		ikeca_sslerr("CRL");
	ASN1_INTEGER_free(num);
	X509V3_set_ctx(&ctx, ca->ca_cert, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx,
	    NID_authority_key_identifier, "keyid:always")) == NULL ||
	    !X509_CRL_add_ext(crl, ext, -1))
		ikeca_sslerr("CRL");
	X509_EXTENSION_free(ext);
	if (X509_CRL_sign(crl, ca->ca_key, ikeca_md(ca->ca_key)) <= 0)
		ikeca_sslerr("signing the CRL");
	return (crl);
}

/*
 * An existing CA, its certificate and key loaded, locked against other
 * ikectl until exit (its index and serial are read, changed, renamed).
 */
static void
ikeca_load(struct ikeca *ca)
{
	char	 path[PATH_MAX];
	int	 fd;

	if ((fd = open(ca->ca_dir, O_RDONLY | O_DIRECTORY)) == -1) {
		if (errno == ENOENT)
			errx(1, "CA %s: no such CA in %s", ca->ca_name,
			    ca->ca_cadir);
		err(1, "%s", ca->ca_dir);
	}
	if (flock(fd, LOCK_EX) == -1)
		err(1, "%s", ca->ca_dir);
	ikeca_path(path, "%s/ca.crt", ca->ca_dir);
	ca->ca_cert = ikeca_read_cert(path);
	ikeca_path(path, "%s/private/ca.key", ca->ca_dir);
	ca->ca_key = ikeca_read_key(path);
	if (X509_check_private_key(ca->ca_cert, ca->ca_key) != 1)
		errx(1, "CA %s: ca.crt and private/ca.key do not match",
		    ca->ca_name);
}

static void
ikeca_ca_create(struct ikeca *ca)
{
	X509_CRL		*crl;
	BIGNUM			*serial;
	const char		*tmp;
	char			 path[PATH_MAX];
	struct ikeca_index	 ix;
	int			 days;

	ikeca_mkdirs(ca->ca_cadir, 0755);
	if (ikeca_exists(ca->ca_dir))
		errx(1, "CA %s: already exists in %s", ca->ca_name,
		    ca->ca_cadir);
	days = ca->ca_opts->io_days != 0 ? ca->ca_opts->io_days :
	    IKECA_CA_DAYS;

	/* A random serial: a new CA of the same name is another issuer. */
	if ((serial = BN_new()) == NULL ||
	    !BN_rand(serial, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY))
		ikeca_sslerr("serial number");
	ca->ca_key = ikeca_keygen(ca->ca_keytype);
	ca->ca_cert = ikeca_cert(ca->ca_key, ca->ca_name, serial, days, NULL,
	    NULL, ID_FQDN);
	BN_free(serial);

	/* Made under a hidden name, renamed once whole. */
	tmp = ikeca_stage_dir(ca->ca_dir, 0755);
	ikeca_path(path, "%s/private", tmp);
	ikeca_mkdir(path, 0700);
	ikeca_path(path, "%s/certs", tmp);
	ikeca_mkdir(path, 0755);
	ikeca_path(path, "%s/private/ca.key", tmp);
	ikeca_write_key(path, ca->ca_key, 0);
	ikeca_path(path, "%s/ca.crt", tmp);
	ikeca_write_cert(path, ca->ca_cert, 0);
	ikeca_path(path, "%s/serial", tmp);
	ikeca_create(path, 0644, "01\n", 3);
	ikeca_path(path, "%s/index", tmp);
	ikeca_create(path, 0644, "", 0);

	memset(&ix, 0, sizeof(ix));
	crl = ikeca_crl(ca, &ix);
	ikeca_path(path, "%s/%s.crl", tmp, ca->ca_name);
	ikeca_write_crl(path, crl, 0);
	X509_CRL_free(crl);
	ikeca_commit();
}

static void
ikeca_ca_delete(struct ikeca *ca)
{
	const char	*tmp;

	if (!ikeca_exists(ca->ca_dir))
		errx(1, "CA %s: no such CA in %s", ca->ca_name, ca->ca_cadir);
	/* Out of sight at once, then removed. */
	tmp = ikeca_stage_dir(ca->ca_dir, 0700);
	if (rename(ca->ca_dir, tmp) == -1)
		err(1, "%s", ca->ca_dir);
	ikeca_cleanup();
}

/*
 * Copies from, if it exists, to to: in place at the next commit, or,
 * into a staged directory, at once.
 */
static int
ikeca_copy(const char *from, const char *to, mode_t mode, int must,
    int staged)
{
	char	*buf;
	size_t	 len;

	if ((buf = ikeca_read(from, &len, must)) == NULL)
		return (0);
	if (staged)
		ikeca_stage(to, mode, buf, len);
	else
		ikeca_create(to, mode, buf, len);
	ikeca_free_secret(buf, len);
	return (1);
}

static const char *
ikeca_ikeddir(struct ikeca *ca, const char *arg)
{
	if (arg != NULL)
		return (arg);
	if (ca->ca_opts->io_ikeddir != NULL)
		return (ca->ca_opts->io_ikeddir);
	return (IKECA_IKEDDIR);
}

static void
ikeca_ca_install(struct ikeca *ca, const char *dir)
{
	char	 from[PATH_MAX], to[PATH_MAX];

	ikeca_load(ca);
	ikeca_path(to, "%s/ca", dir);
	ikeca_mkdirs(to, 0755);
	ikeca_path(to, "%s/crls", dir);
	ikeca_mkdir(to, 0755);
	ikeca_path(from, "%s/ca.crt", ca->ca_dir);
	ikeca_path(to, "%s/ca/ca.crt", dir);
	ikeca_copy(from, to, 0644, 1, 1);
	ikeca_path(from, "%s/%s.crl", ca->ca_dir, ca->ca_name);
	ikeca_path(to, "%s/crls/ca.crl", dir);
	ikeca_copy(from, to, 0644, 0, 1);
	ikeca_commit();
}

static void
ikeca_ca_crl(struct ikeca *ca)
{
	struct ikeca_index	 ix;
	X509_CRL		*crl;
	char			 path[PATH_MAX];

	ikeca_load(ca);
	ikeca_index_read(ca, &ix);
	crl = ikeca_crl(ca, &ix);
	ikeca_path(path, "%s/%s.crl", ca->ca_dir, ca->ca_name);
	ikeca_write_crl(path, crl, 1);
	ikeca_commit();
	X509_CRL_free(crl);
	ikeca_index_free(&ix);
}

static void
ikeca_print(X509 *x)
{
	BIO	*b;

	if ((b = BIO_new_fp(stdout, BIO_NOCLOSE)) == NULL ||
	    X509_print_ex(b, x, XN_FLAG_ONELINE, 0) <= 0)
		ikeca_sslerr("printing");
	BIO_free(b);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
}

/* An index's time as YYYY-MM-DD HH:MM:SS UTC. */
static const char *
ikeca_date(const char *asn1, char *buf, size_t len)
{
	ASN1_TIME	*t;
	struct tm	 tm;

	if ((t = ASN1_TIME_new()) == NULL || !ASN1_TIME_set_string(t, asn1) ||
	    !ASN1_TIME_to_tm(t, &tm) ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		errx(1, "index: bad time \"%s\"", asn1);
	ASN1_TIME_free(t);
	return (buf);
}

/* show ca NAME certificates: one line each, as the index has them. */
static void
ikeca_ca_list(struct ikeca *ca)
{
	struct ikeca_index	 ix;
	struct ikeca_entry	*e;
	const char		*id;
	char			 date[32];
	size_t			 i, len;

	if (!ikeca_exists(ca->ca_dir))
		errx(1, "CA %s: no such CA in %s", ca->ca_name, ca->ca_cadir);
	ikeca_index_read(ca, &ix);
	for (i = 0; i < ix.ix_n; i++) {
		e = &ix.ix_entries[i];
		id = e->e_file;
		if (strncmp(id, "certs/", 6) == 0)
			id += 6;
		len = strlen(id);
		if (len > 4 && strcmp(id + len - 4, ".crt") == 0)
			len -= 4;
		printf("%.*s serial %s %s %s\n", (int)len, id, e->e_serial,
		    e->e_status[0] == 'V' ? "valid until" : "revoked",
		    ikeca_date(e->e_status[0] == 'V' ? e->e_expiry :
		    e->e_revoked, date, sizeof(date)));
	}
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	ikeca_index_free(&ix);
}

static void
ikeca_cert_create(struct ikeca *ca, const char *id, enum ikeca_idtype type)
{
	struct ikeca_index	 ix;
	struct ikeca_entry	 e;
	EVP_PKEY		*key;
	X509			*x;
	BIGNUM			*serial = NULL;
	char			 path[PATH_MAX], file[PATH_MAX];
	char			 text[PATH_MAX], *buf, *hex;
	size_t			 len;
	int			 days;

	ikeca_load(ca);
	ikeca_path(path, "%s/certs/%s.crt", ca->ca_dir, id);
	if (ikeca_exists(path))
		errx(1, "certificate %s: already exists in CA %s", id,
		    ca->ca_name);
	days = ca->ca_opts->io_days != 0 ? ca->ca_opts->io_days :
	    IKECA_CERT_DAYS;

	ikeca_path(path, "%s/serial", ca->ca_dir);
	buf = ikeca_read(path, NULL, 1);
	buf[strcspn(buf, "\n")] = '\0';
	if ((size_t)BN_hex2bn(&serial, buf) != strlen(buf) || *buf == '\0' ||
	    BN_is_zero(serial) || BN_is_negative(serial))
		errx(1, "%s: not a hexadecimal serial number", path);
	free(buf);
	ikeca_index_read(ca, &ix);

	key = ikeca_keygen(ca->ca_keytype);
	x = ikeca_cert(key, id, serial, days, ca->ca_cert, ca->ca_key, type);

	/* serial, index, key, certificate: renamed together. */
	if (!BN_add_word(serial, 1) || (hex = BN_bn2hex(serial)) == NULL)
		ikeca_sslerr("serial number");
	ikeca_path(text, "%s%s\n", strlen(hex) % 2 ? "0" : "", hex);
	ikeca_stage(path, 0644, text, strlen(text));
	OPENSSL_free(hex);

	ikeca_path(file, "certs/%s.crt", id);
	memset(&e, 0, sizeof(e));
	e.e_status = "V";
	e.e_expiry = ikeca_time_str(X509_get0_notAfter(x));
	e.e_revoked = "";
	e.e_serial = ikeca_serial_hex(X509_get0_serialNumber(x));
	e.e_file = file;
	if ((e.e_subject = X509_NAME_oneline(X509_get_subject_name(x), NULL,
	    0)) == NULL)
		ikeca_sslerr("certificate %s", id);
	len = ikeca_index_text(&ix, &e, &buf);
	ikeca_path(path, "%s/index", ca->ca_dir);
	ikeca_stage(path, 0644, buf, len);
	free(buf);
	free(e.e_expiry);
	OPENSSL_free(e.e_serial);
	OPENSSL_free(e.e_subject);

	ikeca_path(path, "%s/private/%s.key", ca->ca_dir, id);
	ikeca_write_key(path, key, 1);
	ikeca_path(path, "%s/certs/%s.crt", ca->ca_dir, id);
	ikeca_write_cert(path, x, 1);
	ikeca_commit();

	EVP_PKEY_free(key);
	X509_free(x);
	BN_free(serial);
	ikeca_index_free(&ix);
}

static void
ikeca_cert_delete(struct ikeca *ca, const char *id)
{
	char	 crt[PATH_MAX], key[PATH_MAX];

	if (!ikeca_exists(ca->ca_dir))
		errx(1, "CA %s: no such CA in %s", ca->ca_name, ca->ca_cadir);
	ikeca_path(crt, "%s/certs/%s.crt", ca->ca_dir, id);
	ikeca_path(key, "%s/private/%s.key", ca->ca_dir, id);
	if (!ikeca_exists(crt) && !ikeca_exists(key))
		errx(1, "certificate %s: no such certificate in CA %s", id,
		    ca->ca_name);
	/* The key first: a certificate without its key is harmless. */
	if (unlink(key) == -1 && errno != ENOENT)
		err(1, "%s", key);
	if (unlink(crt) == -1 && errno != ENOENT)
		err(1, "%s", crt);
}

static X509 *
ikeca_cert_load(struct ikeca *ca, const char *id)
{
	char	 path[PATH_MAX];

	if (!ikeca_exists(ca->ca_dir))
		errx(1, "CA %s: no such CA in %s", ca->ca_name, ca->ca_cadir);
	ikeca_path(path, "%s/certs/%s.crt", ca->ca_dir, id);
	if (!ikeca_exists(path))
		errx(1, "certificate %s: no such certificate in CA %s", id,
		    ca->ca_name);
	return (ikeca_read_cert(path));
}

static void
ikeca_cert_revoke(struct ikeca *ca, const char *id)
{
	struct ikeca_index	 ix;
	struct ikeca_entry	*e = NULL;
	X509_CRL		*crl;
	X509			*x;
	ASN1_TIME		*now;
	char			 path[PATH_MAX], *hex, *when, *text;
	size_t			 i, len;

	x = ikeca_cert_load(ca, id);
	ikeca_load(ca);
	hex = ikeca_serial_hex(X509_get0_serialNumber(x));
	ikeca_index_read(ca, &ix);
	for (i = 0; i < ix.ix_n; i++)
		if (strcasecmp(ix.ix_entries[i].e_serial, hex) == 0) {
			e = &ix.ix_entries[i];
			break;
		}
	if (e == NULL)
		errx(1, "certificate %s: serial %s not in the index of CA %s",
		    id, hex, ca->ca_name);
	if (strcmp(e->e_status, "R") == 0)
		errx(1, "certificate %s: already revoked", id);
	if ((now = X509_gmtime_adj(NULL, 0)) == NULL)
		ikeca_sslerr("time");
	when = ikeca_time_str(now);
	ASN1_TIME_free(now);
	e->e_status = "R";
	e->e_revoked = when;

	/* The index and the CRL that says so, renamed together. */
	len = ikeca_index_text(&ix, NULL, &text);
	crl = ikeca_crl(ca, &ix);
	ikeca_path(path, "%s/index", ca->ca_dir);
	ikeca_stage(path, 0644, text, len);
	ikeca_path(path, "%s/%s.crl", ca->ca_dir, ca->ca_name);
	ikeca_write_crl(path, crl, 1);
	ikeca_commit();

	X509_CRL_free(crl);
	free(text);
	free(when);
	OPENSSL_free(hex);
	X509_free(x);
	ikeca_index_free(&ix);
}

/*
 * The host's files in iked's layout under dir: certs/ID.crt and
 * private/local.key; for export, ca/ca.crt and crls/ca.crl too.
 */
static void
ikeca_cert_files(struct ikeca *ca, const char *id, const char *dir,
    int withca)
{
	char	 from[PATH_MAX], to[PATH_MAX];

	ikeca_path(to, "%s/certs", dir);
	ikeca_mkdirs(to, 0755);
	ikeca_path(to, "%s/private", dir);
	ikeca_mkdir(to, 0700);
	ikeca_path(from, "%s/certs/%s.crt", ca->ca_dir, id);
	ikeca_path(to, "%s/certs/%s.crt", dir, id);
	ikeca_copy(from, to, 0644, 1, !withca);
	ikeca_path(from, "%s/private/%s.key", ca->ca_dir, id);
	ikeca_path(to, "%s/private/local.key", dir);
	ikeca_copy(from, to, 0600, 1, !withca);
	if (!withca)
		return;
	ikeca_path(to, "%s/ca", dir);
	ikeca_mkdir(to, 0755);
	ikeca_path(to, "%s/crls", dir);
	ikeca_mkdir(to, 0755);
	ikeca_path(from, "%s/ca.crt", ca->ca_dir);
	ikeca_path(to, "%s/ca/ca.crt", dir);
	ikeca_copy(from, to, 0644, 1, !withca);
	ikeca_path(from, "%s/%s.crl", ca->ca_dir, ca->ca_name);
	ikeca_path(to, "%s/crls/ca.crl", dir);
	ikeca_copy(from, to, 0644, 0, !withca);
}

static void
ikeca_cert_install(struct ikeca *ca, const char *id, const char *dir)
{
	X509_free(ikeca_cert_load(ca, id));
	ikeca_cert_files(ca, id, dir, 0);
	ikeca_commit();
}

/* ./ID, made under a hidden name and renamed once whole. */
static void
ikeca_cert_export(struct ikeca *ca, const char *id)
{
	char	 dir[PATH_MAX];

	X509_free(ikeca_cert_load(ca, id));
	if (ikeca_exists(id))
		errx(1, "%s: already exists", id);
	ikeca_path(dir, "%s", ikeca_stage_dir(id, 0755));
	ikeca_cert_files(ca, id, dir, 1);
	ikeca_commit();
}

static void __attribute__((__noreturn__))
ikeca_usage(const char *what)
{
	errx(1, "usage: %s (see ikectl(8))", what);
}

int
ikeca(const struct ikeca_opts *opts, int argc, char *argv[])
{
	struct ikeca	 ca;
	sigset_t	 set;
	X509		*x;
	const char	*verb, *id;
	enum ikeca_idtype type;

	memset(&ca, 0, sizeof(ca));
	ca.ca_opts = opts;
	ca.ca_keytype = ikeca_keytype(opts->io_keytype);
	ca.ca_cadir = opts->io_cadir != NULL ? opts->io_cadir : IKECA_CADIR;

	/* show ca NAME certificates, as OpenBSD's ikectl has it. */
	if (strcmp(argv[0], "show") == 0) {
		if (argc != 4 || strcmp(argv[3], "certificates") != 0)
			ikeca_usage("show ca name certificates");
		argv++;
		argc--;
		verb = "certificates";
	} else if (argc < 3)
		ikeca_usage("ca name command [argument ...]");
	else
		verb = argv[2];
	ca.ca_name = argv[1];
	ikeca_check_name(ca.ca_name);
	ikeca_path(ca.ca_dir, "%s/%s", ca.ca_cadir, ca.ca_name);

	/* Interrupted, we would leave hidden files behind. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	atexit(ikeca_cleanup);

	if (strcmp(verb, "certificates") == 0)
		ikeca_ca_list(&ca);
	else if (strcmp(verb, "certificate") == 0) {
		if (argc < 5)
			ikeca_usage("ca name certificate id command [dir]");
		id = argv[3];
		type = ikeca_check_id(id);
		verb = argv[4];
		if (strcmp(verb, "install") == 0 && argc <= 6)
			ikeca_cert_install(&ca, id,
			    ikeca_ikeddir(&ca, argc == 6 ? argv[5] : NULL));
		else if (argc != 5)
			errx(1, "ca %s certificate %s %s: too many arguments",
			    ca.ca_name, id, verb);
		else if (strcmp(verb, "create") == 0)
			ikeca_cert_create(&ca, id, type);
		else if (strcmp(verb, "delete") == 0)
			ikeca_cert_delete(&ca, id);
		else if (strcmp(verb, "revoke") == 0)
			ikeca_cert_revoke(&ca, id);
		else if (strcmp(verb, "export") == 0)
			ikeca_cert_export(&ca, id);
		else if (strcmp(verb, "show") == 0) {
			x = ikeca_cert_load(&ca, id);
			ikeca_print(x);
			X509_free(x);
		} else
			errx(1, "ca %s certificate %s %s: unknown command",
			    ca.ca_name, id, verb);
	} else if (strcmp(verb, "install") == 0 && argc <= 4)
		ikeca_ca_install(&ca,
		    ikeca_ikeddir(&ca, argc == 4 ? argv[3] : NULL));
	else if (argc != 3)
		errx(1, "ca %s %s: too many arguments", ca.ca_name, verb);
	else if (strcmp(verb, "create") == 0)
		ikeca_ca_create(&ca);
	else if (strcmp(verb, "delete") == 0)
		ikeca_ca_delete(&ca);
	else if (strcmp(verb, "crl") == 0)
		ikeca_ca_crl(&ca);
	else if (strcmp(verb, "show") == 0) {
		ikeca_load(&ca);
		ikeca_print(ca.ca_cert);
	} else
		errx(1, "ca %s %s: unknown command", ca.ca_name, verb);

	X509_free(ca.ca_cert);
	EVP_PKEY_free(ca.ca_key);
	return (0);
}
