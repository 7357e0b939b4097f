/*
 * tests/unit/ws/test_origin.c - src/ws/origin.c: the WebSocket upgrade's
 * Origin as Mattermost checks it: same host by default, any with "*", else
 * AllowCorsFrom's list or SiteURL's origin exactly.
 */
#include <check.h>
#include <string.h>

#include "ws/origin.h"
#include "../check_main.h"

static bool allowed(const char *cors, const char *site, const char *origin, const char *host)
{
    return ws_origin_allowed(cors, site, origin, origin != NULL ? strlen(origin) : 0, host,
                             host != NULL ? strlen(host) : 0);
}

START_TEST(test_default_same_host)
{
    ck_assert(allowed("", "", NULL, "chat.example.com")); /* no Origin: not a browser */
    ck_assert(allowed("", "", "https://chat.example.com", "chat.example.com"));
    ck_assert(allowed("", "", "https://Chat.Example.com/any/path", "chat.example.com"));
    ck_assert(allowed("", "", "http://127.0.0.1:8065", "127.0.0.1:8065"));
    ck_assert(!allowed("", "", "https://evil.example", "chat.example.com"));
    ck_assert(!allowed("", "", "https://chat.example.com.evil.example", "chat.example.com"));
    ck_assert(!allowed("", "", "http://127.0.0.1:8066", "127.0.0.1:8065")); /* another port is another site */
    ck_assert(!allowed("", "", "null", "chat.example.com"));
    ck_assert(!allowed("", "", "", "chat.example.com"));
    ck_assert(!allowed("", "", "https://chat.example.com", NULL));
    ck_assert(!allowed(NULL, NULL, "https://evil.example", "chat.example.com"));
}
END_TEST

START_TEST(test_any)
{
    ck_assert(allowed("*", "https://chat.example.com", "https://evil.example", "chat.example.com"));
    ck_assert(allowed("*", "", NULL, "chat.example.com"));
}
END_TEST

START_TEST(test_list_and_site_url)
{
    const char *cors = "https://a.example http://b.example:8080";
    const char *site = "https://chat.example.com/mattermost/";
    ck_assert(allowed(cors, site, "https://a.example", "chat.example.com"));
    ck_assert(allowed(cors, site, "http://b.example:8080", "chat.example.com"));
    ck_assert(allowed(cors, site, "https://chat.example.com", "chat.example.com")); /* SiteURL, its path dropped */
    ck_assert(!allowed(cors, site, "https://chat.example.com/mattermost", "chat.example.com"));
    ck_assert(!allowed(cors, site, "http://b.example", "chat.example.com"));
    ck_assert(!allowed(cors, site, "https://a.example.evil", "chat.example.com"));
    ck_assert(!allowed(cors, site, "https://evil.example", "evil.example")); /* the Host no longer decides */
    ck_assert(!allowed(cors, site, NULL, "chat.example.com"));               /* a list needs an Origin */
    ck_assert(allowed(cors, "", NULL, "chat.example.com")); /* unless SiteURL is empty, as Mattermost's */
}
END_TEST

static Suite *origin_suite(void)
{
    Suite *s = suite_create("ws_origin");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_default_same_host);
    tcase_add_test(tc, test_any);
    tcase_add_test(tc, test_list_and_site_url);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(origin_suite());
}
