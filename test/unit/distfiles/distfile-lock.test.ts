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
