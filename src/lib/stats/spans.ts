/**
 * What a span contributes to RED statistics. Only server spans count: they are the requests a
 * service answered. The route and status come from the current HTTP semantic conventions, falling
 * back to the older attribute names that many instrumentations still send.
 */
import {SpanKind, type SpanRecord, StatusCode} from '../otlp/types.js'
import {stringAttribute} from '../otlp/values.js'
import type {SpanSample} from './red.js'

export const UNKNOWN_SERVICE = 'unknown_service'

/** The sample of a server span, or undefined for any other kind. */
export function sampleOfSpan(span: SpanRecord): SpanSample | undefined {
  if (span.kind !== SpanKind.SERVER) return undefined
  const attributes = span.attributes
  const service = stringAttribute(span.resource.attributes, 'service.name') || UNKNOWN_SERVICE
  const method = stringAttribute(attributes, 'http.request.method') ?? stringAttribute(attributes, 'http.method')
  const route = stringAttribute(attributes, 'http.route')
  const status = Number(stringAttribute(attributes, 'http.response.status_code') ?? stringAttribute(attributes, 'http.status_code'))
  const durationNs = span.endTimeUnixNano > span.startTimeUnixNano ? span.endTimeUnixNano - span.startTimeUnixNano : 0n
  return {
    service,
    route: routeLabel(method, route, span.name),
    durationMs: Number(durationNs) / 1e6,
    error: span.status.code === StatusCode.ERROR || status >= 500,
  }
}

/** "GET /orders/{id}": the method and the route template; the span name when there is no route. */
function routeLabel(method: string | undefined, route: string | undefined, name: string): string {
  if (route === undefined || route === '') return name
  if (method === undefined || method === '' || route.startsWith(`${method} `)) return route
  return `${method} ${route}`
}
