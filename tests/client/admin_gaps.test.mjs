// What an admin (and the web app) needs beyond the everyday routes, as
// Mattermost answers it: archived channels stay readable but take no posts;
// a team's privacy, a new invite id and the team search (through
// mattermost-redux 11.9.0's action creators where it has one); the
// settings ServiceSettings.EnableAPIChannelDeletion,
// TeamSettings.EnableUserDeactivation and TeamSettings.MaxUsersPerTeam; and
// a muted sidebar category muting its channels.  Each route allowed and
// refused, bad input, unknown ids, and the events on raw sockets.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import storeModule from 'mattermost-redux/store';
import {Client4 as ReduxClient} from 'mattermost-redux/client';
import {setServerVersion} from 'mattermost-redux/actions/general';
import {regenerateTeamInviteId, searchTeams} from 'mattermost-redux/actions/teams';
import {T, URL, admin, bearer, client, clientError, newUser, rawSocket, sleep, teamWorld, unique, world} from './lib.mjs';

const configureStore = storeModule.default;
const FORBIDDEN = 'api.context.permissions.app_error';
const INVALID_PARAM = 'api.context.invalid_body_param.app_error';
const NOBODY = 'x'.repeat(26);

// Dispatches `action` in a fresh redux store acting as `u`: {data, error}.
async function as(u, action) {
    ReduxClient.setUrl(URL);
    ReduxClient.setToken(u.client.getToken());
    ReduxClient.setIncludeCookies(false);
    const store = configureStore({});
    await store.dispatch(setServerVersion(ReduxClient.getServerVersion() || '11.9.0'));
    return store.dispatch(action);
}

async function socketOf(t, u, label) {
    const s = await rawSocket(t, label, {headers: bearer(u.client.getToken())});
    await s.wait('hello');
    return s;
}

const raw = (c, path, options) => c.doFetch(`${c.getBaseRoute()}${path}`, options);
const setPrivacy = (c, teamId, privacy) => raw(c, `/teams/${teamId}/privacy`,
    {method: 'put', body: JSON.stringify({privacy})});

test('an archived channel: read by who could read it, its posts too; no new post, no edit', T, async () => {
    const {alice, bob, carol, dave, team, open, priv} = await world('arc');
    const post = await bob.client.createPost({channel_id: open.id, message: 'before the archive'});
    await alice.client.deleteChannel(open.id);

    const got = await bob.client.getChannel(open.id);
    assert.equal(got.id, open.id);
    assert.ok(got.delete_at > 0, 'the channel comes back archived');
    // carol is in the team, not in the channel: an open channel is hers to read
    assert.ok((await carol.client.getChannel(open.id)).delete_at > 0);
    await clientError(dave.client.getChannel(open.id), 403, FORBIDDEN);
    await clientError(bob.client.getChannel(NOBODY), 404, 'app.channel.get.existing.app_error');
    assert.ok((await bob.client.getChannelByName(team.id, open.name, true)).delete_at > 0);
    await clientError(bob.client.getChannelByName(team.id, open.name), 404, 'app.channel.get_by_name.missing.app_error');

    const posts = await bob.client.getPosts(open.id);
    // the system posts come with it: the archive's last, the creator's join and bob's add first
    assert.deepEqual(posts.order.map((id) => posts.posts[id].type),
        ['system_channel_deleted', '', 'system_add_to_channel', 'system_join_channel']);
    assert.equal(posts.order[1], post.id);
    assert.equal(posts.posts[post.id].message, 'before the archive');
    await clientError(dave.client.getPosts(open.id), 403, FORBIDDEN);
    assert.equal((await bob.client.getChannelStats(open.id)).channel_id, open.id);

    await clientError(bob.client.createPost({channel_id: open.id, message: 'after'}), 400,
        'api.post.create_post.can_not_post_to_deleted.error');
    await clientError(bob.client.patchPost({id: post.id, message: 'edited'}), 400,
        'api.post.patch_post.can_not_update_post_in_deleted.error');
    await clientError(bob.client.deletePost(post.id), 400, 'api.post.delete_post.can_not_delete_post_in_deleted.error');
    // who may not write there learns nothing more than before
    await clientError(dave.client.createPost({channel_id: open.id, message: 'x'}), 403, FORBIDDEN);

    // an archived private channel stays hidden from non-members
    await alice.client.deleteChannel(priv.id);
    assert.ok((await alice.client.getChannel(priv.id)).delete_at > 0);
    await clientError(carol.client.getChannel(priv.id), 403, FORBIDDEN);

    // restored, it takes posts again
    await alice.client.unarchiveChannel(open.id);
    assert.equal((await bob.client.createPost({channel_id: open.id, message: 'after'})).channel_id, open.id);
    const cfg = await bob.client.getClientConfig();
    assert.equal(cfg.ExperimentalViewArchivedChannels, 'true');
});

test('team privacy: the team admin sets O or I; invite-only gets a new invite id; update_team', T, async (t) => {
    const {alice, bob, carol, team} = await world('tpr');
    const cs = await socketOf(t, carol, 'carol');
    assert.equal(team.type, 'I');

    const open = await setPrivacy(alice.client, team.id, 'O');
    assert.equal(open.type, 'O');
    assert.equal(open.type, 'O');
    assert.equal(open.invite_id, team.invite_id, 'opening a team keeps its invite id');
    const ev = await cs.wait('update_team', (e) => JSON.parse(e.data.team).id === team.id);
    assert.equal(ev.broadcast.team_id, team.id);
    assert.equal(JSON.parse(ev.data.team).type, 'O');
    assert.equal(JSON.parse(ev.data.team).invite_id, '', 'the event carries the sanitized team');
    assert.equal((await bob.client.getTeam(team.id)).allow_open_invite, true);

    const closed = await setPrivacy(alice.client, team.id, 'I');
    assert.equal(closed.type, 'I');
    assert.equal(closed.allow_open_invite, false);
    assert.notEqual(closed.invite_id, team.invite_id, 'closing a team changes its invite id');
    assert.equal(closed.invite_id.length, 26);
    await cs.wait('update_team', (e) => JSON.parse(e.data.team).type === 'I');

    // the same privacy again: nothing to regenerate
    assert.equal((await setPrivacy(alice.client, team.id, 'I')).invite_id, closed.invite_id);

    await clientError(setPrivacy(bob.client, team.id, 'O'), 403, FORBIDDEN);
    await clientError(setPrivacy(alice.client, team.id, 'P'), 400, INVALID_PARAM);
    await clientError(raw(alice.client, `/teams/${team.id}/privacy`, {method: 'put', body: '{}'}), 400, INVALID_PARAM);
    await clientError(raw(alice.client, `/teams/${team.id}/privacy`, {method: 'put', body: 'not json'}), 400,
        INVALID_PARAM);
    await clientError(setPrivacy(alice.client, 'bad', 'O'), 400, 'api.context.invalid_url_param.app_error');
    // a missing team: 403 for whoever may not manage it, 404 for an admin
    await clientError(setPrivacy(bob.client, NOBODY, 'O'), 403, FORBIDDEN);
    const {client: a} = await admin();
    await clientError(setPrivacy(a, NOBODY, 'O'), 404, 'app.team.get.find.app_error');
});

test('regenerate_invite_id: the team admin gets a new invite id (redux), update_team; others 403', T, async (t) => {
    const {alice, bob, carol, team} = await world('tri');
    const cs = await socketOf(t, carol, 'carol');
    const r = await as(alice, regenerateTeamInviteId(team.id));
    assert.ok(!r.error, JSON.stringify(r.error));
    assert.equal(r.data.id, team.id);
    assert.notEqual(r.data.invite_id, team.invite_id);
    assert.equal(r.data.invite_id.length, 26);
    await cs.wait('update_team', (e) => JSON.parse(e.data.team).id === team.id);
    // the old invite id no longer joins; the new one does
    const outsider = await newUser('trio');
    await clientError(outsider.client.addToTeamFromInvite('', team.invite_id), 404,
        'app.team.get_by_invite_id.finding.app_error');
    assert.equal((await outsider.client.addToTeamFromInvite('', r.data.invite_id)).team_id, team.id);

    const refused = await as(bob, regenerateTeamInviteId(team.id));
    assert.equal(refused.error.status_code, 403);
    assert.equal(refused.error.server_error_id, FORBIDDEN);
    await clientError(alice.client.regenerateTeamInviteId('bad'), 400, 'api.context.invalid_url_param.app_error');
    const {client: a} = await admin();
    await clientError(a.regenerateTeamInviteId(NOBODY), 404, 'app.team.get.find.app_error');
});

test('teams search: an admin finds every team (filters, pages); a user the open ones only', T, async () => {
    const {client: a} = await admin();
    const owner = await newUser('tso');
    const stem = unique('srch');
    const open = await owner.client.createTeam({name: `${stem}-open`, display_name: `${stem} Open`, type: 'O',
        allow_open_invite: true});
    const priv = await owner.client.createTeam({name: `${stem}-priv`, display_name: `${stem} Priv`, type: 'I'});
    assert.equal(open.type, 'O');

    const adminStore = {client: a};
    let r = await as(adminStore, searchTeams(stem.toUpperCase()));
    assert.ok(!r.error, JSON.stringify(r.error));
    assert.deepEqual(r.data.map((x) => x.id), [open.id, priv.id], 'both, by display name, any case');
    // paged (redux takes page 0 for "not paged": Client4 here)
    let paged = await a.searchTeams(stem, {page: 0, per_page: 1});
    assert.equal(paged.total_count, 2);
    assert.deepEqual(paged.teams.map((x) => x.id), [open.id]);
    r = await as(adminStore, searchTeams(stem, {page: 1, per_page: 1}));
    assert.deepEqual(r.data.teams.map((x) => x.id), [priv.id]);
    assert.equal(r.data.total_count, 2);
    paged = await a.searchTeams(stem, {page: 5, per_page: 1});
    assert.deepEqual(paged, {teams: [], total_count: 2}, 'past the last page: none, and the count');
    assert.deepEqual(await a.searchTeams(unique('nomatch')), []);
    assert.deepEqual((await a.searchTeams(stem, {allow_open_invite: false})).map((x) => x.id), [priv.id]);
    assert.deepEqual((await a.searchTeams(stem, {allow_open_invite: true})).map((x) => x.id), [open.id]);
    assert.deepEqual(await a.searchTeams(stem, {group_constrained: true}), []);
    assert.equal((await a.searchTeams(stem, {group_constrained: false})).length, 2);
    // % and _ are plain characters
    assert.deepEqual(await a.searchTeams(`${stem}%`), []);
    // an admin sees the invite id; a deleted team is found too
    assert.equal((await a.searchTeams(`${stem}-priv`))[0].invite_id, priv.invite_id);
    await owner.client.deleteTeam(priv.id);
    assert.ok((await a.searchTeams(`${stem}-priv`))[0].delete_at > 0);

    const user = await newUser('tsu');
    r = await as(user, searchTeams(stem));
    assert.deepEqual(r.data.map((x) => x.id), [open.id], 'a user finds the open team only');
    assert.equal(r.data[0].invite_id, '', 'sanitized for a non-member');
    await clientError(user.client.searchTeams(stem, {page: 0, per_page: 10}), 501,
        'api.team.search_teams.pagination_not_implemented.public_team_search');
    await clientError(raw(user.client, '/teams/search', {method: 'post', body: JSON.stringify({term: 5})}), 400,
        'api.context.invalid_body_param.app_error');
    await clientError(raw(user.client, '/teams/search', {method: 'post', body: '[]'}), 400,
        'api.context.invalid_body_param.app_error');
    await clientError(user.client.searchTeams(stem, {exclude_policy_constrained: true}), 403, FORBIDDEN);
    await clientError(client().searchTeams(stem), 401, 'api.context.session_expired.app_error');
});

// ---- settings ------------------------------------------------------------------

async function configUntil(c, pred, what) {
    const end = Date.now() + 20000;
    for (;;) {
        const cfg = await c.getConfig();
        if (pred(cfg)) {
            return cfg;
        }
        if (Date.now() > end) {
            assert.fail(`timed out waiting for ${what}`);
        }
        await sleep(100);
    }
}

// Saves the config `edit` makes and waits for the reloaded node to serve it
// (and for the old workers' keep-alive connections to go).
async function withConfig(edit, what) {
    const {client: a} = await admin();
    const cfg = await a.getConfig();
    edit(cfg);
    await a.updateConfig(cfg);
    await configUntil(a, (c) => {
        const probe = structuredClone(c);
        edit(probe);
        return JSON.stringify(probe) === JSON.stringify(c);
    }, what);
    await sleep(1500);
}

test('EnableAPIChannelDeletion and EnableUserDeactivation: refused while off, allowed while on', {timeout: 90000},
    async (t) => {
        const {alice, carol, open, priv} = await world('cfg');
        await clientError(raw(alice.client, `/channels/${open.id}?permanent=true`, {method: 'delete'}), 401,
            'api.user.delete_channel.not_enabled.app_error');
        const self = await newUser('cfgself');
        await clientError(self.client.updateUserActive(self.user.id, false), 401,
            'api.user.update_active.not_enable.app_error');
        assert.equal((await self.client.getClientConfig()).EnableUserDeactivation, 'false');

        t.after(() => withConfig((c) => {
            c.ServiceSettings.EnableAPIChannelDeletion = false;
            c.TeamSettings.EnableUserDeactivation = false;
        }, 'the settings off again'));
        await withConfig((c) => {
            c.ServiceSettings.EnableAPIChannelDeletion = true;
            c.TeamSettings.EnableUserDeactivation = true;
        }, 'the settings on');

        // the permission still decides: carol may not delete alice's private channel
        await clientError(raw(carol.client, `/channels/${priv.id}?permanent=true`, {method: 'delete'}), 403,
            FORBIDDEN);
        await alice.client.createPost({channel_id: open.id, message: 'gone soon'});
        assert.deepEqual(await raw(alice.client, `/channels/${open.id}?permanent=true`, {method: 'delete'}),
            {status: 'OK'});
        await clientError(alice.client.getChannel(open.id), 404, 'app.channel.get.existing.app_error');
        await clientError(raw(alice.client, `/channels/${open.id}?permanent=true`, {method: 'delete'}), 404,
            'app.channel.get.existing.app_error');

        assert.equal((await self.client.getClientConfig()).EnableUserDeactivation, 'true');
        const {client: a} = await admin();
        const adminSocket = await socketOf(t, {client: a}, 'admin');
        assert.deepEqual(await self.client.updateUserActive(self.user.id, false), {status: 'OK'});
        await adminSocket.wait('user_activation_status_change');
        await clientError(self.client.getMe(), 401);
        assert.ok((await a.getUser(self.user.id)).delete_at > 0);
        // activating oneself (or another) still takes the admin's permission
        const other = await newUser('cfgother');
        await clientError(other.client.updateUserActive(carol.user.id, false), 403,
            'api.user.update_active.permissions.app_error');
    });

test('MaxUsersPerTeam: a full team takes no one more; deactivated users do not count', {timeout: 120000}, async () => {
    const {client: a} = await admin();
    const max = (await a.getConfig()).TeamSettings.MaxUsersPerTeam;
    assert.ok(max <= 200, `MaxUsersPerTeam ${max}: too many users to fill a team in a test`);
    const owner = await newUser('maxo');
    const {team} = await teamWorld(owner, {prefix: 'max-'});
    // the owner is the first member; fill the rest in batches
    const members = [];
    for (let i = 1; i < max; i += 10) {
        const batch = await Promise.all(Array.from({length: Math.min(10, max - i)}, () => newUser('maxm')));
        for (const m of batch) {
            await owner.client.addToTeam(team.id, m.user.id);
        }
        members.push(...batch);
    }
    assert.equal((await a.getTeamStats(team.id)).active_member_count, max);

    const late = await newUser('maxl');
    await clientError(owner.client.addToTeam(team.id, late.user.id), 400,
        'app.team.join_user_to_team.max_accounts.app_error');
    await clientError(late.client.addToTeamFromInvite('', team.invite_id), 400,
        'app.team.join_user_to_team.max_accounts.app_error');
    // a member already there is answered as before
    assert.equal((await owner.client.addToTeam(team.id, members[0].user.id)).user_id, members[0].user.id);

    // a deactivated member leaves room
    await a.updateUserActive(members[1].user.id, false);
    assert.equal((await owner.client.addToTeam(team.id, late.user.id)).user_id, late.user.id);
    // and one who left can come back only while there is room
    await owner.client.removeFromTeam(team.id, members[2].user.id);
    const later = await newUser('maxl2');
    await owner.client.addToTeam(team.id, later.user.id);
    await clientError(owner.client.addToTeam(team.id, members[2].user.id), 400,
        'app.team.join_user_to_team.max_accounts.app_error');
});

// ---- a muted sidebar category ---------------------------------------------------

test('muting a category mutes its channels; a channel moved in or out follows; channel_member_updated', T,
    async (t) => {
        const {bob, carol, team, open} = await world('mut');
        const bs = await socketOf(t, bob, 'bob');
        const c = bob.client;
        const ts = await c.getChannelByName(team.id, 'town-square');
        const markUnread = async (channelId) => (await c.getMyChannelMember(channelId)).notify_props.mark_unread;

        await c.getChannelCategories(bob.user.id, team.id); // the defaults, made on the first read
        const quiet = await c.createChannelCategory(bob.user.id, team.id, {
            user_id: bob.user.id, team_id: team.id, display_name: 'Quiet', channel_ids: [open.id],
        });
        assert.equal(await markUnread(open.id), 'all');

        const muted = await c.updateChannelCategory(bob.user.id, team.id, {...quiet, muted: true});
        assert.equal(muted.muted, true);
        assert.equal(await markUnread(open.id), 'mention');
        assert.equal(await markUnread(ts.id), 'all', 'a channel of another category is left alone');
        const ev = await bs.wait('channel_member_updated', (e) => JSON.parse(e.data.channelMember).channel_id === open.id);
        assert.equal(ev.broadcast.user_id, bob.user.id);
        assert.equal(JSON.parse(ev.data.channelMember).notify_props.mark_unread, 'mention');
        assert.ok(bs.find('sidebar_category_updated'), 'the category event comes too');

        // town-square moved into the muted category is muted; moved out, unmuted
        await c.updateChannelCategory(bob.user.id, team.id, {...muted, channel_ids: [open.id, ts.id]});
        assert.equal(await markUnread(ts.id), 'mention');
        await bs.wait('channel_member_updated', (e) => JSON.parse(e.data.channelMember).channel_id === ts.id);
        await c.updateChannelCategory(bob.user.id, team.id, {...muted, channel_ids: [open.id]});
        assert.equal(await markUnread(ts.id), 'all');
        assert.equal(await markUnread(open.id), 'mention');

        // an update that changes no muting writes no member
        const before = bs.all('channel_member_updated').length;
        await c.updateChannelCategory(bob.user.id, team.id, {...muted, display_name: 'Still quiet'});
        await sleep(300);
        assert.equal(bs.all('channel_member_updated').length, before);

        // unmuting the category unmutes its channels
        await c.updateChannelCategory(bob.user.id, team.id, {...muted, display_name: 'Loud', muted: false});
        assert.equal(await markUnread(open.id), 'all');

        // someone else's category: 403, bob's is untouched
        await clientError(carol.client.updateChannelCategory(bob.user.id, team.id, {...muted, muted: true}), 403,
            FORBIDDEN);
        assert.equal(await markUnread(open.id), 'all');
    });
