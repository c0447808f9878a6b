/**
 * Reads an OpenTelemetry Collector configuration (YAML) into the shape the semantic diff works
 * on: components by section, pipelines, service extensions and telemetry. Comments, key order,
 * quoting style, anchors and merge keys do not survive parsing, so they cannot show up as changes.
 * Every problem names the source and the line, because a config is usually fixed in an editor.
 */
import {type Document, LineCounter, type Node as YamlNode, parseDocument} from 'yaml'

import {InputError} from '../errors.js'

/** A YAML value after parsing: what the Collector itself would see. */
export type ConfigValue = null | boolean | number | string | ConfigValue[] | {[key: string]: ConfigValue}
export type ConfigMap = {[key: string]: ConfigValue}

/** The top-level maps of component definitions, in the order the Collector documents them. */
export const COMPONENT_SECTIONS = ['receivers', 'processors', 'exporters', 'extensions', 'connectors'] as const
export type ComponentSection = (typeof COMPONENT_SECTIONS)[number]

export const PIPELINE_LISTS = ['receivers', 'processors', 'exporters'] as const
export type PipelineList = (typeof PIPELINE_LISTS)[number]

export interface Pipeline {
  receivers: string[]
  processors: string[]
  exporters: string[]
  /** Any other key of the pipeline, kept so that no difference goes unreported. */
  other: ConfigMap
}

export interface CollectorConfig {
  /** Component id (`type[/name]`) → its settings; an empty definition (`otlp:`) is `{}`. */
  components: Record<ComponentSection, Record<string, ConfigMap>>
  /** `service.pipelines`, by pipeline id (`traces`, `logs/forensic`). */
  pipelines: Record<string, Pipeline>
  /** `service.extensions`: the extensions that are enabled. */
  extensions: string[]
  /** `service.telemetry`, as written (undefined when absent). */
  telemetry: ConfigValue | undefined
  /** Top-level keys, and keys under `service` (kept as `other.service`), that the fields above do not cover. */
  other: ConfigMap
}

/**
 * COLLECTOR_CONFIG_INVALID: the text is not YAML, or not shaped like a Collector config.
 * The message starts with `<source>: line N, column M:` whenever the place is known.
 */
export class CollectorConfigError extends InputError {
  readonly line: number | undefined

  constructor(source: string, line: number | undefined, column: number | undefined, problem: string) {
    const where = line === undefined ? '' : ` line ${line}${column === undefined ? '' : `, column ${column}`}:`
    super('COLLECTOR_CONFIG_INVALID', `${source}:${where} ${problem}`, {
      remedy: 'Fix the YAML at that place; an OpenTelemetry Collector config is a mapping of receivers, processors, exporters, extensions, connectors and service.',
    })
    this.line = line
  }
}

/** Parses Collector YAML; `source` names it in errors (a file path, or e.g. "profile default from the server"). */
export function parseCollectorConfig(text: string, source: string): CollectorConfig {
  const lineCounter = new LineCounter()
  const document = parseDocument(text.replace(/^\uFEFF/, ''), {lineCounter, merge: true, prettyErrors: false, uniqueKeys: true})
  const first = document.errors[0]
  if (first) {
    const place = lineCounter.linePos(first.pos[0])
    throw new CollectorConfigError(source, place.line, place.col, firstLine(first.message))
  }

  let root: unknown
  try {
    root = document.toJS()
  } catch (error) {
    // Alias bombs and the like: the document is valid YAML that cannot be expanded safely.
    throw new CollectorConfigError(source, undefined, undefined, firstLine((error as Error).message))
  }

  return new Reader(source, document, lineCounter).config(root)
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message
}

type Path = readonly (string | number)[]

/** Walks the parsed value, checking shapes and reporting the YAML line of anything out of place. */
class Reader {
  constructor(
    private readonly source: string,
    private readonly document: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  config(root: unknown): CollectorConfig {
    if (root === null || root === undefined) this.fail([], 'the document is empty; a Collector config is a YAML mapping')
    this.refuseCycles(root, [], new Set())
    const top = this.map(root, [], 'the document')
    const config: CollectorConfig = {
      components: {receivers: {}, processors: {}, exporters: {}, extensions: {}, connectors: {}},
      pipelines: {},
      extensions: [],
      telemetry: undefined,
      other: {},
    }

    for (const [key, value] of Object.entries(top)) {
      if ((COMPONENT_SECTIONS as readonly string[]).includes(key)) {
        const section = key as ComponentSection
        const components = value === null ? {} : this.map(value, [key], `"${key}"`)
        for (const [id, settings] of Object.entries(components)) {
          config.components[section][id] = settings === null ? {} : this.map(settings, [key, id], `${key}.${id}`)
        }
      } else if (key === 'service') {
        this.service(value, config)
      } else {
        config.other[key] = value
      }
    }

    return config
  }

  private service(value: ConfigValue, config: CollectorConfig): void {
    const service = value === null ? {} : this.map(value, ['service'], '"service"')
    for (const [key, entry] of Object.entries(service)) {
      if (key === 'pipelines') {
        const pipelines = entry === null ? {} : this.map(entry, ['service', 'pipelines'], 'service.pipelines')
        for (const [id, pipeline] of Object.entries(pipelines)) config.pipelines[id] = this.pipeline(pipeline, id)
      } else if (key === 'extensions') {
        config.extensions = this.names(entry, ['service', 'extensions'], 'service.extensions')
      } else if (key === 'telemetry') {
        config.telemetry = entry
      } else {
        const rest = (config.other.service ??= {}) as ConfigMap
        rest[key] = entry
      }
    }
  }

  private pipeline(value: ConfigValue, id: string): Pipeline {
    const path = ['service', 'pipelines', id]
    const body = value === null ? {} : this.map(value, path, `service.pipelines.${id}`)
    const pipeline: Pipeline = {receivers: [], processors: [], exporters: [], other: {}}
    for (const [key, entry] of Object.entries(body)) {
      if ((PIPELINE_LISTS as readonly string[]).includes(key)) pipeline[key as PipelineList] = this.names(entry, [...path, key], `service.pipelines.${id}.${key}`)
      else pipeline.other[key] = entry
    }

    return pipeline
  }

  /** An alias inside its own anchor (`a: &x [*x]`) makes an endless value; nothing downstream could compare it. */
  private refuseCycles(value: unknown, path: (string | number)[], open: Set<unknown>): void {
    if (typeof value !== 'object' || value === null) return
    if (open.has(value)) this.fail(path, 'an alias refers to the anchor it is inside of, which makes an endless value')
    open.add(value)
    for (const [key, child] of Object.entries(value)) this.refuseCycles(child, [...path, Array.isArray(value) ? Number(key) : key], open)
    open.delete(value)
  }

  private map(value: unknown, path: Path, what: string): ConfigMap {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as ConfigMap
    return this.fail(path, `${what} must be a mapping, not ${describe(value)}`)
  }

  private names(value: ConfigValue, path: Path, what: string): string[] {
    if (value === null) return []
    if (!Array.isArray(value)) return this.fail(path, `${what} must be a list of component ids, not ${describe(value)}`)
    return value.map((entry, index) => {
      if (typeof entry !== 'string') return this.fail([...path, index], `${what}[${index}] must be a component id, not ${describe(entry)}`)
      return entry
    })
  }

  /** Throws with the line of the node at `path`, or of its nearest ancestor that is in the text (merge keys). */
  private fail(path: Path, problem: string): never {
    for (let depth = path.length; depth >= 0; depth--) {
      const offset = this.nodeAt(path.slice(0, depth))?.range?.[0]
      if (offset !== undefined) {
        const place = this.lineCounter.linePos(offset)
        throw new CollectorConfigError(this.source, place.line, place.col, problem)
      }
    }

    throw new CollectorConfigError(this.source, undefined, undefined, problem)
  }

  private nodeAt(path: Path): YamlNode | undefined {
    if (path.length === 0) return this.document.contents ?? undefined
    try {
      const node = this.document.getIn(path, true) as unknown
      return typeof node === 'object' && node !== null && 'range' in node ? (node as YamlNode) : undefined
    } catch {
      return undefined
    }
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return `the ${typeof value} ${JSON.stringify(value)}`
}
