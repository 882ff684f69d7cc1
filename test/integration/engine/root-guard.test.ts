import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, journalEvents, mountsUnder, waitFor } from '../../helpers/cli.js';
import { cliPath, needsRoot, needsTool, tempDir } from '../../helpers/env.js';
import { execa } from 'execa';

/**
 * Roots are resolved (links followed, a path not yet made judged through its nearest existing
 * parent, a bind mount by the directory it shows) and the host's / and system directories are
 * refused when planning. Only `plan` is run against the real host; the `run`s are in a private
 * mount namespace where / is read-only (the work folder a tmpfs), so a guard that failed would
 * meet EROFS, not the host.
 */
describe('roots that lead to the host are refused when planning', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir('bootstrap-guard-');
  });
  afterEach(async () => {
    await waitFor(() => mountsUnder(dir.path).length === 0, 10_000, 'mounts to go').catch(() => undefined);
    dir.remove();
  });

  /** A recipe with one root at `path` and a write step into it. */
  const recipe = (path: string): string => {
    const folder = join(dir.path, 'recipe');
    mkdirSync(join(folder, 'files'), { recursive: true });
    writeFileSync(join(folder, 'files/guard.conf'), 'written by the root guard test\n');
    writeFileSync(
      join(folder, 'recipe.yaml'),
      [
        'name: guard',
        'version: 1',
        'description: writes one file into a root',
        'parameters:',
        '  place: { default: /nonexistent }',
        'roots:',
        `  r: { path: "${path}", shell: [/bin/sh] }`,
        'phases:',
        '  - id: all',
        '    steps:',
        '      - { id: write, kind: write, root: r, files: [{ src: guard.conf, dest: /etc/bootstrap-root-guard-test.conf }] }',
      ].join('\n'),
    );
    return folder;
  };
  const plan = (args: string[]) => cli(['plan', '--work', join(dir.path, 'work'), ...args]);

  it('--target given as a link to / (demo and gentoo-2025): exit 2, naming the root, the path and /', async () => {
    const link = join(dir.path, 'target');
    symlinkSync('/', link);
    const demo = await plan(['--recipe', 'demo', '--target', link]);
    expect(demo.exitCode).toBe(2);
    expect(demo.stderr).toContain(`(roots.demo.path): root demo is ${link} ({{target}}), which resolves to /: the host's own root directory`);
    expect(demo.stdout).toBe('');
    const gentoo = await plan(['--recipe', 'gentoo-2025', '--record', '--target', link, '--set', 'lb_chost=i386-unknown-linux-musl']);
    expect(gentoo.exitCode).toBe(2);
    expect(gentoo.stderr).toContain(`root lb is ${link} ({{target}}), which resolves to /: the host's own root directory`);
    expect(gentoo.stderr).toContain('Give --target the directory the recipe builds in');
  });

  it('a recipe root of /, a system directory, or a path leading to one through links refuses to plan', async () => {
    symlinkSync('/var', join(dir.path, 'var-link'));
    symlinkSync('/usr/nonexistent-bootstrap-guard', join(dir.path, 'dangling'));
    symlinkSync('/usr/bin', join(dir.path, 'usr-bin'));
    const cases: Array<[string, string]> = [
      ['/', '/'],
      ['/usr/bin', '/usr/bin'],
      ['/var/lib', '/var/lib'],
      ['/bin', '/usr/bin'], // a link on merged-/usr hosts, a system directory either way
      ['/etc/../usr', '/usr'],
      [join(dir.path, 'var-link/lib'), '/var/lib'],
      // Not there yet: judged where it would be made.
      [join(dir.path, 'var-link/nonexistent-bootstrap-guard'), '/var/nonexistent-bootstrap-guard'],
      [join(dir.path, 'dangling'), '/usr/nonexistent-bootstrap-guard'],
      // `..` after a link goes up from the link's target, as the kernel does.
      [`${dir.path}/usr-bin/..`, '/usr'],
    ];
    for (const [path, resolved] of cases) {
      const result = await plan(['--recipe', recipe(path)]);
      expect(result.exitCode, path).toBe(2);
      expect(result.stderr, path).toMatch(new RegExp(`recipe\\.yaml:7 \\(roots\\.r\\.path\\): root r is ${escape(path)}, which resolves to ${escape(resolved)}: the host's`));
    }
    // A root of its own, even through a link, plans, with the path it resolves to.
    mkdirSync(join(dir.path, 'mine'));
    symlinkSync(join(dir.path, 'mine'), join(dir.path, 'mine-link'));
    const ok = await plan(['--recipe', recipe(join(dir.path, 'mine-link/new')), '--json']);
    expect(ok.exitCode).toBe(0);
    expect(JSON.parse(ok.stdout).roots.r.path).toBe(join(dir.path, 'mine/new'));
  });

  it('run refuses a root of / and a --target bind-mounted from / (in a private mount namespace, / read-only)', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'unshare', 'util-linux');
    const work = join(dir.path, 'work');
    const bound = join(dir.path, 'hostroot');
    mkdirSync(work);
    mkdirSync(bound);
    const inNamespace = (args: string[]) =>
      execa(
        'unshare',
        [
          '--mount', '--propagation', 'private', '--',
          '/bin/sh', '-c',
          // / read-only here only; the work folder a tmpfs; `bound` shows / (read-only too).
          'set -e; mount -t tmpfs tmpfs "$1"; mount --bind / "$2"; mount -o remount,bind,ro "$2"; mount -o remount,bind,ro /; shift 2; exec "$@"',
          'sh', work, bound, process.execPath, cliPath, ...args,
        ],
        { reject: false, env: { NO_COLOR: '1', CI: 'true' } },
      );
    const rootSlash = await inNamespace(['run', '--recipe', recipe('/'), '--work', work, '--plain']);
    expect(rootSlash.exitCode).toBe(2);
    expect(rootSlash.stderr).toContain("root r is /, which resolves to /: the host's own root directory");
    const bind = await inNamespace(['run', '--recipe', 'demo', '--target', bound, '--work', work, '--plain']);
    expect(bind.exitCode).toBe(2);
    expect(bind.stderr).toContain(`root demo is ${bound} ({{target}}), which resolves to ${bound}: the host's own root directory (the same directory, e.g. a bind mount of /)`);
    expect(journalEvents(work)).toEqual([]);
  });

  it('a root an earlier step of the same run made lead to / is refused before the next step (private mount namespace, / read-only)', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'unshare', 'util-linux');
    const work = join(dir.path, 'work');
    mkdirSync(work);
    const folder = join(dir.path, 'late');
    mkdirSync(join(folder, 'files'), { recursive: true });
    writeFileSync(join(folder, 'files/guard.conf'), 'written by the root guard test\n');
    writeFileSync(
      join(folder, 'recipe.yaml'),
      [
        'name: guard-late',
        'version: 1',
        'description: a host step makes a later root a link to /',
        'parameters:',
        '  target: { type: directory }',
        'roots:',
        '  evil: { path: "{{target}}/evil", shell: [/bin/sh] }',
        'phases:',
        '  - id: p',
        '    steps:',
        '      - { id: make-link, kind: run, root: host, script: "ln -s / {{target}}/evil" }',
        '      - { id: write, kind: write, root: evil, files: [{ src: guard.conf, dest: /bootstrap-guard-late.conf }] }',
        '',
      ].join('\n'),
    );
    const result = await execa(
      'unshare',
      [
        '--mount', '--propagation', 'private', '--',
        '/bin/sh', '-c',
        'set -e; mount -t tmpfs tmpfs "$1"; mkdir "$1/target"; mount -o remount,bind,ro /; shift; exec "$@"',
        'sh', work, process.execPath, cliPath, 'run', '--recipe', join(folder, 'recipe.yaml'), '--work', join(work, 'w'), '--target', join(work, 'target'), '--plain',
      ],
      { reject: false, env: { NO_COLOR: '1', CI: 'true' } },
    );
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain(`root evil (${join(work, 'target/evil')}) now resolves to /, the host's own root directory; an earlier step made it lead there`);
    expect(result.stderr).toMatch(/step write failed/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
