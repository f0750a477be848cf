#!/usr/bin/env node
// Browser tests of examples/blog: headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core from build/node (tools/deps.sh --node), against build/tornado-prefork
// --procs=2 serving build/examples/blog.so on a private MariaDB (tests/lib/mariadb_serve.py)
// and the auth tests' fake provider in its GitHub shape (build/tests/fake_idp), both on
// 127.0.0.1.
//
// Usage: node tests/browser/blog.js [--build=build] [-k substring] [-v]
//
// Cases:
//   author   create the first author, compose, see the entry on the home page and in the
//            feed, edit it, sign out, sign in again with the password
//   xsrf     a compose form posted without its _xsrf field is refused (403), nothing saved
//   github   sign in with GitHub (fake_idp's octocat), compose as that author
//
// Every wait has a generous deadline and polls a condition; nothing depends on speed.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const lib = require('./lib');
const { ROOT, NODE_DIR, DEADLINE, sleep, waitFor, portOf } = lib;

const { BUILD, filter, verbose } = lib.parseArgs('blog.js');
const { chromium } = require(path.join(NODE_DIR, 'playwright-core'));

const PREFORK = path.join(BUILD, 'tornado-prefork');
const APP = path.join(BUILD, 'examples', 'blog.so');
const CHROMIUM = '/usr/bin/chromium';
const FAKE_IDP = path.join(BUILD, 'tests', 'fake_idp');

const log = (...a) => verbose && console.log('   ', ...a);
const procs = lib.processes('tp-browser-blog-');
const { tmpRoot, children, start, stop, remove } = procs;

// A helper that prints one JSON line once ready (tests/lib/*.py).
async function startHelper(script, argv = []) {
    const c = start('python3', [path.join(ROOT, 'tests', 'lib', script), ...argv], {}, { stdin: true });
    const line = await Promise.race([
        c.firstLine,
        c.exited.then(() => Promise.reject(new Error(`${script} exited:\n${c.out}`))),
        sleep(120000).then(() => Promise.reject(new Error(`${script} did not start`))),
    ]);
    c.info = JSON.parse(line);
    return c;
}

let db, idp, browser;

// build/tests/fake_idp with an RSA key made by the openssl CLI; resolves to its base URL.
async function startIdp() {
    const dir = fs.mkdtempSync(path.join(tmpRoot, 'idp-'));
    const key = path.join(dir, 'key.pem');
    const r = spawnSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt',
        'rsa_keygen_bits:2048', '-out', key]);
    if (r.status !== 0) throw new Error(`openssl genpkey failed: ${r.stderr}`);
    const portFile = path.join(dir, 'port');
    const c = start(FAKE_IDP, ['--port=0', '--address=127.0.0.1', `--port-file=${portFile}`],
        { FAKE_IDP_KEY: key });
    c.url = `http://127.0.0.1:${await portOf(c, portFile, 'fake_idp')}`;
    return c;
}

// tornado-prefork --procs=2 blog.so on a fresh database of the private MariaDB.
async function startBlog(name) {
    const dir = fs.mkdtempSync(path.join(tmpRoot, name + '-'));
    const portFile = path.join(dir, 'port');
    const dbName = `b_${name.replace(/\W/g, '_')}`;
    const sql = spawn('mariadb', ['--no-defaults', `--socket=${db.info.TP_DB_SOCKET}`, '-uroot', '-e',
        `CREATE DATABASE ${dbName}; GRANT ALL ON ${dbName}.* TO '${db.info.TP_DB_USER}'@'localhost';`]);
    const rc = await new Promise((r) => sql.on('exit', r));
    if (rc !== 0) throw new Error(`could not create database ${dbName}`);
    const url = `mysql://${db.info.TP_DB_USER}:${db.info.TP_DB_PASSWORD}@/${dbName}` +
        `?unix_socket=${db.info.TP_DB_SOCKET}`;
    const srv = start(PREFORK, ['--procs=2', '--port=0', '--address=127.0.0.1',
        `--port-file=${portFile}`, '--logging=info', '--access-log', APP], {
        BLOG_DB: url, BLOG_COOKIE_SECRET: 'browser-test secret',
        BLOG_GITHUB_CLIENT_ID: 'client1', BLOG_GITHUB_CLIENT_SECRET: 'secret1',
        BLOG_GITHUB_AUTHORIZE_URL: idp.url + '/authorize',
        BLOG_GITHUB_TOKEN_URL: idp.url + '/token',
        BLOG_GITHUB_USER_URL: idp.url + '/github/user', BLOG_GITHUB_AUTHORS: 'octocat',
    });
    srv.port = await portOf(srv, portFile, name);
    srv.url = `http://127.0.0.1:${srv.port}`;
    log(`${name}: ${srv.url}`);
    return srv;
}

async function newPage() {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.log(`    page error: ${e}`));
    page.setDefaultTimeout(DEADLINE);
    return page;
}

function expect(cond, what) {
    if (!cond) throw new Error(what);
}

async function text(page, sel) {
    return (await page.textContent(sel)) || '';
}

// The first-author form, from the home page of an empty blog (/ -> /compose -> sign in ->
// create); ends on the compose page.
async function createAuthor(page, srv) {
    await page.goto(srv.url + '/');
    await page.waitForURL(/\/auth\/create/);
    await page.fill('input[name=email]', 'me@example.com');
    await page.fill('input[name=name]', 'Browser Author');
    await page.fill('input[name=password]', 'pw in the browser');
    await Promise.all([page.waitForURL(/\/compose$/), page.click('input[type=submit]')]);
}

async function compose(page, title, markdown) {
    await page.fill('input[name=title]', title);
    await page.fill('textarea[name=markdown]', markdown);
    await Promise.all([page.waitForURL(/\/entry\//), page.click('input.submit')]);
}

async function testAuthor() {
    const srv = await startBlog('author');
    const page = await newPage();
    await createAuthor(page, srv);
    await compose(page, 'Hello from Chromium', 'Some **bold** text.');
    expect(page.url().endsWith('/entry/hello-from-chromium'), page.url());
    expect((await page.innerHTML('.entry .body')).includes('<strong>bold</strong>'), 'markdown');
    await page.goto(srv.url + '/');
    expect((await text(page, '#content')).includes('Hello from Chromium'), 'home page');
    const feed = await page.request.get(srv.url + '/feed');
    expect((await feed.text()).includes('<title type="text">Hello from Chromium</title>'), 'feed');
    // Edit it.
    await page.click('text=Edit this post');
    await page.waitForURL(/\/compose\?id=/);
    expect((await page.inputValue('textarea[name=markdown]')) === 'Some **bold** text.', 'form');
    await page.fill('textarea[name=markdown]', 'Edited *text*.');
    await Promise.all([page.waitForURL(/\/entry\/hello-from-chromium$/), page.click('input.submit')]);
    expect((await page.innerHTML('.entry .body')).includes('<em>text</em>'), 'edited');
    // Sign out, then in again with the password.
    await Promise.all([page.waitForURL(/\/entry\//), page.click('text=Sign out')]);
    expect((await text(page, '#header')).includes('Sign in'), 'signed out');
    expect(!(await page.isVisible('text=Edit this post')), 'edit link gone');
    await page.click('text=Sign in');
    await page.waitForURL(/\/auth\/login/);
    await page.fill('input[name=email]', 'me@example.com');
    await page.fill('input[name=password]', 'pw in the browser');
    await Promise.all([page.waitForURL(/\/entry\/hello-from-chromium$/), page.click('input[type=submit]')]);
    expect(await page.isVisible('text=Edit this post'), 'signed in again');
    await stop(srv);
}

async function testXsrf() {
    const srv = await startBlog('xsrf');
    const page = await newPage();
    await createAuthor(page, srv);
    await page.fill('input[name=title]', 'Forged');
    await page.fill('textarea[name=markdown]', 'no token');
    await page.evaluate(() => document.querySelector('input[name=_xsrf]').remove());
    const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/compose') && r.request().method() === 'POST'),
        page.click('input.submit'),
    ]);
    expect(resp.status() === 403, `status ${resp.status()}`);
    const archive = await page.request.get(srv.url + '/archive');
    expect(!(await archive.text()).includes('Forged'), 'nothing saved');
    await stop(srv);
}

async function testGitHub() {
    const srv = await startBlog('github');
    const first = await newPage();
    await createAuthor(first, srv); // the demo's first author exists; octocat comes from GitHub
    const page = await newPage();
    await page.goto(srv.url + '/auth/login?next=%2Fcompose');
    await Promise.all([page.waitForURL(/\/compose$/), page.click('#github')]);
    await compose(page, 'Signed in with GitHub', 'via the fake GitHub');
    expect((await text(page, '#content')).includes('Signed in with GitHub'), 'entry');
    expect(await page.isVisible('text=Sign out'), 'signed in');
    await stop(srv);
}

const CASES = [
    ['author', testAuthor],
    ['xsrf', testXsrf],
    ['github', testGitHub],
];

async function main() {
    for (const f of [PREFORK, APP, CHROMIUM, FAKE_IDP])
        if (!fs.existsSync(f)) throw new Error(`${f} is missing (make; tools/deps.sh --test --node)`);
    db = await startHelper('mariadb_serve.py');
    idp = await startIdp();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const failed = await lib.runCases('browser-blog', CASES, filter, verbose, procs,
                                      new Set([db, idp]));
    return failed ? 1 : 0;
}

main()
    .catch((e) => {
        console.log(`FAIL: ${e.stack || e}`);
        return 1;
    })
    .then(async (rc) => {
        if (browser) await browser.close().catch(() => {});
        for (const c of [...children]) await stop(c);
        remove();
        process.exit(rc);
    });
