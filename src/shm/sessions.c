/* Session-cache operations beyond the generic cache (see sessions.h). */
#include "shm/sessions.h"

#include <string.h>

static bool session_of_user(const void *value, void *arg)
{
    return strcmp(((const shm_session_t *)value)->user_id, arg) == 0;
}

size_t shm_sessions_remove_user(shm_cache_t *sessions, const char *user_id)
{
    return shm_cache_remove_if(sessions, session_of_user, (void *)user_id);
}
