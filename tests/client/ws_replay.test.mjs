// WebSocket reconnect and replay (wire reference C.5) through raw `ws`
// sockets: a connection opened with ?connection_id= (as the official client
// does) is kept for its reconnect when it drops.  Covers: a reconnect at the
// next seq gets exactly what was published while it was away, with the
// following seqs and no hello; a seq inside the kept window re-sends from it
// with the original seqs; an unknown id gets hello and a new id; an id
// without sequence_number is closed; reconnects through many sockets (spread
// over the workers) resume each time; a reload (SIGHUP to the master: the old
// generation closes with 1001) is resumed by the new one.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import {RawSocket, bearer, newUser, rawSocket, sleep, teamWorld, until} from './lib.mjs';

const ID = /^[a-z0-9]{26}$/;
const T = {timeout: 20000};
const SETTLE = 400; // ms: no more frames expected after this


// A raw socket of `token`'s, recording what it receives.
const sockOf = (t, token, query) => new RawSocket(t, query, {headers: bearer(token), query});
const open = (t, token, query) => rawSocket(t, query, {headers: bearer(token), query});

const postId = (e) => JSON.parse(e.data.post).id;

// A user with a channel of its own and a first resumable socket.
async function setup(t, prefix) {
    const u = await newUser(prefix);
    const token = u.client.getToken();
    const {ch} = await teamWorld(u, {prefix: 'rpteam-', channels: {ch: {type: 'O', display_name: 'Replay'}}});
    const s = await open(t, token, '?connection_id=&sequence_number=0');
    await until(() => s.hello(), 3000, 'hello');
    const cid = s.hello().data.connection_id;
    const post = (message) => u.client.createPost({channel_id: ch.id, message});
    const first = await post('before the drop');
    await until(() => s.events.find((e) => e.event === 'posted' && postId(e) === first.id), 3000, 'the first post');
    await sleep(SETTLE);
    return {u, token, cid, s, post};
}

const lastSeq = (s) => s.events[s.events.length - 1].seq;

async function drop(s) {
    s.sock.terminate();
    await until(() => s.closed, 3000, 'the drop');
    await sleep(200); // the server sees the end of the socket
}

// Waits for the posted events of `ids`, then checks that nothing else came.
async function expectPosts(s, ids, firstSeq) {
    await until(() => s.events.filter((e) => e.event === 'posted').length >= ids.length, 5000,
        () => `${ids.length} posted events (got: ${s.describe()})`);
    await sleep(SETTLE);
    assert.equal(s.hello(), undefined, `no hello on a resume (got: ${s.describe()})`);
    assert.deepEqual(s.events.map((e) => e.event), ids.map(() => 'posted'), `only the posts: ${s.describe()}`);
    assert.deepEqual(s.events.map(postId), ids);
    assert.deepEqual(s.events.map((e) => e.seq), ids.map((_, i) => firstSeq + i));
}

test('a reconnect at the next seq gets what was published while away, with the following seqs, no hello', T,
    async (t) => {
        const {token, cid, s, post} = await setup(t, 'rpnext');
        const next = lastSeq(s) + 1;
        await drop(s);
        const ids = [];
        for (const m of ['one', 'two', 'three']) {
            ids.push((await post(m)).id);
        }
        const again = await open(t, token, `?connection_id=${cid}&sequence_number=${next}`);
        await expectPosts(again, ids, next);
        // then live, on the same connection
        const live = await post('live');
        await until(() => again.events.find((e) => e.event === 'posted' && postId(e) === live.id), 3000, 'live');
        assert.equal(again.events[again.events.length - 1].seq, next + 3);
    });

test('a reconnect with a seq inside the kept window re-sends from it with the original seqs', T, async (t) => {
    const {token, cid, s, post} = await setup(t, 'rpwin');
    const ids = [];
    for (const m of ['a', 'b', 'c']) {
        const p = await post(m);
        ids.push(p.id);
        await until(() => s.events.find((e) => e.event === 'posted' && postId(e) === p.id), 3000, m);
    }
    await sleep(SETTLE);
    const from = s.events.find((e) => e.event === 'posted' && postId(e) === ids[1]).seq;
    await drop(s);
    const again = await open(t, token, `?connection_id=${cid}&sequence_number=${from}`);
    await expectPosts(again, ids.slice(1), from);
});

test('an unknown connection_id gets hello at seq 0 and a new id', T, async (t) => {
    const u = await newUser('rpunk');
    const unknown = 'abcdefghijklmnopqrstuvwxyz';
    const s = await open(t, u.client.getToken(), `?connection_id=${unknown}&sequence_number=5`);
    await until(() => s.hello(), 3000, 'hello');
    assert.equal(s.events[0].event, 'hello');
    assert.equal(s.events[0].seq, 0);
    assert.match(s.hello().data.connection_id, ID);
    assert.notEqual(s.hello().data.connection_id, unknown);
});

test('a known connection_id with a seq outside the window gets a fresh connection', T, async (t) => {
    const {token, cid, s} = await setup(t, 'rpout');
    const next = lastSeq(s) + 1;
    await drop(s);
    const again = await open(t, token, `?connection_id=${cid}&sequence_number=${next + 5}`);
    await until(() => again.hello(), 3000, 'hello');
    assert.equal(again.events[0].seq, 0);
    assert.notEqual(again.hello().data.connection_id, cid);
});

test('a connection_id without sequence_number is closed', T, async (t) => {
    const {token, cid, s} = await setup(t, 'rpnoseq');
    await drop(s);
    const again = sockOf(t, token, `?connection_id=${cid}`);
    await until(() => again.closed, 3000, 'the close');
    assert.equal(again.hello(), undefined);
});

test('reconnects through many sockets (over the workers) resume each time', T, async (t) => {
    const {token, cid, s, post} = await setup(t, 'rpmany');
    let cur = s;
    let next = lastSeq(s) + 1;
    for (let i = 0; i < 8; i++) {
        await drop(cur);
        const p = await post(`away ${i}`);
        cur = await open(t, token, `?connection_id=${cid}&sequence_number=${next}`);
        await expectPosts(cur, [p.id], next);
        next++;
    }
});

// A reload closes every socket of the node: only when the test files run one
// at a time (node --test runs availableParallelism() - 1 files at once).
const pidFile = process.env.CHORUS_TEST_TMP ? `${process.env.CHORUS_TEST_TMP}/up/master.pid` : '';
const canReload = pidFile && fs.existsSync(pidFile) && os.availableParallelism() <= 2;

test('a reload: the new generation resumes the sockets the old one closed with 1001',
    {timeout: 40000, skip: canReload ? false : 'the master pid is not reachable, or other test files run alongside'},
    async (t) => {
        const {token, cid, s, post} = await setup(t, 'rpreload');
        const next = lastSeq(s) + 1;
        process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGHUP');
        await until(() => s.closed, 20000, 'the close of the old generation');
        assert.equal(s.closed.code, 1001);
        const p = await post('after the reload');
        // the new generation may still be starting: retry the upgrade
        let again;
        for (let i = 0; i < 100 && !again; i++) {
            const a = sockOf(t, token, `?connection_id=${cid}&sequence_number=${next}`);
            if (await a.opened) {
                again = a;
            } else {
                await sleep(100);
            }
        }
        assert.ok(again, 'no upgrade after the reload');
        await expectPosts(again, [p.id], next);
    });
