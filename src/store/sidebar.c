/*
 * SidebarCategoryWithChannels as Mattermost serializes it (store/sidebar.h):
 * the category's fields, then channel_ids, never null.
 */
#include "store/sidebar.h"

#include "store/row.h"

json_t *sidebar_category_to_json(const PGresult *res, int row, int c)
{
    json_t *k = json_object();
    json_object_set_new(k, "id", json_string(row_str(res, row, c + 0)));
    json_object_set_new(k, "user_id", json_string(row_str(res, row, c + 1)));
    json_object_set_new(k, "team_id", json_string(row_str(res, row, c + 2)));
    json_object_set_new(k, "sort_order", json_integer(row_int64(res, row, c + 3)));
    json_object_set_new(k, "sorting", json_string(row_str(res, row, c + 4)));
    json_object_set_new(k, "type", json_string(row_str(res, row, c + 5)));
    json_object_set_new(k, "display_name", json_string(row_str(res, row, c + 6)));
    json_object_set_new(k, "muted", json_boolean(row_bool(res, row, c + 7)));
    json_object_set_new(k, "collapsed", json_boolean(row_bool(res, row, c + 8)));
    json_t *ids = PQgetisnull(res, row, c + 9) ? NULL : json_loads(row_str(res, row, c + 9), 0, NULL);
    if (!json_is_array(ids)) {
        json_decref(ids);
        ids = json_array();
    }
    json_object_set_new(k, "channel_ids", ids);
    return k;
}
