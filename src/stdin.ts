/** Reads all of standard input, asynchronously so that Ctrl-C still interrupts the wait. */
export async function readStdinBytes(): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return new Uint8Array(Buffer.concat(chunks))
}

export async function readStdinText(): Promise<string> {
  return Buffer.from(await readStdinBytes()).toString('utf8')
}
