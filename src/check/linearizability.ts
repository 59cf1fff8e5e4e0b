// I4: does a history fit the sequential bucket model? Keys are independent
// objects, so each key's sub-history is checked alone (P-compositionality).
// Per key: Wing & Gong's search over the call/return list, with Lowe's memo
// of (linearized set, model state) pairs already explored.
import { describeOp, partitionByKey, type Op } from './history.js'
import { EventList } from './event-list.js'
import { LinearizedSet } from './linearized-set.js'
import type { BucketModel } from './model.js'

export type CheckResult =
  | { ok: true }
  | { ok: false; key: string; reason: string; /** Longest linearizable prefix found, in linearization order. */ partial: Op[] }
  | { ok: 'unknown'; key: string; reason: string }

export type CheckOptions = {
  /** Model steps allowed per key before giving up with 'unknown'. */
  maxSteps?: number
}

export const DEFAULT_MAX_STEPS = 5_000_000

/** An op whose outcome is unknown has no return: it may take effect any time after its call, or never. */
const known = (op: Op): boolean => op.outcome !== 'unknown'

export function checkHistory<S>(ops: readonly Op[], model: BucketModel<S>, opts: CheckOptions = {}): CheckResult {
  let unknownKey: CheckResult | undefined
  for (const [key, keyOps] of partitionByKey(ops)) {
    const r = checkKey(key, keyOps, model, opts)
    if (r.ok === false) return r
    if (r.ok === 'unknown' && unknownKey === undefined) unknownKey = r
  }
  return unknownKey ?? { ok: true }
}

/** Checks the ops of one key (all ops must share it). */
export function checkKey<S>(key: string, keyOps: readonly Op[], model: BucketModel<S>, opts: CheckOptions = {}): CheckResult {
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS
  const ops = orderOps(keyOps)
  const firstOptional = ops.findIndex((op) => !known(op))
  const split = firstOptional < 0 ? ops.length : firstOptional
  const list = new EventList(ops, known)
  // Two bitsets: ops that must be linearized (a prefix-like set, short keys)
  // and the optional ones, whose subsets would otherwise lengthen every key.
  const mustSet = new LinearizedSet(split)
  const maySet = new LinearizedSet(ops.length - split)
  const isDone = (i: number): boolean => (i < split ? mustSet.has(i) : maySet.has(i - split))
  const mark = (i: number, on: boolean): void => {
    const [set, j] = i < split ? [mustSet, i] : [maySet, i - split]
    if (on) set.add(j)
    else set.delete(j)
  }
  const twin = earlierTwins(ops, split)
  const memo = new Set<string>()
  const stack: { op: number; state: S; firstReturn: number }[] = []
  let state = model.init()
  let pending = list.required
  let steps = 0

  // Deepest linearization seen, kept in step with the stack without recopying
  // it on every push: `agree` leading entries of `best` equal the stack's.
  const best: number[] = []
  let agree = 0
  let blocker: { op: number; state: string } | undefined

  // Candidates at each point are the calls before the first pending return.
  // Required ops are tried first, in call order (phase 0), then optional ones
  // newest first (phase 1, scanning back from that return): the order changes
  // no verdict, but an op that timed out recently is likelier to have taken
  // effect than one that has been pending for long.
  let e = list.first
  let phase: 0 | 1 = 0
  let firstReturn = 0
  while (pending > 0) {
    if (e === 0) {
      // Phase 1 ran back to the head: every candidate failed here. The op of
      // the first return must already have taken effect; undo the last choice.
      const i = list.opOf[firstReturn] ?? -1
      if (blocker === undefined && stack.length === best.length && agree === stack.length) {
        blocker = { op: i, state: model.hash(state) }
      }
      const top = stack.pop()
      if (top === undefined) return failure(key, ops, best, blocker)
      if (agree > stack.length) agree = stack.length
      state = top.state
      mark(top.op, false)
      list.restore(top.op)
      const topOp = ops[top.op]
      const call = list.callOf[top.op] ?? 0
      if (topOp !== undefined && known(topOp)) {
        pending++
        phase = 0
        e = list.next[call] ?? 0
      } else {
        phase = 1
        firstReturn = top.firstReturn
        e = list.prev[call] ?? 0
      }
      continue
    }
    const i = list.opOf[e] ?? -1
    const op = ops[i]
    if (op === undefined) throw new Error('unreachable: the list ended with returns pending')
    if (list.isCall[e] === 0) {
      // Only phase 0 walks forward into a return: switch to phase 1 from here.
      firstReturn = e
      phase = 1
      e = list.prev[e] ?? 0
      continue
    }
    const t = twin[i] ?? -1
    if (known(op) !== (phase === 0) || (t >= 0 && !isDone(t))) {
      // Not this phase's kind, or an identical earlier twin is still out
      // (trying this one first would only repeat work).
      e = (phase === 0 ? list.next[e] : list.prev[e]) ?? 0
      continue
    }
    if (++steps > maxSteps) {
      return { ok: 'unknown', key, reason: `search budget of ${maxSteps} model steps exhausted after ${best.length} of ${ops.length} ops` }
    }
    const r = model.step(state, op)
    if (r.ok) {
      mark(i, true)
      const memoKey = mustSet.key() + '/' + maySet.key() + '|' + model.hash(r.next)
      if (!memo.has(memoKey)) {
        memo.add(memoKey)
        stack.push({ op: i, state, firstReturn })
        state = r.next
        list.lift(i)
        if (known(op)) pending--
        if (stack.length > best.length) {
          best.length = agree
          for (let k = agree; k < stack.length; k++) best.push(stack[k]?.op ?? -1)
          agree = stack.length
          blocker = undefined
        }
        e = list.first
        phase = 0
        continue
      }
      mark(i, false)
    }
    e = (phase === 0 ? list.next[e] : list.prev[e]) ?? 0
  }
  return { ok: true }
}

/**
 * Required ops first, then optional ones, each group by call time. A check
 * whose answer never arrived changes nothing and constrains nothing: dropped.
 */
function orderOps(keyOps: readonly Op[]): Op[] {
  const byCall = (a: Op, b: Op): number => a.call - b.call
  const must = keyOps.filter(known).sort(byCall)
  const may = keyOps.filter((op) => !known(op) && op.kind !== 'check').sort(byCall)
  return [...must, ...may]
}

/**
 * For each optional op, the previous optional op (by call) with the same
 * kind, cost and stamp, else -1. Such twins act the same on the model and
 * neither has a return, so any linearization using the later one and not the
 * earlier can swap them: the search only takes twins in call order, which
 * turns 2^n subsets of n twins into n+1 counts.
 */
function earlierTwins(ops: readonly Op[], split: number): number[] {
  const twin = ops.map(() => -1)
  const last = new Map<string, number>()
  for (let i = split; i < ops.length; i++) {
    const op = ops[i]
    if (op === undefined) continue
    const sig = `${op.kind}|${op.cost}|${op.stamp ?? ''}`
    const prev = last.get(sig)
    if (prev !== undefined) twin[i] = prev
    last.set(sig, i)
  }
  return twin
}

function failure(key: string, ops: readonly Op[], best: readonly number[], blocker: { op: number; state: string } | undefined): CheckResult {
  const partial = best.map((i) => ops[i]).filter((op): op is Op => op !== undefined)
  const stuck = blocker === undefined ? undefined : ops[blocker.op]
  const reason =
    stuck === undefined || blocker === undefined
      ? `no linearization of key ${JSON.stringify(key)}`
      : `no linearization of key ${JSON.stringify(key)}: after the longest valid prefix (${partial.length} of ${ops.length} ops), ` +
        `${describeOp(stuck)} cannot take effect before it returns; model state ${blocker.state}`
  return { ok: false, key, reason, partial }
}
