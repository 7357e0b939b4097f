/*
 * System posts from handlers (api/post_system.h): each through
 * store/post_system.h's one statement, then `posted` to its channel with
 * the data CreatePost's notifications give any post (sender_name "System"
 * for a system message, set_online, the mentioned members).
 *
 * The posts run while the request waits, as Mattermost writes them before
 * it answers: a client that asks for the channel's posts after the answer
 * finds them.  The handler's r->state is kept aside meanwhile and given
 * back before what comes next.
 */
#include "api/post_system.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/response.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "store/post_system.h"
#include "store/row.h"
#include "ws/ws.h"

typedef struct {
    void *saved_state;
    api_system_post_t *posts;
    size_t n, next;
    api_handler_fn then; /* NULL: answer status and response */
    int status;
    json_t *response;
} run_t;

/* The request went away with its answer unsent. */
static void on_run_disposed(void *data)
{
    run_t *run = data;
    json_decref(run->response);
    run->response = NULL;
}

static void write_next(api_request_t *r);

static void finish(api_request_t *r)
{
    run_t *run = r->state;
    r->state = run->saved_state;
    if (run->then != NULL) {
        run->then(r);
        return;
    }
    json_t *response = run->response;
    run->response = NULL;
    api_send_json(r, run->status, response);
}

/* Columns of POST_SQL_CREATE_SYSTEM's row: the post's ChannelId (in
 * POST_COLUMNS), then those after the post. */
enum { SP_CHANNEL_ID = 7 };
enum { SP_TYPE = POST_NCOLUMNS, SP_DISPLAY_NAME, SP_NAME, SP_TEAM_ID, SP_AUTHOR, SP_MENTIONS };

static void publish_posted(api_request_t *r, const PGresult *res)
{
    json_t *post = post_to_json(res, 0);
    char *text = json_dumps(post, JSON_COMPACT);
    json_decref(post);
    const char *mentions = row_str(res, 0, SP_MENTIONS);
    json_t *data = NULL;
    if (text != NULL)
        data = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "post", text, "channel_type", row_str(res, 0, SP_TYPE),
                         "channel_display_name", row_str(res, 0, SP_DISPLAY_NAME), "channel_name",
                         row_str(res, 0, SP_NAME), "sender_name", "System", "team_id", row_str(res, 0, SP_TEAM_ID),
                         "set_online", 1);
    free(text);
    if (data == NULL) {
        log_warn(ENOMEM, "cannot publish a system post");
        return;
    }
    if (strcmp(mentions, "[]") != 0)
        json_object_set_new(data, "mentions", json_string(mentions));
    ws_publish(r->worker, "posted", data, &(ws_broadcast_t){.channel_id = row_str(res, 0, SP_CHANNEL_ID)});
    json_decref(data);
}

static void on_post_written(api_request_t *r, PGresult *res, const char *error)
{
    run_t *run = r->state;
    const api_system_post_t *p = &run->posts[run->next - 1];
    if (error != NULL)
        log_warn(0, "system post %s in channel %s not written: %s", p->type, p->channel_id, error);
    else if (PQntuples(res) != 1)
        log_warn(0, "system post %s in channel %s not written: no such user or channel", p->type, p->channel_id);
    else
        publish_posted(r, res);
    write_next(r);
}

static void write_next(api_request_t *r)
{
    run_t *run = r->state;
    if (run->next == run->n) {
        finish(r);
        return;
    }
    const api_system_post_t *p = &run->posts[run->next++];
    const char *old_value = p->old_value != NULL ? p->old_value : "";
    const char *new_value = p->new_value != NULL ? p->new_value : "";
    const char *message = post_system_message(p->type, old_value, new_value);
    const char *props = post_system_props(p->type);
    if (message == NULL || props == NULL) {
        log_warn(0, "system post of unknown type %s", p->type);
        write_next(r);
        return;
    }
    char id[ID_LENGTH + 1];
    if (id_new(id) != 0) {
        log_warn(errno, "system post %s: no id", p->type);
        write_next(r);
        return;
    }
    const char *params[] = {id,
                            text_i64(&r->req->pool, clock_now_ms()),
                            p->user_id,
                            p->channel_id,
                            p->root_id != NULL ? p->root_id : "",
                            p->type,
                            message,
                            props,
                            p->other_id != NULL ? p->other_id : "",
                            old_value,
                            new_value};
    api_query(r, POST_SQL_CREATE_SYSTEM, 11, params, on_post_written);
}

static const char *pool_copy(api_request_t *r, const char *s)
{
    return s != NULL ? text_strndup(&r->req->pool, s, strlen(s)) : NULL;
}

static void run_posts(api_request_t *r, const api_system_post_t *posts, size_t n, api_handler_fn then, int status,
                      json_t *response)
{
    run_t *run = h2o_mem_alloc_shared(&r->req->pool, sizeof(*run), on_run_disposed);
    *run = (run_t){.saved_state = r->state, .n = n, .then = then, .status = status, .response = response};
    run->posts = h2o_mem_alloc_pool(&r->req->pool, sizeof(*posts) * (n > 0 ? n : 1));
    for (size_t i = 0; i < n; i++) /* the caller's strings may be a result's, gone after its callback */
        run->posts[i] = (api_system_post_t){.type = posts[i].type,
                                            .channel_id = pool_copy(r, posts[i].channel_id),
                                            .user_id = pool_copy(r, posts[i].user_id),
                                            .other_id = pool_copy(r, posts[i].other_id),
                                            .root_id = pool_copy(r, posts[i].root_id),
                                            .old_value = pool_copy(r, posts[i].old_value),
                                            .new_value = pool_copy(r, posts[i].new_value)};
    r->state = run;
    write_next(r);
}

void api_system_posts(api_request_t *r, const api_system_post_t *posts, size_t n, api_handler_fn then)
{
    run_posts(r, posts, n, then, 0, NULL);
}

void api_system_posts_respond(api_request_t *r, const api_system_post_t *posts, size_t n, int status, json_t *response)
{
    run_posts(r, posts, n, NULL, status, response);
}

bool api_team_join_leave_posts(const api_request_t *r)
{
    return r->worker->config->service.enable_default_channel_leave_join_messages;
}
