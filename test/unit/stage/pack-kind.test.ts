import { describe, expect, it } from 'vitest';
import { createPackKind } from '../../../src/steps/pack.js';
import { packContexts } from '../../helpers/stage-kind-context.js';

const kind = createPackKind();

describe('the pack step kind: schema and plan', () => {
  it('plans from the spec alone: root, output, the final excludes, compression from the name, epoch', async () => {
    const { plan: ctx } = packContexts('/work/lb/gentoo');
    const spec = kind.schema.parse({ out: '/work/seed/stage3-bootstrap.tar.xz', epoch: '1735689600' });
    const plan = await kind.plan(spec, ctx);
    expect(plan.detail).toEqual({
      root: '/work/lb/gentoo',
      out: '/work/seed/stage3-bootstrap.tar.xz',
      exclude: ['./var/cache/distfiles/*', './var/db/repos/*', './var/tmp/*'],
      compress: 'xz',
      epoch: 1735689600,
    });
    expect(plan.summary.join('\n')).toContain('2025-01-01T00:00:00.000Z');
    expect(kind.needsRoot(spec, ctx.root)).toBe(true);
  });

  it('lets a recipe replace the default excludes, and says when mtimes are kept', async () => {
    const { plan: ctx } = packContexts('/work/lb/gentoo');
    const plan = await kind.plan(kind.schema.parse({ out: '/w/s.tar.zst', exclude: ['var/tmp/*', './usr/local/bin/bootstrap-fetch'] }), ctx);
    expect(plan.detail).toMatchObject({ exclude: ['./var/tmp/*', './usr/local/bin/bootstrap-fetch'], compress: 'zstd', epoch: null });
    expect(plan.summary).toContain('mtimes kept as they are (to the second)');
    const none = await kind.plan(kind.schema.parse({ out: '/w/s.tar', exclude: [] }), ctx);
    expect(none.summary).toContain('excluding nothing');
  });

  it('refuses the host root, an output inside the root, a name that contradicts the compression, a bad epoch', async () => {
    await expect(async () => kind.plan(kind.schema.parse({ out: '/w/s.tar.xz' }), packContexts('/', { host: true }).plan)).rejects.toMatchObject({ code: 'ERECIPE' });
    const { plan: ctx } = packContexts('/work/lb/gentoo');
    await expect(async () => kind.plan(kind.schema.parse({ out: '/work/lb/gentoo/var/tmp/s.tar.xz' }), ctx)).rejects.toMatchObject({
      code: 'ERECIPE',
      message: expect.stringContaining('step pack-seed: out'),
    });
    await expect(async () => kind.plan(kind.schema.parse({ out: '/w/s.tar.xz', compress: 'zstd' }), ctx)).rejects.toMatchObject({ code: 'EPACK_SUFFIX' });
    await expect(async () => kind.plan(kind.schema.parse({ out: '/w/s.tar.xz', exclude: ['../x'] }), ctx)).rejects.toMatchObject({
      code: 'EPACK_EXCLUDE',
      message: expect.stringContaining('step pack-seed: exclude[0]'),
    });
    expect(kind.schema.safeParse({ out: 'relative.tar.xz' }).success).toBe(false);
    expect(kind.schema.safeParse({ out: '/w/s.tar.xz', epoch: 'yesterday' }).success).toBe(false);
    expect(kind.schema.safeParse({ out: '/w/s.tar.xz', epoch: -5 }).success).toBe(false);
    expect(kind.schema.safeParse({ out: '/w/s.tar.xz', compress: 'gzip' }).success).toBe(false);
    expect(kind.schema.safeParse({ out: '/w/s.tar.xz', level: 9 }).success).toBe(false);
  });
});
