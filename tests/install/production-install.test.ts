import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'

/**
 * The production install without Docker, for real: a copy of the repository
 * (the files git knows), built once with the dev dependencies, then
 * `npm ci --omit=dev` (no compiler) and `npm start`, answering /healthz.
 * `npm start` builds only when dist/ is missing or stale, and says what to
 * run when it cannot build.
 */

// A build and an install on a busy machine: well past tap's default per file.
t.setTimeout(420_000)

const root = fileURLToPath(new URL('../..', import.meta.url))
const SECRET = 'production-install-test-secret-0123456789'

function copyRepository (): string {
  const dir = mkdtempSync(join(tmpdir(), 'push-install-'))
  // Tracked files and new ones not ignored: what a clone of this commit would hold.
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`)
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(root, file))) continue // deleted, not yet committed
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    cpSync(join(root, file), join(dir, file))
  }
  return dir
}

/** What npm needs (its cache under HOME) and what the service reads; nothing else from this environment. */
function environment (): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    JWT_SECRET: SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info'
  }
}

interface Started {
  child: ChildProcess
  base: string
  stderr: () => string
}

/** `npm start` in `dir`; resolves once the service logs where it listens. */
async function npmStart (dir: string): Promise<Started> {
  // Its own process group: npm, the shell and node are stopped together.
  const child = spawn('npm', ['start'], { cwd: dir, env: environment(), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let stderr = ''
  child.stderr!.on('data', chunk => { stderr += chunk })
  const exited = once(child, 'exit')
  for await (const line of createInterface({ input: child.stdout! })) {
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
    if (match !== null) return { child, base: match[1], stderr: () => stderr }
  }
  await exited
  throw new Error(`npm start ended (code ${String(child.exitCode)}) without listening:\n${stderr}`)
}

async function stop (started: Started): Promise<void> {
  const { child } = started
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  try {
    process.kill(-child.pid!, 'SIGTERM')
  } catch {} // the group is already gone
  await exited
}

async function healthy (base: string): Promise<number> {
  return (await fetch(`${base}/healthz`)).status
}

t.test('build once, install without dev dependencies, npm start serves from dist/', async t => {
  const dir = copyRepository()
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })

  // 1. With the dev dependencies, the first start builds dist/.
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'))
  const first = await npmStart(dir)
  t.teardown(async () => { await stop(first) })
  t.equal(await healthy(first.base), 200)
  t.match(first.stderr(), /start: dist\/ has not been built: building it/, 'the first start builds')
  await stop(first)

  // 2. The second does not: nothing changed.
  const second = await npmStart(dir)
  t.teardown(async () => { await stop(second) })
  t.equal(await healthy(second.base), 200)
  t.match(second.stderr(), /start: dist\/ is up to date/)
  t.notMatch(second.stderr(), /building/, 'no rebuild of an up-to-date tree')
  await stop(second)

  // 3. A production install: no compiler, and no engine warning.
  rmSync(join(dir, 'node_modules'))
  const install = spawnSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env: environment(), encoding: 'utf8', timeout: 180_000 })
  if (install.status !== 0) {
    const output = `${install.stdout}${install.stderr}`.trim().split('\n').slice(-5).join(' | ')
    t.pass('the production install', { skip: `npm ci --omit=dev could not install here (${install.error?.message ?? `exit ${String(install.status)}`}): ${output}` })
    return
  }
  t.notMatch(`${install.stdout}${install.stderr}`, /EBADENGINE/, 'no engine warning')
  t.notOk(existsSync(join(dir, 'node_modules/typescript')), 'no TypeScript compiler installed')
  const production = await npmStart(dir)
  t.teardown(async () => { await stop(production) })
  t.equal(await healthy(production.base), 200, 'the production install serves /healthz')
  t.equal((await fetch(`${production.base}/`)).status, 200, 'and the dashboard from dist/public')
  t.notMatch(production.stderr(), /building|tsc/)
  await stop(production)

  // 4. Sources newer than dist/ and no build tools: one message saying what to run.
  const later = new Date(Date.now() + 60_000)
  utimesSync(join(dir, 'src/server.ts'), later, later)
  const refused = spawnSync('npm', ['start'], { cwd: dir, env: environment(), encoding: 'utf8', timeout: 60_000 })
  t.equal(refused.status, 1)
  t.match(refused.stderr, /start: src\/server\.ts changed since dist\/ was built, and the build tools \(dev dependencies\) are not installed here\. Build it where they are: `npm ci && npm run build`/)
})
