// Reading users through @mattermost/client: by username, email and lists of
// usernames, the active count, and what a user sees of another (Mattermost's
// SanitizeProfile) against what it sees of itself.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {T, admin, clientError, newUser, unique, world} from './lib.mjs';

test('getUserByUsername: the user, sanitized for others; unknown: 404 get_by_username', T, async () => {
    const {user: erin, client: e} = await newUser('erin');
    const {client: f} = await newUser('fred');
    const seen = await f.getUserByUsername(erin.username);
    assert.equal(seen.id, erin.id);
    assert.equal(seen.email, erin.email);
    assert.equal(seen.email_verified, false);
    assert.equal(seen.last_password_update, 0);
    const self = await e.getUserByUsername(erin.username);
    assert.ok(self.last_password_update > 0, 'the owner sees when its password changed');
    await clientError(f.getUserByUsername(unique('nobody')), 404, 'app.user.get_by_username.app_error');
    await clientError(f.getUserByUsername('no$such'), 404, 'api.context.404.app_error');
});

test('getUserByEmail: any case; unknown: 404; not an email: 400', T, async () => {
    const {user: gil} = await newUser('gil');
    const {client: a} = await admin();
    const seen = await a.getUserByEmail(gil.email.toUpperCase());
    assert.equal(seen.id, gil.id);
    assert.equal(seen.last_password_update, 0, 'an admin reads another user sanitized too');
    await clientError(a.getUserByEmail(`${unique('nobody')}@example.com`), 404, 'app.user.missing_account.const');
    await clientError(a.getUserByEmail('not-an-email'), 400, 'api.context.invalid_url_param.app_error');
});

test('getProfilesByUsernames: the known ones, by username; empty or not strings: 400', T, async () => {
    const {user: h1, client: h} = await newUser('hana');
    const {user: h2} = await newUser('hugo');
    const list = await h.getProfilesByUsernames([h2.username, unique('ghost'), h1.username]);
    assert.deepEqual(list.map((u) => u.id), [h1, h2].sort((x, y) => x.username.localeCompare(y.username)).map((u) => u.id));
    assert.equal(list.find((u) => u.id === h2.id).email_verified, false);
    assert.ok(list.find((u) => u.id === h1.id).last_password_update > 0);
    await clientError(h.getProfilesByUsernames([]), 400, 'api.context.invalid_body_param.app_error');
    await clientError(h.getProfilesByUsernames([1, 2]), 400, 'api.context.invalid_body_param.app_error');
});

test('getUser of another: sanitized, from the cache or not; of oneself: whole', T, async () => {
    const {user: ida, client: i} = await newUser('ida');
    const {client: j} = await newUser('jon');
    for (let round = 0; round < 2; round++) { // a miss fills the cache, then a hit
        const other = await j.getUser(ida.id);
        assert.equal(other.last_password_update, 0);
        assert.equal(other.email_verified, false);
        const self = await i.getMe();
        assert.ok(self.last_password_update > 0);
    }
});

test('getTotalUsersStats counts active users', T, async () => {
    const {client: k} = await newUser('kim');
    const before = (await k.getTotalUsersStats()).total_users_count;
    assert.ok(before >= 2);
    await newUser('lou');
    assert.equal((await k.getTotalUsersStats()).total_users_count, before + 1);
});

test('getProfiles filters: in_team, not_in_team, in_channel, not_in_channel, without_team', T, async () => {
    const w = await world('ul');
    const {client: a} = await admin();
    const ids = (list) => list.map((u) => u.id).sort();
    const sorted = (...us) => us.map((u) => u.user.id).sort();
    assert.deepEqual(ids(await w.bob.client.getProfilesInTeam(w.team.id, 0, 200)), sorted(w.alice, w.bob, w.carol));
    assert.deepEqual(ids(await w.bob.client.getProfilesInChannel(w.open.id, 0, 200)), sorted(w.alice, w.bob));
    assert.deepEqual(ids(await w.bob.client.getProfilesNotInChannel(w.team.id, w.open.id, false, 0, 200))
        .filter((id) => sorted(w.alice, w.bob, w.carol, w.dave).includes(id)), sorted(w.carol), 'in the team, not the channel');
    // every page: the other test files make their users meanwhile, more than one page of them
    const allPages = async (get) => {
        const all = [];
        for (let p = 0; ; p++) {
            const got = await get(p);
            all.push(...got.map((u) => u.id));
            if (got.length < 200) {
                return all;
            }
        }
    };
    const notInTeam = await allPages((p) => w.alice.client.getProfilesNotInTeam(w.team.id, false, p, 200));
    assert.ok(notInTeam.includes(w.dave.user.id) && !notInTeam.includes(w.bob.user.id));
    assert.ok((await allPages((p) => a.getProfilesWithoutTeam(p, 200))).includes(w.dave.user.id));
    const page = await w.bob.client.getProfilesInTeam(w.team.id, 1, 2);
    assert.equal(page.length, 1, 'the third of three members is on page 1 of 2 per page');
    const newest = await w.bob.client.getProfilesInTeam(w.team.id, 0, 200, 'create_at');
    assert.deepEqual(newest.map((u) => u.create_at), newest.map((u) => u.create_at).sort((x, y) => y - x));
});

test('getProfiles permissions and bad parameters', T, async () => {
    const w = await world('um');
    await clientError(w.dave.client.getProfilesInTeam(w.team.id), 403, 'api.context.permissions.app_error');
    await clientError(w.carol.client.getProfilesInChannel(w.priv.id), 403, 'api.context.permissions.app_error');
    await clientError(w.bob.client.getProfilesWithoutTeam(), 403, 'api.context.permissions.app_error');
    await clientError(w.bob.client.getProfiles(0, 60, {not_in_channel: w.open.id}), 400, 'api.context.invalid_url_param.app_error');
    await clientError(w.bob.client.getProfiles(0, 60, {sort: 'create_at'}), 400, 'api.context.invalid_url_param.app_error');
    await clientError(w.bob.client.getProfiles(0, 60, {in_team: 'nope'}), 400, 'api.context.invalid_url_param.app_error');
    await clientError(w.bob.client.getProfiles(0, 60, {active: true, inactive: true}), 400, 'api.context.invalid_url_param.app_error');
    const all = await w.bob.client.getProfiles(0, 200);
    assert.ok(all.length >= 4 && all.every((u) => u.id === w.bob.user.id || u.last_password_update === 0));
});

test('autocompleteUsers: in a channel and out of it, by name prefix, never by email', T, async () => {
    const w = await world('ua');
    const b = w.bob.client;
    const inTeam = await b.autocompleteUsers(w.carol.user.username.slice(0, 6).toUpperCase(), w.team.id, '');
    assert.ok(inTeam.users.some((u) => u.id === w.carol.user.id));
    const r = await b.autocompleteUsers('', w.team.id, w.open.id);
    const ids = (l) => l.map((u) => u.id);
    assert.ok(ids(r.users).includes(w.alice.user.id) && ids(r.users).includes(w.bob.user.id));
    assert.ok(!ids(r.users).includes(w.carol.user.id));
    assert.ok(ids(r.out_of_channel).includes(w.carol.user.id) && !ids(r.out_of_channel).includes(w.dave.user.id));
    const mention = await b.autocompleteUsers(`@${w.alice.user.username}`, w.team.id, '');
    assert.deepEqual(ids(mention.users), [w.alice.user.id]);
    const byEmail = await b.autocompleteUsers('example.com', '', '');
    assert.equal(byEmail.users.length, 0);
    await clientError(w.dave.client.autocompleteUsers('', w.team.id, ''), 403, 'api.context.permissions.app_error');
    await clientError(w.carol.client.autocompleteUsers('', w.team.id, w.priv.id), 403, 'api.context.permissions.app_error');
});

test('searchUsers: terms, scopes, limits and bad bodies', T, async () => {
    const w = await world('us');
    const b = w.bob.client;
    const found = await b.searchUsers(w.dave.user.username, {});
    assert.deepEqual(found.map((u) => u.id), [w.dave.user.id]);
    assert.equal(found[0].last_password_update, 0);
    const byEmail = await b.searchUsers(w.dave.user.email, {});
    assert.deepEqual(byEmail.map((u) => u.id), [w.dave.user.id]);
    const inTeam = await b.searchUsers(w.dave.user.username.slice(0, 3), {team_id: w.team.id});
    assert.ok(!inTeam.some((u) => u.id === w.dave.user.id));
    const notInChannel = await b.searchUsers(w.carol.user.username, {team_id: w.team.id, not_in_channel_id: w.open.id});
    assert.deepEqual(notInChannel.map((u) => u.id), [w.carol.user.id]);
    await clientError(b.searchUsers('', {}), 400, 'api.context.invalid_body_param.app_error');
    await clientError(b.searchUsers('x', {not_in_channel_id: w.open.id}), 400, 'api.context.invalid_body_param.app_error');
    await clientError(b.searchUsers('x', {limit: 5000}), 400, 'api.context.invalid_body_param.app_error');
    await clientError(w.dave.client.searchUsers('x', {team_id: w.team.id}), 403, 'api.context.permissions.app_error');
});
