// Resolve hook of record-modules.mjs: logs each resolved URL with the URL of the module that imported
// it ("<parent> <url>"), and changes nothing.
import { appendFileSync } from 'node:fs';

const log = process.env.VPC_GUARD_MODULE_LOG;

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (log) appendFileSync(log, `${context.parentURL ?? '-'} ${result.url}\n`);
  return result;
}
