import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLock } from '../../src/distfiles/read-lock.js';
import { makeBusyboxRoot } from '../helpers/busybox-root.js';
import { cli, journalEvents } from '../helpers/cli.js';
import { pinnedEntry, sriOf, writeTestLock } from '../helpers/distfiles-lock.js';
import { needsRoot, needsTool, tempDir } from '../helpers/env.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';

// A step fetches a file the way Portage does: through FETCHCOMMAND into <name>.__download__,
// then renames it. Sealed, the command refuses; recording, it downloads and logs.
const RECIPE = `
name: record-loop
version: 1
description: a step that fetches like Portage, first recorded, then sealed
parameters:
  url: {}
roots:
  r: { path: "{{work}}/root", shell: [/bin/sh] }
phases:
  - id: all
    steps:
      - id: place
        kind: distfiles
        root: r
        files: [pkg-1.0.tar.gz]
        all_sources: true
        dir: /var/cache/distfiles
        fetch_command: /usr/local/bin/bootstrap-fetch
      - id: emerge
        kind: run
        root: r
        script: |
          set -e
          cd /var/cache/distfiles
          if [ ! -f extra-0.1.tar.gz ]; then
            /usr/local/bin/bootstrap-fetch {{url}} /var/cache/distfiles extra-0.1.tar.gz.__download__
            mv extra-0.1.tar.gz.__download__ extra-0.1.tar.gz
          fi
          echo "have $(wc -c < extra-0.1.tar.gz) bytes of extra"
`;

/** busybox has wget, not curl: a stand-in taking the options the recording command passes. */
const CURL = '#!/bin/sh\nout=\nwhile [ $# -gt 0 ]; do case $1 in --output) out=$2; shift 2;; --retry) shift 2;; --) shift; break;; -*) shift;; *) break;; esac; done\nexec wget -q -O "$out" "$1"\n';

describe('run --record, then a sealed run from the lock it wrote', () => {
  let dir: { path: string; remove: () => void };
  let server: TestServer;
  beforeEach(async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    dir = tempDir('bootstrap-record-');
    server = await startTestServer();
  });
  afterEach(async () => {
    await server?.close();
    dir?.remove();
  });

  it('adds what a step fetched to the lock, and a later sealed run places it without fetching', async () => {
    const pkg = randomBytes(4000);
    const extra = randomBytes(7000);
    server.route('/pkg-1.0.tar.gz', pkg);
    server.route('/extra-0.1.tar.gz', extra);
    const recipe = join(dir.path, 'recipe');
    mkdirSync(recipe);
    writeFileSync(join(recipe, 'recipe.yaml'), RECIPE);
    const lock = join(dir.path, 'distfiles.lock');
    await writeTestLock(lock, { 'pkg-1.0.tar.gz': pinnedEntry(pkg, [`${server.url}/pkg-1.0.tar.gz`]) });
    const url = `${server.url}/extra-0.1.tar.gz`;

    // Sealed first: the fetch is refused, naming the file.
    const sealedWork = join(dir.path, 'sealed');
    makeBusyboxRoot(join(sealedWork, 'root'));
    const refused = await cli(['run', '--recipe', recipe, '--work', sealedWork, '--lock', lock, '--plain', '--url', url]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('extra-0.1.tar.gz is not in distfiles.lock');

    // Recording: the step downloads, and the lock gains the file after the step.
    const recordWork = join(dir.path, 'record');
    makeBusyboxRoot(join(recordWork, 'root'));
    writeFileSync(join(recordWork, 'root/usr/bin/curl'), CURL);
    chmodSync(join(recordWork, 'root/usr/bin/curl'), 0o755);
    const recorded = await cli(['run', '--recipe', recipe, '--work', recordWork, '--lock', lock, '--plain', '--record', '--url', url]);
    expect(recorded.exitCode).toBe(0);
    expect(recorded.stderr).toContain(`recorded into ${lock}: extra-0.1.tar.gz`);
    expect((await readLock(lock)).distfiles['extra-0.1.tar.gz']).toMatchObject({ size: extra.length, integrity: sriOf(extra), urls: [url], kind: 'source', from: 'recorded during emerge' });
    expect(journalEvents(recordWork)[0]).toMatchObject({ options: { record: true, lock } });

    // Sealed again, on a fresh root with a fresh store: every locked source is placed first.
    const againWork = join(dir.path, 'again');
    makeBusyboxRoot(join(againWork, 'root'));
    const requestsBefore = server.requests.filter((r) => r.path === '/extra-0.1.tar.gz').length;
    const again = await cli(['run', '--recipe', recipe, '--work', againWork, '--lock', lock, '--plain', '--url', url]);
    expect(again.stderr).not.toContain('not in distfiles.lock');
    expect(again.exitCode).toBe(0);
    expect(readFileSync(join(againWork, 'root/var/cache/distfiles/extra-0.1.tar.gz')).equals(extra)).toBe(true);
    // Fetched once more by the host's verified fetcher, never from inside the root.
    expect(server.requests.filter((r) => r.path === '/extra-0.1.tar.gz').length).toBe(requestsBefore + 1);
    expect(readFileSync(journalEvents(againWork).find((e) => e.type === 'step-finished' && e.step === 'emerge')!.log as string, 'utf8')).toContain(`have ${extra.length} bytes of extra`);
  });
});
