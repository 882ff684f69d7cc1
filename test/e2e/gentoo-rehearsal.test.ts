import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, journalEvents, mountsUnder, waitFor } from '../helpers/cli.js';
import { needsGentooProfiles, needsRoot, needsTool, gentooProfilesRepo, tempDir } from '../helpers/env.js';
import { makeLiveBootstrapTarget, makeRehearsalDistfiles, readCalls, type RecordedCall } from '../helpers/rehearsal.js';
import { AMD64_PACKAGES_BUILD } from '../helpers/gentoo-expected.js';

/**
 * The whole gentoo-2025 chain rehearsed in a busybox root laid out like live-bootstrap output,
 * where emerge, unsquashfs, make, python3 and env-update are recording stand-ins
 * (test/fixtures/gentoo-rehearsal/tools/record). Real: the engine, the sandbox, the distfiles,
 * write and packages-build kinds, every script of the recipe, busybox's tar (which unpacks the
 * default snapshot tarball, --strip-components=1), cp, ln, grep, diff.
 */

const RECIPE = 'gentoo-2025';
const TRIPLET = 'i686-unknown-linux-musl';
const profiles = join(gentooProfilesRepo, 'profiles');
const FETCH = '/usr/local/bin/bootstrap-fetch "${URI}" "${DISTDIR}" "${FILE}"';
const PACKAGES_BUILD = AMD64_PACKAGES_BUILD;

const UNSET = '<unset>';
const NONE = { ROOT: UNSET, SYSROOT: UNSET, PORTAGE_CONFIGROOT: UNSET, EPREFIX: UNSET, USE: UNSET, EXTRA_ECONF: UNSET };
const LB = { ...NONE, FEATURES: 'buildpkg', MAKEOPTS: '-j4 -l4', PORTAGE_LOGDIR: '/var/tmp/bootstrap/portage-logs', PKGDIR: '/var/cache/binpkgs/lb', DISTDIR: '/var/cache/distfiles', FETCHCOMMAND: UNSET };
const CROSS = { ...LB, PORTAGE_CONFIGROOT: '/cross', EPREFIX: '/cross', PKGDIR: '/var/cache/binpkgs/cross' };
const GENTOO_CROSS = { ...LB, PORTAGE_CONFIGROOT: '/gentoo.cfg', ROOT: '/gentoo', SYSROOT: '/gentoo', PKGDIR: '/var/cache/binpkgs/cross-gentoo' };
const GENTOO = { ...NONE, FEATURES: 'buildpkg', MAKEOPTS: '-j4 -l4', PORTAGE_LOGDIR: '/var/tmp/bootstrap/portage-logs', PKGDIR: '/var/cache/binpkgs', DISTDIR: '/var/cache/distfiles', FETCHCOMMAND: FETCH };

// The guide's one-liner, newline recorded as ~.
const ONE_LINER = 'import portage~print(*portage.util.stack_lists([portage.util.grabfile_package("%s/packages.build"%x)for x in portage.settings.profiles],incremental=1))';

type Expected = [tool: string, args: string, env: Record<string, string>, cwd?: string];

// Written from the guide, bullet by bullet, with the recipe's documented differences.
const LB_CALLS: Expected[] = [
  ['make', '-C squashfs-tools install INSTALL_PREFIX=/usr XZ_SUPPORT=1', LB, '/var/tmp/bootstrap/build/squashfs-tools-4.6.1'],
  ['emerge', '-D1n app-arch/lzip dev-build/make', { ...LB, MAKEOPTS: '-j1' }],
  ['emerge', '-D1n sys-apps/portage', LB],
  ['emerge', '-D1n sys-devel/binutils-config', LB],
  ['emerge', '-D1n sys-devel/gcc-config', LB],
  ['emerge', '-D1n net-misc/rsync', LB],
  ['env-update', '', LB],
  ['emerge', '-O1 sys-kernel/linux-headers', { ...CROSS, USE: 'headers-only' }],
  ['emerge', '-O1 sys-libs/glibc', { ...CROSS, USE: 'headers-only -multilib' }],
  ['emerge', '-O1 sys-devel/binutils', CROSS],
  ['emerge', '-O1 sys-devel/gcc', { ...CROSS, USE: '-cxx' }],
  ['emerge', '-O1 sys-kernel/linux-headers', CROSS],
  ['emerge', '-O1 sys-libs/glibc', CROSS],
  ['emerge', '-O1 sys-devel/gcc', CROSS],
  // Twice: the first answer differs from bootstrap's list on purpose.
  ...Array.from({ length: 2 }, (): Expected => ['python3', `-c ${ONE_LINER}`, { ...LB, PORTAGE_CONFIGROOT: '/gentoo.cfg' }]),
  ['emerge', '-O1n sys-apps/baselayout sys-kernel/linux-headers sys-libs/glibc', GENTOO_CROSS],
  ['emerge', `-D1n ${PACKAGES_BUILD.join(' ')}`, GENTOO_CROSS],
];
const GENTOO_CALLS: Expected[] = [
  ['emerge', '-1 sys-apps/sandbox', { ...GENTOO, FEATURES: '-sandbox -usersandbox buildpkg' }],
  ['emerge', '-1 sys-devel/binutils', GENTOO],
  ['emerge', '-o sys-devel/gcc', GENTOO],
  ['emerge', '-1 sys-devel/gcc', { ...GENTOO, EXTRA_ECONF: '--disable-bootstrap' }], // fails once on purpose
  ['emerge', '-1 sys-devel/gcc', { ...GENTOO, EXTRA_ECONF: '--disable-bootstrap' }],
  ['emerge', '-1 dev-lang/perl', GENTOO],
  ['emerge', '-e @system', { ...GENTOO, USE: '-filecaps -http2 -http3 -quic -curl_quic_openssl' }],
  ['emerge', '-vuDN @world', GENTOO],
  ['emerge', '-c', GENTOO],
  ['emerge', 'dev-lang/rust', GENTOO],
  ['emerge', '-c', GENTOO],
];

function project(calls: RecordedCall[]): Array<{ tool: string; args: string; env: Record<string, string> }> {
  return calls.map((c) => ({ tool: c.tool, args: c.args, env: c.env }));
}

describe('gentoo-2025 rehearsal (recording stand-ins for Portage)', () => {
  let dir: { path: string; remove: () => void } | undefined;
  let leftover: string | undefined;

  beforeEach((ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    needsTool(ctx, 'tar');
  });
  afterEach(async () => {
    if (!dir) return;
    // The leftover mount this test made, by absolute path, if it is still there.
    if (leftover && mountsUnder(leftover).includes(leftover)) execFileSync('umount', [leftover]);
    leftover = undefined;
    await waitFor(() => mountsUnder(dir!.path).length === 0, 10_000, 'mounts to go').catch(() => undefined);
    dir.remove();
    dir = undefined;
  });

  it('runs every step in order, in the right root with the right environment; a failed emerge shows its build.log and resume redoes nothing before it', async (ctx) => {
    needsGentooProfiles(ctx);
    dir = tempDir('bootstrap-rehearsal-');
    const target = join(dir.path, 'target');
    const work = join(dir.path, 'work');
    makeLiveBootstrapTarget(target, TRIPLET);
    // live-bootstrap's chroot leaves its own mounts behind, such as a tmpfs on /tmp.
    leftover = join(target, 'tmp');
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', leftover]);
    const { store, lock } = await makeRehearsalDistfiles(join(dir.path, 'distfiles'), profiles);
    // What the stand-in python3 answers for the guide's Portage one-liner: first a list that
    // lacks an atom (the check must fail with a diff), then the right one.
    const portageSays = join(target, 'var/tmp/rehearsal/portage-packages.build');
    mkdirSync(join(target, 'var/tmp/rehearsal'), { recursive: true });
    writeFileSync(portageSays, PACKAGES_BUILD.filter((a) => a !== 'net-misc/wget').join('\n') + '\n');
    const options = ['--work', work, '--lock', lock, '--distdir', store, '--plain'];

    const first = await cli(['run', '--recipe', RECIPE, '--target', target, '--jobs', '4', '--load', '4', ...options, '--until', 'gentoo-binutils']);
    expect(first.exitCode).toBe(1);
    expect(first.stderr).toContain('step check-packages-build failed');
    expect(first.stderr).toContain('+net-misc/wget');
    expect(first.stderr).toContain("bootstrap's packages.build (+) differs from Portage's (-)");
    expect((journalEvents(work)[0]!.params as Record<string, string>).lb_chost).toBe(TRIPLET);
    expect(readFileSync(join(work, 'logs/001-check-target.1.log'), 'utf8')).toContain(`live-bootstrap left these mounts under ${target}`);

    writeFileSync(portageSays, PACKAGES_BUILD.join('\n') + '\n');
    const second = await cli(['resume', ...options, '--until', 'gentoo-binutils']);
    expect(second.stderr).not.toContain('error');
    expect(second.exitCode).toBe(0);

    // One emerge inside /gentoo fails: its build.log tail is shown, with how to resume.
    const gentoo = join(target, 'gentoo');
    writeFileSync(join(gentoo, 'var/tmp/rehearsal/fail-emerge'), '-1 sys-devel/gcc');
    const failed = await cli(['resume', ...options]);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain('step gentoo-gcc failed');
    expect(failed.stderr).toContain('sys-devel:gcc-13.3.1_p20250101:20250101-000000.log');
    expect(failed.stderr).toContain('* ERROR: sys-devel/gcc failed (compile phase): rehearsal build.log tail');
    expect(failed.stderr).toContain(`bootstrap resume --work ${work}`);

    rmSync(join(gentoo, 'var/tmp/rehearsal/fail-emerge'));
    const resumed = await cli(['resume', ...options]);
    expect(resumed.stderr).not.toContain('error');
    expect(resumed.exitCode).toBe(0);

    // Nothing before a failed step was redone; each failed step ran twice.
    const events = journalEvents(work);
    const starts = (id: string) => events.filter((e) => e.type === 'step-started' && e.step === id).length;
    const ids = (events.find((e) => e.type === 'run-started')!.steps as string[]);
    const twice = ['check-packages-build', 'gentoo-gcc'];
    for (const id of ids) expect(starts(id), id).toBe(twice.includes(id) ? 2 : 1);

    // Every command, in order, in its root, with its environment.
    const lbCalls = readCalls(target);
    const gentooCalls = readCalls(gentoo);
    expect(lbCalls.every((c) => c.root === 'lb')).toBe(true);
    expect(gentooCalls.every((c) => c.root === 'gentoo')).toBe(true);
    const expected = (list: Expected[]) => list.map(([tool, args, env]) => ({ tool, args, env }));
    expect(project(lbCalls)).toEqual(expected(LB_CALLS));
    expect(project(gentooCalls)).toEqual(expected(GENTOO_CALLS));
    expect(lbCalls[0]!.cwd).toBe(LB_CALLS[0]![3]);

    // The files in place.
    const read = (path: string) => readFileSync(join(target, path), 'utf8');
    expect(read('etc/passwd')).toContain('portage:x:250:250:portage:/var/tmp/portage:/bin/false\n');
    expect(read('etc/group')).toContain('portage::250:portage\n');
    expect(readlinkSync(join(target, 'usr/bin/bzip2'))).toBe('bzip2.orig');
    expect(existsSync(join(target, 'usr/bin/bzip2.orig'))).toBe(true);
    const makeDefaults = read('etc/portage/make.profile/make.defaults');
    expect(makeDefaults).toContain(`CHOST="${TRIPLET}"`);
    expect(makeDefaults.endsWith('SKIP_KERNEL_CHECK=y  # linux-info.eclass\nPYTHON_TARGETS="python3_12"\nPYTHON_SINGLE_TARGET="python3_12"\n')).toBe(true);
    expect(read('var/tmp/bootstrap/packages.build')).toBe(PACKAGES_BUILD.join('\n') + '\n');
    expect(readlinkSync(join(target, 'var/tmp/bootstrap/portage'))).toBe('portage-3.0.66.1');
    expect(existsSync(join(target, 'var/db/repos/gentoo/profiles/default/linux/packages.build'))).toBe(true);
    expect(readlinkSync(join(target, 'cross/etc/portage/make.profile'))).toBe('/etc/portage/make.profile');
    expect(readlinkSync(join(target, 'gentoo.cfg/etc/portage/make.profile'))).toBe('../../../var/db/repos/gentoo/profiles/default/linux/amd64/23.0');
    expect(readlinkSync(join(gentoo, 'etc/portage/make.profile'))).toBe('../../var/db/repos/gentoo/profiles/default/linux/amd64/23.0');
    expect(read('cross/usr/bin/x86_64-bootstrap-linux-gnu-gcc')).toContain(`/cross/usr/${TRIPLET}/x86_64-bootstrap-linux-gnu/gcc-bin/*/`);
    expect(read('etc/profile.env')).toContain("export PATH='/cross/usr/bin:/usr/bin'");
    for (const name of ['portage-3.0.66.1.tar.bz2', 'gentoo-20250101.tar.xz', 'squashfs-tools-4.6.1.tar.gz']) {
      expect(existsSync(join(gentoo, 'var/cache/distfiles', name)), name).toBe(true);
    }
    expect(existsSync(join(gentoo, 'var/db/repos/gentoo/profiles/base/make.defaults'))).toBe(true);
    for (const root of [target, gentoo]) expect(readFileSync(join(root, 'usr/local/bin/bootstrap-fetch'), 'utf8')).toContain('is not in distfiles.lock');
    expect(readFileSync(join(gentoo, 'etc/resolv.conf'), 'utf8')).toBe('nameserver 1.1.1.1\n');
    expect(readFileSync(join(gentoo, 'etc/locale.gen'), 'utf8')).toBe('C.UTF-8 UTF-8\n');
    expect(readFileSync(join(gentoo, 'etc/portage/make.conf'), 'utf8')).toContain('MAKEOPTS="--jobs 4 --load-average 4"');
    expect(readFileSync(join(gentoo, 'etc/portage/package.mask/rust-bin'), 'utf8')).toBe('dev-lang/rust-bin\n');

    // The seed: the new system without distfiles, repository, var/tmp contents, binary packages
    // or the fetch command; then handed to Catalyst's storedir inside the new system.
    const seed = join(work, 'seed/stage3-bootstrap.tar.xz');
    const members = execFileSync('tar', ['-tJf', seed], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n');
    expect(members).toContain('./usr/bin/busybox');
    expect(members).toContain('./etc/portage/make.conf');
    expect(members).toContain('./var/tmp/');
    expect(members.filter((m) => /^\.\/(var\/(cache\/distfiles|db\/repos|tmp|cache\/binpkgs)\/.|usr\/local\/bin\/bootstrap-fetch)/.test(m))).toEqual([]);
    expect(existsSync(join(gentoo, 'var/tmp/catalyst/builds/default/stage3-bootstrap.tar.xz'))).toBe(true);
    expect(mountsUnder(target)).toEqual([leftover]); // the steps' own mounts are gone
  });

  it('unpacks a .sqfs snapshot with unsquashfs, and refuses a snapshot of another form naming it', async (ctx) => {
    needsGentooProfiles(ctx);
    dir = tempDir('bootstrap-rehearsal-');
    const target = join(dir.path, 'target');
    makeLiveBootstrapTarget(target, TRIPLET);
    const { store, lock } = await makeRehearsalDistfiles(join(dir.path, 'distfiles'), profiles);
    const run = (work: string, snapshot: string) =>
      cli(['run', '--recipe', RECIPE, '--target', target, '--work', join(dir!.path, work), '--lock', lock, '--distdir', store, '--plain', '--jobs', '4', '--load', '4', '--set', `snapshot=${snapshot}`, '--until', 'unpack-repo']);

    const sqfs = await run('sqfs', 'gentoo-20250101.xz.sqfs');
    expect(sqfs.stderr).not.toContain('error');
    expect(sqfs.exitCode).toBe(0);
    expect(project(readCalls(target)).filter((c) => c.tool === 'unsquashfs')).toEqual([
      { tool: 'unsquashfs', args: '-d /var/tmp/bootstrap/repo-snapshot /var/cache/distfiles/gentoo-20250101.xz.sqfs', env: LB },
    ]);
    expect(existsSync(join(target, 'var/db/repos/gentoo/profiles/base/make.defaults'))).toBe(true);

    const zip = await run('zip', 'gentoo-20250101.zip');
    expect(zip.exitCode).toBe(1);
    expect(zip.stderr).toContain('step unpack-repo failed');
    expect(zip.stderr).toContain('snapshot /var/cache/distfiles/gentoo-20250101.zip: unknown form; give a *.tar.xz, *.tar.bz2, *.tar.gz or *.sqfs lock entry with --set snapshot=NAME');
    // The repository the first run unpacked is left as it was.
    expect(existsSync(join(target, 'var/db/repos/gentoo/profiles/base/make.defaults'))).toBe(true);
  });

  it('refuses a target that is not live-bootstrap output before touching it', async () => {
    dir = tempDir('bootstrap-rehearsal-');
    const target = join(dir.path, 'not-lb');
    mkdirSync(join(target, `usr/libexec/gcc/${TRIPLET}`), { recursive: true });
    const work = join(dir.path, 'work');
    const result = await cli(['run', '--recipe', RECIPE, '--target', target, '--work', work, '--plain', '--record']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('step check-target failed');
    expect(result.stderr).toContain(`${target}/steps/env is missing`);
    expect(result.stderr).toContain('does not look like a finished live-bootstrap target');
    expect(journalEvents(work).filter((e) => e.type === 'step-started').map((e) => e.step)).toEqual(['check-target']);
  });
});
