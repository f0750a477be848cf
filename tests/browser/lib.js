// What the browser suites (run.js: examples/chat, blog.js: examples/blog) share: their
// command line, waits on a condition, and child processes whose output is kept.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
// build/node holds the npm packages even when --build points elsewhere (ASan, poll builds).
const NODE_DIR = path.join(ROOT, 'build', 'node', 'node_modules');
const DEADLINE = 30000; // ms for any one condition: generous, only reached on failure

// [--build=build] [-k substring] [-v] -> {BUILD, filter, verbose}; exits 2 on anything else.
function parseArgs(script) {
    const out = { BUILD: path.join(ROOT, 'build'), filter: null, verbose: false };
    const args = process.argv.slice(2);
    for (let i = 0; i < args.length; i++) {
        if (args[i].startsWith('--build=')) out.BUILD = path.resolve(args[i].slice(8));
        else if (args[i] === '-k') out.filter = args[++i];
        else if (args[i] === '-v') out.verbose = true;
        else {
            console.error(`usage: ${script} [--build=build] [-k substring] [-v]`);
            process.exit(2);
        }
    }
    return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls cond (sync or async) until it returns a truthy value; throws what after ms.
async function waitFor(what, cond, ms = DEADLINE) {
    const end = Date.now() + ms;
    for (;;) {
        const v = await cond();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(25);
    }
}

// Child processes run in a temp dir (prefix): start() keeps a child's stdout and stderr in
// .out (.firstLine: its first stdout line); stop() ends it (stdin closed when it has one,
// else SIGTERM; SIGKILL after the deadline) and moves it to .finished; remove() deletes the
// temp dir.
function processes(prefix) {
    const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const children = new Set();
    const finished = [];
    function start(cmd, argv, env, opts = {}) {
        const child = spawn(cmd, argv, {
            cwd: tmpRoot,
            env: { ...process.env, ...env },
            stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        });
        child.out = '';
        child.firstLine = new Promise((resolve) => {
            readline.createInterface({ input: child.stdout }).once('line', resolve);
        });
        child.stdout.on('data', (d) => (child.out += d));
        child.stderr.on('data', (d) => (child.out += d));
        child.exited = new Promise((r) => child.on('exit', (code, sig) => r({ code, sig })));
        child.exitStatus = null;
        child.exited.then((s) => (child.exitStatus = s));
        children.add(child);
        return child;
    }
    async function stop(child) {
        if (!child || !children.has(child)) return;
        children.delete(child);
        finished.push(child);
        if (child.exitStatus) return;
        if (child.stdin) child.stdin.end();
        else child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), DEADLINE);
        await child.exited;
        clearTimeout(t);
    }
    const remove = () => fs.rmSync(tmpRoot, { recursive: true, force: true });
    return { tmpRoot, children, finished, start, stop, remove };
}

module.exports = { ROOT, NODE_DIR, DEADLINE, parseArgs, sleep, waitFor, processes };
