import { describe, expect, it } from 'vitest';
import { readEmergePretend } from '../../../src/portage/emerge-output.js';
import { createEmergeKind } from '../../../src/steps/emerge.js';
import type { PlanContext, Root } from '../../../src/engine/step-kind.js';

const root: Root = { name: 'lb', path: '/t', host: false, shell: ['/bin/bash', '-l'], prelude: '', preflightPrelude: '', env: {} };
const ctx = { root, roots: { lb: root }, stepId: 's', recipeDir: '/r', params: {}, preview: false, render: (t: string) => t } as PlanContext;

describe('emerge step kind', () => {
  const kind = createEmergeKind();
  const plan = (fields: Record<string, unknown>) => kind.plan(kind.schema.parse(fields), ctx) as unknown as { detail: { script: string } };

  it('renders its words quoted, after profile.env when asked, with YAML numbers as words', () => {
    expect(plan({ args: [-1, 'sys-devel/gcc'] }).detail.script).toBe('set -eu\nexec emerge -1 sys-devel/gcc\n');
    expect(plan({ emerge: '/opt/p/bin/emerge', args: ['-D1n', '>=dev-lang/perl-5.40', "it's"], profile_env: true }).detail.script).toBe(
      "set -eu\nsource /etc/profile.env\nexec /opt/p/bin/emerge -D1n '>=dev-lang/perl-5.40' 'it'\\''s'\n",
    );
  });

  it('reads more atoms from a file in the root, one per line, never globbed', () => {
    const script = plan({ args: ['-D1n'], atoms_file: '/var/tmp/list' }).detail.script;
    expect(script).toContain("list=$(grep -v -e '^[[:space:]]*$' -e '^[[:space:]]*#' /var/tmp/list)");
    expect(script).toContain('set -f\nIFS=\'\n\'\nset -- $list');
    expect(script.trimEnd().split('\n').at(-1)).toBe('exec emerge -D1n "$@"');
  });

  it('refuses the host root and empty args', () => {
    expect(() => kind.plan(kind.schema.parse({ args: ['x'] }), { ...ctx, root: { ...root, host: true, name: 'host' } })).toThrow(/runs in a root, not on the host/);
    expect(kind.schema.safeParse({ args: [] }).success).toBe(false);
  });
});

describe("reading emerge --pretend's answer", () => {
  it('lists the packages it would merge, without their repository or build id', () => {
    const out = [
      'These are the packages that would be merged, in order:',
      '',
      'Calculating dependencies  ... done!',
      'Dependency resolution took 0.52 s (backtrack: 0/20).',
      '',
      '[ebuild  N     ] app-arch/lzip-1.24.1::gentoo  USE="-static" 0 KiB',
      '[ebuild     U  ] dev-build/make-4.4.1-r100 [4.3] USE="nls -guile"',
      '[binary   R    ] sys-apps/gentoo-functions-0.19',
      '[binary  N     ] dev-build/autoconf-2.72-r1-1::gentoo  0 KiB',
      '[binary  N     ] app-misc/pkg-5-3',
      '[nomerge       ] sys-apps/portage-3.0.66.1',
      '',
      'Total: 3 packages (1 upgrade, 1 new, 1 reinstall), Size of downloads: 0 KiB',
    ].join('\n');
    // A binary package's build id (binpkg-multi-instance) is not part of its version.
    expect(readEmergePretend(out, 0)).toEqual({ ok: true, would: ['app-arch/lzip-1.24.1', 'dev-build/make-4.4.1-r100', 'sys-apps/gentoo-functions-0.19', 'dev-build/autoconf-2.72-r1', 'app-misc/pkg-5'], problems: [] });
  });

  it('names why it cannot resolve, with Portage\'s own lines', () => {
    const masked = [
      'Calculating dependencies  ... done!',
      '!!! All ebuilds that could satisfy "sys-apps/sed" have been masked.',
      '!!! One of the following masked packages is required to complete your request:',
      '- sys-apps/sed-4.9::gentoo (masked by: package.mask)',
      '/etc/portage/package.mask:',
      '',
      'For more information, see the MASKED PACKAGES section in the emerge',
    ].join('\n');
    const answer = readEmergePretend(masked, 1);
    expect(answer.ok).toBe(false);
    expect(answer.problems).toEqual([{ kind: 'masked', lines: masked.split('\n').slice(1, 5) }]);
    expect(readEmergePretend('\nemerge: there are no ebuilds to satisfy "sys-devel/rsync".\n', 1).problems[0]!.kind).toBe('missing');
    expect(readEmergePretend('[blocks B      ] sys-apps/a ("sys-apps/a" is soft blocking sys-apps/b-1)\n', 1).problems[0]!.kind).toBe('blocker');
    expect(readEmergePretend('The following keyword changes are necessary to proceed:\n=x/y-1 ~amd64\n', 1).problems[0]).toEqual({ kind: 'needs-config', lines: ['The following keyword changes are necessary to proceed:', '=x/y-1 ~amd64'] });
  });

  it('keeps the last lines when it does not know the message, and never calls a failure a success', () => {
    const answer = readEmergePretend('[ebuild  N ] a/b-1\nTraceback (most recent call last):\nKeyError: x\n', 1);
    expect(answer.ok).toBe(false);
    expect(answer.problems).toEqual([{ kind: 'failed', lines: ['emerge --pretend exited with status 1', '[ebuild  N ] a/b-1', 'Traceback (most recent call last):', 'KeyError: x'] }]);
  });
});
