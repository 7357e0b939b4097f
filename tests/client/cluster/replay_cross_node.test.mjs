// A reconnect that the balancer sends to another node resumes the connection
// its old node kept (ws/replay_cluster.c): the official WebSocketClient, whose
// socket drops on node A and comes back on node C, gets exactly the events it
// missed, made through every node, with the seqs that follow, no hello, no
// 4001; a raw reconnect from inside the kept window gets the re-sent events
// with their original seqs; an event the old node had not seen when it
// answered comes from the new node, once; an unknown id, or another user's,
// starts afresh and leaves the owner's connection resumable.
// Run by tests/integration/test_cluster.sh (CHORUS_URLS=a,b,c).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import WebSocket from 'ws';
import mm from '@mattermost/client';
import {URLS, RawSocket, bearer, client, installWebSocketGlobals, quietWebSocketClient, sleep, teamWorld, until, userOn}
    from '../lib.mjs';

installWebSocketGlobals();
quietWebSocketClient();

const [A, B, C] = URLS;
const wsBase = (url) => url.replace(/^http/, 'ws');
const T = {timeout: 40000};

// Alice posts through any node into a channel Bob is in.
async function channelFor(alice, bob) {
    const {channel} = await teamWorld(alice, {type: 'O', prefix: 'rteam', members: [bob],
        channels: {channel: {type: 'O', display_name: 'Replay', members: [bob]}}});
    const on = {};
    for (const url of [A, B, C]) {
        on[url] = client(url);
        on[url].setToken(alice.client.getToken());
    }
    return async (url, message) => (await on[url].createPost({channel_id: channel.id, message})).id;
}

const posted = (events) => events.filter((e) => e.event === 'posted').map((e) => JSON.parse(e.data.post).id);

test('the official client dropped on node A and back on node C gets exactly what it missed', T, async (t) => {
    const alice = await userOn(A, 'ralice');
    const bob = await userOn(A, 'rbob');
    const post = await channelFor(alice, bob);
    let target = A; // where the "balancer" sends the next connection
    const events = [];
    const closes = [];
    let missed = 0;
    const wsc = new mm.WebSocketClient({
        newWebSocketFn: (url) => new WebSocket(url.replace(wsBase(A), wsBase(target))),
        minWebSocketRetryTime: 1500,
        reconnectJitterRange: 1,
    });
    wsc.addMessageListener((m) => events.push(m));
    wsc.addMissedMessageListener(() => missed++);
    wsc.addCloseListener(() => closes.push(Date.now()));
    wsc.initialize(`${wsBase(A)}/api/v4/websocket`, bob.client.getToken());
    t.after(() => wsc.close());
    await until(() => events.find((e) => e.event === 'hello'), 5000, 'hello on node A');
    const before = await post(A, 'before the drop');
    await until(() => posted(events).includes(before), 5000, 'the first post on node A');

    target = C;
    wsc.conn.close(); // dropped: the client comes back in 1.5 s, on node C
    await sleep(200);
    const away = [];
    for (const url of [A, B, C, A, C, B]) {
        away.push(await post(url, `while away, through ${url}`));
    }
    await until(() => away.every((id) => posted(events).includes(id)), 10000, 'the missed posts on node C');
    const after = await post(B, 'after the resume');
    await until(() => posted(events).includes(after), 5000, 'a live post after the resume');
    await sleep(300);

    assert.equal(missed, 0, 'the client was told it missed events (a fresh connection)');
    assert.equal(closes.length, 1, `the socket closed ${closes.length} times (4001: a seq gap)`);
    assert.equal(events.filter((e) => e.event === 'hello').length, 1, 'a second hello');
    const ids = posted(events);
    assert.equal(ids.length, 8, `posted events: ${ids.length}, each once`);
    assert.deepEqual(new Set(ids), new Set([before, ...away, after]));
    assert.equal(ids[ids.length - 1], after);
    const seqs = events.map((e) => e.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i), 'seqs continue without a gap or a repeat');
});

// A raw socket of `token`'s on node `url`, recording what it receives.
const raw = (t, url, token, query) => new RawSocket(t, `${url}${query}`, {url, headers: bearer(token), query});

test('a reconnect on another node from inside the window gets the re-sent events with their seqs', T, async (t) => {
    const alice = await userOn(A, 'rwalice');
    const bob = await userOn(A, 'rwbob');
    const post = await channelFor(alice, bob);
    const token = bob.client.getToken();
    const first = raw(t, A, token, '?connection_id=&sequence_number=0');
    await until(() => first.events.find((e) => e.event === 'hello'), 5000, 'hello on node A');
    const cid = first.events[0].data.connection_id;
    const one = await post(A, 'one');
    const two = await post(B, 'two');
    await until(() => posted(first.events).length === 2, 5000, 'two posts on node A');
    const seqOfTwo = first.events.find((e) => e.event === 'posted' && posted([e])[0] === two).seq;
    first.sock.close();
    await until(() => first.closed !== null, 3000, 'the close');
    const three = await post(C, 'three');
    await sleep(300);
    // the client says it got everything before `two`
    const second = raw(t, B, token, `?connection_id=${cid}&sequence_number=${seqOfTwo}`);
    await until(() => posted(second.events).includes(three), 5000, 'the resume on node B');
    await sleep(300);
    const got = second.events;
    assert.equal(got.find((e) => e.event === 'hello'), undefined, 'a hello: not resumed');
    assert.deepEqual(posted(got), [two, three]);
    assert.deepEqual(got.map((e) => e.seq), [seqOfTwo, seqOfTwo + 1]);
    assert.ok(posted(first.events).includes(one));
});

test('an unknown id, or another user\'s, starts afresh; the owner still resumes', T, async (t) => {
    const alice = await userOn(A, 'rualice');
    const bob = await userOn(A, 'rubob');
    const eve = await userOn(C, 'rueve');
    const post = await channelFor(alice, bob);
    const first = raw(t, A, bob.client.getToken(), '?connection_id=&sequence_number=0');
    await until(() => first.events.find((e) => e.event === 'hello'), 5000, 'hello on node A');
    const cid = first.events[0].data.connection_id;
    first.sock.close();
    await until(() => first.closed !== null, 3000, 'the close');
    const missedPost = await post(A, 'missed');

    const start = Date.now();
    const unknown = raw(t, C, eve.client.getToken(), `?connection_id=${'x'.repeat(26)}&sequence_number=3`);
    const hello = await until(() => unknown.events.find((e) => e.event === 'hello'), 5000, 'hello for an unknown id');
    assert.notEqual(hello.data.connection_id, 'x'.repeat(26));
    assert.ok(Date.now() - start < 3000, `the unknown id waited ${Date.now() - start} ms`);

    const thief = raw(t, C, eve.client.getToken(), `?connection_id=${cid}&sequence_number=1`);
    const fresh = await until(() => thief.events.find((e) => e.event === 'hello'), 5000, 'hello for the thief');
    assert.notEqual(fresh.data.connection_id, cid);
    assert.deepEqual(posted(thief.events), []);

    const owner = raw(t, B, bob.client.getToken(), `?connection_id=${cid}&sequence_number=1`);
    await until(() => posted(owner.events).includes(missedPost), 5000, 'the owner resumes on node B');
    assert.equal(owner.events.find((e) => e.event === 'hello'), undefined);
    assert.equal(owner.events[0].seq, 1);
});

// The pids of a node's serving workers, from their logs (CHORUS_NODE_DIRS).
function workerPids(dir) {
    const pids = [];
    for (const f of fs.readdirSync(`${dir}/logs`).filter((n) => /^worker-\d+\.log$/.test(n))) {
        const serving = fs.readFileSync(`${dir}/logs/${f}`, 'utf8').split('\n')
            .filter((l) => l.includes('serving')).map((l) => JSON.parse(l));
        if (serving.length > 0) {
            pids.push(serving[serving.length - 1].pid);
        }
    }
    return pids;
}

test('an event the old node had not seen when it answered comes from the new node, once', T, async (t) => {
    const [dirA, , dirC] = (process.env.CHORUS_NODE_DIRS ?? '').split(',');
    assert.ok(dirA && dirC, 'CHORUS_NODE_DIRS names the nodes\' directories');
    const alice = await userOn(A, 'rlalice');
    const bob = await userOn(A, 'rlbob');
    const post = await channelFor(alice, bob);
    const token = bob.client.getToken();
    const first = raw(t, A, token, '?connection_id=&sequence_number=0');
    await until(() => first.events.find((e) => e.event === 'hello'), 5000, 'hello on node A');
    const cid = first.events[0].data.connection_id;
    const one = await post(A, 'one');
    await until(() => posted(first.events).includes(one), 5000, 'the first post on node A');
    await sleep(300);
    const next = first.events[first.events.length - 1].seq + 1;
    first.sock.close();
    await until(() => first.closed !== null, 3000, 'the close');
    await sleep(200);

    // Node A's workers stopped: the request waits in A's ring, and a post
    // made through B lands behind it there (A answers without it) while
    // node C has it already.
    const pids = workerPids(dirA);
    assert.ok(pids.length > 0, 'node A\'s worker pids');
    let second;
    let late;
    pids.forEach((p) => process.kill(p, 'SIGSTOP'));
    try {
        second = raw(t, C, token, `?connection_id=${cid}&sequence_number=${next}`);
        await sleep(200);
        late = await post(B, 'late');
        await sleep(100);
    } finally {
        pids.forEach((p) => process.kill(p, 'SIGCONT'));
    }
    await until(() => posted(second.events).includes(late), 5000, 'the late post on node C');
    await sleep(300);
    const got = second.events;
    assert.equal(got.find((e) => e.event === 'hello'), undefined, 'a hello: not resumed');
    assert.deepEqual(posted(got), [late]);
    assert.deepEqual(got.map((e) => e.seq), [next]);
    const logs = fs.readdirSync(`${dirC}/logs`).filter((n) => n.startsWith('worker-'))
        .map((n) => fs.readFileSync(`${dirC}/logs/${n}`, 'utf8')).join('');
    assert.match(logs, new RegExp(`WebSocket ${cid} .*resumed from another node at ${next}: 0 events from it, 1 from here`));
});
