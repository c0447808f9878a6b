/** `stella forensic snapshot get`: one bundle's record, from the server by id or from a local file. */
import {existsSync} from 'node:fs'

import type {ApiClient} from '../../lib/api/client.js'
import {type RemoteSnapshotShow, getRemoteSnapshot} from './remote.js'
import {type SnapshotShow, showSnapshot} from './snapshot.js'

/** Both forms carry the same `manifest`; `source` says which one answered. */
export type SnapshotGet = (SnapshotShow & {source: 'file'}) | RemoteSnapshotShow

/** A path (an existing file, `-`, or anything that looks like a path or a bundle file name) rather than a bundle id. */
export function isLocalBundleArgument(argument: string): boolean {
  return argument === '-' || existsSync(argument) || /[/\\]/.test(argument) || /\.(tgz|tar\.gz|gz)$/i.test(argument)
}

/** `connect` is called only for a bundle id, so a local file needs no server settings. */
export async function getSnapshot(argument: string, connect: () => Promise<ApiClient>): Promise<SnapshotGet> {
  if (isLocalBundleArgument(argument)) return {source: 'file', ...(await showSnapshot(argument))}
  return getRemoteSnapshot(await connect(), argument)
}
