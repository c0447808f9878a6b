/**
 * The semantic difference between two OpenTelemetry Collector configurations: what an operator
 * must know before rolling one out in place of the other. It compares meaning, not text — key
 * order, comments and formatting are gone after parsing — and knows which orders matter: the
 * processors of a pipeline run in sequence, so their order is compared; receivers, exporters and
 * service extensions are sets.
 */
import {
  COMPONENT_SECTIONS,
  type CollectorConfig,
  type ComponentSection,
  type ConfigMap,
  type ConfigValue,
  type Pipeline,
  parseCollectorConfig,
} from './parse.js'

export type ChangeKind = 'added' | 'removed' | 'changed'

/** One value that differs; `path` is dotted (`protocols.grpc.endpoint`, `actions[0].key`, `headers["X-Tenant"]`). */
export interface ValueChange {
  path: string
  change: ChangeKind
  /** Absent when the value was added. */
  old?: ConfigValue
  /** Absent when the value was removed. */
  new?: ConfigValue
}

export interface ComponentChange {
  section: ComponentSection
  /** `type[/name]`, e.g. `otlp/forensic`. */
  id: string
  change: ChangeKind
  /** For a changed component: every setting that differs, paths relative to the component. Empty otherwise. */
  changes: ValueChange[]
  /** The settings of a removed component. */
  old?: ConfigMap
  /** The settings of an added component. */
  new?: ConfigMap
}

/** Members of an unordered list that appear on one side only. */
export interface ListChange {
  added: string[]
  removed: string[]
}

export interface ProcessorsChange extends ListChange {
  /** The processors present on both sides run in a different order. */
  reordered: boolean
  old: string[]
  new: string[]
}

export interface PipelineChange {
  /** `traces`, `metrics/internal`, … */
  id: string
  change: ChangeKind
  receivers: ListChange
  processors: ProcessorsChange
  exporters: ListChange
  /** Other keys of the pipeline that differ. */
  changes: ValueChange[]
}

export interface CollectorDiff {
  equal: boolean
  /** Ordered by section (receivers, processors, exporters, extensions, connectors), then id. */
  components: ComponentChange[]
  /** `service.pipelines`, ordered by pipeline id. */
  pipelines: PipelineChange[]
  /** `service.extensions`. */
  extensions: ListChange
  /** `service.telemetry`, paths relative to it. */
  telemetry: ValueChange[]
  /** Keys outside the Collector schema above (top level, or under `service`), paths from the root. */
  other: ValueChange[]
}

/** Parses both texts and diffs them; `sources` name them in parse errors. */
export function diffCollectorYaml(oldText: string, newText: string, sources: {old: string; new: string}): CollectorDiff {
  return diffCollectorConfigs(parseCollectorConfig(oldText, sources.old), parseCollectorConfig(newText, sources.new))
}

export function diffCollectorConfigs(oldConfig: CollectorConfig, newConfig: CollectorConfig): CollectorDiff {
  const components = COMPONENT_SECTIONS.flatMap((section) => diffComponents(section, oldConfig.components[section], newConfig.components[section]))
  const pipelines = sortedUnion(oldConfig.pipelines, newConfig.pipelines).flatMap((id) => {
    const change = diffPipeline(id, oldConfig.pipelines[id], newConfig.pipelines[id])
    return change ? [change] : []
  })
  const extensions = diffSet(oldConfig.extensions, newConfig.extensions)
  const telemetry = diffValue(orEmpty(oldConfig.telemetry), orEmpty(newConfig.telemetry))
  const other = diffValue(withService(oldConfig.other), withService(newConfig.other))
  const equal = components.length === 0 && pipelines.length === 0 && isEmptyList(extensions) && telemetry.length === 0 && other.length === 0
  return {equal, components, pipelines, extensions, telemetry, other}
}

function diffComponents(section: ComponentSection, before: Record<string, ConfigMap>, after: Record<string, ConfigMap>): ComponentChange[] {
  const changes: ComponentChange[] = []
  for (const id of sortedUnion(before, after)) {
    const old = before[id]
    const next = after[id]
    if (old === undefined) {
      changes.push({section, id, change: 'added', changes: [], new: next})
    } else if (next === undefined) {
      changes.push({section, id, change: 'removed', changes: [], old})
    } else {
      const settings = diffValue(old, next)
      if (settings.length > 0) changes.push({section, id, change: 'changed', changes: settings})
    }
  }

  return changes
}

const NO_PIPELINE: Pipeline = {receivers: [], processors: [], exporters: [], other: {}}

function diffPipeline(id: string, old: Pipeline | undefined, next: Pipeline | undefined): PipelineChange | undefined {
  const before = old ?? NO_PIPELINE
  const after = next ?? NO_PIPELINE
  const processors = diffSet(before.processors, after.processors)
  const inBoth = (list: string[], other: string[]) => list.filter((name) => other.includes(name))
  const reordered = !sameList(inBoth(before.processors, after.processors), inBoth(after.processors, before.processors))
  const change: PipelineChange = {
    id,
    change: old === undefined ? 'added' : next === undefined ? 'removed' : 'changed',
    receivers: diffSet(before.receivers, after.receivers),
    processors: {...processors, reordered, old: [...before.processors], new: [...after.processors]},
    exporters: diffSet(before.exporters, after.exporters),
    changes: diffValue(before.other, after.other),
  }

  const unchanged = isEmptyList(change.receivers) && isEmptyList(processors) && !reordered && isEmptyList(change.exporters) && change.changes.length === 0
  return change.change === 'changed' && unchanged ? undefined : change
}

function diffSet(before: readonly string[], after: readonly string[]): ListChange {
  return {
    added: unique(after.filter((name) => !before.includes(name))),
    removed: unique(before.filter((name) => !after.includes(name))),
  }
}

type Segment = string | number

/** Every difference between two values, as dotted paths below `path`, in sorted key order. */
export function diffValue(old: ConfigValue | undefined, next: ConfigValue | undefined, path: Segment[] = []): ValueChange[] {
  const out: ValueChange[] = []
  walk(old, next, path, out)
  return out
}

function walk(old: ConfigValue | undefined, next: ConfigValue | undefined, path: Segment[], out: ValueChange[]): void {
  if (old === undefined && next === undefined) return
  if (old === undefined) {
    out.push({path: formatPath(path), change: 'added', new: next})
  } else if (next === undefined) {
    out.push({path: formatPath(path), change: 'removed', old})
  } else if (isMap(old) && isMap(next)) {
    for (const key of sortedUnion(old, next)) walk(old[key], next[key], [...path, key], out)
  } else if (Array.isArray(old) && Array.isArray(next) && [...old, ...next].some((item) => isMap(item) || Array.isArray(item))) {
    // Lists of mappings (processor actions, routing tables) are compared item by item, so a
    // change deep inside one item is reported at its place, not as a whole new list.
    for (let index = 0; index < Math.max(old.length, next.length); index++) walk(old[index], next[index], [...path, index], out)
  } else if (!deepEqual(old, next)) {
    out.push({path: formatPath(path), change: 'changed', old, new: next})
  }
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/

/** `a.b[0]["c.d"]`: plain keys dotted, list indexes in brackets, anything else as a quoted key. */
export function formatPath(path: readonly Segment[]): string {
  let text = ''
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`
    else text += `[${JSON.stringify(segment)}]`
  }

  return text
}

function isMap(value: ConfigValue | undefined): value is ConfigMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function deepEqual(a: ConfigValue, b: ConfigValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => deepEqual(item, b[index] as ConfigValue))
  if (isMap(a) || isMap(b)) {
    if (!isMap(a) || !isMap(b)) return false
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && deepEqual(a[key] as ConfigValue, b[key] as ConfigValue))
  }

  return Object.is(a, b)
}

/** An absent or empty `service.telemetry` means the Collector's defaults either way. */
function orEmpty(value: ConfigValue | undefined): ConfigValue {
  return value === undefined || value === null ? {} : value
}

/** Unknown `service` keys compare key by key even when only one side has any. */
function withService(other: ConfigMap): ConfigMap {
  return {...other, service: other.service ?? {}}
}

function sortedUnion(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index])
}

function unique(list: string[]): string[] {
  return [...new Set(list)]
}

function isEmptyList(change: ListChange): boolean {
  return change.added.length === 0 && change.removed.length === 0
}
