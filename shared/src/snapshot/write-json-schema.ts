import { writeFile } from 'node:fs/promises';
import { networkSnapshotJsonSchemaText } from './json-schema';

/**
 * Writes the NetworkSnapshot JSON Schema to the path given as the first argument
 * (`npm run schema` writes docs/network-snapshot.schema.json).
 */
async function writeNetworkSnapshotJsonSchema(path: string | undefined): Promise<void> {
  if (!path) {
    process.stderr.write('usage: tsx shared/src/snapshot/write-json-schema.ts <output.json>\n');
    process.exitCode = 2;
    return;
  }
  await writeFile(path, networkSnapshotJsonSchemaText(), 'utf8');
  process.stdout.write(`wrote ${path}\n`);
}

await writeNetworkSnapshotJsonSchema(process.argv[2]);
