import { z } from 'zod';

/**
 * The recipe file's own structure. Each step's kind-specific fields are validated later by the
 * kind's schema, after parameters are filled in.
 */

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes');
const paramName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lower-case letters, digits and underscores');
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const parameterSchema = z
  .object({
    description: z.string().optional(),
    /** `directory`: the value must name an existing directory on the host when the recipe runs. */
    type: z.enum(['string', 'directory']).default('string'),
    default: scalar.optional(),
    /** A regular expression the value must match entirely. */
    pattern: z.string().optional(),
    /**
     * Detect the value on the host before the run: the single path matching `glob` (a host
     * path, `*` within a component), of which `take` keeps the base name.
     */
    detect: z.object({ glob: z.string(), take: z.literal('basename').default('basename') }).strict().optional(),
  })
  .strict();

export const rootSchema = z
  .object({
    path: z.string().min(1),
    shell: z.array(z.string().min(1)).min(1).default(['/bin/bash', '-l']),
    prelude: z.string().default(''),
    /**
     * Put after the prelude by `bootstrap preflight` only: what stands in for what the run's
     * builds would have installed by then (e.g. an unpacked tool's bin/ on PATH).
     */
    preflight_prelude: z.string().default(''),
    /** Environment of every script run in this root (after `env -i`). */
    env: z.record(z.string(), scalar).default({}),
  })
  .strict();

export const stepSchema = z
  .object({
    id: slug,
    kind: z.string().min(1),
    root: z.string().min(1),
    title: z.string().optional(),
  })
  .passthrough();

export const phaseSchema = z
  .object({
    id: slug,
    title: z.string().optional(),
    steps: z.array(stepSchema).min(1),
  })
  .strict();

/** What the chain starts from, named in the run's provenance (e.g. a live-bootstrap target). */
export const startingPointSchema = z
  .object({
    name: z.string().min(1),
    root: z.string().min(1),
    /** A file inside that root whose sha256 identifies it (e.g. /steps/manifest). */
    file: z.string().startsWith('/').optional(),
    /** The lock entry of the starting point's own source, if the lock has one. */
    lock_entry: z.string().optional(),
    note: z.string().optional(),
  })
  .strict();

export const recipeSchema = z
  .object({
    name: slug,
    version: scalar,
    description: z.string().min(1),
    starting_point: startingPointSchema.optional(),
    parameters: z.record(paramName, parameterSchema).default({}),
    roots: z.record(paramName, rootSchema).default({}),
    phases: z.array(phaseSchema).min(1),
  })
  .strict();

export type RecipeFile = z.output<typeof recipeSchema>;
export type ParameterDef = z.output<typeof parameterSchema>;
export type RootDef = z.output<typeof rootSchema>;
export type StepDef = z.output<typeof stepSchema>;
