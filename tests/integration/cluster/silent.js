#!/usr/bin/env node
// Connections that never say hello, for a chorus node's streaming port
// (tests/integration/test_cluster_sealed.sh):
//   node silent.js HOST STREAMING_PORT COUNT HOLD_MS
// Opens COUNT connections at once; each sends a frame header declaring a
// large frame (200,000 bytes) and 100 bytes of it, then waits, as a slow or
// hostile peer would.  After HOLD_MS it closes what is left and prints one
// line of JSON: how many connected and how many the node closed meanwhile.
"use strict";
const net = require("net");

const [host, port, count, holdMs] = process.argv.slice(2);
if (!holdMs) {
    console.error("usage: silent.js HOST STREAMING_PORT COUNT HOLD_MS");
    process.exit(2);
}
let connected = 0, closedByNode = 0, failed = 0;
const sockets = [];
for (let i = 0; i < Number(count); i++) {
    const s = net.connect(Number(port), host);
    let mine = false;
    s.on("connect", () => {
        connected++;
        const header = Buffer.alloc(4);
        header.writeUInt32BE(200000);
        s.write(Buffer.concat([header, Buffer.alloc(100, 7)]));
    });
    s.on("error", () => failed++);
    s.on("close", () => {
        if (!mine)
            closedByNode++;
    });
    s.on("data", () => {});
    sockets.push({s, close: () => { mine = true; s.destroy(); }});
}
setTimeout(() => {
    console.log(JSON.stringify({connected, closedByNode, failed}));
    for (const x of sockets)
        x.close();
    process.exit(0);
}, Number(holdMs));
