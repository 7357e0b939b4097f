// RateLimitSettings (issue 19), against nodes started by
// tests/integration/test_ratelimit.sh with Enable on, PerSec 1, MaxBurst 4
// and TrustedProxyIPHeader ["X-Forwarded-For"]: each test speaks from an
// address of its own (X-Forwarded-For), so the tests never share a bucket.
//   CHORUS_URL       VaryByRemoteAddr (Mattermost's default), two workers
//   CHORUS_USER_URL  VaryByUser on as well
import {test} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {client, ClientError, T} from '../lib.mjs';

const URL = process.env.CHORUS_URL;
const USER_URL = process.env.CHORUS_USER_URL;
const LIMIT = 5; // MaxBurst + 1
const PING = '/api/v4/system/ping';

function get(base, headers = {}, path = PING) {
    return fetch(base + path, {headers});
}

// One request on a connection of its own (so that the node's workers, which
// take connections in turn, all see some): [status, elapsed ms].
function getFresh(base, headers) {
    return new Promise((resolve, reject) => {
        const req = http.get(base + PING, {agent: false, headers}, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', reject);
    });
}

test('a burst of MaxBurst + 1 passes, then 429 with Mattermost\'s headers and body', T, async () => {
    const from = {'X-Forwarded-For': '10.9.0.1'};
    for (let i = 0; i < LIMIT; i++) {
        const res = await get(URL, from);
        assert.equal(res.status, 200, `request ${i}`);
        assert.equal(res.headers.get('x-ratelimit-limit'), String(LIMIT));
        assert.equal(res.headers.get('x-ratelimit-remaining'), String(LIMIT - 1 - i));
        assert.equal(res.headers.get('x-ratelimit-reset'), String(i + 1)); // a second per request at 1/s
        assert.equal(res.headers.get('retry-after'), null);
        await res.text();
    }
    const res = await get(URL, from);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-ratelimit-limit'), String(LIMIT));
    assert.equal(res.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(res.headers.get('x-ratelimit-reset'), String(LIMIT));
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(await res.text(), 'limit exceeded\n');
});

test('Client4 gets the refusal as from Mattermost: a ClientError without a message', T, async () => {
    const c = client(URL);
    c.setHeader('X-Forwarded-For', '10.9.0.2');
    for (let i = 0; i < LIMIT; i++)
        assert.equal((await c.ping()).status, 'OK');
    await assert.rejects(c.ping(), (err) => err instanceof ClientError && err.message === '');
});

test('every address has a bucket of its own, refilled at PerSec', T, async () => {
    const a = {'X-Forwarded-For': '10.9.0.3'};
    for (let i = 0; i < LIMIT; i++)
        assert.equal((await get(URL, a)).status, 200);
    assert.equal((await get(URL, a)).status, 429);
    // the proxy's list: the first entry is the client
    assert.equal((await get(URL, {'X-Forwarded-For': '10.9.0.4, 10.9.0.3'})).status, 200);
    assert.equal((await get(URL, {'X-Forwarded-For': '2001:db8::3'})).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await get(URL, a)).status, 200);
    assert.equal((await get(URL, a)).status, 429);
});

test('a header not in TrustedProxyIPHeader is not believed', T, async () => {
    // X-Real-IP is not listed: these requests are all 10.9.0.5's
    const statuses = [];
    for (let i = 0; i < LIMIT + 1; i++)
        statuses.push((await get(URL, {'X-Forwarded-For': '10.9.0.5', 'X-Real-IP': `10.8.0.${i}`})).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
});

test('the workers of a node share the table: one burst in all, over many connections', T, async () => {
    const from = {'X-Forwarded-For': '10.9.0.6'};
    const started = Date.now();
    const statuses = await Promise.all(Array.from({length: 16}, () => getFresh(URL, from)));
    const seconds = (Date.now() - started) / 1000;
    const passed = statuses.filter((s) => s === 200).length;
    assert.equal(passed + statuses.filter((s) => s === 429).length, 16, statuses.join(' '));
    assert.ok(passed >= LIMIT, `only ${passed} passed`);
    // one more a second may refill while they run; a table per worker would let a burst through each
    assert.ok(passed <= LIMIT + Math.floor(seconds), `${passed} passed in ${seconds} s`);
});

test('VaryByUser: each session token has its own bucket; without one, the address', T, async () => {
    const tokenA = 'a'.repeat(26), tokenB = 'b'.repeat(26);
    const from = {'X-Forwarded-For': '10.9.0.7'};
    for (let i = 0; i < LIMIT; i++)
        assert.equal((await get(USER_URL, {...from, Authorization: `Bearer ${tokenA}`})).status, 200);
    assert.equal((await get(USER_URL, {...from, Authorization: `Bearer ${tokenA}`})).status, 429);
    // the same token from elsewhere is the same bucket
    assert.equal((await get(USER_URL, {'X-Forwarded-For': '10.9.0.8', Authorization: `Bearer ${tokenA}`})).status, 429);
    assert.equal((await get(USER_URL, {...from, Authorization: `Bearer ${tokenB}`})).status, 200);
    assert.equal((await get(USER_URL, from)).status, 200);
});

test('VaryByUser: a signed-in request is charged to its user too, whichever token it carries', T, async () => {
    const username = `rl${Date.now()}`, password = 'rate-limit-password';
    const created = await fetch(`${USER_URL}/api/v4/users`, {
        method: 'POST',
        headers: {'X-Forwarded-For': '10.9.1.1'},
        body: JSON.stringify({username, email: `${username}@example.com`, password}),
    });
    assert.equal(created.status, 201);
    const tokens = [];
    for (const from of ['10.9.1.2', '10.9.1.3']) {
        const c = client(USER_URL);
        c.setHeader('X-Forwarded-For', from);
        await c.login(username, password);
        tokens.push(c.getToken());
    }
    // three with one token, then the other: its own bucket has room for
    // five, the user's is spent after two (one more a second refills it)
    const started = Date.now();
    const statuses = [];
    let refused;
    for (const [i, token] of [0, 0, 0, 1, 1, 1, 1, 1].map((k, i) => [i, tokens[k]])) {
        const headers = {'X-Forwarded-For': `10.9.1.${10 + i}`, Authorization: `Bearer ${token}`};
        const res = await get(USER_URL, headers, '/api/v4/users/me');
        statuses.push(res.status);
        if (res.status === 429 && refused === undefined)
            refused = res;
        await res.text();
    }
    assert.ok(Date.now() - started < 3000, 'too slow to tell');
    assert.ok(refused, `no refusal: ${statuses.join(' ')}`);
    assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
    // both charges' figures, as Mattermost adds them
    assert.equal(refused.headers.get('x-ratelimit-limit'), `${LIMIT}, ${LIMIT}`);
});
