// Statuses through @mattermost/client: reading one and many, setting one's
// own (Mattermost's transition rules), permissions and validation, and that a
// write is read back the same by every worker (the presence cache is shared).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {T, admin, client, clientError, newUser} from './lib.mjs';

const KEYS = ['dnd_end_time', 'last_activity_at', 'manual', 'status', 'user_id'];
const NOBODY = 'abcdefghijklmnopqrstuvwxyz'; // a well-formed id of no user

function statusRoute(c, userId) {
    return `${c.getUserRoute(userId)}/status`;
}

test('a user without a status reads as offline, in Mattermost\'s shape', T, async () => {
    const {client: c, user} = await newUser('stan');
    const s = await c.getStatus(user.id);
    assert.deepEqual(Object.keys(s).sort(), KEYS);
    assert.deepEqual(s, {user_id: user.id, status: 'offline', manual: false, last_activity_at: 0, dnd_end_time: 0});
    // an id that is no user at all: offline too, as Mattermost answers
    assert.equal((await c.getStatus(NOBODY)).status, 'offline');
    // "me" stands for the caller
    assert.equal((await c.getStatus('me')).user_id, user.id);
});

test('updateStatus: online, away, dnd, offline as Mattermost sets them', T, async () => {
    const {client: c, user} = await newUser('tess');
    const before = Date.now();
    const online = await c.updateStatus({user_id: user.id, status: 'online'});
    assert.deepEqual(Object.keys(online).sort(), KEYS);
    assert.equal(online.status, 'online');
    assert.equal(online.manual, false, 'online is never manual');
    assert.ok(online.last_activity_at >= before && online.last_activity_at <= Date.now() + 1000);

    const away = await c.updateStatus({user_id: user.id, status: 'away'});
    assert.equal(away.status, 'away');
    assert.equal(away.manual, true);
    assert.equal(away.last_activity_at, online.last_activity_at, 'away keeps the last activity');

    const end = Math.floor(Date.now() / 1000) + 3600 + 17;
    const dnd = await c.updateStatus({user_id: user.id, status: 'dnd', dnd_end_time: end});
    assert.equal(dnd.status, 'dnd');
    assert.equal(dnd.manual, true);
    assert.equal(dnd.dnd_end_time, end - (end % 60), 'truncated to the minute');

    const offline = await c.updateStatus({user_id: user.id, status: 'offline'});
    assert.equal(offline.status, 'offline');
    assert.equal(offline.manual, true);
    assert.equal(offline.dnd_end_time, 0);
    assert.ok(offline.last_activity_at >= online.last_activity_at);

    // "me" in the URL with the caller's id in the body
    const me = await c.doFetch(statusRoute(c, 'me'), {method: 'put', body: JSON.stringify({user_id: user.id, status: 'away'})});
    assert.equal(me.status, 'away');
    assert.deepEqual(await c.getStatus(user.id), me);
});

test('no session: 401 on all three routes', T, async () => {
    const {user} = await newUser('uma');
    const anon = client();
    const id = 'api.context.session_expired.app_error';
    await clientError(anon.getStatus(user.id), 401, id);
    await clientError(anon.updateStatus({user_id: user.id, status: 'online'}), 401, id);
    await clientError(anon.getStatusesByIds([user.id]), 401, id);
});

test('another user\'s status: 403; a system admin may set it', T, async () => {
    const a = await newUser('vic');
    const b = await newUser('wes');
    await clientError(a.client.updateStatus({user_id: b.user.id, status: 'dnd'}), 403,
        'api.context.permissions.app_error');
    assert.equal((await b.client.getStatus(b.user.id)).status, 'offline', 'unchanged');
    const {client: adm} = await admin();
    const set = await adm.updateStatus({user_id: b.user.id, status: 'away'});
    assert.equal(set.user_id, b.user.id);
    assert.equal(set.status, 'away');
    // reading someone else's status needs no permission
    assert.equal((await a.client.getStatus(b.user.id)).status, 'away');
});

test('updateStatus validation: bad status, mismatched user_id, bad types, bad URL id: 400', T, async () => {
    const {client: c, user} = await newUser('xia');
    const other = await newUser('yan');
    const body = 'api.context.invalid_body_param.app_error';
    for (const status of ['busy', 'ooo', '', 'ONLINE']) {
        await clientError(c.updateStatus({user_id: user.id, status}), 400, body);
    }
    await clientError(c.updateStatus({user_id: user.id}), 400, body);
    // the body names another user than the URL (checked before permissions)
    await clientError(c.doFetch(statusRoute(c, user.id), {method: 'put',
        body: JSON.stringify({user_id: other.user.id, status: 'online'})}), 400, body);
    await clientError(c.doFetch(statusRoute(c, other.user.id), {method: 'put',
        body: JSON.stringify({user_id: user.id, status: 'online'})}), 400, body);
    await clientError(c.doFetch(statusRoute(c, user.id), {method: 'put',
        body: JSON.stringify({status: 'online'})}), 400, body);
    // fields of the wrong JSON type, and bodies that are no object
    await clientError(c.updateStatus({user_id: user.id, status: 'dnd', dnd_end_time: 'soon'}), 400, body);
    await clientError(c.updateStatus({user_id: user.id, status: 'online', manual: 'yes'}), 400, body);
    await clientError(c.doFetch(statusRoute(c, user.id), {method: 'put', body: '{not json'}), 400, body);
    await clientError(c.doFetch(statusRoute(c, user.id), {method: 'put', body: '[]'}), 400, body);
    await clientError(c.updateStatus({user_id: 'not-an-id', status: 'online'}), 400,
        'api.context.invalid_url_param.app_error');
    await clientError(c.getStatus('not-an-id'), 400, 'api.context.invalid_url_param.app_error');
    assert.equal((await c.getStatus(user.id)).status, 'offline', 'nothing was written');
});

test('getStatusesByIds: sorted, de-duplicated, unknown ids offline', T, async () => {
    const a = await newUser('zed');
    const b = await newUser('abe');
    await b.client.updateStatus({user_id: b.user.id, status: 'dnd'});
    const ids = [b.user.id, NOBODY, a.user.id, b.user.id];
    const list = await a.client.getStatusesByIds(ids);
    const want = [...new Set(ids)].sort();
    assert.deepEqual(list.map((s) => s.user_id), want);
    for (const s of list) {
        assert.deepEqual(Object.keys(s).sort(), KEYS);
        assert.equal(s.status, s.user_id === b.user.id ? 'dnd' : 'offline');
    }
    // cached now: the same answer again
    assert.deepEqual(await a.client.getStatusesByIds(ids), list);
});

test('getStatusesByIds validation: 400', T, async () => {
    const {client: c, user} = await newUser('bea');
    const route = `${c.getUsersRoute()}/status/ids`;
    const invalid = 'api.context.invalid_body_param.app_error';
    await clientError(c.getStatusesByIds([]), 400, invalid);
    await clientError(c.getStatusesByIds(['short']), 400, invalid);
    await clientError(c.getStatusesByIds([user.id, `${user.id}x`]), 400, invalid);
    await clientError(c.getStatusesByIds([user.id, null]), 400, invalid);
    await clientError(c.doFetch(route, {method: 'post', body: 'null'}), 400, invalid);
    const parse = 'api.payload.parse.error';
    await clientError(c.getStatusesByIds([user.id, 42]), 400, parse);
    await clientError(c.doFetch(route, {method: 'post', body: '{"ids":[]}'}), 400, parse);
    await clientError(c.doFetch(route, {method: 'post', body: '[not json'}), 400, parse);
    await clientError(c.doFetch(route, {method: 'post', body: ''}), 400, parse);
});

test('a status written once is read back the same by every worker', T, async () => {
    const {client: c, user} = await newUser('cal');
    const readers = [];
    for (let i = 0; i < 8; i++) {
        readers.push(client());
        readers[i].setToken(c.getToken());
    }
    // warm every worker's view (and the shared cache) with the old status
    await Promise.all(readers.map((r) => r.getStatus(user.id)));
    for (const status of ['dnd', 'away', 'online', 'offline', 'dnd']) {
        const set = await c.updateStatus({user_id: user.id, status});
        // many requests at once open many connections, spread over the workers
        const reads = await Promise.all([
            ...readers.flatMap((r) => [r.getStatus(user.id), r.getStatus(user.id)]),
            ...readers.map((r) => r.getStatusesByIds([user.id]).then((list) => list[0])),
        ]);
        for (const s of reads) {
            assert.deepEqual(s, set, `after setting ${status}`);
        }
    }
});
