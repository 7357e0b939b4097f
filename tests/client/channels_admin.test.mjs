// Channels beyond creating and joining them, through the web app's data layer
// (mattermost-redux 11.9.0's action creators) where it has one, and
// @mattermost/client otherwise: a team's channel lists, by name, search,
// autocomplete and ids; patch, update, archive, restore and privacy; one
// member at a time (read, remove, leave, roles, notify props); group
// channels.  Each permission both ways, bad input, and the events on raw
// sockets, with the member sets every worker keeps refreshed (a removed
// user stops getting the channel's posts, a group's users start).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import storeModule from 'mattermost-redux/store';
import {Client4 as ReduxClient} from 'mattermost-redux/client';
import {setServerVersion} from 'mattermost-redux/actions/general';
import {
    createGroupChannel, deleteChannel, getArchivedChannels, getChannelByNameAndTeamName, getChannelMember,
    getChannelMembersByIds, getChannels, patchChannel, removeChannelMember, searchChannels, unarchiveChannel,
    updateChannelNotifyProps, updateChannelPrivacy,
} from 'mattermost-redux/actions/channels';
import {T, URL, admin, bearer, clientError, newUser, rawSocket, sleep, unique, world} from './lib.mjs';

const configureStore = storeModule.default;
const FORBIDDEN = 'api.context.permissions.app_error';
const BAD_BODY = 'api.context.invalid_body_param.app_error';
const NO_MEMBER = 'app.channel.get_member.missing.app_error';
const BY_NAME_MISSING = 'app.channel.get_by_name.missing.app_error';

// A redux store acting as `u` (the redux Client4 is one object: a test
// dispatches as one user at a time).
async function storeAs(u) {
    ReduxClient.setUrl(URL);
    ReduxClient.setToken(u.client.getToken());
    ReduxClient.setIncludeCookies(false);
    const store = configureStore({});
    await store.dispatch(setServerVersion(ReduxClient.getServerVersion() || '11.9.0'));
    return store;
}

// Dispatches `action` as `u`; returns {data, error}.
async function as(u, action) {
    const store = await storeAs(u);
    const r = await store.dispatch(action);
    return {...r, store};
}

function ok(r) {
    assert.ok(!r.error, `the action failed: ${JSON.stringify(r.error)}`);
    return r;
}

function failed(r, status, id) {
    assert.ok(r.error, 'the action succeeded; expected an error');
    assert.equal(r.error.status_code, status, `status (${r.error.server_error_id}: ${r.error.message})`);
    if (id !== undefined) {
        assert.equal(r.error.server_error_id, id);
    }
}

async function socketOf(t, u, label) {
    const s = await rawSocket(t, label, {headers: bearer(u.client.getToken())});
    await s.wait('hello');
    return s;
}

const raw = (c, path, options) => c.doFetch(`${c.getBaseRoute()}${path}`, options);

async function townSquare(u, teamId) {
    return u.client.getChannelByName(teamId, 'town-square');
}

test('a team\'s channels: public pages, archived, by name both ways, search, autocomplete, ids', T, async () => {
    const {alice, bob, carol, dave, team, open, priv} = await world('chl');

    let r = ok(await as(carol, getChannels(team.id, 0, 100)));
    const listed = r.data.map((c) => c.name);
    assert.ok(listed.includes(open.name) && listed.includes('town-square') && listed.includes('off-topic'));
    assert.ok(!listed.includes(priv.name), 'a private channel is not listed');
    assert.ok(r.store.getState().entities.channels.channels[open.id], 'the store holds the channel');
    const [p0, p1] = await Promise.all([carol.client.getChannels(team.id, 0, 1), carol.client.getChannels(team.id, 1, 1)]);
    assert.equal(p0.length, 1);
    assert.equal(p1.length, 1);
    assert.notEqual(p0[0].id, p1[0].id);
    failed(await as(dave, getChannels(team.id)), 403, FORBIDDEN);

    // by name: an open channel to the team, a private one to its members only
    assert.equal((await carol.client.getChannelByName(team.id, open.name)).id, open.id);
    await clientError(carol.client.getChannelByName(team.id, priv.name), 404, BY_NAME_MISSING);
    assert.equal((await alice.client.getChannelByName(team.id, priv.name)).id, priv.id);
    await clientError(dave.client.getChannelByName(team.id, open.name), 403, FORBIDDEN);
    await clientError(carol.client.getChannelByName(team.id, 'no-such-channel'), 404, BY_NAME_MISSING);
    await clientError(carol.client.getChannelByName(team.id, 'bad!name'), 400, 'api.context.invalid_url_param.app_error');
    r = ok(await as(bob, getChannelByNameAndTeamName(team.name, open.name)));
    assert.equal(r.store.getState().entities.channels.channels[open.id].name, open.name);
    failed(await as(bob, getChannelByNameAndTeamName(unique('noteam'), open.name)), 404,
        'app.team.get_by_name.missing.app_error');

    // search: the team's open channels to whoever may list them; not a member of the team: 404
    r = ok(await as(carol, searchChannels(team.id, 'Ope')));
    assert.deepEqual(r.data.map((c) => c.id), [open.id]);
    assert.deepEqual(await carol.client.searchChannels(team.id, 'zzz-nothing'), []);
    await clientError(dave.client.searchChannels(team.id, 'Ope'), 404, 'app.team.get_member.missing.app_error');

    // autocomplete: the private channels the caller is in, too
    const prefix = priv.name.slice(0, 6);
    assert.ok((await alice.client.autocompleteChannels(team.id, prefix)).some((c) => c.id === priv.id));
    assert.ok(!(await carol.client.autocompleteChannels(team.id, prefix)).some((c) => c.id === priv.id));
    await clientError(dave.client.autocompleteChannels(team.id, 'o'), 403, FORBIDDEN);

    // ids: the open ones among them (view_team)
    const byIds = await raw(carol.client, `/teams/${team.id}/channels/ids`,
        {method: 'post', body: JSON.stringify([open.id, priv.id])});
    assert.deepEqual(byIds.map((c) => c.id), [open.id]);
    await clientError(raw(dave.client, `/teams/${team.id}/channels/ids`, {method: 'post', body: JSON.stringify([open.id])}),
        403, FORBIDDEN);
    await clientError(raw(carol.client, `/teams/${team.id}/channels/ids`, {method: 'post', body: '[]'}), 400, BAD_BODY);
    await clientError(raw(carol.client, `/teams/${team.id}/channels/ids`, {method: 'post', body: '["nope"]'}),
        400, BAD_BODY);
    await clientError(raw(carol.client, `/teams/${team.id}/channels/ids`, {method: 'post', body: JSON.stringify([priv.id])}),
        404, 'app.channel.get_channels_by_ids.not_found.app_error');
});

test('patch and update: a member may, others may not; channel_updated to the members', T, async (t) => {
    const {alice, bob, carol, team, open} = await world('chp');
    const [bs, cs] = await Promise.all([socketOf(t, bob, 'bob'), socketOf(t, carol, 'carol')]);

    failed(await as(carol, patchChannel(open.id, {display_name: 'Nope'})), 403, FORBIDDEN);
    let r = ok(await as(bob, patchChannel(open.id, {display_name: 'Renamed', header: 'a header'})));
    assert.equal(r.data.display_name, 'Renamed');
    assert.equal(r.data.header, 'a header');
    assert.equal(r.data.name, open.name, 'what the patch leaves alone stays');
    assert.equal(r.store.getState().entities.channels.channels[open.id].display_name, 'Renamed');
    const ev = await bs.wait('channel_updated', (e) => e.broadcast.channel_id === open.id);
    assert.equal(JSON.parse(ev.data.channel).display_name, 'Renamed');
    await sleep(200);
    cs.none('channel_updated');

    await clientError(bob.client.patchChannel(open.id, {}), 400, 'api.channel.patch_update_channel.no_changes.app_error');
    await clientError(bob.client.patchChannel(open.id, {name: 'Bad Name'}), 400, 'model.channel.is_valid.2_or_more.app_error');
    await clientError(bob.client.patchChannel(open.id, {header: 7}), 400, BAD_BODY);
    await clientError(bob.client.patchChannel(open.id, {purpose: 'x'.repeat(251)}), 400,
        'model.channel.is_valid.purpose.app_error');
    const other = await alice.client.createChannel({team_id: team.id, name: unique('other-'), display_name: 'Other', type: 'O'});
    await clientError(alice.client.patchChannel(other.id, {name: open.name}), 400, 'app.channel.update.bad_id');
    await clientError(bob.client.patchChannel('abcdefghijklmnopqrstuvwxyz', {header: 'h'}), 404,
        'app.channel.get.existing.app_error');
    const ts = await townSquare(alice, team.id);
    await clientError(alice.client.patchChannel(ts.id, {name: 'not-town-square'}), 400,
        'api.channel.update_channel.tried.app_error');

    // PUT /channels/{id}: header and purpose always, names when given
    const updated = await bob.client.updateChannel({...open, display_name: '', name: '', header: '', purpose: 'why'});
    assert.equal(updated.display_name, 'Renamed');
    assert.equal(updated.header, '');
    assert.equal(updated.purpose, 'why');
    await clientError(bob.client.updateChannel({...open, id: other.id}), 403, FORBIDDEN);
    await clientError(raw(bob.client, `/channels/${open.id}`, {method: 'put', body: JSON.stringify({...open, id: other.id})}),
        400, BAD_BODY);
    await clientError(bob.client.updateChannel({...open, type: 'P'}), 400, 'api.channel.update_channel.typechange.app_error');

    // a direct channel: its header is its members', its name nobody's
    const dm = await bob.client.createDirectChannel([bob.user.id, carol.user.id]);
    assert.equal((await carol.client.patchChannel(dm.id, {header: 'ours'})).header, 'ours');
    await clientError(carol.client.patchChannel(dm.id, {display_name: 'x'}), 400,
        'api.channel.patch_update_channel.update_direct_or_group_messages_not_allowed.app_error');
    await clientError(alice.client.patchChannel(dm.id, {header: 'theirs'}), 403,
        'api.channel.patch_update_channel.forbidden.app_error');
});

test('archive and restore: who may, channel_deleted and channel_restored to the team, the archived list', T, async (t) => {
    const {alice, bob, carol, team, open} = await world('cha');
    const cs = await socketOf(t, carol, 'carol');

    failed(await as(carol, deleteChannel(open.id)), 403, FORBIDDEN);
    ok(await as(bob, deleteChannel(open.id)));
    const ev = await cs.wait('channel_deleted', (e) => e.data.channel_id === open.id);
    assert.equal(ev.broadcast.team_id, team.id);
    assert.ok(ev.data.delete_at > 0);
    await clientError(bob.client.deleteChannel(open.id), 400, 'api.channel.delete_channel.deleted.app_error');

    let r = ok(await as(carol, getArchivedChannels(team.id)));
    assert.deepEqual(r.data.map((c) => c.id), [open.id]);
    assert.ok(r.data[0].delete_at > 0);
    await clientError(carol.client.getChannelByName(team.id, open.name), 404, BY_NAME_MISSING);
    assert.equal((await carol.client.getChannelByName(team.id, open.name, true)).id, open.id);

    const ts = await townSquare(alice, team.id);
    await clientError(alice.client.deleteChannel(ts.id), 400, 'api.channel.delete_channel.cannot.app_error');
    const dm = await bob.client.createDirectChannel([bob.user.id, carol.user.id]);
    await clientError(bob.client.deleteChannel(dm.id), 400, 'api.channel.delete_channel.type.invalid');
    await clientError(raw(bob.client, `/channels/${ts.id}?permanent=true`, {method: 'delete'}), 401,
        'api.user.delete_channel.not_enabled.app_error');

    // restoring takes manage_team: the team admin (its creator), not a member
    failed(await as(bob, unarchiveChannel(open.id)), 403, FORBIDDEN);
    ok(await as(alice, unarchiveChannel(open.id)));
    const back = await cs.wait('channel_restored', (e) => e.data.channel_id === open.id);
    assert.equal(back.broadcast.team_id, team.id);
    assert.equal((await carol.client.getChannel(open.id)).delete_at, 0);
    await clientError(alice.client.unarchiveChannel(open.id), 400, 'api.channel.restore_channel.restored.app_error');
    await clientError(carol.client.getArchivedChannels(team.id), 404, 'app.channel.get_deleted.missing.app_error');
});

test('privacy: converting takes the team admin; channel_converted to the team', T, async (t) => {
    const {alice, bob, carol, team, open} = await world('chv');
    const cs = await socketOf(t, carol, 'carol');

    failed(await as(bob, updateChannelPrivacy(open.id, 'P')), 403, FORBIDDEN);
    const r = ok(await as(alice, updateChannelPrivacy(open.id, 'P')));
    assert.equal(r.data.type, 'P');
    const ev = await cs.wait('channel_converted', (e) => e.data.channel_id === open.id);
    assert.equal(ev.broadcast.team_id, team.id);
    // carol is no member: the channel is hidden from her now
    await clientError(carol.client.getChannel(open.id), 403, FORBIDDEN);
    assert.equal((await alice.client.updateChannelPrivacy(open.id, 'O')).type, 'O');
    assert.equal((await carol.client.getChannel(open.id)).type, 'O');

    const ts = await townSquare(alice, team.id);
    await clientError(alice.client.updateChannelPrivacy(ts.id, 'P'), 400,
        'api.channel.update_channel_privacy.default_channel_error');
    await clientError(alice.client.updateChannelPrivacy(open.id, 'X'), 400, BAD_BODY);
});

test('members: one, by ids, removing someone, leaving; user_removed and the member sets', T, async (t) => {
    const {alice, bob, carol, dave, team, open, priv} = await world('chm');
    const [as_, bs] = await Promise.all([socketOf(t, alice, 'alice'), socketOf(t, bob, 'bob')]);

    let r = ok(await as(carol, getChannelMember(open.id, bob.user.id)));
    assert.equal(r.data.user_id, bob.user.id);
    await clientError(carol.client.getChannelMember(open.id, dave.user.id), 404, NO_MEMBER);
    await clientError(dave.client.getChannelMember(priv.id, alice.user.id), 403, FORBIDDEN);
    r = ok(await as(carol, getChannelMembersByIds(open.id, [bob.user.id, alice.user.id, dave.user.id])));
    assert.deepEqual(r.data.map((m) => m.user_id).sort(), [alice.user.id, bob.user.id].sort());
    await clientError(carol.client.getChannelMembersByIds(open.id, []), 400, BAD_BODY);

    // bob gets the channel's posts (every worker now holds its member set)
    await alice.client.createPost({channel_id: open.id, message: 'before bob leaves'});
    await bs.wait('posted', (e) => e.broadcast.channel_id === open.id);
    const seen = bs.all('posted').length;

    // removing someone else takes manage_public_channel_members: a member holds it, carol is none
    failed(await as(carol, removeChannelMember(open.id, bob.user.id)), 403, FORBIDDEN);
    ok(await as(alice, removeChannelMember(open.id, bob.user.id)));
    const toBob = await bs.wait('user_removed', (e) => e.data.channel_id === open.id);
    assert.equal(toBob.broadcast.user_id, bob.user.id);
    assert.equal(toBob.data.remover_id, alice.user.id);
    const toChannel = await as_.wait('user_removed', (e) => e.data.user_id === bob.user.id);
    assert.equal(toChannel.broadcast.channel_id, open.id);
    await alice.client.createPost({channel_id: open.id, message: 'after bob left'});
    await as_.wait('posted', (e) => e.broadcast.channel_id === open.id);
    await sleep(300);
    assert.equal(bs.all('posted').length, seen, 'a removed member gets no more of the channel\'s posts');
    bs.none('user_removed', (e) => e.broadcast.channel_id === open.id);
    await clientError(alice.client.removeFromChannel(bob.user.id, open.id), 404, NO_MEMBER);
    await clientError(alice.client.removeFromChannel('abcdefghijklmnopqrstuvwxyz', open.id), 404,
        'app.user.missing_account.const');

    // leaving takes nothing, but nobody leaves town-square
    await carol.client.addToChannel(carol.user.id, open.id);
    ok(await as(carol, removeChannelMember(open.id, carol.user.id)));
    await clientError(carol.client.getMyChannelMember(open.id), 404, NO_MEMBER);
    const ts = await townSquare(carol, team.id);
    await clientError(carol.client.removeFromChannel(carol.user.id, ts.id), 400, 'api.channel.remove.default.app_error');
    const dm = await bob.client.createDirectChannel([bob.user.id, carol.user.id]);
    await clientError(bob.client.removeFromChannel(bob.user.id, dm.id), 400,
        'api.channel.remove_channel_member.type.app_error');
});

test('member roles and notify props: who may, the checks, channel_member_updated to the member', T, async (t) => {
    const {alice, bob, carol, open} = await world('chr');
    await carol.client.addToChannel(carol.user.id, open.id);
    const bs = await socketOf(t, bob, 'bob');

    await clientError(bob.client.updateChannelMemberRoles(open.id, carol.user.id, 'channel_user channel_admin'), 403,
        FORBIDDEN);
    await alice.client.updateChannelMemberRoles(open.id, bob.user.id, 'channel_user channel_admin');
    const ev = await bs.wait('channel_member_updated');
    assert.equal(ev.broadcast.user_id, bob.user.id);
    assert.equal(JSON.parse(ev.data.channelMember).scheme_admin, true);
    const m = await alice.client.getChannelMember(open.id, bob.user.id);
    assert.equal(m.scheme_admin, true);
    assert.equal(m.roles, 'channel_user channel_admin');
    // now a channel admin, bob holds manage_channel_roles
    await bob.client.updateChannelMemberRoles(open.id, carol.user.id, 'channel_user');
    await clientError(alice.client.updateChannelMemberRoles(open.id, bob.user.id, 'team_user'), 400,
        'api.channel.update_channel_member_roles.scheme_role.app_error');
    await clientError(alice.client.updateChannelMemberRoles(open.id, bob.user.id, 'no_such_role'), 400,
        'app.role.get_by_name.app_error');
    await clientError(alice.client.updateChannelMemberRoles(open.id, bob.user.id, 'Bad-Role'), 400, BAD_BODY);
    await clientError(alice.client.updateChannelMemberRoles(open.id, (await newUser('chrx')).user.id, 'channel_user'),
        404, NO_MEMBER);

    // notify props: the member's own (edit_other_users for anyone else's)
    ok(await as(bob, updateChannelNotifyProps(bob.user.id, open.id, {desktop: 'mention', mark_unread: 'mention'})));
    const props = (await bob.client.getMyChannelMember(open.id)).notify_props;
    assert.equal(props.desktop, 'mention');
    assert.equal(props.mark_unread, 'mention');
    assert.equal(props.email, 'default', 'the others stay');
    await bs.wait('channel_member_updated', (e) => JSON.parse(e.data.channelMember).notify_props.desktop === 'mention');
    failed(await as(carol, updateChannelNotifyProps(bob.user.id, open.id, {desktop: 'all'})), 403, FORBIDDEN);
    const {client: a} = await admin();
    await a.updateChannelNotifyProps({user_id: bob.user.id, channel_id: open.id, desktop: 'none'});
    assert.equal((await bob.client.getMyChannelMember(open.id)).notify_props.desktop, 'none');
    await clientError(carol.client.updateChannelNotifyProps({user_id: carol.user.id, channel_id: open.id, desktop: 3}),
        400, BAD_BODY);
    const dave = await newUser('chrd');
    await clientError(dave.client.updateChannelNotifyProps({user_id: dave.user.id, channel_id: open.id, desktop: 'all'}),
        404, NO_MEMBER);
});

test('group channels: 3 to 8 users, Mattermost\'s name, the same channel again, group_added, their users', T, async (t) => {
    const {alice, bob, carol, dave} = await world('chg');
    const bs = await socketOf(t, bob, 'bob');
    const ids = [alice.user.id, bob.user.id, carol.user.id].sort();

    const r = ok(await as(alice, createGroupChannel([bob.user.id, carol.user.id])));
    const g = r.data;
    assert.equal(g.type, 'G');
    assert.equal(g.team_id, '');
    assert.equal(g.name, createHash('sha1').update(ids.join('')).digest('hex'));
    assert.equal(g.display_name, [alice, bob, carol].map((u) => u.user.username).sort().join(', '));
    const ev = await bs.wait('group_added', (e) => e.broadcast.channel_id === g.id);
    assert.deepEqual(JSON.parse(ev.data.teammate_ids), ids);
    assert.equal((await carol.client.createGroupChannel([alice.user.id, bob.user.id, carol.user.id])).id, g.id,
        'the same users: the same channel');

    // the new members get its posts at once
    await alice.client.createPost({channel_id: g.id, message: 'hello group'});
    await bs.wait('posted', (e) => e.broadcast.channel_id === g.id);

    await clientError(alice.client.createGroupChannel([bob.user.id]), 400, 'api.channel.create_group.bad_size.app_error');
    const many = await Promise.all([...Array(8)].map((_, i) => newUser(`chg${i}`)));
    await clientError(alice.client.createGroupChannel(many.map((u) => u.user.id)), 400,
        'api.channel.create_group.bad_size.app_error');
    await clientError(alice.client.createGroupChannel([bob.user.id, 'abcdefghijklmnopqrstuvwxyz']), 400,
        'api.channel.create_group.bad_user.app_error');
    await clientError(alice.client.createGroupChannel([bob.user.id, 'nope']), 400, BAD_BODY);
    await clientError(alice.client.createGroupChannel([]), 400, BAD_BODY);

    // POST /users/group_channels: the users of the group channels the caller is in
    const byChannel = await alice.client.getProfilesInGroupChannels([g.id]);
    assert.deepEqual(byChannel[g.id].map((u) => u.id).sort(), ids);
    assert.ok(!('password' in byChannel[g.id][0]));
    assert.deepEqual(await dave.client.getProfilesInGroupChannels([g.id]), {});
    await clientError(dave.client.getProfilesInGroupChannels([]), 400, BAD_BODY);
});
