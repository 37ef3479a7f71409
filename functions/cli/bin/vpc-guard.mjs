#!/usr/bin/env node
// The `vpc-guard` command. The CLI is written in TypeScript and run from source: tsx's loader is
// registered here, with the repository's own tsconfig so that the caller's working directory does not
// matter, then main.ts is imported and its result becomes the exit code.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)) });

try {
  const { main } = await import(new URL('../main.ts', import.meta.url).href);
  // exitCode rather than process.exit(): a report piped to another program is flushed first.
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Only reached when main.ts cannot be loaded at all (its own errors become exit codes there).
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`vpc-guard: internal error: ${message}\n`);
  if (process.env.VPC_GUARD_DEBUG === '1' && error instanceof Error) {
    process.stderr.write(`${error.stack}\n`);
  }
  process.exitCode = 3;
}
