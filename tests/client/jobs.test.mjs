// The jobs API through @mattermost/client: createJob, getJob, getJobs,
// getJobsByType, cancelJob, every error they can give, and jobs run to their
// end by the node's jobs child.  The node runs the shipped config: data
// retention and compliance are off there, so those jobs must end in error
// with the reason, and nothing is deleted; search_index_rebuild runs for
// real.  Deletions, exports and cancels mid-run are in
// tests/integration/test_jobs.sh, which controls the config and the database.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {T, admin, clientError, newUser, sleep} from './lib.mjs';

const PERMISSIONS = 'api.context.permissions.app_error';
const NOT_FOUND = 'app.job.get.app_error';
const BAD_TYPE = 'api.job.unable_to_create_job.incorrect_job_type';
const BAD_BODY = 'api.context.invalid_body_param.app_error';
const CANNOT_CANCEL = 'jobs.request_cancellation.status.error';
const FINAL = ['success', 'error', 'canceled'];
const RUN = {timeout: 60000};

// Polls getJob until the job reaches a final status.
async function finished(c, id, ms = 45000) {
    const end = Date.now() + ms;
    for (;;) {
        const job = await c.getJob(id);
        if (FINAL.includes(job.status)) {
            return job;
        }
        if (Date.now() > end) {
            assert.fail(`job ${id} still ${job.status} after ${ms} ms`);
        }
        await sleep(200);
    }
}

function assertJobShape(job) {
    for (const k of ['id', 'type', 'status', 'data']) {
        assert.ok(k in job, `job has ${k}`);
    }
    for (const k of ['priority', 'create_at', 'start_at', 'last_activity_at', 'progress']) {
        assert.equal(typeof job[k], 'number', `${k} is a number`);
    }
    assert.equal(job.id.length, 26);
    assert.equal(typeof job.data, 'object');
}

test('createJob: 201 pending job, data kept as a string map', T, async () => {
    const {client: a} = await admin();
    const job = await a.createJob({type: 'search_index_rebuild', data: {reason: 'test, "quoted"'}});
    assertJobShape(job);
    assert.equal(job.type, 'search_index_rebuild');
    assert.equal(job.status, 'pending');
    assert.equal(job.progress, 0);
    assert.equal(job.start_at, 0);
    assert.deepEqual(job.data, {reason: 'test, "quoted"'});
    assert.ok(Math.abs(job.create_at - Date.now()) < 60000, 'create_at is now, in ms');
    await finished(a, job.id);
});

test('createJob: unknown or missing type is 400 incorrect_job_type, for anyone', T, async () => {
    const {client: a} = await admin();
    const {client: u} = await newUser('jobs');
    await clientError(a.createJob({type: 'no_such_job'}), 400, BAD_TYPE);
    await clientError(a.createJob({data: {}}), 400, BAD_TYPE);
    await clientError(a.createJob({type: ''}), 400, BAD_TYPE);
    await clientError(u.createJob({type: 'no_such_job'}), 400, BAD_TYPE);
});

test('createJob: malformed body or data is 400 invalid_body_param', T, async () => {
    const {client: a} = await admin();
    await clientError(a.createJob({type: 'data_retention', data: {n: 1}}), 400, BAD_BODY);
    await clientError(a.createJob({type: 'data_retention', data: ['x']}), 400, BAD_BODY);
    await clientError(a.createJob({type: 'data_retention', data: 'x'}), 400, BAD_BODY);
    await clientError(a.createJob({type: 7}), 400, BAD_BODY);
    await clientError(a.doFetch(`${a.getJobsRoute()}`, {method: 'post', body: '{"type":'}), 400, BAD_BODY);
});

test('jobs are for system admins: 403 for a plain user', T, async () => {
    const {client: a} = await admin();
    const {client: u} = await newUser('jobs');
    const job = await a.createJob({type: 'search_index_rebuild'});
    await clientError(u.createJob({type: 'search_index_rebuild'}), 403, PERMISSIONS);
    await clientError(u.createJob({type: 'data_retention'}), 403, PERMISSIONS);
    await clientError(u.getJobs(), 403, PERMISSIONS);
    await clientError(u.getJobsByType('message_export'), 403, PERMISSIONS);
    await clientError(u.getJob(job.id), 403, PERMISSIONS);
    await clientError(u.cancelJob(job.id), 403, PERMISSIONS);
    await finished(a, job.id);
});

test('getJob / cancelJob: unknown id is 404, malformed id 400', T, async () => {
    const {client: a} = await admin();
    const {client: u} = await newUser('jobs');
    const missing = 'abcdefghijkmnopqrstuwxyz12';
    await clientError(a.getJob(missing), 404, NOT_FOUND);
    await clientError(a.cancelJob(missing), 404, NOT_FOUND);
    await clientError(u.getJob(missing), 404, NOT_FOUND);
    await clientError(a.getJob('short'), 400, 'api.context.invalid_url_param.app_error');
    await clientError(a.cancelJob('short'), 400, 'api.context.invalid_url_param.app_error');
});

test('getJobsByType: only that type, newest first; an unknown type is 400', T, async () => {
    const {client: a} = await admin();
    const first = await a.createJob({type: 'search_index_rebuild'});
    const second = await a.createJob({type: 'search_index_rebuild'});
    const jobs = await a.getJobsByType('search_index_rebuild', 0, 200);
    assert.ok(jobs.every((j) => j.type === 'search_index_rebuild'));
    const ids = jobs.map((j) => j.id);
    assert.ok(ids.indexOf(second.id) >= 0 && ids.indexOf(second.id) < ids.indexOf(first.id), 'newest first');
    for (let i = 1; i < jobs.length; i++) {
        assert.ok(jobs[i - 1].create_at >= jobs[i].create_at);
    }
    await clientError(a.getJobsByType('no_such_job'), 400, 'api.job.retrieve.nopermissions');
    await finished(a, first.id);
    await finished(a, second.id);
});

test('getJobs: every type, paged', T, async () => {
    const {client: a} = await admin();
    const job = await a.createJob({type: 'data_retention'});
    const all = await a.getJobs(0, 200);
    assert.ok(all.some((j) => j.id === job.id));
    assert.ok(all.some((j) => j.type === 'search_index_rebuild'));
    const one = await a.getJobs(0, 1);
    assert.equal(one.length, 1);
    const next = await a.getJobs(1, 1);
    assert.equal(next.length, 1);
    assert.notEqual(one[0].id, next[0].id);
    assertJobShape(one[0]);
    await finished(a, job.id);
});

test('search_index_rebuild runs to success, search keeps working', RUN, async () => {
    const {client: a} = await admin();
    const job = await a.createJob({type: 'search_index_rebuild'});
    const done = await finished(a, job.id);
    assert.equal(done.status, 'success', JSON.stringify(done.data));
    assert.equal(done.progress, 100);
    assert.ok(done.start_at >= job.create_at);
    assert.ok(done.last_activity_at >= done.start_at);
    assert.match(done.data.total, /^\d+$/);
    assert.equal(done.data.phase, 'index');
});

test('data_retention with EnableMessageDeletion off: error with the reason, progress -1', RUN, async () => {
    const {client: a} = await admin();
    const job = await a.createJob({type: 'data_retention'});
    const done = await finished(a, job.id);
    assert.equal(done.status, 'error');
    assert.equal(done.progress, -1);
    assert.match(done.data.error, /EnableMessageDeletion/);
});

test('message_export with ComplianceSettings.Enable off: error with the reason', RUN, async () => {
    const {client: a} = await admin();
    const job = await a.createJob({type: 'message_export', data: {note: 'kept'}});
    const done = await finished(a, job.id);
    assert.equal(done.status, 'error');
    assert.equal(done.progress, -1);
    assert.match(done.data.error, /ComplianceSettings\.Enable/);
    assert.equal(done.data.note, 'kept', 'the data given at creation stays');
});

test('cancelJob of a finished job is 500 request_cancellation.status.error', RUN, async () => {
    const {client: a} = await admin();
    const failed = await finished(a, (await a.createJob({type: 'message_export'})).id);
    assert.equal(failed.status, 'error');
    await clientError(a.cancelJob(failed.id), 500, CANNOT_CANCEL);
    const ok = await finished(a, (await a.createJob({type: 'search_index_rebuild'})).id);
    assert.equal(ok.status, 'success');
    await clientError(a.cancelJob(ok.id), 500, CANNOT_CANCEL);
    assert.equal((await a.getJob(ok.id)).status, 'success', 'a refused cancel changes nothing');
});
