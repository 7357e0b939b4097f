/*
 * Channels and ChannelMembers as Mattermost serializes them
 * (store/channel.h).  The fields chorus does not keep (schemes, policies,
 * banners, categories) are written empty: null, false, 0
 * or "" (and "shared" false on a direct channel, null on the others).
 */
#include "store/channel.h"

#include <stdbool.h>

#include "store/row.h"
#include "store/team.h"

static void set_channel_defaults(json_t *ch, bool direct)
{
    json_object_set_new(ch, "extra_update_at", json_integer(0));
    json_object_set_new(ch, "scheme_id", json_null());
    json_object_set_new(ch, "props", json_null());
    json_object_set_new(ch, "group_constrained", json_null());
    json_object_set_new(ch, "autotranslation", json_false());
    json_object_set_new(ch, "shared", direct ? json_false() : json_null());
    json_object_set_new(ch, "policy_id", json_null());
    json_object_set_new(ch, "banner_info", json_null());
    json_object_set_new(ch, "policy_enforced", json_false());
    json_object_set_new(ch, "policy_is_active", json_false());
    json_object_set_new(ch, "default_category_name", json_string(""));
    json_object_set_new(ch, "managed_category_name", json_string(""));
    json_object_set_new(ch, "discoverable", json_false());
}

json_t *channel_to_json(const PGresult *res, int row, int c)
{
    json_t *ch = json_object();
    json_object_set_new(ch, "id", json_string(row_str(res, row, c + 0)));
    json_object_set_new(ch, "create_at", json_integer(row_int64(res, row, c + 1)));
    json_object_set_new(ch, "update_at", json_integer(row_int64(res, row, c + 2)));
    json_object_set_new(ch, "delete_at", json_integer(row_int64(res, row, c + 3)));
    json_object_set_new(ch, "team_id", json_string(row_str(res, row, c + 4)));
    json_object_set_new(ch, "type", json_string(row_str(res, row, c + 5)));
    json_object_set_new(ch, "display_name", json_string(row_str(res, row, c + 6)));
    json_object_set_new(ch, "name", json_string(row_str(res, row, c + 7)));
    json_object_set_new(ch, "header", json_string(row_str(res, row, c + 8)));
    json_object_set_new(ch, "purpose", json_string(row_str(res, row, c + 9)));
    json_object_set_new(ch, "last_post_at", json_integer(row_int64(res, row, c + 10)));
    json_object_set_new(ch, "total_msg_count", json_integer(row_int64(res, row, c + 11)));
    json_object_set_new(ch, "creator_id", json_string(row_str(res, row, c + 12)));
    json_object_set_new(ch, "total_msg_count_root", json_integer(row_int64(res, row, c + 13)));
    json_object_set_new(ch, "last_root_post_at", json_integer(row_int64(res, row, c + 14)));
    set_channel_defaults(ch, row_str(res, row, c + 5)[0] == 'D');
    return ch;
}

json_t *channel_member_to_json(const PGresult *res, int row, int c)
{
    json_t *m = json_object();
    bool user = row_bool(res, row, c + 8), admin = row_bool(res, row, c + 9);
    json_object_set_new(m, "channel_id", json_string(row_str(res, row, c + 0)));
    json_object_set_new(m, "user_id", json_string(row_str(res, row, c + 1)));
    json_object_set_new(m, "roles", member_roles_json("channel", user, admin, row_str(res, row, c + 2)));
    json_object_set_new(m, "last_viewed_at", json_integer(row_int64(res, row, c + 3)));
    json_object_set_new(m, "msg_count", json_integer(row_int64(res, row, c + 4)));
    json_object_set_new(m, "mention_count", json_integer(row_int64(res, row, c + 5)));
    json_object_set_new(m, "mention_count_root", json_integer(row_int64(res, row, c + 11)));
    json_object_set_new(m, "urgent_mention_count", json_integer(row_int64(res, row, c + 12)));
    json_object_set_new(m, "msg_count_root", json_integer(row_int64(res, row, c + 10)));
    json_object_set_new(m, "notify_props", row_json(res, row, c + 6));
    json_object_set_new(m, "last_update_at", json_integer(row_int64(res, row, c + 7)));
    json_object_set_new(m, "scheme_guest", json_false());
    json_object_set_new(m, "scheme_user", json_boolean(user));
    json_object_set_new(m, "scheme_admin", json_boolean(admin));
    json_object_set_new(m, "explicit_roles", json_string(row_str(res, row, c + 2)));
    return m;
}
