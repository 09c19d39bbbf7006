#!/usr/bin/env node
// `npm start`: runs the built service (dist/), building it first only when
// it is missing or older than its sources and the build tools are installed.
//
// A production install (`npm ci --omit=dev`) has no TypeScript compiler, so
// start must never need one when dist/ is up to date; and it must not spend
// ten seconds rebuilding an unchanged tree on every start. When dist/ cannot
// be built here, it says what to run instead of failing with `tsc: not found`.
//
// The service runs in this process (imported, not spawned), so SIGTERM from
// npm, systemd or a container reaches it directly and drains the connections.
// Plain JavaScript, so that it needs no loader.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const SERVER = join(root, 'dist/src/server.js')
/** What `npm run build` writes last of each of its two steps: the older one dates the build. */
const OUTPUTS = [SERVER, join(root, 'dist/public/index.html')]
/** What the build reads: a change to any of them makes dist/ stale. */
const INPUTS = ['src', 'public', 'scripts/build-client.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json']
/** The build's tools are dev dependencies: absent after `npm ci --omit=dev`. */
const BUILD_TOOLS = ['typescript', 'tsx', 'esbuild']

const say = message => { process.stderr.write(`start: ${message}\n`) }

function fail (message) {
  say(message)
  process.exit(1)
}

/** mtime of the newest file under `path` (a file or a folder); 0 when it does not exist. */
function newest (path, found = { mtimeMs: 0, path: '' }) {
  let stat
  try {
    stat = statSync(path)
  } catch {
    return found
  }
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path)) newest(join(path, entry), found)
  } else if (stat.mtimeMs > found.mtimeMs) {
    found.mtimeMs = stat.mtimeMs
    found.path = path
  }
  return found
}

/** Why dist/ must be built, or null when it is up to date. */
function staleness () {
  if (!OUTPUTS.every(path => existsSync(path))) return 'dist/ has not been built'
  const builtAt = Math.min(...OUTPUTS.map(path => statSync(path).mtimeMs))
  const source = { mtimeMs: 0, path: '' }
  for (const input of INPUTS) newest(join(root, input), source)
  return source.mtimeMs > builtAt ? `${relative(root, source.path)} changed since dist/ was built` : null
}

const canBuild = () => BUILD_TOOLS.every(name => existsSync(join(root, 'node_modules', name, 'package.json')))

const reason = staleness()
if (reason !== null) {
  if (!canBuild()) {
    fail(`${reason}, and the build tools (dev dependencies) are not installed here. ` +
      'Build it where they are: `npm ci && npm run build`, then `npm ci --omit=dev` for a production install; ' +
      'or run the existing build anyway with `node dist/src/server.js`.')
  }
  say(`${reason}: building it (npm run build)`)
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  if (build.status !== 0) fail('the build failed (see above); the service was not started')
} else {
  say('dist/ is up to date; starting it')
}

await import(pathToFileURL(SERVER).href)
