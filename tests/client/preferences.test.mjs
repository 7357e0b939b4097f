// Preferences through @mattermost/client: the initial ones of a new user,
// save / read / delete round trips, another user's (403, an admin may),
// Mattermost's validation and error ids, and the events on a raw socket.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {T, admin, bearer, clientError, newUser, rawSocket, teamWorld} from './lib.mjs';

const PERM = 'api.context.permissions.app_error';
const BODY = 'api.context.invalid_body_param.app_error';

const pref = (user, category, name, value) => ({user_id: user.id, category, name, value});
const byKey = (a, b) => `${a.category}/${a.name}`.localeCompare(`${b.category}/${b.name}`);
const getCategory = (c, userId, category) =>
    c.doFetch(`${c.getPreferencesRoute(userId)}/${category}`, {method: 'get'});
const getOne = (c, userId, category, name) =>
    c.doFetch(`${c.getPreferencesRoute(userId)}/${category}/name/${name}`, {method: 'get'});

test('a new user has Mattermost\'s initial preferences', T, async () => {
    const {client: c, user} = await newUser('pia');
    const prefs = (await c.getMyPreferences()).sort(byKey);
    assert.deepEqual(prefs, [
        pref(user, 'recommended_next_steps', 'hide', 'false'),
        pref(user, 'system_notice', 'GMasDM', 'true'),
        pref(user, 'tutorial_step', user.id, '0'),
    ]);
    assert.deepEqual(await c.getUserPreferences(user.id), await c.getMyPreferences());
});

test('save, read by category and name, update, delete', T, async () => {
    const {client: c, user} = await newUser('pam');
    const ok = await c.savePreferences(user.id, [
        pref(user, 'display_settings', 'use_military_time', 'true'),
        pref(user, 'display_settings', 'name_format', 'username'),
        pref(user, 'display_settings', 'use_military_time', 'false'), // the later one wins
    ]);
    assert.deepEqual(ok, {status: 'OK'});
    const display = (await getCategory(c, 'me', 'display_settings')).sort(byKey);
    assert.deepEqual(display, [
        pref(user, 'display_settings', 'name_format', 'username'),
        pref(user, 'display_settings', 'use_military_time', 'false'),
    ]);
    assert.deepEqual(await getOne(c, user.id, 'display_settings', 'name_format'),
        pref(user, 'display_settings', 'name_format', 'username'));
    await c.savePreferences('me', [pref(user, 'display_settings', 'name_format', 'full_name')]);
    assert.equal((await getOne(c, 'me', 'display_settings', 'name_format')).value, 'full_name');

    await c.deletePreferences(user.id, [pref(user, 'display_settings', 'name_format', '')]);
    await clientError(getOne(c, 'me', 'display_settings', 'name_format'), 400, 'app.preference.get.app_error');
    assert.equal((await getCategory(c, 'me', 'display_settings')).length, 1);
    await c.deletePreferences('me', [pref(user, 'display_settings', 'use_military_time', '')]);
    await clientError(getCategory(c, 'me', 'display_settings'), 404,
        'api.preference.preferences_category.get.app_error');
});

test('a theme is sanitized as Mattermost stores it; the event carries what was sent', T, async () => {
    const {client: c, user} = await newUser('pat');
    const sent = JSON.stringify({sidebarBg: 'red', buttonBg: '#abc', type: 'Custom', codeTheme: 'github'});
    await c.savePreferences(user.id, [pref(user, 'theme', '', sent)]);
    const stored = await getCategory(c, 'me', 'theme');
    assert.equal(stored[0].value, '{"buttonBg":"#abc","codeTheme":"github","sidebarBg":"#ffffff","type":"Custom"}');
    await clientError(c.savePreferences(user.id, [pref(user, 'theme', '', 'not json')]), 400,
        'model.preference.is_valid.theme.app_error');
});

test('another user\'s preferences: 403; a system admin may', T, async () => {
    const a = await newUser('pal');
    const b = await newUser('pob');
    const mine = [pref(b.user, 'display_settings', 'colorize_usernames', 'true')];
    await clientError(a.client.getUserPreferences(b.user.id), 403, PERM);
    await clientError(getCategory(a.client, b.user.id, 'tutorial_step'), 403, PERM);
    await clientError(getOne(a.client, b.user.id, 'recommended_next_steps', 'hide'), 403, PERM);
    await clientError(a.client.savePreferences(b.user.id, mine), 403, PERM);
    await clientError(a.client.deletePreferences(b.user.id, mine), 403, PERM);
    // one's own URL, another user's preference in the body
    await clientError(a.client.savePreferences(a.user.id, mine), 403, 'api.preference.update_preferences.set.app_error');
    await clientError(a.client.deletePreferences(a.user.id, mine), 403,
        'api.preference.delete_preferences.delete.app_error');

    const {client: adm} = await admin();
    await adm.savePreferences(b.user.id, mine);
    assert.equal((await getOne(adm, b.user.id, 'display_settings', 'colorize_usernames')).value, 'true');
    assert.equal((await b.client.getMyPreferences()).length, 4);
    await adm.deletePreferences(b.user.id, mine);
    assert.equal((await adm.getUserPreferences(b.user.id)).length, 3);
});

test('bad bodies and parameters: Mattermost\'s 400s', T, async () => {
    const {client: c, user} = await newUser('pez');
    const put = (body) => c.doFetch(c.getPreferencesRoute('me'), {method: 'put', body});
    await clientError(put('{"not":"a list"}'), 400, BODY);
    await clientError(put('[]'), 400, BODY);
    await clientError(put('null'), 400, BODY);
    await clientError(put('[{"user_id":5}]'), 400, BODY);
    const many = Array.from({length: 101}, (_, i) => pref(user, 'display_settings', `n${i}`, '1'));
    await clientError(c.savePreferences(user.id, many), 400, BODY);
    await c.savePreferences(user.id, many.slice(0, 100));
    await clientError(c.deletePreferences(user.id, []), 400, BODY);

    const invalid = async (p, field) => clientError(c.savePreferences(user.id, [p]), 400,
        `model.preference.is_valid.${field}.app_error`);
    await invalid(pref(user, '', 'x', 'v'), 'category');
    await invalid(pref(user, 'c'.repeat(33), 'x', 'v'), 'category');
    await invalid(pref(user, 'display_settings', 'n'.repeat(33), 'v'), 'name');
    await invalid(pref(user, 'display_settings', 'x', 'v'.repeat(20001)), 'value');
    await invalid(pref(user, 'sidebar_settings', 'limit_visible_dms_gms', '41'), 'limit_visible_dms_gms');
    await c.savePreferences(user.id, [pref(user, 'display_settings', 'x', 'é'.repeat(20000))]);
    // nothing of a refused batch is saved
    await clientError(c.savePreferences(user.id, [pref(user, 'advanced_settings', 'a', '1'), pref(user, '', 'b', '')]),
        400, 'model.preference.is_valid.category.app_error');
    await clientError(getCategory(c, 'me', 'advanced_settings'), 404);

    await clientError(getCategory(c, 'me', 'Display_Settings'), 400, 'api.context.invalid_url_param.app_error');
    await clientError(getCategory(c, 'me', 'display-settings'), 404, 'api.context.404.app_error');
    await clientError(getOne(c, 'me', 'system_notice', 'GMasDM'), 400, 'api.context.invalid_url_param.app_error');
    await clientError(c.getUserPreferences('nope'), 400, 'api.context.invalid_url_param.app_error');
});

test('a saved post: a live post of a channel the user may read', T, async () => {
    const owner = await newUser('pip');
    const outsider = await newUser('pox');
    const world = await teamWorld(owner, {channels: {secret: {type: 'P'}}});
    const post = await owner.client.createPost({channel_id: world.secret.id, message: 'keep me'});
    const flag = (u) => [pref(u.user, 'flagged_post', post.id, 'true')];
    await owner.client.savePreferences(owner.user.id, flag(owner));
    assert.equal((await getOne(owner.client, 'me', 'flagged_post', post.id)).value, 'true');
    await clientError(outsider.client.savePreferences(outsider.user.id, flag(outsider)), 403, PERM);
    await clientError(outsider.client.savePreferences(outsider.user.id,
        [pref(outsider.user, 'flagged_post', 'abcdefghijklmnopqrstuvwxyz', 'true')]), 400, BODY);
});

test('preferences_changed and preferences_deleted reach the user\'s sockets only', T, async (t) => {
    const a = await newUser('pod');
    const b = await newUser('pug');
    const wa = await rawSocket(t, 'a', {headers: bearer(a.client.getToken())});
    const wb = await rawSocket(t, 'b', {headers: bearer(b.client.getToken())});
    await wa.wait('hello');
    await wb.wait('hello');
    const list = [pref(a.user, 'display_settings', 'message_display', 'compact'),
        pref(a.user, 'display_settings', 'link_previews', '<b>&</b>')];
    await a.client.savePreferences(a.user.id, list);
    const changed = await wa.wait('preferences_changed');
    assert.equal(typeof changed.data.preferences, 'string');
    assert.deepEqual(JSON.parse(changed.data.preferences), list);
    assert.match(changed.data.preferences, /\\u003cb\\u003e\\u0026/, 'HTML-escaped as Go marshals it');
    assert.equal(changed.broadcast.user_id, a.user.id);
    await wa.wait('sidebar_category_updated');

    await a.client.deletePreferences(a.user.id, [list[0]]);
    const deleted = await wa.wait('preferences_deleted');
    assert.deepEqual(JSON.parse(deleted.data.preferences), [list[0]]);
    wa.checkSeq();
    wb.none('preferences_changed');
    wb.none('preferences_deleted');
});
