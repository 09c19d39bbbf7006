/**
 * `npm run bench -- --handshake-pairs K`: the cluster's handshakes/s against
 * one process's, measured so that a slow spell of the machine hits both.
 *
 *   npm run bench -- --handshake-pairs 10 --sizes 15000
 *
 * The main table measures each target in its own few minutes (start, warm
 * up, open N, fan-outs, stop), so a ratio of two such runs also compares two
 * moments of a shared machine: in one round of 2026-12-01 the clients
 * themselves needed 369 µs of CPU per handshake against 267–315 µs in the
 * others, and that round's ratio was 0.70×. Here both targets (service and
 * service-cluster, with its redis-server) run side by side, warmed up once,
 * and bursts of N handshakes alternate between them, S C C S S C C S …:
 * each burst opens N sockets from fresh client processes and addresses,
 * measures as the main table does, then closes them and waits until the
 * service counts none before the next. Burst pair i is service then cluster
 * for even i, cluster then service for odd i, so each run of four (pairs
 * 2j and 2j+1) is ABBA and cancels a slowdown that grows or fades steadily
 * across it. The idle target costs the measured one almost nothing (no
 * statistics push or heartbeat is due within the run: SERVICE_ENV).
 *
 * Reports every pair's ratio, every ABBA run's ratio (cluster handshakes
 * over service handshakes summed over the four bursts), their median and
 * lowest, and each burst's CPU per handshake, and writes JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** One burst's figures, as run.ts measures a connect phase. */
export interface Burst {
  opened: number
  failed: number
  handshakesPerSec: number
  /** CPU per handshake (µs): the service's processes (redis-server included) and the client processes. */
  serviceCpuUs: number
  clientCpuUs: number
}

export type PairTarget = 'service' | 'service-cluster'

export interface HandshakePairsContext<R> {
  sizes: number[]
  pairs: number
  out: string | undefined
  machine: Record<string, unknown>
  start: (target: PairTarget) => Promise<R>
  stop: (running: R) => Promise<void>
  /** Opens and closes the warm-up connections of one target, before bursts of N. */
  warm: (running: R, target: PairTarget, n: number) => Promise<void>
  /** Opens N sockets, measures, closes them and waits until the target counts none. */
  burst: (running: R, target: PairTarget, n: number) => Promise<Burst>
  interrupted: () => boolean
}

export interface PairSummary {
  /** Per pair: cluster handshakes/s over service handshakes/s. */
  pairs: number[]
  /** Per ABBA run (pairs 2j and 2j+1): the cluster's handshakes over the service's, summed over its four bursts. */
  abba: number[]
}

/**
 * The ratios of a run of pairs. Each rate is weighted by what it measured
 * (a burst of N handshakes at r/s took N/r s): the ABBA ratio is the
 * cluster's handshakes over its seconds against the service's, so a burst
 * slowed by the machine counts with the time it took.
 */
export function summarize (service: Burst[], cluster: Burst[]): PairSummary {
  const count = Math.min(service.length, cluster.length)
  const pairs: number[] = []
  for (let i = 0; i < count; i++) pairs.push(cluster[i].handshakesPerSec / service[i].handshakesPerSec)
  const abba: number[] = []
  for (let i = 0; i + 1 < count; i += 2) {
    abba.push(rateOf([cluster[i], cluster[i + 1]]) / rateOf([service[i], service[i + 1]]))
  }
  return { pairs, abba }
}

function rateOf (bursts: Burst[]): number {
  let opened = 0
  let seconds = 0
  for (const burst of bursts) {
    opened += burst.opened
    seconds += burst.opened / burst.handshakesPerSec
  }
  return opened / seconds
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.ceil(sorted.length / 2) - 1]
}

/** `0.84, 0.91 (median 0.88, lowest 0.84)`. */
export function ratiosText (ratios: number[]): string {
  if (ratios.length === 0) return 'none'
  return `${ratios.map(r => r.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)}, lowest ${Math.min(...ratios).toFixed(2)})`
}

export async function handshakePairs<R> (ctx: HandshakePairsContext<R>): Promise<void> {
  const results: Array<{ n: number, service: Burst[], cluster: Burst[], summary: PairSummary }> = []
  for (const n of ctx.sizes) {
    console.log(`  N=${n}: service and service-cluster side by side, ${ctx.pairs} pairs of bursts …`)
    const service = await ctx.start('service')
    let cluster: R | undefined
    const bursts: Record<PairTarget, Burst[]> = { service: [], 'service-cluster': [] }
    try {
      cluster = await ctx.start('service-cluster')
      await ctx.warm(service, 'service', n)
      await ctx.warm(cluster, 'service-cluster', n)
      // One pair more, not counted: a process keeps optimizing its code over the first bursts of N.
      for (const target of ['service', 'service-cluster'] as const) {
        console.log(`    warm-up burst, ${target}:`)
        await ctx.burst(target === 'service' ? service : cluster, target, n)
      }
      for (let i = 0; i < ctx.pairs && !ctx.interrupted(); i++) {
        const order: PairTarget[] = i % 2 === 0 ? ['service', 'service-cluster'] : ['service-cluster', 'service']
        const pair: Partial<Record<PairTarget, Burst>> = {}
        for (const target of order) {
          console.log(`    pair ${i + 1}/${ctx.pairs}, ${target}:`)
          pair[target] = await ctx.burst(target === 'service' ? service : cluster, target, n)
        }
        bursts.service.push(pair.service!)
        bursts['service-cluster'].push(pair['service-cluster']!)
        console.log(`    pair ${i + 1}: ${(pair['service-cluster']!.handshakesPerSec / pair.service!.handshakesPerSec).toFixed(2)}×`)
      }
    } finally {
      if (cluster !== undefined) await ctx.stop(cluster)
      await ctx.stop(service)
    }
    const summary = summarize(bursts.service, bursts['service-cluster'])
    results.push({ n, service: bursts.service, cluster: bursts['service-cluster'], summary })
  }
  const lines: string[] = []
  for (const { n, service, cluster, summary } of results) {
    const failed = [...service, ...cluster].reduce((sum, b) => sum + b.failed, 0)
    const cpu = (bursts: Burst[], pick: (b: Burst) => number): string => {
      const values = bursts.map(pick)
      return `${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))} µs`
    }
    lines.push(
      `N=${n}, ${summary.pairs.length} pairs${failed > 0 ? ` (${failed} handshakes failed)` : ''}:`,
      `  service handshakes/s: ${service.map(b => Math.round(b.handshakesPerSec)).join(', ')}`,
      `  service-cluster handshakes/s: ${cluster.map(b => Math.round(b.handshakesPerSec)).join(', ')}`,
      `  CPU per handshake: service ${cpu(service, b => b.serviceCpuUs)} (clients ${cpu(service, b => b.clientCpuUs)}), service-cluster ${cpu(cluster, b => b.serviceCpuUs)} (clients ${cpu(cluster, b => b.clientCpuUs)})`,
      `  service-cluster / service, pair by pair: ${ratiosText(summary.pairs)}`,
      `  service-cluster / service, ABBA runs of four bursts: ${ratiosText(summary.abba)}`
    )
  }
  const table = lines.join('\n')
  console.log('\n' + table)
  mkdirSync(join(here, 'results'), { recursive: true })
  const out = ctx.out ?? join(here, 'results', `handshake-pairs-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: ctx.machine, pairs: ctx.pairs, results, table }, null, 2))
  console.log(`results written to ${out}`)
}
