/* Lists of ids in a request body (channels.h): the routes that take an
 * array of user or channel ids read it as Mattermost's SortedArrayFromJSON
 * does, sorted and without repeats, and hand it to a statement as a
 * text[] literal (an id has only letters and digits: nothing to quote). */
#include <stdlib.h>
#include <string.h>

#include "api/channels.h"
#include "api/response.h"
#include "core/id.h"

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool api_read_id_list(api_request_t *r, json_t *arr, const char *list_name, const char *id_name, api_id_list_t *out)
{
    size_t n = json_array_size(arr);
    const char **ids = h2o_mem_alloc_pool(&r->req->pool, (n + 1) * sizeof(*ids));
    for (size_t i = 0; i < n; i++) {
        ids[i] = json_string_value(json_array_get(arr, i));
        if (ids[i] == NULL) {
            api_error_invalid_body(r, list_name);
            return false;
        }
    }
    qsort(ids, n, sizeof(*ids), compare_ids);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || strcmp(ids[kept - 1], ids[i]) != 0)
            ids[kept++] = ids[i];
    if (kept == 0) {
        api_error_invalid_body(r, list_name);
        return false;
    }
    for (size_t i = 0; i < kept; i++) {
        if (!id_is_valid(ids[i], strlen(ids[i]))) {
            api_error_invalid_body(r, id_name);
            return false;
        }
    }
    *out = (api_id_list_t){.ids = ids, .n = kept};
    return true;
}

const char *api_id_array(api_request_t *r, const api_id_list_t *l)
{
    char *out = h2o_mem_alloc_pool(&r->req->pool, l->n * (ID_LENGTH + 1) + 3);
    char *p = out;
    *p++ = '{';
    for (size_t i = 0; i < l->n; i++) {
        if (i > 0)
            *p++ = ',';
        memcpy(p, l->ids[i], ID_LENGTH);
        p += ID_LENGTH;
    }
    *p++ = '}';
    *p = '\0';
    return out;
}
