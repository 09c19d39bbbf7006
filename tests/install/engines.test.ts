import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import t from 'tap'

/** npm's own range semantics (semver has no bundled types; these two calls are all the test needs). */
const semver = createRequire(import.meta.url)('semver') as {
  satisfies: (version: string, range: string) => boolean
  minVersion: (range: string) => { version: string } | null
}

/**
 * `npm ci` warns EBADENGINE for every locked package whose `engines.node`
 * rejects the running Node. The project's own `engines` names the Node
 * lines it supports; every package in the lockfile must accept the oldest
 * release of each of them, and the Node running the tests.
 */

const read = (path: string): any => JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'))
const pkg = read('package.json')
const lock = read('package-lock.json')

/** The oldest release of each line `engines.node` allows: "^20.19.0 || >=22.12.0" → 20.19.0, 22.12.0. */
function oldestOfEachLine (range: string): string[] {
  return range.split('||').map(part => semver.minVersion(part.trim())!.version)
}

t.test('every locked package accepts every Node the project supports', async t => {
  const nodes = [...oldestOfEachLine(pkg.engines.node), process.versions.node]
  t.ok(semver.satisfies(process.versions.node, pkg.engines.node), `the running Node ${process.versions.node} is one the project supports`)
  const refused: string[] = []
  for (const [path, entry] of Object.entries(lock.packages as Record<string, { engines?: { node?: string }, dev?: boolean }>)) {
    const range = entry.engines?.node
    if (path === '' || range === undefined) continue
    for (const node of nodes) {
      if (!semver.satisfies(node, range)) refused.push(`${path.replace(/^.*node_modules\//, '')} (${range}) refuses Node ${node}`)
    }
  }
  t.same(refused, [], 'no EBADENGINE on a clean install')
})

t.test('light-my-request works with the cookie version it is pinned to (fastify inject with cookies)', async t => {
  const app = Fastify()
  app.get('/', async request => ({ cookie: request.headers.cookie }))
  const response = await app.inject({ url: '/', cookies: { session: 'a b', other: '1' } })
  t.same(response.json(), { cookie: 'session=a%20b; other=1' })
  await app.close()
})
