/* RFC 4180 CSV output: what the compliance export writes. */
#ifndef CHORUS_JOBS_CSV_H
#define CHORUS_JOBS_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Whether a field must be enclosed in double quotes: it holds a comma, a
 * double quote, a CR or an LF (RFC 4180 §2.6), or begins or ends with a
 * space, which some readers would trim. */
bool jobs_csv_needs_quotes(const char *value, size_t len);
/* Writes one field, quoted when needed (inner quotes doubled), preceded by a
 * comma unless it is the first of its row.  0, or -errno. */
int jobs_csv_field(FILE *f, const char *value, size_t len, bool first);
/* Ends a row with CRLF, as RFC 4180 says.  0, or -errno. */
int jobs_csv_end_row(FILE *f);

#endif
