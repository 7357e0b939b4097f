/* Reading a PGresult row into Mattermost JSON: one helper per column type,
 * so handlers build models field by field without repeating conversions. */
#ifndef CHORUS_STORE_ROW_H
#define CHORUS_STORE_ROW_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static inline const char *row_str(const PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col);
}

static inline int64_t row_int64(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static inline bool row_bool(const PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col)[0] == 't';
}

/* A jsonb column as JSON (an empty object when NULL or unparsable). */
static inline json_t *row_json(const PGresult *res, int row, int col)
{
    json_t *v = PQgetisnull(res, row, col) ? NULL : json_loads(PQgetvalue(res, row, col), 0, NULL);
    return v != NULL ? v : json_object();
}

/* The SQLSTATE of a failed statement (db/sqlstate.h), or "". */
static inline const char *row_sqlstate(const PGresult *res)
{
    const char *s = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s != NULL ? s : "";
}

static inline const char *row_constraint(const PGresult *res)
{
    const char *s = res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    return s != NULL ? s : "";
}

#endif
