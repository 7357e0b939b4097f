/*
 * Post rows as Mattermost's JSON (store/post.h): one post, and a channel's
 * PostList from a POST_SQL_LIST_* result.
 */
#include "store/post.h"

#include "store/row.h"

json_t *post_to_json(const PGresult *res, int row)
{
    json_t *p = json_object();
    json_object_set_new(p, "id", json_string(row_str(res, row, 0)));
    json_object_set_new(p, "create_at", json_integer(row_int64(res, row, 1)));
    json_object_set_new(p, "update_at", json_integer(row_int64(res, row, 2)));
    json_object_set_new(p, "edit_at", json_integer(row_int64(res, row, 3)));
    json_object_set_new(p, "delete_at", json_integer(row_int64(res, row, 4)));
    json_object_set_new(p, "is_pinned", json_boolean(row_bool(res, row, 5)));
    json_object_set_new(p, "user_id", json_string(row_str(res, row, 6)));
    json_object_set_new(p, "channel_id", json_string(row_str(res, row, 7)));
    json_object_set_new(p, "root_id", json_string(row_str(res, row, 8)));
    json_object_set_new(p, "original_id", json_string(row_str(res, row, 9)));
    json_object_set_new(p, "message", json_string(row_str(res, row, 10)));
    json_object_set_new(p, "type", json_string(row_str(res, row, 11)));
    json_object_set_new(p, "props", row_json(res, row, 12));
    json_object_set_new(p, "hashtags", json_string(row_str(res, row, 13)));
    json_t *files = json_loads(row_str(res, row, 14), 0, NULL);
    if (!json_is_array(files)) {
        json_decref(files);
        files = json_array();
    }
    json_object_set_new(p, "file_ids", files);
    json_object_set_new(p, "pending_post_id", json_string(row_str(res, row, 15)));
    if (row_bool(res, row, 16)) /* omitempty */
        json_object_set_new(p, "has_reactions", json_true());
    json_object_set_new(p, "reply_count", json_integer(row_int64(res, row, 17)));
    json_object_set_new(p, "last_reply_at", json_integer(0));
    json_object_set_new(p, "participants", json_null());
    json_t *metadata = json_object();
    json_t *reactions = PQgetisnull(res, row, 18) ? NULL : json_loads(row_str(res, row, 18), 0, NULL);
    if (json_is_array(reactions) && json_array_size(reactions) > 0)
        json_object_set(metadata, "reactions", reactions);
    json_decref(reactions);
    json_object_set_new(p, "metadata", metadata);
    return p;
}

json_t *post_list_empty(void)
{
    return json_pack("{s:[], s:{}, s:s, s:s, s:i}", "order", "posts", "next_post_id", "", "prev_post_id", "",
                     "first_inaccessible_post_time", 0);
}

json_t *post_list_to_json(const PGresult *res, const char **next, const char **prev, int *n)
{
    json_t *list = post_list_empty();
    json_t *order = json_object_get(list, "order"), *posts = json_object_get(list, "posts");
    int col = POST_NCOLUMNS;
    *next = *prev = "";
    *n = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        json_object_set_new(posts, row_str(res, i, 0), post_to_json(res, i));
        if (row_str(res, i, col)[0] != 'o')
            continue;
        json_array_append_new(order, json_string(row_str(res, i, 0)));
        if ((*n)++ == 0) {
            *next = row_str(res, i, col + 1);
            *prev = row_str(res, i, col + 2);
        }
    }
    return list;
}

json_t *post_list_of_rows(const PGresult *res, const int *rows, int n)
{
    json_t *list = post_list_empty();
    json_t *order = json_object_get(list, "order"), *posts = json_object_get(list, "posts");
    for (int i = 0; i < n; i++) {
        json_object_set_new(posts, row_str(res, rows[i], 0), post_to_json(res, rows[i]));
        json_array_append_new(order, json_string(row_str(res, rows[i], 0)));
    }
    return list;
}
