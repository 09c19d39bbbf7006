// Module hooks that run the project's TypeScript in the test processes.
//
// tsx did this job, but it costs about 0.3 s of CPU more per process
// (measured under tap on 16 test files: 26 s of CPU with tsx, 22 s with
// these hooks), and `npm test` starts some 80 processes on two cores. These
// hooks do only what this project needs: `./x.js` finds `./x.ts` (NodeNext
// imports), and a `.ts` file loads as an ES module with its types stripped by
// esbuild. The output is cached on disk by content (.tap/ts-cache, safe to
// delete), so a warm run never starts esbuild. The module URL stays the `.ts`
// file's, so import.meta works as it did with tsx, and the inline source maps
// keep stack traces on the `.ts` lines.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = new URL('../../', import.meta.url).href
const CACHE = fileURLToPath(new URL('../../.tap/ts-cache/', import.meta.url))
/** Everything that changes the output, besides the file and its source. */
const OPTIONS = { loader: 'ts', format: 'esm', target: 'node20', sourcemap: 'inline' }
const ESBUILD = createRequire(import.meta.url)('esbuild/package.json').version

const ours = url => url.startsWith(ROOT) && !url.includes('/node_modules/')
const isTypeScript = url => url.startsWith('file:') && url.endsWith('.ts') && !url.includes('/node_modules/')

export async function resolve (specifier, context, nextResolve) {
  const parent = context.parentURL
  if (parent !== undefined && ours(parent) && specifier.endsWith('.js') && (specifier.startsWith('./') || specifier.startsWith('../'))) {
    const ts = new URL(`${specifier.slice(0, -3)}.ts`, parent)
    if (existsSync(ts)) return { url: ts.href, format: 'module', shortCircuit: true }
  }
  return await nextResolve(specifier, context)
}

export async function load (url, context, nextLoad) {
  if (!isTypeScript(url)) return await nextLoad(url, context)
  // The next hooks read the file (tap's processinfo records it on the way).
  const { source } = await nextLoad(url, { ...context, format: 'module' })
  return { format: 'module', source: await compile(fileURLToPath(url), String(source)), shortCircuit: true }
}

let esbuild = null

async function compile (file, source) {
  const key = createHash('sha256').update(JSON.stringify([ESBUILD, OPTIONS, file])).update(source).digest('hex')
  const cached = join(CACHE, `${key}.js`)
  try {
    return readFileSync(cached, 'utf8')
  } catch {}
  esbuild ??= await import('esbuild')
  const { code } = esbuild.transformSync(source, { ...OPTIONS, sourcefile: file })
  // Several test processes may compile the same file at once: write aside, then rename.
  mkdirSync(CACHE, { recursive: true })
  const temporary = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`
  writeFileSync(temporary, code)
  renameSync(temporary, cached)
  return code
}
