/*
 * Channel member counts: an open-addressed table keyed by channel id.  A
 * slot collision replaces the older entry (a cache may forget), so there is
 * no probing and forgetting one channel is clearing its one slot.
 */
#include "worker/member_counts.h"

#include <string.h>

static member_count_entry_t *slot_of(member_counts_t *mc, const char *channel_id)
{
    uint32_t h = 2166136261u; /* FNV-1a over the id */
    for (const char *p = channel_id; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &mc->slots[h & (MEMBER_COUNTS_SLOTS - 1)];
}

bool member_counts_get(member_counts_t *mc, const char *channel_id, int64_t *count)
{
    const member_count_entry_t *e = slot_of(mc, channel_id);
    if (e->channel_id[0] == '\0' || strcmp(e->channel_id, channel_id) != 0) {
        mc->misses++;
        return false;
    }
    mc->hits++;
    *count = e->count;
    return true;
}

uint64_t member_counts_ticket(const member_counts_t *mc)
{
    return mc->generation;
}

void member_counts_put(member_counts_t *mc, const char *channel_id, int64_t count, uint64_t ticket)
{
    if (ticket != mc->generation || strlen(channel_id) != ID_LENGTH)
        return;
    member_count_entry_t *e = slot_of(mc, channel_id);
    memcpy(e->channel_id, channel_id, ID_LENGTH + 1);
    e->count = count;
}

void member_counts_forget(member_counts_t *mc, const char *channel_id)
{
    mc->generation++;
    member_count_entry_t *e = slot_of(mc, channel_id);
    if (strcmp(e->channel_id, channel_id) == 0)
        e->channel_id[0] = '\0';
}

void member_counts_forget_all(member_counts_t *mc)
{
    mc->generation++;
    for (unsigned i = 0; i < MEMBER_COUNTS_SLOTS; i++)
        mc->slots[i].channel_id[0] = '\0';
}
