// doctor checks gpgv: a default gentoo-2025 run needs it for the snapshot the shipped lock pins by
// signature. A missing gpgv is simulated by bind-mounting a file without execute bits over the
// host's in a private mount namespace, so the host's gpgv is never touched.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { cliPath, needsRoot, needsTool, tempDir } from '../helpers/env.js';

let dir: { path: string; remove: () => void };
beforeEach(() => {
  dir = tempDir('bootstrap-doctor-gpgv-');
});
afterEach(() => dir.remove());

type Check = { name: string; level: string; detail: string; fix?: string };
const gpgvCheck = (stdout: string) => (JSON.parse(stdout).checks as Check[]).find((c) => c.name === 'tool gpgv');

describe('doctor: gpgv', () => {
  it('passes with this host\'s gpgv, naming its path', async (ctx) => {
    needsTool(ctx, 'gpgv', 'gpgv');
    const result = await cli(['doctor', '--json', '--work', join(dir.path, 'work')]);
    expect(gpgvCheck(result.stdout)).toMatchObject({ level: 'pass', detail: expect.stringMatching(/\/gpgv$/) });
  });

  it('warns without failing when gpgv is missing, saying what needs it and the package', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'gpgv', 'gpgv');
    const host = (await execa('sh', ['-c', 'command -v gpgv'])).stdout.trim();
    const notExecutable = join(dir.path, 'gpgv');
    writeFileSync(notExecutable, '', { mode: 0o644 });
    const result = await execa('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$1" "$2" && exec "$3" "$4" doctor --json --work "$5"', 'sh', notExecutable, host, process.execPath, cliPath, join(dir.path, 'work')], {
      reject: false,
      env: { NO_COLOR: '1', CI: 'true' },
    });
    expect(gpgvCheck(String(result.stdout))).toEqual({
      name: 'tool gpgv',
      level: 'warn',
      detail: 'gpgv not found (needed for lock entries pinned by signature, as the shipped Gentoo snapshot is: a default gentoo-2025 run)',
      fix: 'apt-get install gpgv',
    });
  });
});
