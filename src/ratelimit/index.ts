// Public API of the replicated token-bucket state machine (pure: no clock, no I/O).
export {
  type Policy,
  MAX_BURST,
  MAX_WINDOW_MS,
  MAX_REFILL,
  MAX_STAMP,
  policyProblem,
  assertValidPolicy,
  capacityUnits,
  samePolicy,
} from './policy.js'
export { type Bucket, type BucketAnswer, type ConsumeResult, levelAt, consume, peek, isFullAt } from './bucket.js'
export {
  type IncrementCommand,
  commandProblem,
  assertValidCommand,
} from './command.js'
export {
  type BatchItem,
  type CommandBatch,
  batchProblem,
  assertValidBatch,
  encodeCommandBatch,
  decodeCommandBatch,
  batchOfOne,
} from './command-batch.js'
export type { Decision } from './decision.js'
export {
  type StateMachineOptions,
  type SnapshotLines,
  RateLimitStateMachine,
  DEFAULT_DEDUP_TTL_MS,
  DEFAULT_SWEEP_PER_APPLY,
} from './state-machine.js'
