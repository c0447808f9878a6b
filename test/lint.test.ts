import {ESLint} from 'eslint'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {projectRoot} from './helpers/cli.js'

const eslint = new ESLint({cwd: projectRoot})

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, {filePath: join(projectRoot, file)})
  return (result?.messages ?? []).filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message)
}

describe('the lint rules that keep the layers apart', () => {
  it('keep Ink and React out of the top-level imports of commands, services and views', async () => {
    for (const file of ['src/commands/obs/top.ts', 'src/services/obs/top.ts', 'src/ui/dashboard.tsx']) {
      expect(await restrictedImports(file, "import {render} from 'ink'\nexport const r = render\n"), file).toHaveLength(1)
      expect(await restrictedImports(file, "import React from 'react'\nexport const R = React\n"), file).toHaveLength(1)
      expect(await restrictedImports(file, "import Spinner from 'ink-spinner'\nexport const S = Spinner\n"), file).toHaveLength(1)
    }
  })

  it('allow Ink loaded lazily, and type-only imports', async () => {
    expect(await restrictedImports('src/ui/dashboard.ts', "export async function draw() {\n  const {render} = await import('ink')\n  return render\n}\n")).toEqual([])
    expect(await restrictedImports('src/ui/dashboard.ts', "import type {Instance} from 'ink'\nexport type I = Instance\n")).toEqual([])
  })

  it('keep oclif, Ink, React, commands, services and views out of src/lib', async () => {
    const cases = [
      "import {Flags} from '@oclif/core'",
      "import {render} from 'ink'",
      "import {StellaCommand} from '../../base-command.js'",
      "import {renderTable} from '../../ui/table.js'",
      "import {generateKeyPair} from '../../services/keys/index.js'",
      "import KeysShow from '../../commands/keys/show.js'",
    ]
    for (const statement of cases) {
      expect(await restrictedImports('src/lib/merkle/example.ts', `${statement}\nexport {}\n`), statement).toHaveLength(1)
    }

    expect(await restrictedImports('src/lib/merkle/example.ts', "import {sha256} from '@noble/hashes/sha2.js'\nexport const h = sha256\n")).toEqual([])
  })
})
