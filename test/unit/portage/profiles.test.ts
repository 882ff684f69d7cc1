import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readProfileChain, profileChain, stackPackagesBuild } from '../../../src/portage/profiles.js';
import { isValidAtom } from '../../../src/portage/atom.js';
import { BootstrapError } from '../../../src/util/errors.js';
import { projectRoot, gentooProfilesRepo, needsGentooProfiles } from '../../helpers/env.js';
import { AMD64_PACKAGES_BUILD } from '../../helpers/gentoo-expected.js';

const fixtures = join(projectRoot, 'test/fixtures/profiles');
const stack = join(fixtures, 'stack/profiles');

async function failure(promise: Promise<unknown>): Promise<BootstrapError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(BootstrapError);
  return error as BootstrapError;
}

describe('profile chain (small trees)', () => {
  it('puts parents first, depth-first and left to right, with each eapi recorded', async () => {
    const chain = await readProfileChain(stack, 'leaf');
    expect(chain).toEqual([
      { dir: join(stack, 'base'), eapi: '5' },
      { dir: join(stack, 'mid'), eapi: '8' },
      { dir: join(stack, 'arch'), eapi: null },
      { dir: join(stack, 'leaf'), eapi: null },
    ]);
  });

  it('visits a directory reached through two parents twice, as Portage does', async () => {
    expect(await profileChain(stack, 'diamond')).toEqual(['base', 'mid', 'base', 'diamond'].map((d) => join(stack, d)));
  });

  it('names the parent file and line of a missing parent', async () => {
    const error = await failure(profileChain(join(fixtures, 'missing/profiles'), 'p'));
    expect(error.message).toContain(`${join(fixtures, 'missing/profiles/p/parent')}:1`);
    expect(error.message).toContain('../exists-not not found');
  });

  it('refuses a missing profile', async () => {
    const error = await failure(profileChain(stack, 'no/such/profile'));
    expect(error.message).toContain('profile no/such/profile not found');
  });

  it('refuses a cycle, naming the loop', async () => {
    const error = await failure(profileChain(join(fixtures, 'cycle/profiles'), 'x'));
    expect(error.message).toContain(`${join(fixtures, 'cycle/profiles/y/parent')}:1`);
    expect(error.message).toContain('x -> y -> x');
  });

  it('refuses absolute and repo:path parents, naming file and line', async () => {
    const dir = join(fixtures, 'unsupported/profiles');
    expect((await failure(profileChain(dir, 'abs'))).message).toContain(`${join(dir, 'abs/parent')}:1: parent /etc is not a relative path`);
    expect((await failure(profileChain(dir, 'colon'))).message).toContain(`${join(dir, 'colon/parent')}:2: parent gentoo:base is not a relative path`);
  });

  it('refuses an EAPI Portage 3.0.66.1 cannot read, and an empty parent file', async () => {
    const eapi = await failure(profileChain(join(fixtures, 'badeapi/profiles'), 'e'));
    expect(eapi.message).toContain(`${join(fixtures, 'badeapi/profiles/e/eapi')}:1: unsupported EAPI "9-future"`);
    const empty = await failure(profileChain(join(fixtures, 'empty-parent/profiles'), 'q'));
    expect(empty.message).toContain('the parent file is empty');
  });
});

describe('packages.build stacking (small trees)', () => {
  it('appends new atoms, removes with -atom, keeps first places, drops invalid lines with file:line warnings', async () => {
    const result = await stackPackagesBuild(stack, 'leaf');
    expect(result.atoms).toEqual(['a/two', 'a/three', 'b/arch:0', 'a/one', '>=a/versioned-1.2-r3', 'a/four']);
    const file = join(stack, 'leaf/packages.build');
    expect(result.warnings).toHaveLength(3);
    expect(result.warnings[0]).toMatch(new RegExp(`^${file}:2: -\\* is not a valid atom`));
    expect(result.warnings[1]).toMatch(new RegExp(`^${file}:3: \\*a/star is not a valid atom`));
    expect(result.warnings[2]).toMatch(new RegExp(`^${file}:4: not an atom is not a valid atom`));
  });

  it('re-adds at the end what a later profile lists again after a removal', async () => {
    expect((await stackPackagesBuild(stack, 'diamond')).atoms).toEqual(['a/two', 'a/three', 'a/one', 'd/iamond']);
  });
});

describe('atoms', () => {
  it('accepts what Portage accepts and rejects the rest', () => {
    for (const ok of ['app-shells/bash:0', 'sys-devel/gcc', '>=sys-devel/gcc-14', '=dev-lang/python-3.11*', '~a/b-1.0_rc1', 'x11-libs/gtk+:3', 'a/b[foo,-bar,baz?]', '!!a/b', 'media-fonts/font-adobe-100dpi', 'a/b:0/1=']) {
      expect(isValidAtom(ok), ok).toBe(true);
    }
    for (const bad of ['*', '*a/b', 'a/b c', 'a', 'a/b-1', '>=a/b', 'a/b::gentoo', '>=a/b-1*', 'a/b[', '']) {
      expect(isValidAtom(bad), bad).toBe(false);
    }
  });
});

// Real Gentoo profiles (gentoo/gentoo 433471f8, 2025-01-13), kept in the shared folder, not in the
// project: ../shared/fixtures/gentoo-profiles (SOURCE.md there), or $BOOTSTRAP_SHARED/fixtures/gentoo-profiles.
// Expected lists written by hand from the files: default/linux/packages.build is the only list
// on most chains; features/musl adds four; features/llvm adds seven, removes gcc and binutils
// (and two it never had), and default/linux/amd64/23.0/llvm adds the four GNU tools back at the end.
const real = join(gentooProfilesRepo, 'profiles');
const BASE_LIST = AMD64_PACKAGES_BUILD;
const AMD64_CHAIN = ['base', 'default/linux', 'default/linux/amd64', 'arch/base', 'features/multilib', 'arch/amd64', 'releases', 'releases/23.0', 'default/linux/amd64/23.0'];

describe('real Gentoo profiles', () => {
  beforeEach((ctx) => needsGentooProfiles(ctx));
  const rel = (dirs: string[]) => dirs.map((d) => d.slice(real.length + 1));

  it('default/linux/amd64/23.0', async () => {
    expect(rel(await profileChain(real, 'default/linux/amd64/23.0'))).toEqual(AMD64_CHAIN);
    expect((await readProfileChain(real, 'default/linux/amd64/23.0')).every((n) => n.eapi === '5')).toBe(true);
    expect(await stackPackagesBuild(real, 'default/linux/amd64/23.0')).toEqual({ atoms: BASE_LIST, warnings: [] });
  });

  it('default/linux/amd64/23.0/musl', async () => {
    expect(rel(await profileChain(real, 'default/linux/amd64/23.0/musl'))).toEqual([...AMD64_CHAIN, 'arch/amd64/no-multilib', 'features/musl', 'default/linux/amd64/23.0/musl']);
    expect(await stackPackagesBuild(real, 'default/linux/amd64/23.0/musl')).toEqual({
      atoms: [...BASE_LIST, 'dev-util/pkgconf', 'sys-apps/attr', 'sys-apps/sandbox', 'dev-python/pyxattr'],
      warnings: [],
    });
  });

  it('default/linux/amd64/23.0/llvm (-atom lines)', async () => {
    expect(rel(await profileChain(real, 'default/linux/amd64/23.0/llvm'))).toEqual([...AMD64_CHAIN, 'features/llvm', 'default/linux/amd64/23.0/llvm']);
    expect(await stackPackagesBuild(real, 'default/linux/amd64/23.0/llvm')).toEqual({
      atoms: [
        ...BASE_LIST.filter((a) => a !== 'sys-devel/binutils' && a !== 'sys-devel/gcc'),
        'llvm-runtimes/compiler-rt', 'llvm-runtimes/libcxxabi', 'llvm-runtimes/libcxx', 'llvm-core/llvm', 'llvm-core/lld', 'llvm-core/clang', 'llvm-runtimes/libunwind',
        'sys-devel/gcc', 'sys-devel/gcc-config', 'sys-devel/binutils', 'sys-devel/binutils-config',
      ],
      warnings: [],
    });
  });

  it('default/linux/amd64/23.0/systemd', async () => {
    expect((await stackPackagesBuild(real, 'default/linux/amd64/23.0/systemd')).atoms).toEqual([...BASE_LIST, 'sys-apps/systemd']);
  });

  it('default/linux/x86/23.0/i686', async () => {
    expect(rel(await profileChain(real, 'default/linux/x86/23.0/i686'))).toEqual([
      'base', 'default/linux', 'arch/base', 'arch/x86', 'default/linux/x86', 'releases', 'releases/23.0', 'default/linux/x86/23.0', 'arch/x86/i686', 'default/linux/x86/23.0/i686',
    ]);
    expect(await stackPackagesBuild(real, 'default/linux/x86/23.0/i686')).toEqual({ atoms: BASE_LIST, warnings: [] });
  });

  it('default/linux/arm64/23.0', async () => {
    expect(rel(await profileChain(real, 'default/linux/arm64/23.0'))).toEqual([
      'base', 'default/linux', 'arch/base', 'arch/arm64', 'arch/arm64/little-endian', 'default/linux/arm64', 'releases', 'releases/23.0', 'default/linux/arm64/23.0',
    ]);
    expect(await stackPackagesBuild(real, 'default/linux/arm64/23.0')).toEqual({ atoms: BASE_LIST, warnings: [] });
  });
});
