import kleur from 'kleur';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderAuditText } from '../../../src/audit/render.js';
import { summarise, type AuditReport, type Check } from '../../../src/audit/report.js';

const checks: Check[] = [
  { section: 'lock', subject: 'a.tar.gz', check: 'integrity', status: 'pass', reason: 'pinned: sha512' },
  { section: 'lock', subject: 'b.tar.gz', check: 'pinned', status: 'warn', reason: 'unpinned' },
  { section: 'inputs', subject: 'a.tar.gz', check: 'binaries', status: 'fail', reason: '1 prebuilt binary', details: ['pkg/true: ELF, 10 bytes'] },
];

function report(extra: Partial<AuditReport> = {}): AuditReport {
  return { seeds: [], checks, findings: [], unscanned: [], summary: summarise(checks), ...extra };
}

describe('renderAuditText', () => {
  beforeAll(() => {
    // The assertions are about layout; colour codes would depend on the terminal running the tests.
    kleur.enabled = false;
  });

  it('puts the binary seeds first, then warnings and failures by section, then the verdict', () => {
    const text = renderAuditText(report({ seeds: [{ name: 'hex0-seed', integrity: 'sha512-x', size: 229, urls: ['https://e.org/hex0'], from: 'stage0-posix' }] }), { verbose: false });
    expect(text.split('\n')).toEqual([
      'Binary seeds this chain trusts:',
      '  hex0-seed  sha512-x  229 bytes',
      '      https://e.org/hex0',
      '      hash from: stage0-posix',
      '',
      'Lock',
      '  WARN  b.tar.gz  pinned: unpinned',
      '  pass  1 check passed (--verbose lists them)',
      '',
      'Inputs',
      '  FAIL  a.tar.gz  binaries: 1 prebuilt binary',
      '          pkg/true: ELF, 10 bytes',
      '',
      'audit failed: 1 passed, 1 warning, 1 failed',
      '',
    ]);
  });

  it('lists passing checks with --verbose and prints the stage packages', () => {
    const text = renderAuditText(report({ packages: ['sys-libs/zlib-1.3.1'] }), { verbose: true });
    expect(text).toContain('  (none declared in the lock)');
    expect(text).toContain('  pass  a.tar.gz  integrity: pinned: sha512');
    expect(text).not.toContain('checks passed');
    expect(text).toContain('Packages in the stage (1):\n  sys-libs/zlib-1.3.1\n');
  });
});
