/* Reaction rows as Mattermost's JSON (store/reaction.h). */
#include "store/reaction.h"

#include "store/row.h"

json_t *reaction_to_json(const PGresult *res, int row, int col)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "user_id", row_str(res, row, col), "post_id",
                     row_str(res, row, col + 1), "emoji_name", row_str(res, row, col + 2), "create_at",
                     (json_int_t)row_int64(res, row, col + 3), "update_at", (json_int_t)row_int64(res, row, col + 4),
                     "delete_at", (json_int_t)row_int64(res, row, col + 5), "remote_id", row_str(res, row, col + 6),
                     "channel_id", row_str(res, row, col + 7));
}

json_t *reaction_json(const char *user_id, const char *post_id, const char *emoji_name, int64_t create_at,
                      int64_t update_at, const char *channel_id)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "user_id", user_id, "post_id", post_id, "emoji_name",
                     emoji_name, "create_at", (json_int_t)create_at, "update_at", (json_int_t)update_at, "delete_at",
                     (json_int_t)0, "remote_id", "", "channel_id", channel_id);
}
