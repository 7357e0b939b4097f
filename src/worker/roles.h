/*
 * The worker's copy of the Roles table (role name → permissions), which every
 * permission check reads, kept by version: the node's shm header holds a
 * roles version, bumped after each change to the table (by the worker that
 * patched a role, and by every worker that reads a peer's role_updated off
 * the ring), and the copy is fresh while it was loaded at the current one.
 * A stale copy is still what checks read until the next load replaces it;
 * the API loads before a request's checks (api/access.c api_roles_ready).
 * Each role's JSON is kept too: the web app asks for roles by name on every
 * load, and a fresh copy answers that without the database.
 * Until the first load it holds Mattermost's defaults (db/roles_default.h).
 */
#ifndef CHORUS_WORKER_ROLES_H
#define CHORUS_WORKER_ROLES_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/region.h"

typedef struct {
    char *name; /* both malloc'd */
    char *permissions;
    json_t *json; /* the role as Mattermost's Role; NULL for the defaults */
    bool deleted; /* answered by name, never granting */
} worker_role_t;

typedef struct worker_roles_s {
    worker_role_t *roles;
    size_t count;
    uint64_t loaded; /* the roles version it was loaded at */
    bool from_table; /* loaded from the Roles table at least once */
} worker_roles_t;

/* The defaults; -ENOMEM. */
int worker_roles_init(worker_roles_t *roles);
void worker_roles_free(worker_roles_t *roles);

/* The node's roles version now. */
uint64_t worker_roles_version(const shm_region_t *shm);
/* A role changed: every worker's copy is stale. */
void worker_roles_changed(const shm_region_t *shm);
/* The copy was loaded at the current version. */
bool worker_roles_fresh(const worker_roles_t *roles, const shm_region_t *shm);
/* Replaces the copy with ROLE_SQL_PERMISSIONS's rows (ROLE_COLUMNS, by
 * name), read at `version`, unless a load at a later version came first.  -ENOMEM
 * (the copy is then unchanged). */
int worker_roles_install(worker_roles_t *roles, const PGresult *res, uint64_t version);

/* The roles named in `names` (strings; others ignored) as Mattermost's Roles,
 * by name, each once: what POST /roles/names answers.  Only from a copy
 * loaded from the table; NULL when out of memory. */
json_t *worker_roles_by_names(const worker_roles_t *roles, const json_t *names);

/* One of the space-separated `role_names` grants `permission`. */
bool worker_roles_grant(const worker_roles_t *roles, const char *role_names, const char *permission);
/* The names of the roles that grant `permission`, as a PostgreSQL text[]
 * literal ("{team_user,team_admin}") in `out`; false when it does not fit. */
bool worker_roles_granting(const worker_roles_t *roles, const char *permission, char *out, size_t size);

#endif
