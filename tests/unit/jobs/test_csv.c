/* Tests for src/jobs/csv.c: RFC 4180 quoting, byte for byte. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/csv.h"
#include "../check_main.h"

/* The row `fields` becomes, as the export writes it. */
static char *row(const char *const *fields, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(jobs_csv_field(f, fields[i], strlen(fields[i]), i == 0), 0);
    ck_assert_int_eq(jobs_csv_end_row(f), 0);
    fclose(f);
    return buf;
}

START_TEST(test_plain_fields_are_not_quoted)
{
    const char *fields[] = {"abc", "", "12"};
    char *out = row(fields, 3);
    ck_assert_str_eq(out, "abc,,12\r\n");
    free(out);
}
END_TEST

START_TEST(test_special_characters_are_quoted)
{
    const char *fields[] = {"a,b", "say \"hi\"", "two\nlines", "cr\rhere", "\"", " padded "};
    char *out = row(fields, 6);
    ck_assert_str_eq(out, "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\",\"\"\"\",\" padded \"\r\n");
    free(out);
}
END_TEST

START_TEST(test_needs_quotes)
{
    ck_assert(!jobs_csv_needs_quotes("", 0));
    ck_assert(!jobs_csv_needs_quotes("héllo wörld", strlen("héllo wörld")));
    ck_assert(jobs_csv_needs_quotes("x,", 2));
    ck_assert(jobs_csv_needs_quotes(" x", 2));
    ck_assert(jobs_csv_needs_quotes("\r\n", 2));
}
END_TEST

/* A quote-only decoder (RFC 4180 §2) gets back exactly what went in. */
static size_t decode_field(const char *in, char *out)
{
    size_t o = 0;
    if (*in != '"') {
        while (*in != ',' && *in != '\r' && *in != '\0')
            out[o++] = *in++;
    } else {
        for (in++;; in++) {
            if (*in == '"' && in[1] == '"')
                out[o++] = *in++;
            else if (*in == '"')
                break;
            else
                out[o++] = *in;
        }
    }
    out[o] = '\0';
    return o;
}

START_TEST(test_round_trip)
{
    const char *value = "He said \"no, never\"\r\nthen left,\"quietly\"";
    char *out = row(&value, 1), decoded[128];
    decode_field(out, decoded);
    ck_assert_str_eq(decoded, value);
    free(out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("jobs/csv");
    TCase *tc = tcase_create("csv");
    tcase_add_test(tc, test_plain_fields_are_not_quoted);
    tcase_add_test(tc, test_special_characters_are_quoted);
    tcase_add_test(tc, test_needs_quotes);
    tcase_add_test(tc, test_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite());
}
