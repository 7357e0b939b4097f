// A day of the web app on two nodes, through its own data layer:
// mattermost-redux 11.9.0's store and real action creators, its Client4
// singleton pointed at node B, while another user works through node A.
// Bea's store does the web app's first load (the client config, loadMe,
// the team, its channels and members, the roles, the categories); Al posts
// three messages through node A, one mentioning her; her store refreshes
// and must hold the counts Mattermost computes (the channel's totals, her
// member's msg_count and mention_count, the team unreads); she reads the
// channel and they return to read; she favorites it and the categories
// move it (the favorite_channel preference with them); she answers in the
// thread through her store and both sides count it as Mattermost does.
// The store's state is asserted, through the web app's own
// selectors where it has them.  The tests of this file are the steps of one
// day, one after the other (node --test's default within a file).
// Run by tests/integration/test_cluster.sh (CHORUS_URLS=a,b,c).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import storeModule from 'mattermost-redux/store';
import {Client4 as ReduxClient} from 'mattermost-redux/client';
import {getClientConfig, getLicenseConfig} from 'mattermost-redux/actions/general';
import {loadMe} from 'mattermost-redux/actions/users';
import {getMyTeamUnreads, selectTeam} from 'mattermost-redux/actions/teams';
import {loadRolesIfNeeded} from 'mattermost-redux/actions/roles';
import {favoriteChannel, fetchAllMyChannelMembers, fetchAllMyTeamsChannels, fetchChannelsAndMembers, getMyChannelMember,
    markChannelAsRead} from 'mattermost-redux/actions/channels';
import {fetchMyCategories} from 'mattermost-redux/actions/channel_categories';
import {getMyPreferences} from 'mattermost-redux/actions/preferences';
import {createPost} from 'mattermost-redux/actions/posts';
import {getMyChannelMember as myMemberOf, getChannelMessageCount, getUnreadStatus, isFavoriteChannel,
    makeGetChannelUnreadCount} from 'mattermost-redux/selectors/entities/channels';
import {getCurrentTeamId, getMyTeamMember} from 'mattermost-redux/selectors/entities/teams';
import {getCategoryInTeamByType, makeGetCategoriesForTeam}
    from 'mattermost-redux/selectors/entities/channel_categories';
import {haveIChannelPermission, haveISystemPermission, haveITeamPermission}
    from 'mattermost-redux/selectors/entities/roles';
import {getCurrentUserId} from 'mattermost-redux/selectors/entities/users';
import {isCollapsedThreadsEnabled} from 'mattermost-redux/selectors/entities/preferences';
import {URLS, client, sleep, teamWorld, until, userOn} from '../lib.mjs';

const configureStore = storeModule.default;
const [NODE_A, NODE_B] = URLS;
const T = {timeout: 30000};
const READ = {msg_count: 0, mention_count: 0, msg_count_root: 0, mention_count_root: 0};

// What the steps share: the users, their world and Bea's store.
const day = {};

// Bea's unread counters for `channelId` as the sidebar reads them.
function sidebarCount(state, channelId) {
    return makeGetChannelUnreadCount()(state, channelId);
}

// The counters of a team's entry in getMyTeamUnreads' answer.
function teamUnread(list, teamId) {
    const u = list.find((x) => x.team_id === teamId);
    assert.ok(u, `team ${teamId} in the unreads ${JSON.stringify(list)}`);
    const {msg_count, mention_count, msg_count_root, mention_count_root} = u;
    return {msg_count, mention_count, msg_count_root, mention_count_root};
}

// The web app's team unreads fetch: with collapsed threads as the user has them.
async function teamUnreads(store) {
    return ok(await store.dispatch(getMyTeamUnreads(isCollapsedThreadsEnabled(store.getState()))), 'getMyTeamUnreads');
}

function ok(r, what) {
    assert.ok(r && !('error' in r), `${what}: ${JSON.stringify(r?.error)}`);
    return r.data;
}

test('first load on node B: config, loadMe, the team, its channels and members, roles, categories', T, async () => {
    day.al = await userOn(NODE_A, 'dayal');
    day.bea = await userOn(NODE_B, 'daybea');
    Object.assign(day, await teamWorld(day.al, {type: 'O', prefix: 'day-', members: [day.bea],
        channels: {chan: {type: 'O', display_name: 'Daily', members: [day.bea]}}}));
    const {bea, team, chan} = day;
    // Al's adding her mentioned her (system_add_to_channel): she has seen it
    await bea.client.viewMyChannel(chan.id);

    ReduxClient.setUrl(NODE_B);
    ReduxClient.setToken(bea.client.getToken());
    ReduxClient.setIncludeCookies(false);
    const store = configureStore({});
    day.store = store;

    // the root component: the client config and license first (their
    // answers give Client4 the server version loadMe hands the store)
    ok(await store.dispatch(getClientConfig()), 'getClientConfig');
    ok(await store.dispatch(getLicenseConfig()), 'getLicenseConfig');
    assert.match(ReduxClient.getServerVersion(), /^11\.9\.0/);
    ok(await store.dispatch(loadMe()), 'loadMe');
    let s = store.getState();
    assert.equal(getCurrentUserId(s), bea.user.id);
    assert.equal(s.entities.users.profiles[bea.user.id].username, bea.user.username);
    assert.equal(s.entities.general.config.Version, '11.9.0');
    assert.equal(isCollapsedThreadsEnabled(s), false, 'CollapsedThreads is off: whole-channel counts');
    assert.ok(s.entities.teams.teams[team.id], 'getMyTeams: the team');
    const tm = getMyTeamMember(s, team.id);
    assert.equal(tm.user_id, bea.user.id);
    assert.equal(tm.roles, 'team_user');
    assert.deepEqual({msg_count: tm.msg_count, mention_count: tm.mention_count, msg_count_root: tm.msg_count_root,
        mention_count_root: tm.mention_count_root}, READ, 'getMyTeamUnreads: nothing posted yet');
    assert.equal(typeof s.entities.preferences.myPreferences, 'object');

    // the team controller: the team, its channels and members, the
    // categories (one Promise.all), then every membership of the user
    store.dispatch(selectTeam(team.id));
    const [cm, cats] = await Promise.all([store.dispatch(fetchChannelsAndMembers(team.id)),
        store.dispatch(fetchMyCategories(team.id))]);
    ok(cm, 'fetchChannelsAndMembers');
    ok(cats, 'fetchMyCategories');
    const all = ok(await store.dispatch(fetchAllMyChannelMembers()), 'fetchAllMyChannelMembers');
    const everywhere = ok(await store.dispatch(fetchAllMyTeamsChannels()), 'fetchAllMyTeamsChannels');
    assert.deepEqual(all.map((m) => m.channel_id).sort(), everywhere.map((c) => c.id).sort(),
        'a member of every channel of hers, in every team');
    s = store.getState();
    assert.equal(getCurrentTeamId(s), team.id);
    const names = [...s.entities.channels.channelsInTeam[team.id]].map((id) => s.entities.channels.channels[id].name);
    assert.deepEqual(names.sort(), ['off-topic', chan.name, 'town-square'].sort());
    for (const id of s.entities.channels.channelsInTeam[team.id]) {
        const m = myMemberOf(s, id);
        assert.equal(m.roles, 'channel_user', `her roles in ${id}`);
        assert.deepEqual({msg_count: m.msg_count, mention_count: m.mention_count, msg_count_root: m.msg_count_root,
            mention_count_root: m.mention_count_root}, READ, `her counters in ${id}`);
        // join and leave messages count in no total (Mattermost's post store)
        assert.deepEqual(getChannelMessageCount(s, id), {total: 0, root: 0}, `message counts of ${id}`);
    }
    assert.deepEqual(getUnreadStatus(s), false, 'nothing unread anywhere');

    // the roles the web app checks permissions with (loadMe, the members'
    // fetches ask for them without waiting; loadRolesIfNeeded as they do)
    await store.dispatch(loadRolesIfNeeded(['system_user', 'team_user', 'channel_user']));
    s = await until(() => {
        const st = store.getState();
        return ['system_user', 'team_user', 'channel_user'].every((r) => st.entities.roles.roles[r]) && st;
    }, 5000, 'the three roles in the store');
    for (const p of ['create_team', 'create_direct_channel', 'create_group_channel', 'list_public_teams',
        'join_public_teams', 'view_members']) {
        assert.ok(haveISystemPermission(s, {permission: p}), `system permission ${p}`);
    }
    assert.ok(!haveISystemPermission(s, {permission: 'manage_system'}), 'no manage_system');
    for (const p of ['view_team', 'list_team_channels', 'join_public_channels', 'read_public_channel',
        'create_public_channel', 'create_private_channel', 'add_user_to_team', 'invite_user']) {
        assert.ok(haveITeamPermission(s, team.id, p), `team permission ${p}`);
    }
    for (const p of ['manage_team', 'remove_user_from_team', 'manage_team_roles']) {
        assert.ok(!haveITeamPermission(s, team.id, p), `no team permission ${p}`);
    }
    for (const p of ['create_post', 'read_channel', 'add_reaction', 'remove_reaction', 'upload_file', 'edit_post',
        'delete_post', 'use_channel_mentions', 'manage_public_channel_members']) {
        assert.ok(haveIChannelPermission(s, team.id, chan.id, p), `channel permission ${p}`);
    }
    for (const p of ['delete_others_posts', 'edit_others_posts', 'manage_channel_roles']) {
        assert.ok(!haveIChannelPermission(s, team.id, chan.id, p), `no channel permission ${p}`);
    }

    // the sidebar: favorites (empty), channels (the three), direct messages
    const categories = makeGetCategoriesForTeam()(s, team.id);
    assert.deepEqual(categories.map((c) => c.type), ['favorites', 'channels', 'direct_messages']);
    assert.deepEqual(categories[0].channel_ids, []);
    assert.deepEqual([...categories[1].channel_ids].sort(), [...s.entities.channels.channelsInTeam[team.id]].sort());
    assert.deepEqual(categories[2].channel_ids, []);
    for (const c of categories) {
        assert.equal(c.team_id, team.id);
        assert.equal(c.user_id, bea.user.id);
    }
});

test('Al posts three messages through node A, one mentioning Bea: her store refreshed on node B counts them', T,
    async () => {
        assert.ok(day.store, 'the first load ran');
        const {al, bea, team, chan, store} = day;
        day.posts = [];
        for (const message of ['good morning', `@${bea.user.username} can you look at this?`, 'thanks']) {
            day.posts.push(await al.client.createPost({channel_id: chan.id, message}));
            await sleep(3);
        }

        // the poster has read its own channel
        const alMember = await al.client.getMyChannelMember(chan.id);
        assert.equal(alMember.msg_count, 3);
        assert.equal(alMember.mention_count, 0);

        // the refresh the web app makes: team unreads, the team's channels
        // and members again, the member of the channel
        const unreads = await teamUnreads(store);
        assert.deepEqual(teamUnread(unreads, team.id),
            {msg_count: 3, mention_count: 1, msg_count_root: 3, mention_count_root: 1});
        const {channels} = ok(await store.dispatch(fetchChannelsAndMembers(team.id)), 'fetchChannelsAndMembers');
        const member = ok(await store.dispatch(getMyChannelMember(chan.id)), 'getMyChannelMember');
        assert.equal(member.user_id, bea.user.id);
        const got = channels.find((c) => c.id === chan.id);
        assert.deepEqual([got.total_msg_count, got.total_msg_count_root], [3, 3], 'the channel as served');

        // the store keeps the totals apart from the channel (messageCounts)
        const s = store.getState();
        const ch = s.entities.channels.channels[chan.id];
        assert.equal(ch.total_msg_count, undefined);
        assert.equal(ch.last_post_at, day.posts[2].create_at);
        assert.equal(ch.last_root_post_at, day.posts[2].create_at);
        assert.deepEqual(getChannelMessageCount(s, chan.id), {total: 3, root: 3});
        const m = myMemberOf(s, chan.id);
        assert.deepEqual({msg_count: m.msg_count, mention_count: m.mention_count, msg_count_root: m.msg_count_root,
            mention_count_root: m.mention_count_root, urgent_mention_count: m.urgent_mention_count},
        {msg_count: 0, mention_count: 1, msg_count_root: 0, mention_count_root: 1, urgent_mention_count: 0});
        assert.ok(m.last_viewed_at < day.posts[0].create_at, 'she has not viewed it since');
        const count = sidebarCount(s, chan.id);
        assert.equal(count.showUnread, true);
        assert.equal(count.messages, 3);
        assert.equal(count.mentions, 1);
        const tm = getMyTeamMember(s, team.id);
        assert.deepEqual({msg_count: tm.msg_count, mention_count: tm.mention_count},
            {msg_count: 3, mention_count: 1});
        const status = getUnreadStatus(s);
        assert.equal(status, 1, 'the title bar: one mention');
        // the other channels of the team stay read
        for (const id of s.entities.channels.channelsInTeam[team.id]) {
            if (id !== chan.id) {
                assert.equal(sidebarCount(s, id).showUnread, false, `${s.entities.channels.channels[id].name} read`);
            }
        }
    });

test('Bea reads the channel: the counts return to read, on the server and in the store', T, async () => {
    assert.ok(day.posts?.length === 3, 'the posts were made');
    const {team, chan, store} = day;
    // the web app on switching to the channel: marks it read in the store,
    // tells the server (POST /channels/members/me/view) without waiting
    ok(store.dispatch(markChannelAsRead(chan.id)), 'markChannelAsRead');
    let s = store.getState();
    assert.equal(sidebarCount(s, chan.id).showUnread, false, 'read at once in the store');
    assert.equal(myMemberOf(s, chan.id).mention_count, 0);
    assert.deepEqual({msg_count: getMyTeamMember(s, team.id).msg_count,
        mention_count: getMyTeamMember(s, team.id).mention_count}, {msg_count: 0, mention_count: 0});

    // what the server says when she loads again (the view may still be
    // under way: it was not awaited)
    const end = Date.now() + 5000;
    let member;
    do {
        member = ok(await store.dispatch(getMyChannelMember(chan.id)), 'getMyChannelMember');
        if (member.msg_count === 3) {
            break;
        }
        await sleep(50);
    } while (Date.now() < end);
    assert.deepEqual({msg_count: member.msg_count, mention_count: member.mention_count,
        msg_count_root: member.msg_count_root, mention_count_root: member.mention_count_root,
        urgent_mention_count: member.urgent_mention_count},
    {msg_count: 3, mention_count: 0, msg_count_root: 3, mention_count_root: 0, urgent_mention_count: 0});
    assert.ok(member.last_viewed_at >= day.posts[2].create_at, 'viewed after the last post');
    const unreads = await teamUnreads(store);
    assert.deepEqual(teamUnread(unreads, team.id), READ);
    ok(await store.dispatch(fetchChannelsAndMembers(team.id)), 'fetchChannelsAndMembers');
    s = store.getState();
    const count = sidebarCount(s, chan.id);
    assert.equal(count.showUnread, false);
    assert.equal(count.mentions, 0);
    assert.deepEqual(getChannelMessageCount(s, chan.id), {total: 3, root: 3});
    assert.equal(getUnreadStatus(s), false);
    const tm = getMyTeamMember(s, team.id);
    assert.deepEqual({msg_count: tm.msg_count, mention_count: tm.mention_count, msg_count_root: tm.msg_count_root,
        mention_count_root: tm.mention_count_root}, READ);
});

test('Bea favorites the channel: Favorites holds it, Channels no longer, the preference follows', T, async () => {
    assert.ok(day.store, 'the first load ran');
    const {bea, team, chan, store} = day;
    ok(await store.dispatch(favoriteChannel(chan.id)), 'favoriteChannel');
    assert.ok(isFavoriteChannel(store.getState(), chan.id), 'a favorite in the store at once');

    // a fresh fetch from the server, as a reload of the web app would
    ok(await store.dispatch(fetchMyCategories(team.id)), 'fetchMyCategories');
    const s = store.getState();
    const favorites = getCategoryInTeamByType(s, team.id, 'favorites');
    const channels = getCategoryInTeamByType(s, team.id, 'channels');
    assert.deepEqual(favorites.channel_ids, [chan.id]);
    assert.ok(!channels.channel_ids.includes(chan.id), 'not in Channels');
    assert.deepEqual([...channels.channel_ids].sort(),
        [...s.entities.channels.channelsInTeam[team.id]].filter((id) => id !== chan.id).sort());
    assert.ok(isFavoriteChannel(s, chan.id));
    assert.deepEqual(makeGetCategoriesForTeam()(s, team.id).map((c) => c.type),
        ['favorites', 'channels', 'direct_messages']);

    // Mattermost keeps the favorite_channel preference in step with the category
    ok(await store.dispatch(getMyPreferences()), 'getMyPreferences');
    const pref = store.getState().entities.preferences.myPreferences[`favorite_channel--${chan.id}`];
    assert.ok(pref, 'a favorite_channel preference');
    assert.equal(pref.value, 'true');
    assert.equal(pref.user_id, bea.user.id);

    // and node A, asked with her session, has the same sidebar
    const onA = client(NODE_A);
    onA.setToken(bea.client.getToken());
    const {categories, order} = await onA.getChannelCategories(bea.user.id, team.id);
    assert.deepEqual(order, makeGetCategoriesForTeam()(s, team.id).map((c) => c.id));
    assert.deepEqual(categories.find((c) => c.type === 'favorites').channel_ids, [chan.id]);
    assert.ok(!categories.find((c) => c.type === 'channels').channel_ids.includes(chan.id));
});

test('Bea answers in the thread through her store (createPost on node B): her counts and Al\'s on node A', T,
    async () => {
        assert.ok(day.posts?.length === 3, 'the posts were made');
        const {al, bea, team, chan, store} = day;
        const message = `@${al.user.username} done, have a look`;
        ok(await store.dispatch(createPost({channel_id: chan.id, root_id: day.posts[1].id, message})), 'createPost');
        // the web app shows the pending post at once and swaps in the
        // server's when it answers
        const created = await until(() => Object.values(store.getState().entities.posts.posts)
            .find((p) => p.message === message && !p.id.includes(':')), 5000, 'the created post in the store');
        assert.equal(created.root_id, day.posts[1].id);
        assert.equal(created.user_id, bea.user.id);
        let s = store.getState();
        assert.deepEqual(getChannelMessageCount(s, chan.id), {total: 4, root: 3}, 'counted in the store');
        assert.equal(sidebarCount(s, chan.id).showUnread, false, 'her own reply is read');

        // the server agrees with what the store worked out
        ok(await store.dispatch(fetchChannelsAndMembers(team.id)), 'fetchChannelsAndMembers');
        s = store.getState();
        assert.deepEqual(getChannelMessageCount(s, chan.id), {total: 4, root: 3}, 'counted by the server');
        const m = myMemberOf(s, chan.id);
        assert.deepEqual({msg_count: m.msg_count, mention_count: m.mention_count, msg_count_root: m.msg_count_root},
            {msg_count: 4, mention_count: 0, msg_count_root: 3}, 'the poster has read its channel');
        assert.deepEqual(teamUnread(await teamUnreads(store), team.id), READ);

        // Al, on node A: one unread reply that mentions him, no unread root
        const alMember = await al.client.getMyChannelMember(chan.id);
        assert.deepEqual({msg_count: alMember.msg_count, mention_count: alMember.mention_count,
            msg_count_root: alMember.msg_count_root, mention_count_root: alMember.mention_count_root},
        {msg_count: 3, mention_count: 1, msg_count_root: 3, mention_count_root: 0});
        assert.deepEqual(teamUnread(await al.client.getMyTeamUnreads(false), team.id),
            {msg_count: 1, mention_count: 1, msg_count_root: 0, mention_count_root: 0});
    });
