/*
 * Counting users, for what the server says about itself: whether anyone
 * has an account yet (the client config's NoAccounts: the web app sends the
 * first visitor to sign up) and how many accounts are active (GET
 * /limits/server: not deactivated, bots excluded, as Mattermost counts).
 */
#ifndef CHORUS_STORE_USERS_COUNT_H
#define CHORUS_STORE_USERS_COUNT_H

/* One row, one boolean column. */
#define USERS_COUNT_SQL_ANY "SELECT EXISTS (SELECT 1 FROM Users)"
/* One row, one bigint column. */
#define USERS_COUNT_SQL_ACTIVE "SELECT count(*) FROM Users WHERE DeleteAt = 0 AND NOT IsBot"

#endif
