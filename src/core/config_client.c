/*
 * The client config maps (see config_client.h).  Two kinds of keys:
 * fixed ones, in the tables below (a feature chorus does not have, said the
 * way Mattermost says it is off, or a license-gated setting as an unlicensed
 * server sends it), and those read from chorus's config, in code.  The
 * tables follow the order of Mattermost's functions so the two read side by
 * side.
 */
#include "core/config_client.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/version.h"

typedef struct {
    const char *key, *value;
} pair_t;

/* GenerateLimitedClientConfig's keys that do not depend on chorus's config. */
static const pair_t limited_fixed[] = {
    {"BuildDate", ""},
    {"BuildHash", ""},
    {"BuildHashEnterprise", "none"},
    {"BuildEnterpriseReady", "false"},
    {"ServiceEnvironment", "production"},
    {"EnableBotAccountCreation", "false"},
    {"WebsocketURL", ""},
    {"WebsocketPort", "80"},
    {"WebsocketSecurePort", "443"},
    {"AndroidLatestVersion", ""},
    {"AndroidMinVersion", ""},
    {"IosLatestVersion", ""},
    {"IosMinVersion", ""},
    {"EnableDiagnostics", "false"}, /* chorus sends no telemetry */
    {"EnableComplianceExport", "false"},
    /* login: chorus accepts an email or a username, and signs up by email */
    {"EnableSignUpWithEmail", "true"},
    {"EnableSignInWithEmail", "true"},
    {"EnableSignInWithUsername", "true"},
    {"EmailLoginButtonColor", "#0000"},
    {"EmailLoginButtonBorderColor", "#2389D7"},
    {"EmailLoginButtonTextColor", "#2389D7"},
    {"EnableSignUpWithGitLab", "false"},
    {"GitLabButtonColor", ""},
    {"GitLabButtonText", ""},
    /* no pages of chorus's own to link to: the apps hide empty links */
    {"TermsOfServiceLink", ""},
    {"PrivacyPolicyLink", ""},
    {"AboutLink", ""},
    {"HelpLink", ""},
    {"ReportAProblemLink", ""},
    {"ForgotPasswordLink", ""},
    {"SupportEmail", ""},
    {"EnableAskCommunityLink", "false"},
    {"DefaultClientLocale", "en"},
    {"EnableCustomEmoji", "false"},
    {"AppDownloadLink", ""},
    {"AndroidAppDownloadLink", ""},
    {"IosAppDownloadLink", ""},
    {"DiagnosticId", ""},
    {"TelemetryId", ""},
    {"DiagnosticsEnabled", "false"},
    {"HasImageProxy", "false"},
    /* plugins "on" with none installed: GET /plugins/webapp answers [] */
    {"PluginsEnabled", "true"},
    /* core/password.c and api/users.c: 8 to 64 characters, no classes */
    {"PasswordMinimumLength", "8"},
    {"PasswordRequireLowercase", "false"},
    {"PasswordRequireUppercase", "false"},
    {"PasswordRequireNumber", "false"},
    {"PasswordRequireSymbol", "false"},
    {"EnableCustomBrand", "false"},
    {"CustomBrandText", ""},
    {"CustomDescriptionText", ""},
    {"EnableLdap", "false"},
    {"LdapLoginFieldName", ""},
    {"LdapLoginButtonColor", ""},
    {"LdapLoginButtonBorderColor", ""},
    {"LdapLoginButtonTextColor", ""},
    {"EnableSaml", "false"},
    {"SamlLoginButtonText", ""},
    {"SamlLoginButtonColor", ""},
    {"SamlLoginButtonBorderColor", ""},
    {"SamlLoginButtonTextColor", ""},
    {"EnableSignUpWithGoogle", "false"},
    {"EnableSignUpWithOffice365", "false"},
    {"EnableSignUpWithOpenId", "false"},
    {"OpenIdButtonText", ""},
    {"OpenIdButtonColor", ""},
    {"CWSURL", ""},
    {"EnableMultifactorAuthentication", "false"},
    {"EnforceMultifactorAuthentication", "false"},
    {"EnableGuestAccounts", "false"},
    {"GuestAccountsEnforceMultifactorAuthentication", "false"},
};

/* GenerateClientConfig's keys that do not depend on chorus's config. */
static const pair_t full_fixed[] = {
    {"EnableCustomUserStatuses", "false"},
    {"EnableLastActiveTime", "false"},
    {"RestrictDirectMessage", "any"},
    {"TeammateNameDisplay", "username"},
    {"LockTeammateNameDisplay", "false"},
    {"ExperimentalPrimaryTeam", ""},
    {"ExperimentalViewArchivedChannels", "true"}, /* archived channels stay readable */
    {"EnableOAuthServiceProvider", "false"},
    {"GoogleDeveloperKey", ""},
    {"EnableIncomingWebhooks", "false"},
    {"EnableOutgoingWebhooks", "false"},
    {"EnableCommands", "false"},
    {"EnablePostUsernameOverride", "false"},
    {"EnablePostIconOverride", "false"},
    {"EnableUserAccessTokens", "false"},
    {"EnableLinkPreviews", "false"},
    {"EnablePermalinkPreviews", "false"},
    {"EnableTesting", "false"},
    {"EnableClientPerformanceDebugging", "false"},
    {"PostEditTimeLimit", "-1"},   /* PUT /posts/{id}/patch has no time limit */
    {"MinimumHashtagLength", "3"}, /* core/text.c's hashtag rule */
    {"EnablePreviewFeatures", "false"},
    {"EnableTutorial", "false"},       /* it keeps its steps in preferences */
    {"EnableOnboardingFlow", "false"}, /* likewise */
    {"ExperimentalGroupUnreadChannels", "disabled"},
    {"EnableSVGs", "false"},
    {"EnableMarketplace", "false"},
    {"EnableLatex", "false"},
    {"EnableInlineLatex", "false"},
    {"ExtendSessionLengthWithActivity", "false"}, /* a session lasts SessionLengthWebInHours */
    {"ManagedResourcePaths", ""},
    {"ExperimentalEnablePostMetadata", "true"},
    {"DisableAppBar", "false"},
    {"ExperimentalEnableAutomaticReplies", "false"},
    {"ExperimentalTimezone", "false"},
    {"SendEmailNotifications", "false"},
    {"SendPushNotifications", "false"},
    {"RequireEmailVerification", "false"},
    {"EnableEmailBatching", "false"},
    {"EnablePreviewModeBanner", "false"},
    {"EmailNotificationContentsType", "full"},
    {"ShowEmailAddress", "true"}, /* api/users.c sends every user's email */
    {"ShowFullName", "true"},
    {"EnableFileAttachments", "false"}, /* no /files routes yet */
    {"EnablePublicLink", "false"},
    {"AvailableLocales", ""},
    {"EnableEmojiPicker", "true"}, /* the picker only inserts text */
    {"EnableGifPicker", "false"},
    {"MaxNotificationsPerChannel", "1000"},
    {"EnableConfirmNotificationsToChannel", "true"},
    {"TimeBetweenUserTypingUpdatesMilliseconds", "5000"},
    {"EnableUserTypingMessages", "true"}, /* ws/actions.c: user_typing */
    {"EnableChannelViewedMessages", "true"},
    {"EnableEmailInvitations", "false"},
    {"CWSMock", "false"},
    {"DisableRefetchingOnBrowserFocus", "false"},
    /* what an unlicensed Mattermost sends for its license-gated settings */
    {"ExperimentalEnableAuthenticationTransfer", "true"},
    {"LdapNicknameAttributeSet", "false"},
    {"LdapFirstNameAttributeSet", "false"},
    {"LdapLastNameAttributeSet", "false"},
    {"LdapPictureAttributeSet", "false"},
    {"LdapPositionAttributeSet", "false"},
    {"EnableCompliance", "false"},
    {"EnableMobileFileDownload", "true"},
    {"EnableMobileFileUpload", "true"},
    {"SamlFirstNameAttributeSet", "false"},
    {"SamlLastNameAttributeSet", "false"},
    {"SamlNicknameAttributeSet", "false"},
    {"SamlPositionAttributeSet", "false"},
    {"EnableCluster", "false"},
    {"EnableMetrics", "false"},
    {"EnableBanner", "false"},
    {"BannerText", ""},
    {"BannerColor", ""},
    {"BannerTextColor", ""},
    {"AllowBannerDismissal", "false"},
    {"EnableThemeSelection", "true"},
    {"DefaultTheme", ""},
    {"AllowCustomThemes", "true"},
    {"AllowedThemes", ""},
    {"DataRetentionEnableMessageDeletion", "false"},
    {"DataRetentionMessageRetentionDays", "0"},
    {"DataRetentionEnableFileDeletion", "false"},
    {"DataRetentionFileRetentionDays", "0"},
    {"DataRetentionEnableBoardsDeletion", "false"},
    {"DataRetentionBoardsRetentionDays", "0"},
    {"CustomUrlSchemes", ""},
    {"IsDefaultMarketplace", "true"},
    {"ExperimentalSharedChannels", "false"},
    {"CollapsedThreads", "disabled"}, /* no /threads routes */
    {"EnableCustomGroups", "false"},
    {"PostPriority", "false"},
    {"AllowPersistentNotifications", "false"},
    {"AllowPersistentNotificationsForGuests", "false"},
    {"PersistentNotificationMaxCount", "6"},
    {"PersistentNotificationIntervalMinutes", "5"},
    {"PersistentNotificationMaxRecipients", "5"},
    {"AllowSyncedDrafts", "false"},
    {"DelayChannelAutocomplete", "false"},
};

typedef struct {
    json_t *map;
    bool failed;
} builder_t;

static void put(builder_t *b, const char *key, const char *value)
{
    if (json_object_set_new(b->map, key, json_string(value)) != 0)
        b->failed = true;
}

static void put_bool(builder_t *b, const char *key, bool value)
{
    put(b, key, value ? "true" : "false");
}

static void put_int(builder_t *b, const char *key, int64_t value)
{
    char text[24];
    snprintf(text, sizeof(text), "%" PRId64, value);
    put(b, key, text);
}

static void put_pairs(builder_t *b, const pair_t *pairs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(b, pairs[i].key, pairs[i].value);
}

/* SiteURL without its trailing slashes, as Mattermost trims it. */
static void put_site_url(builder_t *b, const char *url)
{
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    json_t *v = json_stringn(url, len);
    if (json_object_set_new(b->map, "SiteURL", v) != 0)
        b->failed = true;
}

json_t *config_client_map(const config_t *cfg, bool full)
{
    builder_t b = {.map = json_object()};
    if (b.map == NULL)
        return NULL;
    put(&b, "Version", CHORUS_API_VERSION);
    put(&b, "BuildNumber", CHORUS_BUILD_NUMBER);
    put_pairs(&b, limited_fixed, sizeof(limited_fixed) / sizeof(limited_fixed[0]));
    put_bool(&b, "EnableFile", cfg->log.enable_file);
    put(&b, "FileLevel", cfg->log.file_level);
    put_site_url(&b, cfg->service.site_url);
    put(&b, "SiteName", cfg->team.site_name);
    put_bool(&b, "EnableUserCreation", cfg->team.enable_user_creation);
    put_bool(&b, "EnableOpenServer", cfg->team.enable_open_server);
    if (full) {
        put_pairs(&b, full_fixed, sizeof(full_fixed) / sizeof(full_fixed[0]));
        put_bool(&b, "EnableDeveloper", cfg->service.enable_developer);
        put_bool(&b, "ExperimentalEnableDefaultChannelLeaveJoinMessages",
                 cfg->service.enable_default_channel_leave_join_messages);
        put(&b, "SQLDriverName", cfg->sql.driver_name);
        put_int(&b, "MaxFileSize", cfg->file.max_file_size);
        put_bool(&b, "RunJobs", cfg->job.run_jobs);
        put_bool(&b, "EnableUserDeactivation", cfg->team.enable_user_deactivation);
    }
    if (b.failed) {
        json_decref(b.map);
        return NULL;
    }
    return b.map;
}
