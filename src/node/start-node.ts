// Wires one cluster member from its configuration: storage, core driver,
// transport, state machine and the two HTTP apps. main.ts only calls this.
import type { FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import { formatHostPort } from '../address.js'
import type { Config } from '../config.js'
import { buildPeerApp } from '../http/peer-app.js'
import { createMetrics } from '../http/metrics.js'
import { buildPublicApp } from '../http/public-app.js'
import { LevelLogStore } from '../storage/level-log-store.js'
import { UndiciTransport } from '../transport/undici-transport.js'
import { RaftDriver } from './raft-driver.js'
import { beginRejoin, rejoinWatch } from './rejoin-marker.js'
import { RateLimiterNode } from './rate-limiter-node.js'
import { traceGcPauses } from './gc-trace.js'
import { traceLoopBlocks } from './loop-trace.js'
import { RoundTraceFile } from './round-trace-file.js'

/** AppendEntries in flight per follower, and entries and characters of entry data per message. */
const MAX_INFLIGHT = 64
const MAX_BATCH_ENTRIES = 4096
// An entry can hold hundreds of increments: bound a message well inside a peer frame (64 MiB).
const MAX_BATCH_CHARS = 4 * 1024 * 1024
// Entries (one per event-loop turn) a follower the commit does not need waits
// for before they are sent to it: one write in place of 32 (RaftConfig.spareBatchEntries).
const SPARE_BATCH_ENTRIES = 32

export interface RunningNode {
  readonly node: RateLimiterNode
  readonly driver: RaftDriver
  readonly publicApp: FastifyInstance
  readonly peerApp: FastifyInstance
  readonly logger: Logger
  /** Graceful stop: refuse new work, close listeners, finish writes, close storage. */
  stop(): Promise<void>
}

export async function startNode(config: Config, logger: Logger = pino({ level: config.logLevel })): Promise<RunningNode> {
  const tracer = config.roundTraceDir === null ? null : RoundTraceFile.inDir(config.roundTraceDir, config.nodeId)
  const stopTracing = tracer === null ? [] : [traceGcPauses(tracer), traceLoopBlocks(tracer)]
  const store = new LevelLogStore(
    config.dataDir,
    tracer === null ? {} : { onSyncedBatch: (step, index) => tracer.record(step === 'handed' ? 'batch_handed' : 'batch_synced', '', index) },
  )
  const loaded = await store.load()
  if (loaded.corruption !== null) {
    logger.warn({ corruption: loaded.corruption, dataDir: config.dataDir }, 'corrupted log tail found and truncated')
  }
  const emptyLog = loaded.entries.length === 0 && loaded.snapshot === null
  const rejoin = await beginRejoin(config.dataDir, config.rejoin, emptyLog)
  if (rejoin) logger.warn({ dataDir: config.dataDir }, 'rejoining after data loss: not voting until caught up with the leader')
  logger.info(
    {
      term: loaded.hardState.term,
      commit: loaded.hardState.commit,
      snapshotIndex: loaded.snapshot?.index ?? 0,
      entries: loaded.entries.length,
    },
    'log loaded',
  )

  const transport = new UndiciTransport({
    self: config.nodeId,
    peers: config.peers.filter((p) => p.id !== config.nodeId),
    secret: config.clusterSecret,
    timeoutMs: config.peerTimeoutMs,
    forwardTimeoutMs: config.requestTimeoutMs,
    snapshotChunkBytes: config.snapshotChunkBytes,
    logger: logger.child({ component: 'transport' }),
  })
  const node = new RateLimiterNode({
    id: config.nodeId,
    policy: config.policy,
    requestTimeoutMs: config.requestTimeoutMs,
    transport,
    tickMs: config.tickMs,
    transferTimeoutMs: config.electionTicks * config.tickMs * 2,
    ...(config.exitAfterCommit === null
      ? {}
      : {
          failpoint: {
            clientId: config.exitAfterCommit,
            hit: () => {
              logger.warn({ clientId: config.exitAfterCommit }, 'FAILPOINT exit-after-commit: exiting before the answer')
              process.exit(137)
            },
          },
        }),
    logger: logger.child({ component: 'node' }),
  })
  let fatal = false
  const watchRejoin = rejoinWatch(
    config.dataDir,
    rejoin,
    () => !driver.core.rejoining,
    (removal) => {
      logger.info({ commit: driver.core.status().commit }, 'caught up after data loss; voting again')
      removal.catch((err: unknown) => logger.error({ err }, 'could not remove the rejoin marker'))
    },
  )
  const driver = new RaftDriver({
    raft: {
      id: config.nodeId,
      voters: config.peers.map((p) => p.id),
      // Until the log holds a configuration; each one after carries its members' addresses.
      addresses: Object.fromEntries(config.peers.map((p) => [p.id, formatHostPort(p)])),
      electionTicks: config.electionTicks,
      heartbeatTicks: config.heartbeatTicks,
      maxInflight: MAX_INFLIGHT,
      maxBatchEntries: MAX_BATCH_ENTRIES,
      maxBatchChars: MAX_BATCH_CHARS,
      spareBatchEntries: SPARE_BATCH_ENTRIES,
      preVote: true,
      checkQuorum: true,
      rejoin,
    },
    tickMs: config.tickMs,
    snapshotEntries: config.snapshotEntries,
    store,
    transport,
    ...(tracer === null ? {} : { tracer }),
    restored: loaded,
    hooks: {
      onApply: (entries) => node.onApply(entries),
      onReadStates: (states) => node.onReadStates(states),
      onDroppedReads: (ctxs) => node.onDroppedReads(ctxs),
      onTick: () => {
        node.onTick()
        watchRejoin()
      },
      beforeReady: () => node.beforeReady(),
      onRestore: (snapshot) => node.onRestore(snapshot),
      snapshotLines: () => node.snapshotLines(),
      stateEntries: () => node.stateEntries(),
      onConfigChange: (latest, applied, leaving) => node.onConfigChange(latest, applied, leaving),
      onSnapshotEvent: (e) => {
        if (e.kind === 'send_failed') logger.warn({ to: e.to, err: e.error }, 'snapshot transfer failed; will retry')
        else logger.info(e, e.kind === 'sent' ? 'snapshot sent to follower' : 'snapshot taken, log compacted')
      },
      onFatal: (err) => {
        if (fatal) return
        fatal = true
        // Durability can no longer be promised: stop answering rather than lie.
        logger.fatal({ err }, 'log write failed; stopping')
        node.shutdown()
        process.exitCode = 70
        void stop()
      },
    },
  })
  node.attach(driver)
  // The core starts after the snapshot; the state machine must start from it too.
  if (loaded.snapshot !== null) node.onRestore(loaded.snapshot)

  const peerApp = buildPeerApp({
    secret: config.clusterSecret,
    onMessages: (msgs) => driver.receive(msgs),
    onStreamError: (from, err) => logger.warn({ from, err }, 'broke a malformed peer message stream'),
    onForward: (inputs) => node.handleForward(inputs),
    // The same leader side as a forward request; the answer rides this node's next frame to the follower.
    onStreamForwards: (from, forwards) => {
      for (const { id, inputs } of forwards) node.acceptForwarded(inputs, (outcomes) => transport.answerForward(from, id, outcomes))
    },
    onStreamAnswers: (from, answers) => transport.receiveForwardAnswers(from, answers),
  })
  const metrics = createMetrics(node, { processMetrics: true, peerLinks: () => transport.stats().peers })
  const publicApp = buildPublicApp(node, {
    failMode: config.failMode,
    metrics,
    logger: logger.child({ component: 'http' }),
    clusterSecret: config.clusterSecret,
  })

  driver.start()
  await peerApp.listen({ host: config.bindHost, port: config.raftPort })
  await publicApp.listen({ host: config.bindHost, port: config.serverPort })
  logger.info(
    { node: config.nodeId, http: `${config.bindHost}:${config.serverPort}`, raft: `${config.bindHost}:${config.raftPort}` },
    'node started',
  )

  let stopping: Promise<void> | null = null
  function stop(): Promise<void> {
    stopping ??= (async () => {
      if (!fatal) {
        const moved = await node.handOffLeadership(config.electionTicks * config.tickMs * 2, config.tickMs)
        if (moved) logger.info({ leader: driver.status().leader }, 'leadership handed over')
      }
      node.shutdown()
      await publicApp.close()
      await driver.stop()
      // Transport first: it answers the peer requests it holds open (a stopped
      // driver never goes idle again), so closing the peer app does not wait for them.
      await transport.close()
      await peerApp.close()
      await store.close()
      for (const stopTrace of stopTracing) stopTrace()
      if (tracer !== null) writeTrace(tracer, logger)
      logger.info({ node: config.nodeId }, 'node stopped')
    })()
    return stopping
  }

  return { node, driver, publicApp, peerApp, logger, stop }
}

function writeTrace(tracer: RoundTraceFile, logger: Logger): void {
  try {
    tracer.flush()
    logger.info({ file: tracer.file, ...tracer.stats() }, 'round trace written')
  } catch (err) {
    logger.error({ err, file: tracer.file }, 'could not write the round trace')
  }
}
