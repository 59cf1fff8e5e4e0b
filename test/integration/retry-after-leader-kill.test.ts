// A retried request_id never spends twice, even when the leader dies after the
// increment committed but before it answered. FAILPOINT=exit-after-commit makes
// the leader exit at exactly that moment; the client sees its connection drop
// (outcome unknown) and retries on another node with the same request_id.
import t from 'tap'
import { startCluster, waitFor } from '../../scripts/cluster-proc.js'
import { agreedLeader, getJson } from './http-helpers.js'

const BURST = 10

t.test('retry with the same request_id after the leader died between commit and reply', async (t) => {
  const c = await startCluster({
    nodes: 3,
    env: { RATE_LIMIT: '1', RATE_LIMIT_WINDOW_SEC: '86400', RATE_LIMIT_BURST: String(BURST), LOG_LEVEL: 'warn', FAILPOINT: 'exit-after-commit:victim' },
  })
  t.teardown(() => c.stop({ removeData: true }))
  const leader = (await waitFor(() => agreedLeader(c, c.names), 20_000, { intervalMs: 50 })) as string
  await c.waitReady(20_000)

  // Another client first, so the bucket of interest is the only thing the failpoint touches.
  const warm = await getJson(`${c.url(leader)}/rate/increment?client_id=other`, { method: 'POST' })
  t.equal(warm.status, 200)

  const url = (name: string): string => `${c.url(name)}/rate/increment?client_id=victim&request_id=req-1`
  let firstError = ''
  try {
    const r = await getJson(url(leader), { method: 'POST' })
    firstError = `unexpected answer HTTP ${r.status}`
  } catch (err) {
    firstError = err instanceof Error ? err.message : String(err)
  }
  const exit = await c.node(leader).exited
  t.equal(exit.code, 137, `the leader exited at the failpoint (client saw: ${firstError})`)

  const survivors = c.names.filter((n) => n !== leader)
  const retry = await waitFor(async () => {
    const r = await getJson(url(survivors[0] as string), { method: 'POST' })
    return r.status === 200 ? r : null
  }, 20_000, { intervalMs: 100 })
  t.equal(retry?.body['result'], true)
  t.equal(retry?.body['remaining_quota'], BURST - 1, 'the retry returns the first answer: one token spent')

  const again = await getJson(url(survivors[1] as string), { method: 'POST' })
  t.equal(again.body['remaining_quota'], BURST - 1, 'a second retry on the other survivor: still one token')
  for (const name of survivors) {
    const check = await getJson(`${c.url(name)}/rate/check?client_id=victim`)
    t.equal(check.body['remaining_quota'], BURST - 1, `${name}: exactly one token gone, not two or three`)
  }
  // (A new request_id for `victim` would hit the failpoint again on the new leader: by design.)
})
