// The npm `ws` package's WebSocket peer for tools/bench-ws.sh and ws-load (Node 20; `ws` is
// installed by `tools/deps.sh --node` into build/node).
//
// Usage: node ws_echo_node.js PORT
//   /echo  echoes text and binary messages (max message 16 MiB; permessage-deflate accepted
//          when the client offers it)
//   /sub   a subscriber: receives every published message
//   /pub   POST: sends the request body to every subscriber (text), answers 204
//   /chat  a WebSocket whose messages go to every /sub and /chat connection
// Listens on 127.0.0.1 only.
'use strict';
const http = require('http');
const path = require('path');
const { WebSocketServer } = require(path.join(__dirname, '../../build/node/node_modules/ws'));

const port = Number(process.argv[2] || 9011);
const subs = new Set();

function publish(data) {
  for (const s of subs) s.send(data);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/pub') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    publish(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(204).end();
  });
});

const wss = new WebSocketServer({
  noServer: true,
  maxPayload: 16 << 20,
  perMessageDeflate: true,
});

server.on('upgrade', (req, socket, head) => {
  const route = req.url;
  if (!['/echo', '/sub', '/chat'].includes(route)) {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (route === '/echo') {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      return;
    }
    subs.add(ws);
    ws.on('close', () => subs.delete(ws));
    if (route === '/chat') ws.on('message', (data) => publish(data.toString('utf8')));
  });
});

server.listen({ port, host: '127.0.0.1', backlog: 4096 });
