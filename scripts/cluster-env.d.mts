// Types for cluster-env.mjs (plain JS so it runs without a build).

/** One node's environment: every value is a string, as in process.env. */
export type NodeEnv = Record<string, string>

/** Node name → environment, e.g. { 'node-1': {...}, 'node-2': {...} }. */
export type ClusterEnv = Record<string, NodeEnv>

export interface ClusterEnvOptions {
  /** Host written into CLUSTERS; a function gives each node its own (compose uses the service name). Default 127.0.0.1. */
  host?: string | ((name: string) => string)
  /** BIND_HOST for every node. Default 127.0.0.1. */
  bindHost?: string
  /** Parent of the per-node data dirs: DATA_DIR = <dataRoot>/<name>. Default ./data. */
  dataRoot?: string
  /** Number of nodes (node-1..node-N). Default 3. */
  nodes?: number
  /** node-N gets SERVER_PORT = httpBase + N. Default 20000. */
  httpBase?: number
  /** node-N gets RAFT_PORT = raftBase + N. Default 50000. */
  raftBase?: number
  /** Variables set (or replaced) on every node. */
  overrides?: NodeEnv
  /** Variables set (or replaced) on one node, applied after `overrides`. */
  nodeOverrides?: Record<string, NodeEnv>
}

export interface ClusterMember {
  name: string
  host: string
  port: number
}

export const DEV_CLUSTER_SECRET: string
export const HTTP_PORT_BASE: number
export const RAFT_PORT_BASE: number
export const SUPPORTED_SIZES: readonly number[]
export const SHARED_ENV: Readonly<NodeEnv>

export function nodeNames(count?: number): string[]
export function nodeIndex(name: string): number
export function clusterEnv(options?: ClusterEnvOptions): ClusterEnv
export function parseClusters(clusters: string): ClusterMember[]

/** Node flags every node process starts with (before the entry script). */
export declare const NODE_RUNTIME_ARGS: readonly string[]
/** Environment every node process starts with, unless the caller's own sets it. */
export declare const NODE_RUNTIME_ENV: Readonly<NodeEnv>
