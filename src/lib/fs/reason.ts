/** Short, human reasons for file-system errors ("no such file", not "ENOENT: no such file or directory, open '…'"). */
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EEXIST: 'it already exists',
  EISDIR: 'it is a directory',
  ENOENT: 'no such file or directory',
  ENOSPC: 'the disk is full',
  ENOTDIR: 'a part of the path is not a directory',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
}

export function fsErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code]
  return error instanceof Error ? error.message.replace(/, \w+ '.*'$/s, '') : String(error)
}
