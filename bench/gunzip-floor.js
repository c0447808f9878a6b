#!/usr/bin/env node
// The floor for `stella forensic verify`: one gunzip pass over a file in Node, output discarded.
//   node bench/gunzip-floor.js FILE.tgz
import {createReadStream} from 'node:fs'
import {Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGunzip} from 'node:zlib'

const file = process.argv[2]
if (!file) {
  console.error('usage: node bench/gunzip-floor.js FILE.gz')
  process.exit(2)
}

let bytes = 0
await pipeline(
  createReadStream(file, {highWaterMark: 1 << 20}),
  createGunzip({chunkSize: 1 << 20}),
  new Writable({
    highWaterMark: 1 << 20,
    write(chunk, _encoding, callback) {
      bytes += chunk.length
      callback()
    },
  }),
)
if (process.argv.includes('--print')) console.log(bytes)
