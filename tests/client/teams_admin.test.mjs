// Teams beyond creating and joining, through mattermost-redux 11.9.0's
// action creators where the web app has one (getTeams, getTeamByName,
// checkIfTeamExists, patchTeam, getTeamStats, getTeamMembers,
// removeUserFromTeam) and Client4 otherwise: listing, by name, exists,
// patch and update, soft delete and restore (permanent deletion refused
// while ServiceSettings.EnableAPITeamDeletion is off), stats, members
// (page, one, by ids), removing and leaving, team roles, joining by invite
// id; the permissions both ways, bad input, and the events on raw sockets.
// The redux Client4 singleton is shared: the tests of this file run one
// after the other (node --test's default).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import storeModule from 'mattermost-redux/store';
import {Client4 as ReduxClient} from 'mattermost-redux/client';
import {setServerVersion} from 'mattermost-redux/actions/general';
import {checkIfTeamExists, getTeamByName, getTeamMembers, getTeamStats, getTeams, patchTeam,
    removeUserFromTeam} from 'mattermost-redux/actions/teams';
import {T, URL, admin, bearer, clientError, newUser, rawSocket, unique} from './lib.mjs';

const configureStore = storeModule.default;
const PERMS = 'api.context.permissions.app_error';
const URL_PARAM = 'api.context.invalid_url_param.app_error';
const BODY_PARAM = 'api.context.invalid_body_param.app_error';

async function reduxStore(c) {
    ReduxClient.setUrl(URL);
    ReduxClient.setToken(c.getToken());
    ReduxClient.setIncludeCookies(false);
    const store = configureStore({});
    await store.dispatch(setServerVersion(c.getServerVersion() || '11.9.0'));
    return store;
}

function ok(r) {
    assert.ok(!('error' in r), JSON.stringify(r.error));
    return r.data;
}

// owner (team admin of an open and a private team), member (in both),
// outsider (in neither), each with a token for raw sockets.  Usernames start
// with z: users_read.test.mjs reads the first 200 users not in a team, by
// username, and expects its own among them.
async function teams(prefix) {
    const [owner, member, outsider] = await Promise.all(['o', 'm', 'x'].map((s) => newUser(`z${prefix}${s}`)));
    for (const u of [owner, member, outsider]) {
        u.token = u.client.getToken();
    }
    const open = await owner.client.createTeam({name: unique('ta-open-'), display_name: 'Zz Open', type: 'O',
        allow_open_invite: true});
    const priv = await owner.client.createTeam({name: unique('ta-priv-'), display_name: 'Zz Priv', type: 'I'});
    await owner.client.addToTeam(open.id, member.user.id);
    await owner.client.addToTeam(priv.id, member.user.id);
    return {owner, member, outsider, open, priv};
}

test('getTeams: open teams for a user, every team for the admin, the total count', T, async () => {
    const {outsider, open, priv} = await teams('tl');
    let store = await reduxStore(outsider.client);
    const seen = [];
    for (let page = 0; ; page++) {
        const data = ok(await store.dispatch(getTeams(page, 200)));
        seen.push(...data);
        if (data.length < 200) {
            break;
        }
    }
    assert.ok(seen.some((t) => t.id === open.id), 'the open team is listed');
    assert.ok(!seen.some((t) => t.id === priv.id), 'the private team is not');
    const listed = seen.find((t) => t.id === open.id);
    assert.equal(listed.email, '', 'sanitized for a non-member');
    assert.equal(listed.invite_id, '');
    assert.ok(store.getState().entities.teams.teams[open.id], 'in the store');
    // ordered by display name
    const names = seen.map((t) => t.display_name);
    assert.deepEqual(names, [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));

    const {client: a} = await admin();
    store = await reduxStore(a);
    const withCount = ok(await store.dispatch(getTeams(0, 1, true)));
    assert.equal(withCount.teams.length, 1);
    assert.ok(withCount.total_count >= 2);
    assert.equal(store.getState().entities.teams.totalCount, withCount.total_count);
    const all = await a.getTeams(0, 200);
    assert.ok(all.some((t) => t.id === priv.id), 'the admin lists private teams');
    assert.ok(all.find((t) => t.id === priv.id).invite_id, 'unsanitized for the admin');
    // exclude_policy_constrained: the admin may, a user may not
    await a.getTeams(0, 10, false, true);
    await clientError(outsider.client.getTeams(0, 10, false, true), 403, PERMS);
});

test('getTeamByName and checkIfTeamExists: who may see which team', T, async () => {
    const {owner, member, outsider, open, priv} = await teams('tn');
    let store = await reduxStore(outsider.client);
    const got = ok(await store.dispatch(getTeamByName(open.name)));
    assert.equal(got.id, open.id);
    assert.equal(got.email, '');
    let r = await store.dispatch(getTeamByName(priv.name));
    assert.equal(r.error.status_code, 403);
    assert.equal(ok(await store.dispatch(checkIfTeamExists(open.name))), true);
    assert.equal(ok(await store.dispatch(checkIfTeamExists(priv.name))), false, 'a private team is hidden');
    assert.equal(ok(await store.dispatch(checkIfTeamExists(unique('nosuch')))), false);

    store = await reduxStore(member.client);
    assert.equal(ok(await store.dispatch(getTeamByName(priv.name))).id, priv.id);
    assert.equal(ok(await store.dispatch(checkIfTeamExists(priv.name))), true, 'a member sees it');
    // the owner (team admin) reads the whole team
    assert.equal((await owner.client.getTeamByName(priv.name)).invite_id, priv.invite_id);
    // team_user holds invite_user: the member keeps the invite id, not the email
    const asMember = await member.client.getTeamByName(priv.name);
    assert.equal(asMember.invite_id, priv.invite_id);
    assert.equal(asMember.email, '');

    await clientError(outsider.client.getTeamByName(unique('nosuch')), 404, 'app.team.get_by_name.missing.app_error');
    await clientError(outsider.client.getTeamByName('Bad_Name!'), 400, URL_PARAM);
    await clientError(outsider.client.checkIfTeamExists('x'), 400, URL_PARAM);
});

test('patchTeam: the team admin edits, update_team to the members, Mattermost\'s type sync', T, async (t) => {
    const {owner, member, outsider, open, priv} = await teams('tp');
    const sock = await rawSocket(t, 'member', {headers: bearer(member.token)});
    await sock.wait('hello');
    const store = await reduxStore(owner.client);
    const patched = ok(await store.dispatch(patchTeam({id: open.id, display_name: 'Renamed', description: 'd'})));
    assert.equal(patched.display_name, 'Renamed');
    assert.equal(patched.description, 'd');
    assert.equal(patched.name, open.name);
    assert.equal(patched.email, owner.user.email, 'the team admin reads it whole');
    assert.ok(patched.update_at >= open.update_at);
    assert.equal(store.getState().entities.teams.teams[open.id].display_name, 'Renamed');
    const ev = await sock.wait('update_team', (e) => e.broadcast.team_id === open.id);
    const team = JSON.parse(ev.data.team);
    assert.equal(team.display_name, 'Renamed');
    assert.equal(team.email, '', 'the event carries the sanitized team');
    assert.equal(team.invite_id, '');

    // closing open invites: invite-only, and a new invite id
    const closed = await owner.client.patchTeam({id: open.id, allow_open_invite: false});
    assert.equal(closed.allow_open_invite, false);
    assert.equal(closed.type, 'I');
    assert.notEqual(closed.invite_id, open.invite_id);
    // an invite-only team stays so: Team.Patch keeps Type and AllowOpenInvite in sync
    const still = await owner.client.patchTeam({id: priv.id, allow_open_invite: true});
    assert.equal(still.type, 'I');
    assert.equal(still.allow_open_invite, false);

    await clientError(member.client.patchTeam({id: open.id, display_name: 'no'}), 403, PERMS);
    await clientError(outsider.client.patchTeam({id: open.id, display_name: 'no'}), 403, PERMS);
    await clientError(owner.client.patchTeam({id: open.id, display_name: ''}), 400,
        'model.team.is_valid.name.app_error');
    await clientError(owner.client.patchTeam({id: open.id, description: 'x'.repeat(256)}), 400,
        'model.team.is_valid.description.app_error');
    await clientError(owner.client.doFetch(`${owner.client.getTeamRoute(open.id)}/patch`,
        {method: 'put', body: JSON.stringify({display_name: 7})}), 400, BODY_PARAM);
    const missing = 'a'.repeat(26);
    await clientError(owner.client.patchTeam({id: missing, display_name: 'x'}), 403, PERMS);
    const {client: a} = await admin();
    await clientError(a.patchTeam({id: missing, display_name: 'x'}), 404, 'app.team.get.find.app_error');
    await clientError(a.patchTeam({id: 'bad', display_name: 'x'}), 400, URL_PARAM);
});

test('updateTeam: the id must match, the fields are replaced', T, async () => {
    const {owner, member, open} = await teams('tu');
    const updated = await owner.client.updateTeam({...open, display_name: 'Whole', description: '',
        company_name: 'Co'});
    assert.equal(updated.display_name, 'Whole');
    assert.equal(updated.company_name, 'Co');
    assert.equal(updated.type, 'O');
    await clientError(owner.client.doFetch(owner.client.getTeamRoute(open.id),
        {method: 'put', body: JSON.stringify({...open, id: 'b'.repeat(26)})}), 400, BODY_PARAM);
    await clientError(owner.client.updateTeam({...open, display_name: ''}), 400, 'model.team.is_valid.name.app_error');
    await clientError(member.client.updateTeam({...open, display_name: 'x'}), 403, PERMS);
});

test('getTeamStats and the members: page, one, by ids; view_team', T, async () => {
    const {owner, member, outsider, open} = await teams('ts');
    const store = await reduxStore(member.client);
    const stats = ok(await store.dispatch(getTeamStats(open.id)));
    assert.deepEqual(stats, {team_id: open.id, total_member_count: 2, active_member_count: 2});
    const members = ok(await store.dispatch(getTeamMembers(open.id, 0, 60)));
    assert.deepEqual(members.map((m) => m.user_id).sort(), [owner.user.id, member.user.id].sort());
    const page = await member.client.getTeamMembers(open.id, 1, 1);
    assert.equal(page.length, 1);
    assert.equal((await member.client.getTeamMembers(open.id, 0, 1))[0].user_id,
        [owner.user.id, member.user.id].sort()[0], 'by user id');
    const byName = await member.client.getTeamMembers(open.id, 0, 60, {sort: 'Username'});
    assert.deepEqual(byName.map((m) => m.user_id),
        [owner.user, member.user].sort((a, b) => (a.username < b.username ? -1 : 1)).map((u) => u.id));
    const one = await member.client.getTeamMember(open.id, owner.user.id);
    assert.equal(one.roles, 'team_user team_admin');
    assert.equal(one.scheme_admin, true);
    const some = await member.client.getTeamMembersByIds(open.id, [owner.user.id, outsider.user.id, 'junk']);
    assert.deepEqual(some.map((m) => m.user_id), [owner.user.id]);

    await clientError(outsider.client.getTeamStats(open.id), 403, PERMS);
    await clientError(outsider.client.getTeamMembers(open.id), 403, PERMS);
    await clientError(outsider.client.getTeamMember(open.id, owner.user.id), 403, PERMS);
    await clientError(outsider.client.getTeamMembersByIds(open.id, [owner.user.id]), 403, PERMS);
    await clientError(member.client.getTeamMember(open.id, outsider.user.id), 404,
        'app.team.get_member.missing.app_error');
    await clientError(member.client.getTeamMembersByIds(open.id, []), 400, BODY_PARAM);
    await clientError(member.client.getTeamMember(open.id, 'bad'), 400, URL_PARAM);
});

test('removeUserFromTeam: remove_user_from_team, leaving, leave_team events, channels left', T, async (t) => {
    const {owner, member, outsider, open} = await teams('tr');
    const mine = await rawSocket(t, 'member', {headers: bearer(member.token)});
    const theirs = await rawSocket(t, 'owner', {headers: bearer(owner.token)});
    await mine.wait('hello');
    await theirs.wait('hello');
    const channels = await member.client.getMyChannels(open.id);
    assert.equal(channels.length, 2);

    await clientError(outsider.client.removeFromTeam(open.id, member.user.id), 403, PERMS);
    await clientError(owner.client.removeFromTeam(open.id, outsider.user.id), 400,
        'api.team.remove_user_from_team.missing.app_error');

    const store = await reduxStore(owner.client);
    ok(await store.dispatch(removeUserFromTeam(open.id, member.user.id)));
    const toUser = await mine.wait('leave_team');
    assert.deepEqual(toUser.data, {user_id: member.user.id, team_id: open.id});
    assert.equal(toUser.broadcast.user_id, member.user.id);
    const toTeam = await theirs.wait('leave_team');
    assert.equal(toTeam.broadcast.team_id, open.id);
    assert.equal(toTeam.data.user_id, member.user.id);
    assert.equal(mine.all('leave_team').length, 1, 'the user is left out of the team broadcast');

    const left = await owner.client.getTeamMember(open.id, member.user.id);
    assert.ok(left.delete_at > 0, 'GetMember reads a removed member');
    assert.ok(!(await owner.client.getTeamMembers(open.id)).some((m) => m.user_id === member.user.id));
    const town = channels.find((c) => c.name === 'town-square');
    assert.ok(!(await owner.client.getChannelMembers(town.id)).some((m) => m.user_id === member.user.id),
        'the channel memberships are gone');
    assert.deepEqual(await owner.client.getTeamStats(open.id),
        {team_id: open.id, total_member_count: 1, active_member_count: 1});

    // leaving oneself takes no permission
    await member.client.addToTeam(open.id, member.user.id);
    await member.client.removeFromTeam(open.id, member.user.id);
    assert.ok((await owner.client.getTeamMember(open.id, member.user.id)).delete_at > 0);
    await clientError(owner.client.removeFromTeam(open.id, 'c'.repeat(26)), 404, 'app.user.missing_account.const');
});

test('updateTeamMemberRoles: manage_team_roles, scheme roles, memberrole_updated', T, async (t) => {
    const {owner, member, outsider, open} = await teams('tm');
    const sock = await rawSocket(t, 'member', {headers: bearer(member.token)});
    await sock.wait('hello');
    await owner.client.updateTeamMemberRoles(open.id, member.user.id, 'team_user team_admin');
    const ev = await sock.wait('memberrole_updated');
    const m = JSON.parse(ev.data.member);
    assert.equal(m.user_id, member.user.id);
    assert.equal(m.scheme_admin, true);
    assert.equal(m.roles, 'team_user team_admin');
    // the new team admin may now patch the team
    await member.client.patchTeam({id: open.id, description: 'by the new admin'});
    await owner.client.updateTeamMemberRoles(open.id, member.user.id, 'team_user team_post_all');
    const back = await owner.client.getTeamMember(open.id, member.user.id);
    assert.equal(back.scheme_admin, false);
    assert.equal(back.explicit_roles, 'team_post_all');
    assert.equal(back.roles, 'team_user team_post_all');

    await clientError(outsider.client.updateTeamMemberRoles(open.id, member.user.id, 'team_user'), 403, PERMS);
    await clientError(owner.client.updateTeamMemberRoles(open.id, member.user.id, 'Bad Role!'), 400, BODY_PARAM);
    await clientError(owner.client.updateTeamMemberRoles(open.id, member.user.id, 'system_admin'), 400, BODY_PARAM);
    await clientError(owner.client.updateTeamMemberRoles(open.id, member.user.id, 'team_user nosuchrole'), 400,
        'app.role.get_by_name.app_error');
    await clientError(owner.client.updateTeamMemberRoles(open.id, member.user.id, 'channel_admin'), 400,
        'api.channel.update_team_member_roles.scheme_role.app_error');
    await clientError(owner.client.updateTeamMemberRoles(open.id, outsider.user.id, 'team_user'), 404,
        'app.team.get_member.missing.app_error');
});

test('deleteTeam and unarchiveTeam: soft delete, restore, the events; permanent is off', T, async (t) => {
    const {owner, member, open} = await teams('td');
    const sock = await rawSocket(t, 'member', {headers: bearer(member.token)});
    await sock.wait('hello');
    await clientError(member.client.deleteTeam(open.id), 403, PERMS);
    await clientError(member.client.unarchiveTeam(open.id), 403, PERMS);

    assert.deepEqual(await owner.client.deleteTeam(open.id), {status: 'OK'});
    const del = await sock.wait('delete_team');
    const gone = JSON.parse(del.data.team);
    assert.equal(gone.id, open.id);
    assert.ok(gone.delete_at > 0);
    assert.ok((await owner.client.getTeam(open.id)).delete_at > 0);
    assert.ok(!(await member.client.getMyTeams()).some((x) => x.id === open.id));

    const restored = await owner.client.unarchiveTeam(open.id);
    assert.equal(restored.delete_at, 0);
    assert.equal(restored.invite_id, open.invite_id);
    const res = await sock.wait('restore_team');
    assert.equal(JSON.parse(res.data.team).delete_at, 0);

    await clientError(owner.client.doFetch(`${owner.client.getTeamRoute(open.id)}?permanent=true`,
        {method: 'delete'}), 401, 'api.user.delete_team.not_enabled.app_error');
    const {client: a} = await admin();
    await clientError(a.deleteTeam('d'.repeat(26)), 404, 'app.team.get.find.app_error');
    await clientError(owner.client.deleteTeam('d'.repeat(26)), 403, PERMS);
});

test('addToTeamFromInvite: joining a private team by its invite id', T, async (t) => {
    const {owner, outsider, priv} = await teams('ti');
    const sock = await rawSocket(t, 'outsider', {headers: bearer(outsider.token)});
    await sock.wait('hello');
    const member = await outsider.client.addToTeamFromInvite('', priv.invite_id);
    assert.equal(member.team_id, priv.id);
    assert.equal(member.user_id, outsider.user.id);
    assert.equal(member.roles, 'team_user');
    const ev = await sock.wait('added_to_team');
    assert.deepEqual(ev.data, {team_id: priv.id, user_id: outsider.user.id});
    assert.equal((await outsider.client.getMyChannels(priv.id)).length, 2, 'in the default channels');

    await clientError(outsider.client.addToTeamFromInvite('', 'nosuchinvite'), 404,
        'app.team.get_by_invite_id.finding.app_error');
    await clientError(outsider.client.addToTeamFromInvite('', ''), 400,
        'api.team.add_user_to_team.missing_parameter.app_error');
    await clientError(outsider.client.addToTeamFromInvite('sometoken', ''), 400,
        'api.user.create_user.signup_link_invalid.app_error');
    assert.ok(owner);
});
