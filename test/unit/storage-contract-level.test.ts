import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { LevelLogStore } from '../../src/storage/level-log-store.js'
import type { LogStore } from '../../src/storage/port.js'
import { runLogStoreContract } from './storage-contract.js'

runLogStoreContract(t, 'leveldb', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'storage-contract-'))
  let current: LogStore = new LevelLogStore(dir)
  return {
    store: current,
    // A real close (releases the LevelDB lock) and a fresh open of the directory.
    reopen: async () => {
      await current.close()
      current = new LevelLogStore(dir)
      return current
    },
    cleanup: async () => {
      await current.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
})
