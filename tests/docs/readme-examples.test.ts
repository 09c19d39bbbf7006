/**
 * Runs the shell examples of README.md and docs/*.md as a reader pastes them,
 * against the real service, and checks that they print what the text says.
 *
 * An example is a ```sh block right after `<!-- example: NAME -->`; what it
 * prints is the fenced block right after `<!-- prints: NAME -->`. Each line of
 * that block must appear in the output, in that order (other lines may come
 * between); `…` in a line stands for any text. The examples talk to
 * `localhost:8000` and write to `/tmp/`: the test points them at a service on
 * a free port and at a directory of its own. `npm run token` signs with
 * JWT_SECRET, which the test sets to the service's secret.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startServer, TEST_SECRET } from '../helper.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FILES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter(name => name.endsWith('.md')).map(name => `docs/${name}`)]
/** Long enough for several `npm run token` on a busy 2-core machine; an example that hangs fails here. */
const EXAMPLE_TIMEOUT_MS = 60_000

interface Example { file: string, name: string, script: string, expected: string[] }

/** The fenced block that follows `marker` in `text` (blank lines may come between), or undefined. */
function blockAfter (text: string, marker: string, languages: string[]): string | undefined {
  const at = text.indexOf(marker)
  if (at === -1) return undefined
  const match = /^\s*```(\w*)\n([\s\S]*?)\n```/.exec(text.slice(at + marker.length))
  if (match === null || !languages.includes(match[1])) return undefined
  return match[2]
}

function examples (file: string, text: string): Example[] {
  const found: Example[] = []
  for (const [, name] of text.matchAll(/<!-- example: ([\w-]+) -->/g)) {
    const script = blockAfter(text, `<!-- example: ${name} -->`, ['sh', 'bash'])
    if (script === undefined) throw new Error(`${file}: <!-- example: ${name} --> is not followed by a \`\`\`sh block`)
    const printed = blockAfter(text, `<!-- prints: ${name} -->`, ['', 'text', 'json'])
    if (printed === undefined) throw new Error(`${file}: example ${name} has no <!-- prints: ${name} --> block`)
    found.push({ file, name, script, expected: printed.split('\n').filter(line => line.trim() !== '') })
  }
  return found
}

/** Whether `line` holds the parts of `pattern` between its `…`, in order. */
function matches (pattern: string, line: string): boolean {
  let from = 0
  for (const part of pattern.split('…')) {
    const at = line.indexOf(part, from)
    if (at === -1) return false
    from = at + part.length
  }
  return true
}

/** The first expected line that the output does not show (in order), or undefined when all are there. */
function missingLine (expected: string[], output: string): string | undefined {
  const lines = output.split('\n')
  let next = 0
  for (const pattern of expected) {
    while (next < lines.length && !matches(pattern, lines[next])) next++
    if (next === lines.length) return pattern
    next++
  }
  return undefined
}

/** Runs `script` with bash in the project folder; resolves with stdout and stderr, killing its whole process group after the timeout. */
async function runBash (script: string, env: NodeJS.ProcessEnv): Promise<{ stdout: string, stderr: string, code: number | null }> {
  const child = spawn('bash', ['-c', script], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => { stdout += chunk })
  child.stderr.on('data', chunk => { stderr += chunk })
  const timer = setTimeout(() => {
    stderr += `\n(the example was still running after ${EXAMPLE_TIMEOUT_MS} ms and was stopped)`
    try { process.kill(-(child.pid as number), 'SIGKILL') } catch {}
  }, EXAMPLE_TIMEOUT_MS)
  const code = await new Promise<number | null>(resolve => child.once('close', resolve))
  clearTimeout(timer)
  // Background jobs the example left behind (a listener that did not stop) go with it.
  try { process.kill(-(child.pid as number), 'SIGKILL') } catch {}
  return { stdout, stderr, code }
}

const all = FILES.flatMap(file => examples(file, readFileSync(join(ROOT, file), 'utf8')))

t.test('README.md marks its first example, "Try it in a minute", for this test', async t => {
  t.ok(all.some(example => example.file === 'README.md' && example.name === 'try-it'))
})

for (const example of all) {
  t.test(`${example.file}: example "${example.name}" prints what its text says`, async t => {
    const server = await startServer(t)
    const scratch = mkdtempSync(join(tmpdir(), `readme-${example.name}-`))
    const script = example.script
      .replaceAll('localhost:8000', `127.0.0.1:${server.port}`)
      .replaceAll('127.0.0.1:8000', `127.0.0.1:${server.port}`)
      .replaceAll('/tmp/', `${scratch}/`)
    const { stdout, stderr, code } = await runBash(script, { ...process.env, JWT_SECRET: TEST_SECRET, NODE_ENV: 'development' })
    const missing = missingLine(example.expected, stdout)
    if (missing === undefined) t.pass('it prints every line its text promises, in order')
    else t.fail(`the output lacks this line, or has it out of order:\n${missing}\n--- output ---\n${stdout}\n--- stderr ---\n${stderr}\n--- exit code ${String(code)}`)
    if (code === 0) t.pass('it exits 0')
    else t.fail(`it exits ${String(code)}\n--- stderr ---\n${stderr}`)
  })
}

t.test('the matcher: lines in order, … for any text', async t => {
  const output = '{"seq":1}\n{"type":"connection_status","status":"connected","user_id":"alice"}\n{"type":"alert","message":"x"}'
  t.equal(missingLine(['{"seq":…}', '{"type":"connection_status",…"status":"connected"…}', '{"type":"alert",…}'], output), undefined)
  t.equal(missingLine(['{"type":"alert",…}', '{"seq":…}'], output), '{"seq":…}', 'order counts')
  t.equal(missingLine(['{"type":"camera_event",…}'], output), '{"type":"camera_event",…}')
})
