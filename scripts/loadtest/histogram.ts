import * as hdr from 'hdr-histogram-js'

/**
 * Latency histograms in microseconds (HdrHistogram: fixed memory, 3
 * significant digits, from 1 µs to one hour), shipped between processes in
 * HdrHistogram's compressed base64 encoding and merged in the main process.
 */
export type Histogram = hdr.Histogram

export function newHistogram (): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })
}

/** Records a duration given in milliseconds. */
export function recordMs (histogram: Histogram, ms: number): void {
  if (Number.isFinite(ms)) histogram.recordValue(Math.max(1, Math.min(3_600_000_000, Math.round(ms * 1000))))
}

export function encode (histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram)
}

/** Adds an encoded histogram into `into`. */
export function mergeEncoded (into: Histogram, encoded: string): void {
  into.add(hdr.decodeFromCompressedBase64(encoded))
}

export interface Summary { count: number, p50: number, p95: number, p99: number, max: number }

/** Percentiles in milliseconds. */
export function summarize (histogram: Histogram): Summary {
  const ms = (us: number): number => Math.round(us) / 1000
  return {
    count: histogram.totalCount,
    p50: ms(histogram.getValueAtPercentile(50)),
    p95: ms(histogram.getValueAtPercentile(95)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue)
  }
}
