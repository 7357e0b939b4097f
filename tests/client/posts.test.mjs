// Posts and search through @mattermost/client: creating posts (replies, the
// rune limit, bad input), reading one, a channel's pages with Mattermost's
// cursors (plain pages, since, before/after), patching, deleting, and the
// database search (AND/OR/phrases/exclusions/prefixes/hashtags) that must
// never show a private channel to a non-member.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {T, admin, client, clientError, unique, sleep, world} from './lib.mjs';

const NOBODY = 'abcdefghijklmnopqrstuvwxyz';
const FORBIDDEN = 'api.context.permissions.app_error';
const BAD_BODY = 'api.context.invalid_body_param.app_error';
const BAD_URL = 'api.context.invalid_url_param.app_error';
const TOO_LONG = 'model.post.is_valid.message_length.app_error';


// Posts `n` messages one after the other (distinct create_at), oldest first.
async function postMany(c, channelId, n, text = 'msg') {
    const posts = [];
    for (let i = 0; i < n; i++) {
        posts.push(await c.createPost({channel_id: channelId, message: `${text} ${i}`}));
        await sleep(3);
    }
    return posts;
}

const ids = (posts) => posts.map((p) => p.id);
const newestFirst = (posts) => ids(posts).reverse();

test('createPost: 201 and the Post; the channel counts it', T, async () => {
    const {alice, open} = await world('pc');
    const before = await alice.client.getChannel(open.id);
    const post = await alice.client.createPost({channel_id: open.id, message: 'hello #world', props: {k: 'v'},
        pending_post_id: `${alice.user.id}:123`});
    assert.match(post.id, /^[a-z0-9]{26}$/);
    assert.equal(post.user_id, alice.user.id);
    assert.equal(post.channel_id, open.id);
    assert.equal(post.message, 'hello #world');
    assert.equal(post.hashtags, '#world');
    assert.equal(post.root_id, '');
    assert.equal(post.type, '');
    assert.deepEqual(post.props, {k: 'v'});
    assert.deepEqual(post.file_ids, []);
    assert.equal(post.pending_post_id, `${alice.user.id}:123`);
    assert.equal(post.edit_at, 0);
    assert.equal(post.delete_at, 0);
    assert.equal(post.is_pinned, false);
    assert.equal(post.reply_count, 0);
    assert.ok(post.create_at > 0 && post.update_at === post.create_at);
    const after = await alice.client.getChannel(open.id);
    assert.equal(after.total_msg_count, before.total_msg_count + 1);
    assert.equal(after.last_post_at, post.create_at);
});

test('createPost: the same pending_post_id again answers the post already made', T, async () => {
    const {alice, open} = await world('pd');
    const pending = `${alice.user.id}:${Date.now()}`;
    const first = await alice.client.createPost({channel_id: open.id, message: 'once', pending_post_id: pending});
    const again = await alice.client.createPost({channel_id: open.id, message: 'once', pending_post_id: pending});
    assert.equal(again.id, first.id);
    assert.equal((await alice.client.getChannel(open.id)).total_msg_count, 1);
});

test('createPost: replies, reply_count, the root bumped; bad roots are 400', T, async () => {
    const {alice, bob, open, priv} = await world('pr');
    const root = await alice.client.createPost({channel_id: open.id, message: 'root'});
    await sleep(3);
    const reply = await bob.client.createPost({channel_id: open.id, message: 'reply', root_id: root.id});
    assert.equal(reply.root_id, root.id);
    assert.equal(reply.reply_count, 1);
    const rootNow = await alice.client.getPost(root.id);
    assert.equal(rootNow.reply_count, 1);
    assert.ok(rootNow.update_at >= reply.create_at, 'a reply bumps the root update_at');
    const other = await alice.client.createPost({channel_id: priv.id, message: 'elsewhere'});
    await clientError(alice.client.createPost({channel_id: open.id, message: 'x', root_id: other.id}), 400,
        'api.post.create_post.channel_root_id.app_error');
    await clientError(alice.client.createPost({channel_id: open.id, message: 'x', root_id: NOBODY}), 400,
        'api.post.create_post.root_id.app_error');
    await clientError(alice.client.createPost({channel_id: open.id, message: 'x', root_id: reply.id}), 400,
        'api.post.create_post.root_id.app_error');
    await clientError(alice.client.createPost({channel_id: open.id, message: 'x', root_id: 'not-an-id'}), 400,
        'api.post.create_post.root_id.app_error');
});

test('createPost: 401, 403 outside the channel, 404, 400 on bad input', T, async () => {
    const {alice, bob, carol, dave, open, priv} = await world('pf');
    await clientError(client().createPost({channel_id: open.id, message: 'x'}), 401,
        'api.context.session_expired.app_error');
    await clientError(bob.client.createPost({channel_id: priv.id, message: 'x'}), 403, FORBIDDEN);
    await clientError(carol.client.createPost({channel_id: open.id, message: 'x'}), 403, FORBIDDEN);
    await clientError(dave.client.createPost({channel_id: open.id, message: 'x'}), 403, FORBIDDEN);
    await clientError(alice.client.createPost({channel_id: NOBODY, message: 'x'}), 404);
    await clientError(alice.client.createPost({channel_id: 'bad', message: 'x'}), 400, BAD_BODY);
    await clientError(alice.client.createPost({message: 'x'}), 400, BAD_BODY);
    await clientError(alice.client.createPost({channel_id: open.id, message: 5}), 400, BAD_BODY);
    await clientError(alice.client.createPost({channel_id: open.id, message: 'x', props: 'nope'}), 400, BAD_BODY);
    await clientError(alice.client.createPost({channel_id: open.id, message: 'x', file_ids: [1]}), 400, BAD_BODY);
    await clientError(alice.client.createPost({channel_id: open.id, message: 'x', type: 'system_join_channel'}), 400,
        'api.context.invalid_param.app_error');
    const url = alice.client.getPostsRoute();
    await clientError(alice.client.doFetch(url, {method: 'post', body: '{"channel_id":'}), 400, BAD_BODY);
    await clientError(alice.client.doFetch(url, {method: 'post', body: '[]'}), 400, BAD_BODY);
    // invalid UTF-8 in the message
    const raw = Buffer.concat([Buffer.from(`{"channel_id":"${open.id}","message":"a`), Buffer.from([0xc3, 0x28]),
        Buffer.from('"}')]);
    await clientError(alice.client.doFetch(url, {method: 'post', body: raw}), 400, BAD_BODY);
    assert.equal((await alice.client.getChannel(open.id)).total_msg_count, 0, 'nothing half-written');
});

test('createPost: at most 16383 runes, counted as code points', T, async () => {
    const {alice, open} = await world('pl');
    for (const ch of ['a', 'é', '€', '😀']) {
        const ok = await alice.client.createPost({channel_id: open.id, message: ch.repeat(16383)});
        assert.equal([...ok.message].length, 16383);
        assert.equal(ok.message, ch.repeat(16383));
        await clientError(alice.client.createPost({channel_id: open.id, message: ch.repeat(16384)}), 400, TOO_LONG);
    }
    // 16383 four-byte runes are 65532 bytes: far over 16383 bytes, still fine
    const post = await alice.client.createPost({channel_id: open.id, message: `${'😀'.repeat(16382)}é`});
    assert.equal(Buffer.byteLength(post.message), 16382 * 4 + 2);
});

test('getPost: members and open-channel team members read; others 403; 404, 400', T, async () => {
    const {alice, bob, carol, dave, open, priv} = await world('pg');
    const post = await alice.client.createPost({channel_id: open.id, message: 'readable'});
    const secret = await alice.client.createPost({channel_id: priv.id, message: 'secret'});
    assert.equal((await bob.client.getPost(post.id)).message, 'readable');
    assert.equal((await carol.client.getPost(post.id)).message, 'readable', 'team members read open channels');
    await clientError(dave.client.getPost(post.id), 403, FORBIDDEN);
    await clientError(bob.client.getPost(secret.id), 403, FORBIDDEN);
    await clientError(carol.client.getPost(secret.id), 403, FORBIDDEN);
    await clientError(alice.client.getPost(NOBODY), 404, 'app.post.get.app_error');
    await clientError(alice.client.getPost('nope'), 400, BAD_URL);
    await clientError(client().getPost(post.id), 401);
    await alice.client.deletePost(post.id);
    await clientError(alice.client.getPost(post.id), 404, 'app.post.get.app_error');
    await clientError(alice.client.getPost(post.id, true), 403, FORBIDDEN);
    const {client: a} = await admin();
    const deleted = await a.getPost(post.id, true);
    assert.ok(deleted.delete_at > 0);
});

test('getPosts: an empty channel, pages, exactly per_page, past the end, deleted excluded', T, async () => {
    const {alice, carol, dave, open, priv} = await world('pp');
    // a new channel holds its system posts only: bob's add, alice's join (she made it)
    const start = await alice.client.getPosts(open.id);
    assert.deepEqual(start.order.map((id) => start.posts[id].type), ['system_add_to_channel', 'system_join_channel']);
    assert.equal(start.next_post_id, '');
    assert.equal(start.prev_post_id, '');
    const sys = start.order;
    const posts = await postMany(alice.client, open.id, 5);
    const all = await alice.client.getPosts(open.id);
    assert.deepEqual(all.order, [...newestFirst(posts), ...sys]);
    assert.equal(Object.keys(all.posts).length, 7);
    assert.equal(all.next_post_id, '');
    assert.equal(all.prev_post_id, '');
    const exact = await alice.client.getPosts(open.id, 0, 5);
    assert.deepEqual(exact.order, newestFirst(posts));
    assert.equal(exact.prev_post_id, sys[0]);
    const p0 = await alice.client.getPosts(open.id, 0, 2);
    assert.deepEqual(p0.order, [posts[4].id, posts[3].id]);
    assert.equal(p0.next_post_id, '');
    assert.equal(p0.prev_post_id, posts[2].id);
    const p1 = await alice.client.getPosts(open.id, 1, 2);
    assert.deepEqual(p1.order, [posts[2].id, posts[1].id]);
    assert.equal(p1.next_post_id, posts[3].id);
    assert.equal(p1.prev_post_id, posts[0].id);
    const p2 = await alice.client.getPosts(open.id, 3, 2);
    assert.deepEqual(p2.order, [sys[1]]);
    assert.equal(p2.prev_post_id, '');
    const past = await alice.client.getPosts(open.id, 9, 2);
    assert.deepEqual(past.order, []);
    assert.deepEqual(past.posts, {});
    await alice.client.deletePost(posts[3].id);
    const after = await alice.client.getPosts(open.id, 0, 2);
    assert.deepEqual(after.order, [posts[4].id, posts[2].id]);
    assert.equal(after.prev_post_id, posts[1].id);
    // per_page is capped at 200; an unparsable or negative page is page 0 (web/params.go)
    const url = `${alice.client.getChannelRoute(open.id)}/posts`;
    assert.equal((await alice.client.doFetch(`${url}?per_page=1000`, {method: 'get'})).order.length, 6);
    assert.equal((await alice.client.doFetch(`${url}?page=-3&per_page=1`, {method: 'get'})).order[0], posts[4].id);
    assert.equal((await carol.client.getPosts(open.id)).order.length, 6, 'team members read open channels');
    await clientError(dave.client.getPosts(open.id), 403, FORBIDDEN);
    await clientError(carol.client.getPosts(priv.id), 403, FORBIDDEN);
    await clientError(alice.client.getPosts(NOBODY), 404);
    await clientError(alice.client.getPosts('bad-id'), 400, BAD_URL);
    await clientError(client().getPosts(open.id), 401);
});

test('getPosts: a page carries the threads of its replies in posts, not in order', T, async () => {
    const {alice, bob, open} = await world('pt');
    const root = await alice.client.createPost({channel_id: open.id, message: 'root'});
    await sleep(3);
    const others = await postMany(alice.client, open.id, 3, 'filler');
    const reply = await bob.client.createPost({channel_id: open.id, message: 'late reply', root_id: root.id});
    const page = await alice.client.getPosts(open.id, 0, 1);
    assert.deepEqual(page.order, [reply.id]);
    assert.ok(page.posts[root.id], 'the root of a reply on the page');
    assert.equal(page.posts[root.id].reply_count, 1);
    assert.equal(page.posts[others[0].id], undefined);
});

test('getPostsSince: changed posts, deleted ones included, no cursors', T, async () => {
    const {alice, open} = await world('ps');
    const old = await postMany(alice.client, open.id, 3, 'old');
    const since = Date.now();
    await sleep(5);
    const fresh = await alice.client.createPost({channel_id: open.id, message: 'fresh'});
    await alice.client.deletePost(old[0].id);
    await alice.client.patchPost({id: old[1].id, message: 'edited'});
    const list = await alice.client.getPostsSince(open.id, since);
    assert.deepEqual(new Set(list.order), new Set([fresh.id, old[0].id, old[1].id]));
    assert.ok(list.posts[old[0].id].delete_at > 0, 'the deleted post, marked');
    assert.equal(list.posts[old[1].id].message, 'edited');
    assert.equal(list.posts[old[2].id], undefined);
    assert.equal(list.next_post_id, '');
    assert.equal(list.prev_post_id, '');
    const none = await alice.client.getPostsSince(open.id, Date.now() + 60000);
    assert.deepEqual(none.order, []);
    const url = `${alice.client.getChannelRoute(open.id)}/posts?since=yesterday`;
    await clientError(alice.client.doFetch(url, {method: 'get'}), 400, BAD_BODY);
});

test('getPostsBefore / getPostsAfter: pages around a post and their cursors', T, async () => {
    const {alice, open} = await world('pa');
    const sys = (await alice.client.getPosts(open.id)).order; // bob's add, alice's join
    const p = await postMany(alice.client, open.id, 7);
    const b0 = await alice.client.getPostsBefore(open.id, p[4].id, 0, 2);
    assert.deepEqual(b0.order, [p[3].id, p[2].id]);
    assert.equal(b0.next_post_id, p[4].id, 'before=X page 0: next_post_id = X');
    assert.equal(b0.prev_post_id, p[1].id);
    const b1 = await alice.client.getPostsBefore(open.id, p[4].id, 1, 2);
    assert.deepEqual(b1.order, [p[1].id, p[0].id]);
    assert.equal(b1.next_post_id, p[2].id);
    assert.equal(b1.prev_post_id, sys[0]);
    const b2 = await alice.client.getPostsBefore(open.id, p[1].id, 0, 4);
    assert.deepEqual(b2.order, [p[0].id, ...sys]);
    assert.equal(b2.next_post_id, p[1].id);
    assert.equal(b2.prev_post_id, '', 'a short page has no prev');
    const a0 = await alice.client.getPostsAfter(open.id, p[2].id, 0, 2);
    assert.deepEqual(a0.order, [p[4].id, p[3].id], 'newest first');
    assert.equal(a0.prev_post_id, p[2].id, 'after=X page 0: prev_post_id = X');
    assert.equal(a0.next_post_id, p[5].id);
    const a1 = await alice.client.getPostsAfter(open.id, p[2].id, 1, 2);
    assert.deepEqual(a1.order, [p[6].id, p[5].id]);
    assert.equal(a1.prev_post_id, p[4].id);
    assert.equal(a1.next_post_id, '', 'nothing newer');
    const a2 = await alice.client.getPostsAfter(open.id, p[5].id, 0, 2);
    assert.deepEqual(a2.order, [p[6].id]);
    assert.equal(a2.next_post_id, '');
    assert.equal(a2.prev_post_id, p[5].id);
    const last = await alice.client.getPostsAfter(open.id, p[6].id, 0, 2);
    assert.deepEqual(last.order, []);
    assert.equal(last.prev_post_id, p[6].id);
    assert.equal(last.next_post_id, '');
    const unknown = await alice.client.getPostsBefore(open.id, NOBODY, 0, 2);
    assert.deepEqual(unknown.order, []);
    const url = `${alice.client.getChannelRoute(open.id)}/posts`;
    await clientError(alice.client.doFetch(`${url}?before=bad`, {method: 'get'}), 400, BAD_BODY);
    await clientError(alice.client.doFetch(`${url}?after=bad`, {method: 'get'}), 400, BAD_BODY);
});

test('patchPost: the author edits (edit_at), pins; others 403; bad input 400', T, async () => {
    const {alice, bob, open} = await world('pe');
    const post = await alice.client.createPost({channel_id: open.id, message: 'first #one'});
    await sleep(3);
    const edited = await alice.client.patchPost({id: post.id, message: 'second #two'});
    assert.equal(edited.message, 'second #two');
    assert.equal(edited.hashtags, '#two');
    assert.ok(edited.edit_at > post.create_at);
    assert.ok(edited.update_at >= edited.edit_at);
    await sleep(3);
    const pinned = await alice.client.patchPost({id: post.id, is_pinned: true, props: {a: 1}});
    assert.equal(pinned.is_pinned, true);
    assert.equal(pinned.message, 'second #two');
    assert.equal(pinned.edit_at, edited.edit_at, 'no message change, no edit_at');
    assert.ok(pinned.update_at > edited.update_at);
    assert.deepEqual(pinned.props, {a: 1});
    await clientError(bob.client.patchPost({id: post.id, message: 'hijack'}), 403, FORBIDDEN);
    const {client: a} = await admin();
    assert.equal((await a.patchPost({id: post.id, message: 'by admin'})).message, 'by admin');
    await clientError(alice.client.patchPost({id: post.id, message: 'x'.repeat(16384)}), 400, TOO_LONG);
    assert.equal((await alice.client.patchPost({id: post.id, message: '€'.repeat(16383)})).message.length, 16383);
    await clientError(alice.client.patchPost({id: post.id, message: 7}), 400, BAD_BODY);
    await clientError(alice.client.patchPost({id: post.id, is_pinned: 'yes'}), 400, BAD_BODY);
    await clientError(alice.client.patchPost({id: 'bad', message: 'x'}), 400, BAD_URL);
    await clientError(alice.client.patchPost({id: NOBODY, message: 'x'}), 403, FORBIDDEN);
    await clientError(client().patchPost({id: post.id, message: 'x'}), 401);
    await alice.client.deletePost(post.id);
    await clientError(alice.client.patchPost({id: post.id, message: 'x'}), 403, FORBIDDEN);
});

test('deletePost: the author or an admin; the thread goes with its root', T, async () => {
    const {alice, bob, open} = await world('px');
    const root = await alice.client.createPost({channel_id: open.id, message: 'root'});
    const reply = await bob.client.createPost({channel_id: open.id, message: 'reply', root_id: root.id});
    await clientError(bob.client.deletePost(root.id), 403, FORBIDDEN);
    await clientError(client().deletePost(root.id), 401);
    await clientError(alice.client.deletePost('bad'), 400, BAD_URL);
    await clientError(alice.client.deletePost(NOBODY), 404, 'app.post.get.app_error');
    assert.deepEqual(await alice.client.deletePost(root.id), {status: 'OK'});
    await clientError(alice.client.getPost(reply.id), 404);
    await clientError(alice.client.deletePost(root.id), 404, 'app.post.get.app_error');
    const other = await bob.client.createPost({channel_id: open.id, message: 'bob says'});
    const {client: a} = await admin();
    assert.deepEqual(await a.deletePost(other.id), {status: 'OK'});
    const deleted = await a.getPost(other.id, true);
    assert.equal(deleted.props.deleteBy, (await a.getMe()).id);
    assert.equal(deleted.delete_at, deleted.update_at);
});

test('searchPosts: AND by default, OR, phrases, exclusions, prefixes, hashtags', T, async () => {
    const {alice, team, open} = await world('sa');
    const w = unique('zq'); // a word no other test uses
    const p = {};
    const say = async (key, message) => {
        p[key] = await alice.client.createPost({channel_id: open.id, message: message.replaceAll('W', w)});
        await sleep(3);
    };
    await say('both', 'W apples and oranges');
    await say('apples', 'W apples only');
    await say('oranges', 'W oranges only');
    await say('phrase', 'W quick brown fox');
    await say('scrambled', 'W brown quick fox');
    await say('running', 'W the runners were running');
    await say('tag', 'W tagged #Release42 today');
    const search = (terms, isOr = false) => alice.client.searchPosts(team.id, terms, isOr);
    const keys = (res) => Object.entries(p).filter(([, post]) => res.order.includes(post.id)).map(([k]) => k).sort();
    const and = await search(`${w} apples oranges`);
    assert.deepEqual(keys(and), ['both']);
    assert.equal(and.next_post_id, '');
    assert.equal(and.prev_post_id, '');
    assert.deepEqual(and.matches[p.both.id].sort(), ['apples', 'oranges', w].sort());
    assert.deepEqual(keys(await search('apples oranges', true)), ['apples', 'both', 'oranges']);
    assert.deepEqual(keys(await search(`${w} "quick brown"`)), ['phrase']);
    assert.deepEqual(keys(await search(`${w} quick brown`)), ['phrase', 'scrambled']);
    assert.deepEqual(keys(await search(`${w} apples -oranges`)), ['apples']);
    assert.deepEqual(keys(await search(`${w} -"quick brown"`)), ['apples', 'both', 'oranges', 'running', 'scrambled',
        'tag']);
    assert.deepEqual(keys(await search(`${w} run*`)), ['running']);
    assert.deepEqual(keys(await search(`${w} runn*`)), ['running']);
    const tagged = await search('#release42');
    assert.deepEqual(keys(tagged), ['tag']);
    assert.deepEqual(tagged.matches[p.tag.id], ['#Release42']);
    const order = (await search(w)).order;
    assert.deepEqual(order, [p.tag, p.running, p.scrambled, p.phrase, p.oranges, p.apples, p.both].map((x) => x.id),
        'newest first');
    // the database search has no pages after the first
    const page1 = await alice.client.searchPostsWithParams(team.id, {terms: w, page: 1, per_page: 2});
    assert.deepEqual(page1.order, []);
    // a query the text search cannot parse finds nothing, it does not fail
    assert.deepEqual((await search(`${w} a!b`)).order, []);
    assert.deepEqual((await search('   ')).order, []);
    await alice.client.deletePost(p.both.id);
    assert.deepEqual(keys(await search(`${w} apples oranges`)), []);
});

test('searchPosts: only channels of the team the caller is a member of', T, async () => {
    const {alice, bob, carol, dave, team, open, priv} = await world('sp');
    const w = unique('zs');
    const pub = await alice.client.createPost({channel_id: open.id, message: `${w} public words`});
    await alice.client.createPost({channel_id: priv.id, message: `${w} private words`});
    const mine = await alice.client.searchPosts(team.id, `${w} words`, false);
    assert.equal(mine.order.length, 2);
    const theirs = await bob.client.searchPosts(team.id, w, false);
    assert.deepEqual(theirs.order, [pub.id]);
    assert.deepEqual(Object.keys(theirs.posts), [pub.id]);
    assert.deepEqual(Object.keys(theirs.matches), [pub.id]);
    const outsider = await carol.client.searchPosts(team.id, w, false);
    assert.deepEqual(outsider.order, [], 'not a member of the open channel either');
    const {client: a} = await admin();
    await clientError(dave.client.searchPosts(team.id, w, false), 403, FORBIDDEN);
    assert.equal((await a.searchPosts(team.id, `${w} private`, false)).order.length, 0, 'admins are not members');
    // direct messages are searched from every team, by their members only
    const dm = await alice.client.createDirectChannel([alice.user.id, bob.user.id]);
    const direct = await alice.client.createPost({channel_id: dm.id, message: `${w} direct words`});
    assert.ok((await bob.client.searchPosts(team.id, `${w} direct`, false)).order.includes(direct.id));
    assert.deepEqual((await carol.client.searchPosts(team.id, `${w} direct`, false)).order, []);
    // in: and from: filters
    assert.deepEqual((await alice.client.searchPosts(team.id, `${w} in:${open.name}`, false)).order, [pub.id]);
    assert.equal((await alice.client.searchPosts(team.id, `${w} from:${alice.user.username}`, false)).order.length,
        3);
    assert.equal((await alice.client.searchPosts(team.id, `${w} from:${bob.user.username}`, false)).order.length, 0);
});

test('searchPosts: bad input', T, async () => {
    const {alice, team} = await world('sb');
    await clientError(alice.client.searchPosts(team.id, '', false), 400, BAD_BODY);
    await clientError(alice.client.searchPostsWithParams(team.id, {is_or_search: true}), 400, BAD_BODY);
    await clientError(alice.client.searchPostsWithParams(team.id, {terms: 5}), 400,
        'api.post.search_posts.invalid_body.app_error');
    const url = `${alice.client.getTeamRoute(team.id)}/posts/search`;
    await clientError(alice.client.doFetch(url, {method: 'post', body: '{"terms":'}), 400,
        'api.post.search_posts.invalid_body.app_error');
    await clientError(alice.client.searchPosts('bad', 'x', false), 400, BAD_URL);
    await clientError(alice.client.searchPosts(NOBODY, 'x', false), 404);
    await clientError(client().searchPosts(team.id, 'x', false), 401);
});
