/** Small builders for OTLP/JSON (the protobuf JSON mapping: hex ids, 64-bit integers as strings). */

export type AttributeValue = string | number | boolean

export interface KeyValue {
  key: string
  value: {stringValue: string} | {intValue: string} | {doubleValue: number} | {boolValue: boolean}
}

export function attribute(key: string, value: AttributeValue): KeyValue {
  if (typeof value === 'string') return {key, value: {stringValue: value}}
  if (typeof value === 'boolean') return {key, value: {boolValue: value}}
  return Number.isInteger(value) ? {key, value: {intValue: String(value)}} : {key, value: {doubleValue: value}}
}

export function attributes(values: Record<string, AttributeValue>): KeyValue[] {
  return Object.entries(values).map(([key, value]) => attribute(key, value))
}

/** Milliseconds since the epoch (and extra nanoseconds) as OTLP's decimal-string nanoseconds. */
export function unixNano(ms: number, extraNanos = 0): string {
  return (BigInt(ms) * 1_000_000n + BigInt(extraNanos)).toString()
}

export function msOfUnixNano(nanos: string): number {
  return Number(BigInt(nanos) / 1_000_000n)
}

export function compareUnixNano(a: string, b: string): number {
  const x = BigInt(a)
  const y = BigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}

export const SPAN_KIND = {internal: 1, server: 2, client: 3, producer: 4, consumer: 5} as const
export const STATUS_CODE = {unset: 0, ok: 1, error: 2} as const

/** OTLP severity numbers of the first number of each range. */
export const SEVERITY = {TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21} as const
export type SeverityText = keyof typeof SEVERITY

/**
 * The inverse of the flattening of `/obs/logs` items (an OTLP/JSON LogRecord with its `resource`
 * and `scope` beside it): OTLP/JSON ResourceLogs, one per distinct resource in order of first
 * appearance, each with one ScopeLogs per distinct scope; records keep their order.
 */
export function resourceLogsOf(items: readonly Record<string, unknown>[]): {resource?: unknown; scopeLogs: {scope?: unknown; logRecords: Record<string, unknown>[]}[]}[] {
  const byResource = new Map<string, {resource: unknown; scopes: Map<string, {scope: unknown; logRecords: Record<string, unknown>[]}>}>()
  for (const item of items) {
    const {resource, scope, ...record} = item
    const resourceKey = JSON.stringify(resource) ?? ''
    let group = byResource.get(resourceKey)
    if (!group) byResource.set(resourceKey, (group = {resource, scopes: new Map()}))
    const scopeKey = JSON.stringify(scope) ?? ''
    let scoped = group.scopes.get(scopeKey)
    if (!scoped) group.scopes.set(scopeKey, (scoped = {scope, logRecords: []}))
    scoped.logRecords.push(record)
  }

  return [...byResource.values()].map((g) => ({
    ...(g.resource === undefined ? {} : {resource: g.resource}),
    scopeLogs: [...g.scopes.values()].map((s) => ({...(s.scope === undefined ? {} : {scope: s.scope}), logRecords: s.logRecords})),
  }))
}
