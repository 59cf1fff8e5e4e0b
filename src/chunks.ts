// Splitting a list into bounded pieces, for the places that cap what one
// entry, message or request holds.

/**
 * `items` in pieces of at most `size`, in order. A list that fits (an empty
 * one included) comes back as the only piece, itself and not a copy: the
 * usual case on hot paths.
 */
export function inChunks<T>(items: T[], size: number): T[][]
export function inChunks<T>(items: readonly T[], size: number): (readonly T[])[]
export function inChunks<T>(items: readonly T[], size: number): (readonly T[])[] {
  if (items.length <= size) return [items]
  const out: (readonly T[])[] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
