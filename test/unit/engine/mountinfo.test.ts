import { describe, expect, it } from 'vitest';
import { mountsUnder, parseMountinfo } from '../../../src/host/mountinfo.js';

const SAMPLE = [
  '22 1 0:21 / /proc rw,nosuid - proc proc rw',
  '100 90 0:50 / /srv/lb/target/proc rw - proc proc rw',
  '101 90 0:51 / /srv/lb/target/dev rw - devtmpfs devtmpfs rw',
  '102 101 0:52 / /srv/lb/target/dev/shm rw - tmpfs tmpfs rw',
  '103 90 0:53 / /srv/lb/target/my\\040dir rw - tmpfs tmp\\040fs rw',
  '104 90 0:54 / /srv/lb/target-other rw - tmpfs tmpfs rw',
].join('\n');

describe('mountinfo', () => {
  it('decodes octal escapes and finds the mounts below a directory, deepest first', () => {
    const mounts = parseMountinfo(SAMPLE);
    expect(mounts[4]).toMatchObject({ mountPoint: '/srv/lb/target/my dir', source: 'tmp fs', fsType: 'tmpfs' });
    expect(mountsUnder('/srv/lb/target', mounts).map((m) => m.mountPoint)).toEqual([
      '/srv/lb/target/dev/shm',
      '/srv/lb/target/my dir',
      '/srv/lb/target/dev',
      '/srv/lb/target/proc',
    ]);
  });
});
