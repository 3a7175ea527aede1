// The system OpenSSL (Debian libssl-dev). Macros Swift cannot call are wrapped as inline functions here.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <openssl/crypto.h>

static inline long rcm_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline long rcm_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline int rcm_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline uint64_t rcm_SSL_OP_IGNORE_UNEXPECTED_EOF(void) {
    return SSL_OP_IGNORE_UNEXPECTED_EOF;
}

/* A socket BIO that writes with MSG_NOSIGNAL: OpenSSL's own socket BIO uses write(2), and a peer that went away
   would raise SIGPIPE and kill a process that does not ignore it. The descriptor stays owned by the caller. */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

static inline int rcm_bio_retriable(void) {
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static int rcm_bio_write(BIO *bio, const char *data, int length) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t sent = send(fd, data, (size_t)length, MSG_NOSIGNAL);
    if (sent < 0 && rcm_bio_retriable()) BIO_set_retry_write(bio);
    return (int)sent;
}

static int rcm_bio_read(BIO *bio, char *data, int length) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t received = recv(fd, data, (size_t)length, 0);
    if (received < 0 && rcm_bio_retriable()) BIO_set_retry_read(bio);
    return (int)received;
}

static long rcm_bio_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)bio; (void)number; (void)pointer;
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

static int rcm_bio_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

/* The method, made once by the caller and kept for the process's lifetime. */
static inline BIO_METHOD *rcm_BIO_nosignal_socket_method(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rcm nosignal socket");
    if (method == NULL) return NULL;
    BIO_meth_set_write(method, rcm_bio_write);
    BIO_meth_set_read(method, rcm_bio_read);
    BIO_meth_set_ctrl(method, rcm_bio_ctrl);
    BIO_meth_set_create(method, rcm_bio_create);
    return method;
}

static inline BIO *rcm_BIO_new_nosignal_socket(BIO_METHOD *method, int fd) {
    BIO *bio = BIO_new(method);
    if (bio != NULL) BIO_set_data(bio, (void *)(intptr_t)fd);
    return bio;
}

/* Encrypted private keys are refused rather than prompted for: OpenSSL's default would read a passphrase from
   the terminal and block a service thread. */
static int rcm_no_passphrase(char *buffer, int size, int writing, void *user) {
    (void)buffer; (void)size; (void)writing; (void)user;
    return 0;
}

static inline void rcm_SSL_CTX_refuse_passphrases(SSL_CTX *ctx) {
    SSL_CTX_set_default_passwd_cb(ctx, rcm_no_passphrase);
}
