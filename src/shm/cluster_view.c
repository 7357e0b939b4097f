/*
 * shm/cluster_view.c - the cluster view: one writer, many readers, a seqlock.
 *
 * The cluster child is the only writer; workers read the view for
 * GET /api/v4/cluster/status and the ping's cluster health.  Readers must never
 * block the writer (gossip timing depends on it) and the writer must never wait
 * for readers (a worker may be SIGKILLed while reading), so a lock is wrong
 * here and a seqlock is right: readers copy and check that nothing moved.
 *
 * Protocol (the Linux kernel's, in C11 terms, after Boehm's "Can seqlocks get
 * along with programming language memory models?"):
 *
 *   writer: seq = odd (relaxed); release fence; write data; seq = even (release)
 *   reader: s1 = seq (acquire); copy data; acquire fence; s2 = seq (relaxed);
 *           the copy is good when s1 == s2 and s1 is even.
 *
 * The release fence keeps the data stores from being seen before the odd seq;
 * the final release store keeps them from being seen after the even one.  On
 * the reader side the acquire load keeps the copy from starting before s1 is
 * read, and the acquire fence keeps it from finishing after s2 is read.
 *
 * A writer that dies mid-write leaves seq odd forever.  Readers therefore
 * retry only for a bounded time (CLUSTER_VIEW_READ_BUDGET_NS) and then answer
 * -EAGAIN: the view is unavailable, which callers show as "red".  The next
 * writer (the respawned cluster child) starts from whatever it finds: an odd
 * seq is moved two steps, to a different odd value, so a reader that sampled
 * the dead writer's odd seq can never mistake the new write for it.
 *
 * Only the `count` members in use are copied, both ways: a two-node cluster
 * moves a few kilobytes, not the whole table.  The reader clamps the count it
 * copies with, since it may read a torn one (the seq check then rejects the
 * copy anyway).  Members past `count` in a reader's copy are left as they were.
 */
#include "shm/cluster_view.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

/* How long a reader keeps retrying a view that is being written: long enough
 * for any live writer (a publish copies at most ~90 KB), short enough that a
 * worker's event loop does not notice a dead one. */
#define CLUSTER_VIEW_READ_BUDGET_NS (2 * 1000 * 1000)
/* Tries spent spinning before the clock is consulted and the CPU yielded. */
#define CLUSTER_VIEW_SPIN_TRIES 16

/* Bytes of `data` in use: the header fields and `count` members. */
static size_t used_bytes(uint32_t count)
{
    if (count > CLUSTER_VIEW_MEMBERS_MAX)
        count = CLUSTER_VIEW_MEMBERS_MAX;
    return offsetof(cluster_view_data_t, members) + (size_t)count * sizeof(cluster_view_member_t);
}

size_t cluster_view_footprint(void)
{
    return sizeof(cluster_view_t);
}

void cluster_view_init(cluster_view_t *view)
{
    memset(&view->data, 0, sizeof(view->data));
    memset(&view->streams, 0, sizeof(view->streams));
    __atomic_store_n(&view->seq, 0, __ATOMIC_RELEASE);
}

void cluster_view_publish(cluster_view_t *view, const cluster_view_data_t *data)
{
    uint64_t seq = __atomic_load_n(&view->seq, __ATOMIC_RELAXED);
    /* odd: a previous writer died mid-write; skip to the next odd value */
    uint64_t writing = (seq & 1) ? seq + 2 : seq + 1;

    __atomic_store_n(&view->seq, writing, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(&view->data, data, used_bytes(data->count));
    if (view->data.count > CLUSTER_VIEW_MEMBERS_MAX)
        view->data.count = CLUSTER_VIEW_MEMBERS_MAX; /* readers trust it after a good read */
    __atomic_store_n(&view->seq, writing + 1, __ATOMIC_RELEASE);
}

static int64_t mono_ns(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail with a valid pointer */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One attempt: 0 with a consistent copy, -EAGAIN when the writer was busy. */
static int read_once(const cluster_view_t *view, cluster_view_data_t *copy)
{
    uint64_t s1 = __atomic_load_n(&view->seq, __ATOMIC_ACQUIRE), s2;
    uint32_t count;

    if (s1 & 1)
        return -EAGAIN;
    memcpy(copy, &view->data, offsetof(cluster_view_data_t, members));
    count = copy->count > CLUSTER_VIEW_MEMBERS_MAX ? CLUSTER_VIEW_MEMBERS_MAX : copy->count;
    memcpy(copy->members, view->data.members, (size_t)count * sizeof(cluster_view_member_t));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    s2 = __atomic_load_n(&view->seq, __ATOMIC_RELAXED);
    if (s1 != s2)
        return -EAGAIN;
    copy->count = count;
    return 0;
}

int cluster_view_read(const cluster_view_t *view, cluster_view_data_t *copy)
{
    int64_t deadline = 0;

    for (unsigned tries = 0;; tries++) {
        if (read_once(view, copy) == 0)
            return 0;
        if (tries < CLUSTER_VIEW_SPIN_TRIES)
            continue;
        if (deadline == 0)
            deadline = mono_ns() + CLUSTER_VIEW_READ_BUDGET_NS;
        else if (mono_ns() >= deadline)
            return -EAGAIN;
        /* the writer may be on this very CPU: let it finish */
        (void)sched_yield();
    }
}

int cluster_view_read_published(const cluster_view_t *view, cluster_view_data_t *copy)
{
    if (view == NULL)
        return -EAGAIN;
    int rc = cluster_view_read(view, copy);
    if (rc == 0 && copy->updated_at == 0)
        return -EAGAIN;
    return rc;
}
