#!/usr/bin/env node
// bench/ref/server.js: the reference for bench/fanout.sh, a broadcast server on
// the npm `ws` package speaking the minimal slice of Mattermost's protocol that
// the fanout benchmark uses:
//   GET  /api/v4/websocket  upgrade with any `Authorization: Bearer <token>`;
//                           the socket gets a `hello` event (seq 0)
//   POST /api/v4/posts      {"channel_id", "message"} -> 201 with the Post;
//                           a `posted` event carrying the Post as a JSON string
//                           goes to every open socket, seq per socket
//   GET  /api/v4/system/ping  {"status":"OK"} (readiness)
//
// Node runs JavaScript on one thread, so a single process uses one core.
// `--workers K` (K > 1) starts a cluster of K processes sharing the port (the
// primary hands out connections round-robin); a post accepted by one worker is
// relayed through the primary to every worker, each of which writes it to its
// own sockets: the like-for-like comparison with chorus at WORKERS=K.
//
// Usage: node server.js [--port 18066] [--host 127.0.0.1] [--workers 1]
'use strict';

const cluster = require('node:cluster');
const crypto = require('node:crypto');
const http = require('node:http');
const os = require('node:os');
const { WebSocketServer } = require('ws');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const PORT = Number(arg('--port', process.env.PORT || 18066));
const HOST = arg('--host', '127.0.0.1');
const WORKERS = Math.max(1, Number(arg('--workers', process.env.WORKERS || 1)));

// Mattermost-looking ids: 26 characters of its base32 alphabet.
const ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';
function newId() {
  const b = crypto.randomBytes(26);
  let s = '';
  for (let i = 0; i < 26; i++) s += ALPHABET[b[i] & 31];
  return s;
}

function startPrimary() {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const workers = [];
  for (let i = 0; i < WORKERS; i++) {
    const w = cluster.fork();
    // relay: a worker that accepted a post sends its event prefix; all get it.
    w.on('message', (m) => {
      if (m && m.t === 'posted') for (const o of workers) o.send(m);
    });
    workers.push(w);
  }
  cluster.on('exit', (w, code, sig) => {
    console.error(`ref: worker ${w.process.pid} exited (${sig || code})`);
    process.exit(1);
  });
  const stop = () => { for (const w of workers) w.process.kill('SIGTERM'); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function startServer() {
  const hostname = os.hostname();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  const sockets = new Set();

  // The envelope is built once per event; only `seq` differs per socket.
  function broadcast(prefix) {
    for (const ws of sockets) {
      if (ws.readyState === 1) ws.send(prefix + (ws.seq++) + '}');
    }
  }

  wss.on('connection', (ws) => {
    ws.seq = 0;
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => sockets.delete(ws));
    ws.on('message', () => {}); // client actions are not part of this benchmark
    const hello = {
      event: 'hello',
      data: { server_version: 'ref.ws', connection_id: newId(), server_hostname: hostname },
      broadcast: { omit_users: null, user_id: '', channel_id: '', team_id: '', connection_id: '', omit_connection_id: '' },
    };
    ws.send(JSON.stringify(hello).slice(0, -1) + ',"seq":' + (ws.seq++) + '}');
  });

  function send(res, status, obj, extra) {
    const body = JSON.stringify(obj);
    res.writeHead(status, Object.assign({ 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, extra));
    res.end(body);
  }

  function createPost(req, res) {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; if (size <= 300000) chunks.push(c); });
    req.on('end', () => {
      let body;
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) { body = null; }
      if (!body || typeof body.channel_id !== 'string' || typeof body.message !== 'string') {
        send(res, 400, { id: 'api.context.invalid_body_param.app_error', message: 'Invalid or missing post in request body.', detailed_error: '', request_id: newId(), status_code: 400 });
        return;
      }
      const now = Date.now();
      const post = {
        id: newId(), create_at: now, update_at: now, edit_at: 0, delete_at: 0, is_pinned: false,
        user_id: 'refbenchuser00000000000000', channel_id: body.channel_id, root_id: '', original_id: '',
        message: body.message, type: '', props: {}, hashtags: '', file_ids: [],
        pending_post_id: body.pending_post_id || '', reply_count: 0, last_reply_at: 0, metadata: {},
      };
      const event = {
        event: 'posted',
        data: {
          channel_display_name: 'Bench', channel_name: 'bench', channel_type: 'O',
          post: JSON.stringify(post), sender_name: '@bench', set_online: true, team_id: '',
        },
        broadcast: { omit_users: null, user_id: '', channel_id: body.channel_id, team_id: '', connection_id: '', omit_connection_id: '' },
      };
      const prefix = JSON.stringify(event).slice(0, -1) + ',"seq":';
      send(res, 201, post);
      if (cluster.isWorker) process.send({ t: 'posted', prefix });
      else broadcast(prefix);
    });
  }

  const server = http.createServer((req, res) => {
    const path = req.url.split('?')[0];
    if (req.method === 'POST' && path === '/api/v4/posts') return createPost(req, res);
    if (req.method === 'GET' && path === '/api/v4/system/ping') return send(res, 200, { status: 'OK' });
    send(res, 404, { id: 'api.context.404.app_error', message: 'Sorry, we could not find the page.', detailed_error: '', request_id: newId(), status_code: 404 });
  });
  server.keepAliveTimeout = 60000;
  server.headersTimeout = 65000;

  server.on('upgrade', (req, socket, head) => {
    const auth = req.headers.authorization || '';
    if (req.url.split('?')[0] !== '/api/v4/websocket' || !/^bearer\s+\S+/i.test(auth)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  if (cluster.isWorker) process.on('message', (m) => { if (m && m.t === 'posted') broadcast(m.prefix); });
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
  server.listen(PORT, HOST, 4096, () => {
    if (!cluster.isWorker) console.error(`ref: listening on ${HOST}:${PORT}, 1 process (single-threaded)`);
  });
}

if (WORKERS > 1 && cluster.isPrimary) {
  console.error(`ref: listening on ${HOST}:${PORT}, cluster of ${WORKERS} workers`);
  startPrimary();
} else {
  startServer();
}
