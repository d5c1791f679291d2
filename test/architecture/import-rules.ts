// The import rules the architecture test applies, as pure functions over a file's path and text, so
// the rules themselves can be tested on fixture strings (a scanner that never fails checks nothing).
import { posix } from 'node:path';

/** A source file: its path relative to the repository root (with `/`) and its text. */
export interface SourceFile {
  path: string;
  text: string;
}

/** Every module specifier a file imports or re-exports: static, side-effect and dynamic imports. */
export function importSpecifiers(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g))
    found.push(match[1]!);
  for (const match of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) found.push(match[1]!);
  for (const match of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(match[1]!);
  return found;
}

/** `@batuta/scheduler` of `@batuta/scheduler/redis-server`: a subpath export belongs to its package. */
export function packageOf(specifier: string): string {
  return specifier.split('/').slice(0, 2).join('/');
}

/** The workspace package a path belongs to (`packages/<name>/…`), or undefined for test/, bench/ … */
export function workspacePackageOf(path: string): string | undefined {
  return /^packages\/([^/]+)\//.exec(path)?.[1];
}

/**
 * What a file of test code (`packages/<name>/test/**`, `test/**`, `bench/**`) imports that it may not:
 * another package's `src/` (or built `dist/`) by relative path or deep import, and `@batuta/cli` from
 * anywhere but the CLI's own tests (an end-to-end test runs the CLI binary as a process instead).
 */
export function testImportViolations(file: SourceFile): string[] {
  const own = workspacePackageOf(file.path);
  const violations: string[] = [];
  for (const specifier of importSpecifiers(file.text)) {
    if (specifier.startsWith('.')) {
      const target = posix.normalize(posix.join(posix.dirname(file.path), specifier));
      const reached = /^packages\/([^/]+)\/(src|dist|bin)(?:\/|$)/.exec(target);
      if (reached && reached[1] !== own) {
        violations.push(`${file.path} reaches into ${target} (import '@batuta/${reached[1]}' instead)`);
      }
      continue;
    }
    if (
      /^@batuta\/[^/]+\/(src|dist)(?:\/|$)/.test(specifier) ||
      /(?:^|\/)packages\/[^/]+\/src(?:\/|$)/.test(specifier)
    ) {
      violations.push(`${file.path} reaches into ${specifier} (import the package's public entry instead)`);
    }
    if (packageOf(specifier) === '@batuta/cli' && own !== 'cli') {
      violations.push(`${file.path} imports ${specifier} (nothing imports the CLI; run its binary as a process)`);
    }
  }
  return violations;
}
