// The web app's first load through its own data layer: mattermost-redux
// 11.9.0's store and action creators (the package the web app is built on),
// with its Client4 singleton pointed at the node, as the web app's root
// component dispatches them: the client config and license before login,
// login, getMe, the config again (now the full map), the server limits and
// the web app plugins; and the same public answers from a node whose
// database is down.  State is asserted in the store afterwards.  Each
// test builds its own store; the Client4 singleton is shared, so the tests
// of this file run one after the other (node --test's default).
import assert from 'node:assert/strict';
import test from 'node:test';
import storeModule from 'mattermost-redux/store';
import {Client4 as ReduxClient} from 'mattermost-redux/client';
import {getClientConfig, getLicenseConfig, setServerVersion} from 'mattermost-redux/actions/general';
import {getMe} from 'mattermost-redux/actions/users';
import {getServerLimits} from 'mattermost-redux/actions/limits';
import {T, URL, admin, client, clientError, newUser, sleep} from './lib.mjs';

const configureStore = storeModule.default;

// Keys only the full map has (GenerateClientConfig), and keys both have.
const FULL_ONLY = ['EnableCommands', 'CollapsedThreads', 'MaxPostSize', 'EnableFileAttachments', 'RunJobs'];
const INVALID_PARAM = 'api.context.invalid_url_param.app_error';

function freshStore(token = '') {
    ReduxClient.setUrl(URL);
    ReduxClient.setToken(token);
    ReduxClient.setIncludeCookies(false);
    return configureStore({});
}

// The server's config as the admin reads it and the client map, once both
// come from the same generation (config.test.mjs reloads the node meanwhile).
async function agreeingConfig(store) {
    const {client: a} = await admin();
    const end = Date.now() + 20000;
    for (;;) {
        const cfg = await a.getConfig();
        const {data} = await store.dispatch(getClientConfig());
        if (data?.SiteName === cfg.TeamSettings.SiteName) {
            return cfg;
        }
        assert.ok(Date.now() < end, `SiteName: config ${cfg.TeamSettings.SiteName}, client map ${data?.SiteName}`);
        await sleep(100);
    }
}

test('before login: the limited client config and no license, in the store', T, async () => {
    const store = freshStore();
    const cfg = await agreeingConfig(store);
    let r = await store.dispatch(getClientConfig());
    assert.ok(!('error' in r), JSON.stringify(r.error));
    const c = store.getState().entities.general.config;
    assert.equal(c.Version, '11.9.0');
    assert.equal(c.SiteName, cfg.TeamSettings.SiteName);
    assert.equal(c.EnableUserCreation, String(cfg.TeamSettings.EnableUserCreation));
    assert.equal(c.EnableOpenServer, String(cfg.TeamSettings.EnableOpenServer));
    assert.equal(c.SiteURL, cfg.ServiceSettings.SiteURL.replace(/\/+$/, ''));
    assert.equal(c.NoAccounts, 'false'); // the admin exists
    assert.equal(c.BuildEnterpriseReady, 'false');
    assert.equal(c.PasswordMinimumLength, '8');
    for (const [k, v] of Object.entries(c))
        assert.equal(typeof v, 'string', `${k} is a string`);
    for (const k of FULL_ONLY)
        assert.ok(!(k in c), `${k} is not in the limited map`);

    r = await store.dispatch(getLicenseConfig());
    assert.ok(!('error' in r), JSON.stringify(r.error));
    assert.deepEqual(store.getState().entities.general.license, {IsLicensed: 'false'});
});

test('login, getMe, then the full client config, the limits and the plugins', T, async () => {
    const {user, password} = await newUser('webapp');
    const store = freshStore();
    await ReduxClient.login(user.username, password); // the web app's login calls Client4 itself
    assert.ok(ReduxClient.getToken(), 'the token is kept by the Client4 singleton');

    // what loadMe does first: the version the server sent (X-Version-Id);
    // without it getMe's role loading would poll every 500 ms for ever
    await store.dispatch(setServerVersion(ReduxClient.getServerVersion()));
    assert.match(store.getState().entities.general.serverVersion, /^11\.9\.0\.0\./);

    let r = await store.dispatch(getMe());
    assert.ok(!('error' in r), JSON.stringify(r.error));
    const users = store.getState().entities.users;
    assert.equal(users.currentUserId, user.id);
    assert.equal(users.profiles[user.id].username, user.username);

    r = await store.dispatch(getClientConfig());
    assert.ok(!('error' in r), JSON.stringify(r.error));
    const c = store.getState().entities.general.config;
    assert.equal(c.CollapsedThreads, 'disabled');
    assert.equal(c.MaxPostSize, '16383');
    assert.equal(c.EnableCommands, 'false');
    assert.equal(c.EnableFileAttachments, 'false');
    assert.equal(c.EnableCluster, 'false'); // license-gated: off without a license
    assert.equal(c.SQLDriverName, 'postgres');
    assert.match(c.MaxFileSize, /^[0-9]+$/);
    for (const k of FULL_ONLY)
        assert.ok(k in c, `${k} is in the full map`);

    r = await store.dispatch(getLicenseConfig());
    assert.deepEqual(store.getState().entities.general.license, {IsLicensed: 'false'});

    // a plain user: no user counts (Mattermost hides them from non-admins)
    r = await store.dispatch(getServerLimits());
    assert.ok(!('error' in r), JSON.stringify(r.error));
    assert.deepEqual(store.getState().entities.limits.serverLimits, {
        activeUserCount: 0, maxUsersLimit: 0, maxUsersHardLimit: 0, lastAccessiblePostTime: 0,
        postHistoryLimit: 0, singleChannelGuestCount: 0, singleChannelGuestLimit: 0,
    });

    assert.deepEqual(await ReduxClient.getWebappPlugins(), []);
});

test('server limits as a system admin: the active user count, no limits', T, async () => {
    const {client: a} = await admin();
    const store = freshStore(a.getToken());
    const r = await store.dispatch(getServerLimits());
    assert.ok(!('error' in r), JSON.stringify(r.error));
    const l = store.getState().entities.limits.serverLimits;
    assert.ok(l.activeUserCount >= 2, `activeUserCount ${l.activeUserCount}`); // the admin and webapp users
    assert.equal(l.maxUsersLimit, 0);
    assert.equal(l.maxUsersHardLimit, 0);
    const raw = await a.getServerLimits();
    assert.deepEqual(Object.keys(raw.data).sort(), ['activeUserCount', 'lastAccessiblePostTime', 'maxUsersHardLimit',
        'maxUsersLimit', 'postHistoryLimit', 'singleChannelGuestCount', 'singleChannelGuestLimit']);
});

test('bad input: format missing or unknown, no session for the limits, an expired token', T, async () => {
    const c = client();
    const base = c.getBaseRoute();
    await clientError(c.doFetch(`${base}/config/client`, {method: 'get'}), 501, 'api.config.client.old_format.app_error');
    await clientError(c.doFetch(`${base}/config/client?format=new`, {method: 'get'}), 400, INVALID_PARAM);
    await clientError(c.doFetch(`${base}/config/client?format=`, {method: 'get'}), 501,
        'api.config.client.old_format.app_error');
    await clientError(c.getServerLimits(), 401, 'api.context.session_expired.app_error');
    await clientError(c.doFetch(`${base}/config/client?format=old`, {method: 'post'}), 404, 'api.context.404.app_error');

    // a token naming no session: the public answers, as Mattermost's
    // APIHandler routes ignore it (a web app with an expired cookie)
    const stale = client();
    stale.setToken('abcdefghijklmnopqrstuvwxyz');
    const limited = await stale.getClientConfig();
    assert.ok(!('EnableCommands' in limited), 'the limited map');
    assert.deepEqual(await stale.getClientLicenseOld(), {IsLicensed: 'false'});
    assert.deepEqual(await stale.getWebappPlugins(), []);
    await clientError(stale.getServerLimits(), 401, 'api.context.session_expired.app_error');
    // and a logged-out session's token likewise
    const {user, password} = await newUser('webapp-out');
    const out = client();
    await out.login(user.username, password);
    const token = out.getToken();
    await out.logout();
    out.setToken(token);
    assert.equal((await out.getClientConfig()).CollapsedThreads, undefined);
});

test('database down: the client config, license and plugins still load', T, async () => {
    const down = client(process.env.CHORUS_DOWN_URL);
    const c = await down.getClientConfig();
    assert.equal(c.NoAccounts, 'false'); // it cannot tell: Mattermost's answer then
    assert.equal(c.Version, '11.9.0');
    assert.deepEqual(await down.getClientLicenseOld(), {IsLicensed: 'false'});
    assert.deepEqual(await down.getWebappPlugins(), []);
});
