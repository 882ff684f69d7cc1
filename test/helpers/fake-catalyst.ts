import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A stand-in for `catalyst`, for tests only: appends its arguments to `<dir>/calls`, prints a
 * few lines, fails with exit code 3 when `<dir>/fail-on` names the spec it was given, and
 * waits (until killed) when `<dir>/hang-on` does.
 */
export function makeFakeCatalyst(dir: string): string {
  const path = join(dir, 'catalyst');
  writeFileSync(
    path,
    `#!/bin/sh
here=$(dirname "$0")
spec=$(basename "$4")
echo "$*" >> "$here/calls"
echo "catalyst: building $spec"
if [ -f "$here/hang-on" ] && [ "$(cat "$here/hang-on")" = "$spec" ]; then
  echo "waiting"
  exec sleep 600
fi
if [ -f "$here/fail-on" ] && [ "$(cat "$here/fail-on")" = "$spec" ]; then
  echo "!!! emerge failed for $spec" >&2
  exit 3
fi
echo "catalyst: finished $spec"
`,
  );
  chmodSync(path, 0o755);
  return path;
}
