// Mattermost's system posts (app/channel.go, app/team.go): creating,
// joining, adding to, leaving and removing from a channel; a patch's display
// name, header and purpose, an update's display name, privacy, archive and
// restore; joining, being added to, leaving and being removed from a team
// (in its town-square, and off-topic for a join).  Each one as GET
// /channels/{id}/posts lists it (type, message, props, author) and as the
// `posted` event its channel's members get; the counters (join and leave
// posts are not counted in total_msg_count, the others are; an add
// mentions the added user); and the cases Mattermost writes none: direct
// and group channels, a member added again, a refused change.  The web
// app's data layer (mattermost-redux's getPosts) reads them as system
// messages.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import storeModule from 'mattermost-redux/store';
import {Client4 as ReduxClient} from 'mattermost-redux/client';
import {setServerVersion} from 'mattermost-redux/actions/general';
import {getPosts} from 'mattermost-redux/actions/posts';
import {isSystemMessage} from 'mattermost-redux/utils/post_utils';
import {T, URL, admin, bearer, clientError, newUser, rawSocket, teamWorld, unique} from './lib.mjs';

const configureStore = storeModule.default;
const FORBIDDEN = 'api.context.permissions.app_error';

async function socketOf(t, u, label) {
    const s = await rawSocket(t, label, {headers: bearer(u.client.getToken())});
    await s.wait('hello');
    return s;
}

// The channel's posts, oldest first, as `u` lists them.
async function postsOf(u, channelId) {
    const list = await u.client.getPosts(channelId, 0, 200);
    return list.order.map((id) => list.posts[id]).reverse();
}

function ofType(posts, type) {
    return posts.filter((p) => p.type === type);
}

// The one post of `type` in the channel, checked for what every system post has.
async function onePost(u, channelId, type) {
    const got = ofType(await postsOf(u, channelId), type);
    assert.equal(got.length, 1, `one ${type} post in the channel (got ${got.length})`);
    const p = got[0];
    assert.equal(p.channel_id, channelId);
    assert.equal(p.root_id, '');
    assert.deepEqual(p.file_ids, []);
    return p;
}

// The `posted` event of the post `post` on socket `s`: its data as
// CreatePost's notifications give it, the post as listed.
async function postedOn(s, post, channel) {
    const ev = await s.wait('posted', (e) => JSON.parse(e.data.post).id === post.id);
    const sent = JSON.parse(ev.data.post);
    assert.equal(sent.type, post.type);
    assert.equal(sent.message, post.message);
    assert.deepEqual(sent.props, post.props);
    assert.equal(ev.broadcast.channel_id, channel.id);
    assert.equal(ev.data.channel_type, channel.type);
    assert.equal(ev.data.channel_name, channel.name);
    assert.equal(ev.data.sender_name, 'System');
    assert.equal(ev.data.set_online, true);
    return ev;
}

test('channel membership: create, join, add (a mention), leave, remove; counted as Mattermost counts', T, async (t) => {
    const [alice, bob, carol] = await Promise.all(['spa', 'spb', 'spc'].map((p) => newUser(p)));
    const {team} = await teamWorld(alice, {members: [bob, carol], prefix: 'spteam-'});

    // CreateChannelWithUser: its creator joined it
    const ch = await alice.client.createChannel({team_id: team.id, name: unique('sp-'), display_name: 'Sys', type: 'O'});
    const created = await onePost(alice, ch.id, 'system_join_channel');
    assert.equal(created.user_id, alice.user.id);
    assert.equal(created.message, `${alice.user.username} joined the channel.`);
    assert.deepEqual(created.props, {username: alice.user.username});
    let c = await alice.client.getChannel(ch.id);
    assert.equal(c.total_msg_count, 0, 'a join post is not counted');
    assert.equal(c.last_post_at, created.create_at, 'but it is the last post');

    // bob joins by himself
    const sa = await socketOf(t, alice, 'alice');
    await bob.client.addToChannel(bob.user.id, ch.id);
    const joined = ofType(await postsOf(bob, ch.id), 'system_join_channel').find((p) => p.user_id === bob.user.id);
    assert.ok(joined, 'bob\'s join post');
    assert.equal(joined.message, `${bob.user.username} joined the channel.`);
    assert.deepEqual(joined.props, {username: bob.user.username});
    await postedOn(sa, joined, ch);

    // alice adds carol: the adder writes it, and it mentions carol
    await alice.client.addToChannel(carol.user.id, ch.id);
    const added = await onePost(alice, ch.id, 'system_add_to_channel');
    assert.equal(added.user_id, alice.user.id);
    assert.equal(added.message, `${carol.user.username} added to the channel by ${alice.user.username}.`);
    assert.deepEqual(added.props, {userId: alice.user.id, username: alice.user.username,
        addedUserId: carol.user.id, addedUsername: carol.user.username});
    const ev = await postedOn(sa, added, ch);
    assert.deepEqual(JSON.parse(ev.data.mentions), [carol.user.id]);
    assert.equal((await carol.client.getChannelMember(ch.id, carol.user.id)).mention_count, 1);
    c = await alice.client.getChannel(ch.id);
    assert.equal(c.total_msg_count, 0, 'an add post is not counted');

    // adding a member again writes nothing
    await alice.client.addToChannel(carol.user.id, ch.id);
    assert.equal(ofType(await postsOf(alice, ch.id), 'system_add_to_channel').length, 1);

    // bob leaves: "@bob left the channel."; alice removes carol
    await bob.client.removeFromChannel(bob.user.id, ch.id);
    const left = await onePost(alice, ch.id, 'system_leave_channel');
    assert.equal(left.user_id, bob.user.id);
    assert.equal(left.message, `@${bob.user.username} left the channel.`);
    assert.deepEqual(left.props, {username: bob.user.username});
    await postedOn(sa, left, ch);
    await alice.client.removeFromChannel(carol.user.id, ch.id);
    const removed = await onePost(alice, ch.id, 'system_remove_from_channel');
    assert.equal(removed.user_id, alice.user.id);
    assert.equal(removed.message, `@${carol.user.username} removed from the channel.`);
    assert.deepEqual(removed.props, {removedUserId: carol.user.id, removedUsername: carol.user.username});
    await postedOn(sa, removed, ch);
    assert.equal((await alice.client.getChannel(ch.id)).total_msg_count, 0);

    // a refused removal (town-square) and a refused add (a private channel bob is not in) write nothing
    const town = await alice.client.getChannelByName(team.id, 'town-square');
    const before = (await postsOf(alice, town.id)).length;
    await clientError(alice.client.removeFromChannel(bob.user.id, town.id), 400, 'api.channel.remove.default.app_error');
    const priv = await alice.client.createChannel({team_id: team.id, name: unique('spp-'), display_name: 'P', type: 'P'});
    await clientError(bob.client.addToChannel(carol.user.id, priv.id), 403, FORBIDDEN);
    assert.equal((await postsOf(alice, town.id)).length, before);
    assert.deepEqual((await postsOf(alice, priv.id)).map((p) => p.type), ['system_join_channel']);
});

test('channel properties: patch, update, privacy, archive and restore; counted', T, async (t) => {
    const [alice, bob] = await Promise.all(['spd', 'spe'].map((p) => newUser(p)));
    const {team, ch} = await teamWorld(alice, {members: [bob], prefix: 'spteam-',
        channels: {ch: {type: 'O', display_name: 'Before', members: [bob]}}});
    const sb = await socketOf(t, bob, 'bob');
    const count0 = (await alice.client.getChannel(ch.id)).total_msg_count;

    // one patch, three posts: display name, header (set), purpose (set)
    await alice.client.patchChannel(ch.id, {display_name: 'After', header: 'hello @all', purpose: 'why'});
    const dn = await onePost(bob, ch.id, 'system_displayname_change');
    assert.equal(dn.user_id, alice.user.id);
    assert.equal(dn.message, `${alice.user.username} updated the channel display name from: Before to: After`);
    assert.deepEqual(dn.props, {username: alice.user.username, old_displayname: 'Before', new_displayname: 'After'});
    let h = await onePost(bob, ch.id, 'system_header_change');
    assert.equal(h.message, `${alice.user.username} updated the channel header to: hello @all`);
    assert.deepEqual(h.props, {username: alice.user.username, old_header: '', new_header: 'hello @all'});
    const pu = await onePost(bob, ch.id, 'system_purpose_change');
    assert.equal(pu.message, `${alice.user.username} updated the channel purpose to: why`);
    assert.deepEqual(pu.props, {username: alice.user.username, old_purpose: '', new_purpose: 'why'});
    for (const p of [dn, h, pu]) {
        await postedOn(sb, p, {...ch, display_name: 'After'});
    }
    // the header's @all mentions nobody: allowChannelMentions refuses it in a header or purpose change
    const hev = sb.find('posted', (e) => JSON.parse(e.data.post).id === h.id);
    assert.equal(hev.data.mentions, undefined);
    assert.equal((await bob.client.getChannelMember(ch.id, bob.user.id)).mention_count, 1, 'his add only');
    let c = await alice.client.getChannel(ch.id);
    assert.equal(c.total_msg_count, count0 + 3, 'these posts are counted');
    assert.equal(c.last_post_at, pu.create_at);
    const alicem = await alice.client.getChannelMember(ch.id, alice.user.id);
    assert.equal(alicem.msg_count, count0, 'the author has not read them (CreatePost marks nothing viewed)');

    // changing the header, then removing it; a patch that changes nothing writes nothing
    await alice.client.patchChannel(ch.id, {header: 'second'});
    await alice.client.patchChannel(ch.id, {header: ''});
    await alice.client.patchChannel(ch.id, {purpose: 'why'});
    const headers = ofType(await postsOf(bob, ch.id), 'system_header_change').map((p) => p.message);
    assert.deepEqual(headers.slice(1), [
        `${alice.user.username} updated the channel header from: hello @all to: second`,
        `${alice.user.username} removed the channel header (was: second)`,
    ]);
    assert.equal(ofType(await postsOf(bob, ch.id), 'system_purpose_change').length, 1);

    // PUT /channels/{id}: the display name post only (same name: none)
    c = await alice.client.getChannel(ch.id);
    await alice.client.updateChannel({...c, display_name: 'Third', header: 'via update'});
    const names = ofType(await postsOf(bob, ch.id), 'system_displayname_change');
    assert.equal(names.length, 2);
    assert.deepEqual(names[1].props, {username: alice.user.username, old_displayname: 'After', new_displayname: 'Third'});
    assert.equal(ofType(await postsOf(bob, ch.id), 'system_header_change').length, 3, 'an update writes no header post');
    c = await alice.client.getChannel(ch.id);
    await alice.client.updateChannel({...c});
    assert.equal(ofType(await postsOf(bob, ch.id), 'system_displayname_change').length, 2);

    // privacy both ways (alice is the team's admin)
    await alice.client.updateChannelPrivacy(ch.id, 'P');
    await alice.client.updateChannelPrivacy(ch.id, 'O');
    const priv = ofType(await postsOf(bob, ch.id), 'system_change_chan_privacy');
    assert.deepEqual(priv.map((p) => p.message), ['This channel has been converted to a Private Channel.',
        'This channel has been converted to a Public Channel and can be joined by any team member.']);
    assert.deepEqual(priv[0].props, {username: alice.user.username});
    assert.equal(priv[0].user_id, alice.user.id);
    // bob may not convert: 403 and no post
    await clientError(bob.client.updateChannelPrivacy(ch.id, 'P'), 403, FORBIDDEN);
    assert.equal(ofType(await postsOf(bob, ch.id), 'system_change_chan_privacy').length, 2);

    // archive: the post comes first, then channel_deleted (an archived
    // channel's posts are not listed: the event shows it); restore
    await alice.client.deleteChannel(ch.id);
    const delEv = await sb.wait('posted', (e) => JSON.parse(e.data.post).type === 'system_channel_deleted');
    const chDeleted = await sb.wait('channel_deleted', (e) => e.data.channel_id === ch.id);
    assert.ok(delEv.seq < chDeleted.seq, 'posted before channel_deleted');
    await alice.client.unarchiveChannel(ch.id);
    const del = await onePost(alice, ch.id, 'system_channel_deleted');
    assert.equal(del.message, `${alice.user.username} archived the channel.`);
    assert.deepEqual(del.props, {username: alice.user.username});
    await postedOn(sb, del, ch);
    const res = await onePost(alice, ch.id, 'system_channel_restored');
    assert.equal(res.message, `${alice.user.username} unarchived the channel.`);
    assert.deepEqual(res.props, {username: alice.user.username});
    await postedOn(sb, res, ch);
    c = await alice.client.getChannel(ch.id);
    assert.equal(c.total_msg_count, count0 + 3 + 2 + 1 + 2 + 2, 'every property post counted');
    void team;
});

test('direct and group channels: no membership posts; a header change is posted', T, async () => {
    const [alice, bob, carol] = await Promise.all(['spf', 'spg', 'sph'].map((p) => newUser(p)));
    await teamWorld(alice, {members: [bob, carol], prefix: 'spteam-'});
    const dm = await alice.client.createDirectChannel([alice.user.id, bob.user.id]);
    const gm = await alice.client.createGroupChannel([alice.user.id, bob.user.id, carol.user.id]);
    assert.deepEqual(await postsOf(alice, dm.id), []);
    assert.deepEqual(await postsOf(alice, gm.id), []);
    await alice.client.patchChannel(dm.id, {header: 'dm header'});
    const h = await onePost(bob, dm.id, 'system_header_change');
    assert.equal(h.message, `${alice.user.username} updated the channel header to: dm header`);
    // a direct channel's every post mentions the other member
    assert.equal((await bob.client.getChannelMember(dm.id, bob.user.id)).mention_count, 1);
});

test('team membership: create, join, leave, removal, in town-square (and off-topic for a join)', T, async (t) => {
    const [alice, bob, carol] = await Promise.all(['spi', 'spj', 'spk'].map((p) => newUser(p)));
    const {team} = await teamWorld(alice, {prefix: 'spteam-'});
    const town = await alice.client.getChannelByName(team.id, 'town-square');
    const off = await alice.client.getChannelByName(team.id, 'off-topic');

    // the creator joined the team (JoinUserToTeam without a requestor)
    const made = await onePost(alice, town.id, 'system_join_team');
    assert.equal(made.user_id, alice.user.id);
    assert.equal(made.message, `${alice.user.username} joined the team.`);
    assert.deepEqual(made.props, {username: alice.user.username});
    const offJoin = await onePost(alice, off.id, 'system_join_channel');
    assert.equal(offJoin.user_id, alice.user.id);
    assert.equal((await alice.client.getChannel(town.id)).total_msg_count, 0);

    // POST /teams/{id}/members: a join, whoever adds (AddTeamMember has no requestor)
    const sa = await socketOf(t, alice, 'alice');
    await alice.client.addToTeam(team.id, bob.user.id);
    await alice.client.addToTeam(team.id, carol.user.id);
    const joins = ofType(await postsOf(alice, town.id), 'system_join_team');
    assert.deepEqual(joins.map((p) => p.message), [alice, bob, carol].map((u) => `${u.user.username} joined the team.`));
    assert.deepEqual(joins[1].props, {username: bob.user.username});
    await postedOn(sa, joins[1], town);
    assert.deepEqual(ofType(await postsOf(alice, off.id), 'system_join_channel').map((p) => p.user_id),
        [alice.user.id, bob.user.id, carol.user.id]);
    // added again: nothing
    await alice.client.addToTeam(team.id, bob.user.id);
    assert.equal(ofType(await postsOf(alice, town.id), 'system_join_team').length, 3);

    // bob leaves; alice removes carol (written by carol, naming carol)
    await bob.client.removeFromTeam(team.id, bob.user.id);
    const left = await onePost(alice, town.id, 'system_leave_team');
    assert.equal(left.user_id, bob.user.id);
    assert.equal(left.message, `${bob.user.username} left the team.`);
    assert.deepEqual(left.props, {username: bob.user.username});
    await postedOn(sa, left, town);
    await alice.client.removeFromTeam(team.id, carol.user.id);
    const removed = await onePost(alice, town.id, 'system_remove_from_team');
    assert.equal(removed.user_id, carol.user.id);
    assert.equal(removed.message, `${carol.user.username} removed from the team.`);
    assert.deepEqual(removed.props, {username: carol.user.username});
    // no channel leave posts: LeaveTeam removes the memberships silently
    assert.equal(ofType(await postsOf(alice, off.id), 'system_leave_channel').length, 0);
    assert.equal((await alice.client.getChannel(town.id)).total_msg_count, 0);

    // a refused removal writes nothing
    await alice.client.addToTeam(team.id, bob.user.id);
    const n = (await postsOf(alice, town.id)).length;
    await clientError(bob.client.removeFromTeam(team.id, alice.user.id), 403, FORBIDDEN);
    assert.equal((await postsOf(alice, town.id)).length, n);
    // the client config says they are on
    const {client: a} = await admin();
    assert.equal((await a.getClientConfig()).ExperimentalEnableDefaultChannelLeaveJoinMessages, 'true');
});

test('the web app\'s data layer: getPosts keeps them as system messages', T, async () => {
    const [alice, bob] = await Promise.all(['spl', 'spm'].map((p) => newUser(p)));
    const {ch} = await teamWorld(alice, {members: [bob], prefix: 'spteam-',
        channels: {ch: {type: 'O', members: [bob]}}});
    await alice.client.patchChannel(ch.id, {header: 'redux'});
    ReduxClient.setUrl(URL);
    ReduxClient.setToken(bob.client.getToken());
    ReduxClient.setIncludeCookies(false);
    const store = storeModule.default({});
    await store.dispatch(setServerVersion(ReduxClient.getServerVersion() || '11.9.0'));
    const r = await store.dispatch(getPosts(ch.id));
    assert.ok(!r.error, JSON.stringify(r.error));
    const posts = Object.values(store.getState().entities.posts.posts).filter((p) => p.channel_id === ch.id);
    assert.deepEqual(posts.map((p) => p.type).sort(),
        ['system_add_to_channel', 'system_header_change', 'system_join_channel']);
    assert.ok(posts.every((p) => isSystemMessage(p)));
});
