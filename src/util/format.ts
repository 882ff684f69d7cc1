/** Bytes as mebibytes with one decimal, e.g. `12.3 MiB`. */
export function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}
