/** Runs GNU tar (the reference implementation the bundle format must interoperate with). */
import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'

export const GNU_TAR = '/usr/bin/tar'
export const hasGnuTar = existsSync(GNU_TAR)

/** Runs tar with a UTF-8 locale (so pax UTF-8 names are not transcoded) and UTC times; returns its stdout. */
export function gnuTar(args: readonly string[]): string {
  return execFileSync(GNU_TAR, args, {env: {...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC'}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
}

/** The tar-stream offsets GNU tar reports for each member (`tar -R`), in order. */
export function gnuTarMemberOffsets(archivePath: string): number[] {
  const listing = gnuTar(['-R', '-tf', archivePath])
  return [...listing.matchAll(/^block (\d+): (?!\*\* Block of NULs \*\*)/gm)].map((match) => Number(match[1]) * 512)
}
