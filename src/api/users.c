/*
 * Users and sessions: sign-up, login, logout, reading users.
 *
 * Passwords are bcrypt ($2b$, cost 10) computed on the worker's CPU pool,
 * never on the loop.  A login that names no user still spends one bcrypt on
 * a dummy hash, so the answer's timing does not tell which accounts exist.
 * Lockout as Mattermost's: ServiceSettings.MaximumLoginAttempts failed
 * logins in a row lock the account (401 too_many, without a bcrypt) until an
 * admin sets its password (USER_SQL_SET_PASSWORD clears the count); a login
 * that passes clears it.  Each attempt is counted before its check, under
 * the user's row lock (USER_SQL_LOGIN_ATTEMPT), so parallel guesses cannot
 * pass the limit; a request that goes away while its password is checked
 * stays counted as failed.  Logins use at most WORKER_CPU_QUEUE_LOGIN_MAX of
 * the CPU queue (worker.h) and are refused with 503 and Retry-After past it.
 * Every write is one statement (one implicit transaction): sign-up decides
 * "first user becomes system admin" and "open server" inside its INSERT.
 */
#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "api/users.h"
#include "core/clock.h"
#include "core/events.h"
#include "core/log.h"
#include "core/password.h"
#include "core/text.h"
#include "db/sqlstate.h"
#include "shm/events_publish.h"
#include "shm/region.h"
#include "shm/users.h"
#include "store/row.h"
#include "store/session.h"
#include "store/user.h"
#include "worker/cpu_pool.h"
#include "worker/session.h"
#include "worker/worker.h"
#include "ws/ws.h"

/* ---- sign-up ---------------------------------------------------------------- */

typedef struct {
    char password[PASSWORD_INPUT_MAX + 1];
    char hash[PASSWORD_HASH_MAX];
    int rc;
} hash_job_t;

static void hash_work(void *job)
{
    hash_job_t *j = job;
    j->rc = password_hash(j->password, j->hash);
}

typedef struct {
    char username[65], email[129];
    bool allowed_open; /* open server, or an admin creates the user */
} signup_t;

void api_lower(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

bool api_password_valid(api_request_t *r, const char *password)
{
    if (password != NULL && strlen(password) >= PASSWORD_MIN_LENGTH && strlen(password) <= PASSWORD_INPUT_MAX)
        return true;
    api_send_error(r, 400, "model.user.is_valid.pwd_length.app_error",
                   "Your password must contain between 8 and 64 characters.", NULL);
    return false;
}

bool api_user_write_failed(api_request_t *r, const PGresult *res, const char *error)
{
    if (error != NULL && sqlstate_is(row_sqlstate(res), SQLSTATE_UNIQUE_VIOLATION)) {
        bool email = strstr(row_constraint(res), "email") != NULL;
        api_send_error(
            r, 400, email ? "app.user.save.email_exists.app_error" : "app.user.save.username_exists.app_error",
            email ? "An account with that email already exists." : "An account with that username already exists.",
            NULL);
        return true;
    }
    return api_query_failed(r, error);
}

static void on_user_inserted(api_request_t *r, PGresult *res, const char *error)
{
    if (api_user_write_failed(r, res, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 403, "api.user.create_user.no_open_server",
                       "This server does not allow open signups.  Please speak with your Administrator to receive an "
                       "invitation.",
                       NULL);
        return;
    }
    json_t *data = json_pack("{s:s}", "user_id", row_str(res, 0, 0));
    if (data != NULL)
        ws_publish(r->worker, "new_user", data, NULL); /* everyone */
    json_decref(data);
    api_send_json(r, 201, user_to_json(res, 0));
}

static void on_password_hashed(void *data, void *job)
{
    api_request_t *r = data;
    hash_job_t *j = job;
    signup_t *su = r->state;
    r->task = NULL;
    if (j->rc != 0) {
        api_send_error(r, 500, "app.user.save.app_error", "Unable to hash the password.", NULL);
        return;
    }
    char id[ID_LENGTH + 1], now[TEXT_INT64_SIZE];
    id_new(id);
    text_int64(now, clock_now_ms());
    const char *params[] = {id, now, su->username, su->email, j->hash, su->allowed_open ? "t" : "f"};
    api_query(r, USER_SQL_CREATE, 6, params, on_user_inserted);
}

void api_users_create(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_OBJECT);
    if (body == NULL)
        return;
    const char *username = json_string_value(json_object_get(body, "username"));
    const char *email = json_string_value(json_object_get(body, "email"));
    const char *password = json_string_value(json_object_get(body, "password"));
    bool admin = api_has_permission(r, "manage_system", NULL);
    const config_team_t *team = &r->worker->config->team;
    if (!team->enable_user_creation && !admin) {
        api_send_error(r, 403, "api.user.create_user.disabled.app_error", "User creation is disabled.", NULL);
        return;
    }
    signup_t *su = h2o_mem_alloc_pool(&r->req->pool, sizeof(*su));
    memset(su, 0, sizeof(*su));
    if (username == NULL || strlen(username) > 64 ||
        (snprintf(su->username, sizeof(su->username), "%s", username), api_lower(su->username),
         !user_username_valid(su->username))) {
        api_send_error(r, 400, "model.user.is_valid.username.app_error",
                       "Username must begin with a letter, and contain between 3 to 22 lowercase characters made up "
                       "of numbers, letters, and the symbols \".\", \"-\", and \"_\".",
                       NULL);
        return;
    }
    if (email == NULL || strlen(email) > 128 || strchr(email, '@') == NULL || email[0] == '@') {
        api_send_error(r, 400, "model.user.is_valid.email.app_error", "Invalid email.", NULL);
        return;
    }
    snprintf(su->email, sizeof(su->email), "%s", email);
    api_lower(su->email);
    if (!api_password_valid(r, password))
        return;
    su->allowed_open = team->enable_open_server || admin;
    r->state = su;
    hash_job_t job = {0};
    snprintf(job.password, sizeof(job.password), "%s", password);
    r->task = cpu_pool_submit(r->worker->cpu, hash_work, on_password_hashed, r, &job, sizeof(job));
    explicit_bzero(&job, sizeof(job));
    if (r->task == NULL)
        api_error_busy(r);
}

/* ---- login ------------------------------------------------------------------- */

typedef struct {
    char password[PASSWORD_INPUT_MAX + 1];
    char hash[PASSWORD_HASH_MAX];
    bool ok;
} check_job_t;

typedef struct {
    PGresult *user; /* the row, kept until the session is saved */
    bool counted;   /* USER_SQL_LOGIN_ATTEMPT counted this attempt as failed */
    char token[ID_LENGTH + 1], session_id[ID_LENGTH + 1], csrf[ID_LENGTH + 1];
    int64_t expires_at;
} login_t;

/* A valid bcrypt hash of nothing anybody knows: a login for an unknown
 * account checks against it, so it costs the same as a real one. */
static const char dummy_hash[] = "$2b$10$QFNazIV0f1JI3Gh4mLyVVeVv7D9FcM1pK4w2rLh.MFeD5..tnoP/S";

static void check_work(void *job)
{
    check_job_t *j = job;
    j->ok = password_check(j->password, j->hash) == 0;
}

static void invalid_credentials(api_request_t *r)
{
    api_send_error(r, 401, "api.user.login.invalid_credentials_email_username",
                   "Enter a valid email or username and/or password.", NULL);
}

void api_error_locked_out(api_request_t *r)
{
    api_send_error(r, 401, "api.user.check_user_login_attempts.too_many.app_error",
                   "Your account is locked because of too many failed password attempts. Please reset your password.",
                   NULL);
}

/* No room on the CPU queue for logins (worker.h): 503, Retry-After. */
static bool login_room(api_request_t *r)
{
    cpu_pool_t *pool = r->worker->cpu;
    return cpu_pool_room(pool) > WORKER_CPU_QUEUE_MAX - WORKER_CPU_QUEUE_LOGIN_MAX;
}

static void on_login_disposed(void *data)
{
    login_t *l = data;
    if (l->user != NULL)
        PQclear(l->user);
}

/* Secure whenever the browser reaches us over HTTPS: TLS here, a balancer
 * that terminated it (X-Forwarded-Proto, as Mattermost reads it), or a
 * SiteURL that says so. */
static bool over_https(api_request_t *r)
{
    ssize_t proto = h2o_find_header_by_str(&r->req->headers, H2O_STRLIT("x-forwarded-proto"), -1);
    return r->req->scheme == &H2O_URL_SCHEME_HTTPS ||
           (proto >= 0 && h2o_lcstris(r->req->headers.entries[proto].value.base,
                                      r->req->headers.entries[proto].value.len, H2O_STRLIT("https"))) ||
           strncmp(r->worker->config->service.site_url, "https://", 8) == 0;
}

static void add_cookie(api_request_t *r, const char *name, const char *value, int64_t max_age_s, bool http_only)
{
    char cookie[256];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%lld; SameSite=Lax%s%s", name, value, (long long)max_age_s,
             http_only ? "; HttpOnly" : "", over_https(r) ? "; Secure" : "");
    api_add_header(r, "set-cookie", cookie);
}

static void on_session_saved(api_request_t *r, PGresult *res, const char *error)
{
    login_t *l = r->state;
    (void)res;
    if (api_query_failed(r, error))
        return;
    shm_session_t s = {0};
    snprintf(s.session_id, sizeof(s.session_id), "%s", l->session_id);
    snprintf(s.user_id, sizeof(s.user_id), "%s", row_str(l->user, 0, USER_COLUMN_ID));
    snprintf(s.roles, sizeof(s.roles), "%s", row_str(l->user, 0, USER_COLUMN_ROLES));
    snprintf(s.csrf, sizeof(s.csrf), "%s", l->csrf);
    s.expires_at = l->expires_at;
    s.cached_at = s.last_activity_at = clock_now_ms();
    session_cache_fill(r->worker, l->token, &s, 0);
    api_add_header(r, "token", l->token);
    if (h2o_find_header_by_str(&r->req->headers, H2O_STRLIT("x-requested-with"), -1) >= 0) {
        int64_t max_age = (l->expires_at - clock_now_ms()) / 1000;
        add_cookie(r, "MMAUTHTOKEN", l->token, max_age, true);
        add_cookie(r, "MMUSERID", s.user_id, max_age, false);
        add_cookie(r, "MMCSRF", l->csrf, max_age, false);
    }
    api_send_json(r, 200, user_to_json(l->user, 0));
}

static void on_password_checked(void *data, void *job)
{
    api_request_t *r = data;
    login_t *l = r->state;
    r->task = NULL;
    if (!((check_job_t *)job)->ok || l->user == NULL) {
        invalid_credentials(r);
        return;
    }
    id_new(l->token);
    id_new(l->session_id);
    id_new(l->csrf);
    int64_t now = clock_now_ms();
    l->expires_at = now + r->worker->config->service.session_length_web_in_hours * 3600 * 1000;
    char now_s[TEXT_INT64_SIZE], expires_s[TEXT_INT64_SIZE], props[64];
    text_int64(now_s, now);
    text_int64(expires_s, l->expires_at);
    snprintf(props, sizeof(props), "{\"csrf\":\"%s\"}", l->csrf);
    const char *device = json_string_value(json_object_get(r->body, "device_id"));
    const char *params[] = {l->session_id,
                            l->token,
                            now_s,
                            expires_s,
                            row_str(l->user, 0, USER_COLUMN_ID),
                            device != NULL ? device : "",
                            row_str(l->user, 0, USER_COLUMN_ROLES),
                            props};
    api_query(r, SESSION_SQL_CREATE, 8, params, on_session_saved);
}

static void on_attempt_uncounted(api_request_t *r, PGresult *res, const char *error)
{
    (void)res;
    if (error != NULL)
        log_warn(0, "a login refused for want of CPU stays counted as failed: %.*s", (int)strcspn(error, "\n"), error);
    api_error_busy(r);
}

static void on_login_user_loaded(api_request_t *r, PGresult *res, const char *error)
{
    login_t *l = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) == 1 &&
        row_int64(res, 0, USER_COLUMN_TRIES) >= r->worker->config->service.maximum_login_attempts) {
        api_error_locked_out(r);
        return;
    }
    check_job_t job = {0};
    snprintf(job.password, sizeof(job.password), "%s", json_string_value(json_object_get(r->body, "password")));
    if (PQntuples(res) == 1) {
        /* keep the row past the callback: the pool clears its result */
        l->user = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
        l->counted = true;
        snprintf(job.hash, sizeof(job.hash), "%s", row_str(res, 0, USER_NCOLUMNS));
    } else {
        snprintf(job.hash, sizeof(job.hash), "%s", dummy_hash);
    }
    r->task =
        login_room(r) ? cpu_pool_submit(r->worker->cpu, check_work, on_password_checked, r, &job, sizeof(job)) : NULL;
    explicit_bzero(&job, sizeof(job));
    if (r->task != NULL)
        return;
    if (!l->counted) {
        api_error_busy(r);
        return;
    }
    /* the password was never checked: the attempt must not count */
    const char *params[] = {row_str(l->user, 0, USER_COLUMN_ID)};
    api_query(r, USER_SQL_UNCOUNT_ATTEMPT, 1, params, on_attempt_uncounted);
}

void api_users_login(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_OBJECT);
    if (body == NULL)
        return;
    const char *login_id = json_string_value(json_object_get(body, "login_id"));
    if (login_id == NULL)
        login_id = json_string_value(json_object_get(body, "id"));
    const char *password = json_string_value(json_object_get(body, "password"));
    if (login_id == NULL || login_id[0] == '\0' || strlen(login_id) > 128) {
        api_error_invalid_body(r, "login_id");
        return;
    }
    if (password == NULL || password[0] == '\0' || strlen(password) > PASSWORD_INPUT_MAX) {
        invalid_credentials(r);
        return;
    }
    if (!login_room(r)) {
        api_error_busy(r); /* before the database: a flood costs it nothing */
        return;
    }
    login_t *l = h2o_mem_alloc_shared(&r->req->pool, sizeof(*l), on_login_disposed);
    memset(l, 0, sizeof(*l));
    r->state = l;
    char max[TEXT_INT64_SIZE];
    text_int64(max, r->worker->config->service.maximum_login_attempts);
    const char *params[] = {login_id, max};
    api_query(r, USER_SQL_LOGIN_ATTEMPT, 2, params, on_login_user_loaded);
}

/* ---- logout ------------------------------------------------------------------ */

/* Once the row is gone, every consumer of the ring (and, through the cluster,
 * every node) drops the token: before, another node could reload it. */
static void publish_session_revoked(api_request_t *r)
{
    event_session_revoked_t ev;
    snprintf(ev.token, sizeof(ev.token), "%s", r->token);
    snprintf(ev.user_id, sizeof(ev.user_id), "%s", r->session.user_id);
    const child_params_t *p = r->worker->params;
    int rc = events_publish_session_revoked(shm_region_ring(p->shm), p->ring_eventfds, &ev);
    if (rc != 0)
        log_warn(-rc, "cannot publish the revocation of session %s", r->session.session_id);
}

static void on_session_deleted(api_request_t *r, PGresult *res, const char *error)
{
    (void)res;
    if (api_query_failed(r, error))
        return;
    publish_session_revoked(r);
    add_cookie(r, "MMAUTHTOKEN", "", 0, true);
    add_cookie(r, "MMUSERID", "", 0, false);
    add_cookie(r, "MMCSRF", "", 0, false);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

void api_users_logout(api_request_t *r)
{
    /* forget it first: from now on no worker honours the token */
    session_cache_forget(r->worker, r->token);
    const char *params[] = {r->session.session_id};
    api_query(r, SESSION_SQL_DELETE, 1, params, on_session_deleted);
}
