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

/* Publishes channel_updated (the channel as a JSON string) to its members. */
void api_channel_publish_updated(api_request_t *r, json_t *channel);

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
