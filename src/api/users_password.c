/*
 * PUT /users/{user_id}/password, as api4/user.go's updatePassword: a user
 * changes its own by giving the current one; another user's takes
 * sysconsole_write_user_management_users (manage_system for a system
 * admin's).  The checks keep Mattermost's order and ids: a missing current
 * password is a bad body, an account of another sign-in service cannot have
 * one, a wrong current password is api.user.update_password.incorrect, and
 * only then is the new one measured (sign-up's length rules).
 *
 * A user's own change checks the current password as a login does
 * (Mattermost's DoubleCheckPassword): a locked account is refused with
 * api.user.check_user_login_attempts.too_many (401), and a wrong current
 * password counts as a failed attempt (USER_SQL_PASSWORD_ATTEMPT, counted
 * before the check; the new password's statement clears the count).
 *
 * Both bcrypt steps (checking the current password, hashing the new one) run
 * in one task on the worker's CPU pool, never on the loop.  The statement
 * changes the hash and LastPasswordUpdate; the user leaves every node's
 * users cache.  Mattermost sends no event and keeps the sessions.
 */
#include <stdio.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "api/users.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/password.h"
#include "core/text.h"
#include "store/role.h"
#include "store/row.h"
#include "store/user.h"
#include "worker/cpu_pool.h"

typedef struct {
    bool check;                            /* check `current` against `hash` first */
    char current[PASSWORD_INPUT_MAX + 1];  /* the caller's own password */
    char password[PASSWORD_INPUT_MAX + 1]; /* the new one */
    char hash[PASSWORD_HASH_MAX];          /* in: the stored hash; out: the new hash */
    bool current_ok;
    int rc;
} password_job_t;

/* The answer to give once a counted attempt is taken back. */
typedef void (*answer_fn)(api_request_t *r);

typedef struct {
    const char *id;
    const char *new_password;
    const char *current;
    bool counted;    /* USER_SQL_PASSWORD_ATTEMPT counted this check as failed */
    answer_fn after; /* what to answer once it is taken back */
} password_t;

static void password_work(void *job)
{
    password_job_t *j = job;
    if (j->check) {
        j->current_ok = password_check(j->current, j->hash) == 0;
        if (!j->current_ok)
            return;
    }
    size_t n = strlen(j->password);
    if (n < PASSWORD_MIN_LENGTH || n > PASSWORD_INPUT_MAX)
        return; /* refused on the loop, with the error */
    j->rc = password_hash(j->password, j->hash);
}

static void on_password_saved(api_request_t *r, PGresult *res, const char *error)
{
    const password_t *p = r->state;
    (void)res;
    if (api_query_failed(r, error))
        return;
    api_user_changed(r, p->id, false);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

static void oauth_refused(api_request_t *r)
{
    api_send_error(r, 400, "api.user.update_password.oauth.app_error",
                   "Update password failed because the user is logged in through an OAuth service.", NULL);
}

static void on_settled(api_request_t *r, PGresult *res, const char *error)
{
    (void)res;
    if (error != NULL)
        log_warn(0, "the failed attempts of a password check not settled: %.*s", (int)strcspn(error, "\n"), error);
    ((const password_t *)r->state)->after(r);
}

/* Settles a counted attempt with `sql` ($1 the id), then answers. */
static void settle_then(api_request_t *r, const char *sql, answer_fn answer)
{
    password_t *p = r->state;
    if (!p->counted) {
        answer(r);
        return;
    }
    p->after = answer;
    const char *params[] = {p->id};
    api_query(r, sql, 1, params, on_settled);
}

/* The password was never checked: the attempt must not count. */
static void answer_uncounted(api_request_t *r, answer_fn answer)
{
    settle_then(r, USER_SQL_UNCOUNT_ATTEMPT, answer);
}

/* The current password passed but nothing is written: as Mattermost, whose
 * check clears the count before the new password is measured. */
static void new_password_refused(api_request_t *r)
{
    api_password_valid(r, ((const password_t *)r->state)->new_password); /* answers its 400 */
}

static void hash_failed(api_request_t *r)
{
    api_send_error(r, 500, "api.user.update_password.failed.app_error", "update_password failed", NULL);
}

static void on_hashed(void *data, void *job)
{
    api_request_t *r = data;
    const password_t *p = r->state;
    password_job_t *j = job;
    r->task = NULL;
    if (j->check && !j->current_ok) {
        api_send_error(r, 400, "api.user.update_password.incorrect.app_error",
                       "The \"Current Password\" you entered is incorrect. Please check that Caps Lock is off and try "
                       "again.",
                       NULL);
        return;
    }
    size_t n = strlen(p->new_password);
    if (n < PASSWORD_MIN_LENGTH || n > PASSWORD_INPUT_MAX) {
        settle_then(r, USER_SQL_RESET_ATTEMPTS, new_password_refused);
        return;
    }
    if (j->rc != 0) {
        settle_then(r, USER_SQL_RESET_ATTEMPTS, hash_failed);
        return;
    }
    char now[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    const char *params[] = {p->id, j->hash, now};
    api_query(r, USER_SQL_SET_PASSWORD, 3, params, on_password_saved);
}

static void refuse(api_request_t *r)
{
    api_send_error(r, 403, "api.user.update_password.context.app_error",
                   "Update password failed because context user_id did not match props user_id.", NULL);
}

static void on_user_loaded(api_request_t *r, PGresult *res, const char *error)
{
    password_t *p = r->state;
    if (api_query_failed(r, error))
        return;
    bool self = strcmp(p->id, r->session.user_id) == 0;
    bool found = PQntuples(res) == 1;
    password_job_t job = {0};
    if (self && found) {
        /* Mattermost's order: another sign-in service first, then the lock */
        bool locked = row_int64(res, 0, USER_COLUMN_TRIES) >= r->worker->config->service.maximum_login_attempts;
        p->counted = !locked;
        if (row_str(res, 0, 5)[0] != '\0') { /* AuthService */
            answer_uncounted(r, oauth_refused);
            return;
        }
        if (locked) {
            api_error_locked_out(r);
            return;
        }
        job.check = true;
        snprintf(job.current, sizeof(job.current), "%s", p->current);
        snprintf(job.hash, sizeof(job.hash), "%s", row_str(res, 0, USER_NCOLUMNS));
    } else {
        bool admin = found && role_list_has(row_str(res, 0, USER_COLUMN_ROLES), "system_admin", 12);
        bool may =
            found && api_has_permission(r, admin ? "manage_system" : "sysconsole_write_user_management_users", NULL);
        if (!may) {
            refuse(r);
            return;
        }
        if (!api_password_valid(r, p->new_password))
            return;
    }
    snprintf(job.password, sizeof(job.password), "%s", p->new_password);
    r->task = cpu_pool_submit(r->worker->cpu, password_work, on_hashed, r, &job, sizeof(job));
    explicit_bzero(&job, sizeof(job));
    if (r->task == NULL)
        answer_uncounted(r, api_error_busy);
}

void api_users_update_password(api_request_t *r)
{
    const char *id;
    json_t *body = api_param_id_and_body(r, "user_id", &id);
    if (body == NULL)
        return;
    password_t *p = h2o_mem_alloc_pool(&r->req->pool, sizeof(*p));
    const char *new_password = json_string_value(json_object_get(body, "new_password"));
    const char *current = json_string_value(json_object_get(body, "current_password"));
    *p = (password_t){.id = id, .new_password = new_password != NULL ? new_password : "", .current = current};
    if (strcmp(id, r->session.user_id) == 0 && (current == NULL || current[0] == '\0')) {
        api_error_invalid_body(r, "current_password");
        return;
    }
    if (current != NULL && strlen(current) > PASSWORD_INPUT_MAX) {
        /* longer than any password chorus accepts: it cannot be the current one */
        p->current = "";
    }
    r->state = p;
    char max[TEXT_INT64_SIZE];
    text_int64(max, r->worker->config->service.maximum_login_attempts);
    const char *params[] = {id, max};
    if (strcmp(id, r->session.user_id) == 0)
        api_query(r, USER_SQL_PASSWORD_ATTEMPT, 2, params, on_user_loaded);
    else
        api_query(r, USER_SQL_BY_ID_WITH_PASSWORD, 1, params, on_user_loaded);
}
