// The npm `ws` package (v8, in build/node) as a peer of our WebSocket code (tests/peers).
//
//   node ws_peer.js client SCENARIO URL [MODE]
//       runs one scenario against an echo server (build/examples/wsecho) and exits 0, or
//       prints what went wrong and exits 1. MODE: the client's compression (clientDeflate).
//   node ws_peer.js server PORT_FILE [plain|deflate|deflate-strict][-frag]
//       an echo server (text as text, binary as binary, 32 MiB messages) on 127.0.0.1, port 0;
//       writes the port to PORT_FILE once listening; runs until killed. deflate-strict asks
//       for no context takeover both ways and small windows; a MODE ending in -frag echoes
//       in three fragments with pings before and between them.
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");

const NODE_MODULES = process.env.WS_NODE_MODULES ||
    path.join(__dirname, "..", "..", "build", "node", "node_modules");
const WebSocket = require(path.join(NODE_MODULES, "ws"));

const BIG = 16 << 20;

function fail(msg) {
    console.error("ws_peer: " + msg);
    process.exit(1);
}

// Resolves once the socket is open; rejects on error or an early close.
function open(url, deflate, opts = {}) {
    return new Promise((resolve, reject) => {
        const ws = new WebSocket(url, {perMessageDeflate: deflate, maxPayload: 64 << 20, ...opts});
        ws.once("upgrade", (res) => { ws.answer = res.headers["sec-websocket-extensions"] || ""; });
        ws.once("open", () => resolve(ws));
        ws.once("error", reject);
        ws.once("unexpected-response", (req, res) => reject(new Error("status " + res.statusCode)));
    });
}

// The next message: {data: Buffer, isBinary}.
function next(ws) {
    return new Promise((resolve, reject) => {
        const onMsg = (data, isBinary) => { cleanup(); resolve({data, isBinary}); };
        const onClose = (code, reason) => {
            cleanup();
            reject(new Error("closed (" + code + " " + reason + ") while waiting for a message"));
        };
        const cleanup = () => { ws.off("message", onMsg); ws.off("close", onClose); };
        ws.on("message", onMsg);
        ws.on("close", onClose);
    });
}

function closed(ws) {
    return new Promise((resolve) => {
        if (ws.readyState === WebSocket.CLOSED)
            return resolve({code: ws._closeCode, reason: ""});
        ws.once("close", (code, reason) => resolve({code, reason: reason.toString()}));
    });
}

function expectEqual(got, want, isBinary, what) {
    const w = Buffer.isBuffer(want) ? want : Buffer.from(want);
    if (got.isBinary !== isBinary)
        fail(what + ": echoed as " + (got.isBinary ? "binary" : "text"));
    if (!got.data.equals(w))
        fail(what + ": echo differs (" + got.data.length + " bytes, sent " + w.length + ")");
}

async function echo(ws, data, isBinary, what, opts = {}) {
    const p = next(ws);
    ws.send(data, {binary: isBinary, ...opts});
    expectEqual(await p, data, isBinary, what);
}

// n bytes of text: a few multi-byte characters, then random ASCII letters.
function text(n) {
    const head = Buffer.from("h\u00e9 \u2603 ");
    const abc = Buffer.from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .");
    const b = crypto.randomBytes(n);
    for (let i = 0; i < n; i++)
        b[i] = i < head.length ? head[i] : abc[b[i] & 63];
    return b.toString("utf8");
}

async function closeWith(ws, code, reason) {
    const c = closed(ws);
    ws.close(code, reason);
    const got = await c;
    if (got.code !== code)
        fail("close: the server answered " + got.code + ", not " + code);
}

const scenarios = {
    // Text, binary, empty and multi-byte messages, and the negotiated extension.
    async basic(url, deflate) {
        const ws = await open(url, deflate);
        const ext = ws.answer; // the server's Sec-WebSocket-Extensions
        if (deflate && !ext.includes("permessage-deflate"))
            fail("permessage-deflate was not accepted (extensions: '" + ext + "')");
        if (!deflate && ext)
            fail("an extension was negotiated without an offer: " + ext);
        const want = [];
        if (deflate.serverNoContextTakeover)
            want.push("server_no_context_takeover", "client_no_context_takeover");
        if (deflate.serverMaxWindowBits)
            want.push("server_max_window_bits=" + deflate.serverMaxWindowBits,
                      "client_max_window_bits=" + deflate.clientMaxWindowBits);
        for (const w of want)
            if (!ext.includes(w))
                fail("the answer '" + ext + "' lacks " + w);
        await echo(ws, "hello", false, "text");
        await echo(ws, "", false, "empty text");
        await echo(ws, Buffer.alloc(0), true, "empty binary");
        await echo(ws, "h\u00e9llo \u2603 \u{1d11e}", false, "multi-byte text");
        await echo(ws, crypto.randomBytes(1000), true, "binary 1000");
        await echo(ws, crypto.randomBytes(70000), true, "binary 70000 (64-bit length)");
        for (let i = 0; i < 50; i++) // context takeover across many small messages
            await echo(ws, "message number " + i + " " + "x".repeat(i), false, "text " + i);
        await closeWith(ws, 1000, "");
    },
    // Messages sent in fragments (send(data, {fin: false}) then the last with fin: true),
    // compressed as one message when deflate is on.
    async fragmented(url, deflate) {
        const ws = await open(url, deflate);
        const p = next(ws);
        ws.send("frag", {fin: false});
        ws.send("men", {fin: false});
        ws.send("ted", {fin: true});
        expectEqual(await p, "fragmented", false, "text in 3 fragments");
        const parts = [crypto.randomBytes(10), crypto.randomBytes(100000), Buffer.alloc(0),
                       crypto.randomBytes(3)];
        const q = next(ws);
        parts.forEach((b, i) => ws.send(b, {binary: true, fin: i === parts.length - 1}));
        expectEqual(await q, Buffer.concat(parts), true, "binary in 4 fragments");
        // A ping between fragments: the pong comes back, the message is whole.
        const pong = new Promise((r) => ws.once("pong", r));
        const m = next(ws);
        ws.send("a", {fin: false});
        ws.ping("between");
        ws.send("b", {fin: true});
        const pd = await pong;
        if (pd.toString() !== "between")
            fail("pong data: " + pd);
        expectEqual(await m, "ab", false, "text around a ping");
        await closeWith(ws, 1000, "");
    },
    // 16 MiB messages (wsecho's limit), text and binary, whole and fragmented.
    async big(url, deflate) {
        const ws = await open(url, deflate);
        await echo(ws, text(BIG), false, "16 MiB text");
        // The limit counts the bytes on the wire too (as Tornado's and python-websockets'
        // do), and random bytes grow when deflated (5 bytes a stored block): 1/64 of room.
        const b = crypto.randomBytes(deflate ? BIG - BIG / 64 : BIG);
        await echo(ws, b, true, "16 MiB random binary");
        const z = Buffer.alloc(BIG, 0x41); // compresses to almost nothing
        await echo(ws, z, true, "16 MiB of one byte");
        const q = next(ws);
        for (let i = 0; i < 16; i++)
            ws.send(b.subarray(i << 20, Math.min((i + 1) << 20, b.length)), {binary: true, fin: i === 15});
        expectEqual(await q, b, true, "16 MiB binary in 16 fragments");
        await closeWith(ws, 1000, "");
    },
    // One byte over the limit: the server closes with 1009.
    async too_big(url, deflate) {
        const ws = await open(url, deflate);
        const c = closed(ws);
        ws.send(Buffer.alloc(BIG + 1, 0x42));
        const got = await c;
        if (got.code !== 1009)
            fail("16 MiB + 1: closed with " + got.code + ", not 1009");
    },
    // Pings with data (empty, 125 bytes) come back as pongs with the same data.
    async ping(url, deflate) {
        const ws = await open(url, deflate);
        for (const d of [Buffer.alloc(0), Buffer.from("hi"), crypto.randomBytes(125)]) {
            const p = new Promise((r) => ws.once("pong", r));
            ws.ping(d);
            const got = await p;
            if (!got.equals(d))
                fail("pong of " + d.length + " bytes carried " + got.length);
        }
        await closeWith(ws, 1000, "");
    },
    // Close codes and reasons: the server answers with the same code.
    async close_codes(url, deflate) {
        for (const [code, reason] of [[1000, ""], [1001, "going"], [3000, "app"],
                                      [4999, "r".repeat(123)]]) {
            const ws = await open(url, deflate);
            await echo(ws, "before close", false, "text");
            await closeWith(ws, code, reason);
        }
        const ws = await open(url, deflate); // no code at all: 1005 both ways
        const c = closed(ws);
        ws.close();
        const got = await c;
        if (got.code !== 1005)
            fail("empty close: got " + got.code);
    },
    // Many connections at once, each echoing messages interleaved with the others.
    async many(url, deflate) {
        const conns = await Promise.all(Array.from({length: 100}, () => open(url, deflate)));
        await Promise.all(conns.map(async (ws, i) => {
            for (let k = 0; k < 20; k++)
                await echo(ws, "conn " + i + " message " + k, k % 2 === 1, "conn " + i);
        }));
        await Promise.all(conns.map((ws) => closeWith(ws, 1000, "")));
    },
};

function server(portFile, mode) {
    const frag = mode.endsWith("-frag");
    if (frag)
        mode = mode.slice(0, -5);
    const opts = {host: "127.0.0.1", port: 0, maxPayload: 32 << 20};
    if (mode === "deflate")
        opts.perMessageDeflate = true;
    else if (mode === "deflate-strict")
        opts.perMessageDeflate = {serverNoContextTakeover: true, clientNoContextTakeover: true,
                                  serverMaxWindowBits: 9, clientMaxWindowBits: 10};
    else
        opts.perMessageDeflate = false;
    const wss = new WebSocket.Server(opts);
    wss.on("connection", (ws) => {
        ws.on("message", (data, isBinary) => {
            if (!frag)
                return ws.send(data, {binary: isBinary});
            // A ping first, then the echo in three fragments (the middle one may be empty),
            // a ping between the first two: control frames inside a fragmented message.
            const a = data.length / 3 | 0, b = 2 * a;
            ws.ping("p");
            ws.send(data.subarray(0, a), {binary: isBinary, fin: false});
            ws.ping("q");
            ws.send(data.subarray(a, b), {binary: isBinary, fin: false});
            ws.send(data.subarray(b), {binary: isBinary, fin: true});
        });
        ws.on("error", (e) => console.error("ws_peer server: " + e.message));
    });
    wss.on("listening", () => {
        fs.writeFileSync(portFile + ".tmp", wss.address().port + "\n");
        fs.renameSync(portFile + ".tmp", portFile);
    });
}

// The client's perMessageDeflate for a mode: plain (none), deflate (ws's defaults: messages
// under 1 KiB go uncompressed), deflate-t0 (every message compressed), deflate-nct (no context
// takeover both ways), deflate-bits (windows of 9 bits for the server, 8 for the client).
function clientDeflate(mode) {
    const modes = {
        "plain": false,
        "deflate": true,
        "deflate-t0": {threshold: 0},
        "deflate-nct": {threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true},
        "deflate-bits": {threshold: 0, serverMaxWindowBits: 9, clientMaxWindowBits: 8},
    };
    if (!(mode in modes))
        fail("unknown mode " + mode);
    return modes[mode];
}

async function main() {
    const [role, a, b, c] = process.argv.slice(2);
    if (role === "server")
        return server(a, b || "deflate");
    if (role !== "client" || !scenarios[a] || !b)
        fail("usage: ws_peer.js client SCENARIO URL [MODE] | server PORT_FILE [MODE]");
    await scenarios[a](b, clientDeflate(c || "deflate"));
    process.exit(0);
}

main().catch((e) => fail(e.stack || String(e)));
