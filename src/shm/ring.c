/*
 * shm/ring.c - broadcast event ring in the shared region.
 *
 * What it owns. A byte ring (data area of `capacity` bytes, a power of two) inside the
 * shared region, the robust lock that serialises producers, and the consumer slot table
 * (pid + attached flag per eventfd slot) that the master maintains. Any process may
 * produce; every attached consumer sees every record, through its own private cursor.
 * Nothing in the ring is a pointer: the data area is found through `data_offset`.
 *
 * Positions. Producers append at a monotonically increasing 64-bit logical position;
 * the byte for position p lives at data[p & (capacity - 1)]. A record is a 16-byte header
 * (len, type, mark, seq) followed by the payload, padded to 8 bytes; it wraps around the
 * end of the data area (header and payload are copied in two parts when needed). 2^64
 * bytes never wrap in practice, so positions and sequence numbers are compared directly.
 *
 * The published head. The pair (head seq, head pos) names the last complete record and
 * where the next one starts. It is published through `head_seq` (one 64-bit word, release
 * store) and two snapshot slots: snap[s & 1] holds {s, pos after record s}. A producer
 * about to publish s+1 rewrites only snap[(s+1) & 1] (marking it invalid first, seqlock
 * style), then stores head_seq = s+1. A reader loads head_seq, then reads snap[s & 1] and
 * accepts it only if its seq is s before and after reading pos. The slot `head_seq` points
 * to is never being written, so a producer killed anywhere in this sequence leaves readers
 * a valid head; they never spin on a dead process.
 *
 * The reserve watermark. Before writing a single byte a producer raises `reserve_pos` to
 * the end of its record (it never lowers it). Writing position p destroys the bytes of
 * position p - capacity, so every byte below reserve_pos - capacity may be overwritten,
 * now or by an append in flight, and every byte at or above it is intact. Readers are
 * lock-free: they copy a record (header, then payload) out of the ring and only then
 * check, after an acquire fence, that reserve_pos - record start <= capacity. If not, the
 * copy may be torn: the reader reports SHM_RING_EOVERRUN and jumps to the head, so it
 * never returns torn data. (This is the Linux seqlock read pattern with memcpy() as the
 * read side; the release fence after the reserve store and the acquire fence before the
 * re-check order the plain data accesses on every architecture GCC targets.)
 *
 * Crash invariant (why the EOWNERDEAD repair has nothing to undo). A producer that dies
 * inside publish leaves: head_seq and snap[head_seq & 1] intact (the record is either
 * fully published or not at all); possibly some bytes written at or after the head, which
 * no reader reads before a later producer rewrites them; and reserve_pos raised past
 * them, which keeps readers from trusting older bytes those writes may have destroyed.
 * The next producer starts again at the published head and keeps the larger reserve.
 * shm_ring_repair() therefore only counts the event. A producer that dies after
 * publishing but before writing the eventfds leaves that record unannounced until the
 * next publish wakes the consumers; consumers that need a bound on that delay compare
 * shm_ring_head_seq() with their cursor on a timer.
 *
 * Trade-offs. Producers serialise on one lock and copy under it (records are small;
 * 64 KiB at most). Readers never block producers and a slow reader is simply lapped: it
 * must resynchronise (drop caches, close WebSockets) instead of applying back-pressure.
 * The reserve check is conservative after a producer crash (a reader up to one record
 * less than a full ring behind may be told it overran). Notification is one eventfd
 * write per attached consumer per record; consumers drain their eventfd before reading,
 * so a wakeup is never lost.
 */
#include "shm/ring.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SHM_RING_MAGIC        0x474e4952524f4843ULL /* "CHORRING" */
#define SHM_RING_REC_MARK     0x5243u
#define SHM_RING_SNAP_INVALID UINT64_MAX
#define SHM_RING_ALIGN        64u

typedef struct {
    uint32_t len;
    uint16_t type;
    uint16_t mark;
    uint64_t seq;
} shm_ring_rec_t;

_Static_assert(sizeof(shm_ring_rec_t) == 16, "record header is 16 bytes");

typedef struct {
    uint64_t seq;
    uint64_t pos;
} shm_ring_snap_t;

typedef struct {
    int32_t pid;
    uint32_t attached;
} shm_ring_slot_t;

struct shm_ring_s {
    /* Immutable after shm_ring_init(). */
    uint64_t magic;
    uint64_t capacity;
    uint64_t mask;
    uint64_t data_offset;

    /* Published head and watermark: stored by the producer holding the lock, loaded by
     * every reader. */
    uint64_t head_seq __attribute__((aligned(SHM_RING_ALIGN)));
    uint64_t reserve_pos;
    shm_ring_snap_t snap[2];

    /* Statistics (atomic adds) and the producer lock. */
    uint64_t repairs __attribute__((aligned(SHM_RING_ALIGN)));
    uint64_t notify_errors;
    shm_lock_t lock;

    /* Written by the master only. */
    shm_ring_slot_t slots[SHM_RING_CONSUMERS_MAX] __attribute__((aligned(SHM_RING_ALIGN)));
};

#define RING_HEADER_SIZE ((sizeof(struct shm_ring_s) + SHM_RING_ALIGN - 1) & ~(size_t)(SHM_RING_ALIGN - 1))

static int ring_capacity_valid(size_t capacity)
{
    return capacity >= SHM_RING_CAPACITY_MIN && (capacity & (capacity - 1)) == 0 &&
           capacity <= (SIZE_MAX - RING_HEADER_SIZE);
}

size_t shm_ring_footprint(size_t capacity)
{
    if (!ring_capacity_valid(capacity))
        return 0;
    return RING_HEADER_SIZE + capacity;
}

size_t shm_ring_record_size(size_t len)
{
    return sizeof(shm_ring_rec_t) + ((len + 7) & ~(size_t)7);
}

int shm_ring_init(void *mem, size_t capacity)
{
    shm_ring_t *ring = mem;
    int rc;

    if (ring == NULL || ((uintptr_t)mem & (SHM_RING_ALIGN - 1)) != 0 || !ring_capacity_valid(capacity))
        return -EINVAL;
    memset(ring, 0, sizeof(*ring));
    ring->capacity = capacity;
    ring->mask = capacity - 1;
    ring->data_offset = RING_HEADER_SIZE;
    ring->snap[0].seq = 0; /* head_seq 0 -> snap[0] = {0, 0} */
    ring->snap[1].seq = SHM_RING_SNAP_INVALID;
    rc = shm_lock_init(&ring->lock);
    if (rc < 0)
        return rc;
    __atomic_store_n(&ring->magic, SHM_RING_MAGIC, __ATOMIC_RELEASE);
    return 0;
}

/* ---- Eventfds ------------------------------------------------------------------- */

int shm_ring_eventfds_create(int efds[SHM_RING_CONSUMERS_MAX])
{
    int i, err;

    for (i = 0; i < SHM_RING_CONSUMERS_MAX; i++)
        efds[i] = -1;
    for (i = 0; i < SHM_RING_CONSUMERS_MAX; i++) {
        /* Nonblocking: producers must never block on a consumer and consumers drain with
         * EAGAIN. Close-on-exec: children are forked, never exec'd; anything exec'd
         * (helpers) must not inherit them. */
        efds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (efds[i] < 0) {
            err = errno;
            shm_ring_eventfds_close(efds);
            return -err;
        }
    }
    return 0;
}

void shm_ring_eventfds_close(int efds[SHM_RING_CONSUMERS_MAX])
{
    int i;

    for (i = 0; i < SHM_RING_CONSUMERS_MAX; i++) {
        if (efds[i] >= 0)
            (void)close(efds[i]); /* on Linux the fd is gone even on EINTR */
        efds[i] = -1;
    }
}

int shm_ring_drain_eventfd(int efd)
{
    uint64_t value;
    ssize_t n;

    do {
        n = read(efd, &value, sizeof(value));
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN ? 0 : -errno;
    if (n != (ssize_t)sizeof(value))
        return -EIO;
    return 0;
}

/* ---- Consumer slots (master) ----------------------------------------------------- */

int shm_ring_consumer_attach(shm_ring_t *ring, unsigned slot, pid_t pid)
{
    if (ring == NULL || slot >= SHM_RING_CONSUMERS_MAX || pid <= 0)
        return -EINVAL;
    if (__atomic_load_n(&ring->slots[slot].attached, __ATOMIC_ACQUIRE))
        return -EBUSY;
    __atomic_store_n(&ring->slots[slot].pid, (int32_t)pid, __ATOMIC_RELAXED);
    __atomic_store_n(&ring->slots[slot].attached, 1, __ATOMIC_RELEASE);
    return 0;
}

void shm_ring_consumer_detach(shm_ring_t *ring, unsigned slot)
{
    if (ring == NULL || slot >= SHM_RING_CONSUMERS_MAX)
        return;
    __atomic_store_n(&ring->slots[slot].attached, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&ring->slots[slot].pid, 0, __ATOMIC_RELAXED);
}

int shm_ring_consumer_find_free(shm_ring_t *ring)
{
    int i;

    if (ring == NULL)
        return -EINVAL;
    for (i = 0; i < SHM_RING_CONSUMERS_MAX; i++)
        if (!__atomic_load_n(&ring->slots[i].attached, __ATOMIC_ACQUIRE))
            return i;
    return -ENOSPC;
}

pid_t shm_ring_consumer_pid(shm_ring_t *ring, unsigned slot)
{
    if (ring == NULL || slot >= SHM_RING_CONSUMERS_MAX ||
        !__atomic_load_n(&ring->slots[slot].attached, __ATOMIC_ACQUIRE))
        return 0;
    return (pid_t)__atomic_load_n(&ring->slots[slot].pid, __ATOMIC_RELAXED);
}

/* ---- Data area ------------------------------------------------------------------- */

static uint8_t *ring_data(shm_ring_t *ring)
{
    return (uint8_t *)ring + ring->data_offset;
}

static void ring_copy_in(shm_ring_t *ring, uint64_t pos, const void *src, size_t n)
{
    size_t off = (size_t)(pos & ring->mask);
    size_t first = ring->capacity - off;

    if (n == 0)
        return;
    if (first > n)
        first = n;
    memcpy(ring_data(ring) + off, src, first);
    if (n > first)
        memcpy(ring_data(ring), (const uint8_t *)src + first, n - first);
}

static void ring_copy_out(shm_ring_t *ring, uint64_t pos, void *dst, size_t n)
{
    size_t off = (size_t)(pos & ring->mask);
    size_t first = ring->capacity - off;

    if (n == 0)
        return;
    if (first > n)
        first = n;
    memcpy(dst, ring_data(ring) + off, first);
    if (n > first)
        memcpy((uint8_t *)dst + first, ring_data(ring), n - first);
}

/* Consistent (seq, pos) of the published head; lock-free, see the file comment. */
static void ring_head(shm_ring_t *ring, uint64_t *seq, uint64_t *pos)
{
    for (;;) {
        uint64_t s = __atomic_load_n(&ring->head_seq, __ATOMIC_ACQUIRE);
        shm_ring_snap_t *snap = &ring->snap[s & 1];
        uint64_t q1 = __atomic_load_n(&snap->seq, __ATOMIC_ACQUIRE);
        uint64_t p = __atomic_load_n(&snap->pos, __ATOMIC_RELAXED);
        uint64_t q2;

        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        q2 = __atomic_load_n(&snap->seq, __ATOMIC_RELAXED);
        if (q1 == s && q2 == s) {
            *seq = s;
            *pos = p;
            return;
        }
        /* A producer rewrote this slot twice while we looked: it is alive and ahead. */
    }
}

/* Whether bytes from `pos` on may have been overwritten (call after an acquire fence). */
static int ring_lapped(shm_ring_t *ring, uint64_t pos)
{
    uint64_t reserve = __atomic_load_n(&ring->reserve_pos, __ATOMIC_RELAXED);

    return reserve - pos > ring->capacity;
}

/* ---- Producers ------------------------------------------------------------------- */

void shm_ring_repair(void *arg)
{
    shm_ring_t *ring = arg;
    uint64_t seq, pos;

    /* Nothing to undo (see "Crash invariant"). Defensive only: the watermark is never
     * below the published head; if it ever were, readers would trust overwritten bytes. */
    seq = __atomic_load_n(&ring->head_seq, __ATOMIC_RELAXED);
    pos = __atomic_load_n(&ring->snap[seq & 1].pos, __ATOMIC_RELAXED);
    if (__atomic_load_n(&ring->reserve_pos, __ATOMIC_RELAXED) < pos)
        __atomic_store_n(&ring->reserve_pos, pos, __ATOMIC_RELAXED);
    __atomic_add_fetch(&ring->repairs, 1, __ATOMIC_RELAXED);
}

/* Under the lock: write record `seq` at `pos`, then publish it. */
static void ring_append(shm_ring_t *ring, uint64_t seq, uint64_t pos, uint16_t type, const void *data, size_t len)
{
    uint64_t end = pos + shm_ring_record_size(len);
    shm_ring_snap_t *snap = &ring->snap[seq & 1];
    shm_ring_rec_t rec = {.len = (uint32_t)len, .type = type, .mark = SHM_RING_REC_MARK, .seq = seq};

    /* 1. Raise the watermark before destroying a single old byte. */
    if (__atomic_load_n(&ring->reserve_pos, __ATOMIC_RELAXED) < end)
        __atomic_store_n(&ring->reserve_pos, end, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);

    /* 2. The bytes. */
    ring_copy_in(ring, pos, &rec, sizeof(rec));
    ring_copy_in(ring, pos + sizeof(rec), data, len);

    /* 3. The snapshot slot head_seq does not point to, seqlock style. */
    __atomic_store_n(&snap->seq, SHM_RING_SNAP_INVALID, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&snap->pos, end, __ATOMIC_RELAXED);
    __atomic_store_n(&snap->seq, seq, __ATOMIC_RELEASE);

    /* 4. Publish. */
    __atomic_store_n(&ring->head_seq, seq, __ATOMIC_RELEASE);
}

static void ring_notify(shm_ring_t *ring, const int *efds)
{
    static const uint64_t one = 1;
    unsigned i;
    ssize_t n;

    for (i = 0; i < SHM_RING_CONSUMERS_MAX; i++) {
        if (!__atomic_load_n(&ring->slots[i].attached, __ATOMIC_ACQUIRE) || efds[i] < 0)
            continue;
        do {
            n = write(efds[i], &one, sizeof(one));
        } while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN)
            __atomic_add_fetch(&ring->notify_errors, 1, __ATOMIC_RELAXED);
    }
}

int shm_ring_publish(shm_ring_t *ring, const int *efds, uint16_t type, const void *data, size_t len, uint64_t *seq_out)
{
    uint64_t seq, pos;
    int rc;

    if (ring == NULL || (data == NULL && len > 0))
        return -EINVAL;
    if (len > SHM_RING_RECORD_MAX)
        return -EMSGSIZE;

    rc = shm_lock_acquire(&ring->lock, shm_ring_repair, ring);
    if (rc < 0)
        return rc;
    seq = __atomic_load_n(&ring->head_seq, __ATOMIC_RELAXED);
    pos = __atomic_load_n(&ring->snap[seq & 1].pos, __ATOMIC_RELAXED);
    seq++;
    ring_append(ring, seq, pos, type, data, len);
    shm_lock_release(&ring->lock);

    if (seq_out != NULL)
        *seq_out = seq;
    if (efds != NULL)
        ring_notify(ring, efds);
    return 0;
}

/* ---- Consumers ------------------------------------------------------------------- */

void shm_ring_cursor_init(shm_ring_t *ring, shm_ring_cursor_t *cursor)
{
    if (ring == NULL || cursor == NULL)
        return;
    ring_head(ring, &cursor->seq, &cursor->pos);
}

int shm_ring_read(shm_ring_t *ring, shm_ring_cursor_t *cursor, uint16_t *type, void *buf, size_t *len, uint64_t *seq)
{
    shm_ring_rec_t rec;
    uint64_t head, pos;

    if (ring == NULL || cursor == NULL || type == NULL || buf == NULL || len == NULL || seq == NULL)
        return -EINVAL;

    head = __atomic_load_n(&ring->head_seq, __ATOMIC_ACQUIRE);
    if (head == cursor->seq)
        return 0;
    if (head < cursor->seq)
        goto corrupt;
    /* Record cursor->seq + 1 is complete at cursor->pos (published before head_seq). */
    pos = cursor->pos;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (ring_lapped(ring, pos))
        goto overrun;

    ring_copy_out(ring, pos, &rec, sizeof(rec));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (ring_lapped(ring, pos))
        goto overrun; /* the header may be torn: do not even look at it */
    if (rec.mark != SHM_RING_REC_MARK || rec.seq != cursor->seq + 1 || rec.len > SHM_RING_RECORD_MAX)
        goto corrupt;

    ring_copy_out(ring, pos + sizeof(rec), buf, rec.len);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (ring_lapped(ring, pos))
        goto overrun;

    *type = rec.type;
    *len = rec.len;
    *seq = rec.seq;
    cursor->seq = rec.seq;
    cursor->pos = pos + shm_ring_record_size(rec.len);
    return 1;

overrun:
    ring_head(ring, &cursor->seq, &cursor->pos);
    return SHM_RING_EOVERRUN;
corrupt:
    ring_head(ring, &cursor->seq, &cursor->pos);
    return -EPROTO;
}

int shm_ring_read_at(shm_ring_t *ring, uint64_t pos, uint64_t expected_seq, uint16_t *type, void *buf, size_t *len)
{
    shm_ring_cursor_t cursor = {expected_seq - 1, pos};
    uint64_t seq;
    if (expected_seq == 0)
        return -EINVAL;
    int rc = shm_ring_read(ring, &cursor, type, buf, len, &seq);
    return rc == 1 ? 1 : rc == 0 ? -ENOENT : rc;
}

/* ---- Introspection --------------------------------------------------------------- */

uint64_t shm_ring_head_seq(shm_ring_t *ring)
{
    return __atomic_load_n(&ring->head_seq, __ATOMIC_ACQUIRE);
}

size_t shm_ring_capacity(shm_ring_t *ring)
{
    return (size_t)ring->capacity;
}

void shm_ring_stats(shm_ring_t *ring, shm_ring_stats_t *stats)
{
    ring_head(ring, &stats->head_seq, &stats->head_pos);
    stats->reserve_pos = __atomic_load_n(&ring->reserve_pos, __ATOMIC_ACQUIRE);
    stats->repairs = __atomic_load_n(&ring->repairs, __ATOMIC_RELAXED);
    stats->notify_errors = __atomic_load_n(&ring->notify_errors, __ATOMIC_RELAXED);
}

shm_lock_t *shm_ring_lock(shm_ring_t *ring)
{
    return &ring->lock;
}

const shm_ring_mark_t *shm_ring_mark_pick(const shm_ring_mark_t *marks, size_t n, int64_t now, int64_t age_ms)
{
    const shm_ring_mark_t *best = NULL, *oldest = NULL;
    for (size_t i = 0; i < n; i++) {
        const shm_ring_mark_t *m = &marks[i];
        if (m->at == 0)
            continue;
        if (oldest == NULL || m->at < oldest->at)
            oldest = m;
        if (now - m->at >= age_ms && (best == NULL || m->at > best->at))
            best = m;
    }
    return best != NULL ? best : oldest;
}
