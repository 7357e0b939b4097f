// What the API test files share: clients, the admin, fresh users, a way to
// assert a ClientError, the raw WebSocket recorder, and the team/channel
// world the WebSocket tests post into.  Every test file makes its own users and teams
// (names with a random suffix), so files can run in parallel on one server.
//   CHORUS_URL                                  the node under test
//   CHORUS_ADMIN_LOGIN, CHORUS_ADMIN_PASSWORD   its first user (system admin)
import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import mm from '@mattermost/client';
import WebSocket from 'ws';

// CommonJS module: its named exports are reachable through the default one.
export const {Client4, ClientError} = mm;
export const URL = process.env.CHORUS_URL;
export const T = {timeout: 15000};

export function client(url = URL) {
    assert.ok(url, 'CHORUS_URL must be set');
    const c = new Client4();
    c.setUrl(url);
    return c;
}

// ---- several nodes (CHORUS_URLS=a,b,c: tests/integration/test_cluster.sh) ----

export const URLS = (process.env.CHORUS_URLS ?? '').split(',');

// The admin, logged in on node `url`.
export async function adminOn(url) {
    const c = client(url);
    await c.login(process.env.CHORUS_ADMIN_LOGIN, process.env.CHORUS_ADMIN_PASSWORD);
    return c;
}

// A new user created through the first node, logged in on node `url`.
export async function userOn(url, prefix) {
    const a = await adminOn(URLS[0]);
    const username = unique(prefix);
    const password = `pw-${randomBytes(6).toString('hex')}`;
    await a.createUser({username, email: `${username}@example.com`, password});
    const c = client(url);
    const user = await c.login(username, password);
    return {client: c, user};
}

// The official WebSocketClient logs its every step with console.log: only
// other lines get through.
export function quietWebSocketClient() {
    const log = console.log;
    console.log = (...args) => {
        if (typeof args[0] === 'string' &&
            /^(websocket|got connection id|ping received|long timeout|missed websocket)/.test(args[0])) {
            return;
        }
        log(...args);
    };
}

// A short random suffix for unique names.
export function unique(prefix) {
    return `${prefix}${randomBytes(5).toString('hex')}`;
}

// Awaits a promise that must reject with a ClientError; returns the error.
export async function clientError(promise, status, id) {
    let err;
    try {
        await promise;
    } catch (e) {
        err = e;
    }
    assert.ok(err, 'the request resolved; expected a ClientError');
    assert.ok(err instanceof ClientError, `expected a ClientError, got ${err && err.stack}`);
    if (status !== undefined) {
        assert.equal(err.status_code, status, `status_code (${err.server_error_id}: ${err.message})`);
    }
    if (id !== undefined) {
        assert.equal(err.server_error_id, id);
    }
    return err;
}

let adminPromise;
// The system admin, logged in (one login per test file).
export function admin() {
    if (!adminPromise) {
        adminPromise = (async () => {
            const c = client();
            const me = await c.login(process.env.CHORUS_ADMIN_LOGIN, process.env.CHORUS_ADMIN_PASSWORD);
            return {client: c, user: me};
        })();
    }
    return adminPromise;
}

// A new user created by the admin, logged in with its own client.
export async function newUser(prefix = 'user') {
    const {client: a} = await admin();
    const username = unique(prefix);
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const created = await a.createUser({username, email: `${username}@example.com`, password});
    const c = client();
    const user = await c.login(username, password);
    assert.equal(user.id, created.id);
    return {client: c, user, password};
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls a synchronous predicate until it holds (returns its value) or fails
// the test after `ms`; `what` (a string or a function) names what was awaited.
export async function until(pred, ms, what) {
    const end = Date.now() + ms;
    for (;;) {
        const v = pred();
        if (v) {
            return v;
        }
        if (Date.now() > end) {
            assert.fail(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`);
        }
        await sleep(10);
    }
}

// The official WebSocketClient needs a global WebSocket (Node 20 has none)
// and builds CloseEvent objects (global only from Node 23).
export function installWebSocketGlobals() {
    globalThis.WebSocket = WebSocket;
    if (typeof globalThis.CloseEvent === 'undefined') {
        globalThis.CloseEvent = class CloseEvent extends Event {
            constructor(type, init = {}) {
                super(type);
                this.code = init.code ?? 0;
                this.reason = init.reason ?? '';
                this.wasClean = Boolean(init.wasClean);
            }
        };
    }
}

// ---- WebSockets ----

// The WebSocket endpoint of node `url`.
export const wsUrl = (url = URL) => `${String(url ?? '').replace(/^http/, 'ws')}/api/v4/websocket`;
export const bearer = (token) => ({Authorization: `BEARER ${token}`});

export function safeJson(v) {
    try {
        return JSON.stringify(v);
    } catch {
        return String(v);
    }
}

// What one connection received: every frame in order (events and replies).
export class Frames {
    constructor(label) {
        this.label = label;
        this.frames = [];
        this.closed = null; // {code, reason, at} of the last underlying socket
        this.error = null;
    }

    record(text) {
        let m;
        try {
            m = JSON.parse(text);
        } catch {
            m = null;
        }
        if (!m || typeof m !== 'object' || Array.isArray(m)) {
            m = {unparsable: String(text).slice(0, 200)};
        }
        m.at = Date.now();
        this.frames.push(m);
    }

    get events() {
        return this.frames.filter((f) => f.seq_reply === undefined);
    }

    hello() {
        return this.frames.find((f) => f.event === 'hello');
    }

    reply(seq) {
        return this.frames.find((f) => f.seq_reply === seq);
    }

    all(event, pred = () => true) {
        return this.events.filter((e) => e.event === event && pred(e));
    }

    find(event, pred = () => true) {
        return this.all(event, pred)[0];
    }

    async wait(event, pred = () => true, ms = 3000) {
        return until(() => this.find(event, pred), ms,
            () => `${this.label} to receive "${event}" (got: ${this.events.map((e) => e.event).join(', ')})`);
    }

    none(event, pred = () => true) {
        const got = this.find(event, pred);
        assert.equal(got, undefined, `${this.label} must not receive this "${event}": ${safeJson(got)}`);
    }

    // "posted#3, typing#4": for messages.
    describe() {
        return this.events.map((e) => `${e.event}#${e.seq}`).join(', ');
    }

    // Per connection: events carry seq 0, 1, 2... without gaps; replies
    // carry seq_reply and no seq; every frame is JSON.
    checkSeq() {
        for (const f of this.frames) {
            assert.equal(f.unparsable, undefined, `${this.label}: a frame that is not JSON: ${f.unparsable}`);
        }
        this.events.forEach((e, i) => {
            assert.equal(e.seq, i, `${this.label}: event #${i} ("${e.event}") has seq ${e.seq}`);
        });
        for (const r of this.frames.filter((f) => f.seq_reply !== undefined)) {
            assert.equal(r.seq, undefined, `${this.label}: a reply with a seq: ${safeJson(r)}`);
        }
    }
}

// A raw `ws` socket to node `url` (headers at the upgrade, `query` after the
// path), recording what it receives; `opened` resolves to whether the
// upgrade went through.
export class RawSocket extends Frames {
    constructor(t, label, {url = URL, headers, query = ''} = {}) {
        super(label);
        this.nextSeq = 1;
        this.sock = new WebSocket(wsUrl(url) + query, headers ? {headers} : {});
        this.opened = new Promise((resolve) => {
            this.sock.once('open', () => {
                this.openedAt = Date.now();
                resolve(true);
            });
            this.sock.once('close', () => resolve(false));
        });
        this.sock.on('message', (data) => this.record(data.toString()));
        this.sock.on('close', (code, reason) => {
            this.closed = {code, reason: reason.toString(), at: Date.now()};
        });
        this.sock.on('error', (e) => {
            this.error = e;
        });
        t.after(() => this.sock.terminate());
    }

    send(action, data) {
        const seq = this.nextSeq++;
        this.sock.send(JSON.stringify(data === undefined ? {action, seq} : {action, seq, data}));
        return seq;
    }

    async request(action, data, ms = 3000) {
        const seq = this.send(action, data);
        return until(() => this.reply(seq), ms, `${this.label}: the reply to ${action} (seq ${seq})`);
    }

    async waitClosed(ms, what = 'closed by the server') {
        return until(() => this.closed, ms, `${this.label} to be ${what}`);
    }

    isOpen() {
        return this.sock.readyState === WebSocket.OPEN && !this.closed;
    }
}

// A RawSocket whose upgrade went through.
export async function rawSocket(t, label, opts) {
    const r = new RawSocket(t, label, opts);
    assert.equal(await r.opened, true, `${label}: the upgrade was refused (${r.error && r.error.message})`);
    return r;
}

// ---- worlds: a team, its channels and who is in them ----

// A team created by `owner.client` with `members` added to it, and its
// channels: `channels` maps a name (the key in the result) to {type, members}
// (members added to that channel).  Returns {team, <name>: channel...}.
export async function teamWorld(owner, {members = [], channels = {}, type = 'I', prefix = 'team-'} = {}) {
    const name = unique(prefix);
    const team = await owner.client.createTeam({name, display_name: name, type});
    for (const m of members) {
        await owner.client.addToTeam(team.id, m.user.id);
    }
    const world = {team};
    for (const [key, spec] of Object.entries(channels)) {
        const ch = await owner.client.createChannel({team_id: team.id, name: unique(`${key}-`),
            display_name: spec.display_name ?? key, type: spec.type ?? 'O'});
        for (const m of spec.members ?? []) {
            await owner.client.addToChannel(m.user.id, ch.id);
        }
        world[key] = ch;
    }
    return world;
}

// alice owns a team with an open and a private channel; bob is in the team
// and the open channel (and the private one too with `bobInPrivate`); carol
// is in the team only; dave is in no team.  Each user has its `token`.
export async function world(prefix, {bobInPrivate = false} = {}) {
    const [alice, bob, carol, dave] = await Promise.all(['a', 'b', 'c', 'd'].map((s) => newUser(`${prefix}${s}`)));
    for (const u of [alice, bob, carol, dave]) {
        u.token = u.client.getToken();
    }
    const {team, open, priv} = await teamWorld(alice, {
        members: [bob, carol],
        prefix: `${prefix}team-`,
        channels: {
            open: {type: 'O', display_name: 'Open', members: [bob]},
            priv: {type: 'P', display_name: 'Priv', members: bobInPrivate ? [bob] : []},
        },
    });
    return {alice, bob, carol, dave, team, open, priv};
}
