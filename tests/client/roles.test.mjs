// Roles through @mattermost/client: reading them (by names, by name, by id,
// all), their default permissions, and patching (who may, what may not
// change, bad input, the role_updated event).  Patches here touch only
// roles nobody holds (system_user_access_token), so that the other files,
// running in parallel, keep their permissions; taking a permission from
// team_user (and seeing it refused at once, on every node) is
// roles/team_user.test.mjs, run alone by tests/integration/test_cluster.sh.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {T, admin, bearer, clientError, newUser, rawSocket} from './lib.mjs';

const DEFAULTS = ['system_admin', 'system_user', 'system_guest', 'system_user_access_token', 'team_admin', 'team_user',
    'team_guest', 'team_post_all', 'team_post_all_public', 'channel_admin', 'channel_user', 'channel_guest'];

function checkShape(role) {
    assert.deepEqual(Object.keys(role).sort(), ['built_in', 'create_at', 'delete_at', 'description', 'display_name',
        'id', 'name', 'permissions', 'scheme_managed', 'update_at']);
    assert.match(role.id, /^[a-z0-9]{26}$/);
    assert.ok(Array.isArray(role.permissions));
    assert.ok(role.create_at > 0 && role.update_at >= role.create_at);
    assert.equal(role.delete_at, 0);
}

test('getRolesByNames: the roles named, unknown and blank names skipped', T, async () => {
    const {client: c} = await newUser('rnames');
    const roles = await c.getRolesByNames(['team_user', 'system_user', 'no_such_role', ' ', 'channel_user']);
    assert.deepEqual(roles.map((r) => r.name).sort(), ['channel_user', 'system_user', 'team_user']);
    roles.forEach(checkShape);
    const byName = Object.fromEntries(roles.map((r) => [r.name, r]));
    assert.ok(byName.system_user.permissions.includes('create_team'));
    assert.ok(byName.system_user.permissions.includes('join_public_teams'));
    assert.ok(!byName.system_user.permissions.includes('manage_system'));
    assert.ok(byName.team_user.permissions.includes('create_public_channel'));
    assert.ok(byName.team_user.permissions.includes('add_user_to_team'));
    assert.ok(byName.channel_user.permissions.includes('create_post'));
    assert.equal(byName.team_user.display_name, 'authentication.roles.team_user.name');
    assert.equal(byName.system_user.display_name, 'authentication.roles.global_user.name');
    assert.equal(byName.team_user.scheme_managed, true);
    assert.equal(byName.team_user.built_in, true);

    const all = await c.getRolesByNames(DEFAULTS);
    assert.deepEqual(all.map((r) => r.name).sort(), [...DEFAULTS].sort());
    assert.equal(all.find((r) => r.name === 'team_post_all').scheme_managed, false);
    assert.deepEqual(await c.getRolesByNames(['no_such_role']), []);
    assert.deepEqual(await c.getRolesByNames(['', '  ']), []);
});

test('getRolesByNames: no names, a bad name or a body that is not a list is a 400', T, async () => {
    const {client: c} = await newUser('rnamesbad');
    await clientError(c.getRolesByNames([]), 400, 'api.context.invalid_body_param.app_error');
    await clientError(c.getRolesByNames(['team_user', 'Team_User']), 400, 'api.context.invalid_body_param.app_error');
    await clientError(c.getRolesByNames(['x'.repeat(65)]), 400, 'api.context.invalid_body_param.app_error');
    await clientError(c.getRolesByNames({names: ['team_user']}), 400, 'api.context.invalid_body_param.app_error');
    await clientError(c.getRolesByNames('team_user'), 400, 'api.context.invalid_body_param.app_error');
});

test('getRoleByName and getRole: the same role; ids derived from the name; 404 and 400', T, async () => {
    const {client: c} = await newUser('rone');
    const sysadmin = await c.getRoleByName('system_admin');
    checkShape(sysadmin);
    assert.equal(sysadmin.display_name, 'authentication.roles.global_admin.name');
    for (const p of ['manage_system', 'create_public_channel', 'sysconsole_write_user_management_system_roles',
        'read_channel', 'manage_custom_group_members', 'run_view']) {
        assert.ok(sysadmin.permissions.includes(p), p);
    }
    assert.ok(!sysadmin.permissions.includes('manage_webhooks'), 'deprecated permissions are not granted');
    assert.equal(new Set(sysadmin.permissions).size, sysadmin.permissions.length);
    assert.deepEqual(await c.getRole(sysadmin.id), sysadmin);

    // every node's migration gives a role the same id
    const teamUser = await c.getRoleByName('team_user');
    const expected = createHash('md5').update('chorus role team_user').digest('hex').slice(0, 26);
    assert.equal(teamUser.id, expected);

    await clientError(c.getRoleByName('no_such_role'), 404, 'app.role.get_by_name.app_error');
    await clientError(c.getRole('a'.repeat(26)), 404, 'app.role.get.app_error');
    await clientError(c.getRole('shortid'), 400, 'api.context.invalid_url_param.app_error');
    await clientError(c.getRoleByName('x'.repeat(65)), 400, 'api.context.invalid_url_param.app_error');
});

test('GET /roles: every role for manage_system, 403 otherwise', T, async () => {
    const {client: a} = await admin();
    const {client: c} = await newUser('rall');
    const all = await a.doFetch(a.getRolesRoute(), {method: 'get'});
    for (const name of DEFAULTS) {
        assert.ok(all.some((r) => r.name === name), name);
    }
    await clientError(c.doFetch(c.getRolesRoute(), {method: 'get'}), 403, 'api.context.permissions.app_error');
});

test('patchRole: who may, what may not change, bad input', T, async () => {
    const {client: a} = await admin();
    const {client: c} = await newUser('rpatchbad');
    const role = await a.getRoleByName('system_user_access_token');
    await clientError(c.patchRole(role.id, {permissions: role.permissions}), 403, 'api.context.permissions.app_error');
    const sysadmin = await a.getRoleByName('system_admin');
    await clientError(c.patchRole(sysadmin.id, {permissions: sysadmin.permissions}), 403,
        'api.context.permissions.app_error');
    await clientError(a.patchRole('a'.repeat(26), {permissions: []}), 404, 'app.role.get.app_error');
    await clientError(a.patchRole('shortid', {permissions: []}), 400, 'api.context.invalid_url_param.app_error');
    await clientError(a.patchRole(role.id, {permissions: 'read_jobs'}), 400, 'api.context.invalid_body_param.app_error');
    await clientError(a.patchRole(role.id, {permissions: [1]}), 400, 'api.context.invalid_body_param.app_error');
    await clientError(a.patchRole(role.id, {permissions: [...role.permissions, 'no_such_permission']}), 400,
        'app.role.save.invalid_role.app_error');
    const err = await clientError(a.patchRole(role.id, {permissions: [...role.permissions, 'manage_roles']}), 501,
        'api.roles.patch_roles.not_allowed_permission.error');
    assert.match(err.message + (err.detailed_error ?? ''), /manage_roles|not allowed/);
    const guest = await a.getRoleByName('channel_guest');
    await clientError(a.patchRole(guest.id, {permissions: guest.permissions}), 501,
        'api.roles.patch_roles.license.error');
    // nothing changed
    assert.deepEqual(await a.getRole(role.id), role);
});

test('patchRole: the new permissions, UpdateAt, role_updated to everyone; the same list changes nothing', T,
    async (t) => {
        const {client: a} = await admin();
        const watcher = await newUser('rwatch');
        const sock = await rawSocket(t, 'watcher', {headers: bearer(watcher.client.getToken())});
        await sock.wait('hello');
        const role = await a.getRoleByName('system_user_access_token');
        t.after(() => a.patchRole(role.id, {permissions: role.permissions}));

        const same = await a.patchRole(role.id, {permissions: role.permissions});
        assert.deepEqual(same, role, 'the same list in the same order: unchanged');

        const wanted = [...role.permissions, 'read_jobs', 'read_jobs'];
        const patched = await a.patchRole(role.id, {permissions: wanted});
        assert.deepEqual(patched.permissions, [...role.permissions, 'read_jobs'], 'repeats dropped, order kept');
        assert.ok(patched.update_at > role.update_at);
        assert.equal(patched.create_at, role.create_at);
        assert.deepEqual(await watcher.client.getRoleByName('system_user_access_token'), patched);

        const ev = await sock.wait('role_updated', (e) => JSON.parse(e.data.role).update_at === patched.update_at);
        assert.equal(typeof ev.data.role, 'string');
        assert.deepEqual(JSON.parse(ev.data.role), patched);
        assert.deepEqual(ev.broadcast.user_id, '');
        assert.deepEqual(ev.broadcast.channel_id, '');
        assert.deepEqual(ev.broadcast.team_id, '');

        // no permissions in the patch: saved as it is, event sent
        const untouched = await a.patchRole(role.id, {});
        assert.deepEqual(untouched.permissions, patched.permissions);
        assert.ok(untouched.update_at > patched.update_at);

        const restored = await a.patchRole(role.id, {permissions: role.permissions});
        assert.deepEqual(restored.permissions, role.permissions);
    });

test('permission checks read the roles: default roles keep every user\'s rights', T, async () => {
    const {client: c, user} = await newUser('rdefault');
    const team = await c.createTeam({name: `rdefault${Date.now()}`, display_name: 'Defaults', type: 'O'});
    const ch = await c.createChannel({team_id: team.id, name: `pub${Date.now()}`, display_name: 'Pub', type: 'O'});
    assert.equal(ch.team_id, team.id);
    const priv = await c.createChannel({team_id: team.id, name: `priv${Date.now()}`, display_name: 'Priv', type: 'P'});
    assert.equal(priv.type, 'P');
    // a user without manage_system
    await clientError(c.getConfig(), 403, 'api.context.permissions.app_error');
    const other = await newUser('rother');
    await clientError(other.client.createChannel({team_id: team.id, name: `no${Date.now()}`, display_name: 'No',
        type: 'O'}), 403, 'api.context.permissions.app_error');
    assert.ok(user.roles.includes('system_user'));
});
