// A node that lost its data must not vote until it has caught up
// (RaftConfig.rejoin), and that must survive a crash part-way through catching
// up, when the log is no longer empty but still incomplete. A marker file in the
// data dir holds that fact from the first start after the loss until the core
// reports it has caught up. LevelDB ignores files whose names it does not own.
import fs from 'node:fs/promises'
import path from 'node:path'

export const REJOIN_MARKER = 'REJOINING'

/**
 * Whether this start rejoins: a marker left by an earlier start that had not
 * caught up, or INITIAL_CLUSTER_STATE=existing with an empty log (then the
 * marker is written, durably, before the node takes part in anything).
 */
export async function beginRejoin(dataDir: string, existing: boolean, emptyLog: boolean): Promise<boolean> {
  const file = path.join(dataDir, REJOIN_MARKER)
  if (await exists(file)) return true
  if (!existing || !emptyLog) return false
  const handle = await fs.open(file, 'w')
  try {
    await handle.writeFile('this node lost its data and has not caught up since; it does not vote until it has\n')
    await handle.sync()
  } finally {
    await handle.close()
  }
  await syncDir(dataDir)
  return true
}

/** The core has caught up: later starts are ordinary restarts. */
export async function endRejoin(dataDir: string): Promise<void> {
  await fs.rm(path.join(dataDir, REJOIN_MARKER), { force: true })
  await syncDir(dataDir)
}

/**
 * Polled on every tick while this start rejoins: once `caughtUp()` holds, the
 * marker goes (once) and `onDone` is told. Returns the poll function.
 */
export function rejoinWatch(
  dataDir: string,
  rejoining: boolean,
  caughtUp: () => boolean,
  onDone: (removal: Promise<void>) => void,
): () => void {
  let pending = rejoining
  return () => {
    if (!pending || !caughtUp()) return
    pending = false
    onDone(endRejoin(dataDir))
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file)
    return true
  } catch {
    return false
  }
}

/** The directory entry itself must be durable, not only the file's bytes. */
async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
