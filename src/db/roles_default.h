/*
 * Mattermost's built-in roles and their default permissions (model/role.go
 * MakeDefaultRoles, with the sysconsole roles' ancillary permissions added
 * as AddAncillaryPermissions does, without repeats), as space-separated
 * lists: what migration 9 seeds the Roles table with, and what a worker
 * falls back to while the schema is older.  ROLE_PERMISSIONS_ALL is every
 * permission Mattermost knows (AllPermissions, system_admin's list), and
 * ROLE_PERMISSIONS_DEPRECATED those it still accepts in a role
 * (Role.IsValid).
 */
#ifndef CHORUS_DB_ROLES_DEFAULT_H
#define CHORUS_DB_ROLES_DEFAULT_H

#define ROLE_PERMISSIONS_ALL                                                                            \
    "assign_system_admin_role manage_roles manage_system create_direct_channel create_group_channel "   \
    "list_public_teams join_public_teams list_private_teams join_private_teams edit_other_users "       \
    "read_other_users_teams get_public_link manage_system_wide_oauth manage_oauth create_team "         \
    "list_users_without_team create_user_access_token read_user_access_token revoke_user_access_token " \
    "create_bot assign_bot read_bots read_others_bots manage_bots manage_others_bots read_jobs "        \
    "manage_jobs promote_guest demote_to_guest edit_brand manage_shared_channels "                      \
    "manage_secure_connections download_compliance_export_result create_data_retention_job "            \
    "manage_data_retention_job read_data_retention_job create_compliance_export_job "                   \
    "manage_compliance_export_job read_compliance_export_job read_audits test_site_url "                \
    "test_elasticsearch test_s3 reload_config invalidate_caches recycle_database_connections "          \
    "purge_elasticsearch_indexes test_email create_elasticsearch_post_indexing_job "                    \
    "manage_elasticsearch_post_indexing_job create_elasticsearch_post_aggregation_job "                 \
    "manage_elasticsearch_post_aggregation_job read_elasticsearch_post_indexing_job "                   \
    "read_elasticsearch_post_aggregation_job create_ldap_sync_job manage_ldap_sync_job "                \
    "read_ldap_sync_job test_ldap invalidate_email_invite get_saml_metadata_from_idp "                  \
    "add_saml_public_cert add_saml_private_cert add_saml_idp_cert remove_saml_public_cert "             \
    "remove_saml_private_cert remove_saml_idp_cert get_saml_cert_status add_ldap_public_cert "          \
    "add_ldap_private_cert remove_ldap_public_cert remove_ldap_private_cert get_analytics get_logs "    \
    "read_license_information manage_license_information create_custom_group "                          \
    "manage_outgoing_oauth_connections manage_own_agent manage_others_agent invite_user "               \
    "add_user_to_team manage_own_slash_commands manage_others_slash_commands create_public_channel "    \
    "create_private_channel manage_team_roles manage_team_access_rules list_team_channels "             \
    "join_public_channels read_public_channel manage_own_incoming_webhooks "                            \
    "manage_own_outgoing_webhooks manage_others_incoming_webhooks manage_others_outgoing_webhooks "     \
    "bypass_incoming_webhook_channel_lock create_emojis delete_emojis delete_others_emojis "            \
    "remove_user_from_team manage_team import_team view_team view_members invite_guest "                \
    "playbook_public_create playbook_private_create create_wiki manage_wiki read_wiki delete_wiki "     \
    "admin_wiki create_page read_page edit_page edit_own_page delete_own_page delete_page "             \
    "comment_page use_slash_commands manage_public_channel_members manage_private_channel_members "     \
    "manage_channel_roles manage_public_channel_properties manage_private_channel_properties "          \
    "manage_public_channel_auto_translation manage_private_channel_auto_translation "                   \
    "convert_public_channel_to_private convert_private_channel_to_public delete_public_channel "        \
    "delete_private_channel read_channel read_channel_content read_public_channel_groups "              \
    "read_private_channel_groups add_reaction remove_reaction remove_others_reactions upload_file "     \
    "create_post create_post_public create_post_ephemeral read_deleted_posts edit_post "                \
    "edit_others_posts delete_post delete_others_posts use_channel_mentions use_group_mentions "        \
    "add_bookmark_public_channel edit_bookmark_public_channel delete_bookmark_public_channel "          \
    "order_bookmark_public_channel add_bookmark_private_channel edit_bookmark_private_channel "         \
    "delete_bookmark_private_channel order_bookmark_private_channel manage_public_channel_banner "      \
    "manage_private_channel_banner manage_channel_access_rules edit_file_attachment "                   \
    "sysconsole_read_about_edition_and_license sysconsole_read_billing "                                \
    "sysconsole_read_reporting_site_statistics sysconsole_read_reporting_team_statistics "              \
    "sysconsole_read_reporting_server_logs sysconsole_read_user_management_users "                      \
    "sysconsole_read_user_management_groups sysconsole_read_user_management_teams "                     \
    "sysconsole_read_user_management_channels sysconsole_read_user_management_permissions "             \
    "sysconsole_read_user_management_system_roles sysconsole_read_environment_web_server "              \
    "sysconsole_read_environment_database sysconsole_read_environment_elasticsearch "                   \
    "sysconsole_read_environment_file_storage sysconsole_read_environment_image_proxy "                 \
    "sysconsole_read_environment_smtp sysconsole_read_environment_push_notification_server "            \
    "sysconsole_read_environment_high_availability sysconsole_read_environment_rate_limiting "          \
    "sysconsole_read_environment_logging sysconsole_read_environment_session_lengths "                  \
    "sysconsole_read_environment_performance_monitoring sysconsole_read_environment_developer "         \
    "sysconsole_read_environment_mobile_security sysconsole_read_site_customization "                   \
    "sysconsole_read_site_localization sysconsole_read_site_users_and_teams "                           \
    "sysconsole_read_site_notifications sysconsole_read_site_announcement_banner "                      \
    "sysconsole_read_site_emoji sysconsole_read_site_posts "                                            \
    "sysconsole_read_site_file_sharing_and_downloads sysconsole_read_site_public_links "                \
    "sysconsole_read_site_notices sysconsole_read_authentication_signup "                               \
    "sysconsole_read_authentication_email sysconsole_read_authentication_password "                     \
    "sysconsole_read_authentication_mfa sysconsole_read_authentication_ldap "                           \
    "sysconsole_read_authentication_saml sysconsole_read_authentication_openid "                        \
    "sysconsole_read_authentication_guest_access sysconsole_read_plugins "                              \
    "sysconsole_read_integrations_integration_management sysconsole_read_integrations_bot_accounts "    \
    "sysconsole_read_integrations_gif sysconsole_read_integrations_cors "                               \
    "sysconsole_read_compliance_data_retention_policy sysconsole_read_compliance_compliance_export "    \
    "sysconsole_read_compliance_compliance_monitoring "                                                 \
    "sysconsole_read_compliance_custom_terms_of_service sysconsole_read_experimental_features "         \
    "sysconsole_read_experimental_feature_flags sysconsole_read_products_boards "                       \
    "sysconsole_read_site_ip_filters sysconsole_write_about_edition_and_license "                       \
    "sysconsole_write_billing sysconsole_write_reporting_site_statistics "                              \
    "sysconsole_write_reporting_team_statistics sysconsole_write_reporting_server_logs "                \
    "sysconsole_write_user_management_users sysconsole_write_user_management_groups "                   \
    "sysconsole_write_user_management_teams sysconsole_write_user_management_channels "                 \
    "sysconsole_write_user_management_permissions sysconsole_write_user_management_system_roles "       \
    "sysconsole_write_environment_web_server sysconsole_write_environment_database "                    \
    "sysconsole_write_environment_elasticsearch sysconsole_write_environment_file_storage "             \
    "sysconsole_write_environment_image_proxy sysconsole_write_environment_smtp "                       \
    "sysconsole_write_environment_push_notification_server "                                            \
    "sysconsole_write_environment_high_availability sysconsole_write_environment_rate_limiting "        \
    "sysconsole_write_environment_logging sysconsole_write_environment_session_lengths "                \
    "sysconsole_write_environment_performance_monitoring sysconsole_write_environment_developer "       \
    "sysconsole_write_environment_mobile_security sysconsole_write_site_customization "                 \
    "sysconsole_write_site_localization sysconsole_write_site_users_and_teams "                         \
    "sysconsole_write_site_notifications sysconsole_write_site_announcement_banner "                    \
    "sysconsole_write_site_emoji sysconsole_write_site_posts "                                          \
    "sysconsole_write_site_file_sharing_and_downloads sysconsole_write_site_public_links "              \
    "sysconsole_write_site_notices sysconsole_write_authentication_signup "                             \
    "sysconsole_write_authentication_email sysconsole_write_authentication_password "                   \
    "sysconsole_write_authentication_mfa sysconsole_write_authentication_ldap "                         \
    "sysconsole_write_authentication_saml sysconsole_write_authentication_openid "                      \
    "sysconsole_write_authentication_guest_access sysconsole_write_plugins "                            \
    "sysconsole_write_integrations_integration_management sysconsole_write_integrations_bot_accounts "  \
    "sysconsole_write_integrations_gif sysconsole_write_integrations_cors "                             \
    "sysconsole_write_compliance_data_retention_policy sysconsole_write_compliance_compliance_export "  \
    "sysconsole_write_compliance_compliance_monitoring "                                                \
    "sysconsole_write_compliance_custom_terms_of_service sysconsole_write_experimental_features "       \
    "sysconsole_write_experimental_feature_flags sysconsole_write_products_boards "                     \
    "sysconsole_write_site_ip_filters manage_custom_group_members edit_custom_group "                   \
    "delete_custom_group restore_custom_group playbook_public_manage_properties "                       \
    "playbook_public_manage_members playbook_public_manage_roles playbook_public_view "                 \
    "playbook_public_make_private playbook_private_manage_properties playbook_private_manage_members "  \
    "playbook_private_manage_roles playbook_private_view playbook_private_make_public run_create "      \
    "run_manage_properties run_manage_members run_view"

#define ROLE_PERMISSIONS_DEPRECATED                                                          \
    "permanent_delete_user manage_webhooks manage_others_webhooks manage_incoming_webhooks " \
    "manage_outgoing_webhooks manage_slash_commands manage_emojis manage_others_emojis "     \
    "sysconsole_read_authentication sysconsole_write_authentication sysconsole_read_site "   \
    "sysconsole_write_site sysconsole_read_environment sysconsole_write_environment "        \
    "sysconsole_read_reporting sysconsole_write_reporting sysconsole_read_about "            \
    "sysconsole_write_about sysconsole_read_experimental sysconsole_write_experimental "     \
    "sysconsole_read_integrations sysconsole_write_integrations sysconsole_read_compliance " \
    "sysconsole_write_compliance purge_bleve_indexes create_post_bleve_indexes_job "         \
    "manage_post_bleve_indexes_job sysconsole_read_experimental_bleve "                      \
    "sysconsole_write_experimental_bleve"

#define ROLE_PERMISSIONS_SYSTEM_USER                                                               \
    "list_public_teams join_public_teams create_direct_channel create_group_channel view_members " \
    "create_team create_custom_group edit_custom_group delete_custom_group restore_custom_group "  \
    "manage_custom_group_members manage_own_agent"

#define ROLE_PERMISSIONS_SYSTEM_GUEST "create_direct_channel create_group_channel"

#define ROLE_PERMISSIONS_SYSTEM_POST_ALL "create_post use_channel_mentions"

#define ROLE_PERMISSIONS_SYSTEM_POST_ALL_PUBLIC "create_post_public use_channel_mentions"

#define ROLE_PERMISSIONS_SYSTEM_USER_ACCESS_TOKEN \
    "create_user_access_token read_user_access_token revoke_user_access_token"

#define ROLE_PERMISSIONS_SYSTEM_USER_MANAGER                                                          \
    "sysconsole_read_user_management_groups sysconsole_read_user_management_teams "                   \
    "sysconsole_read_user_management_channels sysconsole_read_user_management_permissions "           \
    "sysconsole_write_user_management_groups sysconsole_write_user_management_teams "                 \
    "sysconsole_write_user_management_channels sysconsole_read_authentication_signup "                \
    "sysconsole_read_authentication_email sysconsole_read_authentication_password "                   \
    "sysconsole_read_authentication_mfa sysconsole_read_authentication_ldap "                         \
    "sysconsole_read_authentication_saml sysconsole_read_authentication_openid "                      \
    "sysconsole_read_authentication_guest_access list_private_teams list_public_teams view_team "     \
    "read_public_channel read_channel read_public_channel_groups read_private_channel_groups "        \
    "manage_private_channel_members manage_public_channel_members convert_public_channel_to_private " \
    "convert_private_channel_to_public manage_team manage_team_roles remove_user_from_team "          \
    "join_private_teams join_public_teams add_user_to_team manage_public_channel_properties "         \
    "manage_private_channel_properties manage_public_channel_auto_translation "                       \
    "manage_private_channel_auto_translation delete_private_channel delete_public_channel "           \
    "manage_channel_roles test_ldap read_ldap_sync_job"

#define ROLE_PERMISSIONS_SYSTEM_READ_ONLY_ADMIN                                                       \
    "sysconsole_read_about_edition_and_license sysconsole_read_reporting_site_statistics "            \
    "sysconsole_read_reporting_team_statistics sysconsole_read_reporting_server_logs "                \
    "sysconsole_read_user_management_users sysconsole_read_user_management_groups "                   \
    "sysconsole_read_user_management_teams sysconsole_read_user_management_channels "                 \
    "sysconsole_read_user_management_permissions sysconsole_read_environment_web_server "             \
    "sysconsole_read_environment_database sysconsole_read_environment_elasticsearch "                 \
    "sysconsole_read_environment_file_storage sysconsole_read_environment_image_proxy "               \
    "sysconsole_read_environment_smtp sysconsole_read_environment_push_notification_server "          \
    "sysconsole_read_environment_high_availability sysconsole_read_environment_rate_limiting "        \
    "sysconsole_read_environment_logging sysconsole_read_environment_session_lengths "                \
    "sysconsole_read_environment_performance_monitoring sysconsole_read_environment_developer "       \
    "sysconsole_read_site_customization sysconsole_read_site_localization "                           \
    "sysconsole_read_site_users_and_teams sysconsole_read_site_notifications "                        \
    "sysconsole_read_site_announcement_banner sysconsole_read_site_emoji sysconsole_read_site_posts " \
    "sysconsole_read_site_file_sharing_and_downloads sysconsole_read_site_public_links "              \
    "sysconsole_read_site_notices sysconsole_read_authentication_signup "                             \
    "sysconsole_read_authentication_email sysconsole_read_authentication_password "                   \
    "sysconsole_read_authentication_mfa sysconsole_read_authentication_ldap "                         \
    "sysconsole_read_authentication_saml sysconsole_read_authentication_openid "                      \
    "sysconsole_read_authentication_guest_access sysconsole_read_plugins "                            \
    "sysconsole_read_integrations_integration_management sysconsole_read_integrations_bot_accounts "  \
    "sysconsole_read_integrations_gif sysconsole_read_integrations_cors "                             \
    "sysconsole_read_compliance_data_retention_policy sysconsole_read_compliance_compliance_export "  \
    "sysconsole_read_compliance_compliance_monitoring "                                               \
    "sysconsole_read_compliance_custom_terms_of_service sysconsole_read_experimental_features "       \
    "sysconsole_read_experimental_feature_flags sysconsole_read_products_boards "                     \
    "read_license_information get_analytics get_logs read_other_users_teams list_private_teams "      \
    "list_public_teams view_team read_public_channel read_channel read_public_channel_groups "        \
    "read_private_channel_groups read_elasticsearch_post_indexing_job "                               \
    "read_elasticsearch_post_aggregation_job test_ldap read_ldap_sync_job read_data_retention_job "   \
    "read_compliance_export_job download_compliance_export_result read_audits"

#define ROLE_PERMISSIONS_SYSTEM_MANAGER                                                               \
    "sysconsole_read_about_edition_and_license sysconsole_read_reporting_site_statistics "            \
    "sysconsole_read_reporting_team_statistics sysconsole_read_reporting_server_logs "                \
    "sysconsole_read_user_management_groups sysconsole_read_user_management_teams "                   \
    "sysconsole_read_user_management_channels sysconsole_read_user_management_permissions "           \
    "sysconsole_write_user_management_groups sysconsole_write_user_management_teams "                 \
    "sysconsole_write_user_management_channels sysconsole_write_user_management_permissions "         \
    "sysconsole_read_environment_web_server sysconsole_read_environment_database "                    \
    "sysconsole_read_environment_elasticsearch sysconsole_read_environment_file_storage "             \
    "sysconsole_read_environment_image_proxy sysconsole_read_environment_smtp "                       \
    "sysconsole_read_environment_push_notification_server "                                           \
    "sysconsole_read_environment_high_availability sysconsole_read_environment_rate_limiting "        \
    "sysconsole_read_environment_logging sysconsole_read_environment_session_lengths "                \
    "sysconsole_read_environment_performance_monitoring sysconsole_read_environment_developer "       \
    "sysconsole_write_environment_web_server sysconsole_write_environment_database "                  \
    "sysconsole_write_environment_elasticsearch sysconsole_write_environment_file_storage "           \
    "sysconsole_write_environment_image_proxy sysconsole_write_environment_smtp "                     \
    "sysconsole_write_environment_push_notification_server "                                          \
    "sysconsole_write_environment_high_availability sysconsole_write_environment_rate_limiting "      \
    "sysconsole_write_environment_logging sysconsole_write_environment_session_lengths "              \
    "sysconsole_write_environment_performance_monitoring sysconsole_write_environment_developer "     \
    "sysconsole_read_site_customization sysconsole_write_site_customization "                         \
    "sysconsole_read_site_localization sysconsole_write_site_localization "                           \
    "sysconsole_read_site_users_and_teams sysconsole_write_site_users_and_teams "                     \
    "sysconsole_read_site_notifications sysconsole_write_site_notifications "                         \
    "sysconsole_read_site_announcement_banner sysconsole_write_site_announcement_banner "             \
    "sysconsole_read_site_emoji sysconsole_write_site_emoji sysconsole_read_site_posts "              \
    "sysconsole_write_site_posts sysconsole_read_site_file_sharing_and_downloads "                    \
    "sysconsole_write_site_file_sharing_and_downloads sysconsole_read_site_public_links "             \
    "sysconsole_write_site_public_links sysconsole_read_site_notices sysconsole_write_site_notices "  \
    "sysconsole_read_authentication_signup sysconsole_read_authentication_email "                     \
    "sysconsole_read_authentication_password sysconsole_read_authentication_mfa "                     \
    "sysconsole_read_authentication_ldap sysconsole_read_authentication_saml "                        \
    "sysconsole_read_authentication_openid sysconsole_read_authentication_guest_access "              \
    "sysconsole_read_plugins sysconsole_read_integrations_integration_management "                    \
    "sysconsole_read_integrations_bot_accounts sysconsole_read_integrations_gif "                     \
    "sysconsole_read_integrations_cors sysconsole_write_integrations_integration_management "         \
    "sysconsole_write_integrations_bot_accounts sysconsole_write_integrations_gif "                   \
    "sysconsole_write_integrations_cors sysconsole_read_products_boards "                             \
    "sysconsole_write_products_boards manage_outgoing_oauth_connections read_license_information "    \
    "get_analytics get_logs list_private_teams list_public_teams view_team read_public_channel "      \
    "read_channel read_public_channel_groups read_private_channel_groups "                            \
    "manage_private_channel_members manage_public_channel_members convert_public_channel_to_private " \
    "convert_private_channel_to_public manage_team manage_team_roles remove_user_from_team "          \
    "join_private_teams join_public_teams add_user_to_team manage_public_channel_properties "         \
    "manage_private_channel_properties manage_public_channel_auto_translation "                       \
    "manage_private_channel_auto_translation delete_private_channel delete_public_channel "           \
    "manage_channel_roles read_elasticsearch_post_indexing_job "                                      \
    "read_elasticsearch_post_aggregation_job test_site_url reload_config invalidate_caches "          \
    "recycle_database_connections test_elasticsearch create_elasticsearch_post_indexing_job "         \
    "manage_elasticsearch_post_indexing_job create_elasticsearch_post_aggregation_job "               \
    "manage_elasticsearch_post_aggregation_job purge_elasticsearch_indexes test_s3 test_email "       \
    "edit_brand test_ldap read_ldap_sync_job"

#define ROLE_PERMISSIONS_SYSTEM_CUSTOM_GROUP_ADMIN                                    \
    "create_custom_group edit_custom_group delete_custom_group restore_custom_group " \
    "manage_custom_group_members"

#define ROLE_PERMISSIONS_SYSTEM_SHARED_CHANNEL_MANAGER "manage_shared_channels"

#define ROLE_PERMISSIONS_TEAM_ADMIN                                                                 \
    "remove_user_from_team manage_team import_team manage_team_roles manage_team_access_rules "     \
    "manage_channel_roles manage_own_incoming_webhooks manage_others_incoming_webhooks "            \
    "manage_own_outgoing_webhooks manage_others_outgoing_webhooks manage_own_slash_commands "       \
    "manage_others_slash_commands bypass_incoming_webhook_channel_lock "                            \
    "convert_public_channel_to_private convert_private_channel_to_public delete_post "              \
    "delete_others_posts add_bookmark_public_channel edit_bookmark_public_channel "                 \
    "delete_bookmark_public_channel order_bookmark_public_channel add_bookmark_private_channel "    \
    "edit_bookmark_private_channel delete_bookmark_private_channel order_bookmark_private_channel " \
    "read_page create_page edit_page delete_own_page delete_page manage_public_channel_banner "     \
    "manage_private_channel_banner manage_channel_access_rules create_wiki manage_wiki"

#define ROLE_PERMISSIONS_TEAM_USER                                                                     \
    "list_team_channels join_public_channels read_public_channel view_team create_public_channel "     \
    "create_private_channel invite_user add_user_to_team create_wiki read_page create_page edit_page " \
    "delete_own_page"

#define ROLE_PERMISSIONS_TEAM_GUEST "view_team"

#define ROLE_PERMISSIONS_TEAM_POST_ALL "create_post use_channel_mentions"

#define ROLE_PERMISSIONS_TEAM_POST_ALL_PUBLIC "create_post_public use_channel_mentions"

#define ROLE_PERMISSIONS_CHANNEL_ADMIN                                                                  \
    "manage_channel_roles use_group_mentions add_bookmark_public_channel edit_bookmark_public_channel " \
    "delete_bookmark_public_channel order_bookmark_public_channel add_bookmark_private_channel "        \
    "edit_bookmark_private_channel delete_bookmark_private_channel order_bookmark_private_channel "     \
    "read_page create_page edit_page delete_own_page delete_page manage_public_channel_banner "         \
    "manage_private_channel_banner manage_channel_access_rules manage_public_channel_auto_translation " \
    "manage_private_channel_auto_translation"

#define ROLE_PERMISSIONS_CHANNEL_USER                                                                 \
    "read_channel read_channel_content add_reaction remove_reaction manage_public_channel_members "   \
    "upload_file get_public_link create_post use_channel_mentions manage_public_channel_properties "  \
    "delete_public_channel manage_private_channel_properties delete_private_channel "                 \
    "manage_private_channel_members delete_post edit_post edit_file_attachment "                      \
    "add_bookmark_public_channel edit_bookmark_public_channel delete_bookmark_public_channel "        \
    "order_bookmark_public_channel add_bookmark_private_channel edit_bookmark_private_channel "       \
    "delete_bookmark_private_channel order_bookmark_private_channel read_page create_page edit_page " \
    "delete_own_page"

#define ROLE_PERMISSIONS_CHANNEL_GUEST                                                                  \
    "read_channel read_channel_content add_reaction remove_reaction upload_file edit_post create_post " \
    "use_channel_mentions read_page edit_file_attachment"

#define ROLE_PERMISSIONS_CUSTOM_GROUP_USER ""

/* The names and permissions, for code that reads them without the table. */
typedef struct {
    const char *name;
    const char *permissions;
} role_default_t;

#define ROLE_DEFAULTS_INIT                                                                                      \
    {"system_admin", ROLE_PERMISSIONS_ALL}, {"system_user", ROLE_PERMISSIONS_SYSTEM_USER},                      \
        {"system_guest", ROLE_PERMISSIONS_SYSTEM_GUEST}, {"system_post_all", ROLE_PERMISSIONS_SYSTEM_POST_ALL}, \
        {"system_post_all_public", ROLE_PERMISSIONS_SYSTEM_POST_ALL_PUBLIC},                                    \
        {"system_user_access_token", ROLE_PERMISSIONS_SYSTEM_USER_ACCESS_TOKEN},                                \
        {"system_user_manager", ROLE_PERMISSIONS_SYSTEM_USER_MANAGER},                                          \
        {"system_read_only_admin", ROLE_PERMISSIONS_SYSTEM_READ_ONLY_ADMIN},                                    \
        {"system_manager", ROLE_PERMISSIONS_SYSTEM_MANAGER},                                                    \
        {"system_custom_group_admin", ROLE_PERMISSIONS_SYSTEM_CUSTOM_GROUP_ADMIN},                              \
        {"system_shared_channel_manager", ROLE_PERMISSIONS_SYSTEM_SHARED_CHANNEL_MANAGER},                      \
        {"team_admin", ROLE_PERMISSIONS_TEAM_ADMIN}, {"team_user", ROLE_PERMISSIONS_TEAM_USER},                 \
        {"team_guest", ROLE_PERMISSIONS_TEAM_GUEST}, {"team_post_all", ROLE_PERMISSIONS_TEAM_POST_ALL},         \
        {"team_post_all_public", ROLE_PERMISSIONS_TEAM_POST_ALL_PUBLIC},                                        \
        {"channel_admin", ROLE_PERMISSIONS_CHANNEL_ADMIN}, {"channel_user", ROLE_PERMISSIONS_CHANNEL_USER},     \
        {"channel_guest", ROLE_PERMISSIONS_CHANNEL_GUEST}, {"custom_group_user", ROLE_PERMISSIONS_CUSTOM_GROUP_USER},

#endif
