/*
 * The Status table and the presence rules every process of a node shares
 * (the status API, WebSocket presence, the cluster child's sweep): the SQL,
 * the row → presence mapping, and what follows a write — the presence cache
 * by version and the status event on the ring.
 *
 * Every statement that changes a row returns STATUS_COLUMNS, so its row goes
 * through status_apply_row whoever wrote it.  $1 is the user (or a text[] of
 * users or node ids where said), $2 the time in ms, $3 this node's id.
 */
#ifndef CHORUS_STORE_STATUS_H
#define CHORUS_STORE_STATUS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "shm/presence.h"
#include "shm/region.h"

/* The columns status_from_row reads, in its order. */
#define STATUS_COLUMNS "UserId, Status, Manual, LastActivityAt, DndEndTime, PrevStatus, Version"

/* Activity: online again unless set by hand; away by hand; away when idle.
 * Each returns STATUS_COLUMNS and whether it changed the row: the row
 * written, or the row as it is when the update had nothing to do (so that
 * the presence cache learns it, and the next report of the same activity
 * is answered from the cache instead of the primary: ws/presence.c). */
#define STATUS_SQL_OR_CURRENT(update)                                               \
    "WITH w AS (" update " RETURNING " STATUS_COLUMNS ")"                           \
    " SELECT *, true FROM w UNION ALL SELECT " STATUS_COLUMNS ", false FROM Status" \
    " WHERE UserId = $1 AND NOT EXISTS (SELECT 1 FROM w)"
#define STATUS_COLUMN_CHANGED 7
#define STATUS_SQL_ACTIVE                                                                                   \
    STATUS_SQL_OR_CURRENT("UPDATE Status SET Status = 'online', LastActivityAt = $2, Version = Version + 1" \
                          " WHERE UserId = $1 AND NOT Manual AND Status <> 'online'")
#define STATUS_SQL_AWAY_MANUAL                                                                      \
    STATUS_SQL_OR_CURRENT("UPDATE Status SET Status = 'away', Manual = true, Version = Version + 1" \
                          " WHERE UserId = $1 AND Status <> 'away' AND $2::bigint > 0")
#define STATUS_SQL_AWAY_IDLE                                                         \
    STATUS_SQL_OR_CURRENT("UPDATE Status SET Status = 'away', Version = Version + 1" \
                          " WHERE UserId = $1 AND NOT Manual AND Status = 'online' AND $2::bigint > 0")

/* A user's first socket on this node: our OnlineUsers row, online unless set
 * by hand.  Their last socket: offline only when no other node holds one. */
#define STATUS_SQL_SOCKETS_OPEN                                                   \
    "WITH here AS (INSERT INTO OnlineUsers (UserId, NodeId) VALUES ($1, $3)"      \
    " ON CONFLICT DO NOTHING)"                                                    \
    " INSERT INTO Status AS s (UserId, Status, Manual, LastActivityAt, Version)"  \
    " VALUES ($1, 'online', false, $2, 1)"                                        \
    " ON CONFLICT (UserId) DO UPDATE SET Status = 'online', LastActivityAt = $2," \
    " Version = s.Version + 1 WHERE NOT s.Manual AND s.Status <> 'online'"        \
    " RETURNING " STATUS_COLUMNS
#define STATUS_SQL_SOCKETS_CLOSED                                                          \
    "WITH gone AS (DELETE FROM OnlineUsers WHERE UserId = $1 AND NodeId = $3)"             \
    " UPDATE Status SET Status = 'offline', Version = Version + 1"                         \
    " WHERE UserId = $1 AND NOT Manual AND Status <> 'offline' AND $2::bigint > 0"         \
    " AND NOT EXISTS (SELECT 1 FROM OnlineUsers o WHERE o.UserId = $1 AND o.NodeId <> $3)" \
    " RETURNING " STATUS_COLUMNS

/* Cluster-wide presence (OnlineUsers: one row per user and node holding a
 * socket of theirs).  Sweep: forget the rows of every node not in $1 (a
 * text[] of live node ids) and set offline, unless manual, the users no live
 * node holds.  Resync: rows for the users in $1 on node $2, online again
 * (time $3) those a sweep during a partition set offline. */
#define STATUS_SQL_SWEEP                                                                                     \
    "WITH gone AS (DELETE FROM OnlineUsers WHERE NOT (NodeId = ANY($1::text[])) RETURNING UserId) "          \
    "UPDATE Status s SET Status = 'offline', Version = s.Version + 1 "                                       \
    "WHERE s.UserId IN (SELECT UserId FROM gone) AND NOT s.Manual AND s.Status <> 'offline' "                \
    "AND NOT EXISTS (SELECT 1 FROM OnlineUsers o WHERE o.UserId = s.UserId AND o.NodeId = ANY($1::text[])) " \
    "RETURNING " STATUS_COLUMNS
#define STATUS_SQL_RESYNC                                                                          \
    "WITH here AS (INSERT INTO OnlineUsers (UserId, NodeId) SELECT unnest($1::text[]), $2 "        \
    "ON CONFLICT DO NOTHING) "                                                                     \
    "UPDATE Status s SET Status = 'online', LastActivityAt = $3::bigint, Version = s.Version + 1 " \
    "WHERE s.UserId = ANY($1::text[]) AND NOT s.Manual AND s.Status = 'offline' RETURNING " STATUS_COLUMNS

/* Reads: $1 one user; $1 a jsonb array of users. */
#define STATUS_SQL_BY_USER "SELECT " STATUS_COLUMNS " FROM Status WHERE UserId = $1"
#define STATUS_SQL_BY_USERS \
    "SELECT " STATUS_COLUMNS " FROM Status WHERE UserId IN (SELECT jsonb_array_elements_text($1::jsonb))"

/* Set by hand (PUT /users/{id}/status): $1 user, $2 status, $3 now (ms), $4
 * the DND end (ms).  As Mattermost: anything but online is manual; online
 * and offline stamp the activity; dnd remembers the status it replaces. */
#define STATUS_SQL_SET                                                                                   \
    "INSERT INTO Status AS s (UserId, Status, Manual, LastActivityAt, DndEndTime, PrevStatus, Version)"  \
    " VALUES ($1, $2::varchar, $2::varchar <> 'online',"                                                 \
    "  CASE WHEN $2::varchar IN ('online', 'offline') THEN $3::bigint ELSE 0 END,"                       \
    "  CASE WHEN $2::varchar = 'dnd' THEN $4::bigint ELSE 0 END,"                                        \
    "  CASE WHEN $2::varchar = 'dnd' THEN 'offline' ELSE '' END, 1)"                                     \
    " ON CONFLICT (UserId) DO UPDATE SET Status = EXCLUDED.Status, Manual = EXCLUDED.Manual,"            \
    "  LastActivityAt = CASE WHEN EXCLUDED.Status IN ('online', 'offline') THEN EXCLUDED.LastActivityAt" \
    "   ELSE s.LastActivityAt END,"                                                                      \
    "  DndEndTime = CASE EXCLUDED.Status WHEN 'dnd' THEN EXCLUDED.DndEndTime WHEN 'offline' THEN 0"      \
    "   ELSE s.DndEndTime END,"                                                                          \
    "  PrevStatus = CASE EXCLUDED.Status WHEN 'dnd' THEN s.Status WHEN 'offline' THEN ''"                \
    "   ELSE s.PrevStatus END, Version = s.Version + 1"                                                  \
    " RETURNING " STATUS_COLUMNS

/* A STATUS_COLUMNS row as presence. */
void status_from_row(const PGresult *res, int row, shm_presence_t *presence);
/* Mattermost's Status JSON (active_channel is empty here, so omitted as it does). */
json_t *status_to_json(const char *user_id, const shm_presence_t *presence);
/* Caches a row read or written unless the cache holds a later version: a
 * reader's older row never overwrites a writer's, nor two writers' rows each
 * other out of commit order. */
void status_cache_put(shm_region_t *shm, const char *user_id, const shm_presence_t *presence);
/* A written row: into the presence cache (by version) and out on the ring as
 * a status change, from any process of the node. */
void status_apply_row(shm_region_t *shm, const int *ring_eventfds, const PGresult *res, int row);
/* The status change of `user_id` on the ring (WebSockets deliver it; the
 * cluster forwards it). */
void status_publish(shm_region_t *shm, const int *ring_eventfds, const char *user_id, const shm_presence_t *presence);

#endif
