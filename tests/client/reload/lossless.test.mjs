// A reload (SIGHUP) of a clustered node loses no cross-node event: posts made
// without pause through one node reach the official WebSocketClient on the
// other, every one once, while node A's cluster process is replaced (posts
// through A, socket on B) and while node A's workers and cluster process are
// both replaced (posts through B, socket on A: the client resumes on A's new
// workers).  Run by tests/integration/test_cluster.sh, alone: it reloads a
// node under the other tests' feet otherwise.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import mm from '@mattermost/client';
import {URLS, installWebSocketGlobals, quietWebSocketClient, sleep, teamWorld, until, userOn} from '../lib.mjs';

installWebSocketGlobals();
quietWebSocketClient();

const [A, B] = URLS;
const [dirA] = (process.env.CHORUS_NODE_DIRS ?? '').split(',');
const T = {timeout: 60000};

async function reloadWhilePosting(t, postOn, readOn) {
    const poster = await userOn(postOn, 'rlposter');
    const reader = await userOn(readOn, 'rlreader');
    const {channel} = await teamWorld(poster, {type: 'O', prefix: 'rl', members: [reader],
        channels: {channel: {type: 'O', display_name: 'Reload', members: [reader]}}});

    const got = [];
    let missed = 0;
    let hello = false;
    const wsc = new mm.WebSocketClient({minWebSocketRetryTime: 100, reconnectJitterRange: 1});
    wsc.addMessageListener((m) => {
        hello ||= m.event === 'hello';
        if (m.event === 'posted') {
            got.push(JSON.parse(m.data.post).id);
        }
    });
    wsc.addMissedMessageListener(() => missed++);
    wsc.initialize(`${readOn.replace(/^http/, 'ws')}/api/v4/websocket`, reader.client.getToken());
    t.after(() => wsc.close());
    await until(() => hello, 5000, 'hello');
    const first = (await poster.client.createPost({channel_id: channel.id, message: 'first'})).id;
    await until(() => got.includes(first), 5000, 'the first post');

    const master = Number(fs.readFileSync(`${dirA}/master.pid`, 'utf8'));
    const sent = [first];
    const start = Date.now();
    let reloaded = false;
    while (Date.now() - start < 4000) {
        if (!reloaded && Date.now() - start > 1500) {
            process.kill(master, 'SIGHUP');
            reloaded = true;
        }
        sent.push((await poster.client.createPost({channel_id: channel.id, message: 'during'})).id);
        await sleep(5);
    }
    await until(() => sent.every((id) => got.includes(id)), 10000,
        () => `every post (${sent.filter((id) => !got.includes(id)).length} of ${sent.length} missing)`);
    await sleep(500);
    assert.equal(missed, 0, 'the client was told it missed events');
    assert.equal(got.length, sent.length, `${got.length - sent.length} posted events more than posts`);
    assert.deepEqual(got, sent, 'in order');
    await sleep(2000); // the node's new generation settles before the next reload
}

test('a reload of node A: posts through A reach a socket on B, each once', T, async (t) => {
    await reloadWhilePosting(t, A, B);
});

test('a reload of node A: posts through B reach a socket on A, each once', T, async (t) => {
    await reloadWhilePosting(t, B, A);
});
