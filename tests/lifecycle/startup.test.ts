import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'

/**
 * What a person sees when they start the service: the real process, with
 * nothing but PATH and the variables each test names.
 */

const root = fileURLToPath(new URL('../..', import.meta.url))

function start (env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: root, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Starts the service and waits for it to exit; it must not start. */
async function refused (env: Record<string, string>): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = start(env)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', chunk => { stdout += chunk })
  child.stderr!.on('data', chunk => { stderr += chunk })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

t.test('without JWT_SECRET the service listens on 127.0.0.1 only, and says so', async t => {
  const child = start({ PORT: '0', LOG_LEVEL: 'info' })
  t.teardown(() => { child.kill('SIGKILL') })
  const messages: string[] = []
  for await (const line of createInterface({ input: child.stdout! })) {
    const msg = String((JSON.parse(line) as { msg?: unknown }).msg)
    messages.push(msg)
    if (msg.startsWith('Server listening at')) break
  }
  t.match(messages.at(-1), /^Server listening at http:\/\/127\.0\.0\.1:\d+$/, 'bound to loopback')
  t.ok(messages.some(msg => /DEVELOPMENT secret.*listens on 127\.0\.0\.1 \(this machine\) only.*set JWT_SECRET/.test(msg)), 'the log says why, and what to set')
})

t.test('a non-loopback HOST with the development secret does not start, in one line', async t => {
  const { code, stderr } = await refused({ PORT: '0', HOST: '0.0.0.0' })
  t.equal(code, 1)
  const lines = stderr.trim().split('\n')
  t.equal(lines.length, 2, 'the problem and "did not start"')
  t.match(lines[0], /^config error: HOST=0\.0\.0\.0 .*development secret.*set JWT_SECRET/)
})

t.test('a NODE_ENV typo does not start as development', async t => {
  const { code, stderr } = await refused({ PORT: '0', NODE_ENV: 'prod' })
  t.equal(code, 1)
  t.match(stderr, /^config error: NODE_ENV="prod" is not a known environment; use one of development, production, test \(did you mean production\?\)$/m)
})

t.test('a port in use: one line with the fix, no log line with a stack, exit 1', async t => {
  const holder = createServer()
  holder.listen(0, '127.0.0.1')
  await once(holder, 'listening')
  t.teardown(() => { holder.close() })
  const { port } = holder.address() as AddressInfo
  const { code, stdout, stderr } = await refused({ PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: 'x'.repeat(32), LOG_LEVEL: 'info' })
  t.equal(code, 1)
  const lines = stderr.trim().split('\n')
  t.same(lines.length, 2, 'the cause and "did not start"')
  t.match(lines[0], new RegExp(`^start-up error: could not listen on 127\\.0\\.0\\.1:${port}: port ${port} is already in use .*PORT=${port + 1}`))
  t.notMatch(stdout + stderr, /"stack"|\n\s+at /, 'no stack trace')
})
