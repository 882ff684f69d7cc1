import type { ZodType } from 'zod';

/**
 * The contract between the engine and the step kinds in src/steps/. The engine imports none
 * of the kinds: the CLI builds a registry (each kind given what it needs, e.g. the lock path)
 * and hands it to the engine. A kind knows how to plan and run one kind of step; the engine
 * knows ordering, journal, fingerprints, logs and progress.
 */

/** A named root filesystem of a recipe, resolved to an absolute host path. */
export interface Root {
  name: string;
  /** Absolute path on the host; `/` for the `host` root. */
  path: string;
  /** True for the host itself: steps run without chroot, and nothing is written into it. */
  host: boolean;
  /** Shell and its flags used to run scripts inside this root (e.g. ['/bin/bash', '-l']). */
  shell: string[];
  /** Script text put before every `run` script in this root (e.g. `umask 022`). */
  prelude: string;
  /** Environment of every script run in this root (the sandbox starts from `env -i`). */
  env: Readonly<Record<string, string>>;
  /**
   * Script text a preflight puts after the prelude: what stands in, before a real run, for what
   * the run's own builds would have installed (e.g. an unpacked tool on PATH). Not part of any
   * fingerprint: a real run never uses it.
   */
  preflightPrelude: string;
}

export interface PlanContext {
  /** Absolute path of the recipe folder; `files/` lives beneath it. */
  recipeDir: string;
  /** Parameter values after defaults and `--set`. */
  params: Readonly<Record<string, string>>;
  roots: Readonly<Record<string, Root>>;
  /** The root this step runs in. */
  root: Root;
  stepId: string;
  /**
   * True for `bootstrap plan`: nothing will run, so a kind reports what a run would refuse
   * (e.g. an unpinned distfile) in its summary instead of failing. Never part of the detail.
   */
  preview: boolean;
  /** Fill `{{name}}` placeholders; errors name `where` (e.g. `files/lb/etc/portage/make.conf`). */
  render(text: string, where: string): string;
}

/** What `bootstrap plan` shows of a step, and what its fingerprint is made of. */
export interface StepPlan {
  /** Human-readable lines for the plan (the rendered script, file list, ...). */
  summary: string[];
  /**
   * Everything that determines what the step does: rendered script and env, the bytes (by
   * digest) of files it writes, the integrity of the distfiles it uses. The fingerprint is a
   * hash of this, so it must be JSON-serialisable and must not hold timestamps or host state.
   */
  detail: Record<string, unknown>;
  /** Files the step writes into its root: path inside the root, sha256 hex, octal mode. */
  writes?: Array<{ path: string; sha256: string; mode: string }>;
  /** Names of `distfiles.lock` entries the step needs. */
  distfiles?: string[];
  /**
   * What a run would refuse about this step, one message each (only `bootstrap plan` gets
   * here with any: a run throws the first). `plan` lists them and exits 2.
   */
  refusals?: string[];
  /** A few lines worth showing in `plan`'s short view (e.g. an unpinned input, a previewed list). */
  notes?: string[];
}

/** A sink for a step's output: everything goes to the step's log file and the progress view. */
export interface StepLog {
  /** Absolute path of this attempt's log file. */
  readonly path: string;
  write(chunk: string | Buffer): void;
  /** One line of the orchestrator's own (not the process's) commentary about the step. */
  note(line: string): void;
}

/** A script to run in a root (chrooted in fresh namespaces) or on the host. */
export interface ScriptRequest {
  root: Root;
  script: string;
  env?: Record<string, string>;
  /** Working directory inside the root (or on the host for the host root). */
  cwd?: string;
  /** Also hand the output back as text (its last MiB), e.g. to read a tool's answer. */
  capture?: boolean;
}

export interface RunContext {
  stepId: string;
  /** Absolute path of the recipe folder. */
  recipeDir: string;
  /** Fill `{{name}}` placeholders, as at plan time. */
  render(text: string, where: string): string;
  root: Root;
  roots: Readonly<Record<string, Root>>;
  params: Readonly<Record<string, string>>;
  workDir: string;
  log: StepLog;
  signal: AbortSignal;
  /** Run a script; output goes to the step's log. Resolves with the exit code (never throws on non-zero). */
  runScript(request: ScriptRequest): Promise<{ exitCode: number; output?: string }>;
}

/** An artefact a step produced, recorded in the journal and in the run's provenance. */
export interface StepArtifact {
  /** Absolute host path. */
  path: string;
  /** SRI string, e.g. `sha512-…`. */
  integrity: string;
  size: number;
}

export interface StepOutcome {
  artifacts?: StepArtifact[];
  /** Distfiles the step placed or used, by name → SRI integrity (for provenance). */
  distfiles?: Record<string, string>;
  /**
   * Other inputs the step used, named by a digest that is not a file hash (for provenance):
   * e.g. a source tree by its git commit (`{ gitCommit: '<40 hex>' }`), with its lock entry.
   */
  materials?: Array<{ name: string; uri?: string; digest: Record<string, string>; lockEntry?: string; path?: string }>;
}

/** Thrown by a kind when its step fails (as opposed to a bug or bad input). */
export class StepFailure extends Error {
  readonly exitCode: number | null;
  /** Extra lines worth showing, e.g. a build.log tail found by the kind. */
  readonly details: string[];
  constructor(message: string, options: { exitCode?: number | null; details?: string[] } = {}) {
    super(message);
    this.name = 'StepFailure';
    this.exitCode = options.exitCode ?? null;
    this.details = options.details ?? [];
  }
}

/** What a step would do, asked of its tool without doing it (`bootstrap preflight`). */
export interface PretendResult {
  /** True when the tool says the step can run as given. */
  ok: boolean;
  /** What the step would do, one item each (e.g. the packages it would merge). */
  would: string[];
  /** Why it cannot: a short kind (e.g. `masked`, `missing`) and the tool's own lines. */
  problems: Array<{ kind: string; lines: string[] }>;
}

export interface StepKind<Spec = unknown> {
  /** The `kind:` value in a recipe. */
  readonly name: string;
  /**
   * Schema of the kind's own fields: the step object minus the common fields
   * (`id`, `kind`, `root`, `title`). Strings arrive already rendered with parameters.
   */
  readonly schema: ZodType<Spec>;
  /** Whether running this step needs root privileges. */
  needsRoot(spec: Spec, root: Root): boolean;
  /** Pure and cheap: no network, no writes. May read the recipe's files/ and the lock. */
  plan(spec: Spec, ctx: PlanContext): Promise<StepPlan> | StepPlan;
  run(spec: Spec, plan: StepPlan, ctx: RunContext): Promise<StepOutcome | void>;
  /**
   * The step's dry-run form, where its tool has one: a preflight calls this instead of `run`,
   * in a throwaway overlay of the roots, and reports what it says.
   */
  pretend?(spec: Spec, plan: StepPlan, ctx: RunContext): Promise<PretendResult>;
}

/**
 * The kinds a recipe may use, by name, each loaded when a plan first meets a step of that kind
 * (and once): a kind's module builds its schema when imported, so a command that plans a recipe
 * of two kinds need not load the other six.
 */
export type StepKindRegistry = ReadonlyMap<string, () => Promise<StepKind<any>>>;
