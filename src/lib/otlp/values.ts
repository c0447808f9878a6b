/** Reading attribute values of OTLP records, and turning them into plain JavaScript for display and JSON. */
import {toBase64} from '../encoding.js'
import type {AnyValue, KeyValue} from './types.js'

/** The value of the first attribute with this key, or undefined. */
export function attributeValue(attributes: readonly KeyValue[], key: string): AnyValue | undefined {
  for (const kv of attributes) if (kv.key === key) return kv.value
  return undefined
}

/**
 * An attribute as text: a string as it is, an int, double or bool written out; undefined when the
 * attribute is missing or holds bytes, an array, a kvlist or nothing.
 */
export function stringAttribute(attributes: readonly KeyValue[], key: string): string | undefined {
  const value = attributeValue(attributes, key)
  if (value === undefined) return undefined
  switch (value.kind) {
    case 'string': {
      return value.value
    }

    case 'int':
    case 'double':
    case 'bool': {
      return String(value.value)
    }

    default: {
      return undefined
    }
  }
}

/**
 * An AnyValue as plain JavaScript that JSON.stringify can write: an int becomes a number when it
 * is exact as one and a decimal string when not, bytes become base64, a kvlist an object (later
 * keys win), an empty value null.
 */
export function anyValueToJs(value: AnyValue): unknown {
  switch (value.kind) {
    case 'string':
    case 'bool':
    case 'double': {
      return value.value
    }

    case 'int': {
      const n = Number(value.value)
      return Number.isSafeInteger(n) ? n : value.value.toString()
    }

    case 'bytes': {
      return toBase64(value.value)
    }

    case 'array': {
      return value.value.map((item) => anyValueToJs(item))
    }

    case 'kvlist': {
      return attributesToObject(value.value)
    }

    case 'empty': {
      return null
    }
  }
}

/** Attributes as one object, key → anyValueToJs(value); a repeated key keeps its last value. */
export function attributesToObject(attributes: readonly KeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const kv of attributes) {
    // defineProperty, not assignment: a key such as "__proto__" must stay an ordinary key.
    Object.defineProperty(out, kv.key, {value: anyValueToJs(kv.value), enumerable: true, writable: true, configurable: true})
  }

  return out
}
