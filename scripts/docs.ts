import { writeFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { buildAsyncApi } from './docs/asyncapi.js'
import { DOCS_PREFIX } from '../src/docs/openapi.js'
import { documentText } from '../src/docs/stable.js'

const USAGE = `usage: npm run docs [-- --only openapi|asyncapi]

Writes docs/openapi.json (the HTTP API, as the service serves it at ${DOCS_PREFIX}/json)
and docs/asyncapi.json (the WebSocket protocol, from src/protocol/messages.ts).
Run it after changing a route schema or a protocol message; a test compares both files.`

/** The OpenAPI document exactly as the service serves it: the app is built (never listens) and asked. */
export async function generateOpenApi (): Promise<string> {
  // A throwaway secret: the document does not depend on it, and no token is signed.
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'docs-generation-only-'.padEnd(40, 'x'), LOG_LEVEL: 'silent', API_DOCS: 'true' })
  const app = await buildApp(config, { logger: false })
  try {
    const reply = await app.inject(`${DOCS_PREFIX}/json`)
    if (reply.statusCode !== 200) throw new Error(`${DOCS_PREFIX}/json answered ${reply.statusCode}: ${reply.body}`)
    return documentText(reply.json())
  } finally {
    await app.close()
  }
}

export function generateAsyncApi (): string {
  return documentText(buildAsyncApi())
}

async function main (): Promise<void> {
  let only: string | undefined
  try {
    const { values } = parseArgs({ options: { only: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true })
    if (values.help === true) {
      console.log(USAGE)
      return
    }
    only = values.only
    if (only !== undefined && only !== 'openapi' && only !== 'asyncapi') throw new Error(`--only must be openapi or asyncapi, not ${JSON.stringify(only)}`)
  } catch (err) {
    console.error(`docs: ${(err as Error).message}\n${USAGE}`)
    process.exitCode = 2
    return
  }
  const root = new URL('../docs/', import.meta.url)
  if (only !== 'asyncapi') {
    await writeFile(new URL('openapi.json', root), await generateOpenApi())
    console.log('wrote docs/openapi.json')
  }
  if (only !== 'openapi') {
    await writeFile(new URL('asyncapi.json', root), generateAsyncApi())
    console.log('wrote docs/asyncapi.json')
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(`docs: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  })
}
