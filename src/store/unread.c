/* Unreads as Mattermost serializes them (store/unread.h): TeamUnread and
 * ChannelUnreadAt. */
#include "store/unread.h"

#include "store/row.h"

json_t *unread_team_to_json(const PGresult *res, int row)
{
    json_t *t = json_object();
    json_object_set_new(t, "team_id", json_string(row_str(res, row, 0)));
    json_object_set_new(t, "msg_count", json_integer(row_int64(res, row, 1)));
    json_object_set_new(t, "mention_count", json_integer(row_int64(res, row, 2)));
    json_object_set_new(t, "mention_count_root", json_integer(row_int64(res, row, 3)));
    json_object_set_new(t, "msg_count_root", json_integer(row_int64(res, row, 4)));
    json_object_set_new(t, "thread_count", json_integer(0));
    json_object_set_new(t, "thread_mention_count", json_integer(0));
    json_object_set_new(t, "thread_urgent_mention_count", json_integer(0));
    return t;
}

json_t *unread_channel_at_to_json(const PGresult *res, int row)
{
    static const char *const keys[] = {"msg_count",      "mention_count", "mention_count_root", "urgent_mention_count",
                                       "msg_count_root", "last_viewed_at"};
    json_t *u = json_object();
    json_object_set_new(u, "team_id", json_string(row_str(res, row, 0)));
    json_object_set_new(u, "user_id", json_string(row_str(res, row, 1)));
    json_object_set_new(u, "channel_id", json_string(row_str(res, row, 2)));
    for (int i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++)
        json_object_set_new(u, keys[i], json_integer(row_int64(res, row, 3 + i)));
    return u;
}
