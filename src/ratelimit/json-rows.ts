// Splits the text of a JSON array's elements into runs of whole elements
// without parsing it, so a very large array can go through JSON.parse a slice
// at a time. Only brackets and braces outside strings count; inside a string
// only a backslash (which escapes the next character) and the closing quote matter.

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN = new Set([0x5b, 0x7b]) // [ {
const CLOSE = new Set([0x5d, 0x7d]) // ] }

/**
 * Index just past the `count`-th element that ends after `from`, or `to` if
 * fewer end before it. `from` must be outside any string, at depth 0 of the
 * array; elements are assumed to be arrays or objects (as snapshot rows are).
 */
export function endOfElements(text: string, from: number, to: number, count: number): number {
  let depth = 0
  let seen = 0
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      for (i++; i < to && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++
    } else if (OPEN.has(c)) depth++
    else if (CLOSE.has(c) && --depth === 0 && ++seen === count) return i + 1
  }
  return to
}

/**
 * Parses `text[from, to)`, a run of whole elements cut by endOfElements.
 * Runs after the first begin with the comma that separated them from the
 * previous run, so a placeholder element is parsed in front and dropped.
 */
export function parseElements(text: string, from: number, to: number, first: boolean): unknown[] {
  const slice = text.slice(from, to)
  if (first) return JSON.parse(`[${slice}]`) as unknown[]
  return (JSON.parse(`[0${slice}]`) as unknown[]).slice(1)
}
