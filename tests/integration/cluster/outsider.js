#!/usr/bin/env node
// An outsider at a chorus node's streaming port (tests/integration/test_cluster_sealed.sh):
//   node outsider.js HOST STREAMING_PORT CLUSTER_NAME
// It knows the cluster name (ClusterSettings are no secret) but not the
// cluster key, and tries to become a peer three ways, one connection each:
//   plain:  a hello in the unkeyed envelope chorus used before every envelope
//           was authenticated ("CHP", the cluster name, the msgpack hello) —
//           enough, then, to receive the node's hello, state and every event;
//   forged: the same hello in an authenticated envelope ("CHA") made with a
//           key of its own;
//   silent: connects and says nothing, to see whether the node speaks first.
// For each it waits up to WAIT_MS and prints one line of JSON: the bytes the
// node sent and whether the node closed the connection.
"use strict";
const crypto = require("crypto");
const net = require("net");

const WAIT_MS = 2000;
const [host, port, clusterName] = process.argv.slice(2);
if (!clusterName) {
    console.error("usage: outsider.js HOST STREAMING_PORT CLUSTER_NAME");
    process.exit(2);
}
const name = Buffer.from(clusterName);
const fakeId = "zzzz" + crypto.randomBytes(11).toString("hex"); // [a-z0-9]{26}

// [1, node id, config digests (an empty map), node dialed ("")] in msgpack
const hello = Buffer.concat([Buffer.from([0x94, 0x01, 0xa0 | fakeId.length]), Buffer.from(fakeId), Buffer.from([0x80, 0xa0])]);

const frame = (body) => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(body.length);
    return Buffer.concat([h, body]);
};
const plain = (payload) => Buffer.concat([Buffer.from("CHP"), Buffer.from([name.length]), name, payload]);
function forged(payload) {
    const key = crypto.randomBytes(32), nonce = crypto.randomBytes(12), magic = Buffer.from("CHA");
    const header = Buffer.alloc(26 + 24);
    Buffer.from(fakeId).copy(header, 0);
    header.writeBigUInt64BE(BigInt(Date.now()), 26);
    header.writeBigUInt64BE(1n, 34);
    header.writeBigUInt64BE(BigInt(Date.now()), 42);
    const text = Buffer.concat([header, payload]);
    const cipher = crypto.createCipheriv("aes-256-gcm", key, nonce);
    cipher.setAAD(Buffer.concat([magic, name, text]));
    cipher.final();
    return Buffer.concat([magic, nonce, text, cipher.getAuthTag()]);
}

function attempt(data) {
    return new Promise((resolve) => {
        const r = { received: 0, closedByNode: false, error: false };
        const started = Date.now();
        const sock = net.connect({ host, port: Number(port) });
        const timer = setTimeout(() => sock.destroy(), WAIT_MS);
        sock.on("connect", () => { if (data) sock.write(data); });
        sock.on("data", (d) => (r.received += d.length));
        sock.on("end", () => { r.closedByNode = true; r.closedAfterMs = Date.now() - started; sock.destroy(); });
        sock.on("error", () => (r.error = true));
        sock.on("close", () => { clearTimeout(timer); resolve(r); });
    });
}

(async () => {
    const out = {
        plain: await attempt(frame(plain(hello))),
        forged: await attempt(frame(forged(hello))),
        silent: await attempt(null),
    };
    console.log(JSON.stringify(out));
})();
