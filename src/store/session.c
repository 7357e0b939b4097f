/* Sessions rows (store/session.h). */
#include "store/session.h"

#include <stdio.h>
#include <string.h>

#include "store/row.h"

bool session_from_result(const PGresult *res, int64_t now, shm_session_t *s)
{
    if (PQntuples(res) != 1 || row_int64(res, 0, 3) < now)
        return false;
    memset(s, 0, sizeof(*s));
    snprintf(s->session_id, sizeof(s->session_id), "%s", row_str(res, 0, 0));
    snprintf(s->user_id, sizeof(s->user_id), "%s", row_str(res, 0, 1));
    snprintf(s->roles, sizeof(s->roles), "%s", row_str(res, 0, 2));
    s->expires_at = row_int64(res, 0, 3);
    s->last_activity_at = row_int64(res, 0, 4);
    snprintf(s->csrf, sizeof(s->csrf), "%s", row_str(res, 0, 5));
    s->is_oauth = row_bool(res, 0, 6);
    s->cached_at = now;
    return true;
}
