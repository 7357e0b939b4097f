/*
 * Reactions, as Mattermost's api4/reaction.go and app/reaction.go serve
 * them: saving one (POST /reactions), removing one (DELETE
 * /users/{user_id}/posts/{post_id}/reactions/{emoji_name}), a post's
 * reactions and several posts' at once.  The SQL and the Reaction JSON are
 * store/reaction.h; the post's has_reactions and metadata.reactions come
 * with the posts (store/post.h).
 *
 * Permissions are SessionHasPermissionToChannelByPost's: add_reaction,
 * remove_reaction, read_channel_content through the caller's roles in the
 * post's channel, its team, or the system; removing another user's
 * reaction also takes remove_others_reactions at system scope.  A post
 * that does not exist fails the check (403) unless the system roles grant
 * the permission, and is a 404 after it, as in Mattermost.
 *
 * Emoji: a system emoji (core/emoji.h), else Mattermost looks for a custom
 * emoji of that name.  Custom emoji do not exist here yet, so any other
 * name is Mattermost's answer for a custom emoji that is not there (404
 * app.emoji.get_by_name.no_result).
 *
 * Saving and removing publish reaction_added and reaction_removed to the
 * post's channel, the reaction as a JSON string (sendReactionEvent).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/emoji.h"
#include "core/log.h"
#include "core/text.h"
#include "store/reaction.h"
#include "store/row.h"
#include "ws/ws.h"

/* What a reaction handler read before its permission step. */
typedef struct {
    const char *user_id, *post_id, *emoji_name;
    const char *permission; /* checked by post */
    api_handler_fn next;    /* after the check; r->state is then the post's channel */
    bool post_deleted;
    bool missing_ok; /* a missing post that passed the check is no error (a read) */
    int64_t now;     /* of the write */
} reaction_input_t;

static h2o_mem_pool_t *pool_of(api_request_t *r)
{
    return &r->req->pool;
}

static void error_post_not_found(api_request_t *r)
{
    api_error_not_found(r, "app.post.get.app_error", "post");
}

/* ---- the permission step: the post's channel, then the caller's roles there --------- */

static void on_channel_for_post(api_request_t *r)
{
    const reaction_input_t *in = r->input;
    if (!api_has_channel_permission(r, r->state, in->permission)) {
        api_error_permissions(r);
        return;
    }
    in->next(r);
}

static void on_post_found(api_request_t *r, PGresult *res, const char *error)
{
    reaction_input_t *in = (reaction_input_t *)r->input;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        /* no channel to hold roles in: the system roles decide, then
         * GetSinglePost does not find it */
        if (!api_has_permission(r, in->permission, NULL))
            api_error_permissions(r);
        else if (in->missing_ok)
            in->next(r);
        else
            error_post_not_found(r);
        return;
    }
    in->post_deleted = row_int64(res, 0, 1) != 0;
    const char *channel_id = text_strndup(pool_of(r), row_str(res, 0, 0), strlen(row_str(res, 0, 0)));
    api_require_channel(r, channel_id, ACCESS_MANAGE, on_channel_for_post);
}

/* Checks `in->permission` on post `in->post_id`, then runs `in->next`.  The
 * master answers (a write follows). */
static void check_post_permission(api_request_t *r, reaction_input_t *in)
{
    r->input = in;
    const char *params[] = {in->post_id};
    api_query(r, REACTION_SQL_POST, 1, params, on_post_found);
}

/* `event` with `reaction` (taken) as a JSON string, to the channel. */
static void publish_reaction(api_request_t *r, const char *event, json_t *reaction, const char *channel_id)
{
    char *text = json_dumps(reaction, JSON_COMPACT);
    json_t *data = text != NULL ? json_pack("{s:s}", "reaction", text) : NULL;
    free(text);
    if (data == NULL) {
        log_warn(ENOMEM, "cannot publish %s", event);
        return;
    }
    ws_publish(r->worker, event, data, &(ws_broadcast_t){.channel_id = channel_id});
    json_decref(data);
}

/* ---- POST /api/v4/reactions --------------------------------------------------------- */

static void on_reaction_saved(api_request_t *r, PGresult *res, const char *error)
{
    const reaction_input_t *in = r->input;
    const api_channel_access_t *ch = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1 || !row_bool(res, 0, 0)) {
        api_send_error(r, 400, "app.reaction.save.save.too_many_reactions",
                       "Reaction limit has been reached for this post.", NULL);
        return;
    }
    json_t *reaction = reaction_json(in->user_id, in->post_id, in->emoji_name, in->now, in->now, ch->id);
    publish_reaction(r, "reaction_added", reaction, ch->id);
    api_send_json(r, 200, reaction);
}

static void save_reaction(api_request_t *r)
{
    reaction_input_t *in = (reaction_input_t *)r->input;
    const api_channel_access_t *ch = r->state;
    if (in->post_deleted) {
        error_post_not_found(r);
        return;
    }
    if (!emoji_is_system(in->emoji_name)) {
        api_send_error(r, 404, "app.emoji.get_by_name.no_result", "Unable to find the emoji.", NULL);
        return;
    }
    if (ch->delete_at != 0) {
        api_send_error(r, 403, "api.reaction.save.archived_channel.app_error",
                       "You cannot react in an archived channel.", NULL);
        return;
    }
    /* the store's Reaction.IsValid: a system emoji name may still fail it */
    if (!emoji_name_is_valid(in->emoji_name, strlen(in->emoji_name))) {
        api_error_model_invalid(r, "reaction", "emoji_name", "Invalid emoji name.");
        return;
    }
    in->now = clock_now_ms();
    const char *params[] = {in->user_id, in->post_id, in->emoji_name, text_i64(pool_of(r), in->now), ch->id};
    api_query(r, REACTION_SQL_SAVE, 5, params, on_reaction_saved);
}

void api_reactions_save(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_OBJECT);
    if (body == NULL)
        return;
    reaction_input_t *in = h2o_mem_alloc_pool(pool_of(r), sizeof(*in));
    *in = (reaction_input_t){.permission = "add_reaction", .next = save_reaction};
    if (!api_json_string_field(body, "user_id", &in->user_id) ||
        !api_json_string_field(body, "post_id", &in->post_id) ||
        !api_json_string_field(body, "emoji_name", &in->emoji_name) ||
        !api_body_types_ok(body,
                           (api_body_field_t[]){{"create_at", JSON_INTEGER},
                                                {"update_at", JSON_INTEGER},
                                                {"delete_at", JSON_INTEGER},
                                                {"remote_id", JSON_STRING},
                                                {"channel_id", JSON_STRING}},
                           5)) {
        api_error_invalid_body(r, "reaction");
        return;
    }
    if (!id_is_valid(in->user_id, strlen(in->user_id)) || !id_is_valid(in->post_id, strlen(in->post_id)) ||
        in->emoji_name[0] == '\0' || strlen(in->emoji_name) > EMOJI_NAME_MAX_LENGTH) {
        api_send_error(r, 400, "api.reaction.save_reaction.invalid.app_error", "Reaction is not valid.", NULL);
        return;
    }
    if (strcmp(in->user_id, r->session.user_id) != 0) {
        api_send_error(r, 403, "api.reaction.save_reaction.user_id.app_error",
                       "You are not allowed to save reaction for the other user.", NULL);
        return;
    }
    check_post_permission(r, in);
}

/* ---- DELETE /api/v4/users/{user_id}/posts/{post_id}/reactions/{emoji_name} ---------- */

static void on_reaction_deleted(api_request_t *r, PGresult *res, const char *error)
{
    const reaction_input_t *in = r->input;
    const api_channel_access_t *ch = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) { /* the post went away meanwhile */
        error_post_not_found(r);
        return;
    }
    /* the Reaction the handler built from the URL, as the store's
     * PreUpdate leaves it */
    publish_reaction(r, "reaction_removed", reaction_json(in->user_id, in->post_id, in->emoji_name, 0, in->now, ""),
                     ch->id);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

static void delete_reaction(api_request_t *r)
{
    reaction_input_t *in = (reaction_input_t *)r->input;
    const api_channel_access_t *ch = r->state;
    if (strcmp(in->user_id, r->session.user_id) != 0 && !api_require_permission(r, "remove_others_reactions"))
        return;
    if (in->post_deleted) {
        error_post_not_found(r);
        return;
    }
    if (ch->delete_at != 0) {
        api_send_error(r, 403, "api.reaction.delete.archived_channel.app_error",
                       "You cannot remove a reaction in an archived channel.", NULL);
        return;
    }
    in->now = clock_now_ms();
    const char *params[] = {in->user_id, in->post_id, in->emoji_name, text_i64(pool_of(r), in->now)};
    api_query(r, REACTION_SQL_DELETE, 4, params, on_reaction_deleted);
}

void api_reactions_delete(api_request_t *r)
{
    reaction_input_t *in = h2o_mem_alloc_pool(pool_of(r), sizeof(*in));
    *in = (reaction_input_t){.permission = "remove_reaction", .next = delete_reaction};
    if ((in->user_id = api_param_id(r, 0, "user_id")) == NULL ||
        (in->post_id = api_post_param_id(r, 1, "post_id")) == NULL)
        return;
    in->emoji_name = api_param(r, 2);
    if (!emoji_name_is_valid(in->emoji_name, strlen(in->emoji_name))) {
        api_error_invalid_param(r, "emoji_name");
        return;
    }
    check_post_permission(r, in);
}

/* ---- GET /api/v4/posts/{post_id}/reactions ------------------------------------------ */

static void on_reactions_loaded(api_request_t *r, PGresult *res, const char *error)
{
    api_send_rows(r, res, error, reaction_to_json);
}

static void get_reactions(api_request_t *r)
{
    const reaction_input_t *in = r->input;
    const char *params[] = {in->post_id};
    api_query_read(r, REACTION_SQL_FOR_POST, 1, params, on_reactions_loaded);
}

void api_reactions_for_post(api_request_t *r)
{
    reaction_input_t *in = h2o_mem_alloc_pool(pool_of(r), sizeof(*in));
    *in = (reaction_input_t){.permission = "read_channel_content", .next = get_reactions, .missing_ok = true};
    if ((in->post_id = api_post_param_id(r, 0, "post_id")) == NULL)
        return;
    r->input = in;
    const char *params[] = {in->post_id};
    api_query_read(r, REACTION_SQL_POST, 1, params, on_post_found);
}

/* ---- POST /api/v4/posts/ids/reactions ----------------------------------------------- */

static void on_bulk_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    /* every id asked for, [] when it has none (populateEmptyReactions) */
    json_t *out = json_object(), *ids = r->body;
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) json_object_set_new(out, json_string_value(id), json_array());
    for (int row = 0; row < PQntuples(res); row++)
        json_array_append_new(json_object_get(out, row_str(res, row, 1)), reaction_to_json(res, row, 0));
    api_send_json(r, 200, out);
}

static void on_bulk_access(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    for (int i = 0; i < PQntuples(res); i++) {
        if (!api_has_permission(r, "read_channel_content", row_str(res, i, 1)) &&
            !api_has_permission(r, "read_channel_content", row_str(res, i, 2))) {
            api_error_permissions(r);
            return;
        }
    }
    const char *params[] = {r->input};
    api_query_read(r, REACTION_SQL_FOR_POSTS, 1, params, on_bulk_loaded);
}

void api_reactions_for_posts(api_request_t *r)
{
    json_error_t jerr;
    json_t *ids = json_loadb(r->req->entity.base, r->req->entity.len, 0, &jerr);
    bool ok = json_is_array(ids);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) ok = ok && json_is_string(id);
    if (!ok) {
        json_decref(ids);
        api_send_error(r, 400, "api.payload.parse.error", "Unable to parse the request body.", NULL);
        return;
    }
    json_decref(r->body);
    r->body = ids;
    char *text = json_dumps(ids, JSON_COMPACT);
    if (text == NULL) {
        api_error_database(r, "out of memory");
        return;
    }
    r->input = text_strndup(pool_of(r), text, strlen(text));
    free(text);
    const char *params[] = {r->input, r->session.user_id};
    api_query_read(r, REACTION_SQL_POSTS_ACCESS, 2, params, on_bulk_access);
}
