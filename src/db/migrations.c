/*
 * The schema, as an ordered list of migrations.  A migration is never edited
 * once released: a change is a new entry at the end.  Table and column names
 * follow Mattermost's PostgreSQL schema (unquoted, so lower-case in the
 * catalog) so that operators' queries and tools carry over.
 */
#include "db/migrate.h"

const migration_t migrations[] = {
    {1, "create Systems",
     "CREATE TABLE IF NOT EXISTS Systems ("
     "  Name varchar(64) PRIMARY KEY,"
     "  Value varchar(1024)"
     ")"},
};

const unsigned migrations_count = sizeof(migrations) / sizeof(migrations[0]);
