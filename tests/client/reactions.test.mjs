// Reactions, as Mattermost's api4/reaction.go serves them: adding and
// removing one through the web app's data layer (mattermost-redux's
// addReaction and removeReaction), a post's reactions and several posts' at
// once, the reaction_added and reaction_removed events (the reaction as a
// JSON string) to the post's channel, the post's has_reactions and
// metadata.reactions in single posts and in the channel's post list; each
// permission both ways (add_reaction and read_channel_content through the
// channel membership, remove_others_reactions at system scope), archived
// channels, emoji names (system emoji; there is no custom emoji yet), bad
// input, unknown posts, and the limit of 50 different emoji on a post.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import storeModule from 'mattermost-redux/store';
import {Client4 as ReduxClient} from 'mattermost-redux/client';
import {setServerVersion} from 'mattermost-redux/actions/general';
import {getMe} from 'mattermost-redux/actions/users';
import {addReaction, removeReaction, getPosts} from 'mattermost-redux/actions/posts';
import {T, URL, admin, bearer, clientError, newUser, rawSocket, teamWorld} from './lib.mjs';

const FORBIDDEN = 'api.context.permissions.app_error';

async function socketOf(t, u, label) {
    const s = await rawSocket(t, label, {headers: bearer(u.client.getToken())});
    await s.wait('hello');
    return s;
}

// The web app's store, logged in as `u` (its data layer reads the current
// user from it).
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

function bulk(u, ids) {
    return u.client.doFetch(`${u.client.getPostsRoute()}/ids/reactions`, {method: 'post', body: JSON.stringify(ids)});
}

// alice owns a team with an open channel bob is in; carol is in the team only.
async function scene(prefix) {
    const [alice, bob, carol] = await Promise.all(['a', 'b', 'c'].map((s) => newUser(`${prefix}${s}`)));
    const {team, ch} = await teamWorld(alice, {members: [bob, carol], prefix: `${prefix}team-`,
        channels: {ch: {type: 'O', members: [bob]}}});
    const post = await alice.client.createPost({channel_id: ch.id, message: 'react to me'});
    return {alice, bob, carol, team, ch, post};
}

test('add and remove through mattermost-redux: events, the post\'s has_reactions and metadata', T, async (t) => {
    const {alice, bob, ch, post} = await scene('rxa');
    const s = await socketOf(t, alice, 'alice');
    const store = await reduxAs(bob);

    const r = await store.dispatch(addReaction(post.id, '+1'));
    assert.ok(!r.error, JSON.stringify(r.error));
    const got = r.data.reaction;
    assert.equal(got.user_id, bob.user.id);
    assert.equal(got.post_id, post.id);
    assert.equal(got.emoji_name, '+1');
    assert.equal(got.channel_id, ch.id);
    assert.equal(got.delete_at, 0);
    assert.equal(got.remote_id, '');
    assert.ok(got.create_at > 0 && got.update_at === got.create_at);
    // the reducer keeps it for the post
    assert.deepEqual(Object.keys(store.getState().entities.posts.reactions[post.id]), [`${bob.user.id}-+1`]);

    const ev = await s.wait('reaction_added');
    assert.equal(ev.broadcast.channel_id, ch.id);
    assert.equal(typeof ev.data.reaction, 'string');
    assert.deepEqual(JSON.parse(ev.data.reaction), got);

    // GET /posts/{id}/reactions, the post and the channel's list
    const list = await alice.client.getReactionsForPost(post.id);
    assert.deepEqual(list.map((x) => [x.user_id, x.emoji_name]), [[bob.user.id, '+1']]);
    let p = await alice.client.getPost(post.id);
    assert.equal(p.has_reactions, true);
    assert.deepEqual(p.metadata.reactions.map((x) => [x.user_id, x.post_id, x.emoji_name]),
        [[bob.user.id, post.id, '+1']]);
    assert.equal(p.metadata.emojis, undefined, 'system emoji are not in metadata.emojis');
    assert.ok(p.update_at >= got.create_at, 'the post changed');
    const page = await alice.client.getPosts(ch.id, 0, 60);
    assert.deepEqual(page.posts[post.id].metadata.reactions.map((x) => x.emoji_name), ['+1']);
    // ... and mattermost-redux reads it from the list
    const store2 = await reduxAs(alice);
    await store2.dispatch(getPosts(ch.id));
    assert.ok(store2.getState().entities.posts.reactions[post.id][`${bob.user.id}-+1`]);

    // a second emoji and the same one again: two reactions, oldest first
    await bob.client.addReaction(bob.user.id, post.id, 'smile');
    await bob.client.addReaction(bob.user.id, post.id, '+1');
    assert.deepEqual((await alice.client.getReactionsForPost(post.id)).map((x) => x.emoji_name).sort(),
        ['+1', 'smile']);

    // removing: the event (named by user, post and emoji), then none left
    const store3 = await reduxAs(bob);
    let rm = await store3.dispatch(removeReaction(post.id, '+1'));
    assert.ok(!rm.error, JSON.stringify(rm.error));
    const gone = await s.wait('reaction_removed');
    assert.equal(gone.broadcast.channel_id, ch.id);
    const removed = JSON.parse(gone.data.reaction);
    assert.deepEqual([removed.user_id, removed.post_id, removed.emoji_name], [bob.user.id, post.id, '+1']);
    assert.equal((await alice.client.getPost(post.id)).has_reactions, true, 'smile is left');
    rm = await store3.dispatch(removeReaction(post.id, 'smile'));
    assert.ok(!rm.error, JSON.stringify(rm.error));
    await s.wait('reaction_removed', (e) => JSON.parse(e.data.reaction).emoji_name === 'smile');
    assert.deepEqual(await alice.client.getReactionsForPost(post.id), []);
    p = await alice.client.getPost(post.id);
    assert.equal(p.has_reactions, undefined);
    assert.deepEqual(p.metadata, {});
    // removing one that is not there is still OK (as Mattermost)
    assert.deepEqual(await bob.client.removeReaction(bob.user.id, post.id, 'smile'), {status: 'OK'});
    // and one removed comes back
    await bob.client.addReaction(bob.user.id, post.id, 'smile');
    assert.deepEqual((await alice.client.getReactionsForPost(post.id)).map((x) => x.emoji_name), ['smile']);
});

test('several posts at once: POST /posts/ids/reactions', T, async () => {
    const {alice, bob, carol, ch, post} = await scene('rxb');
    const other = await alice.client.createPost({channel_id: ch.id, message: 'no reactions'});
    await bob.client.addReaction(bob.user.id, post.id, 'heart');
    await alice.client.addReaction(alice.user.id, post.id, 'heart');
    const got = await bulk(alice, [post.id, other.id]);
    assert.deepEqual(Object.keys(got).sort(), [post.id, other.id].sort());
    assert.deepEqual(got[other.id], []);
    assert.deepEqual(got[post.id].map((x) => x.user_id).sort(), [alice.user.id, bob.user.id].sort());
    assert.deepEqual(await bulk(alice, []), {});
    // carol is not in the channel: refused for the whole request
    await clientError(bulk(carol, [post.id]), 403, FORBIDDEN);
    await clientError(bulk(carol, [other.id, post.id]), 403, FORBIDDEN);
    // not an array of ids
    await clientError(alice.client.doFetch(`${alice.client.getPostsRoute()}/ids/reactions`,
        {method: 'post', body: '{"a":1}'}), 400, 'api.payload.parse.error');
    await clientError(alice.client.doFetch(`${alice.client.getPostsRoute()}/ids/reactions`,
        {method: 'post', body: '[1]'}), 400, 'api.payload.parse.error');
});

test('permissions: channel members react, others are refused; removing others\' takes remove_others_reactions', T,
    async (t) => {
        const {alice, bob, carol, post} = await scene('rxc');
        const s = await socketOf(t, alice, 'alice');
        // carol is in the team, not in the channel
        await clientError(carol.client.addReaction(carol.user.id, post.id, 'smile'), 403, FORBIDDEN);
        await clientError(carol.client.getReactionsForPost(post.id), 403, FORBIDDEN);
        await clientError(carol.client.removeReaction(carol.user.id, post.id, 'smile'), 403, FORBIDDEN);
        // for someone else
        await clientError(bob.client.addReaction(alice.user.id, post.id, 'smile'), 403,
            'api.reaction.save_reaction.user_id.app_error');
        await alice.client.addReaction(alice.user.id, post.id, 'smile');
        await s.wait('reaction_added');
        // bob may not remove alice's
        await clientError(bob.client.removeReaction(alice.user.id, post.id, 'smile'), 403, FORBIDDEN);
        assert.equal((await alice.client.getReactionsForPost(post.id)).length, 1);
        s.none('reaction_removed');
        // the admin may (system_admin has remove_others_reactions), and is no channel member
        const {client: a} = await admin();
        assert.deepEqual(await a.removeReaction(alice.user.id, post.id, 'smile'), {status: 'OK'});
        const ev = await s.wait('reaction_removed');
        assert.equal(JSON.parse(ev.data.reaction).user_id, alice.user.id);
        assert.deepEqual(await alice.client.getReactionsForPost(post.id), []);
        // "me" stands for the caller
        await bob.client.addReaction(bob.user.id, post.id, 'tada');
        assert.deepEqual(await bob.client.removeReaction('me', post.id, 'tada'), {status: 'OK'});
    });

test('bad input, unknown posts and emoji, archived channels', T, async () => {
    const {alice, bob, ch, post} = await scene('rxd');
    const {client: a} = await admin();
    const INVALID = 'api.reaction.save_reaction.invalid.app_error';
    await clientError(bob.client.addReaction(bob.user.id, post.id, ''), 400, INVALID);
    await clientError(bob.client.addReaction(bob.user.id, 'nope', 'smile'), 400, INVALID);
    await clientError(bob.client.addReaction('nope', post.id, 'smile'), 400, INVALID);
    await clientError(bob.client.addReaction(bob.user.id, post.id, 'x'.repeat(65)), 400, INVALID);
    await clientError(bob.client.doFetch(`${bob.client.getBaseRoute()}/reactions`,
        {method: 'post', body: '{"user_id": 5}'}), 400, 'api.context.invalid_body_param.app_error');
    // not a system emoji, and there is no custom emoji of that name
    await clientError(bob.client.addReaction(bob.user.id, post.id, 'no_such_emoji_here'), 404,
        'app.emoji.get_by_name.no_result');
    // a system emoji name Reaction.IsValid refuses
    await clientError(bob.client.addReaction(bob.user.id, post.id, 'thank you'), 400,
        'model.reaction.is_valid.emoji_name.app_error');
    // an unknown post: a permission error, but a 404 for whom the system roles allow it
    const unknown = 'a'.repeat(26);
    await clientError(bob.client.addReaction(bob.user.id, unknown, 'smile'), 403, FORBIDDEN);
    const me = await a.getMe();
    await clientError(a.addReaction(me.id, unknown, 'smile'), 404, 'app.post.get.app_error');
    await clientError(bob.client.getReactionsForPost(unknown), 403, FORBIDDEN);
    assert.deepEqual(await a.getReactionsForPost(unknown), []);
    await clientError(bob.client.getReactionsForPost('nope'), 400, 'api.context.invalid_url_param.app_error');
    // the URL's parameters
    await clientError(bob.client.removeReaction(bob.user.id, post.id, 'bad:name'), 400,
        'api.context.invalid_url_param.app_error');
    await clientError(bob.client.removeReaction('nope', post.id, 'smile'), 400,
        'api.context.invalid_url_param.app_error');
    await clientError(bob.client.removeReaction(bob.user.id, 'nope', 'smile'), 400,
        'api.context.invalid_url_param.app_error');
    // a deleted post
    const doomed = await alice.client.createPost({channel_id: ch.id, message: 'doomed'});
    await alice.client.deletePost(doomed.id);
    await clientError(bob.client.addReaction(bob.user.id, doomed.id, 'smile'), 404, 'app.post.get.app_error');
    // an archived channel: readable, no reacting
    await bob.client.addReaction(bob.user.id, post.id, 'smile');
    await alice.client.deleteChannel(ch.id);
    await clientError(bob.client.addReaction(bob.user.id, post.id, 'heart'), 403,
        'api.reaction.save.archived_channel.app_error');
    await clientError(bob.client.removeReaction(bob.user.id, post.id, 'smile'), 403,
        'api.reaction.delete.archived_channel.app_error');
    assert.equal((await bob.client.getReactionsForPost(post.id)).length, 1);
});

test('at most 50 different emoji on a post; an emoji already there is no new one', T, async () => {
    const {alice, bob, post} = await scene('rxe');
    const names = ['grinning', 'smiley', 'smile', 'grin', 'laughing', 'sweat_smile', 'joy', 'wink', 'blush',
        'innocent', 'heart_eyes', 'kissing_heart', 'kissing', 'relaxed', 'yum', 'stuck_out_tongue', 'hugs',
        'thinking', 'neutral_face', 'expressionless', 'no_mouth', 'smirk', 'unamused', 'grimacing', 'relieved',
        'pensive', 'sleepy', 'sleeping', 'mask', 'sunglasses', 'confused', 'worried', 'open_mouth', 'hushed',
        'astonished', 'flushed', 'frowning', 'anguished', 'fearful', 'cold_sweat', 'cry', 'sob', 'scream',
        'confounded', 'persevere', 'disappointed', 'sweat', 'weary', 'tired_face', 'triumph'];
    assert.equal(new Set(names).size, 50);
    for (let i = 0; i < names.length; i += 10) {
        await Promise.all(names.slice(i, i + 10).map((n) => alice.client.addReaction(alice.user.id, post.id, n)));
    }
    await clientError(alice.client.addReaction(alice.user.id, post.id, 'rage'), 400,
        'app.reaction.save.save.too_many_reactions');
    // bob may still add one of those 50
    await bob.client.addReaction(bob.user.id, post.id, 'smile');
    assert.equal((await alice.client.getReactionsForPost(post.id)).length, 51);
    // the list answers all 51 in the post's metadata
    assert.equal((await alice.client.getPost(post.id)).metadata.reactions.length, 51);
});
