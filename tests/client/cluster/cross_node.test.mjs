// Three nodes of one cluster (CHORUS_URLS=a,b,c) behave as one server:
// an event made through one node reaches WebSockets on another, a session
// revoked on one is refused on the others at once, a member removed on one
// stops getting the channel's posts on the others, a status set on one is
// read on another, and PUT /config is refused on a read-only clustered config.
// Run by tests/integration/test_cluster.sh.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import mm from '@mattermost/client';
import {URLS, adminOn, client, clientError, installWebSocketGlobals, quietWebSocketClient, teamWorld, until, userOn}
    from '../lib.mjs';

installWebSocketGlobals();
quietWebSocketClient();

const [A, B, C] = URLS;
const T = {timeout: 20000};

// The official WebSocketClient on `url`, recording what it delivers.
function socketOn(t, url, token) {
    const events = [];
    const wsc = new mm.WebSocketClient();
    wsc.addMessageListener((m) => events.push(m));
    wsc.initialize(`${url.replace(/^http/, 'ws')}/api/v4/websocket`, token);
    t.after(() => wsc.close());
    return {wsc, events};
}

test('a post made through node A reaches a WebSocket on node C, in order', T, async (t) => {
    const alice = await userOn(A, 'alice');
    const bob = await userOn(C, 'bob');
    const {channel} = await teamWorld(alice, {type: 'O', prefix: 'team', members: [bob],
        channels: {channel: {type: 'O', display_name: 'Cross', members: [bob]}}});
    const ws = socketOn(t, C, bob.client.getToken());
    await until(() => ws.events.find((e) => e.event === 'hello'), 5000, 'hello on node C');
    const sent = [];
    for (let i = 0; i < 5; i++) {
        sent.push((await alice.client.createPost({channel_id: channel.id, message: `cross ${i}`})).id);
    }
    const posted = await until(() => {
        const got = ws.events.filter((e) => e.event === 'posted');
        return got.length >= 5 && got;
    }, 5000, 'five posted events on node C');
    assert.deepEqual(posted.map((e) => JSON.parse(e.data.post).id), sent);
    assert.equal(posted[0].broadcast.channel_id, channel.id);
    const seqs = ws.events.map((e) => e.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i), 'per-connection seq without gaps');
});

test('a logout on node A makes the token invalid on node B at once', T, async () => {
    const carol = await userOn(A, 'carol');
    const onB = client(B);
    onB.setToken(carol.client.getToken());
    assert.equal((await onB.getMe()).id, carol.user.id); // cached on B now
    await carol.client.logout();
    const start = Date.now();
    let refused = false;
    while (!refused && Date.now() - start < 1000) {
        try {
            await onB.getMe();
        } catch (e) {
            refused = e.status_code === 401;
        }
    }
    assert.ok(refused, 'node B still accepted the revoked token after 1 s');
});

test('a status set through node B is read on node C', T, async () => {
    const dave = await userOn(B, 'dave');
    await dave.client.updateStatus({user_id: dave.user.id, status: 'dnd'});
    const onC = await adminOn(C);
    const start = Date.now();
    let status;
    do {
        status = (await onC.getStatus(dave.user.id)).status;
    } while (status !== 'dnd' && Date.now() - start < 1000);
    assert.equal(status, 'dnd');
});

test('PUT /config is refused while clustered with ReadOnlyConfig', T, async () => {
    const a = await adminOn(A);
    const config = await a.getConfig();
    await clientError(a.updateConfig(config), 403, 'ent.cluster.save_config.error');
});

test('a user is offline only when no node holds a socket of theirs', {timeout: 30000}, async (t) => {
    const erin = await userOn(A, 'erin');
    const onC = client(C);
    onC.setToken(erin.client.getToken());
    const status = async () => (await erin.client.getStatus(erin.user.id)).status;
    const first = socketOn(t, A, erin.client.getToken());
    const second = socketOn(t, C, erin.client.getToken());
    await until(() => first.events.find((e) => e.event === 'hello') && second.events.find((e) => e.event === 'hello'),
        5000, 'both sockets connected');
    const start = Date.now();
    while ((await status()) !== 'online' && Date.now() - start < 3000) {
        await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await status(), 'online');
    first.wsc.close(); // node A has none left; node C still holds one
    await new Promise((r) => setTimeout(r, 7000)); // past the 5 s grace
    assert.equal(await status(), 'online', 'offline while node C still holds a socket');
    second.wsc.close();
    const closed = Date.now();
    let now;
    do {
        await new Promise((r) => setTimeout(r, 100));
        now = await status();
    } while (now !== 'offline' && Date.now() - closed < 9000);
    assert.equal(now, 'offline', 'still online after the last socket closed and the grace passed');
});

test('a member removed through node A stops getting the channel on node C; a group made on A reaches C', T, async (t) => {
    const alice = await userOn(A, 'alice');
    const bob = await userOn(C, 'bob');
    const carol = await userOn(B, 'carol');
    const {channel} = await teamWorld(alice, {type: 'O', prefix: 'team', members: [bob],
        channels: {channel: {type: 'O', display_name: 'Leaving', members: [bob]}}});
    const ws = socketOn(t, C, bob.client.getToken());
    await until(() => ws.events.find((e) => e.event === 'hello'), 5000, 'hello on node C');
    const posted = (message) => ws.events.find((e) => e.event === 'posted' && JSON.parse(e.data.post).message === message);
    // node C's worker now holds the channel's members, bob among them
    await alice.client.createPost({channel_id: channel.id, message: 'before'});
    await until(() => posted('before'), 5000, 'the post before on node C');

    await alice.client.removeFromChannel(bob.user.id, channel.id);
    await until(() => ws.events.find((e) => e.event === 'user_removed' && e.data.channel_id === channel.id), 5000,
        'user_removed to bob on node C');
    await alice.client.createPost({channel_id: channel.id, message: 'after'});

    const group = await alice.client.createGroupChannel([bob.user.id, carol.user.id]);
    await until(() => ws.events.find((e) => e.event === 'group_added' && e.broadcast.channel_id === group.id), 5000,
        'group_added on node C');
    await alice.client.createPost({channel_id: group.id, message: 'in the group'});
    await until(() => posted('in the group'), 5000, 'the group post on node C');
    // the group post came after "after" through the same ring order
    assert.equal(posted('after'), undefined, 'bob got a post of a channel he left');
});
