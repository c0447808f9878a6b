// Removes build output so a rebuilt manifest never lists commands that no longer exist.
import {rmSync} from 'node:fs'

for (const path of ['dist', 'oclif.manifest.json']) rmSync(path, {recursive: true, force: true})
