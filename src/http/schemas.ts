// JSON schemas of the rate routes' responses: fastify compiles them into
// fast serializers, and they pin the wire shape clients depend on.
const integer = { type: 'integer' } as const
const boolean = { type: 'boolean' } as const
const string = { type: 'string' } as const

const errorResponse = {
  type: 'object',
  properties: { result: boolean, error: string, message: string },
  required: ['result', 'error', 'message'],
} as const

/** `degraded`/`error` appear only when FAIL_MODE=open admitted without the cluster. */
const admittedIncrement = {
  type: 'object',
  properties: { result: boolean, remaining_quota: integer, limit: integer, reset_after_sec: integer, degraded: boolean, error: string },
  required: ['result'],
} as const

const rejectedIncrement = {
  type: 'object',
  properties: { result: boolean, remaining_quota: integer, limit: integer, retry_after_sec: integer },
  required: ['result', 'remaining_quota', 'limit', 'retry_after_sec'],
} as const

const checkAnswer = {
  type: 'object',
  properties: { result: boolean, remaining_quota: integer, limit: integer, degraded: boolean, error: string },
  required: ['result'],
} as const

export const INCREMENT_RESPONSES = { 200: admittedIncrement, 429: rejectedIncrement, '4xx': errorResponse, '5xx': errorResponse } as const
export const CHECK_RESPONSES = { 200: checkAnswer, '4xx': errorResponse, '5xx': errorResponse } as const
