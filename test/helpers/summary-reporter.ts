import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, that CI reads, and lists
 * skipped tests with their reason so a suite that could not run says why.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    const skips: string[] = [];
    for (const mod of modules) {
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed += 1;
      for (const test of mod.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed += 1;
        else if (result.state === 'failed') failed += 1;
        else {
          skipped += 1;
          const note = result.state === 'skipped' ? result.note : undefined;
          skips.push(`  ${mod.moduleId.replace(process.cwd() + '/', '')} > ${test.fullName}${note ? `: ${note}` : ''}`);
        }
      }
    }
    if (skips.length > 0) process.stdout.write(`\nskipped tests:\n${skips.join('\n')}\n`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
