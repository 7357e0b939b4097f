#!/usr/bin/env node
// Garbage for a chorus node's cluster ports (tests/integration/test_cluster_sealed.sh):
//   node garbage.js HOST GOSSIP_PORT STREAMING_PORT UDP_COUNT TCP_COUNT CLUSTER_NAME [KEY_BASE64 [S|A]]
// UDP_COUNT datagrams to the gossip port and TCP_COUNT connections to the
// streaming port, each of a kind taken in turn:
//   UDP: random bytes of random sizes (0 to 60000), the envelope magics
//        ("CH", "CHS", "CHA", "CHP") followed by random bytes, an unkeyed
//        plain envelope (as chorus sent before every envelope was
//        authenticated) with the right cluster name around random msgpack,
//        one with a wrong name or a name length past the end, and, given the
//        cluster key, envelopes made with the real key in the node's mode
//        (S sealed, the default, or A authenticated) around random msgpack
//        (they pass the envelope and reach the SWIM decoder), some with a
//        wall time outside the replay window.
//   TCP: random bytes, a huge length prefix, a valid-looking length with
//        that much garbage (several frames), a valid-looking length with
//        fewer bytes then EOF, a zero-length frame, framed "CHS"/"CHA"/"CHP"
//        envelopes of garbage, framed keyed random msgpack (with the key),
//        and connections closed at once.
// Prints one line of JSON with what it sent.  Exits 0 unless it cannot run.
"use strict";
const crypto = require("crypto");
const dgram = require("dgram");
const net = require("net");

const [host, gossipPort, streamingPort, udpCount, tcpCount, clusterName, keyB64, mode = "S"] = process.argv.slice(2);
if (!clusterName || !["S", "A"].includes(mode)) {
    console.error("usage: garbage.js HOST GOSSIP_PORT STREAMING_PORT UDP_COUNT TCP_COUNT CLUSTER_NAME [KEY_BASE64 [S|A]]");
    process.exit(2);
}
const key = keyB64 ? Buffer.from(keyB64, "base64") : null;
const rnd = (n) => crypto.randomBytes(n);
const int = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));
const name = Buffer.from(clusterName);

// Random msgpack: nested arrays and maps of ints, strings, bins, nil, bools.
function mp(depth) {
    const k = int(0, depth > 3 ? 6 : 9);
    switch (k) {
        case 0: return Buffer.from([int(0, 0x7f)]); // positive fixint
        case 1: return Buffer.from([0xcf, ...rnd(8)]); // uint64
        case 2: { const s = rnd(int(0, 40)); return Buffer.concat([Buffer.from([0xd9, s.length]), s]); } // str8
        case 3: { const b = rnd(int(0, 300)); return Buffer.concat([Buffer.from([0xc5, b.length >> 8, b.length & 255]), b]); } // bin16
        case 4: return Buffer.from([0xc0 + int(0, 3)]); // nil, (never used), false, true
        case 5: return Buffer.from([0xdd, ...rnd(4)]); // array32 with a random (huge) count, no items
        case 6: return rnd(int(1, 8)); // anything
        case 7: case 8: { // fixarray, the first item a small message type
            const n = int(0, 15), items = [Buffer.from([0x90 | n])];
            for (let i = 0; i < n; i++) items.push(i === 0 ? Buffer.from([int(0, 9)]) : mp(depth + 1));
            return Buffer.concat(items);
        }
        default: { // fixmap
            const n = int(0, 15), items = [Buffer.from([0x80 | n])];
            for (let i = 0; i < 2 * n; i++) items.push(mp(depth + 1));
            return Buffer.concat(items);
        }
    }
}
const message = () => (Math.random() < 0.8 ? Buffer.concat([Buffer.from([0x90 | int(1, 6), int(0, 9)]), mp(1), mp(1), mp(1)]) : mp(0));

const plain = (payload, n = name) => Buffer.concat([Buffer.from("CHP"), Buffer.from([n.length]), n, payload]);
let counter = 0;
const epoch = Date.now();
// An envelope of the node's mode: the text encrypted (S) or only
// authenticated (A: additional data, GCM makes just the tag).
function sealed(payload, skewMs = 0) {
    const magic = Buffer.from("CH" + mode);
    if (!key) return Buffer.concat([magic, rnd(12), payload, rnd(16)]);
    const header = Buffer.alloc(26 + 24);
    // a well-formed sender id ([a-z0-9]{26}) of no node: a new sender each time
    Buffer.from("zz" + crypto.randomBytes(12).toString("hex")).copy(header, 0);
    header.writeBigUInt64BE(BigInt(epoch), 26);
    header.writeBigUInt64BE(BigInt(++counter), 34);
    header.writeBigUInt64BE(BigInt(Date.now() + skewMs), 42);
    const nonce = rnd(12);
    const cipher = crypto.createCipheriv(`aes-${key.length * 8}-gcm`, key, nonce);
    const text = Buffer.concat([header, payload]);
    let body = text;
    if (mode === "S") {
        cipher.setAAD(Buffer.concat([magic, name]));
        body = Buffer.concat([cipher.update(text), cipher.final()]);
    } else {
        cipher.setAAD(Buffer.concat([magic, name, text]));
        cipher.final();
    }
    return Buffer.concat([magic, nonce, body, cipher.getAuthTag()]);
}

const udpKinds = [
    () => rnd(int(0, 1400)),
    () => rnd(int(1400, 60000)),
    () => Buffer.concat([Buffer.from("CH"), rnd(int(0, 200))]),
    () => Buffer.concat([Buffer.from(["CHS", "CHA"][int(0, 1)]), rnd(int(0, 1400))]),
    () => plain(message()),
    () => plain(message(), Buffer.from("not-" + clusterName)),
    () => Buffer.concat([Buffer.from("CHP"), Buffer.from([255]), name]), // name length past the end
    () => sealed(message()),
    () => sealed(message(), (Math.random() < 0.5 ? -1 : 1) * 120000), // outside the clock window
    () => sealed(rnd(int(0, 600))),
];

function sendUdp(total) {
    return new Promise((resolve) => {
        const sock = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
        let sent = 0, errors = 0, i = 0;
        sock.on("error", () => errors++);
        const batch = () => {
            for (let j = 0; j < 100 && i < total; j++, i++) {
                const packet = udpKinds[i % udpKinds.length]();
                sock.send(packet, Number(gossipPort), host, (err) => (err ? errors++ : sent++));
            }
            if (i < total) setTimeout(batch, 15);
            else setTimeout(() => { sock.close(); resolve({ sent, errors }); }, 200);
        };
        batch();
    });
}

const frame = (body, len = body.length) => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(len >>> 0);
    return Buffer.concat([h, body]);
};
const tcpKinds = [
    () => rnd(int(1, 8192)),
    () => frame(rnd(int(0, 1000)), [0xffffffff, 0x80000000, 0x7fffffff, 300000][int(0, 3)]),
    () => Buffer.concat(Array.from({ length: int(1, 5) }, () => frame(rnd(int(16, 4096))))),
    () => { const len = int(1000, 200000); return frame(rnd(int(0, len - 1)), len); }, // truncated, then EOF
    () => frame(Buffer.alloc(0)),
    () => frame(Buffer.concat([Buffer.from(["CHS", "CHA"][int(0, 1)]), rnd(int(0, 4096))])),
    () => frame(plain(message())),
    () => Buffer.concat(Array.from({ length: int(1, 4) }, () => frame(sealed(message())))),
    () => null, // connect, close
];

function oneConnection(kind) {
    return new Promise((resolve) => {
        const r = { error: false, closedByPeer: false };
        const sock = net.connect({ host, port: Number(streamingPort) });
        const timer = setTimeout(() => sock.destroy(), 2000);
        sock.on("connect", () => {
            const data = tcpKinds[kind]();
            if (data) sock.write(data);
            sock.end();
        });
        sock.on("data", () => {});
        sock.on("end", () => (r.closedByPeer = true));
        sock.on("error", () => (r.error = true));
        sock.on("close", () => { clearTimeout(timer); resolve(r); });
    });
}

async function sendTcp(total, concurrency = 25) {
    let next = 0, done = 0, errors = 0, closedByPeer = 0;
    const worker = async () => {
        while (next < total) {
            const r = await oneConnection(next++ % tcpKinds.length);
            done++;
            errors += r.error;
            closedByPeer += r.closedByPeer;
        }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { connections: done, errors, closedByPeer };
}

(async () => {
    const [udp, tcp] = await Promise.all([sendUdp(Number(udpCount)), sendTcp(Number(tcpCount))]);
    console.log(JSON.stringify({ udp, tcp }));
})();
