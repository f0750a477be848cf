#!/usr/bin/env node
// Browser tests of examples/chat: headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core from build/node (tools/deps.sh --node), against build/tornado-prefork
// serving build/examples/chat.so.
//
// Usage: node tests/browser/run.js [--build=build] [-k substring] [-v]
//
// Cases:
//   reference     the page and the message HTML are Tornado's (chatdemo.py run by Debian's
//                 python3-tornado on the same templates)
//   cross-worker  two pages whose sockets are on different workers talk both ways
//   reload        a page reconnects after a HUP reload (old sockets closed with 1001) and
//                 keeps working
//   cache         a page opened after messages were sent shows them (from every worker)
//   redis         two servers sharing a redis-server (--pubsub=redis://...) share the room
//
// Every wait has a generous deadline and polls a condition; nothing depends on speed. The
// page loads jQuery from ajax.googleapis.com: the browser is handed Debian's copy
// (libjs-jquery) instead, so the tests need no network.
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const lib = require('./lib');
const { ROOT, NODE_DIR, DEADLINE, sleep, waitFor, portOf } = lib;

const { BUILD, filter, verbose } = lib.parseArgs('run.js');
const { chromium } = require(path.join(NODE_DIR, 'playwright-core'));
const WebSocket = require(path.join(NODE_DIR, 'ws'));

const PREFORK = path.join(BUILD, 'tornado-prefork');
const APP = path.join(BUILD, 'examples', 'chat.so');
const CHROMIUM = '/usr/bin/chromium';
const JQUERY = '/usr/share/javascript/jquery/jquery.min.js';

function log(...a) {
    if (verbose) console.log('   ', ...a);
}

const procs = lib.processes('tp-browser-');
const { tmpRoot, children, start, stop } = procs;

// A free TCP port (for redis-server, which cannot report the port it picked).
function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const p = s.address().port;
            s.close(() => resolve(p));
        });
    });
}

// build/tornado-prefork --procs=2 chat.so on a free port; resolves once it serves.
async function startServer(name, extra = []) {
    const dir = fs.mkdtempSync(path.join(tmpRoot, name + '-'));
    const portFile = path.join(dir, 'port');
    const srv = start(
        PREFORK,
        ['--procs=2', '--port=0', `--port-file=${portFile}`, '--websocket-drain-timeout=1',
         ...extra, APP],
        { CHAT_COOKIE_SECRET: 'browser-test secret' }
    );
    srv.name = name;
    srv.port = await portOf(srv, portFile, name);
    srv.url = `http://127.0.0.1:${srv.port}/`;
    log(`${name}: pid ${srv.pid}, ${srv.url}`);
    return srv;
}

// The workers of the "101 GET /chatsocket" access log lines, in order.
function upgrades(srv) {
    return [...srv.out.matchAll(/worker\[(\d+)\] 101 GET \/chatsocket/g)].map((m) => +m[1]);
}

let browser;

// A page of the chat at srv, its socket open; page.worker is the worker that accepted the
// socket (the new "101 GET /chatsocket" line: pages are opened one at a time).
async function openPage(srv) {
    const before = upgrades(srv).length;
    const ctx = await browser.newContext();
    await ctx.route(/ajax\.googleapis\.com\/.*jquery/, (route) =>
        route.fulfill({ path: JQUERY, contentType: 'text/javascript' })
    );
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.log(`    page error: ${e}`));
    await page.goto(srv.url);
    await socketOpen(page);
    const ups = await waitFor('the upgrade in the access log', () => {
        const u = upgrades(srv);
        return u.length > before && u;
    });
    page.worker = ups[ups.length - 1];
    page.ctx = ctx;
    log(`page on ${srv.name} worker[${page.worker}]`);
    return page;
}

async function closePage(page) {
    await page.ctx.close();
}

function socketOpen(page) {
    return page.waitForFunction(
        () => window.updater && updater.socket && updater.socket.readyState === WebSocket.OPEN,
        null,
        { timeout: DEADLINE, polling: 25 }
    );
}

// Types text in the page's box and presses Enter, as a user does.
async function say(page, text) {
    await socketOpen(page);
    await page.fill('#message', text);
    await page.press('#message', 'Enter');
    await page.waitForFunction(() => document.querySelector('#message').value === '', null, {
        timeout: DEADLINE,
    });
}

// Waits until the page's inbox shows a message whose text is text.
function shows(page, text) {
    return page.waitForFunction(
        (t) => [...document.querySelectorAll('#inbox .message')].some((e) => e.textContent === t),
        text,
        { timeout: DEADLINE, polling: 25 }
    );
}

async function inbox(page) {
    return page.$$eval('#inbox .message', (els) => els.map((e) => e.textContent));
}

// Opens pages until there is one on each of the workers listed (and on n different workers,
// for a number n); closes the others.
async function pagesCovering(srv, workers) {
    const byWorker = new Map();
    const done = () =>
        typeof workers === 'number' ? byWorker.size >= workers : workers.every((w) => byWorker.has(w));
    const end = Date.now() + 2 * DEADLINE;
    while (!done()) {
        if (Date.now() > end)
            throw new Error(`sockets reached only workers ${[...byWorker.keys()]}`);
        const p = await openPage(srv);
        const wanted = typeof workers === 'number' || workers.includes(p.worker);
        if (!wanted || byWorker.has(p.worker)) await closePage(p);
        else byWorker.set(p.worker, p);
    }
    return [...byWorker.values()];
}

// ---- cases --------------------------------------------------------------------------------

async function testCrossWorker() {
    const srv = await startServer('cross-worker');
    try {
        const [a, b] = await pagesCovering(srv, 2);
        await say(a, 'hello from worker ' + a.worker);
        await Promise.all([shows(a, 'hello from worker ' + a.worker),
                           shows(b, 'hello from worker ' + a.worker)]);
        await say(b, 'and back from worker ' + b.worker + ' <b>not bold</b>');
        const back = 'and back from worker ' + b.worker + ' <b>not bold</b>';
        await Promise.all([shows(a, back), shows(b, back)]);
        // The text stays text: no <b> element was made from it.
        if ((await a.$$('#inbox .message b')).length) throw new Error('message HTML not escaped');
    } finally {
        await stop(srv);
    }
}

async function testReload() {
    const srv = await startServer('reload');
    try {
        const page = await openPage(srv);
        await say(page, 'before the reload');
        await shows(page, 'before the reload');
        const before = upgrades(srv).length;
        await page.evaluate(() => {
            window.closeCodes = [];
            updater.socket.addEventListener('close', (e) => closeCodes.push(e.code));
        });
        process.kill(srv.pid, 'SIGHUP');
        await waitFor('generation 2', () => /generation 2 serving/.test(srv.out));
        // The old worker closes the socket with 1001 after --websocket-drain-timeout=1; the
        // page's JS connects again, to the new generation.
        await waitFor('the page to reconnect', () => upgrades(srv).length > before);
        await socketOpen(page);
        const codes = await page.evaluate(() => closeCodes);
        if (JSON.stringify(codes) !== '[1001]') throw new Error(`closed with ${codes}, not 1001`);
        await say(page, 'after the reload');
        await shows(page, 'after the reload');
        const msgs = await inbox(page);
        if (!msgs.includes('before the reload')) throw new Error('lost the old messages');
        // A second page on the new generation hears the first.
        const other = await openPage(srv);
        await say(page, 'to the new page');
        await shows(other, 'to the new page');
    } finally {
        await stop(srv);
    }
}

async function testCache() {
    const srv = await startServer('cache');
    try {
        const writer = await openPage(srv);
        const sent = [];
        for (let i = 0; i < 5; i++) {
            sent.push(`cached message ${i}`);
            await say(writer, sent[i]);
        }
        await shows(writer, sent[sent.length - 1]);
        // Every worker keeps the cache: new pages on both workers show all of it, in order.
        for (const p of await pagesCovering(srv, 2)) {
            const got = (await inbox(p)).filter((t) => t.startsWith('cached message'));
            if (JSON.stringify(got) !== JSON.stringify(sent))
                throw new Error(`a page from worker[${p.worker}] shows ${JSON.stringify(got)}`);
        }
    } finally {
        await stop(srv);
    }
}

async function testRedis() {
    const dir = fs.mkdtempSync(path.join(tmpRoot, 'redis-'));
    const port = await freePort();
    const redis = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
                                         '--save', '', '--appendonly', 'no', '--dir', dir]);
    let s1, s2;
    try {
        await waitFor('redis-server to listen', () => {
            if (redis.exitStatus) throw new Error(`redis-server exited:\n${redis.out}`);
            return /Ready to accept connections/.test(redis.out);
        });
        const url = `--pubsub=redis://127.0.0.1:${port}`;
        s1 = await startServer('redis-one', [url]);
        s2 = await startServer('redis-two', [url]);
        const a = await openPage(s1);
        const b = await openPage(s2);
        // Redis subscriptions are made asynchronously: until b's server has subscribed, a's
        // message may be dropped there. Repeat until one arrives, then check order and both ways.
        await waitFor('a message through Redis', async () => {
            const t = `ping ${Date.now()}`;
            await say(a, t);
            try {
                await b.waitForFunction(
                    (x) => [...document.querySelectorAll('#inbox .message')]
                        .some((e) => e.textContent === x), t, { timeout: 1000 });
                return true;
            } catch (e) {
                return false;
            }
        });
        await say(b, 'from the second server');
        await Promise.all([shows(a, 'from the second server'), shows(b, 'from the second server')]);
        await say(a, 'from the first server');
        await Promise.all([shows(a, 'from the first server'), shows(b, 'from the first server')]);
    } finally {
        await stop(s1);
        await stop(s2);
        await stop(redis);
    }
}

// Sends each body on a new socket to port, one at a time; the "html" of every message
// that comes back (its id replaced by ID), then the page at / (its messages from the cache).
async function exchange(port, bodies) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chatsocket`);
    const queue = [];
    let wake = null;
    ws.on('message', (data) => {
        queue.push(JSON.parse(data.toString()));
        if (wake) wake();
    });
    await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
    });
    const html = [];
    for (const body of bodies) {
        ws.send(JSON.stringify({ body }));
        await waitFor('the message back', () => queue.length > 0);
        const m = queue.shift();
        if (m.body !== body) throw new Error(`sent ${JSON.stringify(body)}, got ${JSON.stringify(m)}`);
        html.push(m.html.split(m.id).join('ID'));
    }
    ws.close();
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    return { html, page };
}

// What may differ between Tornado and the C page: the ids, the XSRF tokens, static_url's
// hash (Tornado: MD5, here: SHA-512, docs/static-files.md) and the escape of ' (Debian's
// Tornado 6.2 writes &#39;, Tornado 6.5 and the C port &#x27;).
function normalize(s) {
    return s
        .replace(/id="m[0-9a-f-]{36}"/g, 'id="mID"')
        .replace(/value="2\|[^"]*"/g, 'value="XSRF"')
        .replace(/\?v=[0-9a-f]+/g, '?v=HASH')
        .replace(/&#39;/g, '&#x27;');
}

// examples/chat against Tornado's chatdemo.py (tests/browser/chatdemo_ref.py run by Debian's
// python3-tornado) on the same templates: the same message HTML, the same page.
async function testReference() {
    const dir = fs.mkdtempSync(path.join(tmpRoot, 'reference-'));
    const chatDir = path.join(ROOT, 'examples', 'chat');
    const py = start('/usr/bin/python3', [path.join(__dirname, 'chatdemo_ref.py'),
                                          `--chat-dir=${chatDir}`, `--port-file=${dir}/py`]);
    const c = start(path.join(BUILD, 'examples', 'chat'), ['--port=0', `--port-file=${dir}/c`],
                    { CHAT_COOKIE_SECRET: 'browser-test secret' });
    try {
        const [pyPort, cPort] = await Promise.all([portOf(py, `${dir}/py`, 'chatdemo_ref.py'),
                                                   portOf(c, `${dir}/c`, 'examples/chat')]);
        const bodies = ['plain', '<script>alert("x")</script> & \'quotes\'',
                        'see http://example.com/a?b=1&c=2, www.tornadoweb.org and a@b.c',
                        'javascript:alert(1) http://a.b/<x> https://x.y/"z"',
                        'unicode \u2713 \u00e9 \ud83d\ude00', '  spaces  ', 'line\nbreak\ttab', ''];
        const [want, got] = await Promise.all([exchange(pyPort, bodies), exchange(cPort, bodies)]);
        for (let i = 0; i < bodies.length; i++)
            if (normalize(want.html[i]) !== normalize(got.html[i]))
                throw new Error(`message ${JSON.stringify(bodies[i])}:\n  tornado ${
                    JSON.stringify(want.html[i])}\n  C       ${JSON.stringify(got.html[i])}`);
        if (normalize(want.page) !== normalize(got.page))
            throw new Error(`the pages differ:\n---- tornado\n${want.page}\n---- C\n${got.page}`);
    } finally {
        await stop(py);
        await stop(c);
    }
}

const CASES = [
    ['reference', testReference],
    ['cross-worker', testCrossWorker],
    ['reload', testReload],
    ['cache', testCache],
    ['redis', testRedis],
];

async function main() {
    for (const f of [PREFORK, APP, CHROMIUM, JQUERY])
        if (!fs.existsSync(f)) throw new Error(`${f} is missing (make; tools/deps.sh --test --node)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const failed = await lib.runCases('browser', CASES, filter, verbose, procs);
    await browser.close();
    return failed ? 1 : 0;
}

main()
    .catch((e) => {
        console.log(`FAIL: ${e.stack || e}`);
        return 1;
    })
    .then(async (rc) => {
        for (const c of [...children]) await stop(c);
        if (browser) await browser.close().catch(() => {});
        fs.rmSync(tmpRoot, { recursive: true, force: true });
        process.exit(rc);
    });
