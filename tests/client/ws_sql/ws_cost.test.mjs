// What a WebSocket action costs the database (issue 19), counted in
// PostgreSQL's own log of statements (CHORUS_PG_LOG; the suite turns on
// log_statement for its database): user_typing naming channels the sender
// is not in loads none of them (the sender's own channels answer, one set),
// and repeated activity reports write the primary once at most.  Run by
// tests/integration/test_ws_sql.sh, alone: other tests' statements would
// blur the counts.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {randomBytes} from 'node:crypto';
import {bearer, rawSocket, sleep, world} from '../lib.mjs';

const T = {timeout: 60000};
const LOG = process.env.CHORUS_PG_LOG;

// The log's lines written since `from` (a byte offset).
function logSince(from) {
    const fd = fs.openSync(LOG, 'r');
    try {
        const size = fs.fstatSync(fd).size;
        const buf = Buffer.alloc(size - from);
        fs.readSync(fd, buf, 0, buf.length, from);
        return buf.toString().split('\n');
    } finally {
        fs.closeSync(fd);
    }
}
const logSize = () => fs.statSync(LOG).size;
const randomId = () => randomBytes(13).toString('hex'); // 26 of [0-9a-f]: a valid id no channel has

async function statusBecomes(u, want) {
    let last;
    for (const end = Date.now() + 5000; Date.now() < end; await sleep(50)) {
        last = (await u.client.getStatus(u.user.id)).status;
        if (last === want) {
            return;
        }
    }
    assert.equal(last, want, `${u.user.username}'s status`);
}

async function socketOf(t, u, label) {
    const s = await rawSocket(t, label, {headers: bearer(u.token)});
    await s.wait('hello');
    return s;
}

test('user_typing for 40 channels one is not in loads none of their members; the sender\'s own channels answer', T, async (t) => {
    const w = await world('cost');
    const s = await socketOf(t, w.carol, 'carol');
    const from = logSize();
    const ids = Array.from({length: 40}, randomId);
    const replies = [];
    for (const id of ids) {
        replies.push(await s.request('user_typing', {channel_id: id, parent_id: ''}));
    }
    replies.push(await s.request('user_typing', {channel_id: w.priv.id, parent_id: ''})); // a real one, not hers
    for (const r of replies) {
        assert.equal(r.status, 'FAIL');
        assert.equal(r.error.id, 'api.websocket_handler.invalid_param.app_error');
    }
    // hers: served
    const b = await socketOf(t, w.bob, 'bob');
    assert.equal((await b.request('user_typing', {channel_id: w.open.id, parent_id: ''})).status, 'OK');
    await sleep(500);
    const lines = logSince(from);
    const named = lines.filter((l) => ids.some((id) => l.includes(id)) || l.includes(w.priv.id));
    assert.equal(named.length, 0, `statements naming the channels carol typed in:\n${named.slice(0, 6).join('\n')}`);
    const own = lines.filter((l) => l.includes('FROM ChannelMembers WHERE UserId'));
    assert.ok(own.length <= 2, `loads of a user's channels: ${own.length} (one for carol, one for bob)`);
    // her set is refreshed when her channels change: one she creates, one she is added to
    const mine = await w.carol.client.createChannel({team_id: w.team.id, name: `c${randomId()}`, display_name: 'Mine', type: 'O'});
    assert.equal((await s.request('user_typing', {channel_id: mine.id, parent_id: ''})).status, 'OK');
    await w.alice.client.addToChannel(w.carol.user.id, w.priv.id);
    let added;
    for (const end = Date.now() + 3000; Date.now() < end; await sleep(50)) {
        added = await s.request('user_typing', {channel_id: w.priv.id, parent_id: ''});
        if (added.status === 'OK') {
            break;
        }
    }
    assert.equal(added.status, 'OK', 'typing in a channel carol was just added to');
});

test('30 reports of the same activity write the primary at most once; a change still writes', T, async (t) => {
    const w = await world('costact');
    const s = await socketOf(t, w.alice, 'alice');
    await statusBecomes(w.alice, 'online');
    const written = (from, what) => logSince(from).filter((l) => l.includes(what)).length;
    const from = logSize();
    for (let i = 0; i < 30; i++) {
        assert.equal((await s.request('user_update_active_status', {user_is_active: true, manual: false})).status, 'OK');
    }
    await sleep(500);
    const active = written(from, "UPDATE Status SET Status = 'online', LastActivityAt");
    assert.ok(active <= 1, `${active} statements for 30 'active' reports of an online user`);
    // idle, 10 times: one write (away), then nothing
    const from2 = logSize();
    for (let i = 0; i < 10; i++) {
        await s.request('user_update_active_status', {user_is_active: false, manual: false});
        await sleep(50);
    }
    await statusBecomes(w.alice, 'away');
    const idle = written(from2, "UPDATE Status SET Status = 'away', Version");
    assert.ok(idle >= 1 && idle <= 2, `${idle} statements for 10 'idle' reports`);
    // active again: back online
    await s.request('user_update_active_status', {user_is_active: true, manual: false});
    await statusBecomes(w.alice, 'online');
});
