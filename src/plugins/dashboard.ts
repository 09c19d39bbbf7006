import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { errorReply } from '../protocol/http-replies.js'

/**
 * The dashboard page at `/` and its files under `/assets/`, including the
 * browser client as an ES module (`/assets/statistics-client.js`) for other
 * pages. Everything is served from this service: the page works with no
 * internet access.
 *
 * Built service (dist/): the files `npm run build` wrote to dist/public.
 * Sources through tsx (dev, demo, tests): built in memory with esbuild on
 * the first request, so the page always matches the source.
 */

interface Asset {
  body: Buffer
  type: string
  etag: string
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml'
}

function asset (path: string, contents: Uint8Array): [string, Asset] {
  const body = Buffer.from(contents.buffer, contents.byteOffset, contents.byteLength)
  const extension = path.slice(path.lastIndexOf('.'))
  return [path, {
    body,
    type: TYPES[extension] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
  }]
}

async function listFiles (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter(entry => entry.isFile()).map(entry => join(entry.parentPath, entry.name))
}

const FROM_SOURCE = import.meta.url.endsWith('.ts')
/** The browser client as an ES module, for other pages. */
export const CLIENT_MODULE = 'assets/statistics-client.js'

async function loadAssets (): Promise<Map<string, Asset>> {
  if (FROM_SOURCE) {
    // A computed specifier keeps tsc from compiling the build script into the service.
    const script = new URL('../../scripts/build-client.ts', import.meta.url).href
    const { buildDashboardAssets } = await import(script) as { buildDashboardAssets: () => Promise<Array<{ path: string, contents: Uint8Array }>> }
    return new Map((await buildDashboardAssets()).map(file => asset(file.path, file.contents)))
  }
  // dist/src/plugins/dashboard.js -> dist/public
  const dir = fileURLToPath(new URL('../../public/', import.meta.url))
  const files = await listFiles(dir)
  return new Map(await Promise.all(files.map(async file => asset(relative(dir, file).split('\\').join('/'), await readFile(file)))))
}

// One build per process, shared by every app instance (tests build many).
let loading: Promise<Map<string, Asset>> | null = null
function assets (): Promise<Map<string, Asset>> {
  loading ??= loadAssets().catch((err: unknown) => {
    loading = null
    throw err
  })
  return loading
}

export default fp(async function dashboardPlugin (app) {
  const missing = FROM_SOURCE
    ? 'the dashboard could not be built from its sources; see the service log'
    : 'the dashboard files are missing: run `npm run build` before starting the service'

  async function serve (path: string, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    let files: Map<string, Asset>
    try {
      files = await assets()
    } catch (err) {
      request.log.error({ err }, 'dashboard files unavailable')
      return await reply.code(503).send({ statusCode: 503, code: 'PUSH_DASHBOARD_UNAVAILABLE', error: 'Service Unavailable', message: missing })
    }
    const file = files.get(path)
    if (file === undefined) {
      return await reply.code(404).send({ statusCode: 404, code: 'PUSH_NOT_FOUND', error: 'Not Found', message: `no dashboard file ${path}; the page is at /` })
    }
    // Revalidated on every load: a new version of the service is picked up at once.
    reply.header('cache-control', 'no-cache').header('etag', file.etag).header('x-content-type-options', 'nosniff')
    if (path === CLIENT_MODULE) {
      // Other sites' pages import the client as a module, which browsers
      // fetch with CORS. It is a public file without secrets.
      reply.header('access-control-allow-origin', '*').header('cross-origin-resource-policy', 'cross-origin')
    }
    if (request.headers['if-none-match'] === file.etag) return await reply.code(304).send()
    return await reply.type(file.type).send(file.body)
  }

  const fileReplies = {
    304: Type.Null({ description: 'Not modified since the ETag in If-None-Match' }),
    404: errorReply('No such file'),
    503: errorReply('The dashboard files are missing (run `npm run build`) or could not be built')
  }
  app.get('/', {
    schema: {
      summary: 'The dashboard page',
      description: 'Open it with `?token=<JWT>`. It loads only files from /assets/ under a strict Content-Security-Policy.',
      tags: ['dashboard'],
      response: { 200: { description: 'The page', content: { 'text/html': { schema: Type.String() } } }, ...fileReplies }
    }
  }, async (request, reply) => await serve('index.html', request, reply))
  app.get<{ Params: { name: string } }>('/assets/:name', {
    schema: {
      summary: 'A dashboard file',
      description: `Scripts, styles and images of the dashboard, and the browser client as an ES module at /${CLIENT_MODULE} (served with CORS, for other sites' pages).`,
      tags: ['dashboard'],
      params: Type.Object({ name: Type.String({ description: 'The file name, for example statistics-client.js' }) }),
      response: { 200: { description: 'The file', content: { 'text/javascript': { schema: Type.String() }, 'text/css': { schema: Type.String() } } }, ...fileReplies }
    }
  }, async (request, reply) => await serve(`assets/${request.params.name}`, request, reply))
}, { name: 'dashboard' })
