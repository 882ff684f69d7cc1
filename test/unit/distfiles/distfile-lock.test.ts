import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type DistfileHolder, lockDistfile } from '../../../src/distfiles/distfile-lock.js';

describe('lockDistfile', () => {
  it('admits one holder at a time among many contenders, and tells the waiters who holds it', async () => {
    const store = randomUUID();
    let inside = 0;
    let most = 0;
    let entries = 0;
    const seen: DistfileHolder[] = [];
    const contender = async (): Promise<void> => {
      for (let round = 0; round < 10; round++) {
        const lock = await lockDistfile(store, 'x.tar', { onWait: (h) => seen.push(h) });
        inside += 1;
        entries += 1;
        most = Math.max(most, inside);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
        inside -= 1;
        await lock.release();
      }
    };
    await Promise.all(Array.from({ length: 12 }, contender));
    expect(entries).toBe(120);
    expect(most).toBe(1);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toMatchObject({ pid: process.pid });
  });

  it('does not hold up other distfiles or other stores', async () => {
    const store = randomUUID();
    const a = await lockDistfile(store, 'a.tar');
    const b = await lockDistfile(store, 'b.tar');
    const other = await lockDistfile(randomUUID(), 'a.tar');
    await Promise.all([a.release(), b.release(), other.release()]);
  });

  it('stops waiting when interrupted', async () => {
    const store = randomUUID();
    const held = await lockDistfile(store, 'i.tar');
    const controller = new AbortController();
    const waiting = lockDistfile(store, 'i.tar', { signal: controller.signal, onWait: () => controller.abort() });
    await expect(waiting).rejects.toMatchObject({ code: 'EINTERRUPTED' });
    await held.release();
    await (await lockDistfile(store, 'i.tar')).release();
  });
});

describe('lockDistfile against a squatter of its name', () => {
  // The name a lock binds, as distfile-lock.ts derives it.
  const nameOf = async (store: string, file: string): Promise<string> =>
    `\0bootstrap-distfile-${(await import('node:crypto')).createHash('sha256').update(`${store}\0${file}`).digest('hex')}`;

  // A separate process that binds the name and behaves as told: a squatter is not this process.
  const squat = async (address: string, behaviour: 'silent' | 'lies' | 'hangs-up'): Promise<{ stop: () => void }> => {
    const { spawn } = await import('node:child_process');
    const script = `
      const net = require('node:net');
      const address = Buffer.from(process.argv[1], 'hex').toString('latin1');
      const behaviour = process.argv[2];
      if (behaviour === 'no-listen') {
        // Bound but not listening: a datagram-free trick is hard in Node, so listen with a backlog
        // and never accept by pausing the handle is not possible either; use a server that
        // destroys every connection at once, which a waiter sees as a holder that never answers.
        net.createServer((s) => s.destroy()).listen({ path: address }, () => process.stdout.write('ready\\n'));
      } else {
        net.createServer((s) => { if (behaviour === 'lies') s.write(JSON.stringify({ pid: 1, command: 'bootstrap fetch', since: 'now' }) + '\\n'); })
          .listen({ path: address }, () => process.stdout.write('ready\\n'));
      }`;
    const child = spawn(process.execPath, ['-e', script, Buffer.from(address, 'latin1').toString('hex'), behaviour], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`squatter exited ${code}`)));
    });
    return { stop: () => child.kill('SIGKILL') };
  };

  for (const behaviour of ['silent', 'lies', 'hangs-up'] as const) {
    it(`ends the wait with ELOCKSQUATTED when the holder is ${behaviour === 'lies' ? 'lying about who it is' : behaviour === 'silent' ? 'silent' : 'hanging up at once'}`, async () => {
      const store = randomUUID();
      const squatter = await squat(await nameOf(store, 's.tar'), behaviour);
      try {
        const seen: DistfileHolder[] = [];
        await expect(lockDistfile(store, 's.tar', { onWait: (h) => seen.push(h) })).rejects.toMatchObject({ code: 'ELOCKSQUATTED', message: expect.stringContaining('s.tar') });
        expect(seen).toEqual([]);
      } finally {
        squatter.stop();
      }
    }, 30_000);
  }

  it('is out of reach of a squatter who knows the store\'s device and inode but not its key', async () => {
    const { mkdtemp, stat } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { DistfileStore } = await import('../../../src/distfiles/store.js');
    const dir = await mkdtemp(join(tmpdir(), 'store-key-'));
    const info = await stat(dir, { bigint: true });
    const squatter = await squat(await nameOf(`${info.dev}:${info.ino}`, 'k.tar'), 'silent');
    try {
      const store = new DistfileStore(dir);
      await store.init();
      await (await store.lock('k.tar', {})).release();
      expect((await stat(join(dir, '.lock-key'))).mode & 0o777).toBe(0o600);
      const again = new DistfileStore(dir);
      await again.init();
      const held = await store.lock('k.tar', {});
      const waiting: DistfileHolder[] = [];
      const second = again.lock('k.tar', { onWait: (h) => waiting.push(h) });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await held.release();
      await (await second).release();
      expect(waiting).toHaveLength(1);
    } finally {
      squatter.stop();
    }
  });

  it('takes the lock once the squatter is gone', async () => {
    const store = randomUUID();
    const squatter = await squat(await nameOf(store, 'g.tar'), 'silent');
    squatter.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await (await lockDistfile(store, 'g.tar')).release();
  });
});
