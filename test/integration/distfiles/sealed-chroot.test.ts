import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlanContext, Root, RunContext, StepLog } from '../../../src/engine/step-kind.js';
import { readLock } from '../../../src/distfiles/read-lock.js';
import { RECORD_LOG, collectRecorded } from '../../../src/distfiles/record.js';
import { createDistfilesKind } from '../../../src/steps/distfiles.js';
import { busyboxPath, makeBusyboxRoot } from '../../helpers/busybox-root.js';
import { needsRoot, tempDir } from '../../helpers/env.js';
import { pinnedEntry, sriOf, writeTestLock } from '../../helpers/distfiles-lock.js';
import { type TestServer, startTestServer } from '../../helpers/http-server.js';

const FETCH = '/usr/local/bin/bootstrap-fetch';
const DISTDIR = '/var/cache/distfiles';

let server: TestServer;
let dir: { path: string; remove: () => void };
let rootPath: string;
let lockPath: string;
let root: Root;
const body = randomBytes(300_000);

beforeEach(async () => {
  server = await startTestServer();
  server.route('/pkg-1.0.tar.gz', body);
  dir = tempDir('distfiles-sealed-');
  rootPath = join(dir.path, 'root');
  lockPath = join(dir.path, 'distfiles.lock');
  root = { name: 'lb', path: rootPath, host: false, shell: ['/bin/sh'], prelude: '', preflightPrelude: '', env: {} };
  await writeTestLock(lockPath, {
    'pkg-1.0.tar.gz': pinnedEntry(body, [`${server.url}/pkg-1.0.tar.gz`]),
    'later-2.0.tar.gz': { size: null, integrity: null, urls: [`${server.url}/later-2.0.tar.gz`], kind: 'source' },
  });
});

afterEach(async () => {
  await server.close();
  dir.remove();
});

function planContext(stepId: string, preview = false): PlanContext {
  return { recipeDir: dir.path, params: {}, roots: { lb: root }, root, stepId, preview, render: (text) => text };
}

function runContext(stepId: string): RunContext & { notes: string[] } {
  const notes: string[] = [];
  const log: StepLog = { path: join(dir.path, `${stepId}.log`), write: () => undefined, note: (line) => notes.push(line) };
  return {
    stepId,
    recipeDir: dir.path,
    render: (text) => text,
    root,
    roots: { lb: root },
    params: {},
    workDir: dir.path,
    log,
    notes,
    signal: new AbortController().signal,
    async runScript(request) {
      const result = await execa('chroot', [request.root.path, '/bin/sh', '-c', request.script], { reject: false, env: request.env });
      log.write(result.stdout);
      return { exitCode: result.exitCode ?? 1 };
    },
  };
}

/** As Portage runs FETCHCOMMAND from make.conf: FETCHCOMMAND="<path> \"${URI}\" \"${DISTDIR}\" \"${FILE}\"". */
function portageFetch(uri: string, file: string) {
  const script = `URI='${uri}' DISTDIR='${DISTDIR}' FILE='${file}'; eval "${FETCH} \\"\\\${URI}\\" \\"\\\${DISTDIR}\\" \\"\\\${FILE}\\""`;
  return execa('chroot', [rootPath, '/bin/sh', '-c', script], { reject: false });
}

describe('distfiles step kind', () => {
  it('refuses unknown and (when sealed) unpinned entries at plan time, naming the step', async () => {
    const sealed = createDistfilesKind({ lockPath, storeDir: join(dir.path, 'store'), record: false });
    await expect(sealed.plan({ files: ['nope.tar'], dir: DISTDIR, all_sources: false }, planContext('place'))).rejects.toMatchObject({
      code: 'EUNKNOWNDISTFILE',
      message: expect.stringMatching(/^step place: distfile "nope\.tar" is not in /),
    });
    await expect(sealed.plan({ files: ['later-2.0.tar.gz'], dir: DISTDIR, all_sources: false }, planContext('place'))).rejects.toMatchObject({ code: 'EUNPINNED' });
    const preview = await sealed.plan({ files: ['later-2.0.tar.gz', 'nope.tar'], dir: DISTDIR, all_sources: false }, planContext('place', true));
    expect(preview.summary).toContain(
      `a run would refuse this step: step place: later-2.0.tar.gz is unpinned in ${lockPath}: pin it from its package's Gentoo Manifest with ` +
        `\`bootstrap lock import-manifest MANIFEST --lock ${lockPath}\`, or with \`bootstrap fetch --pin --only later-2.0.tar.gz --lock ${lockPath} --dest ${join(dir.path, 'store')}\` ` +
        '(trust on first use; the lock records where the bytes came from), or run with --record to pin it on first use',
    );
    expect(preview.summary).toContain(`a run would refuse this step: step place: distfile "nope.tar" is not in ${lockPath}`);
    const recording = createDistfilesKind({ lockPath, storeDir: join(dir.path, 'store'), record: true });
    const plan = await recording.plan({ files: ['later-2.0.tar.gz'], dir: DISTDIR, all_sources: false }, planContext('place'));
    expect(plan.distfiles).toEqual(['later-2.0.tar.gz']);
  });

  it('with all_sources places every pinned source entry too (what a --record run added)', async (ctx) => {
    needsRoot(ctx);
    await writeTestLock(lockPath, {
      'pkg-1.0.tar.gz': pinnedEntry(body, [`${server.url}/pkg-1.0.tar.gz`]),
      'later-2.0.tar.gz': { size: null, integrity: null, urls: [`${server.url}/later-2.0.tar.gz`], kind: 'source' },
      'tree.sqfs': { ...pinnedEntry(body, [`${server.url}/pkg-1.0.tar.gz`]), kind: 'repo-snapshot' },
    });
    const kind = createDistfilesKind({ lockPath, storeDir: join(dir.path, 'store'), record: false });
    const spec = kind.schema.parse({ all_sources: true, dir: DISTDIR });
    const plan = await kind.plan(spec, planContext('place'));
    expect(plan.distfiles).toEqual(['pkg-1.0.tar.gz']);
    mkdirSync(rootPath, { recursive: true });
    const outcome = await kind.run(spec, plan, runContext('place'));
    expect(Object.keys(outcome?.distfiles ?? {})).toEqual(['pkg-1.0.tar.gz']);
    expect(readFileSync(join(rootPath, DISTDIR, 'pkg-1.0.tar.gz')).equals(body)).toBe(true);
    expect(() => kind.schema.parse({ dir: DISTDIR })).toThrow(/name some files, set all_sources, or give a fetch_command/);
  });

  it('with only a fetch_command installs the command and fetches nothing (not the whole lock)', async (ctx) => {
    needsRoot(ctx);
    const store = join(dir.path, 'store');
    const kind = createDistfilesKind({ lockPath, storeDir: store, record: false });
    const spec = kind.schema.parse({ dir: DISTDIR, fetch_command: FETCH });
    const plan = await kind.plan(spec, planContext('seal'));
    mkdirSync(rootPath, { recursive: true });
    expect(await kind.run(spec, plan, runContext('seal'))).toEqual({ distfiles: {} });
    expect(server.requests).toEqual([]);
    expect(existsSync(join(store, 'pkg-1.0.tar.gz'))).toBe(false);
    expect(statSync(join(rootPath, FETCH)).mode & 0o777).toBe(0o755);
  });

  it('puts the integrity of each file into the plan, so a changed lock changes the fingerprint', async () => {
    const kind = createDistfilesKind({ lockPath, storeDir: join(dir.path, 'store'), record: false });
    const spec = kind.schema.parse({ files: ['pkg-1.0.tar.gz'], dir: DISTDIR, fetch_command: FETCH });
    const before = await kind.plan(spec, planContext('place'));
    expect(JSON.stringify(before.detail)).toContain(sriOf(body));
    const other = randomBytes(10);
    await writeTestLock(lockPath, { 'pkg-1.0.tar.gz': pinnedEntry(other, [`${server.url}/pkg-1.0.tar.gz`]) });
    const after = await kind.plan(spec, planContext('place'));
    expect(JSON.stringify(after.detail)).not.toBe(JSON.stringify(before.detail));
    expect(before.writes).toEqual([{ path: FETCH, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), mode: '0755' }]);
  });

  it('seals a real chroot: the file is placed, and anything else Portage asks for is refused', async (ctx) => {
    needsRoot(ctx);
    if (!busyboxPath) ctx.skip('needs busybox-static');
    makeBusyboxRoot(rootPath);
    const kind = createDistfilesKind({ lockPath, storeDir: join(dir.path, 'store'), record: false });
    const spec = kind.schema.parse({ files: ['pkg-1.0.tar.gz'], dir: DISTDIR, fetch_command: FETCH });
    const plan = await kind.plan(spec, planContext('place'));
    const run = runContext('place');
    const outcome = await kind.run(spec, plan, run);
    expect(outcome).toEqual({ distfiles: { 'pkg-1.0.tar.gz': sriOf(body) } });
    const placed = join(rootPath, DISTDIR, 'pkg-1.0.tar.gz');
    expect(readFileSync(placed).equals(body)).toBe(true);
    expect(statSync(placed).ino).toBe(statSync(join(dir.path, 'store', 'pkg-1.0.tar.gz')).ino);
    expect(statSync(join(rootPath, FETCH)).mode & 0o777).toBe(0o755);

    const refused = await portageFetch(`${server.url}/other-3.1.tar.xz`, 'other-3.1.tar.xz.__download__');
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('other-3.1.tar.xz is not in distfiles.lock');
    expect(server.requests.filter((r) => r.path === '/other-3.1.tar.xz')).toHaveLength(0);

    const viaRunScript = await run.runScript({ root, script: `${FETCH} '${server.url}/x.tar' ${DISTDIR} x.tar` });
    expect(viaRunScript.exitCode).toBe(1);
  });

  it('records what Portage fetches in --record mode and adds it to the lock afterwards', async (ctx) => {
    needsRoot(ctx);
    if (!busyboxPath) ctx.skip('needs busybox-static');
    makeBusyboxRoot(rootPath);
    // The root has no curl: a stand-in that accepts the options the script uses and calls busybox wget.
    const curl = join(rootPath, 'usr/bin/curl');
    writeFileSync(
      curl,
      '#!/bin/sh\nout=\nwhile [ $# -gt 0 ]; do case $1 in --output) out=$2; shift 2;; --retry) shift 2;; --) shift; break;; -*) shift;; *) break;; esac; done\nexec wget -q -O "$out" "$1"\n',
    );
    chmodSync(curl, 0o755);
    const extra = randomBytes(5000);
    server.route('/extra-0.1.tar.gz', extra);
    const kind = createDistfilesKind({ lockPath, storeDir: join(dir.path, 'store'), record: true });
    const spec = kind.schema.parse({ files: ['pkg-1.0.tar.gz'], dir: DISTDIR, fetch_command: FETCH });
    await kind.run(spec, await kind.plan(spec, planContext('emerge-world')), runContext('emerge-world'));

    const fetched = await portageFetch(`${server.url}/extra-0.1.tar.gz`, 'extra-0.1.tar.gz.__download__');
    expect(fetched.stderr).toBe('');
    expect(fetched.exitCode).toBe(0);
    // Portage renames the download to its final name once it has checked it.
    await execa('chroot', [rootPath, '/bin/mv', `${DISTDIR}/extra-0.1.tar.gz.__download__`, `${DISTDIR}/extra-0.1.tar.gz`]);
    expect(readFileSync(join(rootPath, RECORD_LOG), 'utf8')).toBe(`${server.url}/extra-0.1.tar.gz\textra-0.1.tar.gz\n`);

    const added = await collectRecorded({ rootPath, lockPath, stepId: 'emerge-world', distdirs: [DISTDIR] });
    expect(added).toEqual(['extra-0.1.tar.gz']);
    const lock = await readLock(lockPath);
    expect(lock.distfiles['extra-0.1.tar.gz']).toEqual({
      size: extra.length,
      integrity: sriOf(extra),
      urls: [`${server.url}/extra-0.1.tar.gz`],
      kind: 'source',
      from: 'recorded during emerge-world',
    });
    expect(await collectRecorded({ rootPath, lockPath, stepId: 'emerge-world', distdirs: [DISTDIR] })).toEqual([]);
  });
});
