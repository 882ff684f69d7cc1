import { TOOL_PACKAGES } from '../host/tools.js';

/** A host tool the scan needs is not installed: the content is unscannable here, not bad. */
export class MissingToolError extends Error {
  constructor(readonly tool: string, what = 'is not installed') {
    super(`${tool} ${what} (Debian package ${TOOL_PACKAGES[tool] ?? tool})`);
    this.name = 'MissingToolError';
  }
}

/** What an execa result of a host tool that read our bytes says went wrong, or undefined. */
export function toolFailure(
  tool: string,
  result: { failed: boolean; code?: string; stderr?: unknown; shortMessage?: string },
): Error | undefined {
  if (!result.failed) return undefined;
  if (result.code === 'ENOENT') return new MissingToolError(tool);
  const stderr = result.stderr instanceof Uint8Array ? Buffer.from(result.stderr).toString('utf8').trim() : '';
  return new Error(`${tool}: ${stderr || result.shortMessage || 'failed'}`);
}
