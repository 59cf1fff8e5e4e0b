// Public surface of the history checkers (I4 linearizability, I5 admission).
export { admittedIncrement, describeOp, partitionByKey, type Op, type OpOutcome } from './history.js'
export type { BucketModel } from './model.js'
export { tokenBucketModel, type TokenBucketModelOptions, type TokenBucketState } from './token-bucket-model.js'
export type { LevelRange } from './level-range.js'
export { checkHistory, checkKey, DEFAULT_MAX_STEPS, type CheckOptions, type CheckResult } from './linearizability.js'
export { checkAdmission, type AdmissionResult } from './admission.js'
