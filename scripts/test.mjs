#!/usr/bin/env node
// `npm test`: the type check and the test files at the same time.
//
// tsc keeps one core busy for about ten seconds, while the test files spend
// much of their time waiting on sockets, timers and child processes: running
// tsc beside tap instead of before it takes those seconds off the wall clock.
// tsc's report is held back until tap has finished, so that it never lands in
// the middle of the TAP stream, and either one failing fails the run.
//
// Arguments go to tap: `npm test -- tests/hub` runs those files (and still
// type-checks the whole project). Plain JavaScript, so that it needs no loader.
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = name => join(root, 'node_modules', '.bin', name)

/** Runs `command`; resolves with its exit code (1 if a signal ended it) and, unless inherited, its output. */
function run (command, args, inherit) {
  const child = spawn(command, args, { cwd: root, stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'] })
  let output = ''
  if (!inherit) {
    child.stdout.on('data', chunk => { output += chunk })
    child.stderr.on('data', chunk => { output += chunk })
  }
  return new Promise(resolve => {
    child.once('error', err => { resolve({ code: 1, output: `${command}: ${err.message}\n` }) })
    child.once('close', (code, signal) => { resolve({ code: code ?? 1, signal, output }) })
  })
}

// Incremental: a run after a small change checks only what it touched. The
// state file lives with tap's own state, outside git.
mkdirSync(join(root, '.tap'), { recursive: true })
const typecheck = run(bin('tsc'), ['--noEmit', '-p', '.', '--incremental', '--tsBuildInfoFile', '.tap/tsc.tsbuildinfo'], false)
const tests = run(bin('tap'), process.argv.slice(2), true)

const tap = await tests
const tsc = await typecheck
if (tsc.code !== 0) {
  process.stdout.write(`\n# type check failed (tsc --noEmit -p .):\n${tsc.output}`)
}
if (tap.signal) process.stdout.write(`\n# tap ended by ${tap.signal}\n`)
process.exitCode = tap.code !== 0 ? tap.code : tsc.code
