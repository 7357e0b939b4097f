/* Jobs rows as Mattermost's Job JSON (store/job.h). */
#include "store/job.h"

#include "store/row.h"

json_t *job_to_json(const PGresult *res, int row)
{
    json_t *data = row_json(res, row, 8);
    if (!json_is_object(data)) {
        json_decref(data);
        data = json_object();
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:I, s:o}", "id", row_str(res, row, 0), "type",
                     row_str(res, row, 1), "priority", (json_int_t)row_int64(res, row, 2), "create_at",
                     (json_int_t)row_int64(res, row, 3), "start_at", (json_int_t)row_int64(res, row, 4),
                     "last_activity_at", (json_int_t)row_int64(res, row, 5), "status", row_str(res, row, 6), "progress",
                     (json_int_t)row_int64(res, row, 7), "data", data);
}
