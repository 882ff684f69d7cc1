import * as z from 'zod';
import { NUMERIC_BUILTINS, patternIsShellSafe, placeholderContexts } from '../shell-template.js';

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
    /**
     * Leave the phase out when this parameter is given (`--set name=…`, `--name …`) to the run:
     * e.g. a phase that builds what the parameter's default names, skipped when the user brings
     * one of their own.
     */
    unless_set: paramName.optional(),
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
  .strict()
  .superRefine(checkPlaceholders);

/** The fields a POSIX shell reads, whose `{{name}}` placeholders become shell-quoted words. */
export function isShellField(path: ReadonlyArray<PropertyKey>): boolean {
  const [top, , field, , sub] = path;
  if (top === 'roots') return path.length === 3 && (field === 'prelude' || field === 'preflight_prelude');
  return top === 'phases' && field === 'steps' && path.length === 5 && sub === 'script';
}

/**
 * In shell fields, a placeholder must stand where the shell reads words (a quoted word inside
 * quotes would keep its quotes, and `$( )` inside double quotes or a here-document still runs),
 * and `{{raw:name}}` must name a parameter whose pattern admits no shell syntax. Elsewhere a
 * value goes in as it is, so `{{raw:…}}` has no meaning there.
 */
function checkPlaceholders(file: { parameters: Record<string, { pattern?: string | undefined }> }, ctx: z.RefinementCtx): void {
  const rawSafe = (name: string): boolean | undefined => {
    if (NUMERIC_BUILTINS.has(name)) return true;
    const def = file.parameters[name];
    if (!def) return name === 'work' || name === 'recipe_dir' ? false : undefined; // unknown: plan names it
    return def.pattern !== undefined && patternIsShellSafe(def.pattern);
  };
  const visit = (value: unknown, path: PropertyKey[]): void => {
    if (Array.isArray(value)) return value.forEach((item, i) => visit(item, [...path, i]));
    if (value && typeof value === 'object') return Object.entries(value).forEach(([k, v]) => visit(v, [...path, k]));
    if (typeof value !== 'string' || !value.includes('{{')) return;
    if (!isShellField(path)) {
      for (const m of value.matchAll(/\{\{\s*raw\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) {
        ctx.addIssue({ code: 'custom', path, message: `{{raw:${m[1]}}} is for shell scripts only (a run step's script, a root's prelude); here {{${m[1]}}} is already the value as it is` });
      }
      return;
    }
    for (const use of placeholderContexts(value)) {
      if (use.raw && rawSafe(use.name) === false) {
        const def = file.parameters[use.name];
        const why = !def ? `${use.name} is a path bootstrap sets` : def.pattern === undefined ? `${use.name} has no pattern` : `the pattern of ${use.name} (${def.pattern}) admits shell syntax`;
        ctx.addIssue({
          code: 'custom',
          path,
          message: `{{raw:${use.name}}} puts the value into the script as it is, but ${why}; write {{${use.name}}} (one quoted word), or give ${use.name} a pattern of letters, digits and _@%+=:,./- only`,
        });
      } else if (!use.raw && use.context !== 'word') {
        const where = use.context.startsWith('after') ? use.context : `inside ${use.context}`;
        const line = value.slice(0, use.index).split('\n').length;
        ctx.addIssue({
          code: 'custom',
          path,
          message: `{{${use.name}}} (line ${line} of the script) stands ${where}: it becomes one shell-quoted word, which is right only where the shell reads words; write it outside quotes (e.g. v={{${use.name}}}, then "$v"), or {{raw:${use.name}}} if ${use.name} has a pattern that admits no shell syntax`,
        });
      }
    }
  };
  visit(file, []);
}

export type RecipeFile = z.output<typeof recipeSchema>;
export type ParameterDef = z.output<typeof parameterSchema>;
export type RootDef = z.output<typeof rootSchema>;
export type StepDef = z.output<typeof stepSchema>;
