import {execFileSync} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {OFF_THREAD_MIN_BYTES} from '../../src/lib/bundle/gzip-thread.js'
import {projectRoot, runCli, scratchDir, spawnCli} from '../helpers/cli.js'

let home: {path: string; cleanup: () => void}
const stella = (args: string[], input?: string | Uint8Array) => runCli(args, {home: home.path, ...(input === undefined ? {} : {input})})
const at = (...parts: string[]) => join(home.path, ...parts)
const CREATED_AT = '2026-11-22T10:00:00Z'

beforeEach(() => {
  home = scratchDir()
  cpSync(join(projectRoot, 'examples', 'evidence', 'case-42'), at('evidence'), {recursive: true})
  cpSync(join(projectRoot, 'examples', 'keys'), at('keys'), {recursive: true})
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', at('keys', 'other.pem')])
  execFileSync('openssl', ['pkey', '-in', at('keys', 'other.pem'), '-pubout', '-out', at('keys', 'other.pub.pem')])
})
afterEach(() => home.cleanup())

async function createBundle(out = 'case-42.tgz', extra: string[] = []) {
  const r = await stella(['forensic', 'snapshot', 'create', '--from', 'evidence', '--key', 'keys/platform.pem', '--case', 'case-42', '--kind', 'evaluation', '--tenant', 'acme', '--created-at', CREATED_AT, '--out', out, ...extra])
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  return r
}

/** Rewrites one content file inside a bundle with GNU tar, keeping the old manifest and signature. */
function tamper(bundle: string, path: string, content: string | Uint8Array): string {
  const dir = at('tamper')
  mkdirSync(dir, {recursive: true})
  execFileSync('tar', ['-xzf', bundle, '-C', dir])
  writeFileSync(join(dir, path), content)
  const names = execFileSync('tar', ['-tzf', bundle]).toString().trim().split('\n')
  const out = at('tampered.tgz')
  execFileSync('tar', ['--format=pax', '-czf', out, '-C', dir, ...names])
  return out
}

describe('stella forensic snapshot create', () => {
  it('prints the bundle id, root, file count and bytes, and writes a deterministic bundle', async () => {
    const r = await createBundle()
    expect(r.stdout).toMatch(/^bundle:\s+case-42\.tgz$/m)
    expect(r.stdout).toMatch(/^bundle id:\s+eb_[0-9A-HJKMNP-TV-Z]{26}$/m)
    expect(r.stdout).toMatch(/^root:\s+[0-9a-f]{64}$/m)
    expect(r.stdout).toMatch(/^files:\s+3 \(/m)

    await createBundle('again.tgz')
    expect(readFileSync(at('again.tgz')).equals(readFileSync(at('case-42.tgz')))).toBe(true)
    expect(execFileSync('tar', ['-tzf', at('case-42.tgz')]).toString()).toBe(
      'manifest.json\nmanifest.dsse.json\nroot.merkle\nREADME.txt\nevaluation/result.json\nlogs/admission.log\n',
    )
  })

  it('refuses to overwrite without --force and leaves nothing behind when it fails', async () => {
    await createBundle()
    const before = readFileSync(at('case-42.tgz'))
    const r = await stella(['forensic', 'snapshot', 'create', '--from', 'evidence', '--key', 'keys/platform.pem', '--case', 'case-42', '--kind', 'job', '--out', 'case-42.tgz'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('Error: case-42.tgz already exists\nHint: Choose another path, or pass --force to replace it.\n')
    expect(readFileSync(at('case-42.tgz')).equals(before)).toBe(true)

    const badKey = await stella(['forensic', 'snapshot', 'create', '--from', 'evidence', '--key', 'keys/platform.pub.pem', '--case', 'c', '--kind', 'job', '--out', 'new.tgz'])
    expect(badKey.status).toBe(3)
    expect(badKey.stderr).toMatch(/^Error: .*holds a public key; signing needs the private key\n/)
    expect(existsSync(at('new.tgz'))).toBe(false)
    expect(readdirSync(home.path).filter((name) => name.endsWith('.tmp'))).toEqual([])

    expect((await createBundle('case-42.tgz', ['--force'])).status).toBe(0)
  })

  it('puts the summary in one JSON envelope', async () => {
    const r = await createBundle('j.tgz', ['--json'])
    const envelope = JSON.parse(r.stdout)
    expect(envelope.status).toBe(0)
    expect(envelope.result).toMatchObject({out: 'j.tgz', fileCount: 3, createdAt: CREATED_AT, signerKeyIds: ['cb1bc5a5115d99eda3e04d6cd16dc2a6e2992d0c5cfb6bd242d5fb2dcca50f75']})
    expect(envelope.result.totalBytes).toBe(['README.txt', 'evaluation/result.json', 'logs/admission.log'].reduce((sum, path) => sum + readFileSync(at('evidence', path)).length, 0))
  })
})

describe('stella forensic verify', () => {
  it('passes a good bundle with one line per check, exit 0', async () => {
    await createBundle()
    const r = await stella(['forensic', 'verify', 'case-42.tgz', '--key', 'keys/platform.pub.pem'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines.slice(1, 7).map((line) => line.slice(0, 14))).toEqual(['  ✓ container ', '  ✓ manifest  ', '  ✓ files     ', '  ✓ merkle    ', '  ✓ statement ', '  ✓ signatures'])
    expect(r.stdout).toMatch(/\nVERIFIED: every check passed; root [0-9a-f]{64}\n$/)
  })

  it('fails a tampered bundle with exit 1 and names the altered file, in text and JSON', async () => {
    await createBundle()
    const bad = tamper(at('case-42.tgz'), 'logs/admission.log', 'nothing happened here\n')
    const r = await stella(['forensic', 'verify', bad, '--key', 'keys/platform.pub.pem'])
    expect(r.status).toBe(1)
    expect(r.stdout).toContain('  ✗ files       logs/admission.log differs: 22 bytes, ')
    expect(r.stdout).toContain('Altered files (1):')
    expect(r.stdout).toMatch(/NOT VERIFIED: 2 of 6 checks did not pass/)

    const json = await stella(['forensic', 'verify', bad, '--key', 'keys/platform.pub.pem', '--json'])
    expect(json.status).toBe(1)
    const envelope = JSON.parse(json.stdout)
    expect(envelope.status).toBe(1)
    expect(envelope.result.report.ok).toBe(false)
    expect(envelope.result.report.files.altered).toEqual([
      expect.objectContaining({path: 'logs/admission.log', actualSize: 22, expectedSize: readFileSync(at('evidence', 'logs', 'admission.log')).length}),
    ])
    expect(envelope.result.report.checks.map((check: {check: string; status: string}) => `${check.check}:${check.status}`)).toEqual([
      'container:ok', 'manifest:ok', 'files:failed', 'merkle:failed', 'statement:ok', 'signatures:ok',
    ])
  })

  it('fails with exit 1 under an untrusted key, and exits 3 when the bundle or key cannot be read', async () => {
    await createBundle()
    const untrusted = await stella(['forensic', 'verify', 'case-42.tgz', '--key', 'keys/other.pub.pem', '--json'])
    expect(untrusted.status).toBe(1)
    expect(JSON.parse(untrusted.stdout).result.report.checks[5]).toMatchObject({check: 'signatures', status: 'failed', reason: 'NO_TRUSTED_SIGNATURE'})

    const missing = await stella(['forensic', 'verify', 'nope.tgz', '--key', 'keys/platform.pub.pem'])
    expect(missing.status).toBe(3)
    expect(missing.stderr).toBe('Error: cannot read the bundle nope.tgz: no such file or directory\nHint: Check the path; give - to read the bundle from standard input.\n')

    const badKey = await stella(['forensic', 'verify', 'case-42.tgz', '--key', 'evidence/README.txt'])
    expect(badKey.status).toBe(3)

    const noKey = await stella(['forensic', 'verify', 'case-42.tgz'])
    expect(noKey.status).toBe(2)
    expect(noKey.stderr).toContain('Missing required flag key')
  })

  it('reads the bundle from standard input with -', async () => {
    await createBundle()
    const r = await stella(['forensic', 'verify', '-', '--key', 'keys/platform.pub.pem'], readFileSync(at('case-42.tgz')))
    expect(r.status).toBe(0)
    expect(r.stdout.split('\n')[0]).toMatch(/^standard input \(eb_/)
    const garbage = await stella(['forensic', 'verify', '-', '--key', 'keys/platform.pub.pem', '--json'], 'not a bundle')
    expect(garbage.status).toBe(1)
    expect(JSON.parse(garbage.stdout).result.report.checks[0]).toMatchObject({status: 'failed', reason: 'NOT_GZIP'})
  })

  it('--extract writes the content only after everything verified, and nothing otherwise', async () => {
    await createBundle()
    const ok = await stella(['forensic', 'verify', 'case-42.tgz', '--key', 'keys/platform.pub.pem', '--extract', 'out'])
    expect(ok.status).toBe(0)
    expect(readdirSync(at('out')).sort()).toEqual(['README.txt', 'evaluation', 'logs'])
    expect(readFileSync(at('out', 'logs', 'admission.log')).equals(readFileSync(at('evidence', 'logs', 'admission.log')))).toBe(true)

    const bad = tamper(at('case-42.tgz'), 'README.txt', 'changed\n')
    const failed = await stella(['forensic', 'verify', bad, '--key', 'keys/platform.pub.pem', '--extract', 'out2'])
    expect(failed.status).toBe(1)
    expect(readdirSync(at('out2'))).toEqual([])

    const again = await stella(['forensic', 'verify', 'case-42.tgz', '--key', 'keys/platform.pub.pem', '--extract', 'out'])
    expect(again.status).toBe(2)
    expect(again.stderr).toContain('already has')
    expect(readdirSync(at('out')).sort()).toEqual(['README.txt', 'evaluation', 'logs'])
  })

  it('treats a second gzip member as a failed container', async () => {
    await createBundle()
    const doubled = Buffer.concat([readFileSync(at('case-42.tgz')), gzipSync(Buffer.alloc(0))])
    writeFileSync(at('doubled.tgz'), doubled)
    const r = await stella(['forensic', 'verify', 'doubled.tgz', '--key', 'keys/platform.pub.pem', '--json'])
    expect(r.status).toBe(1)
    expect(JSON.parse(r.stdout).result.report.checks[0]).toMatchObject({status: 'failed', reason: 'GZIP_SECOND_MEMBER'})
    // The tar inside is untouched: the only failure is the container.
    expect(gunzipSync(doubled).length).toBeGreaterThan(0)
  })
})

describe('stella forensic snapshot show, prove and verify-proof', () => {
  it('shows the manifest and says it did not verify', async () => {
    await createBundle()
    const r = await stella(['forensic', 'snapshot', 'show', 'case-42.tgz'])
    expect(r.status).toBe(0)
    expect(r.stdout.split('\n')[0]).toBe('Not verified: this is what the manifest says. Run `stella forensic verify` to check it.')
    expect(r.stdout).toMatch(/^tenant:\s+acme$/m)
    expect(r.stdout).toMatch(/^logs\/admission\.log\s+\d+\s+[0-9a-f]{64}$/m)
    const json = JSON.parse((await stella(['forensic', 'snapshot', 'show', 'case-42.tgz', '--json'])).stdout)
    expect(json.result.verified).toBe(false)
    expect(json.result.manifest.files.map((file: {path: string}) => file.path)).toEqual(['README.txt', 'evaluation/result.json', 'logs/admission.log'])
  })

  it('proves one file, and the proof checks against the root, the verified bundle, and fails for another file', async () => {
    await createBundle()
    const proved = await stella(['forensic', 'prove', 'case-42.tgz', 'logs/admission.log', '--out', 'log.proof.json'])
    expect(proved.status).toBe(0)
    const proof = JSON.parse(readFileSync(at('log.proof.json'), 'utf8'))
    expect(Object.keys(proof)).toEqual(['bundleId', 'root', 'treeSize', 'leafIndex', 'path', 'sha256', 'auditPath'])
    expect(proof).toMatchObject({treeSize: 3, leafIndex: 2, path: 'logs/admission.log'})
    expect(proof.auditPath).toHaveLength(1)

    const byRoot = await stella(['forensic', 'verify-proof', 'log.proof.json', '--file', 'evidence/logs/admission.log', '--root', proof.root])
    expect(byRoot.status).toBe(0)
    expect(byRoot.stdout).toContain(`✓ logs/admission.log (leaf 2 of 3) is included under root ${proof.root}`)

    const byBundle = await stella(['forensic', 'verify-proof', 'log.proof.json', '--file', 'evidence/logs/admission.log', '--bundle', 'case-42.tgz', '--key', 'keys/platform.pub.pem', '--json'])
    expect(byBundle.status).toBe(0)
    expect(JSON.parse(byBundle.stdout).result).toMatchObject({ok: true, rootSource: 'verified-bundle', trustedRoot: proof.root})

    const wrongFile = await stella(['forensic', 'verify-proof', 'log.proof.json', '--file', 'evidence/README.txt', '--root', proof.root])
    expect(wrongFile.status).toBe(1)
    expect(wrongFile.stdout).toContain('✗ evidence/README.txt has SHA-256 ')

    const wrongRoot = await stella(['forensic', 'verify-proof', 'log.proof.json', '--file', 'evidence/logs/admission.log', '--root', 'ab'.repeat(32)])
    expect(wrongRoot.status).toBe(1)

    const unknown = await stella(['forensic', 'prove', 'case-42.tgz', 'admission.log'])
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toBe('Error: case-42.tgz has no file admission.log\nHint: Did you mean logs/admission.log? `stella forensic snapshot show` lists every path.\n')
  })
})

describe('long work', () => {
  it('Ctrl-C during snapshot create exits 130 and leaves neither the bundle nor a temp file', async () => {
    mkdirSync(at('big'))
    // Random data compresses slowly, so the run is still writing when it is interrupted.
    writeFileSync(at('big', 'noise.bin'), randomBytes(96 << 20))
    const child = spawnCli(['forensic', 'snapshot', 'create', '--from', 'big', '--key', 'keys/platform.pem', '--case', 'c', '--kind', 'job', '--out', 'big.tgz'], {home: home.path})
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const tempFile = () => readdirSync(home.path).find((name) => name.startsWith('.big.tgz.') && name.endsWith('.tmp'))
    const deadline = Date.now() + 20_000
    while (tempFile() === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(tempFile()).toBeDefined()
    child.kill('SIGINT')
    const status = await new Promise((resolve) => child.on('close', resolve))
    expect(status).toBe(130)
    expect(stderr).toContain('Interrupted (SIGINT); nothing was left half-written.')
    expect(readdirSync(home.path).filter((name) => name.includes('big.tgz'))).toEqual([])
  })

  it('verifies and extracts a bundle large enough to be gunzipped on a second thread, and finds one changed byte in it', async () => {
    mkdirSync(at('large'))
    const capture = randomBytes(40 << 20)
    writeFileSync(at('large', 'capture.pcap'), capture)
    writeFileSync(at('large', 'notes.txt'), 'capture of case 7\n')
    const created = await stella(['forensic', 'snapshot', 'create', '--from', 'large', '--key', 'keys/platform.pem', '--case', 'c-7', '--kind', 'job', '--out', 'large.tgz'])
    expect(created.status).toBe(0)
    expect(readFileSync(at('large.tgz')).length).toBeGreaterThan(OFF_THREAD_MIN_BYTES)

    const verified = await stella(['forensic', 'verify', 'large.tgz', '--key', 'keys/platform.pub.pem', '--extract', 'out'])
    expect(verified.stderr).toBe('')
    expect(verified.status).toBe(0)
    expect(verified.stdout).toContain('VERIFIED: every check passed')
    expect(readFileSync(at('out', 'capture.pcap')).equals(capture)).toBe(true)
    expect(readFileSync(at('out', 'notes.txt'), 'utf8')).toBe('capture of case 7\n')

    const altered = Buffer.from(capture)
    altered[20 << 20] = altered[20 << 20]! ^ 0x01
    const bad = tamper(at('large.tgz'), 'capture.pcap', altered)
    const r = await stella(['forensic', 'verify', bad, '--key', 'keys/platform.pub.pem', '--extract', 'out-bad'])
    expect(r.status).toBe(1)
    expect(r.stdout).toContain(`  ✗ files       capture.pcap differs: SHA-256 ${createHash('sha256').update(altered).digest('hex').slice(0, 16)}…, ${createHash('sha256').update(capture).digest('hex').slice(0, 16)}… expected`)
    expect(readdirSync(at('out-bad'))).toEqual([])
  })

  it('shows a progress bar on a terminal after a second, never under --json', async () => {
    await createBundle()
    const bundle = readFileSync(at('case-42.tgz'))
    // stdin is a pipe that pauses for 1.5 s halfway; stderr is a real terminal (script(1) gives it a pty).
    const half = Math.floor(bundle.length / 2)
    const feed = `(head -c ${half} case-42.tgz; sleep 1.5; tail -c +${half + 1} case-42.tgz)`
    const run = (flags: string) => execFileSync('script', ['-qec', `${feed} | ${process.execPath} ${join(projectRoot, 'bin', 'run.js')} forensic verify - --key keys/platform.pub.pem ${flags}`, '/dev/null'], {cwd: home.path, env: {...process.env, HOME: home.path}}).toString()
    const shown = run('')
    expect(shown).toContain(`\r${String.fromCharCode(27)}[2Kverifying `)
    expect(shown).toContain('VERIFIED')
    const json = run('--json')
    expect(json).not.toContain('verifying')
    expect(JSON.parse(json.replaceAll('\r\n', '\n')).status).toBe(0)
  })
})
