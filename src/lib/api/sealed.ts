/**
 * Sealed mode: an air-gapped operator's promise that stella talks to nothing but this machine.
 * Decided from the URL text alone, before any DNS lookup or socket, so a sealed run cannot leak
 * even a name resolution.
 */
import {BlockList, isIPv4, isIPv6} from 'node:net'

import {UsageError} from '../errors.js'

const loopback = new BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
loopback.addAddress('::1', 'ipv6')
// IPv4-mapped IPv6 loopback, e.g. [::ffff:127.0.0.1].
loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6')

/** True for 127.0.0.0/8, ::1 (any spelling) and localhost. `hostname` as URL.hostname gives it. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '')
  if (host === 'localhost') return true
  if (isIPv4(host)) return loopback.check(host, 'ipv4')
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (isIPv6(bare)) return loopback.check(bare, 'ipv6')
  return false
}

export class SealedModeError extends UsageError {
  readonly url: string

  constructor(url: string) {
    super('SEALED_NON_LOOPBACK', `sealed mode allows only loopback servers (127.0.0.0/8, ::1, localhost); ${url} is not one`, {
      remedy: 'Use a loopback server, or leave sealed mode for this run with --no-sealed, STELLA_SEALED=0, or `stella config set sealed false`.',
    })
    this.url = url
  }
}

/** Throws SealedModeError unless `url` names a loopback host. */
export function assertSealedAllows(url: URL): void {
  if (!isLoopbackHost(url.hostname)) throw new SealedModeError(url.origin)
}
