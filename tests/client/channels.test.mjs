// Channels through @mattermost/client: creating open and private channels
// (validation, the creator as channel admin), direct channels, reading,
// adding members, a user's channels in a team, channel members and their
// pages; two users in two sessions, a private channel the other must not see.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {T, admin, client, clientError, newUser, unique} from './lib.mjs';

const NOBODY = 'abcdefghijklmnopqrstuvwxyz';
const FORBIDDEN = 'api.context.permissions.app_error';

// An owner with a team, and a second user who is a member of it.
async function teamWithTwo(prefix) {
    const owner = await newUser(`${prefix}o`);
    const mate = await newUser(`${prefix}m`);
    const name = unique('chteam-');
    const team = await owner.client.createTeam({name, display_name: name, type: 'I'});
    await owner.client.addToTeam(team.id, mate.user.id);
    return {owner, mate, team};
}

function channelInput(teamId, extra = {}) {
    const name = unique('chan-');
    return {team_id: teamId, name, display_name: `Channel ${name}`, type: 'O', purpose: 'p', header: 'h', ...extra};
}

test('createChannel: 201, the fields, the creator is a channel admin member', T, async () => {
    const {owner, team} = await teamWithTwo('cc');
    for (const type of ['O', 'P']) {
        const input = channelInput(team.id, {type, display_name: '  Spaced  '});
        const ch = await owner.client.createChannel(input);
        assert.match(ch.id, /^[a-z0-9]{26}$/);
        assert.equal(ch.team_id, team.id);
        assert.equal(ch.type, type);
        assert.equal(ch.name, input.name);
        assert.equal(ch.display_name, 'Spaced');
        assert.equal(ch.purpose, 'p');
        assert.equal(ch.header, 'h');
        assert.equal(ch.creator_id, owner.user.id);
        assert.equal(ch.delete_at, 0);
        assert.equal(ch.total_msg_count, 0);
        assert.ok(ch.create_at > 0 && ch.update_at === ch.create_at);
        const members = await owner.client.getChannelMembers(ch.id);
        assert.equal(members.length, 1);
        assert.equal(members[0].user_id, owner.user.id);
        assert.equal(members[0].channel_id, ch.id);
        assert.equal(members[0].roles, 'channel_user channel_admin');
        assert.equal(members[0].scheme_admin, true);
        assert.equal(members[0].notify_props.mark_unread, 'all');
        assert.equal((await owner.client.getChannel(ch.id)).id, ch.id);
    }
});

test('createChannel validation: 400 with Mattermost ids', T, async () => {
    const {owner, team} = await teamWithTwo('cv');
    const bad = (extra, id) => clientError(owner.client.createChannel(channelInput(team.id, extra)), 400, id);
    await bad({display_name: ''}, 'model.channel.is_valid.display_name.app_error');
    await bad({display_name: '   '}, 'model.channel.is_valid.display_name.app_error');
    await bad({display_name: 'd'.repeat(65)}, 'model.channel.is_valid.display_name.app_error');
    await bad({purpose: 'é'.repeat(251)}, 'model.channel.is_valid.purpose.app_error');
    assert.equal((await owner.client.createChannel(channelInput(team.id, {display_name: 'é'.repeat(64),
        purpose: 'é'.repeat(250)}))).purpose, 'é'.repeat(250));
    await bad({name: 'x'}, 'model.channel.is_valid.2_or_more.app_error');
    await bad({name: 'n'.repeat(65)}, 'model.channel.is_valid.2_or_more.app_error');
    await bad({name: 'Upper'}, 'model.channel.is_valid.2_or_more.app_error');
    await bad({name: 'trailing-'}, 'model.channel.is_valid.2_or_more.app_error');
    await bad({name: `${owner.user.id}__${NOBODY}`}, 'model.channel.is_valid.name.app_error');
    await bad({type: 'X'}, 'model.channel.is_valid.type.app_error');
    await bad({type: undefined}, 'model.channel.is_valid.type.app_error');
    await bad({type: 'D'}, 'api.channel.create_channel.direct_channel.app_error');
    await bad({header: 'h'.repeat(1025)}, 'model.channel.is_valid.header.app_error');
    await bad({purpose: 'p'.repeat(251)}, 'model.channel.is_valid.purpose.app_error');
    await bad({team_id: 'bad'}, 'api.context.invalid_body_param.app_error');
    await bad({name: 5}, 'api.context.invalid_body_param.app_error');
    await owner.client.createChannel(channelInput(team.id, {name: 'ok_name-2'}));
    await bad({name: 'ok_name-2'}, 'store.sql_channel.save_channel.exists.app_error');
    await bad({name: 'town-square'}, 'store.sql_channel.save_channel.exists.app_error');
    const url = owner.client.getChannelsRoute();
    await clientError(owner.client.doFetch(url, {method: 'post', body: '{"team_id":'}), 400,
        'api.context.invalid_body_param.app_error');
});

test('createChannel permissions: outside the team 403, no team, unknown team, 401', T, async () => {
    const {team} = await teamWithTwo('cp');
    const outsider = await newUser('cpout');
    await clientError(outsider.client.createChannel(channelInput(team.id)), 403, FORBIDDEN);
    await clientError(outsider.client.createChannel(channelInput(NOBODY)), 403, FORBIDDEN);
    await clientError(outsider.client.createChannel(channelInput('', {team_id: undefined})), 403, FORBIDDEN);
    const {client: a} = await admin();
    await clientError(a.createChannel(channelInput(NOBODY)), 404, 'app.team.get.find.app_error');
    await clientError(a.createChannel(channelInput('', {team_id: undefined})), 400,
        'app.channel.create_channel.no_team_id.app_error');
    const byAdmin = await a.createChannel(channelInput(team.id));
    assert.equal(byAdmin.creator_id, (await admin()).user.id);
    await clientError(client().createChannel(channelInput(team.id)), 401, 'api.context.session_expired.app_error');
});

test('a private channel: the other member of the team cannot see it until added', T, async () => {
    const {owner, mate, team} = await teamWithTwo('pr');
    const secret = await owner.client.createChannel(channelInput(team.id, {type: 'P'}));
    await clientError(mate.client.getChannel(secret.id), 403, FORBIDDEN);
    await clientError(mate.client.getChannelMembers(secret.id), 403, FORBIDDEN);
    await clientError(mate.client.addToChannel(mate.user.id, secret.id), 403, FORBIDDEN);
    assert.ok(!(await mate.client.getMyChannels(team.id)).some((ch) => ch.id === secret.id));

    const m = await owner.client.addToChannel(mate.user.id, secret.id);
    assert.equal(m.user_id, mate.user.id);
    assert.equal(m.roles, 'channel_user');
    assert.equal(m.scheme_admin, false);
    assert.equal((await mate.client.getChannel(secret.id)).id, secret.id);
    assert.ok((await mate.client.getMyChannels(team.id)).some((ch) => ch.id === secret.id));
    // now a member, the mate may add others too (channel_user manages members)
    const third = await newUser('prthird');
    await owner.client.addToTeam(team.id, third.user.id);
    assert.equal((await mate.client.addToChannel(third.user.id, secret.id)).user_id, third.user.id);
});

test('an open channel: team members read and join it, outsiders do not', T, async () => {
    const {owner, mate, team} = await teamWithTwo('op');
    const pub = await owner.client.createChannel(channelInput(team.id));
    assert.equal((await mate.client.getChannel(pub.id)).id, pub.id);
    assert.equal((await mate.client.getChannelMembers(pub.id)).length, 1);
    const outsider = await newUser('opout');
    await clientError(outsider.client.getChannel(pub.id), 403, FORBIDDEN);
    await clientError(outsider.client.addToChannel(outsider.user.id, pub.id), 403, FORBIDDEN);

    // a non-member may join but not add someone else
    const third = await newUser('opthird');
    await owner.client.addToTeam(team.id, third.user.id);
    await clientError(mate.client.addToChannel(third.user.id, pub.id), 403, FORBIDDEN);
    const joined = await mate.client.addToChannel(mate.user.id, pub.id);
    assert.equal(joined.channel_id, pub.id);
    const again = await mate.client.addToChannel(mate.user.id, pub.id);
    assert.equal(again.last_update_at, joined.last_update_at);
    assert.equal((await owner.client.getChannelMembers(pub.id)).length, 2);
});

test('addToChannel failures: user outside the team, unknown user or channel, bad ids, 401', T, async () => {
    const {owner, team} = await teamWithTwo('af');
    const pub = await owner.client.createChannel(channelInput(team.id));
    const outsider = await newUser('afout');
    await clientError(owner.client.addToChannel(outsider.user.id, pub.id), 404,
        'app.team.get_member.missing.app_error');
    await clientError(owner.client.addToChannel(NOBODY, pub.id), 404, 'app.user.missing_account.const');
    await clientError(owner.client.addToChannel(owner.user.id, NOBODY), 404, 'app.channel.get.existing.app_error');
    await clientError(owner.client.addToChannel('bad', pub.id), 400, 'api.context.invalid_body_param.app_error');
    await clientError(owner.client.addToChannel(owner.user.id, 'bad'), 400, 'api.context.invalid_url_param.app_error');
    await clientError(owner.client.addToChannel(owner.user.id, pub.id, 'not-a-post-id'), 400,
        'api.context.invalid_body_param.app_error');
    await clientError(owner.client.addToChannel(owner.user.id, pub.id, NOBODY), 404, 'app.post.get.app_error');
    const url = owner.client.getChannelMembersRoute(pub.id);
    await clientError(owner.client.doFetch(url, {method: 'post', body: '{"user_id": 3}'}), 400,
        'api.context.invalid_body_param.app_error');
    await clientError(client().addToChannel(owner.user.id, pub.id), 401, 'api.context.session_expired.app_error');
});

test('createDirectChannel: type D, sorted name, both members, idempotent, self-DM', T, async () => {
    const a = await newUser('dma');
    const b = await newUser('dmb');
    const dm = await a.client.createDirectChannel([a.user.id, b.user.id]);
    const [lo, hi] = [a.user.id, b.user.id].sort();
    assert.equal(dm.type, 'D');
    assert.equal(dm.team_id, '');
    assert.equal(dm.name, `${lo}__${hi}`);
    assert.equal(dm.display_name, '');
    assert.equal(dm.creator_id, a.user.id);
    const members = await b.client.getChannelMembers(dm.id);
    assert.deepEqual(members.map((m) => m.user_id).sort(), [lo, hi]);
    assert.ok(members.every((m) => m.roles === 'channel_user'));
    assert.equal((await b.client.createDirectChannel([b.user.id, a.user.id])).id, dm.id);
    assert.equal((await b.client.getChannel(dm.id)).id, dm.id);

    const self = await a.client.createDirectChannel([a.user.id, a.user.id]);
    assert.equal(self.name, `${a.user.id}__${a.user.id}`);
    assert.equal((await a.client.getChannelMembers(self.id)).length, 1);

    const c = await newUser('dmc');
    await clientError(c.client.getChannel(dm.id), 403, FORBIDDEN);
    await clientError(c.client.createDirectChannel([a.user.id, b.user.id]), 403, FORBIDDEN);
    await clientError(a.client.addToChannel(c.user.id, dm.id), 400, 'api.channel.add_user_to_channel.type.app_error');
    const {client: adm} = await admin();
    assert.equal((await adm.createDirectChannel([a.user.id, b.user.id])).id, dm.id);
});

test('createDirectChannel failures: unknown user, bad ids, wrong count, 401', T, async () => {
    const a = await newUser('dfa');
    await clientError(a.client.createDirectChannel([a.user.id, NOBODY]), 400,
        'api.channel.create_direct_channel.invalid_user.app_error');
    await clientError(a.client.createDirectChannel([a.user.id, 'bad']), 400,
        'api.context.invalid_body_param.app_error');
    await clientError(a.client.createDirectChannel([a.user.id]), 400, 'api.context.invalid_body_param.app_error');
    await clientError(a.client.createDirectChannel([a.user.id, a.user.id, a.user.id]), 400,
        'api.context.invalid_body_param.app_error');
    const url = `${a.client.getChannelsRoute()}/direct`;
    await clientError(a.client.doFetch(url, {method: 'post', body: '{"a":1}'}), 400,
        'api.context.invalid_body_param.app_error');
    await clientError(client().createDirectChannel([a.user.id, a.user.id]), 401,
        'api.context.session_expired.app_error');
});

test('getChannel: 404 unknown, 400 bad id, 401', T, async () => {
    const {owner} = await teamWithTwo('gc');
    await clientError(owner.client.getChannel(NOBODY), 404, 'app.channel.get.existing.app_error');
    await clientError(owner.client.getChannel('bad'), 400, 'api.context.invalid_url_param.app_error');
    await clientError(client().getChannel(NOBODY), 401, 'api.context.session_expired.app_error');
});

test('getMyChannels: the team\'s channels I am in and my DMs; others\' lists 403', T, async () => {
    const {owner, mate, team} = await teamWithTwo('my');
    const pub = await owner.client.createChannel(channelInput(team.id));
    const priv = await owner.client.createChannel(channelInput(team.id, {type: 'P'}));
    const dm = await owner.client.createDirectChannel([owner.user.id, mate.user.id]);
    const other = await owner.client.createTeam({name: unique('other-'), display_name: 'Other', type: 'O'});
    const elsewhere = await owner.client.createChannel(channelInput(other.id));

    const ids = (await owner.client.getMyChannels(team.id)).map((ch) => ch.id);
    for (const id of [pub.id, priv.id, dm.id]) {
        assert.ok(ids.includes(id));
    }
    assert.ok(!ids.includes(elsewhere.id));
    assert.equal(ids.length, 5); // town-square, off-topic, pub, priv, dm

    const mates = (await mate.client.getMyChannels(team.id)).map((ch) => ch.id);
    assert.ok(mates.includes(dm.id));
    assert.ok(!mates.includes(priv.id) && !mates.includes(pub.id));

    const route = (c, uid, tid) => `${c.getUserRoute(uid)}/teams/${tid}/channels`;
    await clientError(mate.client.doFetch(route(mate.client, owner.user.id, team.id), {method: 'get'}), 403,
        FORBIDDEN);
    await clientError(mate.client.getMyChannels(other.id), 403, FORBIDDEN);
    const {client: a} = await admin();
    const seen = await a.doFetch(route(a, owner.user.id, team.id), {method: 'get'});
    assert.equal(seen.length, 5);
    // direct channels belong to no team: they come with any team, even an unknown one
    assert.deepEqual((await a.doFetch(route(a, owner.user.id, NOBODY), {method: 'get'})).map((ch) => ch.id), [dm.id]);
    const loner = await newUser('myloner');
    await clientError(a.doFetch(route(a, loner.user.id, team.id), {method: 'get'}), 404,
        'app.channel.get_channels.not_found.app_error');
    await clientError(owner.client.getMyChannels('bad'), 400, 'api.context.invalid_url_param.app_error');
    await clientError(client().getMyChannels(team.id), 401, 'api.context.session_expired.app_error');
});

test('getChannelMembers pages: per_page, last page, past the end, defaults', T, async () => {
    const {owner, team} = await teamWithTwo('pg');
    const ch = await owner.client.createChannel(channelInput(team.id));
    const users = await Promise.all([1, 2, 3, 4].map((i) => newUser(`pg${i}`)));
    for (const u of users) {
        await owner.client.addToTeam(team.id, u.user.id);
        await owner.client.addToChannel(u.user.id, ch.id);
    }
    const all = await owner.client.getChannelMembers(ch.id);
    assert.equal(all.length, 5);
    const pages = [];
    for (let page = 0; page < 3; page++) {
        pages.push(await owner.client.getChannelMembers(ch.id, page, 2));
    }
    assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
    assert.deepEqual(pages.flat().map((m) => m.user_id), all.map((m) => m.user_id));
    assert.equal(new Set(pages.flat().map((m) => m.user_id)).size, 5);
    assert.deepEqual(await owner.client.getChannelMembers(ch.id, 3, 2), []);
    assert.deepEqual(await owner.client.getChannelMembers(ch.id, 0, 0), []);
    assert.equal((await owner.client.getChannelMembers(ch.id, 0, 1000)).length, 5);
    const url = owner.client.getChannelMembersRoute(ch.id);
    assert.equal((await owner.client.doFetch(`${url}?page=x&per_page=-3`, {method: 'get'})).length, 5);
    await clientError(owner.client.getChannelMembers(NOBODY), 404, 'app.channel.get.existing.app_error');
    await clientError(client().getChannelMembers(ch.id), 401, 'api.context.session_expired.app_error');
});
