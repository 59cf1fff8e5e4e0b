// Hands out items one at a time with `pause()` awaited between them, so a long
// run of synchronous work (encoding or decoding a large snapshot) yields the
// event loop between items.
export async function* paced<T>(items: Iterable<T>, pause: () => Promise<void>): AsyncGenerator<T> {
  let first = true
  for (const item of items) {
    if (!first) await pause()
    first = false
    yield item
  }
}
