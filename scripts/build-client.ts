/**
 * Builds the dashboard page and the browser client into dist/public:
 *
 *   npm run build            (runs this after tsc)
 *
 * The same function serves the dashboard straight from the sources when the
 * service runs through tsx (npm run dev, npm run demo, the tests), so the
 * page is always built from the same source as the rest of the project.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { parseCli } from './lib/cli.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** One file of the dashboard: its path under dist/public (and its URL path). */
export interface BuiltAsset {
  path: string
  contents: Uint8Array
}

/** Static files copied as they are. */
const STATIC_FILES: Array<[source: string, path: string]> = [
  ['public/index.html', 'index.html'],
  ['public/dashboard.css', 'assets/dashboard.css'],
  ['public/icon.svg', 'assets/icon.svg']
]

/** Bundled ES modules: the page's script, and the client for other pages. */
const ENTRY_POINTS = {
  'assets/dashboard': join(ROOT, 'public/dashboard.ts'),
  'assets/statistics-client': join(ROOT, 'src/client/index.ts')
}

/** Builds every dashboard file in memory. */
export async function buildDashboardAssets (): Promise<BuiltAsset[]> {
  const result = await build({
    entryPoints: ENTRY_POINTS,
    outdir: join(ROOT, 'dist/public'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent'
  })
  const outdir = join(ROOT, 'dist/public') + '/'
  const assets: BuiltAsset[] = result.outputFiles.map(file => ({ path: file.path.slice(outdir.length), contents: file.contents }))
  for (const [source, path] of STATIC_FILES) {
    assets.push({ path, contents: await readFile(join(ROOT, source)) })
  }
  return assets
}

/** Writes the built files under `outdir` (dist/public by default). */
export async function writeDashboardAssets (outdir = join(ROOT, 'dist/public')): Promise<BuiltAsset[]> {
  const assets = await buildDashboardAssets()
  for (const asset of assets) {
    const target = join(outdir, asset.path)
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, asset.contents)
  }
  return assets
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  parseCli({
    name: 'build-client',
    command: 'tsx scripts/build-client.ts',
    summary: 'Bundles the dashboard (public/) into dist/public/; `npm run build` runs it. It takes no options.',
    options: {}
  })
  writeDashboardAssets().then(assets => {
    for (const asset of assets) console.log(`dist/public/${asset.path}  ${asset.contents.byteLength} bytes`)
  }, (err: unknown) => {
    console.error(`building the dashboard failed: ${(err as Error).message}`)
    process.exit(1)
  })
}
