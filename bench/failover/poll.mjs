// bench/failover/poll.mjs: the fast side of bench/failover.sh.  Polls
// GET /api/v4/cluster/status on several nodes over keep-alive connections
// (Node's fetch), a few ms apart, instead of forking curl per poll.
//
//   node poll.mjs green '<json>'   until every node sees COUNT members, all
//       green, and all agree on one leader.  {urls, token, count, timeoutMs}
//       Prints `ms=.. leader=ID ids=ID,ID,..`; exit 1 on timeout.
//
//   node poll.mjs kill '<json>'    SIGKILLs a process group and measures how
//       the survivors see it.  {survivors: [{name, url}], token, pgid,
//       killedId, timeoutMs, pollMs, holdMs}
//       Warms one connection per survivor, checks they agree on a leader,
//       then t0 = now, kill(-pgid, SIGKILL), and polls every survivor in its
//       own loop (pollMs apart) until
//         detection: every survivor shows killedId red (or no longer lists it)
//         leader:    every survivor names the same leader, not killedId
//       then keeps polling holdMs more to catch flapping (the dead node shown
//       green again, the leader changing again).  Prints one key=value line:
//         detect_ms, detect_<name> (each survivor), killed_was_leader (0/1),
//         leader_before, leader_after, leader_expected (the lowest surviving
//         id if the killed node led, else the leader before), leader_ms (0
//         when the killed node did not lead), leader_changes (per survivor,
//         '/'-separated), unstable (count; each described on stderr), polls,
//         errors, timeout (1 when detection or agreement took > timeoutMs).
import { performance } from "node:perf_hooks";

const [mode, arg] = process.argv.slice(2);
const cfg = JSON.parse(arg ?? "{}");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function status(url, token) {
    const res = await fetch(`${url}/api/v4/cluster/status`, {
        headers: { Authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(2000),
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return res.json();
}

// leaderOf VIEW: the member flagged is_leader, null if none, "split" if several.
function leaderOf(view) {
    const l = view.filter((m) => m.is_leader);
    return l.length === 1 ? l[0].id : l.length === 0 ? null : "split";
}

async function green() {
    const t0 = performance.now();
    let last = {};
    while (performance.now() - t0 < cfg.timeoutMs) {
        const views = await Promise.all(cfg.urls.map((u) => status(u, cfg.token).catch((e) => ({ error: String(e) }))));
        last = views;
        const ok = views.every(
            (v) => Array.isArray(v) && v.length === cfg.count && v.every((m) => m.status === "green"),
        );
        const leaders = new Set(views.map((v) => (Array.isArray(v) ? leaderOf(v) : "?")));
        if (ok && leaders.size === 1 && !leaders.has(null) && !leaders.has("split")) {
            const ids = views[0].map((m) => m.id).sort();
            console.log(`ms=${Math.round(performance.now() - t0)} leader=${[...leaders][0]} ids=${ids.join(",")}`);
            return 0;
        }
        await sleep(20);
    }
    console.error("poll.mjs green: timeout; last views:", JSON.stringify(last));
    return 1;
}

async function kill() {
    const { survivors, token, pgid, killedId } = cfg;
    const pollMs = cfg.pollMs ?? 2;
    const holdMs = cfg.holdMs ?? 500;
    const timeoutMs = cfg.timeoutMs ?? 10000;

    // Warm the keep-alive connections and read the state before the kill.
    const before = await Promise.all(survivors.map((s) => status(s.url, token)));
    const leadersBefore = new Set(before.map(leaderOf));
    if (leadersBefore.size !== 1) throw new Error(`no agreed leader before the kill: ${[...leadersBefore]}`);
    const leaderBefore = [...leadersBefore][0];
    const ids = new Set(before[0].map((m) => m.id));
    if (!ids.has(killedId)) throw new Error(`${killedId} is not a member before the kill`);
    const expected = [...ids].filter((id) => id !== killedId).sort()[0];
    const killedWasLeader = leaderBefore === killedId;

    const st = survivors.map((s) => ({
        name: s.name,
        url: s.url,
        detectAt: null, // ms since the kill when this node first showed it red/gone
        leader: leaderBefore, // its latest view's leader
        leadersSeen: [leaderBefore],
        polls: 0,
        errors: 0,
    }));
    const unstable = [];
    let detectMs = null;
    let leaderMs = killedWasLeader ? null : 0;
    let doneAt = null;

    const t0 = performance.now();
    process.kill(-pgid, "SIGKILL");
    const since = () => performance.now() - t0;

    const agree = () => {
        const l = st[0].leader;
        return l !== null && l !== "split" && l !== killedId && st.every((s) => s.leader === l) ? l : null;
    };

    await Promise.all(
        st.map(async (s) => {
            while (true) {
                const t = since();
                if (t > timeoutMs || (doneAt !== null && t > doneAt + holdMs)) return;
                let view;
                try {
                    view = await status(s.url, token);
                } catch {
                    s.errors++;
                    await sleep(pollMs);
                    continue;
                }
                s.polls++;
                const at = since();
                const k = view.find((m) => m.id === killedId);
                const down = !k || k.status === "red";
                if (down && s.detectAt === null) s.detectAt = at;
                if (!down && s.detectAt !== null) unstable.push(`${s.name}: ${killedId} green again at ${Math.round(at)} ms`);
                const l = leaderOf(view);
                if (l !== s.leader) {
                    s.leader = l;
                    s.leadersSeen.push(l);
                    if (doneAt !== null) unstable.push(`${s.name}: leader changed to ${l} at ${Math.round(at)} ms`);
                }
                if (detectMs === null && st.every((x) => x.detectAt !== null)) detectMs = at;
                if (leaderMs === null && agree() !== null) leaderMs = at;
                if (doneAt === null && detectMs !== null && leaderMs !== null) doneAt = at;
                await sleep(pollMs);
            }
        }),
    );

    // One key=value line (the shell reads it); what was unstable on stderr.
    for (const u of unstable) console.error(`unstable: ${u}`);
    const r = (x) => (x === null ? "NA" : Math.round(x));
    const kv = {
        detect_ms: r(detectMs),
        ...Object.fromEntries(st.map((s) => [`detect_${s.name}`, r(s.detectAt)])),
        killed_was_leader: killedWasLeader ? 1 : 0,
        leader_before: leaderBefore,
        leader_after: agree() ?? "none",
        leader_expected: killedWasLeader ? expected : leaderBefore,
        leader_ms: r(leaderMs),
        leader_changes: st.map((s) => s.leadersSeen.length - 1).join("/"),
        unstable: unstable.length,
        polls: st.reduce((a, s) => a + s.polls, 0),
        errors: st.reduce((a, s) => a + s.errors, 0),
        timeout: detectMs === null || leaderMs === null ? 1 : 0,
    };
    console.log(
        Object.entries(kv)
            .map(([k, v]) => `${k}=${v}`)
            .join(" "),
    );
    return 0;
}

const run = { green, kill }[mode];
if (!run) {
    console.error("usage: node poll.mjs green|kill '<json>'");
    process.exit(2);
}
run().then(
    (rc) => process.exit(rc),
    (e) => {
        console.error(`poll.mjs ${mode}: ${e.message}`);
        process.exit(1);
    },
);
