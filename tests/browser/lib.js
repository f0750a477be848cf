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

// The port child wrote to file once listening (a child that exits first fails it).
function portOf(child, file, name) {
    return waitFor(`${name} to write its port`, () => {
        if (child.exitStatus) throw new Error(`${name} exited:\n${child.out}`);
        try {
            const p = parseInt(fs.readFileSync(file, 'utf8'), 10);
            return p > 0 ? p : 0;
        } catch (e) {
            return 0;
        }
    });
}

// Runs the [name, fn] cases whose name contains filter, one line each; after each, stops the
// children of procs it started (all but keep) and, when it failed (or verbose), prints the
// output of every child stopped. Resolves to the number of failed cases.
async function runCases(suite, cases, filter, verbose, procs, keep = new Set()) {
    let failed = 0, ran = 0;
    for (const [name, fn] of cases) {
        if (filter && !name.includes(filter)) continue;
        const t0 = Date.now();
        ran++;
        let ok = true;
        try {
            await fn();
            console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        } catch (e) {
            ok = false;
            failed++;
            console.log(`FAIL ${name}: ${e.stack || e}`);
        }
        for (const c of [...procs.children]) if (!keep.has(c)) await procs.stop(c);
        if (!ok || verbose)
            for (const c of procs.finished) console.log(`---- output of ${c.spawnargs.join(' ')}\n${c.out}`);
        procs.finished.length = 0;
    }
    console.log(`${suite}: ${ran - failed} passed, ${failed} failed`);
    return failed;
}

module.exports = { ROOT, NODE_DIR, DEADLINE, parseArgs, sleep, waitFor, processes, portOf, runCases };
