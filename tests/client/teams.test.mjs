// Teams through @mattermost/client: creating (validation, the creator as team
// admin, default channels), reading (members, open teams, sanitizing),
// adding members (who may, idempotence, default channels), a user's teams;
// their failure paths.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {T, admin, client, clientError, newUser, unique} from './lib.mjs';

function teamInput(extra = {}) {
    const name = unique('team-');
    return {name, display_name: `Team ${name}`, type: 'O', allow_open_invite: true, ...extra};
}

test('createTeam: 201, the fields, the creator is its admin and in its default channels', T, async () => {
    const {client: c, user} = await newUser('tcreator');
    const input = teamInput({description: 'what we do'});
    const team = await c.createTeam(input);
    assert.match(team.id, /^[a-z0-9]{26}$/);
    assert.equal(team.name, input.name);
    assert.equal(team.display_name, input.display_name);
    assert.equal(team.description, 'what we do');
    assert.equal(team.type, 'O');
    assert.equal(team.allow_open_invite, true);
    assert.equal(team.email, user.email);
    assert.match(team.invite_id, /^[a-z0-9]{26}$/);
    assert.equal(team.delete_at, 0);
    assert.ok(team.create_at > 0 && team.update_at === team.create_at);

    // adding oneself again returns the existing membership: team admin
    const member = await c.addToTeam(team.id, user.id);
    assert.equal(member.team_id, team.id);
    assert.equal(member.user_id, user.id);
    assert.equal(member.scheme_admin, true);
    assert.equal(member.scheme_user, true);
    assert.equal(member.roles, 'team_user team_admin');
    assert.equal(member.delete_at, 0);

    const channels = await c.getMyChannels(team.id);
    assert.deepEqual(channels.map((ch) => ch.name).sort(), ['off-topic', 'town-square']);
    const town = channels.find((ch) => ch.name === 'town-square');
    assert.equal(town.display_name, 'Town Square');
    assert.equal(town.type, 'O');
    assert.equal(town.team_id, team.id);
    const members = await c.getChannelMembers(town.id);
    assert.equal(members.length, 1);
    assert.equal(members[0].user_id, user.id);
});

test('createTeam: type follows allow_open_invite, as Mattermost keeps them in sync', T, async () => {
    const {client: c} = await newUser('tsync');
    const invite = await c.createTeam(teamInput({type: 'O', allow_open_invite: false}));
    assert.equal(invite.type, 'I');
    assert.equal(invite.allow_open_invite, false);
    const closed = await c.createTeam(teamInput({type: 'I', allow_open_invite: true}));
    assert.equal(closed.type, 'I');
    assert.equal(closed.allow_open_invite, false);
    const open = await c.createTeam(teamInput({type: 'O', allow_open_invite: true}));
    assert.equal(open.type, 'O');
});

test('createTeam validation: display name, name rules, reserved names, type, duplicates', T, async () => {
    const {client: c} = await newUser('tvalid');
    const bad = async (extra, id) => clientError(c.createTeam(teamInput(extra)), 400, id);
    await bad({display_name: ''}, 'model.team.is_valid.name.app_error');
    await bad({display_name: 'x'.repeat(65)}, 'model.team.is_valid.name.app_error');
    // limits count code points, not bytes
    assert.equal((await c.createTeam(teamInput({display_name: '€'.repeat(64)}))).display_name, '€'.repeat(64));
    await bad({name: 'a'.repeat(65)}, 'model.team.is_valid.url.app_error');
    await bad({name: 'x'}, 'model.team.is_valid.characters.app_error');
    await bad({name: 'Upper-case'}, 'model.team.is_valid.characters.app_error');
    await bad({name: 'has space'}, 'model.team.is_valid.characters.app_error');
    await bad({name: '-leading'}, 'model.team.is_valid.characters.app_error');
    await bad({name: 'under_score'}, 'model.team.is_valid.characters.app_error');
    await bad({name: unique('admin')}, 'model.team.is_valid.reserved.app_error');
    await bad({name: unique('api')}, 'model.team.is_valid.reserved.app_error');
    await bad({type: 'X'}, 'model.team.is_valid.type.app_error');
    await bad({name: undefined}, 'model.team.is_valid.characters.app_error');

    const input = teamInput();
    await c.createTeam(input);
    await bad({name: input.name}, 'app.team.save.existing.app_error');
    // two characters, and the one inner "__", are valid (each test database is new)
    assert.equal((await c.createTeam(teamInput({name: unique('').slice(0, 2)}))).name.length, 2);
    await c.createTeam(teamInput({name: `${unique('ab')}__cd`}));
});

test('createTeam bad bodies and no session: 400, 401', T, async () => {
    const {client: c} = await newUser('tbody');
    const url = c.getTeamsRoute();
    await clientError(c.doFetch(url, {method: 'post', body: '{not json'}), 400,
        'api.context.invalid_body_param.app_error');
    await clientError(c.doFetch(url, {method: 'post', body: '[1,2]'}), 400,
        'api.context.invalid_body_param.app_error');
    await clientError(c.doFetch(url, {method: 'post', body: JSON.stringify({...teamInput(), name: 5})}), 400,
        'api.context.invalid_body_param.app_error');
    await clientError(c.doFetch(url, {method: 'post', body: JSON.stringify({...teamInput(), allow_open_invite: 'yes'})}),
        400, 'api.context.invalid_body_param.app_error');
    await clientError(client().createTeam(teamInput()), 401, 'api.context.session_expired.app_error');
});

test('getTeam: members read it; others only an open team, sanitized; 404, 400, 401', T, async () => {
    const owner = await newUser('towner');
    const other = await newUser('tother');
    const invite = await owner.client.createTeam(teamInput({type: 'I', allow_open_invite: false}));
    const open = await owner.client.createTeam(teamInput());

    const mine = await owner.client.getTeam(invite.id);
    assert.equal(mine.id, invite.id);
    assert.equal(mine.email, owner.user.email);
    assert.equal(mine.invite_id, invite.invite_id);

    await clientError(other.client.getTeam(invite.id), 403, 'api.context.permissions.app_error');
    const seen = await other.client.getTeam(open.id);
    assert.equal(seen.id, open.id);
    assert.equal(seen.email, '');
    assert.equal(seen.invite_id, '');

    const {client: a} = await admin();
    assert.equal((await a.getTeam(invite.id)).email, owner.user.email);

    await clientError(owner.client.getTeam('abcdefghijklmnopqrstuvwxyz'), 404, 'app.team.get.find.app_error');
    await clientError(owner.client.getTeam('not-an-id'), 400, 'api.context.invalid_url_param.app_error');
    await clientError(client().getTeam(open.id), 401, 'api.context.session_expired.app_error');
});

test('addToTeam: a member adds a user (201), who joins the default channels; idempotent', T, async () => {
    const owner = await newUser('taowner');
    const bob = await newUser('tabob');
    const carl = await newUser('tacarl');
    const team = await owner.client.createTeam(teamInput({type: 'I', allow_open_invite: false}));

    const m = await owner.client.addToTeam(team.id, bob.user.id);
    assert.equal(m.team_id, team.id);
    assert.equal(m.user_id, bob.user.id);
    assert.equal(m.roles, 'team_user');
    assert.equal(m.scheme_admin, false);
    assert.equal(m.delete_at, 0);
    const again = await owner.client.addToTeam(team.id, bob.user.id);
    assert.equal(again.create_at, m.create_at);

    const names = (await bob.client.getMyChannels(team.id)).map((ch) => ch.name).sort();
    assert.deepEqual(names, ['off-topic', 'town-square']);
    assert.ok((await bob.client.getMyTeams()).some((t) => t.id === team.id));

    // team_user holds add_user_to_team, as in Mattermost's default scheme
    const c = await bob.client.addToTeam(team.id, carl.user.id);
    assert.equal(c.user_id, carl.user.id);
});

test('addToTeam permissions: outsiders, invite-only self-join, open self-join', T, async () => {
    const owner = await newUser('tpowner');
    const eve = await newUser('tpeve');
    const dan = await newUser('tpdan');
    const invite = await owner.client.createTeam(teamInput({type: 'I', allow_open_invite: false}));
    const open = await owner.client.createTeam(teamInput());

    await clientError(eve.client.addToTeam(invite.id, dan.user.id), 403, 'api.context.permissions.app_error');
    await clientError(eve.client.addToTeam(invite.id, eve.user.id), 403, 'api.context.permissions.app_error');
    const joined = await eve.client.addToTeam(open.id, eve.user.id);
    assert.equal(joined.user_id, eve.user.id);
    assert.equal(joined.roles, 'team_user');
    assert.deepEqual((await eve.client.getMyChannels(open.id)).map((ch) => ch.name).sort(),
        ['off-topic', 'town-square']);

    const {client: a} = await admin();
    assert.equal((await a.addToTeam(invite.id, dan.user.id)).user_id, dan.user.id);
});

test('addToTeam failures: unknown user or team, bad ids, bad bodies, 401', T, async () => {
    const owner = await newUser('tfowner');
    const team = await owner.client.createTeam(teamInput());
    const nobody = 'abcdefghijklmnopqrstuvwxyz';
    await clientError(owner.client.addToTeam(team.id, nobody), 404, 'app.user.missing_account.const');
    await clientError(owner.client.addToTeam(nobody, owner.user.id), 404, 'app.team.get.find.app_error');
    await clientError(owner.client.addToTeam(nobody, 'bcdefghijklmnopqrstuvwxyza'), 403,
        'api.context.permissions.app_error');
    const {client: a} = await admin();
    await clientError(a.addToTeam(nobody, owner.user.id), 404, 'app.team.get.find.app_error');
    await clientError(owner.client.addToTeam(team.id, 'bad'), 400, 'api.context.invalid_body_param.app_error');
    await clientError(owner.client.addToTeam('bad', owner.user.id), 400, 'api.context.invalid_url_param.app_error');

    const url = owner.client.getTeamMembersRoute(team.id);
    const post = (body) => owner.client.doFetch(url, {method: 'post', body});
    await clientError(post('{nope'), 400, 'api.team.add_team_member.invalid_body.app_error');
    await clientError(post(JSON.stringify({team_id: team.id, user_id: 7})), 400,
        'api.team.add_team_member.invalid_body.app_error');
    await clientError(post(JSON.stringify({user_id: owner.user.id})), 400, 'api.context.invalid_body_param.app_error');
    await clientError(post(JSON.stringify({team_id: nobody, user_id: owner.user.id})), 400,
        'api.context.invalid_body_param.app_error');
    await clientError(client().addToTeam(team.id, owner.user.id), 401, 'api.context.session_expired.app_error');
});

test('getMyTeams, getTeamsForUser: yourself or a system admin', T, async () => {
    const owner = await newUser('tlowner');
    const member = await newUser('tlmember');
    const t1 = await owner.client.createTeam(teamInput());
    const t2 = await owner.client.createTeam(teamInput({type: 'I', allow_open_invite: false}));
    await owner.client.addToTeam(t2.id, member.user.id);

    const mine = await owner.client.getMyTeams();
    assert.deepEqual(mine.map((t) => t.id).sort(), [t1.id, t2.id].sort());
    assert.ok(mine.every((t) => t.email === owner.user.email), 'a team admin sees the email');

    const theirs = await member.client.getTeamsForUser(member.user.id);
    assert.deepEqual(theirs.map((t) => t.id), [t2.id]);
    assert.equal(theirs[0].email, '', 'sanitized for a plain member');
    assert.equal(theirs[0].invite_id, '');

    await clientError(member.client.getTeamsForUser(owner.user.id), 403, 'api.context.permissions.app_error');
    const {client: a} = await admin();
    const seen = await a.getTeamsForUser(member.user.id);
    assert.deepEqual(seen.map((t) => t.id), [t2.id]);
    assert.equal(seen[0].email, owner.user.email);

    const fresh = await newUser('tlfresh');
    assert.deepEqual(await fresh.client.getMyTeams(), []);
    await clientError(owner.client.getTeamsForUser('nope'), 400, 'api.context.invalid_url_param.app_error');
    await clientError(client().getMyTeams(), 401, 'api.context.session_expired.app_error');
});
