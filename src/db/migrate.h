/* Schema migrations, run by a short-lived child of the master so that neither
 * the master nor a worker ever blocks on the database. */
#ifndef CHORUS_DB_MIGRATE_H
#define CHORUS_DB_MIGRATE_H

#include "core/config.h"
#include "shm/region.h"

typedef struct {
    unsigned version; /* 1, 2, 3... in order, never reused */
    const char *name;
    const char *sql; /* one or more statements, run in one transaction */
} migration_t;

/* The ordered list (migrations.c). */
extern const migration_t migrations[];
extern const unsigned migrations_count;

typedef struct {
    const config_t *config;
    shm_region_t *shm;
    int control_fd;
} migrate_params_t;

/* Connects (retrying with backoff while the database is unreachable), takes
 * the cluster-wide advisory lock, applies what is missing, records it,
 * publishes the schema version in the shm header.  Returns the exit status. */
int migrate_main(const migrate_params_t *params);

#endif
