// Pinned and saved posts, as Mattermost serves them: POST /posts/{id}/pin
// and /unpin (whoever may read the channel; is_pinned, the post_edited
// event, the channel's pinnedpost_count), GET /channels/{id}/pinned (a
// PostList, oldest first), and GET /users/{id}/posts/flagged (the posts the
// flagged_post preferences name: channel_id, team_id, paging; another
// user's takes edit_other_users), through mattermost-redux's pinPost,
// unpinPost, getPinnedPosts, flagPost and getFlaggedPosts; refusals, bad
// input and unknown ids.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import storeModule from 'mattermost-redux/store';
import {Client4 as ReduxClient} from 'mattermost-redux/client';
import {setServerVersion} from 'mattermost-redux/actions/general';
import {getMe} from 'mattermost-redux/actions/users';
import {flagPost, pinPost, unpinPost} from 'mattermost-redux/actions/posts';
import {getFlaggedPosts, getPinnedPosts} from 'mattermost-redux/actions/search';
import {T, URL, admin, bearer, clientError, newUser, rawSocket, sleep, teamWorld} from './lib.mjs';

const FORBIDDEN = 'api.context.permissions.app_error';

// getPinnedPosts and getFlaggedPosts load the posts' missing channels with
// the web app's DelayedDataLoader, which schedules through window.
globalThis.window ??= globalThis;

async function socketOf(t, u, label) {
    const s = await rawSocket(t, label, {headers: bearer(u.client.getToken())});
    await s.wait('hello');
    return s;
}

async function reduxAs(u) {
    ReduxClient.setUrl(URL);
    ReduxClient.setToken(u.client.getToken());
    ReduxClient.setIncludeCookies(false);
    const store = storeModule.default({});
    await store.dispatch(setServerVersion(ReduxClient.getServerVersion() || '11.9.0'));
    const me = await store.dispatch(getMe());
    assert.ok(!me.error, JSON.stringify(me.error));
    return store;
}

// alice owns a team with an open channel bob is in and a private one;
// carol is in the team only.
async function scene(prefix) {
    const [alice, bob, carol] = await Promise.all(['a', 'b', 'c'].map((s) => newUser(`${prefix}${s}`)));
    const {team, ch, priv} = await teamWorld(alice, {members: [bob, carol], prefix: `${prefix}team-`,
        channels: {ch: {type: 'O', members: [bob]}, priv: {type: 'P'}}});
    return {alice, bob, carol, team, ch, priv};
}

test('pin and unpin through mattermost-redux: is_pinned, post_edited, the pinned list and count', T, async (t) => {
    const {alice, bob, carol, ch} = await scene('pna');
    const first = await alice.client.createPost({channel_id: ch.id, message: 'first'});
    const second = await alice.client.createPost({channel_id: ch.id, message: 'second'});
    const s = await socketOf(t, alice, 'alice');
    const store = await reduxAs(bob);

    // bob pins alice's posts (reading the channel is enough)
    let r = await store.dispatch(pinPost(second.id));
    assert.ok(!r.error, JSON.stringify(r.error));
    assert.deepEqual(r.data, {status: 'OK'});
    let ev = await s.wait('post_edited');
    assert.equal(ev.broadcast.channel_id, ch.id);
    const edited = JSON.parse(ev.data.post);
    assert.equal(edited.id, second.id);
    assert.equal(edited.is_pinned, true);
    assert.equal(edited.edit_at, 0, 'pinning is no edit of the message');
    r = await store.dispatch(pinPost(first.id));
    assert.ok(!r.error);
    await s.wait('post_edited', (e) => JSON.parse(e.data.post).id === first.id);
    const p = await alice.client.getPost(first.id);
    assert.equal(p.is_pinned, true);
    assert.ok(p.update_at > first.update_at);

    // the pinned list: a PostList, oldest first, no cursors
    const list = await alice.client.getPinnedPosts(ch.id);
    assert.deepEqual(list.order, [first.id, second.id]);
    assert.deepEqual(Object.keys(list.posts).sort(), [first.id, second.id].sort());
    assert.equal(list.next_post_id, '');
    assert.equal(list.prev_post_id, '');
    assert.equal(list.posts[first.id].is_pinned, true);
    assert.equal((await alice.client.getChannelStats(ch.id)).pinnedpost_count, 2);
    // mattermost-redux keeps them for the channel
    r = await store.dispatch(getPinnedPosts(ch.id));
    assert.ok(!r.error, JSON.stringify(r.error));
    assert.deepEqual([...store.getState().entities.search.pinned[ch.id]].sort(), [first.id, second.id].sort());
    await sleep(300); // its channel loader's batch

    // unpinning
    r = await store.dispatch(unpinPost(second.id));
    assert.ok(!r.error, JSON.stringify(r.error));
    ev = await s.wait('post_edited', (e) => JSON.parse(e.data.post).id === second.id && !JSON.parse(e.data.post).is_pinned);
    assert.deepEqual((await alice.client.getPinnedPosts(ch.id)).order, [first.id]);
    assert.equal((await alice.client.getChannelStats(ch.id)).pinnedpost_count, 1);
    // a deleted post leaves the list
    await alice.client.deletePost(first.id);
    assert.deepEqual((await alice.client.getPinnedPosts(ch.id)).order, []);
    assert.equal((await alice.client.getChannelStats(ch.id)).pinnedpost_count, 0);

    // carol may read the open channel: she may pin and list too
    await carol.client.pinPost(second.id);
    assert.deepEqual((await carol.client.getPinnedPosts(ch.id)).order, [second.id]);
});

test('pins: refusals, bad input, unknown ids, archived channels, system messages', T, async () => {
    const {alice, bob, ch, priv} = await scene('pnb');
    const secret = await alice.client.createPost({channel_id: priv.id, message: 'secret'});
    const post = await alice.client.createPost({channel_id: ch.id, message: 'pin me'});
    // bob is not in the private channel
    await clientError(bob.client.pinPost(secret.id), 403, FORBIDDEN);
    await clientError(bob.client.unpinPost(secret.id), 403, FORBIDDEN);
    await clientError(bob.client.getPinnedPosts(priv.id), 403, FORBIDDEN);
    assert.equal((await alice.client.getPost(secret.id)).is_pinned, false);
    // an outsider to the team
    const dave = await newUser('pnbd');
    await clientError(dave.client.pinPost(post.id), 403, FORBIDDEN);
    await clientError(dave.client.getPinnedPosts(ch.id), 403, FORBIDDEN);
    // unknown and malformed ids
    const unknown = 'b'.repeat(26);
    await clientError(bob.client.pinPost(unknown), 403, FORBIDDEN);
    await clientError(bob.client.pinPost('nope'), 400, 'api.context.invalid_url_param.app_error');
    await clientError(bob.client.getPinnedPosts(unknown), 404, 'app.channel.get.existing.app_error');
    await clientError(bob.client.getPinnedPosts('nope'), 400, 'api.context.invalid_url_param.app_error');
    // a system message (the channel's join post)
    const {posts, order} = await alice.client.getPosts(ch.id, 0, 60);
    const join = order.map((id) => posts[id]).find((x) => x.type === 'system_join_channel');
    assert.ok(join, 'the channel has a join post');
    await clientError(alice.client.pinPost(join.id), 400, 'api.post.update_post.system_message.app_error');
    // an archived channel
    await alice.client.pinPost(post.id);
    await alice.client.deleteChannel(ch.id);
    await clientError(bob.client.unpinPost(post.id), 400, 'api.post.patch_post.can_not_update_post_in_deleted.error');
    assert.deepEqual((await bob.client.getPinnedPosts(ch.id)).order, [post.id], 'still readable');
});

test('saved posts: flagPost then getFlaggedPosts; channel_id and team_id filters, paging, other users', T, async () => {
    const {alice, bob, team, ch, priv} = await scene('pnc');
    const {client: a} = await admin();
    const other = await teamWorld(bob, {prefix: 'pncother-', channels: {x: {type: 'O'}}});
    const p1 = await alice.client.createPost({channel_id: ch.id, message: 'one'});
    const p2 = await alice.client.createPost({channel_id: ch.id, message: 'two'});
    const p3 = await bob.client.createPost({channel_id: other.x.id, message: 'three'});
    const hidden = await alice.client.createPost({channel_id: priv.id, message: 'not for bob'});
    const gone = await alice.client.createPost({channel_id: ch.id, message: 'deleted later'});
    const dm = await bob.client.createDirectChannel([bob.user.id, alice.user.id]);
    const p4 = await bob.client.createPost({channel_id: dm.id, message: 'direct'});

    const store = await reduxAs(bob);
    for (const id of [p1.id, p2.id, p3.id, gone.id, p4.id]) {
        const r = await store.dispatch(flagPost(id));
        assert.ok(!r.error, JSON.stringify(r.error));
    }
    // savePreferences answers before its request is done: wait for the saves
    for (let i = 0; (await bob.client.getMyPreferences()).filter((x) => x.category === 'flagged_post').length < 5; i++) {
        assert.ok(i < 50, 'the five saves arrived');
        await sleep(100);
    }
    // a preference naming a post of a channel bob is not in is refused when saved
    await clientError(bob.client.savePreferences(bob.user.id,
        [{user_id: bob.user.id, category: 'flagged_post', name: hidden.id, value: 'true'}]), 403);
    await alice.client.deletePost(gone.id);

    // mattermost-redux's getFlaggedPosts: every saved post bob may read, newest first
    const r = await store.dispatch(getFlaggedPosts());
    assert.ok(!r.error, JSON.stringify(r.error));
    assert.deepEqual(store.getState().entities.search.flagged, [p4.id, p3.id, p2.id, p1.id]);
    await sleep(300); // its channel loader's batch
    assert.ok(store.getState().entities.channels.channels[other.x.id], 'the loader fetched a channel it lacked');
    let got = await bob.client.getFlaggedPosts(bob.user.id);
    assert.deepEqual(got.order, [p4.id, p3.id, p2.id, p1.id]);
    assert.equal(got.next_post_id, '');
    assert.equal(got.posts[p1.id].message, 'one');
    // filters: a team (with direct channels), a channel
    got = await bob.client.getFlaggedPosts(bob.user.id, '', team.id);
    assert.deepEqual(got.order, [p4.id, p2.id, p1.id]);
    got = await bob.client.getFlaggedPosts(bob.user.id, ch.id);
    assert.deepEqual(got.order, [p2.id, p1.id]);
    got = await bob.client.getFlaggedPosts(bob.user.id, '', other.team.id);
    assert.deepEqual(got.order, [p4.id, p3.id]);
    // paging
    got = await bob.client.getFlaggedPosts(bob.user.id, '', '', 1, 3);
    assert.deepEqual(got.order, [p1.id]);
    got = await bob.client.getFlaggedPosts(bob.user.id, '', '', 0, 2);
    assert.deepEqual(got.order, [p4.id, p3.id]);
    // leaving a channel drops its saved posts from the list
    await bob.client.removeFromChannel(bob.user.id, other.x.id);
    assert.deepEqual((await bob.client.getFlaggedPosts(bob.user.id)).order, [p4.id, p2.id, p1.id]);
    // "me"; another user's: the admin may (edit_other_users), alice may not
    assert.deepEqual((await bob.client.getFlaggedPosts('me')).order, [p4.id, p2.id, p1.id]);
    assert.deepEqual((await a.getFlaggedPosts(bob.user.id)).order, [p4.id, p2.id, p1.id]);
    await clientError(alice.client.getFlaggedPosts(bob.user.id), 403, FORBIDDEN);
    assert.deepEqual((await alice.client.getFlaggedPosts(alice.user.id)).order, []);
    await clientError(bob.client.getFlaggedPosts('nope'), 400, 'api.context.invalid_url_param.app_error');
});
