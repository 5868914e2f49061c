// Reads /metrics the way a scraper does: with parse-prometheus-text-format, a parser of the
// Prometheus text exposition format whose sample-line grammar is ported from the official
// Python client. It is independent of prom-client, so a format mistake in what prom-client
// writes (or in how sluice names and labels its series) fails here instead of passing a
// round trip through the library that wrote it. It throws on a line it cannot parse.
//
// Its folding of histograms ignores labels (every series of a histogram family lands in one
// set of buckets, and labelled _sum/_count lines are dropped), so tests read a histogram's
// buckets only where the family has a single series.
import { createRequire } from 'node:module'

export interface PrometheusSample {
  readonly value?: string
  readonly labels?: Readonly<Record<string, string>>
  readonly buckets?: Readonly<Record<string, string>>
}

export interface PrometheusFamily {
  readonly name: string
  readonly help: string
  readonly type: 'GAUGE' | 'COUNTER' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
  readonly metrics: readonly PrometheusSample[]
}

const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => PrometheusFamily[]

export function parsePrometheusText(text: string): Map<string, PrometheusFamily> {
  return new Map(parse(text).map((family) => [family.name, family]))
}

/** The value of the sample of `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(
  families: ReadonlyMap<string, PrometheusFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const sample = families
    .get(name)
    ?.metrics.find((m) => Object.entries(labels).every(([key, value]) => m.labels?.[key] === value))
  return sample?.value === undefined ? undefined : Number(sample.value)
}

/** Every sample of `name`, as label sets with values. */
export function samples(
  families: ReadonlyMap<string, PrometheusFamily>,
  name: string,
): { labels: Readonly<Record<string, string>>; value: number }[] {
  return (families.get(name)?.metrics ?? []).map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }))
}
