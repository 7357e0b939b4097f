// Sidebar categories through @mattermost/client: the default categories a
// member gets when first asking, custom categories (create, move channels,
// order, delete), the sidebar_category_* events on a raw WebSocket, and
// who may touch whose sidebar (403 for another user's, an admin may).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {T, admin, bearer, clientError, rawSocket, sleep, teamWorld, world} from './lib.mjs';

const NOBODY = 'x'.repeat(26);
const byType = (cats, type) => cats.categories.find((c) => c.type === type);
const byId = (cats, id) => cats.categories.find((c) => c.id === id);

// bob in alice's team, in its default channels and `open`; a direct channel
// of bob and carol.
async function sidebarWorld(prefix) {
    const w = await world(prefix);
    w.dm = await w.bob.client.createDirectChannel([w.bob.user.id, w.carol.user.id]);
    return w;
}

test('defaults: favorites, channels, direct_messages made on first read, with the channels derived', T, async () => {
    const w = await sidebarWorld('sbdef');
    const {bob, team} = w;
    const cats = await bob.client.getChannelCategories(bob.user.id, team.id);
    const ids = ['favorites', 'channels', 'direct_messages'].map((type) => `${type}_${bob.user.id}_${team.id}`);
    assert.deepEqual(cats.order, ids);
    assert.deepEqual(cats.categories.map((c) => c.id), ids);
    assert.deepEqual(cats.categories.map((c) => [c.type, c.display_name, c.sort_order, c.sorting]), [
        ['favorites', 'Favorites', 0, ''],
        ['channels', 'Channels', 10, ''],
        ['direct_messages', 'Direct Messages', 20, 'recent'],
    ]);
    for (const c of cats.categories) {
        assert.equal(c.user_id, bob.user.id);
        assert.equal(c.team_id, team.id);
        assert.equal(c.muted, false);
        assert.equal(c.collapsed, false);
    }
    assert.deepEqual(byType(cats, 'favorites').channel_ids, []);
    // the team's channels bob is in, by display name; not the private one
    const mine = await bob.client.getMyChannels(team.id);
    const expected = mine.filter((ch) => ch.team_id === team.id)
        .sort((a, b) => a.display_name.localeCompare(b.display_name)).map((ch) => ch.id);
    assert.ok(expected.includes(w.open.id));
    assert.deepEqual(byType(cats, 'channels').channel_ids, expected);
    assert.ok(!byType(cats, 'channels').channel_ids.includes(w.priv.id));
    assert.deepEqual(byType(cats, 'direct_messages').channel_ids, [w.dm.id]);

    // read again: the same, nothing made twice; the order and one category
    assert.deepEqual(await bob.client.getChannelCategories('me', team.id), cats);
    assert.deepEqual(await bob.client.getChannelCategoryOrder(bob.user.id, team.id), ids);
    assert.deepEqual(await bob.client.getChannelCategory(bob.user.id, team.id, ids[1]), cats.categories[1]);

    // the direct channel shows in every team's direct_messages
    const other = await teamWorld(bob, {prefix: 'sbdef-other-'});
    const otherCats = await bob.client.getChannelCategories(bob.user.id, other.team.id);
    assert.deepEqual(byType(otherCats, 'direct_messages').channel_ids, [w.dm.id]);
    assert.ok(!byType(otherCats, 'channels').channel_ids.includes(w.open.id));

    // dave is not in the team: no categories, as Mattermost
    assert.deepEqual(await w.dave.client.getChannelCategories(w.dave.user.id, team.id), {categories: [], order: []});
    assert.deepEqual(await w.dave.client.getChannelCategoryOrder(w.dave.user.id, team.id), []);
});

test('custom categories: create, move channels, rename, order, delete', T, async () => {
    const w = await sidebarWorld('sbcus');
    const {bob, team} = w;
    const c = bob.client;
    const before = await c.getChannelCategories(bob.user.id, team.id);
    const [favId, chId, dmId] = before.order;

    // channels bob may not place (a private channel he is not in, an unknown
    // id) are dropped; the new category goes right after favorites
    const created = await c.createChannelCategory(bob.user.id, team.id, {
        user_id: bob.user.id, team_id: team.id, display_name: 'Work', channel_ids: [w.open.id, w.priv.id, NOBODY],
    });
    assert.match(created.id, /^[a-z0-9]{26}$/);
    assert.equal(created.type, 'custom');
    assert.equal(created.display_name, 'Work');
    assert.equal(created.sort_order, 10);
    assert.deepEqual(created.channel_ids, [w.open.id]);
    let cats = await c.getChannelCategories(bob.user.id, team.id);
    assert.deepEqual(cats.order, [favId, created.id, chId, dmId]);
    assert.deepEqual(cats.categories.map((k) => k.sort_order), [0, 10, 20, 30]);
    assert.deepEqual(byId(cats, created.id).channel_ids, [w.open.id]);
    assert.ok(!byId(cats, chId).channel_ids.includes(w.open.id), 'moved out of channels');

    // rename and collapse one category; a default one keeps its name
    const renamed = await c.updateChannelCategory(bob.user.id, team.id,
        {...byId(cats, created.id), display_name: 'Work stuff', collapsed: true});
    assert.equal(renamed.display_name, 'Work stuff');
    assert.equal(renamed.collapsed, true);
    assert.deepEqual(renamed.channel_ids, [w.open.id]);
    const channels = await c.updateChannelCategory(bob.user.id, team.id, {...byId(cats, chId), display_name: 'Mine'});
    assert.equal(channels.display_name, 'Channels');

    // move the open channel to favorites (both categories in one update)
    cats = await c.getChannelCategories(bob.user.id, team.id);
    const moved = await c.updateChannelCategories(bob.user.id, team.id, [
        {...byId(cats, created.id), channel_ids: []},
        {...byId(cats, favId), channel_ids: [w.open.id]},
    ]);
    assert.deepEqual(moved.map((k) => [k.id, k.channel_ids]), [[created.id, []], [favId, [w.open.id]]]);
    cats = await c.getChannelCategories(bob.user.id, team.id);
    assert.deepEqual(byId(cats, favId).channel_ids, [w.open.id]);
    assert.deepEqual(byId(cats, created.id).channel_ids, []);
    assert.equal(byId(cats, created.id).display_name, 'Work stuff');

    // the order: every category once, else 400
    const reversed = [...cats.order].reverse();
    assert.deepEqual(await c.updateChannelCategoryOrder(bob.user.id, team.id, reversed), reversed);
    assert.deepEqual(await c.getChannelCategoryOrder(bob.user.id, team.id), reversed);
    cats = await c.getChannelCategories(bob.user.id, team.id);
    assert.deepEqual(cats.order, reversed);
    assert.deepEqual(cats.categories.map((k) => k.sort_order), [0, 10, 20, 30]);
    await clientError(c.updateChannelCategoryOrder(bob.user.id, team.id, reversed.slice(1)), 400,
        'app.channel.sidebar_categories.app_error');

    // a new category goes first when favorites is not first
    const first = await c.createChannelCategory(bob.user.id, team.id,
        {user_id: bob.user.id, team_id: team.id, display_name: 'First', channel_ids: [w.open.id]});
    assert.equal(first.sort_order, 0);
    cats = await c.getChannelCategories(bob.user.id, team.id);
    assert.deepEqual(cats.order, [first.id, ...reversed]);
    assert.deepEqual(byId(cats, favId).channel_ids, [], 'the channel left favorites for the new category');

    // only a custom category is deleted; its channels go back to channels
    await clientError(c.deleteChannelCategory(bob.user.id, team.id, chId), 400,
        'app.channel.sidebar_categories.app_error');
    assert.deepEqual(await c.deleteChannelCategory(bob.user.id, team.id, first.id), {status: 'OK'});
    cats = await c.getChannelCategories(bob.user.id, team.id);
    assert.equal(byId(cats, first.id), undefined);
    assert.ok(byId(cats, chId).channel_ids.includes(w.open.id), 'back in channels');
    await clientError(c.getChannelCategory(bob.user.id, team.id, first.id), 403, 'api.context.permissions.app_error');
    const {client: a} = await admin();
    await clientError(a.getChannelCategory(bob.user.id, team.id, first.id), 404,
        'app.channel.sidebar_categories.app_error');
});

test('events: sidebar_category_created, _updated, _order_updated, _deleted to the user only', T, async (t) => {
    const w = await sidebarWorld('sbev');
    const {bob, carol, team} = w;
    const c = bob.client;
    const cats = await c.getChannelCategories(bob.user.id, team.id);
    await carol.client.getChannelCategories(carol.user.id, team.id);
    const mine = await rawSocket(t, 'bob', {headers: bearer(bob.token)});
    const theirs = await rawSocket(t, 'carol', {headers: bearer(carol.token)});
    await mine.wait('hello');
    await theirs.wait('hello');

    const created = await c.createChannelCategory(bob.user.id, team.id,
        {user_id: bob.user.id, team_id: team.id, display_name: 'Ev', channel_ids: [w.open.id]});
    const ev = await mine.wait('sidebar_category_created');
    assert.deepEqual(ev.data, {category_id: created.id});
    assert.equal(ev.broadcast.user_id, bob.user.id);
    assert.equal(ev.broadcast.team_id, team.id);

    await c.updateChannelCategories(bob.user.id, team.id, [{...created, display_name: 'Ev2'}]);
    const upd = await mine.wait('sidebar_category_updated');
    assert.equal(typeof upd.data.updatedCategories, 'string');
    const updated = JSON.parse(upd.data.updatedCategories);
    assert.deepEqual(updated.map((k) => [k.id, k.display_name, k.channel_ids]), [[created.id, 'Ev2', [w.open.id]]]);

    const order = [created.id, ...cats.order];
    await c.updateChannelCategoryOrder(bob.user.id, team.id, order);
    const ord = await mine.wait('sidebar_category_order_updated');
    assert.deepEqual(ord.data.order, order);

    await c.deleteChannelCategory(bob.user.id, team.id, created.id);
    const del = await mine.wait('sidebar_category_deleted');
    assert.deepEqual(del.data, {category_id: created.id});
    mine.checkSeq();

    await sleep(200);
    for (const e of ['sidebar_category_created', 'sidebar_category_updated', 'sidebar_category_order_updated',
        'sidebar_category_deleted']) {
        theirs.none(e);
    }
});

test('permissions: another user\'s sidebar is 403, an admin may; a category not yours is refused', T, async () => {
    const w = await sidebarWorld('sbperm');
    const {bob, carol, team} = w;
    const cats = await bob.client.getChannelCategories(bob.user.id, team.id);
    const carolCats = await carol.client.getChannelCategories(carol.user.id, team.id);
    const [, chId] = cats.order;
    const cc = carol.client;
    const id = 'api.context.permissions.app_error';
    await clientError(cc.getChannelCategories(bob.user.id, team.id), 403, id);
    await clientError(cc.getChannelCategoryOrder(bob.user.id, team.id), 403, id);
    await clientError(cc.getChannelCategory(bob.user.id, team.id, chId), 403, id);
    await clientError(cc.createChannelCategory(bob.user.id, team.id,
        {user_id: bob.user.id, team_id: team.id, display_name: 'X', channel_ids: []}), 403, id);
    await clientError(cc.updateChannelCategories(bob.user.id, team.id, [byId(cats, chId)]), 403, id);
    await clientError(cc.updateChannelCategory(bob.user.id, team.id, byId(cats, chId)), 403, id);
    await clientError(cc.updateChannelCategoryOrder(bob.user.id, team.id, cats.order), 403, id);
    await clientError(cc.deleteChannelCategory(bob.user.id, team.id, chId), 403, id);
    // bob's category through carol's own routes
    await clientError(cc.getChannelCategory(carol.user.id, team.id, chId), 403, id);
    await clientError(cc.updateChannelCategories(carol.user.id, team.id, [byId(cats, chId)]), 400,
        'api.context.invalid_url_param.app_error');
    await clientError(cc.updateChannelCategoryOrder(carol.user.id, team.id, [...carolCats.order.slice(1), chId]), 400,
        'api.context.invalid_url_param.app_error');
    assert.deepEqual(await cc.getChannelCategoryOrder(carol.user.id, team.id), carolCats.order);

    // the admin reads and changes bob's
    const {client: a} = await admin();
    assert.deepEqual((await a.getChannelCategories(bob.user.id, team.id)).order, cats.order);
    assert.deepEqual(await a.getChannelCategory(bob.user.id, team.id, chId), byId(cats, chId));
    const made = await a.createChannelCategory(bob.user.id, team.id,
        {user_id: bob.user.id, team_id: team.id, display_name: 'By admin', channel_ids: []});
    assert.equal(made.user_id, bob.user.id);
    assert.deepEqual(await a.deleteChannelCategory(bob.user.id, team.id, made.id), {status: 'OK'});
    await clientError(a.getChannelCategory(bob.user.id, team.id, `channels_${NOBODY}_${NOBODY}`), 404,
        'app.channel.sidebar_categories.app_error');
});

test('bad input: ids in the URL, bodies; a user who never read their categories creates one', T, async () => {
    const w = await sidebarWorld('sbbad');
    const {bob, team} = w;
    const c = bob.client;
    const cats = await c.getChannelCategories(bob.user.id, team.id);
    const param = 'api.context.invalid_url_param.app_error';
    await clientError(c.getChannelCategories(bob.user.id, 'nope'), 400, param);
    await clientError(c.getChannelCategory(bob.user.id, team.id, 'nope'), 400, param);
    await clientError(c.deleteChannelCategory(bob.user.id, team.id, 'channels_x'), 400, param);
    // the body must name the route's user and team
    await clientError(c.createChannelCategory(bob.user.id, team.id,
        {user_id: w.carol.user.id, team_id: team.id, display_name: 'X', channel_ids: []}), 400, param);
    await clientError(c.updateChannelCategory(bob.user.id, team.id, {...cats.categories[0], team_id: NOBODY}), 400,
        param);
    await clientError(c.createChannelCategory(bob.user.id, team.id,
        {user_id: bob.user.id, team_id: team.id, display_name: 'X', channel_ids: 'nope'}), 400, param);
    await clientError(c.createChannelCategory(bob.user.id, team.id,
        {user_id: bob.user.id, team_id: team.id, display_name: 'X'.repeat(65), channel_ids: []}), 400, param);
    await clientError(c.updateChannelCategories(bob.user.id, team.id, [{...cats.categories[0], muted: 'yes'}]), 400,
        param);
    await clientError(c.updateChannelCategories(bob.user.id, team.id, {}), 400, param);
    // an unknown category in an update: not bob's
    await clientError(c.updateChannelCategories(bob.user.id, team.id, [{...cats.categories[0], id: NOBODY}]), 400,
        param);
    assert.deepEqual(await c.getChannelCategories(bob.user.id, team.id), cats, 'nothing changed');

    // carol never asked for her categories (Mattermost makes them when she joins the team,
    // chorus when first needed): creating one makes them too, hers goes under Favorites
    const made = await w.carol.client.createChannelCategory(w.carol.user.id, team.id,
        {user_id: w.carol.user.id, team_id: team.id, display_name: 'X', channel_ids: []});
    assert.equal(made.type, 'custom');
    const carols = await w.carol.client.getChannelCategories(w.carol.user.id, team.id);
    assert.deepEqual(carols.categories.map((k) => k.type), ['favorites', 'custom', 'channels', 'direct_messages']);
    // dave has no channel in the team to place
    await clientError(w.dave.client.createChannelCategory(w.dave.user.id, team.id,
        {user_id: w.dave.user.id, team_id: team.id, display_name: 'X', channel_ids: []}), 400, 'api.invalid_channel');
});

test('favorites and favorite_channel preferences move together, both ways', T, async () => {
    const w = await sidebarWorld('sbfav');
    const {bob, team} = w;
    const fav = (p) => ({user_id: bob.user.id, category: 'favorite_channel', name: w.open.id, value: p});
    // a favorite saved before the sidebar exists is in favorites on the first read
    await bob.client.savePreferences(bob.user.id, [fav('true')]);
    let cats = await bob.client.getChannelCategories(bob.user.id, team.id);
    assert.deepEqual(byType(cats, 'favorites').channel_ids, [w.open.id]);
    assert.ok(!byType(cats, 'channels').channel_ids.includes(w.open.id));
    // the preference set to false: out of favorites, back among the channels
    await bob.client.savePreferences(bob.user.id, [fav('false')]);
    cats = await bob.client.getChannelCategories(bob.user.id, team.id);
    assert.deepEqual(byType(cats, 'favorites').channel_ids, []);
    assert.ok(byType(cats, 'channels').channel_ids.includes(w.open.id));
    // moved into favorites through the sidebar: the preference follows
    const favorites = byType(cats, 'favorites');
    await bob.client.updateChannelCategory(bob.user.id, team.id, {...favorites, channel_ids: [w.dm.id, w.open.id]});
    const prefs = await bob.client.getUserPreferences(bob.user.id);
    const favs = prefs.filter((p) => p.category === 'favorite_channel' && p.value === 'true').map((p) => p.name).sort();
    assert.deepEqual(favs, [w.dm.id, w.open.id].sort());
    // and out again: the preferences go
    await bob.client.updateChannelCategory(bob.user.id, team.id, {...favorites, channel_ids: []});
    const after = await bob.client.getUserPreferences(bob.user.id);
    assert.ok(!(after ?? []).some((p) => p.category === 'favorite_channel' && p.value === 'true'));
    // deleting the preference takes the channel out of favorites too
    await bob.client.savePreferences(bob.user.id, [fav('true')]);
    assert.deepEqual(byType(await bob.client.getChannelCategories(bob.user.id, team.id), 'favorites').channel_ids, [w.open.id]);
    await bob.client.deletePreferences(bob.user.id, [fav('true')]);
    assert.deepEqual(byType(await bob.client.getChannelCategories(bob.user.id, team.id), 'favorites').channel_ids, []);
});
