// Within one Ready the driver starts the synced write before it applies
// committed entries: the apply (and the client replies it resolves) runs
// while the disk works, not ahead of it.
import t from 'tap'
import { RaftDriver } from '../../src/node/raft-driver.js'
import type { Entry, HardState, Snapshot } from '../../src/raft/types.js'
import { MemoryLogStore } from '../../src/storage/memory-log-store.js'
import { testTransport } from '../support/driver-transport.js'
import { bareHooks } from '../support/node-hooks.js'

/** A store that logs each save as it is called. */
class LoggingStore extends MemoryLogStore {
  constructor(private readonly log: string[]) {
    super()
  }

  override save(hardState: HardState | null, entries: readonly Entry[], snapshot: Snapshot | null = null): Promise<void> {
    if (entries.length > 0) this.log.push(`save ${entries.map((e) => e.index).join(',')}`)
    return super.save(hardState, entries, snapshot)
  }
}

const noTransport = testTransport()

t.test('a Ready that writes entries and applies others starts the write first', async (t) => {
  const log: string[] = []
  const store = new LoggingStore(log)
  let toPropose = 0
  let proposed = 0
  let driver: RaftDriver | null = null
  driver = new RaftDriver({
    raft: { id: 'n1', voters: ['n1'], electionTicks: 4, heartbeatTicks: 1, maxInflight: 8, maxBatchEntries: 64, preVote: false, checkQuorum: false },
    tickMs: 2,
    store,
    transport: noTransport,
    restored: await store.load(),
    snapshotEntries: 1_000_000,
    hooks: bareHooks({
      // Each pass proposes one command once the node leads, so new entries meet committed ones.
      beforeReady: () => {
        log.push('ready')
        if (driver === null || proposed >= toPropose || driver.status().role !== 'leader') return
        if (driver.core.propose([`c${proposed}`]).ok) proposed++
      },
      onApply: (entries) => {
        log.push(`apply ${entries.map((e) => e.index).join(',')}`)
        return entries.length
      },
    }),
  })
  driver.start()
  t.teardown(() => driver?.stop())
  const deadline = Date.now() + 5000
  while (driver.status().role !== 'leader' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2))
  t.equal(driver.status().role, 'leader', 'the single node leads')
  toPropose = 20
  while (driver.status().applied < proposed + 1 || proposed < toPropose) {
    if (Date.now() > deadline) break
    driver.schedule()
    await new Promise((r) => setTimeout(r, 1))
  }
  await driver.stop()
  t.equal(proposed, toPropose, 'every command was proposed')

  // Split the log into passes; in a pass that both saves and applies, the save comes first.
  const passes: string[][] = [[]]
  for (const line of log) {
    if (line === 'ready') passes.push([])
    else passes.at(-1)?.push(line)
  }
  const mixed = passes.filter((p) => p.some((l) => l.startsWith('save')) && p.some((l) => l.startsWith('apply')))
  t.ok(mixed.length >= 5, `passes that both wrote and applied: ${mixed.length}`)
  for (const p of mixed) t.match(p[0], /^save /, `write before apply in [${p.join('; ')}]`)
})
