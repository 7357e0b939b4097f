// Config and cluster endpoints through @mattermost/client: getConfig (the
// sanitized view), updateConfig (saved, reloaded, served; invalid values
// refused with every bad key named and the file untouched), reloadConfig,
// getClusterStatus on a node without clustering, the server-status ping
// without cluster fields, and that all of it is for system admins only.
//   CHORUS_CONFIG   the node's config file (optional: lets the tests check
//                   that a refused update leaves it byte for byte as it was)
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {T, admin, client, clientError, newUser, sleep, unique} from './lib.mjs';

const FAKE = '********************************';
const SECTIONS = ['ServiceSettings', 'TeamSettings', 'SqlSettings', 'LogSettings', 'FileSettings',
    'ComplianceSettings', 'ClusterSettings', 'MetricsSettings', 'DataRetentionSettings', 'JobSettings'];
const PERMISSIONS = 'api.context.permissions.app_error';
const INVALID = 'api.config.update_config.invalid.app_error';

function configFile() {
    const path = process.env.CHORUS_CONFIG;
    return path ? readFileSync(path) : null;
}

// Polls getConfig until `pred` holds: a reload replaces the workers, and a
// kept-alive connection may still reach one of the old generation a moment.
async function configUntil(c, pred, ms, what) {
    const end = Date.now() + ms;
    for (;;) {
        const cfg = await c.getConfig();
        if (pred(cfg)) {
            return cfg;
        }
        if (Date.now() > end) {
            assert.fail(`timed out after ${ms} ms waiting for ${what}`);
        }
        await sleep(50);
    }
}

test('getConfig: Mattermost\'s shape, secrets masked', T, async () => {
    const {client: a} = await admin();
    const cfg = await a.getConfig();
    for (const s of SECTIONS) {
        assert.equal(typeof cfg[s], 'object', `${s} is an object`);
    }
    assert.equal(cfg.SqlSettings.DataSource, FAKE);
    assert.ok(Array.isArray(cfg.SqlSettings.DataSourceReplicas));
    for (const r of cfg.SqlSettings.DataSourceReplicas) {
        assert.equal(r, FAKE);
    }
    assert.equal(cfg.SqlSettings.DriverName, 'postgres');
    assert.equal(cfg.ClusterSettings.Enable, false);
    assert.equal(typeof cfg.ServiceSettings.ListenAddress, 'string');
});

test('config and cluster status: system admins only (403), sessions required (401)', T, async () => {
    const {client: u} = await newUser('cfg');
    await clientError(u.getConfig(), 403, PERMISSIONS);
    await clientError(u.updateConfig({TeamSettings: {SiteName: 'nope'}}), 403, PERMISSIONS);
    await clientError(u.reloadConfig(), 403, PERMISSIONS);
    await clientError(u.getClusterStatus(), 403, PERMISSIONS);
    const anon = client();
    await clientError(anon.getConfig(), 401, 'api.context.session_expired.app_error');
    await clientError(anon.updateConfig({}), 401, 'api.context.session_expired.app_error');
    await clientError(anon.getClusterStatus(), 401, 'api.context.session_expired.app_error');
});

test('getClusterStatus: [] without clustering', T, async () => {
    const {client: a} = await admin();
    assert.deepEqual(await a.getClusterStatus(), []);
});

test('ping with server status: no cluster fields without clustering', T, async () => {
    const r = await client().ping(true);
    assert.equal(r.status, 'OK');
    assert.equal(r.database_status, 'OK');
    for (const f of ['cluster_status', 'cluster_nodes_alive', 'cluster_nodes']) {
        assert.ok(!(f in r), `no ${f}`);
    }
    const plain = await client().ping();
    assert.ok(!('cluster_status' in plain));
});

test('updateConfig: invalid values are refused, every bad key named, nothing saved', T, async () => {
    const {client: a} = await admin();
    const before = configFile();
    const cfg = await a.getConfig();
    const maxUsers = cfg.TeamSettings.MaxUsersPerTeam;
    cfg.TeamSettings.MaxUsersPerTeam = -5;
    cfg.SqlSettings.QueryTimeout = 'soon';
    const err = await clientError(a.updateConfig(cfg), 400, INVALID);
    assert.match(err.message, /TeamSettings\.MaxUsersPerTeam/);
    assert.match(err.message, /SqlSettings\.QueryTimeout/);
    if (before) {
        assert.ok(before.equals(configFile()), 'the config file is byte for byte as it was');
    }
    assert.equal((await a.getConfig()).TeamSettings.MaxUsersPerTeam, maxUsers);

    // not JSON at all: Mattermost's bad-body error
    const bad = await clientError(a.doFetch(`${a.getBaseRoute()}/config`, {method: 'put', body: '{"TeamSettings":'}), 400);
    assert.equal(bad.server_error_id, 'api.context.invalid_body_param.app_error');
    if (before) {
        assert.ok(before.equals(configFile()), 'the config file is byte for byte as it was');
    }
});

test('updateConfig: the round-tripped config is saved and served after the reload', {timeout: 30000}, async () => {
    const {client: a} = await admin();
    const cfg = await a.getConfig();
    const name = unique('Site ');
    const listen = cfg.ServiceSettings.ListenAddress;
    cfg.TeamSettings.SiteName = name;
    cfg.ServiceSettings.ListenAddress = '127.0.0.1:1'; // per-node: this node keeps its own
    const saved = await a.updateConfig(cfg);
    assert.equal(saved.TeamSettings.SiteName, name);
    assert.equal(saved.SqlSettings.DataSource, FAKE, 'the answer is sanitized');
    assert.equal(saved.ServiceSettings.ListenAddress, listen);

    const served = await configUntil(a, (c) => c.TeamSettings.SiteName === name, 20000, `SiteName ${name}`);
    assert.equal(served.ServiceSettings.ListenAddress, listen);
    if (process.env.CHORUS_CONFIG) {
        const file = JSON.parse(configFile().toString());
        assert.equal(file.TeamSettings.SiteName, name);
        assert.notEqual(file.SqlSettings.DataSource, FAKE, 'the placeholder is never written');
    }
    // the placeholder kept the real data source: the database still answers
    const ping = await client().ping(true);
    assert.equal(ping.database_status, 'OK');
});

test('reloadConfig: OK', T, async () => {
    const {client: a} = await admin();
    assert.deepEqual(await a.reloadConfig(), {status: 'OK'});
    // the node serves on through the reload
    await configUntil(a, (c) => typeof c.TeamSettings.SiteName === 'string', 10000, 'the config after a reload');
});
