import fs from 'node:fs';
import path from 'node:path';

/** Total size in bytes of the regular files below `directory` (symbolic links are not followed). */
export function directoryBytes(directory: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) total += directoryBytes(full);
    else if (entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}
