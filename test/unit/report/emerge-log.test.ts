import { describe, expect, it } from 'vitest';
import { readEmergeLog } from '../../../src/report/emerge-log.js';

describe("reading Portage's emerge.log", () => {
  it('pairs each >>> emerge with its ::: completed emerge, drops the ::repo suffix, and reads times in seconds', () => {
    const log = readEmergeLog(
      [
        '1732900000: Started emerge on: Nov 29, 2024 17:06:40',
        '1732900000:  *** emerge --oneshot app-arch/bzip2 sys-apps/findutils',
        '1732900001:  >>> emerge (1 of 2) app-arch/bzip2-1.0.8-r5::gentoo to /',
        '1732900001:  === (1 of 2) Cleaning (app-arch/bzip2-1.0.8-r5::/var/db/repos/gentoo/app-arch/bzip2/bzip2-1.0.8-r5.ebuild)',
        '1732900050:  ::: completed emerge (1 of 2) app-arch/bzip2-1.0.8-r5 to /',
        '1732900051:  >>> emerge (2 of 2) sys-apps/findutils-4.10.0 to /gentoo/',
        '1732900170:  ::: completed emerge (2 of 2) sys-apps/findutils-4.10.0 to /gentoo/',
        '1732900171:  *** exiting successfully.',
        '1732900171:  *** terminating.',
        '',
      ].join('\n'),
    );
    expect(log.torn).toEqual([]);
    expect(log.merges).toEqual([
      { name: 'app-arch/bzip2-1.0.8-r5', index: 1, total: 2, root: '/', start: 1732900001000, end: 1732900050000, status: 'done' },
      { name: 'sys-apps/findutils-4.10.0', index: 2, total: 2, root: '/gentoo/', start: 1732900051000, end: 1732900170000, status: 'done' },
    ]);
  });

  it('marks merges open at *** exiting unsuccessfully as failed with the status; parallel merges pair by name', () => {
    const log = readEmergeLog(
      [
        '100:  >>> emerge (1 of 3) a/one-1 to /',
        '101:  >>> emerge (2 of 3) b/two-2 to /',
        '150:  ::: completed emerge (2 of 3) b/two-2 to /',
        '160:  ::: completed emerge (1 of 3) a/one-1 to /',
        '161:  >>> emerge (3 of 3) c/three-3 to /',
        "170:  *** exiting unsuccessfully with status '1'.",
        '',
      ].join('\n'),
    );
    expect(log.merges.map((m) => [m.name, m.status, m.end])).toEqual([
      ['a/one-1', 'done', 160_000],
      ['b/two-2', 'done', 150_000],
      ['c/three-3', 'failed', 170_000],
    ]);
    expect(log.merges[2]!.exitStatus).toBe(1);
  });

  it('names torn lines (in the middle, and cut off at the end) and reads the rest; a merge still going stays open', () => {
    const log = readEmergeLog(['100:  >>> emerge (1 of 2) a/one-1 to /', '1736', '110:  ::: completed emerge (1 of 2) a/one-1 to /', '111:  ::: completed emerge (1 of 2) a/on', '120:  >>> emerge (2 of 2) b/two-2 to /', '130:  >>> emerge (3 of'].join('\n'));
    expect(log.torn.map((t) => t.line).sort()).toEqual([2, 4, 6]);
    expect(log.merges.map((m) => [m.name, m.status])).toEqual([
      ['a/one-1', 'done'],
      ['b/two-2', 'open'],
    ]);
  });

  it('a new emerge after merges left open fails them where the log last spoke (emerge was killed)', () => {
    const log = readEmergeLog(['100:  >>> emerge (1 of 2) a/one-1 to /', '140:  === (1 of 2) Compiling/Merging (a/one-1::/x)', '900: Started emerge on: later', '900:  *** emerge a/one', ''].join('\n'));
    expect(log.merges[0]).toMatchObject({ status: 'failed', end: 140_000 });
  });
});
