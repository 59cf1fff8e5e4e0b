// The driver's part of snapshots, with real timers on a tiny in-memory
// network of drivers: when it compacts, how it streams a snapshot to a
// follower that needs one, that the follower restores before applying
// anything newer, and that a failed transfer is retried after a pause.
import t, { type Test } from 'tap'
import { RaftDriver, type SnapshotEvent } from '../../src/node/raft-driver.js'
import type { Entry, InstallSnapshot, Message, NodeId, Snapshot } from '../../src/raft/types.js'
import { MemoryLogStore } from '../../src/storage/memory-log-store.js'
import type { ForwardOutcome, Transport } from '../../src/transport/port.js'
import { bareHooks } from '../support/node-hooks.js'

/** The test's image: the applied commands, as two JSON-array lines. */
function fromLines(data: string): string[] {
  return data.split('\n').flatMap((line) => JSON.parse(line) as string[])
}

/** A command "name*n" stands for an entry of n increments; anything else is one record. */
function recordsOf(e: Entry): number {
  const n = e.kind === 'cmd' ? Number(/\*(\d+)$/.exec(e.data)?.[1] ?? 1) : 1
  return n
}

interface Member {
  readonly id: NodeId
  readonly store: MemoryLogStore
  driver: RaftDriver
  /** The toy state machine: every applied command, in order. */
  applied: string[]
  readonly events: SnapshotEvent[]
  /** Images handed out by snapshotLines, and how many of them were closed. */
  images: number
  closed: number
  restores: number
}

class Net {
  readonly members = new Map<NodeId, Member>()
  readonly down = new Set<NodeId>()
  snapshotAttempts = 0
  failSnapshots = 0

  transport(from: NodeId): Transport {
    return {
      send: (messages: readonly Message[]) => {
        for (const m of messages) {
          if (this.down.has(m.to) || this.down.has(from)) continue
          setImmediate(() => this.members.get(m.to)?.driver.receive([m]))
        }
      },
      forward: (): Promise<ForwardOutcome[]> => Promise.reject(new Error('not used')),
      sendSnapshot: async (m: InstallSnapshot) => {
        this.snapshotAttempts++
        if (this.down.has(m.to) || this.failSnapshots > 0) {
          this.failSnapshots = Math.max(0, this.failSnapshots - 1)
          throw new Error(`connect ECONNREFUSED ${m.to}`)
        }
        setImmediate(() => this.members.get(m.to)?.driver.receive([m]))
      },
      // Delivery is by id here: every member is always reachable.
      setPeers: () => {},
      close: async () => {},
    }
  }

  async start(id: NodeId, voters: NodeId[], store = new MemoryLogStore()): Promise<Member> {
    const loaded = await store.load()
    const member: Member = { id, store, driver: undefined as unknown as RaftDriver, applied: [], events: [], restores: 0, images: 0, closed: 0 }
    if (loaded.snapshot !== null) member.applied = fromLines(loaded.snapshot.data)
    member.driver = new RaftDriver({
      raft: { id, voters, electionTicks: 10, heartbeatTicks: 2, maxInflight: 8, maxBatchEntries: 64, preVote: true, checkQuorum: true },
      tickMs: 5,
      store,
      transport: this.transport(id),
      restored: loaded,
      snapshotEntries: 20,
      hooks: bareHooks({
        onApply: (entries: readonly Entry[]) => {
          let records = 0
          for (const e of entries) {
            if (e.kind === 'cmd') member.applied.push(e.data)
            records += recordsOf(e)
          }
          return records
        },
        onRestore: (s: Snapshot) => {
          member.restores++
          member.applied = fromLines(s.data)
        },
        // Handed out later, a line per turn, like the real node: the copy is taken now.
        snapshotLines: () => {
          const copy = member.applied.slice()
          member.images++
          const lines = (async function* lines() {
            for (const line of [JSON.stringify(copy.slice(0, 1)), JSON.stringify(copy.slice(1))]) {
              await new Promise((resolve) => setImmediate(resolve))
              yield line
            }
          })()
          return Object.assign(lines, { close: () => void member.closed++ })
        },
        stateEntries: () => 0,
        onSnapshotEvent: (e) => member.events.push(e),
      }),
    })
    this.members.set(id, member)
    this.down.delete(id)
    member.driver.start()
    return member
  }

  async stop(id: NodeId): Promise<void> {
    this.down.add(id)
    await this.members.get(id)?.driver.stop()
  }

  leader(): Member | undefined {
    return [...this.members.values()].find((m) => !this.down.has(m.id) && m.driver.core.currentRole === 'leader')
  }
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

async function propose(net: Net, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const l = net.leader()
    if (l === undefined) throw new Error('no leader')
    const r = l.driver.core.propose([`c${i}`])
    if (!r.ok) throw new Error('refused')
    l.driver.schedule()
    await until(`c${i} applied on the leader`, () => l.applied.includes(`c${i}`))
  }
}

/** Three drivers on a Net, stopped at the end of the test, once one of them leads. */
async function startCluster(t: Test): Promise<{ net: Net; ids: NodeId[]; leader: Member }> {
  const net = new Net()
  const ids = ['n1', 'n2', 'n3']
  for (const id of ids) await net.start(id, ids)
  t.teardown(async () => {
    for (const id of ids) await net.stop(id)
  })
  await until('a leader', () => net.leader() !== undefined)
  return { net, ids, leader: net.leader() as Member }
}

const expected = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`)

t.test('compaction, InstallSnapshot to a follower that was down, and retry after a failed transfer', async (t) => {
  const { net, ids, leader } = await startCluster(t)
  const follower = ids.find((id) => id !== leader.id) as NodeId
  await propose(net, 0, 5)

  await net.stop(follower)
  await propose(net, 5, 45)
  await until('the leader compacted', () => leader.driver.status().snapshotIndex > 0)
  const st = leader.driver.status()
  t.ok(leader.store.disk.snapshot !== null && leader.store.disk.snapshot.index === st.snapshotIndex, 'stored snapshot matches the core')
  t.equal(leader.store.disk.entries[0]?.index ?? st.snapshotIndex + 1, st.snapshotIndex + 1, 'the store holds only entries after it')
  const image = fromLines(leader.store.disk.snapshot?.data ?? '[]')
  t.ok(image.length >= 20, `the image holds ${image.length} commands`)
  t.same(image, expected(image.length), 'the image is the applied prefix, in order')
  t.ok(leader.events.some((e) => e.kind === 'compacted'), 'compaction reported')
  t.ok(leader.images > 0 && leader.closed === leader.images, `every image closed once the store was done with it (${leader.closed} of ${leader.images})`)

  // The first two transfers fail; the driver waits before asking the core to try again.
  net.failSnapshots = 2
  const stopped = net.members.get(follower) as Member
  const restarted = await net.start(follower, ids, stopped.store)
  const before = Date.now()
  await until('the follower installed a snapshot', () => restarted.restores > 0, 10_000)
  const took = Date.now() - before
  t.equal(net.snapshotAttempts, 3, 'two failed attempts, then one that got through')
  t.ok(took >= 2 * 20 * 5, `retried after pauses (${took} ms for 3 attempts, 100 ms pause each)`)
  t.equal(leader.events.filter((e) => e.kind === 'send_failed').length, 2)
  await propose(net, 50, 3)
  await until('the follower applied everything', () => restarted.applied.length === 53)
  t.same(restarted.applied, expected(53), 'snapshot, then the entries after it, in order')
  t.ok((restarted.store.disk.snapshot?.index ?? 0) > 0, 'the follower stored the snapshot')
})

t.test('the log is measured in records, not entries: entries of many increments compact sooner', async (t) => {
  const { leader } = await startCluster(t)
  for (let i = 0; i < 3; i++) {
    const r = leader.driver.core.propose([`big${i}*10`])
    if (!r.ok) throw new Error('refused')
    leader.driver.schedule()
    await until(`big${i} applied`, () => leader.applied.includes(`big${i}*10`))
  }
  // snapshotEntries is 20: two entries of 10 increments reach it; counting entries, 3 would not.
  await until('the leader compacted', () => leader.driver.status().snapshotIndex > 0)
  t.ok(leader.driver.status().snapshotIndex <= leader.driver.status().applied, 'compacted within the applied log')
  t.same(fromLines(leader.store.disk.snapshot?.data ?? '[]').slice(0, 2), ['big0*10', 'big1*10'], 'the image holds the big entries')
})
