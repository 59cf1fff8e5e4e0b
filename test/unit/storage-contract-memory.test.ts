import t from 'tap'
import { MemoryDisk, MemoryLogStore } from '../../src/storage/memory-log-store.js'
import type { LogStore } from '../../src/storage/port.js'
import { runLogStoreContract } from './storage-contract.js'

runLogStoreContract(t, 'memory', async () => {
  const disk = new MemoryDisk()
  let current: LogStore = new MemoryLogStore(disk)
  return {
    store: current,
    reopen: async () => {
      await current.close()
      current = new MemoryLogStore(disk)
      return current
    },
    cleanup: () => current.close(),
  }
})
