/*
 * Length-prefixed frames on a streaming link: u32 big-endian length, then
 * that many bytes (a sealed envelope, seal.h).  The reader is incremental
 * and bounded: it accepts whatever a read() returned, hands out whole frames
 * and refuses a declared length above its maximum before buffering any of
 * it, so a peer can never make a link hold more than one maximum frame.  Its
 * buffer grows with the bytes that actually arrive: a connection that has
 * sent nothing holds nothing, one that sent a hello holds a few KiB.
 */
#ifndef CHORUS_CLUSTER_FRAME_H
#define CHORUS_CLUSTER_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER_SIZE 4

#define FRAME_READER_INITIAL 4096 /* the buffer's first size: a hello fits */

typedef struct {
    uint8_t *buf;    /* NULL until the first bytes arrive */
    size_t len, cap; /* cap: allocated, grown by doubling up to limit */
    size_t limit;    /* FRAME_HEADER_SIZE + max_frame */
    size_t max_frame;
    size_t consumed; /* bytes of buf already handed out as frames */
    size_t checked;  /* end of the frames whose header was checked (may pass len) */
} frame_reader_t;

/* 0 or -EINVAL (max_frame 0 or past 4 GiB); allocates nothing. */
int frame_reader_init(frame_reader_t *reader, size_t max_frame);
void frame_reader_dispose(frame_reader_t *reader);

/* Appends received bytes; takes at most what fits in one maximum frame
 * (*taken set).  0, or -EMSGSIZE when a declared frame length exceeds
 * max_frame (the link must be closed), -EINVAL on a zero-length frame, or
 * -ENOMEM when the buffer could not grow (nothing taken). */
int frame_reader_feed(frame_reader_t *reader, const uint8_t *data, size_t len, size_t *taken);

/* 1 and the next whole frame (valid until the next feed), or 0 (need more). */
int frame_reader_next(frame_reader_t *reader, uint8_t **frame, size_t *len);

/* Writes the 4-byte header for a frame of `len` bytes. */
void frame_write_header(uint8_t out[FRAME_HEADER_SIZE], uint32_t len);

#endif
