export function isPortFree(port: number, host?: string): Promise<boolean>
export function busyPorts(ports: readonly number[], host?: string): Promise<number[]>
