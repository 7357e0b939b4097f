/* RFC 4180 CSV output (see csv.h).  Values are written byte for byte: a
 * compliance record must round-trip exactly, so nothing is escaped or
 * trimmed beyond the quoting the format itself defines. */
#include "jobs/csv.h"

#include <errno.h>
#include <string.h>

bool jobs_csv_needs_quotes(const char *value, size_t len)
{
    if (len == 0)
        return false;
    if (value[0] == ' ' || value[len - 1] == ' ')
        return true;
    for (size_t i = 0; i < len; i++)
        if (value[i] == ',' || value[i] == '"' || value[i] == '\r' || value[i] == '\n')
            return true;
    return false;
}

int jobs_csv_field(FILE *f, const char *value, size_t len, bool first)
{
    if (!first && putc(',', f) == EOF)
        return -EIO;
    if (!jobs_csv_needs_quotes(value, len))
        return len == 0 || fwrite(value, 1, len, f) == len ? 0 : -EIO;
    if (putc('"', f) == EOF)
        return -EIO;
    const char *p = value, *end = value + len;
    while (p < end) {
        const char *quote = memchr(p, '"', (size_t)(end - p));
        size_t n = (size_t)((quote != NULL ? quote + 1 : end) - p);
        if (fwrite(p, 1, n, f) != n)
            return -EIO;
        if (quote != NULL && putc('"', f) == EOF) /* the quote, doubled */
            return -EIO;
        p += n;
    }
    return putc('"', f) == EOF ? -EIO : 0;
}

int jobs_csv_end_row(FILE *f)
{
    return fputs("\r\n", f) == EOF ? -EIO : 0;
}
