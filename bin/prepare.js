#!/usr/bin/env node
// npm's "prepare": builds dist/ with TypeScript, a devDependency. `npm ci` installs it first;
// `npm install -g .` in a fresh clone links the folder without installing anything in it, so
// there is nothing to build with: say what to do instead of `tsc: not found`.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const project = fileURLToPath(new URL('..', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
if (!existsSync(tsc)) {
  process.stderr.write(
    `bootstrap: cannot build ${project}dist: its dependencies are not installed there (TypeScript is a devDependency).\n` +
      `Run \`npm ci\` in ${project} first (it installs them and builds), then \`npm install -g .\` again.\n`,
  );
  process.exit(1);
}
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: project, stdio: 'inherit' });
