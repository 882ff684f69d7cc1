import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { ensureDistfiles } from '../../src/distfiles/ensure.js';
import type { FetchEvent } from '../../src/distfiles/events.js';
import { tempDir } from './env.js';
import { type TestServer, startTestServer } from './http-server.js';

export interface FetchFixture {
  server: TestServer;
  dir: { path: string; remove: () => void };
  lockPath: string;
  storeDir: string;
  /** Every progress event of the test's fetches, in order. */
  events: FetchEvent[];
  /** ensureDistfiles on the fixture's lock and store, recording its events. */
  ensure(options: Omit<Parameters<typeof ensureDistfiles>[0], 'lockPath' | 'storeDir' | 'onProgress'>): ReturnType<typeof ensureDistfiles>;
}

/** A local test server, a temporary lock and store for each test of the file, removed after it. */
export function useFetchFixture(prefix: string): FetchFixture {
  const fixture = {
    events: [] as FetchEvent[],
    ensure: (options) => ensureDistfiles({ lockPath: fixture.lockPath, storeDir: fixture.storeDir, onProgress: (e) => fixture.events.push(e), ...options }),
  } as FetchFixture;
  beforeEach(async () => {
    fixture.server = await startTestServer();
    fixture.dir = tempDir(prefix);
    fixture.lockPath = join(fixture.dir.path, 'distfiles.lock');
    fixture.storeDir = join(fixture.dir.path, 'store');
    fixture.events = [];
  });
  afterEach(async () => {
    await fixture.server.close();
    fixture.dir.remove();
  });
  return fixture;
}
