import { describe, expect, it } from 'vitest';
import { catalystCommands, parseRunPrefix } from '../../../src/handoff/commands.js';
import { shellQuote } from '../../../src/util/shell-quote.js';

describe('catalystCommands()', () => {
  it('lists stage1, stage3 and the install CD, each with -c catalyst.conf -f spec', () => {
    expect(catalystCommands('/var/tmp/catalyst/specs', ['ssh', 'root@vm', 'catalyst']).map((c) => c.argv)).toEqual(
      ['stage1-systemd-23', 'stage3d-systemd-23', 'installcd-stage1', 'installcd-stage2-minimal'].map((s) => [
        'ssh', 'root@vm', 'catalyst', '-c', '/var/tmp/catalyst/specs/catalyst.conf', '-f', `/var/tmp/catalyst/specs/${s}.spec`,
      ]),
    );
    expect(catalystCommands('/s')[0]!.argv[0]).toBe('catalyst');
  });
});

describe('parseRunPrefix()', () => {
  it('splits on whitespace', () => {
    expect(parseRunPrefix('  ssh -p 2222   root@localhost catalyst ')).toEqual(['ssh', '-p', '2222', 'root@localhost', 'catalyst']);
  });
  it('refuses shell syntax it would otherwise pass literally, and an empty command', () => {
    for (const bad of ['catalyst; rm -rf /', 'ssh vm "catalyst -v"', 'catalyst $X', 'catalyst > log', '']) {
      expect(() => parseRunPrefix(bad)).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
    }
  });
});

describe('shellQuote()', () => {
  it('leaves plain words and quotes the rest', () => {
    expect(shellQuote(['catalyst', '-f', '/a b/it\'s.spec'])).toBe(`catalyst -f '/a b/it'\\''s.spec'`);
  });
});

describe('catalystSetupBlock()', () => {
  it('is one shell block with the guide\'s Catalyst install lines, the snapshot, the tree-ish fill and the four stages', async () => {
    const { catalystSetupBlock } = await import('../../../src/handoff/commands.js');
    const { execFileSync } = await import('node:child_process');
    const block = catalystSetupBlock('/var/tmp/catalyst', '/var/tmp/catalyst/specs');
    execFileSync('bash', ['-n'], { input: block });
    const lines = block.split('\n');
    expect(lines).toContain('echo dev-util/catalyst > /etc/portage/package.accept_keywords/catalyst');
    expect(lines).toContain('(echo sys-apps/util-linux python; echo sys-boot/grub grub_platforms_efi-32) > /etc/portage/package.use/catalyst');
    expect(lines).toContain('emerge dev-util/catalyst');
    expect(lines.filter((l) => l.startsWith('catalyst -c /var/tmp/catalyst/specs/catalyst.conf -f '))).toEqual(
      ['stage1-systemd-23', 'stage3d-systemd-23', 'installcd-stage1', 'installcd-stage2-minimal'].map((s) => `catalyst -c /var/tmp/catalyst/specs/catalyst.conf -f /var/tmp/catalyst/specs/${s}.spec`),
    );
    expect(lines.indexOf('catalyst -c /var/tmp/catalyst/specs/catalyst.conf --snapshot stable')).toBeLessThan(lines.findIndex((l) => l.startsWith('sed -i')));
  });
});
