/*
 * The schema, as an ordered list of migrations.  A migration is never edited
 * once released: a change is a new entry at the end.  Table and column names
 * follow Mattermost's PostgreSQL schema (unquoted, so lower-case in the
 * catalog) so that operators' queries and tools carry over.
 */
#include "db/migrate.h"

#include "db/roles_default.h"

const migration_t migrations[] = {
    {1, "create Systems",
     "CREATE TABLE IF NOT EXISTS Systems ("
     "  Name varchar(64) PRIMARY KEY,"
     "  Value varchar(1024)"
     ")"},
    {2, "create the chat core (users, sessions, teams, channels, posts, statuses)",
     "CREATE TABLE Users ("
     "  Id varchar(26) PRIMARY KEY, CreateAt bigint NOT NULL, UpdateAt bigint NOT NULL,"
     "  DeleteAt bigint NOT NULL DEFAULT 0, Username varchar(64) NOT NULL UNIQUE,"
     "  Password varchar(128) NOT NULL DEFAULT '', AuthData varchar(128), AuthService varchar(32) NOT NULL DEFAULT '',"
     "  Email varchar(128) NOT NULL UNIQUE, EmailVerified boolean NOT NULL DEFAULT false,"
     "  Nickname varchar(64) NOT NULL DEFAULT '', FirstName varchar(64) NOT NULL DEFAULT '',"
     "  LastName varchar(64) NOT NULL DEFAULT '', Position varchar(128) NOT NULL DEFAULT '',"
     "  Roles varchar(256) NOT NULL DEFAULT '', Props jsonb NOT NULL DEFAULT '{}',"
     "  NotifyProps jsonb NOT NULL DEFAULT '{}', LastPasswordUpdate bigint NOT NULL DEFAULT 0,"
     "  LastPictureUpdate bigint NOT NULL DEFAULT 0, FailedAttempts integer NOT NULL DEFAULT 0,"
     "  Locale varchar(5) NOT NULL DEFAULT 'en', Timezone jsonb NOT NULL DEFAULT '{}',"
     "  MfaActive boolean NOT NULL DEFAULT false, IsBot boolean NOT NULL DEFAULT false"
     ");"
     "CREATE TABLE Sessions ("
     "  Id varchar(26) PRIMARY KEY, Token varchar(26) NOT NULL UNIQUE, CreateAt bigint NOT NULL,"
     "  ExpiresAt bigint NOT NULL, LastActivityAt bigint NOT NULL, UserId varchar(26) NOT NULL,"
     "  DeviceId varchar(512) NOT NULL DEFAULT '', Roles varchar(256) NOT NULL DEFAULT '',"
     "  IsOAuth boolean NOT NULL DEFAULT false, Props jsonb NOT NULL DEFAULT '{}'"
     ");"
     "CREATE INDEX idx_sessions_user_id ON Sessions (UserId);"
     "CREATE TABLE Teams ("
     "  Id varchar(26) PRIMARY KEY, CreateAt bigint NOT NULL, UpdateAt bigint NOT NULL,"
     "  DeleteAt bigint NOT NULL DEFAULT 0, DisplayName varchar(64) NOT NULL, Name varchar(64) NOT NULL UNIQUE,"
     "  Description varchar(255) NOT NULL DEFAULT '', Email varchar(128) NOT NULL DEFAULT '',"
     "  Type varchar(255) NOT NULL DEFAULT 'O', CompanyName varchar(64) NOT NULL DEFAULT '',"
     "  AllowedDomains varchar(1000) NOT NULL DEFAULT '', InviteId varchar(32) NOT NULL DEFAULT '',"
     "  AllowOpenInvite boolean NOT NULL DEFAULT false"
     ");"
     "CREATE TABLE TeamMembers ("
     "  TeamId varchar(26) NOT NULL, UserId varchar(26) NOT NULL, Roles varchar(256) NOT NULL DEFAULT '',"
     "  DeleteAt bigint NOT NULL DEFAULT 0, SchemeUser boolean NOT NULL DEFAULT true,"
     "  SchemeAdmin boolean NOT NULL DEFAULT false, CreateAt bigint NOT NULL DEFAULT 0,"
     "  PRIMARY KEY (TeamId, UserId)"
     ");"
     "CREATE INDEX idx_teammembers_user_id ON TeamMembers (UserId);"
     "CREATE TABLE Channels ("
     "  Id varchar(26) PRIMARY KEY, CreateAt bigint NOT NULL, UpdateAt bigint NOT NULL,"
     "  DeleteAt bigint NOT NULL DEFAULT 0, TeamId varchar(26) NOT NULL DEFAULT '', Type varchar(1) NOT NULL,"
     "  DisplayName varchar(64) NOT NULL DEFAULT '', Name varchar(64) NOT NULL,"
     "  Header varchar(1024) NOT NULL DEFAULT '', Purpose varchar(250) NOT NULL DEFAULT '',"
     "  LastPostAt bigint NOT NULL DEFAULT 0, TotalMsgCount bigint NOT NULL DEFAULT 0,"
     "  CreatorId varchar(26) NOT NULL DEFAULT '', UNIQUE (Name, TeamId)"
     ");"
     "CREATE INDEX idx_channels_team_id ON Channels (TeamId);"
     "CREATE TABLE ChannelMembers ("
     "  ChannelId varchar(26) NOT NULL, UserId varchar(26) NOT NULL, Roles varchar(256) NOT NULL DEFAULT '',"
     "  LastViewedAt bigint NOT NULL DEFAULT 0, MsgCount bigint NOT NULL DEFAULT 0,"
     "  MentionCount bigint NOT NULL DEFAULT 0, NotifyProps jsonb NOT NULL DEFAULT '{}',"
     "  LastUpdateAt bigint NOT NULL DEFAULT 0, SchemeUser boolean NOT NULL DEFAULT true,"
     "  SchemeAdmin boolean NOT NULL DEFAULT false, PRIMARY KEY (ChannelId, UserId)"
     ");"
     "CREATE INDEX idx_channelmembers_user_id ON ChannelMembers (UserId);"
     "CREATE TABLE Posts ("
     "  Id varchar(26) PRIMARY KEY, CreateAt bigint NOT NULL, UpdateAt bigint NOT NULL,"
     "  EditAt bigint NOT NULL DEFAULT 0, DeleteAt bigint NOT NULL DEFAULT 0,"
     "  IsPinned boolean NOT NULL DEFAULT false, UserId varchar(26) NOT NULL, ChannelId varchar(26) NOT NULL,"
     "  RootId varchar(26) NOT NULL DEFAULT '', OriginalId varchar(26) NOT NULL DEFAULT '',"
     "  Message varchar(65535) NOT NULL DEFAULT '', Type varchar(26) NOT NULL DEFAULT '',"
     "  Props jsonb NOT NULL DEFAULT '{}', Hashtags varchar(1000) NOT NULL DEFAULT '',"
     "  FileIds varchar(300) NOT NULL DEFAULT '[]', PendingPostId varchar(64) NOT NULL DEFAULT ''"
     ");"
     "CREATE INDEX idx_posts_channel_id_create_at ON Posts (ChannelId, CreateAt);"
     "CREATE INDEX idx_posts_channel_id_update_at ON Posts (ChannelId, UpdateAt);"
     "CREATE INDEX idx_posts_message_txt ON Posts USING gin (to_tsvector('english', Message));"
     "CREATE TABLE Status ("
     "  UserId varchar(26) PRIMARY KEY, Status varchar(32) NOT NULL, Manual boolean NOT NULL DEFAULT false,"
     "  LastActivityAt bigint NOT NULL DEFAULT 0, DndEndTime bigint NOT NULL DEFAULT 0,"
     "  PrevStatus varchar(32) NOT NULL DEFAULT ''"
     ")"},
    {3, "index replies (Posts.RootId)", "CREATE INDEX idx_posts_root_id_delete_at ON Posts (RootId, DeleteAt)"},
    {4, "version statuses (Status.Version orders the presence cache's fills)",
     "ALTER TABLE Status ADD COLUMN Version bigint NOT NULL DEFAULT 0"},
    {5, "create ClusterDiscovery (each node's row: how its peers reach it)",
     "CREATE TABLE ClusterDiscovery ("
     "  Id varchar(26) PRIMARY KEY, Type varchar(64) NOT NULL, ClusterName varchar(64) NOT NULL,"
     "  Hostname varchar(512) NOT NULL, GossipPort integer NOT NULL, Port integer NOT NULL,"
     "  CreateAt bigint NOT NULL, LastPingAt bigint NOT NULL"
     ");"
     "CREATE INDEX idx_clusterdiscovery_name ON ClusterDiscovery (Type, ClusterName)"},
    /* Jobs has Mattermost's columns, then chorus's own for exactly-once runs:
     * ScheduleSlot (the due time of a scheduled job, NULL on demand; unique
     * with Type, so a slot is created once whoever schedules it), NodeId (the
     * node running it) and Attempts (claims so far, to give up on a job that
     * kills its runner).  ComplianceExportCursor holds how far the message
     * export has gone; a run moves it in the statement that ends the run. */
    {6, "create Jobs and the compliance export cursor; index posts by age",
     "CREATE TABLE Jobs ("
     "  Id varchar(26) PRIMARY KEY, Type varchar(32) NOT NULL, Priority bigint NOT NULL DEFAULT 0,"
     "  CreateAt bigint NOT NULL, StartAt bigint NOT NULL DEFAULT 0, LastActivityAt bigint NOT NULL DEFAULT 0,"
     "  Status varchar(32) NOT NULL, Progress bigint NOT NULL DEFAULT 0, Data jsonb NOT NULL DEFAULT '{}',"
     "  ScheduleSlot bigint, NodeId varchar(26) NOT NULL DEFAULT '', Attempts integer NOT NULL DEFAULT 0"
     ");"
     "CREATE UNIQUE INDEX idx_jobs_type_schedule_slot ON Jobs (Type, ScheduleSlot);"
     "CREATE INDEX idx_jobs_status_create_at ON Jobs (Status, CreateAt);"
     "CREATE INDEX idx_jobs_type_create_at ON Jobs (Type, CreateAt);"
     "CREATE TABLE ComplianceExportCursor ("
     "  Name varchar(64) PRIMARY KEY, ExportedUntil bigint NOT NULL, JobId varchar(26) NOT NULL DEFAULT '',"
     "  UpdateAt bigint NOT NULL DEFAULT 0"
     ");"
     "INSERT INTO ComplianceExportCursor (Name, ExportedUntil) VALUES ('message_export', 0);"
     "CREATE INDEX idx_posts_create_at ON Posts (CreateAt)"},
    {7, "create OnlineUsers (which node holds sockets of which user: cluster-wide presence)",
     "CREATE TABLE OnlineUsers ("
     "  UserId varchar(26) NOT NULL, NodeId varchar(26) NOT NULL, PRIMARY KEY (UserId, NodeId)"
     ");"
     "CREATE INDEX idx_onlineusers_node_id ON OnlineUsers (NodeId)"},
    /* Mattermost's Preferences; Value is text, its length bounded (in runes)
     * by the model's check, not the column. */
    {8, "create Preferences (a user's settings, saved posts and tutorial steps by category and name)",
     "CREATE TABLE Preferences ("
     "  UserId varchar(26) NOT NULL, Category varchar(32) NOT NULL, Name varchar(32) NOT NULL,"
     "  Value text NOT NULL DEFAULT '', PRIMARY KEY (UserId, Category, Name)"
     ");"
     "CREATE INDEX idx_preferences_category ON Preferences (Category);"
     "CREATE INDEX idx_preferences_name ON Preferences (Name)"},
    /* Roles as Mattermost keeps them (Permissions space-separated), seeded
     * with its built-in roles and their default permissions (roles_default.h).
     * Ids are derived from the names, so that a role has the same id whichever
     * node's migration created it. */
    {9, "create Roles with Mattermost's default roles and permissions",
     "CREATE TABLE Roles ("
     "  Id varchar(26) PRIMARY KEY, Name varchar(64) NOT NULL UNIQUE, DisplayName varchar(128) NOT NULL DEFAULT '',"
     "  Description text NOT NULL DEFAULT '', CreateAt bigint NOT NULL, UpdateAt bigint NOT NULL,"
     "  DeleteAt bigint NOT NULL DEFAULT 0, Permissions text NOT NULL DEFAULT '',"
     "  SchemeManaged boolean NOT NULL DEFAULT false, BuiltIn boolean NOT NULL DEFAULT false"
     ");"
     "INSERT INTO Roles (Id, Name, DisplayName, Description, CreateAt, UpdateAt, Permissions, SchemeManaged, BuiltIn)"
     " SELECT substr(md5('chorus role ' || v.name), 1, 26), v.name, 'authentication.roles.' || v.key || '.name',"
     " 'authentication.roles.' || v.key || '.description', t.now, t.now, v.permissions, v.scheme_managed, v.built_in"
     " FROM (SELECT (extract(epoch FROM now()) * 1000)::bigint AS now) AS t, (VALUES"
     " ('system_admin', 'global_admin', '" ROLE_PERMISSIONS_ALL "', true, true),"
     " ('system_user', 'global_user', '" ROLE_PERMISSIONS_SYSTEM_USER "', true, true),"
     " ('system_guest', 'global_guest', '" ROLE_PERMISSIONS_SYSTEM_GUEST "', true, true),"
     " ('system_post_all', 'system_post_all', '" ROLE_PERMISSIONS_SYSTEM_POST_ALL "', false, true),"
     " ('system_post_all_public', 'system_post_all_public', '" ROLE_PERMISSIONS_SYSTEM_POST_ALL_PUBLIC
     "', false, true),"
     " ('system_user_access_token', 'system_user_access_token', '" ROLE_PERMISSIONS_SYSTEM_USER_ACCESS_TOKEN
     "', false, true),"
     " ('system_user_manager', 'system_user_manager', '" ROLE_PERMISSIONS_SYSTEM_USER_MANAGER "', false, true),"
     " ('system_read_only_admin', 'system_read_only_admin', '" ROLE_PERMISSIONS_SYSTEM_READ_ONLY_ADMIN
     "', false, true),"
     " ('system_manager', 'system_manager', '" ROLE_PERMISSIONS_SYSTEM_MANAGER "', false, true),"
     " ('system_custom_group_admin', 'system_custom_group_admin', '" ROLE_PERMISSIONS_SYSTEM_CUSTOM_GROUP_ADMIN
     "', false, true),"
     " ('system_shared_channel_manager', 'system_shared_channel_manager', "
     "'" ROLE_PERMISSIONS_SYSTEM_SHARED_CHANNEL_MANAGER "', false, true),"
     " ('team_admin', 'team_admin', '" ROLE_PERMISSIONS_TEAM_ADMIN "', true, true),"
     " ('team_user', 'team_user', '" ROLE_PERMISSIONS_TEAM_USER "', true, true),"
     " ('team_guest', 'team_guest', '" ROLE_PERMISSIONS_TEAM_GUEST "', true, true),"
     " ('team_post_all', 'team_post_all', '" ROLE_PERMISSIONS_TEAM_POST_ALL "', false, true),"
     " ('team_post_all_public', 'team_post_all_public', '" ROLE_PERMISSIONS_TEAM_POST_ALL_PUBLIC "', false, true),"
     " ('channel_admin', 'channel_admin', '" ROLE_PERMISSIONS_CHANNEL_ADMIN "', true, true),"
     " ('channel_user', 'channel_user', '" ROLE_PERMISSIONS_CHANNEL_USER "', true, true),"
     " ('channel_guest', 'channel_guest', '" ROLE_PERMISSIONS_CHANNEL_GUEST "', true, true),"
     " ('custom_group_user', 'custom_group_user', '" ROLE_PERMISSIONS_CUSTOM_GROUP_USER "', false, false)"
     " ) AS v (name, key, permissions, scheme_managed, built_in)"},
    /* Mattermost's root-post counters (collapsed threads count only roots)
     * and urgent mentions, filled from the posts already there: a member
     * who had read every post has read every root too. */
    {10, "unread counters of root posts and urgent mentions (TotalMsgCountRoot, MsgCountRoot...)",
     "ALTER TABLE Channels ADD COLUMN TotalMsgCountRoot bigint NOT NULL DEFAULT 0,"
     "  ADD COLUMN LastRootPostAt bigint NOT NULL DEFAULT 0;"
     "ALTER TABLE ChannelMembers ADD COLUMN MsgCountRoot bigint NOT NULL DEFAULT 0,"
     "  ADD COLUMN MentionCountRoot bigint NOT NULL DEFAULT 0, ADD COLUMN UrgentMentionCount bigint NOT NULL DEFAULT 0;"
     "UPDATE Channels c SET TotalMsgCountRoot = r.n, LastRootPostAt = r.last FROM"
     "  (SELECT ChannelId, count(*) AS n, max(CreateAt) AS last FROM Posts WHERE RootId = '' AND DeleteAt = 0"
     "   GROUP BY ChannelId) AS r WHERE r.ChannelId = c.Id;"
     "UPDATE ChannelMembers m SET MsgCountRoot = GREATEST(0, c.TotalMsgCountRoot - (c.TotalMsgCount - m.MsgCount))"
     "  FROM Channels c WHERE c.Id = m.ChannelId"},
    /* Mattermost's sidebar tables.  A default category's Id is
     * "<type>_<user id>_<team id>" (hence 128), so creating the defaults twice
     * at once makes one row.  SidebarChannels holds only what a user placed:
     * the Channels and Direct Messages categories list the rest themselves. */
    {11, "create SidebarCategories and SidebarChannels (each user's sidebar per team)",
     "CREATE TABLE SidebarCategories ("
     "  Id varchar(128) PRIMARY KEY, UserId varchar(26) NOT NULL, TeamId varchar(26) NOT NULL,"
     "  SortOrder bigint NOT NULL DEFAULT 0, Sorting varchar(64) NOT NULL DEFAULT '',"
     "  Type varchar(64) NOT NULL, DisplayName varchar(64) NOT NULL DEFAULT '',"
     "  Muted boolean NOT NULL DEFAULT false, Collapsed boolean NOT NULL DEFAULT false"
     ");"
     "CREATE INDEX idx_sidebarcategories_user_id_team_id ON SidebarCategories (UserId, TeamId);"
     "CREATE TABLE SidebarChannels ("
     "  ChannelId varchar(26) NOT NULL, UserId varchar(26) NOT NULL, CategoryId varchar(128) NOT NULL,"
     "  SortOrder bigint NOT NULL DEFAULT 0, PRIMARY KEY (ChannelId, UserId, CategoryId)"
     ");"
     "CREATE INDEX idx_sidebarchannels_category_id ON SidebarChannels (CategoryId)"},
    /* Channel stats count pinned posts on every channel switch: without it
     * that count reads every post of the channel. */
    {12, "index pinned posts (idx_posts_channel_id_pinned)",
     "CREATE INDEX idx_posts_channel_id_pinned ON Posts (ChannelId) WHERE IsPinned AND DeleteAt = 0"},
    /* Mattermost's Reactions (a removed reaction keeps its row, DeleteAt
     * set, and comes back by the same key) and Posts.HasReactions, which
     * spares the post lists a look into Reactions for posts without any. */
    {13, "create Reactions; Posts.HasReactions",
     "CREATE TABLE Reactions ("
     "  UserId varchar(26) NOT NULL, PostId varchar(26) NOT NULL, EmojiName varchar(64) NOT NULL,"
     "  CreateAt bigint NOT NULL, UpdateAt bigint NOT NULL, DeleteAt bigint NOT NULL DEFAULT 0,"
     "  RemoteId varchar(26) NOT NULL DEFAULT '', ChannelId varchar(26) NOT NULL DEFAULT '',"
     "  PRIMARY KEY (PostId, UserId, EmojiName)"
     ");"
     "CREATE INDEX idx_reactions_channel_id ON Reactions (ChannelId);"
     "ALTER TABLE Posts ADD COLUMN HasReactions boolean NOT NULL DEFAULT false"},
};

const unsigned migrations_count = sizeof(migrations) / sizeof(migrations[0]);
