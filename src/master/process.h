/* The master's table of children and how one is started. */
#ifndef CHORUS_MASTER_PROCESS_H
#define CHORUS_MASTER_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/child.h" /* the control messages children send */

#define PROCESS_MAX 160

typedef enum { PROCESS_WORKER, PROCESS_MIGRATE, PROCESS_CLUSTER, PROCESS_JOBS, PROCESS_KINDS } process_kind_t;

typedef struct {
    pid_t pid; /* 0: free entry */
    process_kind_t kind;
    unsigned slot;
    unsigned generation;
    int ring_slot; /* -1 when it does not consume the ring */
    bool ready;
    bool retiring;
    int64_t started_ms;
} process_t;

typedef struct {
    process_t entries[PROCESS_MAX];
} process_table_t;

process_t *process_table_add(process_table_t *table);
/* The live entry after `after` (NULL: the first), or NULL: walks every child,
 *   for (process_t *p = NULL; (p = process_table_next(table, p)) != NULL;) */
process_t *process_table_next(process_table_t *table, process_t *after);
process_t *process_table_find(process_table_t *table, pid_t pid);
void process_table_remove(process_t *process);
unsigned process_table_count(const process_table_t *table, process_kind_t kind, int generation);

#endif
