import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {type CollectorDiff, diffCollectorYaml, formatPath} from '../../src/lib/collector/diff.js'
import {CollectorConfigError, parseCollectorConfig} from '../../src/lib/collector/parse.js'
import {ExitCode} from '../../src/lib/errors.js'
import {projectRoot, scratchDir} from '../helpers/cli.js'
import {thrownBy} from '../helpers/errors.js'

const fixture = (name: string) => join(projectRoot, 'test', 'fixtures', 'collector', name)
const read = (path: string) => readFileSync(path, 'utf8')

/** Diffs two YAML files, named in errors by their paths. */
function diffFiles(oldPath: string, newPath: string): CollectorDiff {
  return diffCollectorYaml(read(oldPath), read(newPath), {old: oldPath, new: newPath})
}

const NOTHING = {components: [], pipelines: [], extensions: {added: [], removed: []}, telemetry: [], other: []}
const BASE_TRACES_PROCESSORS = ['memory_limiter', 'attributes/tenant', 'batch']

let scratch: {path: string; cleanup: () => void}
beforeEach(() => {
  scratch = scratchDir('stella-collector-')
})
afterEach(() => scratch.cleanup())

/** Writes a YAML file into the scratch directory and returns its path. */
function yamlFile(name: string, text: string): string {
  const path = join(scratch.path, name)
  writeFileSync(path, text)
  return path
}

describe('semantic diff of collector configs', () => {
  it('finds nothing between configs that differ only in key order, list order of sets, quoting, flow style and comments', () => {
    expect(read(fixture('reordered.yaml'))).not.toBe(read(fixture('base.yaml')))
    expect(diffFiles(fixture('base.yaml'), fixture('reordered.yaml'))).toEqual({equal: true, ...NOTHING})
  })

  it('reports an added receiver with its settings', () => {
    expect(diffFiles(fixture('base.yaml'), fixture('added-receiver.yaml'))).toEqual({
      ...NOTHING,
      equal: false,
      components: [
        {section: 'receivers', id: 'otlp/forensic', change: 'added', changes: [], new: {protocols: {grpc: {endpoint: '0.0.0.0:4319'}}}},
      ],
    })
  })

  it('reports a removed exporter, and the pipeline that no longer exports to it', () => {
    expect(diffFiles(fixture('base.yaml'), fixture('removed-exporter.yaml'))).toEqual({
      ...NOTHING,
      equal: false,
      components: [{section: 'exporters', id: 'debug', change: 'removed', changes: [], old: {verbosity: 'basic'}}],
      pipelines: [
        {
          id: 'traces',
          change: 'changed',
          receivers: {added: [], removed: []},
          processors: {added: [], removed: [], reordered: false, old: BASE_TRACES_PROCESSORS, new: BASE_TRACES_PROCESSORS},
          exporters: {added: [], removed: ['debug']},
          changes: [],
        },
      ],
    })
  })

  it('reports changed nested keys as dotted paths with old and new values, inside lists too', () => {
    expect(diffFiles(fixture('base.yaml'), fixture('changed-nested.yaml'))).toEqual({
      ...NOTHING,
      equal: false,
      components: [
        {
          section: 'receivers',
          id: 'prometheus',
          change: 'changed',
          changes: [{path: 'config.scrape_configs[0].scrape_interval', change: 'changed', old: '30s', new: '10s'}],
        },
        {section: 'processors', id: 'attributes/tenant', change: 'changed', changes: [{path: 'actions[0].value', change: 'changed', old: 'acme', new: 'globex'}]},
        {
          section: 'exporters',
          id: 'otlp/platform',
          change: 'changed',
          changes: [
            {path: 'tls.ca_file', change: 'changed', old: '/etc/stella/ca.pem', new: '/etc/stella/ca-2027.pem'},
            {path: 'tls.min_version', change: 'added', new: '1.3'},
          ],
        },
      ],
    })
  })

  it('reports a change of processor order within a pipeline, with both orders', () => {
    expect(diffFiles(fixture('base.yaml'), fixture('processor-order.yaml'))).toEqual({
      ...NOTHING,
      equal: false,
      pipelines: [
        {
          id: 'traces',
          change: 'changed',
          receivers: {added: [], removed: []},
          processors: {added: [], removed: [], reordered: true, old: BASE_TRACES_PROCESSORS, new: ['memory_limiter', 'batch', 'attributes/tenant']},
          exporters: {added: [], removed: []},
          changes: [],
        },
      ],
    })
  })

  it('reports a new pipeline with everything it wires up', () => {
    expect(diffFiles(fixture('base.yaml'), fixture('new-pipeline.yaml'))).toEqual({
      ...NOTHING,
      equal: false,
      pipelines: [
        {
          id: 'logs/forensic',
          change: 'added',
          receivers: {added: ['otlp'], removed: []},
          processors: {added: ['memory_limiter', 'batch'], removed: [], reordered: false, old: [], new: ['memory_limiter', 'batch']},
          exporters: {added: ['otlp/platform'], removed: []},
          changes: [],
        },
      ],
    })
  })

  it('reports a removed pipeline the same way, from the other side', () => {
    const diff = diffFiles(fixture('new-pipeline.yaml'), fixture('base.yaml'))
    expect(diff.pipelines).toEqual([
      {
        id: 'logs/forensic',
        change: 'removed',
        receivers: {added: [], removed: ['otlp']},
        processors: {added: [], removed: ['memory_limiter', 'batch'], reordered: false, old: ['memory_limiter', 'batch'], new: []},
        exporters: {added: [], removed: ['otlp/platform']},
        changes: [],
      },
    ])
  })

  it('rejects invalid YAML with an input error naming the file and the line', () => {
    const error = thrownBy(() => diffFiles(fixture('base.yaml'), fixture('invalid.yaml')))
    expect(error).toBeInstanceOf(CollectorConfigError)
    expect(error.exitCode).toBe(ExitCode.Input)
    expect(error.code).toBe('COLLECTOR_CONFIG_INVALID')
    expect(error.message).toBe(`${fixture('invalid.yaml')}: line 9, column 1: All mapping items must start at the same column`)
    expect((error as CollectorConfigError).line).toBe(9)
  })

  it('diffs service extensions as a set, telemetry by path, and keys outside the schema too', () => {
    const before = yamlFile('before.yaml', 'service:\n  extensions: [health_check, pprof]\n  telemetry:\n    logs: {level: info}\n')
    const after = yamlFile(
      'after.yaml',
      'service:\n  extensions: [pprof, zpages]\n  telemetry:\n    logs: {level: debug}\n    metrics: {level: detailed}\n  custom: 1\nx-notes: hi\n',
    )
    expect(diffFiles(before, after)).toEqual({
      ...NOTHING,
      equal: false,
      extensions: {added: ['zpages'], removed: ['health_check']},
      telemetry: [
        {path: 'logs.level', change: 'changed', old: 'info', new: 'debug'},
        {path: 'metrics', change: 'added', new: {level: 'detailed'}},
      ],
      other: [
        {path: 'service.custom', change: 'added', new: 1},
        {path: 'x-notes', change: 'added', new: 'hi'},
      ],
    })
  })

  it('treats an empty component definition as empty settings, and a number as different from a string', () => {
    const before = yamlFile('before.yaml', 'receivers:\n  otlp:\nprocessors:\n  batch:\n    send_batch_size: 512\n')
    const after = yamlFile('after.yaml', 'receivers:\n  otlp: {}\nprocessors:\n  batch:\n    send_batch_size: "512"\n')
    expect(diffFiles(before, after).components).toEqual([
      {section: 'processors', id: 'batch', change: 'changed', changes: [{path: 'send_batch_size', change: 'changed', old: 512, new: '512'}]},
    ])
  })

  it('expands anchors and merge keys before comparing', () => {
    const before = yamlFile('before.yaml', 'exporters:\n  otlp/a: {endpoint: a:4317, compression: gzip}\n  otlp/b: {endpoint: b:4317, compression: gzip}\n')
    const after = yamlFile('after.yaml', 'x-common: &common {compression: gzip}\nexporters:\n  otlp/a: {<<: *common, endpoint: a:4317}\n  otlp/b:\n    <<: *common\n    endpoint: b:4317\n')
    expect(diffFiles(before, after)).toEqual({...NOTHING, equal: false, other: [{path: 'x-common', change: 'added', new: {compression: 'gzip'}}]})
  })

  it('compares lists of scalars as whole values and lists of mappings item by item', () => {
    const before = yamlFile('before.yaml', 'processors:\n  filter:\n    include: [a, b]\n    rules: [{name: x, level: 1}]\n')
    const after = yamlFile('after.yaml', 'processors:\n  filter:\n    include: [b, a]\n    rules: [{name: x, level: 2}, {name: y}]\n')
    expect(diffFiles(before, after).components[0]?.changes).toEqual([
      {path: 'include', change: 'changed', old: ['a', 'b'], new: ['b', 'a']},
      {path: 'rules[0].level', change: 'changed', old: 1, new: 2},
      {path: 'rules[1]', change: 'added', new: {name: 'y'}},
    ])
  })

  it('does not count adding or removing a processor as reordering the others', () => {
    const before = yamlFile('before.yaml', 'service:\n  pipelines:\n    traces: {receivers: [otlp], processors: [a, b, c], exporters: [debug]}\n')
    const after = yamlFile('after.yaml', 'service:\n  pipelines:\n    traces: {receivers: [otlp], processors: [x, a, c], exporters: [debug]}\n')
    expect(diffFiles(before, after).pipelines[0]?.processors).toEqual({added: ['x'], removed: ['b'], reordered: false, old: ['a', 'b', 'c'], new: ['x', 'a', 'c']})
  })
})

describe('parsing collector configs', () => {
  const parseError = (text: string) => thrownBy(() => parseCollectorConfig(text, 'profile.yaml'))

  it('names the line of a value with the wrong shape', () => {
    expect(parseError('service:\n  pipelines:\n    traces:\n      processors: batch\n').message).toBe(
      'profile.yaml: line 4, column 19: service.pipelines.traces.processors must be a list of component ids, not the string "batch"',
    )
    expect(parseError('receivers:\n  otlp: yes-please\n').message).toBe('profile.yaml: line 2, column 9: receivers.otlp must be a mapping, not the string "yes-please"')
    expect(parseError('- just\n- a list\n').message).toBe('profile.yaml: line 1, column 1: the document must be a mapping, not a list')
  })

  it('refuses empty documents, duplicate keys, several documents and recursive aliases', () => {
    expect(parseError('# nothing but a comment\n').message).toBe('profile.yaml: the document is empty; a Collector config is a YAML mapping')
    expect(parseError('receivers:\n  otlp: {}\n  otlp: {}\n').message).toBe('profile.yaml: line 3, column 3: Map keys must be unique')
    expect(parseError('receivers: {}\n---\nexporters: {}\n').message).toBe(
      'profile.yaml: line 2, column 1: Source contains multiple documents; please use YAML.parseAllDocuments()',
    )
    expect(parseError('x: &loop [*loop]\n').message).toBe('profile.yaml: line 1, column 11: an alias refers to the anchor it is inside of, which makes an endless value')
  })

  it('refuses an alias bomb instead of expanding it', () => {
    const laughs = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]']
    for (const level of 'bcdefghi') laughs.push(`${level}: &${level} [${Array.from({length: 9}, () => `*${String.fromCharCode(level.charCodeAt(0) - 1)}`).join(', ')}]`)
    const error = parseError(`${laughs.join('\n')}\n`)
    expect(error.code).toBe('COLLECTOR_CONFIG_INVALID')
    expect(error.message).toBe('profile.yaml: Excessive alias count indicates a resource exhaustion attack')
  })
})

describe('dotted paths', () => {
  it('quotes keys that are not plain names and brackets list indexes', () => {
    expect(formatPath(['protocols', 'grpc', 'endpoint'])).toBe('protocols.grpc.endpoint')
    expect(formatPath(['actions', 0, 'key'])).toBe('actions[0].key')
    expect(formatPath(['headers', 'X-Scope-OrgID'])).toBe('headers.X-Scope-OrgID')
    expect(formatPath(['attributes', 'service.name'])).toBe('attributes["service.name"]')
    expect(formatPath(['a b', 2])).toBe('["a b"][2]')
  })
})
