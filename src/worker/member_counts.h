/*
 * The worker's cache of channel member counts (active users only), which
 * GET /channels/{id}/stats reads on every channel switch of the web app.
 * Counting a channel's members is a join over all of them; Mattermost keeps
 * the count in a cache too, invalidated when members change.
 *
 * Invalidation comes off the ring (worker/ring_consumer.c), from every node:
 * a channel's members changed → that channel; a team's members changed
 * (leaving a team leaves its channels), a user changed (deactivation counts)
 * or the ring overran → everything.  A load that started before an
 * invalidation must not store what it read: callers take a ticket when they
 * start loading and hand it back with the count.
 */
#ifndef CHORUS_WORKER_MEMBER_COUNTS_H
#define CHORUS_WORKER_MEMBER_COUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/id.h"

#define MEMBER_COUNTS_SLOTS 4096 /* a power of two */

typedef struct {
    char channel_id[ID_LENGTH + 1]; /* "" for a free slot */
    int64_t count;
} member_count_entry_t;

typedef struct member_counts_s {
    member_count_entry_t slots[MEMBER_COUNTS_SLOTS];
    uint64_t generation; /* bumped by every invalidation */
    uint64_t hits, misses;
} member_counts_t;

/* The cached count of `channel_id`, when there is one. */
bool member_counts_get(member_counts_t *mc, const char *channel_id, int64_t *count);
/* What a load hands back to member_counts_put. */
uint64_t member_counts_ticket(const member_counts_t *mc);
/* Stores `count`, unless something was invalidated since `ticket`. */
void member_counts_put(member_counts_t *mc, const char *channel_id, int64_t count, uint64_t ticket);
void member_counts_forget(member_counts_t *mc, const char *channel_id);
void member_counts_forget_all(member_counts_t *mc);

#endif
