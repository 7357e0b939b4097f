/* The child table is a fixed array: the master never allocates while it
 * supervises, and a table this small is scanned faster than it is indexed. */
#include "master/process.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

process_t *process_table_add(process_table_t *table)
{
    for (unsigned i = 0; i < PROCESS_MAX; i++) {
        if (table->entries[i].pid == 0) {
            memset(&table->entries[i], 0, sizeof(process_t));
            table->entries[i].ring_slot = -1;
            return &table->entries[i];
        }
    }
    return NULL;
}

process_t *process_table_find(process_table_t *table, pid_t pid)
{
    for (unsigned i = 0; i < PROCESS_MAX; i++)
        if (table->entries[i].pid == pid)
            return &table->entries[i];
    return NULL;
}

void process_table_remove(process_t *process)
{
    memset(process, 0, sizeof(*process));
    process->ring_slot = -1;
}

unsigned process_table_count(const process_table_t *table, process_kind_t kind, int generation)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PROCESS_MAX; i++) {
        const process_t *p = &table->entries[i];
        if (p->pid != 0 && p->kind == kind && (generation < 0 || p->generation == (unsigned)generation))
            n++;
    }
    return n;
}

process_t *process_table_next(process_table_t *table, process_t *after)
{
    process_t *end = table->entries + PROCESS_MAX;
    for (process_t *p = after != NULL ? after + 1 : table->entries; p < end; p++)
        if (p->pid != 0)
            return p;
    return NULL;
}
