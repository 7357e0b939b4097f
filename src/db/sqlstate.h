/* The PostgreSQL error codes (SQLSTATE, Appendix A) chorus acts on: whole
 * classes by their two-character prefix, single conditions in full. */
#ifndef CHORUS_DB_SQLSTATE_H
#define CHORUS_DB_SQLSTATE_H

#include <stdbool.h>
#include <string.h>

#define SQLSTATE_CLASS_CONNECTION      "08"  /* connection exception */
#define SQLSTATE_CLASS_RESOURCES       "53"  /* insufficient resources */
#define SQLSTATE_CLASS_OPERATOR        "57P" /* admin or crash shutdown, cannot connect now */
#define SQLSTATE_READ_ONLY_TRANSACTION "25006"
#define SQLSTATE_SERIALIZATION_FAILURE "40001"
#define SQLSTATE_UNIQUE_VIOLATION      "23505"
#define SQLSTATE_SYNTAX_ERROR          "42601"

/* `state` (may be NULL) is in the class or is the condition `code`. */
static inline bool sqlstate_is(const char *state, const char *code)
{
    return state != NULL && strncmp(state, code, strlen(code)) == 0;
}

#endif
