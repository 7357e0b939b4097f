// bench/resume/resume.mjs: the client side of bench/resume.sh.
//
//   node resume.mjs setup '<json>'   creates N users through the admin API,
//       adds each to the team and the channel, logs each in once (bcrypt:
//       `concurrency` at a time) and writes [{id, token}] to `out`.
//       {url, token, team, channel, n, concurrency, out}
//       Prints `users=N create_ms=.. login_ms=..`.
//
//   node resume.mjs round '<json>'   one round of one mode.
//       {mode: local|cross, users, wsA, wsTarget, postUrl, token, channel, k,
//        round, quietMs, settleMs, timeoutMs, lat}
//       Every user opens a resumable socket on node a (?connection_id=&
//       sequence_number=0, Authorization: Bearer) and gets its hello; once no
//       frame has arrived for quietMs, every socket is closed by the client
//       (each waits for the server's close frame); K posts go into the
//       channel through postUrl (node a) one after the other; then every
//       socket reconnects at once (a burst) to wsTarget with its
//       connection_id and next sequence_number.  Latency of one reconnect:
//       from `new WebSocket` until its K-th missed `posted`.  After every
//       socket is done (or timeoutMs), settleMs more to catch late or
//       duplicate frames, then each is judged:
//         fresh     a hello came (it was not resumed);
//         resumed   no hello, the K posts exactly once and in order, every
//                   event's seq continuing from the old next seq without a
//                   gap or a repeat (other events in between are allowed,
//                   counted as `other`);
//         wrong     anything else (the first reason is counted).
//       Appends the resumed sockets' latencies (ms) to `lat`, one a line,
//       and prints one key=value line.
//
//   node resume.mjs fresh '<json>'   unknown ids: {users, wsTarget, n, timeoutMs, lat}
//       n sockets at once to wsTarget with a random unknown connection_id
//       (26 lowercase alphanumerics) and sequence_number=1: time to hello,
//       which must carry a new connection_id.  Appends latencies to `lat`.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

// `ws` from the directory bench/resume.sh found it in (RESUME_WS_DIR).
const WebSocket = createRequire(`${process.env.RESUME_WS_DIR ?? '.'}/`)('ws');

const [mode, arg] = process.argv.slice(2);
const cfg = JSON.parse(arg ?? '{}');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

async function api(url, token, method, path, body) {
    const res = await fetch(`${url}/api/v4${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    return { res, json: text ? JSON.parse(text) : null };
}

// pool ITEMS FN C: FN over ITEMS, C at a time.
async function pool(items, fn, c) {
    let next = 0;
    const out = new Array(items.length);
    await Promise.all(
        Array.from({ length: Math.min(c, items.length) }, async () => {
            while (next < items.length) {
                const i = next++;
                out[i] = await fn(items[i], i);
            }
        }),
    );
    return out;
}

function pct(sorted, p) {
    if (sorted.length === 0) return 'NA';
    return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)].toFixed(1);
}

async function setup() {
    const t0 = now();
    const stamp = randomBytes(3).toString('hex');
    const made = await pool(
        Array.from({ length: cfg.n }, (_, i) => i),
        async (i) => {
            const username = `r${stamp}u${String(i).padStart(5, '0')}`;
            const password = `pw-${username}`;
            const { json: u } = await api(cfg.url, cfg.token, 'POST', '/users', {
                username,
                email: `${username}@example.com`,
                password,
            });
            await api(cfg.url, cfg.token, 'POST', `/teams/${cfg.team}/members`, { team_id: cfg.team, user_id: u.id });
            await api(cfg.url, cfg.token, 'POST', `/channels/${cfg.channel}/members`, { user_id: u.id });
            return { id: u.id, username, password };
        },
        cfg.concurrency,
    );
    const t1 = now();
    const users = await pool(
        made,
        async (u) => {
            const res = await fetch(`${cfg.url}/api/v4/users/login`, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ login_id: u.username, password: u.password }),
            });
            await res.text();
            const token = res.headers.get('token');
            if (res.status !== 200 || !token) throw new Error(`login ${u.username}: HTTP ${res.status}`);
            return { id: u.id, token };
        },
        cfg.concurrency,
    );
    fs.writeFileSync(cfg.out, JSON.stringify(users));
    console.log(`users=${users.length} create_ms=${Math.round(t1 - t0)} login_ms=${Math.round(now() - t1)}`);
}

// A socket and what it received: events (frames without seq_reply) with
// their arrival time.
let lastFrameAt = 0;
class Sock {
    constructor(url, token, onEvent) {
        this.t0 = now();
        this.events = [];
        this.closed = new Promise((r) => (this.onClosed = r));
        this.error = null;
        this.ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false });
        this.ws.on('message', (d) => {
            const t = now();
            lastFrameAt = t;
            let f;
            try {
                f = JSON.parse(d.toString());
            } catch {
                f = { event: '?unparsable' };
            }
            if (f.seq_reply !== undefined) return;
            const e = { event: f.event, seq: f.seq, t };
            if (f.event === 'posted') {
                try {
                    e.post = JSON.parse(f.data.post).id;
                } catch {
                    e.post = '?';
                }
            }
            if (f.event === 'hello') e.cid = f.data?.connection_id;
            this.events.push(e);
            onEvent?.(this, e);
        });
        this.ws.on('error', (err) => (this.error ??= String(err.message ?? err)));
        this.ws.on('close', () => this.onClosed());
    }
}

// until FN TIMEOUT: FN() true, polled every 5 ms; false on timeout.
async function until(fn, ms) {
    const end = now() + ms;
    while (!fn()) {
        if (now() > end) return false;
        await sleep(5);
    }
    return true;
}

async function closeAll(socks, ms) {
    for (const s of socks) s.ws.close(1000);
    const all = Promise.all(socks.map((s) => s.closed));
    const ok = await Promise.race([all.then(() => true), sleep(ms).then(() => false)]);
    if (!ok) for (const s of socks) s.ws.terminate();
    return ok;
}

async function round() {
    const users = JSON.parse(fs.readFileSync(cfg.users, 'utf8'));
    const K = cfg.k;

    // 1. a resumable socket per user on node a, hello, then quiet
    const first = users.map((u) => new Sock(`${cfg.wsA}?connection_id=&sequence_number=0`, u.token));
    if (!(await until(() => first.every((s) => s.events.some((e) => e.event === 'hello')), cfg.timeoutMs))) {
        const n = first.filter((s) => !s.events.some((e) => e.event === 'hello')).length;
        throw new Error(`${n} of ${first.length} first sockets got no hello`);
    }
    await until(() => now() - lastFrameAt >= cfg.quietMs, 10000);
    const old = first.map((s) => {
        const last = s.events[s.events.length - 1];
        return { cid: s.events.find((e) => e.event === 'hello').cid, next: last.seq + 1 };
    });

    // 2. every socket closed by the client
    if (!(await closeAll(first, 10000))) throw new Error('the first sockets did not all close within 10 s');

    // 3. K posts through node a
    const posts = [];
    const tp = now();
    for (let i = 0; i < K; i++) {
        const { json } = await api(cfg.postUrl, cfg.token, 'POST', '/posts', {
            channel_id: cfg.channel,
            message: `resume round ${cfg.round} ${cfg.mode} post ${i + 1} of ${K}`,
        });
        posts.push(json.id);
    }
    const postMs = now() - tp;
    const want = new Set(posts);

    // 4. the burst of reconnects
    let pending = users.length;
    const done = new Array(users.length).fill(null);
    const tb = now();
    const socks = users.map((u, i) => {
        let got = 0;
        return new Sock(`${cfg.wsTarget}?connection_id=${old[i].cid}&sequence_number=${old[i].next}`, u.token,
            (s, e) => {
                if (e.event === 'posted' && want.has(e.post) && ++got === K && done[i] === null) {
                    done[i] = e.t - s.t0;
                    pending--;
                }
                if (e.event === 'hello' && done[i] === null) {
                    done[i] = -1; // fresh: not a resume
                    pending--;
                }
            });
    });
    await until(() => pending === 0, cfg.timeoutMs);
    const burstMs = now() - tb;
    await sleep(cfg.settleMs);

    // 5. judge each
    let resumed = 0, fresh = 0, wrong = 0, other = 0, lateDone = 0;
    const reasons = {}, others = {};
    const lat = [];
    // why socket I is not a clean resume (null: it is)
    const judge = (s, i) => {
        const ev = s.events;
        const seqs = ev.map((e) => e.seq);
        const got = ev.filter((e) => e.event === 'posted').map((e) => e.post);
        if (ev.length === 0) return s.error ? 'error' : 'nothing';
        if (!seqs.every((q, j) => q === old[i].next + j)) return new Set(seqs).size < seqs.length ? 'seq_repeated' : 'seq_gap';
        if (got.length > new Set(got).size) return 'post_twice';
        if (got.length < K) return 'post_missing';
        if (got.length > K || got.some((p) => !want.has(p))) return 'post_extra';
        if (got.some((p, j) => p !== posts[j])) return 'post_order';
        if (done[i] === null || done[i] < 0) return 'timeout';
        return null;
    };
    socks.forEach((s, i) => {
        const ev = s.events;
        const what = `${old[i].cid} of ${users[i].id} at ${old[i].next}`;
        if (ev.some((e) => e.event === 'hello')) {
            fresh++;
            console.error(`fresh: ${what}: hello after ${Math.round(ev.find((e) => e.event === 'hello').t - s.t0)} ms`);
            return;
        }
        for (const e of ev) if (e.event !== 'posted') others[e.event] = (others[e.event] ?? 0) + 1;
        const why = judge(s, i);
        if (why !== null) {
            wrong++;
            reasons[why] = (reasons[why] ?? 0) + 1;
            console.error(`wrong: ${what}: ${why}: ${ev.map((e) => `${e.event}#${e.seq}`).join(' ') || '-'}` +
                (s.error ? ` (${s.error})` : ''));
            return;
        }
        resumed++;
        other += ev.length - K;
        lat.push(done[i]);
    });
    for (const d of done) if (d === null) lateDone++;
    lat.sort((a, b) => a - b);
    fs.appendFileSync(cfg.lat, lat.map((v) => v.toFixed(3)).join('\n') + (lat.length ? '\n' : ''));
    await closeAll(socks, 5000);

    const kv = (o) => Object.entries(o).map(([k, v]) => `${k}:${v}`).join(',') || '-';
    console.log(
        `mode=${cfg.mode} round=${cfg.round} n=${users.length} k=${K} resumed=${resumed} fresh=${fresh} wrong=${wrong}` +
            ` p50_ms=${pct(lat, 0.5)} p99_ms=${pct(lat, 0.99)} max_ms=${lat.length ? lat[lat.length - 1].toFixed(1) : 'NA'}` +
            ` burst_ms=${Math.round(burstMs)} post_ms=${Math.round(postMs)} timed_out=${lateDone}` +
            ` other_events=${other} other=${kv(others)} reasons=${kv(reasons)}`,
    );
}

async function freshRound() {
    const users = JSON.parse(fs.readFileSync(cfg.users, 'utf8')).slice(0, cfg.n);
    const alnum = 'abcdefghijklmnopqrstuvwxyz0123456789';
    const ids = users.map(() => Array.from(randomBytes(26), (b) => alnum[b % 36]).join(''));
    const times = new Array(users.length).fill(null);
    let pending = users.length;
    let sameId = 0;
    const socks = users.map((u, i) => new Sock(`${cfg.wsTarget}?connection_id=${ids[i]}&sequence_number=1`, u.token,
        (s, e) => {
            if (e.event === 'hello' && times[i] === null) {
                times[i] = e.t - s.t0;
                if (e.cid === ids[i]) sameId++;
                pending--;
            }
        }));
    await until(() => pending === 0, cfg.timeoutMs);
    await closeAll(socks, 5000);
    const lat = times.filter((v) => v !== null).sort((a, b) => a - b);
    fs.appendFileSync(cfg.lat, lat.map((v) => v.toFixed(3)).join('\n') + (lat.length ? '\n' : ''));
    console.log(`mode=fresh n=${users.length} hello=${lat.length} no_hello=${users.length - lat.length}` +
        ` same_id=${sameId} p50_ms=${pct(lat, 0.5)} max_ms=${lat.length ? lat[lat.length - 1].toFixed(1) : 'NA'}`);
}

const modes = { setup, round, fresh: freshRound };
if (!modes[mode]) {
    console.error('usage: resume.mjs setup|round|fresh JSON');
    process.exit(2);
}
modes[mode]().then(
    () => process.exit(0),
    (e) => {
        console.error(`resume.mjs ${mode}: ${e.stack ?? e}`);
        process.exit(1);
    },
);
