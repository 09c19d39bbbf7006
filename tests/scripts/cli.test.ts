import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { TEST_SECRET } from '../helper.js'

interface Run { code: number | null, stdout: string, stderr: string }

/** Runs a script the way its npm script does (tsx), with a bound on its life. */
async function run (script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, JWT_SECRET: TEST_SECRET, JWT_ISSUER: '', JWT_AUDIENCE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => { stdout += chunk })
  child.stderr.on('data', chunk => { stderr += chunk })
  return await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', code => { resolve({ code, stdout, stderr }) })
  })
}

/** Runs `each` over `items`, four at a time: tsx start-ups are CPU-heavy. */
async function pool<T> (items: T[], each: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < items.length) await each(items[next++])
  }))
}

/** Exit 2 and exactly one line on stderr, naming the script and matching `message`; nothing on stdout. */
function refused (t: Test, result: Run, name: string, message: RegExp): void {
  t.equal(result.code, 2, `exit code 2 (${result.stderr.trim()})`)
  const lines = result.stderr.trimEnd().split('\n')
  t.equal(lines.length, 1, 'one line on stderr, no stack trace')
  t.match(lines[0], new RegExp(`^${name}: `), 'the line names the script')
  t.match(lines[0], message)
  t.equal(result.stdout, '', 'nothing on stdout')
}

const SCRIPTS: Array<[string, string]> = [
  ['bench/run.ts', 'bench'],
  ['bench/slow-consumer.ts', 'bench:slow-consumer'],
  ['scripts/soak.ts', 'soak'],
  ['scripts/demo.ts', 'demo'],
  ['scripts/token.ts', 'token'],
  ['scripts/loadtest.ts', 'loadtest'],
  ['scripts/config-table.ts', 'config:table'],
  ['scripts/build-client.ts', 'build-client']
]

t.test('every script prints its usage on --help and exits 0 without starting anything', async t => {
  await pool(SCRIPTS, async ([script, name]) => {
    const result = await run(script, ['--help'])
    t.equal(result.code, 0, `${name}: exit 0`)
    t.match(result.stdout, /^usage: /, `${name}: usage first`)
    t.match(result.stdout, /-h, --help/, `${name}: lists --help`)
    t.equal(result.stderr, '', `${name}: nothing on stderr`)
  })
})

t.test('every script refuses an unknown option with one line', async t => {
  await pool(SCRIPTS, async ([script, name]) => {
    refused(t, await run(script, ['--bogus']), name, /unknown option --bogus; .*--help lists the options/)
  })
})

t.test('the demo starts nothing on --help (it would listen and never exit)', async t => {
  const result = await run('scripts/demo.ts', ['--help'], { PORT: '0' })
  t.equal(result.code, 0)
  t.notMatch(result.stdout, /Open the dashboard/)
})

t.test('numbers: not a number, negative, zero where meaningless, fractions where whole numbers go', async t => {
  const cases: Array<[string, string, string[], RegExp]> = [
    ['scripts/soak.ts', 'soak', ['--connections', 'abc'], /--connections expects a whole number from 1 to 9000, got "abc"/],
    ['scripts/soak.ts', 'soak', ['--connections', '0'], /--connections expects a whole number from 1 to 9000, got "0"/],
    ['scripts/soak.ts', 'soak', ['--minutes', 'NaN'], /--minutes expects a number from 0\.1 to 60, got "NaN"/],
    ['scripts/soak.ts', 'soak', ['--churn', '-0.1'], /--churn expects a number from 0 to 0\.2, got "-0\.1"/],
    ['bench/run.ts', 'bench', ['--sizes', '1000,x'], /--sizes expects whole numbers from 1 to 18000, separated by commas, got "1000,x"/],
    ['bench/run.ts', 'bench', ['--repeat', '1.5'], /--repeat expects a whole number from 1 to 10, got "1\.5"/],
    ['bench/run.ts', 'bench', ['--targets', 'service,nginx'], /--targets expects one or more of service, ws-reference, socket\.io, service-cluster, baseline/],
    ['bench/slow-consumer.ts', 'bench:slow-consumer', ['--clients', '-5'], /--clients expects a whole number from 1 to 10000, got "-5"/],
    ['bench/slow-consumer.ts', 'bench:slow-consumer', ['--rate', ''], /--rate expects a whole number from 1 to 20000, got ""/],
    ['scripts/loadtest.ts', 'loadtest', ['--connections', '1e9'], /--connections expects a whole number from 1 to 100000, got "1e9"/],
    ['scripts/loadtest.ts', 'loadtest', ['--max-failed', '-1'], /--max-failed expects a whole number from 0/],
    ['scripts/loadtest.ts', 'loadtest', ['--duration', '0x10'], /--duration expects a number from 1 to 3600, got "0x10"/]
  ]
  await pool(cases, async ([script, name, args, message]) => {
    refused(t, await run(script, args), name, message)
  })
})

t.test('an option that needs a value, a value on a flag, a stray argument', async t => {
  refused(t, await run('scripts/token.ts', ['--user', 'alice', '--ttl']), 'token', /--ttl expects a value/)
  refused(t, await run('scripts/token.ts', ['--ttl', '--user', 'alice']), 'token', /--ttl expects a value/)
  refused(t, await run('bench/run.ts', ['--quick=yes']), 'bench', /--quick takes no value/)
  refused(t, await run('scripts/soak.ts', ['300']), 'soak', /unexpected argument "300"/)
})

t.test('npm run token refuses a lifetime that would be expired at once', async t => {
  for (const ttl of ['0', '-5', '0s', '500ms', 'soon']) {
    refused(t, await run('scripts/token.ts', ['--user', 'alice', '--ttl', ttl]), 'token', new RegExp(`--ttl expects a lifetime of at least 1s.*got "${ttl}"`))
  }
  refused(t, await run('scripts/token.ts', ['--ttl', '1h']), 'token', /--user expects the user id/)
  const ok = await run('scripts/token.ts', ['--user', 'alice', '--ttl', '90s'])
  t.equal(ok.code, 0, ok.stderr)
  const claims = JSON.parse(Buffer.from(ok.stdout.trim().split('.')[1], 'base64url').toString()) as { iat: number, exp: number }
  t.equal(claims.exp - claims.iat, 90, 'a valid lifetime is still signed')
})

t.test('the cluster load test recipe prints its usage, and refuses arguments and bad numbers with one line', async t => {
  const run = (args: string[], env: Record<string, string> = {}) => spawnSync('bash', ['scripts/cluster-loadtest.sh', ...args], { encoding: 'utf8', env: { ...process.env, ...env } })
  const help = run(['--help'])
  t.equal(help.status, 0)
  t.match(help.stdout, /100,000 sockets/)
  t.match(help.stdout, /SERVICE_NODE_OPTIONS \(Node options for the service only/, 'the settings include the service\'s Node options')
  for (const [args, env, pattern] of [
    [['--bogus'], {}, /takes no arguments .*got "--bogus"/],
    [[], { CONNECTIONS: 'abc' }, /CONNECTIONS must be a whole number, got "abc"/]
  ] as const) {
    const result = run([...args], { ...env })
    t.equal(result.status, 2, `${args.join(' ')} ${JSON.stringify(env)}: exit 2`)
    t.equal(result.stdout, '')
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line')
    t.match(result.stderr, pattern)
  }
})
