// Unreads and mentions through @mattermost/client, as the apps load them at
// start: team members and team unreads, channel members in a team and in
// every team, a user's channels, channel statistics, viewing a channel,
// marking a post unread and the posts around the first unread one.  The
// counters Mattermost keeps (msg_count, mention_count and their _root
// variants against the channel's totals) move with posts, mentions, views
// and set-unread; the events go to the user's own sockets only.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {T, admin, bearer, clientError, newUser, rawSocket, sleep, world} from './lib.mjs';

const NOBODY = 'abcdefghijklmnopqrstuvwxyz';
const FORBIDDEN = 'api.context.permissions.app_error';
const BAD_BODY = 'api.context.invalid_body_param.app_error';
const BAD_URL = 'api.context.invalid_url_param.app_error';
const NO_MEMBER = 'app.channel.get_member.missing.app_error';

// Posts one message after the other (distinct create_at).
async function post(c, channelId, message, rootId = '') {
    const p = await c.createPost({channel_id: channelId, message, root_id: rootId});
    await sleep(3);
    return p;
}

// `user`'s member of `channelId` as getMyChannelMembers answers it.
async function memberIn(u, teamId, channelId) {
    const members = await u.client.getMyChannelMembers(teamId);
    const m = members.find((x) => x.channel_id === channelId);
    assert.ok(m, `a member of ${channelId} in ${JSON.stringify(members.map((x) => x.channel_id))}`);
    return m;
}

// A raw socket of `u` that has said hello.
async function socketOf(t, u, label) {
    const s = await rawSocket(t, label, {headers: bearer(u.token)});
    await s.wait('hello');
    return s;
}

// A raw GET/POST for the routes Client4 only offers for "me".
const raw = (c, path, options) => c.doFetch(`${c.getBaseRoute()}${path}`, options);

test('counters: posts, mentions and replies move them; the poster has read its channel', T, async () => {
    const w = await world('unc');
    const {alice, bob, team, open} = w;
    // alice's adding bob mentioned him (system_add_to_channel): he has seen it
    await bob.client.viewMyChannel(open.id);
    await post(alice.client, open.id, 'plain');
    const m1 = await post(alice.client, open.id, `hello @${bob.user.username}.`);
    await post(alice.client, open.id, 'all of you @channel');
    await post(alice.client, open.id, `reply for @${bob.user.username}`, m1.id);
    await post(alice.client, open.id, `not @${bob.user.username}x nor email bob@${bob.user.username}`);

    const ch = await alice.client.getChannel(open.id);
    assert.equal(ch.total_msg_count_root, ch.total_msg_count - 1, 'one reply');
    assert.ok(ch.last_root_post_at > 0 && ch.last_root_post_at <= ch.last_post_at);

    const b = await memberIn(bob, team.id, open.id);
    assert.equal(ch.total_msg_count - b.msg_count, 5, 'five unread');
    assert.equal(ch.total_msg_count_root - b.msg_count_root, 4, 'four unread roots');
    assert.equal(b.mention_count, 3, '@bob, @channel and the reply to @bob');
    assert.equal(b.mention_count_root, 2, 'the reply is no root');
    assert.equal(b.urgent_mention_count, 0);

    const a = await memberIn(alice, team.id, open.id);
    assert.equal(a.msg_count, ch.total_msg_count, 'the poster read everything');
    assert.equal(a.msg_count_root, ch.total_msg_count_root);
    assert.equal(a.mention_count, 0);
    assert.equal(a.last_viewed_at, ch.last_post_at);

    const unreads = await bob.client.getMyTeamUnreads();
    const u = unreads.find((x) => x.team_id === team.id);
    assert.deepEqual(u, {team_id: team.id, msg_count: 5, mention_count: 3, mention_count_root: 2,
        msg_count_root: 4, thread_count: 0, thread_mention_count: 0, thread_urgent_mention_count: 0});
    assert.ok(!unreads.some((x) => x.team_id === ''), 'direct channels only when a team is excluded');
    assert.deepEqual(await raw(bob.client, `/users/me/teams/unread?exclude_team=${team.id}`, {method: 'get'})
        .then((l) => l.filter((x) => x.team_id === team.id)), []);
});

test('a direct message mentions the other user; @here the online ones', T, async (t) => {
    const w = await world('und');
    const {alice, bob, team, open} = w;
    await bob.client.viewMyChannel(open.id); // the mention of his being added, seen
    const dm = await alice.client.createDirectChannel([alice.user.id, bob.user.id]);
    const s = await socketOf(t, bob, 'bob');
    const end = Date.now() + 3000;
    while ((await alice.client.getStatus(bob.user.id)).status !== 'online' && Date.now() < end) {
        await sleep(20);
    }
    const p = await post(alice.client, dm.id, 'hi there');
    const e = await s.wait('posted', (x) => JSON.parse(x.data.post).id === p.id);
    assert.deepEqual(JSON.parse(e.data.mentions), [bob.user.id]);
    const members = await bob.client.getAllChannelsMembers('me', -1);
    assert.equal(members.find((m) => m.channel_id === dm.id).mention_count, 1);

    const h = await post(alice.client, open.id, 'ping @here');
    const eh = await s.wait('posted', (x) => JSON.parse(x.data.post).id === h.id);
    assert.deepEqual(JSON.parse(eh.data.mentions), [bob.user.id]);
    assert.equal((await memberIn(bob, team.id, open.id)).mention_count, 1);
});

test('viewMyChannel: counters reset, the times answered, multiple_channels_viewed to the user only', T, async (t) => {
    const w = await world('unv');
    const {alice, bob, team, open} = w;
    const sb = await socketOf(t, bob, 'bob');
    const sa = await socketOf(t, alice, 'alice');
    await post(alice.client, open.id, `one @${bob.user.username}`);
    const last = await post(alice.client, open.id, 'two');
    const view = await bob.client.viewMyChannel(open.id);
    assert.equal(view.status, 'OK');
    assert.deepEqual(view.last_viewed_at_times, {[open.id]: last.create_at});

    const m = await memberIn(bob, team.id, open.id);
    const ch = await bob.client.getChannel(open.id);
    assert.equal(m.msg_count, ch.total_msg_count);
    assert.equal(m.msg_count_root, ch.total_msg_count_root);
    assert.equal(m.mention_count, 0);
    assert.equal(m.mention_count_root, 0);
    assert.equal(m.last_viewed_at, last.create_at);
    const u = (await bob.client.getMyTeamUnreads()).find((x) => x.team_id === team.id);
    assert.equal(u.msg_count, 0);
    assert.equal(u.mention_count, 0);

    const e = await sb.wait('multiple_channels_viewed');
    assert.deepEqual(e.data.channel_times, {[open.id]: last.create_at});
    assert.equal(e.broadcast.user_id, bob.user.id);
    await sleep(200);
    sa.none('multiple_channels_viewed');

    // the channel left is read too; nothing to view is OK with no times
    const prev = await raw(bob.client, '/channels/members/me/view', {method: 'post',
        body: JSON.stringify({channel_id: '', prev_channel_id: open.id})});
    assert.deepEqual(prev.last_viewed_at_times, {[open.id]: last.create_at});
    assert.deepEqual(await raw(bob.client, '/channels/members/me/view', {method: 'post', body: '{}'}),
        {status: 'OK', last_viewed_at_times: {}});
});

test('view: bad ids 400, an unknown channel 400, another user 403, an admin for anyone', T, async () => {
    const {alice, bob, open} = await world('unvx');
    const view = (c, who, body) => raw(c, `/channels/members/${who}/view`, {method: 'post', body: JSON.stringify(body)});
    await clientError(view(bob.client, 'me', {channel_id: 'nope'}), 400, BAD_BODY);
    await clientError(view(bob.client, 'me', {channel_id: open.id, prev_channel_id: 'x'}), 400, BAD_BODY);
    await clientError(view(bob.client, 'me', {channel_id: 7}), 400, BAD_BODY);
    await clientError(bob.client.viewMyChannel(NOBODY), 400, 'app.channel.update_last_viewed_at.app_error');
    await clientError(view(bob.client, alice.user.id, {channel_id: open.id}), 403, FORBIDDEN);
    await clientError(view(bob.client, 'bad', {channel_id: open.id}), 400, BAD_URL);
    const {client: a} = await admin();
    const r = await view(a, bob.user.id, {channel_id: open.id});
    assert.equal(r.status, 'OK');
});

test('markPostAsUnread: the counters rewind to the post; post_unread to the user', T, async (t) => {
    const w = await world('unu');
    const {alice, bob, team, open} = w;
    const sb = await socketOf(t, bob, 'bob');
    const sa = await socketOf(t, alice, 'alice');
    await post(alice.client, open.id, 'zero');
    const p1 = await post(alice.client, open.id, 'one');
    await post(alice.client, open.id, `two @${bob.user.username}`);
    await post(alice.client, open.id, 'three', p1.id);
    await bob.client.viewMyChannel(open.id);

    const r = await bob.client.markPostAsUnread(bob.user.id, p1.id);
    const ch = await bob.client.getChannel(open.id);
    assert.deepEqual(r, {team_id: team.id, user_id: bob.user.id, channel_id: open.id,
        msg_count: ch.total_msg_count - 3, mention_count: 1, mention_count_root: 1, urgent_mention_count: 0,
        msg_count_root: ch.total_msg_count_root - 2, last_viewed_at: p1.create_at - 1});
    const m = await memberIn(bob, team.id, open.id);
    assert.equal(m.msg_count, r.msg_count);
    assert.equal(m.mention_count, 1);
    assert.equal(m.last_viewed_at, p1.create_at - 1);

    const e = await sb.wait('post_unread');
    assert.equal(e.data.post_id, p1.id);
    assert.equal(e.data.msg_count, r.msg_count);
    assert.equal(e.data.mention_count, 1);
    assert.equal(e.data.last_viewed_at, p1.create_at - 1);
    assert.equal(e.broadcast.user_id, bob.user.id);
    assert.equal(e.broadcast.channel_id, open.id);
    await sleep(200);
    sa.none('post_unread');

    // bad input and permissions
    await clientError(bob.client.markPostAsUnread(bob.user.id, 'bad'), 400, BAD_URL);
    await clientError(bob.client.markPostAsUnread(bob.user.id, NOBODY), 403, FORBIDDEN);
    await clientError(bob.client.markPostAsUnread(alice.user.id, p1.id), 403, FORBIDDEN);
    await clientError(w.dave.client.markPostAsUnread(w.dave.user.id, p1.id), 403, FORBIDDEN);
    await clientError(w.carol.client.markPostAsUnread(w.carol.user.id, p1.id), 404, NO_MEMBER);
});

test('getPostsUnread: the posts around the first unread one, with their cursors', T, async () => {
    const w = await world('unp');
    const {alice, bob, carol, open} = w;
    const posts = [];
    await post(alice.client, open.id, 'before bob ever looked');
    assert.deepEqual((await bob.client.getPostsUnread(open.id, bob.user.id)).order, [], 'never viewed: nothing');
    for (let i = 0; i < 4; i++) {
        posts.push(await post(alice.client, open.id, `old ${i}`));
    }
    await bob.client.viewMyChannel(open.id);
    for (let i = 0; i < 3; i++) {
        posts.push(await post(alice.client, open.id, `new ${i}`));
    }
    const all = await bob.client.getPostsUnread(open.id, bob.user.id);
    const ids = posts.map((p) => p.id).reverse();
    assert.deepEqual(all.order.slice(0, 7), ids, 'newest first');
    assert.equal(all.order.length, 10, 'and those before them: the first post, bob\'s add, alice\'s join');
    assert.equal(all.next_post_id, '');

    // one before the anchor (posts[4]), none after it
    const few = await bob.client.getPostsUnread(open.id, bob.user.id, 1, 1);
    assert.deepEqual(few.order, [posts[4].id, posts[3].id]);
    assert.equal(few.next_post_id, posts[5].id);
    assert.equal(few.prev_post_id, posts[2].id);
    assert.ok(few.posts[posts[4].id]);

    // all read: an empty list
    await bob.client.viewMyChannel(open.id);
    const none = await bob.client.getPostsUnread(open.id, bob.user.id);
    assert.deepEqual(none.order, []);

    await clientError(bob.client.getPostsUnread(open.id, bob.user.id, 0, 30), 400, BAD_URL);
    await clientError(bob.client.getPostsUnread(open.id, alice.user.id), 403, FORBIDDEN);
    await clientError(bob.client.getPostsUnread('bad', bob.user.id), 400, BAD_URL);
    await clientError(bob.client.getPostsUnread(NOBODY, bob.user.id), 404);
    await clientError(carol.client.getPostsUnread(w.priv.id, carol.user.id), 403, FORBIDDEN);
    await clientError(carol.client.getPostsUnread(open.id, carol.user.id), 404, NO_MEMBER);
});

test('team members and channel members of a user: own and admin 200, others 403', T, async () => {
    const w = await world('unm');
    const {alice, bob, dave, team, open, priv} = w;
    const tm = await bob.client.getMyTeamMembers();
    const mine = tm.find((m) => m.team_id === team.id);
    assert.equal(mine.user_id, bob.user.id);
    assert.equal(mine.roles, 'team_user');
    assert.equal(mine.delete_at, 0);
    await clientError(bob.client.getTeamMembersForUser(alice.user.id), 403, FORBIDDEN);
    const {client: a} = await admin();
    assert.ok((await a.getTeamMembersForUser(bob.user.id)).some((m) => m.team_id === team.id));
    await clientError(bob.client.getTeamMembersForUser('bad'), 400, BAD_URL);

    const cms = await bob.client.getMyChannelMembers(team.id);
    const ids = cms.map((m) => m.channel_id);
    assert.ok(ids.includes(open.id));
    assert.ok(!ids.includes(priv.id));
    const m = cms.find((x) => x.channel_id === open.id);
    for (const k of ['msg_count_root', 'mention_count_root', 'urgent_mention_count', 'notify_props']) {
        assert.ok(k in m, k);
    }
    await clientError(dave.client.getMyChannelMembers(team.id), 403, FORBIDDEN);
    await clientError(raw(bob.client, `/users/${alice.user.id}/teams/${team.id}/channels/members`, {method: 'get'}),
        403, FORBIDDEN);
    await clientError(bob.client.getMyChannelMembers('bad'), 400, BAD_URL);
    await clientError(bob.client.getMyChannelMembers(NOBODY), 403, FORBIDDEN);
    const asAdmin = await raw(a, `/users/${bob.user.id}/teams/${team.id}/channels/members`, {method: 'get'});
    assert.ok(asAdmin.some((x) => x.channel_id === open.id));
});

test('channel_members (page=-1 all, with team data) and channels of every team', T, async () => {
    const w = await world('unl');
    const {alice, bob, team, open} = w;
    const dm = await bob.client.createDirectChannel([bob.user.id, alice.user.id]);
    const all = await bob.client.getAllChannelsMembers('me', -1);
    const inOpen = all.find((m) => m.channel_id === open.id);
    assert.equal(inOpen.team_name, team.name);
    assert.equal(inOpen.team_display_name, team.display_name);
    assert.ok(inOpen.team_update_at > 0);
    const inDm = all.find((m) => m.channel_id === dm.id);
    assert.equal(inDm.team_name, '');
    assert.equal(inDm.team_update_at, 0);
    assert.ok(all.length >= 4, 'town-square, off-topic, open and the DM');
    const ids = all.map((m) => m.channel_id);
    const one = await bob.client.getAllChannelsMembers(bob.user.id, 1, 1);
    assert.deepEqual(one.map((m) => m.channel_id), [ids[1]]);
    await clientError(bob.client.getAllChannelsMembers(alice.user.id), 403, FORBIDDEN);

    const chans = await bob.client.getAllTeamsChannels();
    const cids = chans.map((c) => c.id);
    assert.ok(cids.includes(open.id) && cids.includes(dm.id));
    assert.ok(!cids.includes(w.priv.id));
    await clientError(raw(bob.client, `/users/${alice.user.id}/channels`, {method: 'get'}), 403, FORBIDDEN);
    await clientError(raw(bob.client, '/users/me/channels?last_delete_at=-1', {method: 'get'}), 400, BAD_URL);
    const {client: a} = await admin();
    assert.ok((await raw(a, `/users/${bob.user.id}/channels`, {method: 'get'})).some((c) => c.id === open.id));
    const nobody = await newUser('unlnone');
    assert.deepEqual(await nobody.client.getAllTeamsChannels(), []);
});

test('getChannelStats: members, guests, pinned posts, files', T, async () => {
    const w = await world('uns');
    const {alice, bob, carol, dave, open, priv} = w;
    const p = await post(alice.client, open.id, 'pin me');
    await alice.client.patchPost({id: p.id, is_pinned: true});
    assert.deepEqual(await bob.client.getChannelStats(open.id),
        {channel_id: open.id, member_count: 2, guest_count: 0, pinnedpost_count: 1, files_count: -1});
    assert.equal((await bob.client.getChannelStats(open.id, true)).files_count, 0);
    assert.equal((await carol.client.getChannelStats(open.id)).member_count, 2, 'a team member reads an open one');
    await clientError(carol.client.getChannelStats(priv.id), 403, FORBIDDEN);
    await clientError(dave.client.getChannelStats(open.id), 403, FORBIDDEN);
    await clientError(bob.client.getChannelStats(NOBODY), 404);
    await clientError(bob.client.getChannelStats('bad'), 400, BAD_URL);
});

// Every worker keeps member counts: each read below may land on any of them,
// so each change is read back several times.
test('getChannelStats follows members, deactivations and pins at once', T, async () => {
    const w = await world('unc');
    const {alice, bob, carol, open} = w;
    const {client: a} = await admin();
    const counts = async (want, what) => {
        for (let i = 0; i < 6; i++) {
            const s = await alice.client.getChannelStats(open.id);
            assert.deepEqual([s.member_count, s.pinnedpost_count], want, what);
        }
    };
    const p = await post(alice.client, open.id, 'pin me');
    await counts([2, 0], 'cached');
    await alice.client.addToChannel(carol.user.id, open.id);
    await counts([3, 0], 'after a join');
    await a.updateUserActive(bob.user.id, false);
    await counts([2, 0], 'a deactivated member is not counted');
    await a.updateUserActive(bob.user.id, true);
    await counts([3, 0], 'reactivated');
    await alice.client.patchPost({id: p.id, is_pinned: true});
    await counts([3, 1], 'pinned');
    await alice.client.removeFromChannel(carol.user.id, open.id);
    await counts([2, 1], 'after a removal');
    await alice.client.deletePost(p.id);
    await counts([2, 0], 'a deleted pinned post is not counted');
});

test('team unreads: another user 403, an admin for anyone', T, async () => {
    const {alice, bob, team} = await world('unt');
    await clientError(raw(bob.client, `/users/${alice.user.id}/teams/unread`, {method: 'get'}), 403, FORBIDDEN);
    const {client: a} = await admin();
    const l = await raw(a, `/users/${bob.user.id}/teams/unread`, {method: 'get'});
    assert.ok(l.some((x) => x.team_id === team.id));
});
