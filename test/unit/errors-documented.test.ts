// Every error code a client can see must be documented for them (DESIGN §5).
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ERRORS } from '../../src/errors.js'

const README = fileURLToPath(new URL('../../README.md', import.meta.url))

t.test('every code in ERRORS is documented in README.md', async (t) => {
  if (!existsSync(README)) {
    t.fail(`README.md not found at ${README}: it must exist and document every error code in src/errors.ts`)
    return
  }
  const readme = readFileSync(README, 'utf8')
  for (const [code, spec] of Object.entries(ERRORS)) {
    t.match(readme, new RegExp(`\\b${code}\\b`), `${code} (${spec.status}) appears in README.md`)
  }
})
