// Users' writes through @mattermost/client: patch (oneself, another user
// with edit_other_users, an email change proven by the password), the full
// update, activation (a deactivated user's token refused at once, its socket
// closed), system roles (the session sees them at once), the password, and
// the generated profile picture; Mattermost's ids and the events on raw
// sockets.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {inflateSync} from 'node:zlib';
import {T, admin, bearer, client, clientError, newUser, rawSocket, unique} from './lib.mjs';

const PERM = 'api.context.permissions.app_error';
const BODY = 'api.context.invalid_body_param.app_error';
const URLP = 'api.context.invalid_url_param.app_error';

test('patchMe and patchUser: the fields change, the answer and GET agree; 403 for another user', T, async () => {
    const a = await newUser('pwa');
    const b = await newUser('pwb');
    const patched = await a.client.patchMe({
        nickname: 'Ace', first_name: 'Ada', last_name: 'Lovelace', position: 'Engineer', locale: 'fr',
        props: {k: 'v'}, notify_props: {email: 'false', push: 'all', desktop: 'all', channel: 'true'},
        timezone: {useAutomaticTimezone: 'false', manualTimezone: 'Europe/Paris', automaticTimezone: ''},
    });
    assert.equal(patched.id, a.user.id);
    assert.equal(patched.nickname, 'Ace');
    assert.equal(patched.first_name, 'Ada');
    assert.equal(patched.last_name, 'Lovelace');
    assert.equal(patched.position, 'Engineer');
    assert.equal(patched.locale, 'fr');
    assert.deepEqual(patched.props, {k: 'v'});
    assert.equal(patched.notify_props.push, 'all');
    assert.equal(patched.timezone.manualTimezone, 'Europe/Paris');
    assert.equal(patched.email, a.user.email);
    assert.ok(patched.update_at >= a.user.update_at);
    assert.equal(patched.password, undefined);
    // the node's users cache was dropped: everybody reads the new version
    assert.deepEqual(await a.client.getMe(), patched);
    assert.equal((await b.client.getUser(a.user.id)).nickname, 'Ace');
    // fields not sent stay
    const again = await a.client.patchUser({id: a.user.id, position: 'Lead'});
    assert.equal(again.nickname, 'Ace');
    assert.equal(again.position, 'Lead');

    await clientError(b.client.patchUser({id: a.user.id, nickname: 'Hijack'}), 403, PERM);
    assert.equal((await a.client.getMe()).nickname, 'Ace');
    const {client: adm} = await admin();
    const byAdmin = await adm.patchUser({id: a.user.id, nickname: 'Set by admin'});
    assert.equal(byAdmin.nickname, 'Set by admin');
    assert.equal((await a.client.getMe()).nickname, 'Set by admin');
    // a system admin is patched only with manage_system
    await clientError(a.client.patchUser({id: (await admin()).user.id, nickname: 'x'}), 403, PERM);
});

test('patch: username and email rules, taken names, an email change of one\'s own needs the password', T,
    async () => {
        const a = await newUser('pwc');
        const b = await newUser('pwd');
        const inv = (p, field) => clientError(a.client.patchMe(p), 400, `model.user.is_valid.${field}.app_error`);
        await inv({username: 'x'}, 'username');
        await inv({username: '1abc'}, 'username');
        await inv({username: 'all'}, 'username');
        await inv({nickname: 'n'.repeat(65)}, 'nickname');
        await inv({first_name: 'f'.repeat(65)}, 'first_name');
        await inv({last_name: 'l'.repeat(65)}, 'last_name');
        await inv({position: 'p'.repeat(129)}, 'position');
        await inv({locale: 'toolong'}, 'locale');
        await clientError(a.client.patchMe({username: b.user.username}), 400, 'app.user.save.username_exists.app_error');
        const name = unique('pwn');
        assert.equal((await a.client.patchMe({username: name.toUpperCase()})).username, name);

        await clientError(a.client.patchMe({email: 'new@example.com'}), 400, BODY);
        await clientError(a.client.patchMe({email: 'new@example.com', password: 'wrong-password'}), 401,
            'api.user.check_user_password.invalid.app_error');
        await clientError(a.client.patchMe({email: b.user.email, password: a.password}), 400,
            'app.user.save.email_exists.app_error');
        await clientError(a.client.patchMe({email: 'not-an-email', password: a.password}), 400,
            'model.user.is_valid.email.app_error');
        const email = `${unique('pwe')}@Example.com`;
        const changed = await a.client.patchMe({email, password: a.password});
        assert.equal(changed.email, email.toLowerCase());
        // the same email again needs no password
        await a.client.patchMe({email: changed.email});
        // an admin changes another user's email without it
        const {client: adm} = await admin();
        const other = `${unique('pwf')}@example.com`;
        assert.equal((await adm.patchUser({id: b.user.id, email: other})).email, other);

        const put = (body) => a.client.doFetch(`${a.client.getUserRoute('me')}/patch`, {method: 'put', body});
        await clientError(put('[]'), 400, BODY);
        await clientError(put('{"nickname":5}'), 400, BODY);
        await clientError(put('{"props":{"a":1}}'), 400, BODY);
        await clientError(a.client.patchUser({id: 'nope', nickname: 'x'}), 400, URLP);
        const {client: admc} = await admin();
        await clientError(admc.patchUser({id: 'abcdefghijklmnopqrstuvwxyz', nickname: 'x'}), 400, BODY);
    });

test('updateUser: the whole user; the id in the body must be the one in the URL', T, async () => {
    const a = await newUser('pwg');
    const me = await a.client.getMe();
    const updated = await a.client.updateUser({...me, nickname: 'Full', first_name: 'F'});
    assert.equal(updated.nickname, 'Full');
    assert.equal(updated.first_name, 'F');
    assert.equal(updated.roles, me.roles);
    await clientError(a.client.doFetch(a.client.getUserRoute(me.id), {method: 'put',
        body: JSON.stringify({...me, id: 'abcdefghijklmnopqrstuvwxyz'})}), 400, BODY);
    const b = await newUser('pwh');
    await clientError(b.client.updateUser({...me, nickname: 'nope'}), 403, PERM);
});

test('user_updated: the whole user to its owner, the sanitized profile to the others', T, async (t) => {
    const a = await newUser('pwi');
    const b = await newUser('pwj');
    const wa = await rawSocket(t, 'a', {headers: bearer(a.client.getToken())});
    const wb = await rawSocket(t, 'b', {headers: bearer(b.client.getToken())});
    await wa.wait('hello');
    await wb.wait('hello');
    await a.client.patchMe({nickname: 'Evented'});
    const own = await wa.wait('user_updated', (e) => e.data.user.id === a.user.id);
    const seen = await wb.wait('user_updated', (e) => e.data.user.id === a.user.id);
    assert.equal(own.data.user.nickname, 'Evented');
    assert.equal(seen.data.user.nickname, 'Evented');
    assert.ok(own.data.user.last_password_update > 0);
    assert.equal(seen.data.user.last_password_update, 0);
    assert.equal(wa.all('user_updated', (e) => e.data.user.id === a.user.id).length, 1);
    assert.equal(own.broadcast.user_id, a.user.id);
    assert.equal(seen.data.user.password, undefined);
});

test('updateUserActive: 403 without the permission; deactivation refuses the token at once and closes the socket',
    T, async (t) => {
        const a = await newUser('pwk');
        const b = await newUser('pwl');
        await clientError(b.client.updateUserActive(a.user.id, false), 403,
            'api.user.update_active.permissions.app_error');
        await clientError(a.client.updateUserActive(a.user.id, false), 401, 'api.user.update_active.not_enable.app_error');
        await clientError(b.client.updateUserActive(a.user.id, 'no'), 400, BODY);

        const wa = await rawSocket(t, 'a', {headers: bearer(a.client.getToken())});
        const wb = await rawSocket(t, 'b', {headers: bearer(b.client.getToken())});
        await wa.wait('hello');
        await wb.wait('hello');
        const {client: adm} = await admin();
        assert.deepEqual(await adm.updateUserActive(a.user.id, false), {status: 'OK'});
        await clientError(a.client.getMe(), 401, 'api.context.session_expired.app_error');
        await wa.waitClosed(3000);
        await wb.wait('user_activation_status_change');
        const upd = await wb.wait('user_updated', (e) => e.data.user.id === a.user.id);
        assert.ok(upd.data.user.delete_at > 0);
        assert.ok((await adm.getUser(a.user.id)).delete_at > 0);
        // a login is refused while deactivated
        await clientError(client().login(a.user.username, a.password), 401);

        assert.deepEqual(await adm.updateUserActive(a.user.id, true), {status: 'OK'});
        assert.equal((await adm.getUser(a.user.id)).delete_at, 0);
        const again = client();
        assert.equal((await again.login(a.user.username, a.password)).id, a.user.id);
        await clientError(adm.updateUserActive('abcdefghijklmnopqrstuvwxyz', false), 404,
            'app.user.missing_account.const');
    });

test('updateUserRoles: manage_roles, IsValidUserRoles, and the session sees the roles at once', T, async (t) => {
    const a = await newUser('pwm');
    const b = await newUser('pwn');
    await clientError(b.client.updateUserRoles(a.user.id, 'system_user system_admin'), 403, PERM);
    const {client: adm} = await admin();
    await clientError(adm.updateUserRoles(a.user.id, 'system_admin'), 400, BODY);
    await clientError(adm.updateUserRoles(a.user.id, 'system_user Bad-Role'), 400, BODY);
    await clientError(adm.updateUserRoles(a.user.id, 'system_user system_manager'), 400,
        'api.user.update_user_roles.license.app_error');
    await clientError(adm.updateUserRoles(a.user.id, 'system_user no_such_role'), 400,
        'app.role.check_roles_exist.role_not_found');
    await clientError(adm.updateUserRoles('abcdefghijklmnopqrstuvwxyz', 'system_user'), 404,
        'app.user.missing_account.const');

    // before: no manage_system; after: the same token has it
    await clientError(a.client.doFetch(`${a.client.getBaseRoute()}/roles`, {method: 'get'}), 403, PERM);
    const wa = await rawSocket(t, 'a', {headers: bearer(a.client.getToken())});
    await wa.wait('hello');
    assert.deepEqual(await adm.updateUserRoles(a.user.id, 'system_user system_admin'), {status: 'OK'});
    const ev = await wa.wait('user_role_updated');
    assert.deepEqual(ev.data, {user_id: a.user.id, roles: 'system_user system_admin'});
    assert.equal((await a.client.getMe()).roles, 'system_user system_admin');
    assert.ok(Array.isArray(await a.client.doFetch(`${a.client.getBaseRoute()}/roles`, {method: 'get'})));
    await adm.updateUserRoles(a.user.id, 'system_user');
    await clientError(a.client.doFetch(`${a.client.getBaseRoute()}/roles`, {method: 'get'}), 403, PERM);
    assert.ok(wa.isOpen(), 'a role change keeps the socket');
});

test('updateUserPassword: the current one for oneself, the permission for another user', T, async () => {
    const a = await newUser('pwo');
    const b = await newUser('pwp');
    await clientError(a.client.updateUserPassword(a.user.id, '', 'new-password-1'), 400, BODY);
    await clientError(a.client.updateUserPassword(a.user.id, 'wrong-password', 'new-password-1'), 400,
        'api.user.update_password.incorrect.app_error');
    await clientError(a.client.updateUserPassword(a.user.id, a.password, 'short'), 400,
        'model.user.is_valid.pwd_length.app_error');
    const before = (await a.client.getMe()).last_password_update;
    assert.deepEqual(await a.client.updateUserPassword(a.user.id, a.password, 'new-password-1'), {status: 'OK'});
    assert.ok((await a.client.getMe()).last_password_update >= before);
    await clientError(client().login(a.user.username, a.password), 401);
    await client().login(a.user.username, 'new-password-1');

    await clientError(b.client.updateUserPassword(a.user.id, '', 'new-password-2'), 403,
        'api.user.update_password.context.app_error');
    const {client: adm, user: admUser} = await admin();
    await clientError(adm.updateUserPassword(a.user.id, '', 'x'), 400, 'model.user.is_valid.pwd_length.app_error');
    assert.deepEqual(await adm.updateUserPassword(a.user.id, '', 'new-password-2'), {status: 'OK'});
    await client().login(a.user.username, 'new-password-2');
    // a system admin's password: not for a user without manage_system
    await clientError(b.client.updateUserPassword(admUser.id, '', 'new-password-3'), 403,
        'api.user.update_password.context.app_error');
});

test('updateUserPassword of one\'s own counts wrong current passwords as failed logins (Mattermost\'s DoubleCheckPassword)', T, async () => {
    const LOCKED = 'api.user.check_user_login_attempts.too_many.app_error';
    const a = await newUser('pwlock');
    // a right current password with a refused new one clears the count, as a login would
    for (let i = 0; i < 9; i++) {
        await clientError(a.client.updateUserPassword(a.user.id, 'wrong-password', 'new-password-1'), 400,
            'api.user.update_password.incorrect.app_error');
    }
    await clientError(a.client.updateUserPassword(a.user.id, a.password, 'short'), 400,
        'model.user.is_valid.pwd_length.app_error');
    for (let i = 0; i < 5; i++) {
        await clientError(client().login(a.user.username, 'wrong-password'), 401);
    }
    for (let i = 0; i < 5; i++) {
        await clientError(a.client.updateUserPassword(a.user.id, 'wrong-password', 'new-password-1'), 400,
            'api.user.update_password.incorrect.app_error');
    }
    // ten in a row, logins and changes together: locked for both
    await clientError(a.client.updateUserPassword(a.user.id, a.password, 'new-password-1'), 401, LOCKED);
    await clientError(client().login(a.user.username, a.password), 401, LOCKED);
    const {client: adm} = await admin();
    assert.deepEqual(await adm.updateUserPassword(a.user.id, '', 'new-password-2'), {status: 'OK'});
    assert.deepEqual(await a.client.updateUserPassword(a.user.id, 'new-password-2', 'new-password-3'), {status: 'OK'});
    await client().login(a.user.username, 'new-password-3');
});

function pngInfo(buf) {
    assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(buf.toString('latin1', 12, 16), 'IHDR');
    const width = buf.readUInt32BE(16);
    const height = buf.readUInt32BE(20);
    const idat = buf.indexOf('IDAT');
    const raw = inflateSync(buf.subarray(idat + 4, idat + 4 + buf.readUInt32BE(idat - 4)));
    const px = (x, y) => [...raw.subarray(y * (1 + width * 3) + 1 + x * 3, y * (1 + width * 3) + 4 + x * 3)];
    return {width, height, px};
}

test('the profile picture: a PNG with the initial on the id\'s colour, cached a day', T, async () => {
    const a = await newUser('pwq');
    const b = await newUser('pwr');
    const get = (c, url) => fetch(url, {headers: bearer(c.getToken())});
    const res = await get(b.client, a.client.getProfilePictureUrl(a.user.id, 0));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('cache-control'), 'max-age=86400, private');
    const png = Buffer.from(await res.arrayBuffer());
    const img = pngInfo(png);
    assert.equal(img.width, 128);
    assert.equal(img.height, 128);
    assert.notDeepEqual(img.px(0, 0), [255, 255, 255]); // the background
    assert.deepEqual(img.px(64, 64 - 30), [255, 255, 255]); // the top of a "P"
    const def = await get(b.client, a.client.getDefaultProfilePictureUrl(a.user.id));
    assert.equal(def.status, 200);
    assert.deepEqual(Buffer.from(await def.arrayBuffer()), png);
    // the same user, the same picture; another initial, another picture
    assert.deepEqual(Buffer.from(await (await get(a.client, a.client.getProfilePictureUrl('me', 1))).arrayBuffer()),
        png);
    await a.client.patchMe({username: unique('zed')});
    const renamed = Buffer.from(await (await get(b.client, a.client.getProfilePictureUrl(a.user.id))).arrayBuffer());
    assert.notDeepEqual(renamed, png);

    const missing = await get(b.client, b.client.getProfilePictureUrl('abcdefghijklmnopqrstuvwxyz'));
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).id, 'app.user.missing_account.const');
    assert.equal((await get(b.client, b.client.getProfilePictureUrl('bad'))).status, 400);
    assert.equal((await fetch(b.client.getProfilePictureUrl(a.user.id))).status, 401);
});
