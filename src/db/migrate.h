/* Schema migrations, run by a short-lived child of the master so that neither
 * the master nor a worker ever blocks on the database. */
#ifndef CHORUS_DB_MIGRATE_H
#define CHORUS_DB_MIGRATE_H

#include <stdbool.h>

#include "core/child.h"
#include "core/config.h"
#include "shm/region.h"

typedef struct {
    unsigned version; /* 1, 2, 3... in order, never reused */
    const char *name;
    const char *sql; /* one or more statements, run in one transaction */
} migration_t;

/* The schema versions features wait for (the migration that creates what
 * they use), next to the list that defines them (migrations.c). */
#define SCHEMA_CLUSTER_DISCOVERY 5  /* ClusterDiscovery */
#define SCHEMA_JOBS              6  /* Jobs */
#define SCHEMA_ONLINE_USERS      7  /* OnlineUsers: cluster-wide presence */
#define SCHEMA_ROLES             9  /* Roles: permissions as data */
#define SCHEMA_REACTIONS         13 /* Reactions, Posts.HasReactions */

/* True once the node's schema is at `version` or later (the migration child
 * publishes it in the shm header; any process may ask). */
static inline bool schema_at_least(shm_region_t *shm, unsigned version)
{
    return __atomic_load_n(&shm_region_header(shm)->schema_version, __ATOMIC_ACQUIRE) >= version;
}

/* The ordered list (migrations.c). */
extern const migration_t migrations[];
extern const unsigned migrations_count;

/* Connects (retrying with backoff while the database is unreachable), takes
 * the cluster-wide advisory lock, applies what is missing, records it,
 * publishes the schema version in the shm header.  Returns the exit status. */
int migrate_main(const child_params_t *params);

#endif
