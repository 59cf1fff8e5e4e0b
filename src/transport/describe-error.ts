// One line for a failed peer exchange in logs and error details: the system
// error code when there is one (ECONNREFUSED, UND_ERR_BODY_TIMEOUT), else the name.
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? `${code}: ${err.message}` : `${err.name}: ${err.message}`
  }
  return String(err)
}
