// Entry point: configuration from the environment, one node, graceful stop on signals.
import { ConfigError, loadConfig } from './config.js'
import { startNode } from './node/start-node.js'

async function main(): Promise<void> {
  let config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ratelimiter: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const running = await startNode(config)
  const onSignal = (signal: NodeJS.Signals): void => {
    running.logger.info({ signal }, 'shutting down')
    running.stop().then(
      () => process.exit(process.exitCode ?? 0),
      (err: unknown) => {
        running.logger.error({ err }, 'unclean shutdown')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
}

main().catch((err: unknown) => {
  process.stderr.write(`ratelimiter: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
