/* What the channel handlers (channels.c, channel_*.c) share: Channel.IsValid
 * and the small readings of a request they all make. */
#ifndef CHORUS_API_CHANNELS_H
#define CHORUS_API_CHANNELS_H

#include <stdbool.h>
#include <stddef.h>

#include "api/request.h"

/* Mattermost's DefaultChannelName: it cannot be archived, renamed, made
 * private or left. */
#define CHANNEL_DEFAULT_NAME "town-square"

/* Channel.IsValid on these fields of a channel of `type` (O, P, D or G);
 * answers 400 with its error id and returns false on the first refusal. */
bool api_channel_validate(api_request_t *r, const char *type, const char *name, const char *display_name,
                          const char *header, const char *purpose);

/* The time now in ms, as text in the request pool. */
const char *api_channel_now(api_request_t *r);

/* A callback of a permission-checked list (rows of "allowed", then a channel
 * or NULL): true when the caller was allowed and, with `not_found_id`, there
 * is a channel; else the request is answered (the database error, 403, or
 * 404 `not_found_id`, as Mattermost's store answers an empty list there). */
bool api_channel_list_allowed(api_request_t *r, const PGresult *res, const char *error, const char *not_found_id);

/* Publishes channel_updated (the channel as a JSON string) to its members. */
void api_channel_publish_updated(api_request_t *r, json_t *channel);
/* Publishes channel_member_updated (the member as a JSON string) to its
 * user; takes `member` over. */
void api_channel_publish_member_updated(api_request_t *r, json_t *member);

/* A body's list of ids as Mattermost's SortedArrayFromJSON reads it:
 * sorted, each once. */
typedef struct {
    const char **ids;
    size_t n;
} api_id_list_t;

/* Reads `arr` (the body, an array) into `out`; answers 400
 * api.context.invalid_body_param.app_error naming `list_name` when it is
 * empty or holds a non-string, `id_name` when a string is not an id. */
bool api_read_id_list(api_request_t *r, json_t *arr, const char *list_name, const char *id_name, api_id_list_t *out);
/* `l` as a PostgreSQL text[] literal, in the request pool. */
const char *api_id_array(api_request_t *r, const api_id_list_t *l);

#endif
