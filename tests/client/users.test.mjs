// Users and sessions through @mattermost/client: sign-up rules, login and its
// token, logout invalidation, reading users; their failure paths.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {T, admin, client, clientError, newUser, unique} from './lib.mjs';

test('the first user is a system admin', T, async () => {
    const {user} = await admin();
    assert.equal(user.roles, 'system_admin system_user');
});

test('createUser by the admin: 201, lower-cased, sanitized, system_user', T, async () => {
    const {client: a} = await admin();
    const name = unique('Carol');
    const u = await a.createUser({username: name, email: `${name}@Example.com`, password: 'long-enough-1'});
    assert.equal(u.username, name.toLowerCase());
    assert.equal(u.email, `${name.toLowerCase()}@example.com`);
    assert.equal(u.roles, 'system_user');
    assert.match(u.id, /^[a-z0-9]{26}$/);
    assert.equal(u.password, undefined);
    assert.ok(u.create_at > 0 && u.update_at === u.create_at);
});

test('sign-up without a session when EnableOpenServer is false: 403', T, async () => {
    const name = unique('dave');
    await clientError(client().createUser({username: name, email: `${name}@example.com`, password: 'long-enough-1'}),
        403, 'api.user.create_user.no_open_server');
});

test('sign-up validation: username, email, password, duplicates', T, async () => {
    const {client: a} = await admin();
    const name = unique('erin');
    await clientError(a.createUser({username: 'x', email: `${name}@example.com`, password: 'long-enough-1'}),
        400, 'model.user.is_valid.username.app_error');
    await clientError(a.createUser({username: name, email: 'not-an-email', password: 'long-enough-1'}),
        400, 'model.user.is_valid.email.app_error');
    await clientError(a.createUser({username: name, email: `${name}@example.com`, password: 'short'}),
        400, 'model.user.is_valid.pwd_length.app_error');
    await a.createUser({username: name, email: `${name}@example.com`, password: 'long-enough-1'});
    await clientError(a.createUser({username: name, email: `${name}2@example.com`, password: 'long-enough-1'}),
        400, 'app.user.save.username_exists.app_error');
    await clientError(a.createUser({username: `${name}x`, email: `${name}@example.com`, password: 'long-enough-1'}),
        400, 'app.user.save.email_exists.app_error');
});

test('login returns the user and a token; by email too', T, async () => {
    const {user, password} = await newUser('frank');
    const c = client();
    const me = await c.login(user.email, password);
    assert.equal(me.id, user.id);
    assert.match(c.getToken(), /^[a-z0-9]{26}$/);
    assert.equal((await c.getMe()).id, user.id);
});

test('login with a wrong password or an unknown user: 401', T, async () => {
    const {user} = await newUser('gina');
    await clientError(client().login(user.username, 'wrong-password'), 401,
        'api.user.login.invalid_credentials_email_username');
    await clientError(client().login(unique('nobody'), 'wrong-password'), 401,
        'api.user.login.invalid_credentials_email_username');
});

const INVALID = 'api.user.login.invalid_credentials_email_username';
const LOCKED = 'api.user.check_user_login_attempts.too_many.app_error';

// ServiceSettings.MaximumLoginAttempts is 10 in etc/config.json (Mattermost's default).
test('lockout: 10 wrong passwords in a row lock the account, a success in between clears the count, an admin\'s new password unlocks', T, async () => {
    const {user, password} = await newUser('lock');
    for (let i = 0; i < 9; i++) {
        await clientError(client().login(user.username, 'wrong-password'), 401, INVALID);
    }
    await client().login(user.username, password); // the 10th attempt passes: the count starts again
    for (let i = 0; i < 10; i++) {
        await clientError(client().login(user.username, 'wrong-password'), 401, INVALID);
    }
    // locked: even the right password is refused, by email too
    await clientError(client().login(user.username, password), 401, LOCKED);
    await clientError(client().login(user.email, password), 401, LOCKED);
    const {client: a} = await admin();
    await a.updateUserPassword(user.id, '', 'set-by-the-admin');
    const me = await client().login(user.username, 'set-by-the-admin');
    assert.equal(me.id, user.id);
});

test('lockout: guesses sent side by side check at most MaximumLoginAttempts passwords', T, async () => {
    const {user, password} = await newUser('lockpar');
    const outcomes = await Promise.all(Array.from({length: 16}, () =>
        client().login(user.username, 'wrong-password').then(() => 'ok', (e) => e.server_error_id)));
    const wrong = outcomes.filter((o) => o === INVALID).length;
    const locked = outcomes.filter((o) => o === LOCKED).length;
    // a 503 (a CPU queue full of other files' logins) counts nothing
    assert.ok(wrong <= 10, `${wrong} passwords checked: ${outcomes}`);
    assert.ok(outcomes.every((o) => o === INVALID || o === LOCKED || o === 'api.context.server_busy.app_error'), `${outcomes}`);
    if (wrong === 10) {
        assert.equal(locked, 6);
        await clientError(client().login(user.username, password), 401, LOCKED);
    }
});

test('two sessions of two users are independent', T, async () => {
    const a = await newUser('hal');
    const b = await newUser('ivy');
    assert.equal((await a.client.getMe()).id, a.user.id);
    assert.equal((await b.client.getMe()).id, b.user.id);
});

test('logout: the token stops working at once, on every worker', T, async () => {
    const {client: c, user} = await newUser('jack');
    const token = c.getToken();
    // several requests so that more than one worker has served the token
    for (let i = 0; i < 8; i++) {
        assert.equal((await c.getMe()).id, user.id);
    }
    await c.logout();
    const again = client();
    again.setToken(token);
    for (let i = 0; i < 8; i++) {
        await clientError(again.getMe(), 401, 'api.context.session_expired.app_error');
    }
});

test('no token, a garbage token: 401', T, async () => {
    await clientError(client().getMe(), 401, 'api.context.session_expired.app_error');
    const c = client();
    c.setToken('garbage');
    await clientError(c.getMe(), 401, 'api.context.session_expired.app_error');
    c.setToken('abcdefghijklmnopqrstuvwxyz');
    await clientError(c.getMe(), 401, 'api.context.session_expired.app_error');
});

test('getUser, getProfilesByIds; unknown and invalid ids', T, async () => {
    const a = await newUser('kim');
    const b = await newUser('lou');
    assert.equal((await a.client.getUser(b.user.id)).username, b.user.username);
    const list = await a.client.getProfilesByIds([a.user.id, b.user.id]);
    assert.deepEqual(list.map((u) => u.id).sort(), [a.user.id, b.user.id].sort());
    await clientError(a.client.getUser('abcdefghijklmnopqrstuvwxyz'), 404);
    await clientError(a.client.getUser('not-an-id'), 400, 'api.context.invalid_url_param.app_error');
    await clientError(a.client.getProfilesByIds(['bad']), 400, 'api.context.invalid_body_param.app_error');
});

test('malformed JSON bodies: 400', T, async () => {
    const {client: c} = await newUser('max');
    const url = `${c.getUsersRoute()}/ids`;
    await clientError(c.doFetch(url, {method: 'post', body: '{not json'}), 400,
        'api.context.invalid_body_param.app_error');
    await clientError(c.doFetch(url, {method: 'post', body: '{"an":"object"}'}), 400,
        'api.context.invalid_body_param.app_error');
});
