// Roles as data across a cluster (CHORUS_URLS=a,b,c): an admin takes
// create_public_channel from team_user through node A, and a team member's
// POST /channels is refused at once on node A and, as soon as role_updated
// reaches it, on node B; given back, it is allowed again.  Run alone by
// tests/integration/test_cluster.sh (every other test creates channels as a
// team_user).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {URLS, adminOn, clientError, sleep, teamWorld, unique, userOn} from '../lib.mjs';

const [A, B] = URLS;
const T = {timeout: 30000};

function channelInput(team, type = 'O') {
    const name = unique('rc-');
    return {team_id: team.id, name, display_name: name, type};
}

// Retries `fn` (which must reject with a 403) for up to `ms`: the change
// crosses nodes through the ring; returns how long it took.
async function refusedWithin(fn, ms) {
    const start = Date.now();
    for (;;) {
        try {
            await fn();
        } catch (e) {
            assert.equal(e.status_code, 403, `${e.server_error_id}: ${e.message}`);
            return Date.now() - start;
        }
        assert.ok(Date.now() - start < ms, `still allowed after ${ms} ms`);
        await sleep(20);
    }
}

test('taking create_public_channel from team_user refuses it at once, on every node', T, async (t) => {
    const admin = await adminOn(A);
    const alice = await userOn(A, 'ralice');
    const bob = await userOn(B, 'rbob');
    const {team} = await teamWorld(alice, {members: [bob], prefix: 'rteam-'});
    const role = await admin.getRoleByName('team_user');
    assert.ok(role.permissions.includes('create_public_channel'));
    // both nodes' workers have loaded the roles (and may create channels)
    await alice.client.createChannel(channelInput(team));
    await bob.client.createChannel(channelInput(team));

    const without = role.permissions.filter((p) => p !== 'create_public_channel');
    t.after(() => admin.patchRole(role.id, {permissions: role.permissions}));
    await admin.patchRole(role.id, {permissions: without});

    // node A (the patching node): the very next request
    await clientError(alice.client.createChannel(channelInput(team)), 403, 'api.context.permissions.app_error');
    // a private channel still may be created
    await alice.client.createChannel(channelInput(team, 'P'));
    // the web app reads roles by name (served from the workers' copies): the new list, on every worker
    for (let i = 0; i < 4; i++) {
        const [read] = await alice.client.getRolesByNames(['team_user']);
        assert.ok(!read.permissions.includes('create_public_channel'), 'roles by name after the patch');
    }
    // node B: as soon as the event crossed
    const ms = await refusedWithin(() => bob.client.createChannel(channelInput(team)), 2000);
    t.diagnostic(`refused on node B ${ms} ms after the patch answered`);
    const [onB] = await bob.client.getRolesByNames(['team_user']);
    assert.ok(!onB.permissions.includes('create_public_channel'), 'roles by name on node B');
    await clientError(bob.client.createChannel(channelInput(team)), 403, 'api.context.permissions.app_error');
    // a system admin's own roles still grant it
    const forAdmin = await admin.createChannel(channelInput(team));
    assert.equal(forAdmin.team_id, team.id);

    await admin.patchRole(role.id, {permissions: role.permissions});
    await alice.client.createChannel(channelInput(team));
    const start = Date.now();
    for (;;) {
        try {
            await bob.client.createChannel(channelInput(team));
            break;
        } catch (e) {
            assert.equal(e.status_code, 403);
            assert.ok(Date.now() - start < 2000, 'node B still refuses 2 s after the permission came back');
            await sleep(20);
        }
    }
});
