/* Building the server's TLS context from ServiceSettings (see tls.h). */
#include "core/tls.h"

#include <stdio.h>
#include <string.h>

#include "h2o.h"

static int min_version(const char *name)
{
    if (strcmp(name, "1.3") == 0)
        return TLS1_3_VERSION;
    if (strcmp(name, "1.1") == 0)
        return TLS1_1_VERSION;
    if (strcmp(name, "1.0") == 0)
        return TLS1_VERSION;
    return TLS1_2_VERSION;
}

SSL_CTX *tls_context_create(const config_service_t *s, char *error, size_t error_size)
{
    SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());
    if (ssl == NULL) {
        snprintf(error, error_size, "ServiceSettings.ConnectionSecurity: cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ssl, min_version(s->tls_min_ver));
    if (SSL_CTX_use_certificate_chain_file(ssl, s->tls_cert_file) != 1) {
        snprintf(error, error_size, "ServiceSettings.TLSCertFile: cannot load a certificate from \"%s\"",
                 s->tls_cert_file);
    } else if (SSL_CTX_use_PrivateKey_file(ssl, s->tls_key_file, SSL_FILETYPE_PEM) != 1) {
        snprintf(error, error_size, "ServiceSettings.TLSKeyFile: cannot load a private key from \"%s\"",
                 s->tls_key_file);
    } else if (SSL_CTX_check_private_key(ssl) != 1) {
        snprintf(error, error_size, "ServiceSettings.TLSKeyFile: \"%s\" does not match ServiceSettings.TLSCertFile",
                 s->tls_key_file);
    } else {
        /* h2 where the client offers it; WebSockets still get HTTP/1.1 */
        h2o_ssl_register_alpn_protocols(ssl, h2o_http2_alpn_protocols);
        return ssl;
    }
    SSL_CTX_free(ssl);
    return NULL;
}

int tls_check(const config_service_t *s, char *error, size_t error_size)
{
    if (strcmp(s->connection_security, "TLS") != 0)
        return 0;
    SSL_CTX *ssl = tls_context_create(s, error, error_size);
    if (ssl == NULL)
        return -1;
    SSL_CTX_free(ssl);
    return 0;
}
