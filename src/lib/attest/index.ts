/** Attestations about artifacts: in-toto Statement v1 in DSSE, SLSA provenance v1, their files. */
export * from './file.js'
export * from './provenance.js'
export * from './statement.js'
export * from './verify.js'
