/*
 * The messages and props of Mattermost's system posts (store/post_system.h),
 * by post type: app/channel.go's and app/team.go's post*Message functions,
 * the texts of i18n/en.json.
 */
#include "store/post_system.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* props templates (%1$s author, %2$s other user, %3$s/%4$s old/new value,
 * %5$s/%6$s the two user ids, all as JSON strings) */
#define PROPS_USERNAME "{\"username\":%1$s}"
#define PROPS_ADDED    "{\"userId\":%5$s,\"username\":%1$s,\"addedUserId\":%6$s,\"addedUsername\":%2$s}"

typedef struct {
    const char *type;
    const char *message; /* NULL: chosen by post_system_message from the values */
    const char *props;
} kind_t;

static const kind_t kinds[] = {
    /* the joiner or leaver writes it; "@" so that a mention stays one once they left */
    {"system_join_channel", "%1$s joined the channel.", PROPS_USERNAME},
    {"system_leave_channel", "@%1$s left the channel.", PROPS_USERNAME},
    /* the adder or remover writes it */
    {"system_add_to_channel", "%2$s added to the channel by %1$s.", PROPS_ADDED},
    {"system_remove_from_channel", "@%2$s removed from the channel.",
     "{\"removedUserId\":%6$s,\"removedUsername\":%2$s}"},
    {"system_header_change", NULL, "{\"username\":%1$s,\"old_header\":%3$s,\"new_header\":%4$s}"},
    {"system_purpose_change", NULL, "{\"username\":%1$s,\"old_purpose\":%3$s,\"new_purpose\":%4$s}"},
    {"system_displayname_change", "%1$s updated the channel display name from: %3$s to: %4$s",
     "{\"username\":%1$s,\"old_displayname\":%3$s,\"new_displayname\":%4$s}"},
    {"system_channel_deleted", "%1$s archived the channel.", PROPS_USERNAME},
    {"system_channel_restored", "%1$s unarchived the channel.", PROPS_USERNAME},
    {"system_change_chan_privacy", NULL, PROPS_USERNAME},
    /* team posts go to the team's town-square */
    {"system_join_team", "%1$s joined the team.", PROPS_USERNAME},
    {"system_leave_team", "%1$s left the team.", PROPS_USERNAME},
    {"system_add_to_team", "%2$s added to the team by %1$s.", PROPS_ADDED},
    /* written by the removed user, who is its only name */
    {"system_remove_from_team", "%1$s removed from the team.", PROPS_USERNAME},
};

static const kind_t *kind_of(const char *type)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    return NULL;
}

const char *post_system_message(const char *type, const char *old_value, const char *new_value)
{
    const kind_t *k = kind_of(type);
    if (k == NULL)
        return NULL;
    if (k->message != NULL)
        return k->message;
    if (strcmp(type, "system_change_chan_privacy") == 0)
        return strcmp(new_value, "O") == 0
                   ? "This channel has been converted to a Public Channel and can be joined by any team member."
                   : "This channel has been converted to a Private Channel.";
    bool header = strcmp(type, "system_header_change") == 0;
    if (old_value[0] == '\0')
        return header ? "%1$s updated the channel header to: %4$s" : "%1$s updated the channel purpose to: %4$s";
    if (new_value[0] == '\0')
        return header ? "%1$s removed the channel header (was: %3$s)" : "%1$s removed the channel purpose (was: %3$s)";
    return header ? "%1$s updated the channel header from: %3$s to: %4$s"
                  : "%1$s updated the channel purpose from: %3$s to: %4$s";
}

const char *post_system_props(const char *type)
{
    const kind_t *k = kind_of(type);
    return k != NULL ? k->props : NULL;
}
