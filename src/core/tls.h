/* The TLS context of ServiceSettings: built by each worker to serve, and by
 * the master and `chorusd -t` beforehand, so that an unusable certificate is
 * a config error named by its key instead of workers that cannot start. */
#ifndef CHORUS_CORE_TLS_H
#define CHORUS_CORE_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "core/config.h"

/* Returns NULL with "Section.Key: reason" in `error` when it cannot. */
SSL_CTX *tls_context_create(const config_service_t *service, char *error, size_t error_size);
/* 0 when TLS is off or its context can be built; else -1 with `error`. */
int tls_check(const config_service_t *service, char *error, size_t error_size);

#endif
