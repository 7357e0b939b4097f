// The WebSocket endpoint (GET /api/v4/websocket) through the official
// WebSocketClient of @mattermost/client, and through raw `ws` sockets where
// that client cannot say it (headers and cookies at the upgrade, no auth,
// garbage frames, a reader that stops reading, oversized frames).
// Covers: hello (seq 0, server_version, connection_id, server_hostname) then
// the OK reply; auth by Bearer header, MMAUTHTOKEN cookie or
// authentication_challenge; bad tokens; the 5 s auth timeout; ping,
// user_typing, get_statuses(_by_ids); every event and its audience (who gets
// it and who must not); per-connection seq without gaps (the official client
// closes with 4001 on a gap); delivery to sockets spread over the workers;
// logout closing a session's sockets; garbage, slow and oversized sockets
// closed alone; a reconnect getting a new connection id and hello.
import {test} from 'node:test';
import http from 'node:http';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import mm from '@mattermost/client';
import {Frames, URL, admin, bearer, client, installWebSocketGlobals, newUser, rawSocket as raw, safeJson, sleep, unique,
    until, world as libWorld, wsUrl} from './lib.mjs';

installWebSocketGlobals();

// The official client logs to the console; keep its lines for diagnostics
// instead of mixing them into the test output.
const clientLog = [];
const consoleLog = console.log;
console.log = (...args) => {
    const first = args[0];
    const CLIENT_LINE = /^(websocket|got connection id|ping received|missed websocket|long timeout|network)/;
    if ((typeof first === 'string' && CLIENT_LINE.test(first)) ||
        (first && typeof first === 'object' && ('seq_reply' in first || 'type' in first))) {
        clientLog.push(args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' '));
        return;
    }
    consoleLog(...args);
};

const {WebSocketClient} = mm;
const WS_URL = wsUrl();
const NOBODY = 'abcdefghijklmnopqrstuvwxyz';
const ID = /^[a-z0-9]{26}$/;
const INVALID_PARAM = 'api.websocket_handler.invalid_param.app_error';
const MAX_PAYLOAD = 300000; // ServiceSettings.MaximumPayloadSizeBytes in etc/config.json
const T = {timeout: 10000};
const SETTLE = 500; // ms after the expected receivers got an event, before asserting others did not
// The slow consumer: enough posted bytes to fill the kernel's socket buffers
// (about 4 MB on loopback: ~250 events of 16 KB) and then the server's send
// queue (256 events), with a margin of 2.
const SLOW_POSTS = 1000;
const SLOW_BODY = 'y'.repeat(16000);

// The official WebSocketClient, with its sockets built here to record every
// frame (and, for auth at the upgrade, to send headers).
class Official extends Frames {
    constructor(t, token, label, headers) {
        super(label);
        this.sockets = [];
        this.closes = []; // lastErrCode at each close the client saw (4001 = a seq gap)
        this.delivered = []; // what the client passed to its message listeners
        this.missed = 0; // "missed messages" callbacks (a hello with a new connection id)
        this.wsc = new WebSocketClient({
            newWebSocketFn: (url) => {
                const sock = headers ? new WebSocket(url, {headers}) : new WebSocket(url);
                this.sockets.push(sock);
                sock.on('message', (data) => this.record(data.toString()));
                sock.on('close', (code, reason) => {
                    this.closed = {code, reason: reason.toString(), at: Date.now()};
                });
                sock.on('error', (e) => {
                    this.error = e;
                });
                return sock;
            },
        });
        this.wsc.addMessageListener((m) => this.delivered.push(m));
        // with a missed-message listener the client keeps hello's connection id
        this.wsc.addMissedMessageListener(() => this.missed++);
        this.wsc.addCloseListener(() => this.closes.push(this.wsc.lastErrCode));
        this.wsc.initialize(WS_URL, token);
        t.after(() => this.dispose());
    }

    dispose() {
        this.wsc.close();
        for (const s of this.sockets) {
            s.onclose = null; // no reconnect from the client
            s.terminate();
        }
        this.wsc.clearReconnectTimeout();
    }

    // Connected, one socket only, never closed (so never a 4001), the seq
    // checks pass, and the client delivered exactly the events received.
    healthy() {
        this.checkSeq();
        assert.deepEqual(this.closes, [], `${this.label}: the official client saw closes (codes ${this.closes}); ` +
            `its log: ${clientLog.filter((l) => l.includes('missed') || l.includes('closed')).slice(-5).join(' | ')}`);
        assert.equal(this.sockets.length, 1, `${this.label}: the client reconnected`);
        assert.equal(this.delivered.length, this.events.length, `${this.label}: the client dropped events`);
        assert.equal(this.missed, 0, `${this.label}: the client saw a missed-messages hello`);
    }
}

async function official(t, token, label, {headers} = {}) {
    const o = new Official(t, token, label, headers);
    await until(() => o.hello() && (!token || o.reply(1)), 5000, `${label}: hello and the challenge's reply`);
    return o;
}

// The world of lib.mjs, bob in the private channel too.
const world = (prefix) => libWorld(prefix, {bobInPrivate: true});

// Sockets for the four users of a world (official clients).
async function sockets(t, w) {
    const [a, b, c, d] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((n) => official(t, w[n].token, n)));
    return {a, b, c, d};
}

const postIn = (e) => JSON.parse(e.data.post);
const isPost = (id) => (e) => {
    assert.equal(typeof e.data.post, 'string', `data.post is the Post as a JSON string: ${safeJson(e.data)}`);
    return postIn(e).id === id;
};

// A WebSocket's authentication sets its user online (Mattermost's
// SetStatusOnline, for the challenge and for auth at the upgrade alike).
async function becomesOnline(c, userId, when) {
    let last;
    const end = Date.now() + 2000;
    while (Date.now() < end) {
        last = (await c.getStatus(userId)).status;
        if (last === 'online') {
            return;
        }
        await sleep(50);
    }
    assert.equal(last, 'online', `the user is online ${when} (REST getStatus)`);
}

// A REST call on a connection of its own (fetch would reuse a pooled one),
// so that the kernel may hand it to any worker.  Resolves to the parsed body.
function restOnNewConnection(token, method, path, body) {
    return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = http.request(`${URL}/api/v4${path}`, {method, agent: false, headers: {
            Authorization: `Bearer ${token}`, Connection: 'close',
            ...(data ? {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data)} : {}),
        }}, (res) => {
            const chunks = [];
            res.on('data', (d) => chunks.push(d));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString();
                if (res.statusCode >= 300) {
                    reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
                } else {
                    resolve(JSON.parse(text));
                }
            });
        });
        req.on('error', reject);
        req.end(data);
    });
}

async function versionHeader(token) {
    const res = await fetch(`${URL}/api/v4/users/me`, {headers: {Authorization: `Bearer ${token}`}});
    await res.arrayBuffer();
    return res.headers.get('x-version-id');
}

test('hello first (seq 0: server_version, connection_id, server_hostname), then the challenge\'s OK reply, then pong',
    T, async (t) => {
        const {client: c, user} = await newUser('wshello');
        const token = c.getToken();
        const before = Date.now();
        const o = await official(t, token, 'official');
        await until(() => o.reply(2), 3000, 'the reply to the client\'s first ping (seq 2)');

        const hello = o.frames[0];
        assert.equal(hello.event, 'hello', `the first frame is hello: ${safeJson(hello)}`);
        assert.equal(hello.seq, 0);
        assert.equal(hello.broadcast.user_id, user.id);
        assert.match(hello.data.connection_id, ID);
        assert.equal(typeof hello.data.server_hostname, 'string');
        assert.ok(hello.data.server_hostname.length > 0, 'server_hostname is set');
        assert.equal(hello.data.server_version, await versionHeader(token), 'server_version is the X-Version-ID');

        const ok = o.reply(1);
        assert.equal(ok.status, 'OK', safeJson(ok));
        assert.equal(ok.error, undefined);
        assert.ok(o.frames.indexOf(ok) > o.frames.indexOf(hello), 'the OK reply comes after hello');

        const pong = o.reply(2);
        assert.equal(pong.status, 'OK', safeJson(pong));
        assert.equal(pong.data.text, 'pong');
        assert.ok(pong.data.server_time >= before - 1000 && pong.data.server_time <= Date.now() + 1000,
            `server_time ${pong.data.server_time} is now, in ms`);
        assert.equal(pong.data.version, '11.9.0', 'pong carries the Mattermost version, as the hello does');
        assert.ok(hello.data.server_version.startsWith(`${pong.data.version}.`));
        assert.equal(typeof pong.data.node_id, 'string');

        // the client took the connection id and hostname from hello
        assert.equal(o.wsc.connectionId, hello.data.connection_id);
        assert.equal(o.wsc.serverHostname, hello.data.server_hostname);
        // authenticating set the user online
        await becomesOnline(c, user.id, 'after the authentication_challenge');

        // another connection of the same user: its own id, its own seq from 0
        const o2 = await official(t, token, 'official-2');
        assert.notEqual(o2.hello().data.connection_id, hello.data.connection_id);
        assert.equal(o2.frames[0].event, 'hello');
        assert.equal(o2.frames[0].seq, 0);
        o.healthy();
        o2.healthy();
    });

test('auth at the upgrade: Bearer header or MMAUTHTOKEN cookie gives hello at once; a later challenge is ignored',
    T, async (t) => {
        const {client: c, user} = await newUser('wsupg');
        const token = c.getToken();
        const ways = [['BEARER header', bearer(token)], ['bearer header', {Authorization: `bearer ${token}`}],
            ['cookie', {Cookie: `MMAUTHTOKEN=${token}`}]];
        for (const [label, headers] of ways) {
            const r = await raw(t, label, {headers});
            await until(() => r.hello(), 3000, `${label}: hello without a challenge`);
            assert.equal(r.frames[0].event, 'hello');
            assert.equal(r.frames[0].seq, 0);
            assert.equal(r.frames[0].broadcast.user_id, user.id);
            assert.match(r.frames[0].data.connection_id, ID);
            // already authenticated: the challenge gets no reply, the ping does
            const challenge = r.send('authentication_challenge', {token});
            const pong = await r.request('ping');
            assert.equal(pong.status, 'OK');
            assert.equal(pong.data.text, 'pong');
            await sleep(100);
            assert.equal(r.reply(challenge), undefined,
                `${label}: the challenge was answered: ${safeJson(r.reply(challenge))}`);
            assert.equal(r.all('hello').length, 1, `${label}: one hello only`);
            assert.ok(r.isOpen(), `${label}: still open`);
            r.checkSeq();
        }
        // authenticated by a challenge, a second challenge is ignored too
        const twice = await raw(t, 'challenged twice');
        assert.equal((await twice.request('authentication_challenge', {token})).status, 'OK');
        const second = twice.send('authentication_challenge', {token});
        assert.equal((await twice.request('ping')).data.text, 'pong');
        await sleep(100);
        assert.equal(twice.reply(second), undefined, 'the second challenge was answered');
        assert.equal(twice.all('hello').length, 1);
        twice.checkSeq();
        // the cookie beats the header: a valid cookie with a bogus header
        const both = await raw(t, 'cookie and bogus header', {headers: {Cookie: `MMAUTHTOKEN=${token}`,
            Authorization: `BEARER ${NOBODY}`}});
        await until(() => both.hello(), 3000, 'hello for the cookie\'s session');
        assert.equal(both.hello().broadcast.user_id, user.id);
        // the official client with the header and no token sends no challenge
        const o = await official(t, '', 'official with header', {headers: bearer(token)});
        assert.equal(o.hello().broadcast.user_id, user.id);
        o.healthy();
        await becomesOnline(c, user.id, 'after auth at the upgrade');
    });

test('a bad token closes the socket without hello; a bad header at the upgrade does not authenticate', T, async (t) => {
    const {client: c} = await newUser('wsbad');
    const token = c.getToken();
    // the challenge with a token of no session
    const r = await raw(t, 'bad challenge');
    r.send('authentication_challenge', {token: NOBODY});
    await r.waitClosed(3000);
    assert.equal(r.hello(), undefined, 'no hello for a bad token');
    assert.ok(!r.frames.some((f) => f.status === 'OK'), `no OK reply: ${safeJson(r.frames)}`);
    // a challenge without a token at all
    const r2 = await raw(t, 'empty challenge');
    r2.send('authentication_challenge', {});
    await r2.waitClosed(3000);
    assert.equal(r2.hello(), undefined);
    // the official client with a bad token: closed, no hello delivered
    const o = new Official(t, 'x'.repeat(26), 'official, bad token');
    await until(() => o.closes.length > 0, 3000, 'the official client to see its socket closed');
    o.dispose();
    assert.equal(o.hello(), undefined);
    assert.equal(o.delivered.length, 0);

    // a Bearer header or a cookie of no session: upgraded anyway (as
    // Mattermost), not authenticated: no hello, and a good challenge works
    for (const [label, headers] of [['bad header', bearer(NOBODY)], ['bad cookie', {Cookie: `MMAUTHTOKEN=${NOBODY}`}]]) {
        const h = await raw(t, label, {headers});
        await sleep(700);
        assert.equal(h.hello(), undefined, `${label}: no hello for a token of no session`);
        assert.ok(h.isOpen(), `${label}: still open, waiting for a challenge`);
        const ok = await h.request('authentication_challenge', {token});
        assert.equal(ok.status, 'OK', safeJson(ok));
        assert.ok(h.hello(), `${label}: hello after a good challenge`);
        assert.equal(h.hello().seq, 0);
        assert.ok(h.frames.indexOf(h.hello()) < h.frames.indexOf(ok), 'hello before the OK reply');
        h.checkSeq();
    }
});

test('no authentication: closed about 5 s after the upgrade; authenticating in time keeps it open', T, async (t) => {
    const {client: c} = await newUser('wsnoauth');
    const idle = await raw(t, 'unauthenticated');
    const badHeader = await raw(t, 'a bad token in the header', {headers: bearer(NOBODY)});
    const late = await raw(t, 'authenticated after 2.5 s');
    await sleep(2500);
    const ok = await late.request('authentication_challenge', {token: c.getToken()});
    assert.equal(ok.status, 'OK', safeJson(ok));
    await idle.waitClosed(6000, 'closed by the auth timeout');
    const after = idle.closed.at - idle.openedAt;
    assert.ok(after >= 4000 && after <= 7000, `closed ${after} ms after the upgrade (expected ~5000)`);
    assert.equal(idle.hello(), undefined);
    assert.deepEqual(idle.events, [], 'nothing sent to an unauthenticated socket');
    // a token of no session at the upgrade leaves the socket unauthenticated: the same deadline
    await badHeader.waitClosed(3000, 'closed by the auth timeout (bad header token)');
    const afterBad = badHeader.closed.at - badHeader.openedAt;
    assert.ok(afterBad >= 4000 && afterBad <= 7000, `closed ${afterBad} ms after the upgrade (expected ~5000)`);
    assert.deepEqual(badHeader.frames, [], 'nothing sent to a socket with a bad header token');
    // the late one outlives the deadline and still answers
    await until(() => Date.now() - late.openedAt > 6500, 3000, 'the auth deadline to pass');
    assert.ok(late.isOpen(), 'an authenticated socket is not closed by the auth timeout');
    assert.equal((await late.request('ping')).data.text, 'pong');
    late.checkSeq();
});

test('ping, get_statuses, get_statuses_by_ids, bad and unknown requests: replies by seq_reply', T, async (t) => {
    const w = await world('wsreq');
    await w.bob.client.updateStatus({user_id: w.bob.user.id, status: 'away'});
    const a = await official(t, w.alice.token, 'alice');
    const call = (fn) => new Promise((resolve) => fn(resolve));
    // a socket makes its user online once the status is saved (as Mattermost: asynchronously)
    for (let i = 0; i < 100 && (await w.alice.client.getStatus(w.alice.user.id)).status !== 'online'; i++) {
        await sleep(50);
    }

    const byIds = await call((cb) => a.wsc.getStatusesByIds([w.alice.user.id, w.bob.user.id, NOBODY], cb));
    assert.equal(byIds.status, 'OK', safeJson(byIds));
    assert.deepEqual(byIds.data, {[w.alice.user.id]: 'online', [w.bob.user.id]: 'away', [NOBODY]: 'offline'});

    const all = await call((cb) => a.wsc.getStatuses(cb));
    assert.equal(all.status, 'OK', safeJson(all));
    assert.equal(all.data[w.alice.user.id], 'online', `get_statuses includes the caller: ${safeJson(all.data)}`);
    // every status the node knows, not only the caller's (Mattermost: its whole status cache)
    assert.equal(all.data[w.bob.user.id], 'away', `get_statuses includes bob's: ${safeJson(all.data)}`);
    for (const [id, s] of Object.entries(all.data)) {
        assert.match(id, ID);
        assert.ok(['online', 'away', 'dnd', 'offline', 'ooo'].includes(s), `status ${s}`);
    }

    const empty = await call((cb) => a.wsc.getStatusesByIds([], cb));
    assert.equal(empty.status, 'FAIL', safeJson(empty));
    assert.equal(empty.error.id, INVALID_PARAM);
    assert.equal(empty.error.status_code, 400);

    // typing in a channel one may not post in: FAIL; an unknown action: FAIL
    const c = await official(t, w.carol.token, 'carol');
    const denied = await call((cb) => c.wsc.userTyping(w.priv.id, '', cb));
    assert.equal(denied.status, 'FAIL', safeJson(denied));
    assert.ok(denied.error && denied.error.id, 'the FAIL reply has an error id');
    const badChannel = await call((cb) => c.wsc.userTyping('short', '', cb));
    assert.equal(badChannel.status, 'FAIL', safeJson(badChannel));
    assert.equal(badChannel.error.id, INVALID_PARAM);
    const unknown = await call((cb) => c.wsc.sendMessage('no_such_action', {}, cb));
    assert.equal(unknown.status, 'FAIL', safeJson(unknown));
    // before authenticating, nothing is served (no pong)
    const anon = await raw(t, 'unauthenticated');
    const seq = anon.send('ping');
    await sleep(300);
    assert.notEqual(anon.reply(seq) && anon.reply(seq).status, 'OK', 'an unauthenticated ping was served');

    const ping = await call((cb) => a.wsc.sendMessage('ping', null, cb));
    assert.equal(ping.data.text, 'pong');
    await sleep(100);
    a.healthy();
    c.healthy();
});

test('presence and posted_notify_ack, as the web app sends them: OK by seq_reply, whatever the data', T, async (t) => {
    const w = await world('wspres');
    const a = await official(t, w.alice.token, 'alice');
    const call = (fn) => new Promise((resolve) => fn(resolve));
    const ok = (reply, what) => {
        assert.equal(reply.status, 'OK', `${what}: ${safeJson(reply)}`);
        assert.equal(reply.error, undefined, `${what}: no error`);
        assert.equal(reply.data, undefined, `${what}: no data (Mattermost's reply carries none)`);
    };
    // the three forms of the official client (switching channel, team, thread)
    ok(await call((cb) => a.wsc.updateActiveChannel(w.open.id, cb)), 'presence {channel_id}');
    ok(await call((cb) => a.wsc.updateActiveTeam(w.team.id, cb)), 'presence {team_id}');
    ok(await call((cb) => a.wsc.updateActiveThread(true, w.open.id, cb)), 'presence {thread_channel_id, thread view}');
    ok(await call((cb) => a.wsc.updateActiveThread(false, w.open.id, cb)), 'presence {thread_channel_id, RHS}');
    // leaving a channel for none: the web app sends an empty id
    ok(await call((cb) => a.wsc.updateActiveChannel('', cb)), 'presence {channel_id: ""}');

    // a raw socket: posted_notify_ack as the client builds it (it passes no
    // callback), and both actions with data Mattermost ignores
    const r = await raw(t, 'raw', {headers: bearer(w.bob.token)});
    const p = await w.alice.client.createPost({channel_id: w.open.id, message: 'ack me'});
    ok(await r.request('posted_notify_ack', {post_id: p.id, user_agent: 'node', status: 'success',
        reason: '', data: ''}), 'posted_notify_ack');
    ok(await r.request('posted_notify_ack', {post_id: p.id, status: 'not_sent', reason: 'user_status',
        post_type: 'system_generic'}), 'posted_notify_ack not_sent');
    ok(await r.request('posted_notify_ack'), 'posted_notify_ack without data');
    ok(await r.request('posted_notify_ack', {status: null, reason: 5}), 'posted_notify_ack odd data');
    ok(await r.request('presence', {channel_id: 5, team_id: null}), 'presence odd data');
    ok(await r.request('presence'), 'presence without data');
    // the unknown action still fails as Mattermost's router does
    const unknown = await r.request('presence_indicator', {channel_id: w.open.id});
    assert.equal(unknown.status, 'FAIL', safeJson(unknown));
    assert.equal(unknown.error.id, 'api.web_socket_router.bad_action.app_error');
    r.checkSeq();
    a.healthy();
});

test('posted: the channel\'s members get it (Post as a JSON string); non-members never, even of the team',
    T, async (t) => {
        const w = await world('wspost');
        const {a, b, c, d} = await sockets(t, w);
        const p = await w.alice.client.createPost({channel_id: w.priv.id, message: 'private words'});
        for (const s of [a, b]) {
            const e = await s.wait('posted', isPost(p.id));
            const post = postIn(e);
            assert.equal(post.message, 'private words');
            assert.equal(post.channel_id, w.priv.id);
            assert.equal(post.user_id, w.alice.user.id);
            assert.equal(post.create_at, p.create_at);
            assert.equal(e.broadcast.channel_id, w.priv.id);
            assert.equal(e.data.channel_type, 'P');
            assert.equal(e.data.channel_name, w.priv.name);
            assert.equal(e.data.channel_display_name, w.priv.display_name);
            assert.equal(e.data.team_id, w.team.id);
            assert.ok(String(e.data.sender_name).includes(w.alice.user.username), `sender_name ${e.data.sender_name}`);
            assert.equal(e.data.set_online, true);
        }
        // an open channel: still only its members (carol is in the team, not in it)
        const q = await w.bob.client.createPost({channel_id: w.open.id, message: 'open words'});
        for (const s of [a, b]) {
            const e = await s.wait('posted', isPost(q.id));
            assert.equal(e.data.channel_type, 'O');
            assert.ok(String(e.data.sender_name).includes(w.bob.user.username));
        }
        await sleep(SETTLE);
        for (const s of [c, d]) {
            s.none('posted');
        }
        // once carol joins the open channel she gets its next post
        await w.carol.client.addToChannel(w.carol.user.id, w.open.id);
        const r = await w.alice.client.createPost({channel_id: w.open.id, message: 'now carol too'});
        await c.wait('posted', isPost(r.id));
        await w.alice.client.createPost({channel_id: w.priv.id, message: 'still private'});
        await b.wait('posted', (e) => postIn(e).message === 'still private');
        await sleep(SETTLE);
        c.none('posted', (e) => postIn(e).channel_id === w.priv.id);
        d.none('posted');
        for (const s of [a, b, c, d]) {
            s.healthy();
        }
    });

test('posted with a mention: data.mentions is a JSON array string with the mentioned user', T, async (t) => {
    const w = await world('wsment');
    const {a, b} = await sockets(t, w);
    const p = await w.alice.client.createPost({channel_id: w.open.id, message: `hi @${w.bob.user.username} there`});
    const e = await b.wait('posted', isPost(p.id));
    assert.equal(typeof e.data.mentions, 'string', `mentions is a JSON string: ${safeJson(e.data)}`);
    assert.ok(JSON.parse(e.data.mentions).includes(w.bob.user.id), `mentions ${e.data.mentions}`);
    await a.wait('posted', isPost(p.id));
    a.healthy();
    b.healthy();
});

test('post_edited and post_deleted: channel members only, the Post as a JSON string', T, async (t) => {
    const w = await world('wsedit');
    const {a, b, c, d} = await sockets(t, w);
    const p = await w.alice.client.createPost({channel_id: w.priv.id, message: 'first'});
    await w.alice.client.patchPost({id: p.id, message: 'second'});
    for (const s of [a, b]) {
        const e = await s.wait('post_edited', isPost(p.id));
        const post = postIn(e);
        assert.equal(post.message, 'second');
        assert.ok(post.edit_at > 0, 'edit_at is set');
        assert.equal(e.broadcast.channel_id, w.priv.id);
    }
    await w.alice.client.deletePost(p.id);
    for (const s of [a, b]) {
        const e = await s.wait('post_deleted', isPost(p.id));
        assert.equal(postIn(e).channel_id, w.priv.id);
        assert.equal(e.broadcast.channel_id, w.priv.id);
        // in order: posted, post_edited, post_deleted
        const order = s.events.filter((x) => ['posted', 'post_edited', 'post_deleted'].includes(x.event))
            .map((x) => x.event);
        assert.deepEqual(order, ['posted', 'post_edited', 'post_deleted']);
    }
    await sleep(SETTLE);
    for (const s of [c, d]) {
        s.none('post_edited');
        s.none('post_deleted');
    }
    for (const s of [a, b, c, d]) {
        s.healthy();
    }
});

test('typing: the channel\'s other members get it; never the sender (none of its sockets) nor non-members',
    T, async (t) => {
        const w = await world('wstype');
        const {a, b, c, d} = await sockets(t, w);
        const a2 = await official(t, w.alice.token, 'alice-2');
        const root = await w.alice.client.createPost({channel_id: w.open.id, message: 'root'});
        const reply = await new Promise((resolve) => a.wsc.userTyping(w.open.id, root.id, resolve));
        assert.equal(reply.status, 'OK', safeJson(reply));
        assert.equal(reply.error, undefined);
        assert.equal(reply.data, undefined, 'an empty OK');
        const e = await b.wait('typing');
        assert.deepEqual(e.data, {parent_id: root.id, user_id: w.alice.user.id});
        assert.equal(e.broadcast.channel_id, w.open.id);
        assert.deepEqual(e.broadcast.omit_users, {[w.alice.user.id]: true});
        // bob types back without a parent: alice's two sockets get it
        await new Promise((resolve) => b.wsc.userTyping(w.open.id, '', resolve));
        for (const s of [a, a2]) {
            const back = await s.wait('typing');
            assert.deepEqual(back.data, {parent_id: '', user_id: w.bob.user.id});
        }
        await sleep(SETTLE);
        a.none('typing', (x) => x.data.user_id === w.alice.user.id);
        a2.none('typing', (x) => x.data.user_id === w.alice.user.id);
        b.none('typing', (x) => x.data.user_id === w.bob.user.id);
        c.none('typing');
        d.none('typing');
        for (const s of [a, a2, b, c, d]) {
            s.healthy();
        }
    });

test('status_change: only to the user whose status changed (all of its sockets)', T, async (t) => {
    const w = await world('wsstat');
    const {a, b, c} = await sockets(t, w);
    const b2 = await raw(t, 'bob raw', {headers: bearer(w.bob.token)});
    await until(() => b2.hello(), 3000, 'bob raw hello');
    for (const status of ['away', 'dnd', 'online']) {
        const seen = [b, b2].map((s) => s.all('status_change').length);
        await w.bob.client.updateStatus({user_id: w.bob.user.id, status});
        for (const [i, s] of [b, b2].entries()) {
            const e = await until(() => s.all('status_change').slice(seen[i]).find((x) => x.data.status === status),
                3000, `${s.label}: status_change to ${status}`);
            assert.equal(e.data.user_id, w.bob.user.id);
            assert.equal(e.broadcast.user_id, w.bob.user.id);
        }
    }
    // the admin sets bob's status: still bob's news only
    const {client: adm} = await admin();
    await adm.updateStatus({user_id: w.bob.user.id, status: 'offline'});
    await b.wait('status_change', (x) => x.data.status === 'offline');
    await sleep(SETTLE);
    for (const s of [a, c]) {
        s.none('status_change', (x) => x.data.user_id === w.bob.user.id);
    }
    for (const s of [a, b, c]) {
        s.healthy();
    }
    b2.checkSeq();
});

test('channel_created goes to the creator only; user_added to the channel\'s members, the added user included',
    T, async (t) => {
        const w = await world('wschan');
        const {a, b, c, d} = await sockets(t, w);
        const ch = await w.alice.client.createChannel({team_id: w.team.id, name: unique('new-'), display_name: 'New',
            type: 'O'});
        const e = await a.wait('channel_created', (x) => x.data.channel_id === ch.id);
        assert.equal(e.data.team_id, w.team.id);
        assert.equal(e.broadcast.user_id, w.alice.user.id);

        await w.alice.client.addToChannel(w.carol.user.id, w.priv.id);
        for (const s of [a, b, c]) {
            const x = await s.wait('user_added', (y) => y.broadcast.channel_id === w.priv.id);
            assert.equal(x.data.user_id, w.carol.user.id);
            assert.equal(x.data.team_id, w.team.id);
        }
        await sleep(SETTLE);
        for (const s of [b, c, d]) {
            s.none('channel_created');
        }
        d.none('user_added');
        for (const s of [a, b, c, d]) {
            s.healthy();
        }
    });

test('added_to_team goes to the added user only', T, async (t) => {
    const w = await world('wsteam');
    const {a, b, d} = await sockets(t, w);
    await w.alice.client.addToTeam(w.team.id, w.dave.user.id);
    const e = await d.wait('added_to_team');
    assert.equal(e.data.team_id, w.team.id);
    assert.equal(e.data.user_id, w.dave.user.id);
    assert.equal(e.broadcast.user_id, w.dave.user.id);
    await sleep(SETTLE);
    a.none('added_to_team');
    b.none('added_to_team');
    for (const s of [a, b, d]) {
        s.healthy();
    }
});

test('direct_added goes to both users of the direct channel and nobody else', T, async (t) => {
    const w = await world('wsdm');
    const {a, b, c, d} = await sockets(t, w);
    const dm = await w.alice.client.createDirectChannel([w.alice.user.id, w.dave.user.id]);
    for (const s of [a, d]) {
        const e = await s.wait('direct_added');
        assert.equal(e.broadcast.channel_id, dm.id);
        assert.equal(e.data.creator_id, w.alice.user.id);
        assert.equal(e.data.teammate_id, w.dave.user.id);
    }
    // and a post in it reaches both
    const p = await w.dave.client.createPost({channel_id: dm.id, message: 'psst'});
    for (const s of [a, d]) {
        const e = await s.wait('posted', isPost(p.id));
        assert.equal(e.data.channel_type, 'D');
    }
    await sleep(SETTLE);
    for (const s of [b, c]) {
        s.none('direct_added');
        s.none('posted', isPost(p.id));
    }
    for (const s of [a, b, c, d]) {
        s.healthy();
    }
});

test('new_user goes to every authenticated socket, not to an unauthenticated one', T, async (t) => {
    const w = await world('wsnew');
    const socks = Object.values(await sockets(t, w));
    const anon = await raw(t, 'unauthenticated');
    const {client: adm} = await admin();
    const name = unique('wsfresh');
    const u = await adm.createUser({username: name, email: `${name}@example.com`, password: 'long-enough-1'});
    for (const s of socks) {
        const e = await s.wait('new_user', (x) => x.data.user_id === u.id);
        assert.equal(e.broadcast.user_id, '');
        assert.equal(e.broadcast.channel_id, '');
        assert.equal(e.broadcast.team_id, '');
    }
    await sleep(SETTLE);
    assert.deepEqual(anon.events, [], 'an unauthenticated socket gets no events');
    for (const s of socks) {
        s.healthy();
    }
});

test('seq: per connection from 0 without gaps, replies not counted, interleaved with requests', T, async (t) => {
    const w = await world('wsseq');
    const a = await official(t, w.alice.token, 'alice');
    const b = await official(t, w.bob.token, 'bob');
    const n = 30;
    const posting = (async () => {
        for (let i = 0; i < n; i++) {
            await w.alice.client.createPost({channel_id: w.open.id, message: `seq ${i}`});
        }
    })();
    // requests interleaved with the events
    for (let i = 0; i < 20; i++) {
        b.wsc.getStatusesByIds([w.alice.user.id]);
        b.wsc.sendMessage('ping', null);
        await sleep(5);
    }
    await posting;
    for (const s of [a, b]) {
        await until(() => s.all('posted').length === n, 5000,
            () => `${s.label}: ${n} posted (got ${s.all('posted').length})`);
        assert.deepEqual(s.all('posted').map((e) => postIn(e).message), [...Array(n).keys()].map((i) => `seq ${i}`),
            'in the order they were made');
    }
    await until(() => b.reply(42), 3000, 'the 40 replies (seq 3..42)');
    for (const s of [a, b]) {
        s.healthy();
    }
    // the client's own count agrees: next expected seq = events received
    assert.equal(b.wsc.serverSequence, b.events.length);
});

test('across the workers: 8 sockets of one user each get every post; typing crosses too', T, async (t) => {
    const w = await world('wsxw');
    const bobs = await Promise.all([...Array(8).keys()].map((i) => official(t, w.bob.token, `bob-${i}`)));
    const alices = await Promise.all([...Array(4).keys()].map((i) => official(t, w.alice.token, `alice-${i}`)));
    const ids = new Set([...bobs, ...alices].map((s) => s.hello().data.connection_id));
    assert.equal(ids.size, 12, 'distinct connection ids');
    const posts = [];
    for (let i = 0; i < 5; i++) {
        // each on a connection of its own (any worker)
        posts.push(await restOnNewConnection(w.alice.token, 'POST', '/posts',
            {channel_id: i % 2 ? w.open.id : w.priv.id, message: `xw ${i}`}));
    }
    for (const s of [...bobs, ...alices]) {
        await until(() => posts.every((p) => s.find('posted', isPost(p.id))), 5000,
            () => `${s.label}: all 5 posts (got ${s.all('posted').length})`);
    }
    await new Promise((resolve) => bobs[3].wsc.userTyping(w.open.id, '', resolve));
    for (const s of alices) {
        await s.wait('typing', (e) => e.data.user_id === w.bob.user.id);
    }
    await sleep(SETTLE);
    for (const s of bobs) {
        s.none('typing');
    }
    for (const s of [...bobs, ...alices]) {
        s.healthy();
    }
});

test('membership changes reach every worker at once: warm caches, then the next post reaches the new member',
    T, async (t) => {
        const w = await world('wsmem');
        const four = (u, name) => Promise.all([...Array(4).keys()].map((i) => official(t, u.token, `${name}-${i}`)));
        const [alices, carols, daves] = await Promise.all([four(w.alice, 'alice'), four(w.carol, 'carol'),
            four(w.dave, 'dave')]);
        // every worker delivers a post of the private channel (alice has
        // sockets on both): its members are known there, carol not among them
        const p0 = await w.alice.client.createPost({channel_id: w.priv.id, message: 'before carol'});
        for (const s of alices) {
            await s.wait('posted', isPost(p0.id));
        }
        // the change and the post on connections of their own: any two workers
        await restOnNewConnection(w.alice.token, 'POST', `/channels/${w.priv.id}/members`, {user_id: w.carol.user.id});
        const p1 = await restOnNewConnection(w.alice.token, 'POST', '/posts',
            {channel_id: w.priv.id, message: 'carol is in'});
        for (const s of carols) {
            await s.wait('user_added', (e) => e.broadcast.channel_id === w.priv.id);
            await s.wait('posted', isPost(p1.id));
            s.none('posted', isPost(p0.id));
        }
        // a new direct channel and its first post, at once
        const dm = await restOnNewConnection(w.alice.token, 'POST', '/channels/direct',
            [w.alice.user.id, w.dave.user.id]);
        const p2 = await restOnNewConnection(w.dave.token, 'POST', '/posts', {channel_id: dm.id, message: 'hi dave'});
        for (const s of daves) {
            await s.wait('direct_added', (e) => e.broadcast.channel_id === dm.id);
            await s.wait('posted', isPost(p2.id));
        }
        // dave joins the team; the team's new channel and its post reach him
        await w.alice.client.addToTeam(w.team.id, w.dave.user.id);
        for (const s of daves) {
            await s.wait('added_to_team', (e) => e.data.team_id === w.team.id);
        }
        await restOnNewConnection(w.dave.token, 'POST', `/channels/${w.open.id}/members`, {user_id: w.dave.user.id});
        const p3 = await restOnNewConnection(w.alice.token, 'POST', '/posts',
            {channel_id: w.open.id, message: 'welcome dave'});
        for (const s of daves) {
            await s.wait('posted', isPost(p3.id));
        }
        for (const s of [...alices, ...carols, ...daves]) {
            s.healthy();
        }
    });

test('logout closes every socket of that session (any worker); others keep theirs', T, async (t) => {
    const w = await world('wsout');
    const bobs = await Promise.all([...Array(4).keys()].map((i) => official(t, w.bob.token, `bob-${i}`)));
    const cookie = await raw(t, 'bob by cookie', {headers: {Cookie: `MMAUTHTOKEN=${w.bob.token}`}});
    await until(() => cookie.hello(), 3000, 'cookie hello');
    const a = await official(t, w.alice.token, 'alice');
    await w.bob.client.logout();
    for (const s of bobs) {
        await until(() => s.closes.length > 0, 3000, `${s.label} to be closed by the logout`);
        s.dispose(); // no reconnect with the dead token
    }
    await cookie.waitClosed(3000, 'closed by the logout');
    const p = await w.alice.client.createPost({channel_id: w.open.id, message: 'after logout'});
    await a.wait('posted', isPost(p.id));
    a.healthy();
    for (const s of bobs) {
        s.none('posted', isPost(p.id));
    }
    // the dead token no longer authenticates a socket
    const again = await raw(t, 'challenge with the revoked token');
    again.send('authentication_challenge', {token: w.bob.token});
    await again.waitClosed(3000);
    assert.equal(again.hello(), undefined);
});

test('logout of one session leaves the same user\'s other session and its socket alone', T, async (t) => {
    const w = await world('wsout2');
    const other = client();
    await other.login(w.bob.user.username, w.bob.password);
    assert.notEqual(other.getToken(), w.bob.token);
    const s1 = await official(t, w.bob.token, 'bob session 1');
    const s2 = await official(t, other.getToken(), 'bob session 2');
    await w.bob.client.logout();
    await until(() => s1.closes.length > 0, 3000, 'session 1\'s socket closed');
    s1.dispose();
    const p = await w.alice.client.createPost({channel_id: w.open.id, message: 'still here'});
    await s2.wait('posted', isPost(p.id));
    s2.healthy();
});

test('garbage frames close only that socket; the user\'s other sockets keep receiving', T, async (t) => {
    const w = await world('wsjunk');
    const o = await official(t, w.bob.token, 'bob official');
    const clean = await raw(t, 'bob clean raw', {headers: bearer(w.bob.token)});
    const junk = [
        ['text garbage', (s) => s.send('this is not json {')],
        ['truncated JSON', (s) => s.send('{"action":"ping","seq":1')],
        ['binary garbage', (s) => s.send(Buffer.from([0xff, 0x00, 0x81, 0xfe, 0x7b]), {binary: true})],
        ['JSON that is not an object', (s) => s.send('[1,2,3]')],
        // a masked text frame whose payload is not UTF-8 ("{\xc3(}")
        ['text frame of invalid UTF-8',
            (s) => s._socket.write(Buffer.from([0x81, 0x84, 0, 0, 0, 0, 0x7b, 0xc3, 0x28, 0x7d]))],
    ];
    const bad = [];
    for (const [label, send] of junk) {
        const r = await raw(t, label, {headers: bearer(w.bob.token)});
        await until(() => r.hello(), 3000, `${label}: hello`);
        send(r.sock);
        bad.push(r);
    }
    // one more authenticated by challenge, then garbage
    const c = await raw(t, 'challenge then garbage');
    await c.request('authentication_challenge', {token: w.bob.token});
    c.sock.send('\u0000\u0001 nope');
    bad.push(c);
    for (const r of bad) {
        await r.waitClosed(3000, 'closed for its garbage');
    }
    const p = await w.alice.client.createPost({channel_id: w.open.id, message: 'after garbage'});
    await o.wait('posted', isPost(p.id));
    await clean.wait('posted', isPost(p.id));
    assert.equal((await clean.request('ping')).data.text, 'pong');
    assert.ok(clean.isOpen());
    o.healthy();
    clean.checkSeq();
});

test('framing: a request in fragments is served, a ping frame gets its pong, a close gets a close', T, async (t) => {
    const {client: c} = await newUser('wsframe');
    const r = await raw(t, 'framed', {headers: bearer(c.getToken())});
    await until(() => r.hello(), 3000, 'hello');
    r.sock.send('{"action":"ping",', {fin: false});
    r.sock.send('"seq":1}', {fin: true});
    await until(() => r.reply(1), 3000, 'the pong to a fragmented request');
    assert.equal(r.reply(1).data.text, 'pong');
    const pong = new Promise((resolve) => r.sock.once('pong', (data) => resolve(data.toString())));
    r.sock.ping('are you there');
    assert.equal(await Promise.race([pong, sleep(2000).then(() => 'no pong')]), 'are you there');
    r.sock.close(1000, 'bye');
    await r.waitClosed(3000, 'closed after our close');
    assert.equal(r.closed.code, 1000, 'the server echoes the close code');
    r.checkSeq();
});

test('a frame over MaximumPayloadSizeBytes closes that socket; a large one under it is served', T, async (t) => {
    const w = await world('wsbig');
    const o = await official(t, w.bob.token, 'bob official');
    const under = await raw(t, 'under the limit', {headers: bearer(w.bob.token)});
    const over = await raw(t, 'over the limit', {headers: bearer(w.bob.token)});
    await until(() => under.hello() && over.hello(), 3000, 'hellos');
    const pad = (n) => JSON.stringify({action: 'ping', seq: 1, data: {pad: 'x'.repeat(n)}});
    const small = pad(MAX_PAYLOAD - 1000);
    assert.ok(small.length < MAX_PAYLOAD);
    under.sock.send(small);
    await until(() => under.reply(1), 3000, 'the pong to a frame under the limit');
    assert.equal(under.reply(1).data.text, 'pong');
    over.sock.send(pad(MAX_PAYLOAD + 1000));
    await over.waitClosed(3000, 'closed for its oversized frame');
    assert.equal(over.reply(1), undefined, 'the oversized request was not served');
    const p = await w.alice.client.createPost({channel_id: w.open.id, message: 'after the big one'});
    await o.wait('posted', isPost(p.id));
    await under.wait('posted', isPost(p.id));
    o.healthy();
    under.checkSeq();
});

test('a reconnect with connection_id and sequence_number gets a new connection id and hello at seq 0', T, async (t) => {
    const {client: c} = await newUser('wsre');
    const token = c.getToken();
    const first = await raw(t, 'first', {headers: bearer(token)});
    await until(() => first.hello(), 3000, 'first hello');
    const cid = first.hello().data.connection_id;
    first.sock.close();
    await first.waitClosed(3000, 'closed by us');
    const again = await raw(t, 'reconnect', {headers: bearer(token), query: `?connection_id=${cid}&sequence_number=1`});
    await until(() => again.hello(), 3000, 'hello on the reconnect');
    assert.equal(again.frames[0].event, 'hello');
    assert.equal(again.frames[0].seq, 0);
    assert.notEqual(again.hello().data.connection_id, cid);
    assert.match(again.hello().data.connection_id, ID);
    // the official client's own query on a first connect (empty connection id)
    const o = await official(t, token, 'official');
    assert.ok(o.sockets[0].url.includes('connection_id=&sequence_number=0'));
    o.healthy();
});

test('a slow consumer (stops reading while many posts are made) is closed; the normal sockets get everything',
    {timeout: 20000}, async (t) => {
        const w = await world('wsslow');
        // several normal sockets, so that some share the slow one's worker
        const normals = await Promise.all([0, 1, 2].map((i) => official(t, w.bob.token, `bob normal-${i}`)));
        const alice = await official(t, w.alice.token, 'alice');
        const slow = await raw(t, 'bob slow', {headers: bearer(w.bob.token)});
        await until(() => slow.hello(), 3000, 'slow hello');
        slow.sock.pause(); // stop reading: the kernel buffers fill, then the server's queue
        const n = SLOW_POSTS;
        const body = SLOW_BODY;
        let made = 0;
        const poster = async () => {
            while (made < n) {
                made++;
                await w.alice.client.createPost({channel_id: w.open.id, message: body});
            }
        };
        await Promise.all([...Array(8).keys()].map(poster));
        for (const s of [...normals, alice]) {
            await until(() => s.all('posted').length === n, 8000,
                () => `${s.label}: ${n} posted (got ${s.all('posted').length})`);
        }
        slow.sock.resume();
        await slow.waitClosed(3000, 'closed as a slow consumer');
        const got = slow.all('posted').length;
        t.diagnostic(`the slow socket got ${got} of ${n} posted; closed with ${slow.closed.code}`);
        assert.ok(got < n, `the slow socket was cut off (got ${got} of ${n})`);
        slow.checkSeq();
        for (const s of [...normals, alice]) {
            s.healthy();
        }
    });

test('user_update_active_status: inactive → away, active again → online; a manual status is kept', T, async (t) => {
    const w = await world('wsact');
    const a = await official(t, w.alice.token, 'alice');
    await becomesOnline(w.alice.client, w.alice.user.id, 'after connecting');
    const call = (fn) => new Promise((resolve) => fn(resolve));
    const statusIs = async (want) => {
        let last;
        for (const end = Date.now() + 3000; Date.now() < end; await sleep(50)) {
            last = (await w.alice.client.getStatus(w.alice.user.id)).status;
            if (last === want) {
                return;
            }
        }
        assert.equal(last, want, 'alice\'s status');
    };

    const idle = await call((cb) => a.wsc.sendMessage('user_update_active_status', {user_is_active: false, manual: false}, cb));
    assert.equal(idle.status, 'OK', safeJson(idle));
    await statusIs('away');
    await call((cb) => a.wsc.sendMessage('user_update_active_status', {user_is_active: true, manual: false}, cb));
    await statusIs('online');
    const bad = await call((cb) => a.wsc.sendMessage('user_update_active_status', {user_is_active: 'yes'}, cb));
    assert.equal(bad.status, 'FAIL', safeJson(bad));
    // dnd set by hand survives activity reports
    await w.alice.client.updateStatus({user_id: w.alice.user.id, status: 'dnd'});
    await call((cb) => a.wsc.sendMessage('user_update_active_status', {user_is_active: true, manual: false}, cb));
    await sleep(300);
    assert.equal((await w.alice.client.getStatus(w.alice.user.id)).status, 'dnd');
    a.healthy();
});

// The upgrade's status and body, or the opened socket (closed at once).
function upgradeWith(headers) {
    return new Promise((resolve) => {
        const sock = new WebSocket(WS_URL, {headers});
        sock.on('unexpected-response', (req, res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({status: res.statusCode, body}));
        });
        sock.on('open', () => {
            sock.terminate();
            resolve({status: 101});
        });
        sock.on('error', () => resolve({status: 0}));
    });
}

test('the upgrade refuses another site\'s Origin (403) and takes its own, or none (AllowCorsFrom empty)', T, async () => {
    const {client: c} = await newUser('wsorigin');
    const auth = bearer(c.getToken());
    const host = new globalThis.URL(URL).host;
    // a page of another site, riding the victim's cookie, must not get their events
    const evil = await upgradeWith({...auth, Origin: 'https://evil.example'});
    assert.equal(evil.status, 403, JSON.stringify(evil));
    assert.equal(JSON.parse(evil.body).id, 'api.web_socket.connect.upgrade.app_error');
    const lookalike = await upgradeWith({...auth, Origin: `http://${host}.evil.example`});
    assert.equal(lookalike.status, 403);
    assert.equal((await upgradeWith({...auth, Origin: `http://${host}`})).status, 101, 'the same site');
    assert.equal((await upgradeWith(auth)).status, 101, 'no Origin: not a browser');
});

test('a client that pings and never reads gets no pongs once a write waits: our output stays bounded',
    {timeout: 30000}, async (t) => {
    const {client: c} = await newUser('wspings');
    const sock = new WebSocket(WS_URL, {headers: bearer(c.getToken())});
    t.after(() => sock.terminate());
    await new Promise((resolve, reject) => sock.once('open', resolve).once('error', reject));
    let pongs = 0;
    sock.on('pong', () => pongs++);
    sock._socket.pause(); // reads nothing from now on: the kernel buffers fill with pongs
    const N = 300000; // 131-byte frames: some 40 MB of pongs were each answered
    const payload = Buffer.alloc(125, 'p');
    for (let i = 0; i < N; i++) {
        sock.ping(payload);
    }
    await until(() => sock._socket.writableLength === 0, 8000, 'every ping sent');
    await sleep(300);
    sock._socket.resume();
    for (let last = -1; pongs !== last;) { // until 300 ms bring no pong
        last = pongs;
        await sleep(300);
    }
    assert.ok(pongs < N / 2, `${pongs} pongs for ${N} pings: those sent while a write waited were dropped`);
    assert.ok(sock.readyState === WebSocket.OPEN, 'the socket itself is fine: it read again in time');
});

test('actions are throttled per socket: a burst of 50, then 10 a second; the excess is answered FAIL 429, not served', T, async (t) => {
    const {client: c} = await newUser('wsrate');
    const s = await raw(t, 'flooder', {headers: bearer(c.getToken())});
    await s.wait('hello');
    const seqs = Array.from({length: 120}, () => s.send('ping'));
    await until(() => seqs.every((q) => s.reply(q)), 5000, 'a reply to each of 120 pings');
    const replies = seqs.map((q) => s.reply(q));
    const ok = replies.filter((r) => r.status === 'OK').length;
    const refused = replies.filter((r) => r.status === 'FAIL');
    assert.ok(ok >= 50 && ok < 70, `${ok} of 120 pings sent at once were served`);
    assert.equal(ok + refused.length, 120);
    for (const r of refused) {
        assert.equal(r.error.id, 'api.web_socket_router.rate_limit.app_error', safeJson(r));
        assert.equal(r.error.status_code, 429);
    }
    // the bucket refills: half a second later pings are served again, and the socket stayed open
    await sleep(500);
    assert.equal((await s.request('ping')).status, 'OK');
    assert.ok(s.isOpen());
    // another socket of the same user has its own bucket
    const other = await raw(t, 'other', {headers: bearer(c.getToken())});
    await other.wait('hello');
    assert.equal((await other.request('ping')).status, 'OK');
});
