/** The StellaOps API client and its wire types. Load with `await import()`: it brings undici with it. */
export * from './client.js'
export * from './download.js'
export * from './errors.js'
export * from './retry.js'
export * from './sealed.js'
export * from './tls.js'
export * from './trace.js'
export * from './types.js'
