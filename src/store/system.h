/*
 * The Systems table: named values of the whole installation (the cluster
 * key, the ping's health rows), as Mattermost keeps its own.  $1 is always
 * the row's Name.
 */
#ifndef CHORUS_STORE_SYSTEM_H
#define CHORUS_STORE_SYSTEM_H

/* $2 the value, written over any earlier one. */
#define SYSTEM_SQL_PUT \
    "INSERT INTO Systems (Name, Value) VALUES ($1, $2) ON CONFLICT (Name) DO UPDATE SET Value = EXCLUDED.Value"

/* $2 the value, unless the row exists: returns the value that stands, so
 * that every node racing to create it ends with the same one. */
#define SYSTEM_SQL_PUT_IF_ABSENT                                          \
    "WITH created AS (INSERT INTO Systems (Name, Value) VALUES ($1, $2) " \
    "ON CONFLICT (Name) DO NOTHING RETURNING Value) "                     \
    "SELECT Value FROM created UNION ALL SELECT Value FROM Systems WHERE Name = $1 LIMIT 1"

#define SYSTEM_SQL_DELETE "DELETE FROM Systems WHERE Name = $1"

#endif
