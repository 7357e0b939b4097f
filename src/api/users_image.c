/*
 * GET /users/{user_id}/image and /image/default: the picture Mattermost
 * draws for a user who set none (core/avatar.h).  chorus stores no uploaded
 * pictures yet, so both routes answer it, as Mattermost does without a file
 * store (FileSettings.DriverName ""): a PNG, "max-age=86400, private".
 *
 * The picture depends only on the colour the id hashes to and on the
 * initial, so each worker keeps every picture it drew (at most 26 colours ×
 * 37 glyphs, a few hundred bytes each) for its whole life: a picture is
 * drawn once per worker, never per request, and needs no invalidation (a
 * renamed user maps to another picture).  The username comes from the
 * node's users cache when it holds the user, else from the database.
 */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/response.h"
#include "core/avatar.h"
#include "core/log.h"
#include "shm/region.h"
#include "shm/users.h"
#include "store/row.h"
#include "store/user.h"

typedef struct {
    uint8_t *png;
    size_t len;
} picture_t;

static picture_t pictures[AVATAR_COLORS][AVATAR_GLYPHS];

static void send_picture(api_request_t *r, const char *user_id, const char *username)
{
    char initial = username[0] >= 'a' && username[0] <= 'z' ? (char)(username[0] - 'a' + 'A') : username[0];
    unsigned color = avatar_color_index(user_id), glyph = avatar_glyph_index(initial);
    picture_t *p = &pictures[color][glyph];
    if (p->png == NULL) {
        int rc = avatar_png(color, glyph, &p->png, &p->len);
        if (rc != 0) {
            log_warn(-rc, "cannot draw a profile picture");
            api_send_error(r, 500, "api.user.create_profile_image.encode.app_error",
                           "Could not encode default profile image.", NULL);
            return;
        }
    }
    api_add_header(r, "cache-control", "max-age=86400, private");
    api_send_bytes(r, 200, "image/png", p->png, p->len);
}

static void on_user_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_query_one_row(r, res, error, "app.user.missing_account.const", "user"))
        return;
    send_picture(r, row_str(res, 0, USER_COLUMN_ID), row_str(res, 0, 4));
}

void api_users_image(api_request_t *r)
{
    const char *id = api_param_id(r, 0, "user_id");
    if (id == NULL)
        return;
    shm_user_t *cached = h2o_mem_alloc_pool(&r->req->pool, sizeof(*cached));
    if (shm_cache_get(shm_region_users(r->worker->params->shm), id, cached)) {
        json_t *user = json_loadb(cached->json, cached->length, 0, NULL);
        const char *username = json_string_value(json_object_get(user, "username"));
        if (username != NULL && username[0] != '\0') {
            send_picture(r, id, username);
            json_decref(user);
            return;
        }
        json_decref(user);
    }
    const char *params[] = {id};
    api_query_read(r, USER_SQL_BY_ID, 1, params, on_user_loaded);
}
