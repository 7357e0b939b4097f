// GET /api/v4/system/ping and the generic API behaviour (error JSON, headers)
// as seen through the official @mattermost/client Client4.
//   CHORUS_URL       a healthy node, e.g. http://127.0.0.1:18100
//   CHORUS_DOWN_URL  a node whose database is unreachable
// Run: node --test ping.test.mjs
import {test} from 'node:test';
import assert from 'node:assert/strict';
import mm from '@mattermost/client';

// @mattermost/client is CommonJS and exports Client4 through a getter that
// Node's ESM named-export detection misses: take it from the default export.
const {Client4, ClientError} = mm;

const URL_UP = process.env.CHORUS_URL;
const URL_DOWN = process.env.CHORUS_DOWN_URL;
const T = {timeout: 10000};

function client(url) {
    assert.ok(url, 'CHORUS_URL / CHORUS_DOWN_URL must be set');
    const c = new Client4();
    c.setUrl(url);
    return c;
}

// Awaits a promise that must reject with a ClientError; returns the error.
async function clientError(promise) {
    try {
        await promise;
    } catch (err) {
        assert.ok(err instanceof ClientError, `expected a ClientError, got ${err && err.stack} (cause: ${err && err.cause})`);
        return err;
    }
    assert.fail('the request resolved; expected a ClientError');
}

const BASE_FIELDS = ['AndroidLatestVersion', 'AndroidMinVersion', 'IosLatestVersion', 'IosMinVersion'];

test('ping() resolves to status OK with the base fields', T, async () => {
    const r = await client(URL_UP).ping();
    assert.equal(r.status, 'OK');
    for (const f of BASE_FIELDS) {
        assert.equal(typeof r[f], 'string', `${f} is a string`);
    }
    assert.equal(r.ActiveSearchBackend, 'database');
    assert.ok(!('database_status' in r), 'no database_status without get_server_status');
    assert.ok(!('filestore_status' in r), 'no filestore_status without get_server_status');
});

test('the client parses the JSON body, so Content-Type is exactly application/json', T, async () => {
    const c = client(URL_UP);
    const r = await c.ping();
    // Client4 calls response.json() only for Content-Type === 'application/json';
    // anything else (a charset, another case) would leave the raw text here.
    assert.equal(typeof r, 'object');
    assert.notEqual(r, null);
    const {headers, data} = await c.doFetchWithResponse(`${c.getBaseRoute()}/system/ping`, {method: 'get'});
    assert.equal(headers.get('Content-Type'), 'application/json');
    assert.deepEqual(data, r);
});

test('ping(false) leaves out the server status', T, async () => {
    const r = await client(URL_UP).ping(false);
    assert.equal(r.status, 'OK');
    assert.ok(!('database_status' in r));
});

test('ping(true) reports database_status and filestore_status OK', T, async () => {
    const r = await client(URL_UP).ping(true);
    assert.equal(r.status, 'OK');
    assert.equal(r.database_status, 'OK');
    assert.equal(r.filestore_status, 'OK');
    for (const f of BASE_FIELDS) {
        assert.equal(typeof r[f], 'string', `${f} is a string`);
    }
});

test('database down: ping() still answers OK', T, async () => {
    const r = await client(URL_DOWN).ping();
    assert.equal(r.status, 'OK');
});

test('database down: ping(true) resolves with status UNHEALTHY (client sends use_rest_semantics=true)', T, async () => {
    const r = await client(URL_DOWN).ping(true);
    assert.equal(r.status, 'UNHEALTHY');
    assert.equal(r.database_status, 'UNHEALTHY');
    assert.equal(r.filestore_status, 'OK');
});

test('database down: without use_rest_semantics the status check rejects (HTTP 500)', T, async () => {
    const c = client(URL_DOWN);
    const url = `${c.getBaseRoute()}/system/ping?get_server_status=true`;
    await clientError(c.doFetch(url, {method: 'get'}));
    const {response, data} = await c.doFetchWithResponse(url, {method: 'get', ignoreStatus: true});
    assert.equal(response.status, 500);
    assert.equal(data.status, 'UNHEALTHY');
    assert.equal(data.database_status, 'UNHEALTHY');
});

test('unknown route rejects with ClientError api.context.404.app_error / 404', T, async () => {
    const c = client(URL_UP);
    const url = `${c.getBaseRoute()}/no/such/route`;
    const err = await clientError(c.doFetch(url, {method: 'get'}));
    assert.equal(err.server_error_id, 'api.context.404.app_error');
    assert.equal(err.status_code, 404);
    assert.equal(err.url, url);
    assert.equal(typeof err.message, 'string');
    assert.ok(err.message.length > 0, 'a message');
    assert.equal(err.detailed_error, '');
});

test('error body request_id is the X-Request-Id header', T, async () => {
    const c = client(URL_UP);
    const {response, headers, data} = await c.doFetchWithResponse(`${c.getBaseRoute()}/no/such/route`,
        {method: 'get', ignoreStatus: true});
    assert.equal(response.status, 404);
    assert.match(headers.get('X-Request-Id'), /^[a-z0-9]{26}$/);
    assert.equal(data.request_id, headers.get('X-Request-Id'));
});

test('wrong method rejects with a ClientError whose status_code is the HTTP status', T, async () => {
    const c = client(URL_UP);
    const url = `${c.getBaseRoute()}/system/ping`;
    const err = await clientError(c.doFetch(url, {method: 'delete'}));
    const {response} = await c.doFetchWithResponse(url, {method: 'delete', ignoreStatus: true});
    // as Mattermost: its catch-all /api/v4/{anything} route answers 404
    assert.equal(response.status, 404);
    assert.equal(err.status_code, 404);
    assert.equal(err.server_error_id, 'api.context.404.app_error');
});

// The server reads a body up to 1 MiB past the limit before it answers 413,
// so the client, still sending, reads the answer instead of a reset.
test('a body over MaximumPayloadSizeBytes rejects with ClientError 413', T, async () => {
    const c = client(URL_UP);
    const body = 'x'.repeat(1000 * 1000);
    for (let i = 0; i < 5; i++) {
        const err = await clientError(c.doFetch(`${c.getBaseRoute()}/system/ping`, {method: 'post', body}));
        assert.equal(err.status_code, 413);
        assert.equal(err.server_error_id, 'api.context.request_body_too_large.app_error');
    }
});

test('X-Version-Id is stored as the client serverVersion', T, async () => {
    const c = client(URL_UP);
    assert.equal(c.getServerVersion(), '');
    const {headers} = await c.doFetchWithResponse(`${c.getBaseRoute()}/system/ping`, {method: 'get'});
    const header = headers.get('X-Version-Id');
    // {version}.{build}.{clientConfigHash}.{licensed}
    assert.match(header, /^\d+\.\d+\.\d+\.[^.]+\.[0-9a-f]+\.(true|false)$/);
    // the Mattermost server version whose API chorus follows (the one this
    // client release targets): the apps gate features on its first three parts
    assert.ok(header.startsWith('11.9.0.'), `X-Version-Id ${header} claims Mattermost 11.9.0`);
    // Client4 takes it only when the response has no Cache-Control.
    assert.equal(c.serverVersion, header);
    assert.equal(c.getServerVersion(), header);
    const other = client(URL_UP);
    await other.ping();
    assert.equal(other.getServerVersion(), header);
});
