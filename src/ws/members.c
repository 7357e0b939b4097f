/*
 * Per-worker membership cache: channel id → its members' user ids, team id
 * → its (not deleted) members' ids, for delivering channel and team events;
 * user id → the ids of the user's channels ('u'), for what a user asks about
 * their own channels (user_typing): answered from one set per user, an
 * action naming any channel never loads that channel's members.
 *
 * A set is loaded from the master database (a replica might miss a member
 * added a moment ago) on first need, asynchronously; the caller sees
 * LOADING and tries again when the hub is pumped after the load.  A set is
 * sorted, so a membership test is a binary search.  EVENT_MEMBERS_CHANGED
 * forgets a set (a load in flight is then redone: its answer may predate the
 * change).  The cache holds at most WS_MEMBERS_ENTRIES sets of at most
 * WS_MEMBERS_USERS_MAX users; when full, the least recently used ready set
 * goes.  A table this size is searched linearly.
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ws/internal.h"

#define WS_MEMBERS_ENTRIES   512
#define WS_MEMBERS_USERS_MAX 100000

typedef char ws_user_id_t[ID_LENGTH + 1];

typedef struct {
    ws_hub_t *hub;
    char kind; /* 0 = free slot */
    char id[ID_LENGTH + 1];
    ws_members_state_t state;
    bool redo;     /* invalidated while loading */
    bool starting; /* inside db_router_query: an answer now must not pump */
    db_routed_t *query;
    ws_user_id_t *users;
    size_t n;
    uint64_t used;
} ws_members_entry_t;

struct ws_members_s {
    ws_members_entry_t entries[WS_MEMBERS_ENTRIES];
    uint64_t clock;
};

static const char channel_sql[] =
    "SELECT UserId FROM ChannelMembers WHERE ChannelId = $1 LIMIT " H2O_TO_STR(WS_MEMBERS_USERS_MAX);
static const char team_sql[] =
    "SELECT UserId FROM TeamMembers WHERE TeamId = $1 AND DeleteAt = 0 LIMIT " H2O_TO_STR(WS_MEMBERS_USERS_MAX);
static const char user_sql[] =
    "SELECT ChannelId FROM ChannelMembers WHERE UserId = $1 LIMIT " H2O_TO_STR(WS_MEMBERS_USERS_MAX);

static const char *kind_name(char kind)
{
    return kind == 'c' ? "channel" : kind == 't' ? "team" : "user";
}

int ws_members_create(ws_hub_t *hub)
{
    hub->members = calloc(1, sizeof(*hub->members));
    return hub->members != NULL ? 0 : -ENOMEM;
}

static void entry_clear(ws_members_entry_t *e)
{
    if (e->query != NULL)
        db_routed_cancel(e->query);
    free(e->users);
    memset(e, 0, sizeof(*e));
}

void ws_members_destroy(ws_hub_t *hub)
{
    if (hub->members == NULL)
        return;
    for (size_t i = 0; i < WS_MEMBERS_ENTRIES; i++)
        entry_clear(&hub->members->entries[i]);
    free(hub->members);
    hub->members = NULL;
}

static ws_members_entry_t *find(ws_hub_t *hub, char kind, const char *id)
{
    for (size_t i = 0; i < WS_MEMBERS_ENTRIES; i++) {
        ws_members_entry_t *e = &hub->members->entries[i];
        if (e->kind == kind && strcmp(e->id, id) == 0)
            return e;
    }
    return NULL;
}

/* A free slot, else the least recently used ready one; NULL when every set
 * is loading. */
static ws_members_entry_t *slot_for_new(ws_hub_t *hub)
{
    ws_members_entry_t *victim = NULL;
    for (size_t i = 0; i < WS_MEMBERS_ENTRIES; i++) {
        ws_members_entry_t *e = &hub->members->entries[i];
        if (e->kind == 0)
            return e;
        if (e->state != WS_MEMBERS_LOADING && (victim == NULL || e->used < victim->used))
            victim = e;
    }
    if (victim != NULL)
        entry_clear(victim);
    return victim;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void start_load(ws_members_entry_t *e);

static void on_loaded(void *data, PGresult *res, const char *error, const db_outcome_t *outcome)
{
    ws_members_entry_t *e = data;
    ws_hub_t *hub = e->hub;
    (void)outcome;
    e->query = NULL;
    if (e->redo) {
        e->redo = false;
        start_load(e);
        return;
    }
    int n = error == NULL ? PQntuples(res) : 0;
    e->users = error == NULL && n > 0 ? calloc((size_t)n, sizeof(*e->users)) : NULL;
    if (error != NULL || (n > 0 && e->users == NULL)) {
        log_warn(0, "cannot load the members of %s %s: %s", kind_name(e->kind), e->id,
                 error != NULL ? error : "out of memory");
        e->state = WS_MEMBERS_FAILED;
    } else {
        for (int i = 0; i < n; i++)
            snprintf(e->users[i], sizeof(e->users[i]), "%s", PQgetvalue(res, i, 0));
        qsort(e->users, (size_t)n, sizeof(*e->users), compare_ids);
        e->n = (size_t)n;
        e->state = WS_MEMBERS_READY;
    }
    if (e->starting)
        return; /* refused at once: our caller sees the state */
    char kind = e->kind, id[ID_LENGTH + 1];
    memcpy(id, e->id, sizeof(id));
    if (kind == 'u')
        ws_actions_user_channels_loaded(hub, id);
    ws_deliver_pump(hub);
}

static void start_load(ws_members_entry_t *e)
{
    const char *params[] = {e->id};
    e->state = WS_MEMBERS_LOADING;
    e->starting = true;
    /* NULL when the callback has already run (the router refused) */
    db_routed_t *q = db_router_query(e->hub->worker->router, DB_INTENT_READ, DB_LSN_MASTER_ONLY,
                                     e->kind == 'c'   ? channel_sql
                                     : e->kind == 't' ? team_sql
                                                      : user_sql,
                                     1, params, on_loaded, e);
    e->starting = false;
    if (q != NULL)
        e->query = q;
}

ws_members_state_t ws_members_get(ws_hub_t *hub, char kind, const char *id)
{
    ws_members_entry_t *e = find(hub, kind, id);
    if (e == NULL) {
        if ((e = slot_for_new(hub)) == NULL)
            return WS_MEMBERS_FAILED;
        e->hub = hub;
        e->kind = kind;
        snprintf(e->id, sizeof(e->id), "%s", id);
        e->used = ++hub->members->clock;
        start_load(e);
        return e->state; /* FAILED when the router refused at once */
    }
    e->used = ++hub->members->clock;
    return e->state;
}

bool ws_members_ready(ws_hub_t *hub, char kind, const char *id)
{
    ws_members_entry_t *e = find(hub, kind, id);
    return e != NULL && e->state == WS_MEMBERS_READY;
}

bool ws_members_has(ws_hub_t *hub, char kind, const char *id, const char *user_id)
{
    ws_members_entry_t *e = find(hub, kind, id);
    if (e == NULL || e->state != WS_MEMBERS_READY || e->n == 0)
        return false;
    return bsearch(user_id, e->users, e->n, sizeof(*e->users), compare_ids) != NULL;
}

void ws_members_invalidate(ws_hub_t *hub, char kind, const char *id)
{
    for (size_t i = 0; i < WS_MEMBERS_ENTRIES; i++) {
        ws_members_entry_t *e = &hub->members->entries[i];
        if (e->kind == 0 || (kind != 0 && e->kind != kind) || (id != NULL && strcmp(e->id, id) != 0))
            continue;
        if (e->state == WS_MEMBERS_LOADING)
            e->redo = true;
        else
            entry_clear(e);
    }
}

void ws_members_forget_failed(ws_hub_t *hub, char kind, const char *id)
{
    ws_members_entry_t *e = find(hub, kind, id);
    if (e != NULL && e->state == WS_MEMBERS_FAILED)
        entry_clear(e);
}
