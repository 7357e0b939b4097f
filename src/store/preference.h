/*
 * The Preferences table (UserId, Category, Name → Value): the SQL, the
 * row → Mattermost Preference JSON, and Mattermost's rules for a write
 * (Preference.PreUpdate, which sanitizes a theme, and Preference.IsValid).
 *
 * A list of preferences travels to a statement as one JSON array ($2): a
 * batch is one statement, so it is saved or deleted whole or not at all,
 * as Mattermost's transaction does.
 */
#ifndef CHORUS_STORE_PREFERENCE_H
#define CHORUS_STORE_PREFERENCE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* Mattermost's MaxPreferenceValueLength (runes) and the batch bound of its
 * PUT and delete routes (maxUpdatePreferences). */
#define PREFERENCE_VALUE_MAX_RUNES 20000
#define PREFERENCE_BATCH_MAX       100

/* The columns preference_to_json reads, in its order. */
#define PREFERENCE_COLUMNS "UserId, Category, Name, Value"

/* Reads: $1 the user; $2 a category; $3 a name.  PREFERENCE_COLUMNS. */
#define PREFERENCE_SQL_ALL "SELECT " PREFERENCE_COLUMNS " FROM Preferences WHERE UserId = $1 ORDER BY Category, Name"
#define PREFERENCE_SQL_CATEGORY \
    "SELECT " PREFERENCE_COLUMNS " FROM Preferences WHERE UserId = $1 AND Category = $2 ORDER BY Name"
#define PREFERENCE_SQL_ONE \
    "SELECT " PREFERENCE_COLUMNS " FROM Preferences WHERE UserId = $1 AND Category = $2 AND Name = $3"

/* The tail of a save or delete: CTE `fav` (ch, fav) lists the channels whose
 * favorite_channel preference of user $1 changed; their favorites
 * categories follow (sidebar.h keeps the other direction). */
#define PREFERENCE_SQL_FAVORITES_SYNC                                                                       \
    " cats AS (SELECT k.Id AS cat, k.TeamId AS team, f.ch, f.fav FROM fav f JOIN Channels c ON c.Id = f.ch" \
    "  JOIN SidebarCategories k ON k.UserId = $1 AND k.Type = 'favorites'"                                  \
    "  AND (k.TeamId = c.TeamId OR c.TeamId = '')),"                                                        \
    " unfav AS (DELETE FROM SidebarChannels sc USING cats WHERE NOT cats.fav AND sc.UserId = $1"            \
    "  AND sc.CategoryId = cats.cat AND sc.ChannelId = cats.ch),"                                           \
    " moved AS (DELETE FROM SidebarChannels sc USING cats, SidebarCategories o WHERE cats.fav"              \
    "  AND sc.UserId = $1 AND sc.ChannelId = cats.ch AND o.Id = sc.CategoryId AND o.TeamId = cats.team"     \
    "  AND o.Type <> 'favorites'),"                                                                         \
    " faved AS (INSERT INTO SidebarChannels (ChannelId, UserId, CategoryId, SortOrder)"                     \
    "  SELECT cats.ch, $1, cats.cat, COALESCE((SELECT max(x.SortOrder) FROM SidebarChannels x"              \
    "  WHERE x.CategoryId = cats.cat), -10) + 10 FROM cats WHERE cats.fav"                                  \
    "  ON CONFLICT (ChannelId, UserId, CategoryId) DO NOTHING)"                                             \
    " SELECT count(*) FROM fav"

/* Save: $1 the user, $2 a JSON array of {category, name, value} (checked by
 * preference_check).  Upserts each; when the batch names one key twice the
 * later entry wins, as Mattermost's one-by-one upserts leave it.  A
 * favorite_channel preference moves its channel as Mattermost's
 * UpdateSidebarChannelsByPreferences does: "true" into the user's favorites
 * category (of the channel's team; of every team for a direct or group
 * channel), out of the user's other categories there; anything else out of
 * favorites. */
#define PREFERENCE_SQL_SAVE                                                                        \
    "WITH saved AS (INSERT INTO Preferences AS p (UserId, Category, Name, Value)"                  \
    " SELECT DISTINCT ON (e->>'category', e->>'name') $1, e->>'category', e->>'name', e->>'value'" \
    " FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t (e, n)"                            \
    " ORDER BY e->>'category', e->>'name', n DESC"                                                 \
    " ON CONFLICT (UserId, Category, Name) DO UPDATE SET Value = EXCLUDED.Value"                   \
    " RETURNING p.Category, p.Name, p.Value),"                                                     \
    " fav AS (SELECT s.Name AS ch, s.Value = 'true' AS fav FROM saved s WHERE s.Category = "       \
    "'favorite_channel')," PREFERENCE_SQL_FAVORITES_SYNC

/* Delete: $1 the user, $2 a JSON array of {category, name}.  A deleted
 * favorite_channel preference takes its channel out of favorites. */
#define PREFERENCE_SQL_DELETE                                                                                     \
    "WITH gone AS (DELETE FROM Preferences p USING jsonb_array_elements($2::jsonb) AS t (e)"                      \
    " WHERE p.UserId = $1 AND p.Category = e->>'category' AND p.Name = e->>'name' RETURNING p.Category, p.Name)," \
    " fav AS (SELECT g.Name AS ch, false AS fav FROM gone g WHERE g.Category = "                                  \
    "'favorite_channel')," PREFERENCE_SQL_FAVORITES_SYNC

/* Flagged posts a save names: $1 the user, $2 a JSON array of post ids, in
 * the batch's order.  Per id: whether it is a live post, and whether the
 * user may read its channel (a member; or a member of the team of an open
 * channel).  Returns n (1-based), exists, readable; by n. */
#define PREFERENCE_SQL_FLAGGED_POSTS                                                                  \
    "SELECT t.n, p.Id IS NOT NULL,"                                                                   \
    " EXISTS (SELECT 1 FROM ChannelMembers cm WHERE cm.ChannelId = p.ChannelId AND cm.UserId = $1)"   \
    "  OR (c.Type = 'O' AND EXISTS (SELECT 1 FROM TeamMembers tm"                                     \
    "   WHERE tm.TeamId = c.TeamId AND tm.UserId = $1 AND tm.DeleteAt = 0))"                          \
    " FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS t (id, n)"                         \
    " LEFT JOIN Posts p ON p.Id = t.id AND p.DeleteAt = 0 LEFT JOIN Channels c ON c.Id = p.ChannelId" \
    " ORDER BY t.n"

/* The rows Mattermost gives a new user at sign-up (app/user.go): the
 * recommended next steps shown, the tutorial at its first step (named by
 * the user's id), group messages shown as direct ones.  A SELECT of
 * (UserId, Category, Name, Value) from CTE `u`, the new Users row. */
#define PREFERENCE_SQL_INITIAL(u)                                  \
    "SELECT Id, 'recommended_next_steps', 'hide', 'false' FROM " u \
    " UNION ALL SELECT Id, 'tutorial_step', Id, '0' FROM " u       \
    " UNION ALL SELECT Id, 'system_notice', 'GMasDM', 'true' FROM " u

/* One preference as a request carries it, its strings borrowed from the
 * body (absent or null fields are ""). */
typedef struct {
    const char *user_id, *category, *name, *value;
    size_t user_id_len, category_len, name_len, value_len; /* bytes: a string may hold NUL */
} preference_t;

/* Mattermost's Preference.IsValid: NULL when valid, else the failing field
 * ("id", "category", "name", "value", "theme", "limit_visible_dms_gms") and
 * its message in *message. */
const char *preference_check(const preference_t *p, const char **message);

/* Mattermost's Preference.PreUpdate for the stored value: a theme's colours
 * that are not #rgb or #rrggbb become #ffffff (its image, type and
 * codeTheme are kept), re-encoded as Go encodes a map (keys sorted).  A
 * malloc'd string, or NULL when the value is kept as it is. */
char *preference_sanitized_value(const preference_t *p);

/* A list of preferences as Go's json.Marshal writes it (the text of the
 * preferences_changed and _deleted events).  malloc'd, NULL on failure. */
char *preference_list_text(const preference_t *list, size_t n);

/* Row `row` of a PREFERENCE_COLUMNS result as Mattermost's Preference. */
json_t *preference_to_json(const PGresult *res, int row);

#endif
