import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BOARDS } from './boards.ts';

/** Writes the boards' JSON beside this folder: `node dashboards/grafana/src/write.ts`, then `npx biome format --write dashboards/grafana`. */
for (const [file, dashboard] of Object.entries(BOARDS)) {
  await writeFile(join(import.meta.dirname, '..', file), `${JSON.stringify(dashboard, null, 2)}\n`);
}
