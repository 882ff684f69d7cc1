// Bundled in place of node:assert for yargs alone (bin/build.js). yargs checks its own
// invariants with assert's strictEqual and notStrictEqual, and node:assert, with its
// AssertionError and diff printer, costs about 2 ms to load on every command.
export function strictEqual(actual, expected, message) {
  if (!Object.is(actual, expected)) throw new Error(message ?? `yargs: expected ${String(expected)}, found ${String(actual)}`);
}

export function notStrictEqual(actual, expected, message) {
  if (Object.is(actual, expected)) throw new Error(message ?? `yargs: did not expect ${String(actual)}`);
}
