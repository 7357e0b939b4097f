// An open WebSocket notices its session ending behind the node's back
// (issue 19): deleted in SQL (a revocation whose record never came, an
// operator's DELETE), or expired (ExpiresAt passed).  The socket is closed
// with 1000, as on logout; one whose session lives stays open.  Run by
// tests/integration/test_ws_sql.sh, whose node has SessionCacheInMinutes 0:
// with the cache on, a deletion in SQL is seen when the entry expires, as
// for HTTP requests.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {bearer, newUser, rawSocket, sleep} from '../lib.mjs';

const T = {timeout: 60000};

function sql(query) {
    return execFileSync('psql', ['-h', process.env.CHORUS_PG_SOCK, '-p', process.env.CHORUS_PG_PORT, '-U', 'postgres',
        '-qtAc', query, process.env.CHORUS_PG_DB]).toString().trim();
}

async function socketOf(t, prefix) {
    const u = await newUser(prefix);
    const s = await rawSocket(t, prefix, {headers: bearer(u.client.getToken())});
    await s.wait('hello');
    return {u, s, token: u.client.getToken()};
}

test('a session deleted in SQL closes its sockets (1000) within a check interval; other sockets stay', T, async (t) => {
    const kept = await socketOf(t, 'wskept');
    const {s, token} = await socketOf(t, 'wsdeleted');
    assert.equal(sql(`DELETE FROM Sessions WHERE Token = '${token}' RETURNING 1`), '1');
    const at = Date.now();
    await s.waitClosed(12000, 'closed once its session is gone');
    assert.equal(s.closed.code, 1000);
    assert.equal(s.closed.reason, 'session gone');
    assert.ok(s.closed.at - at <= 8000, `closed ${s.closed.at - at} ms after the deletion`);
    assert.ok(kept.s.isOpen(), 'a socket whose session lives is left alone');
    assert.equal((await kept.s.request('ping')).status, 'OK');
});

test('a session whose ExpiresAt passes closes its sockets (1000) at the expiry', T, async (t) => {
    const {s, token} = await socketOf(t, 'wsexpires');
    const expires = Date.now() + 8000;
    sql(`UPDATE Sessions SET ExpiresAt = ${expires} WHERE Token = '${token}'`);
    await sleep(6000);
    assert.ok(s.isOpen(), 'open before its session expires');
    await s.waitClosed(10000, 'closed at its session\'s expiry');
    assert.equal(s.closed.code, 1000);
    assert.equal(s.closed.reason, 'session expired');
    assert.ok(s.closed.at >= expires - 50 && s.closed.at - expires <= 2500,
        `closed ${s.closed.at - expires} ms after the expiry`);
});
