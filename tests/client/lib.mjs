// What the API test files share: clients, the admin, fresh users, and a way
// to assert a ClientError.  Every test file makes its own users and teams
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
