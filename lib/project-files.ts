/** Locations inside the installed project, the same from sources (tests) and from dist/ bundles. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let root: string | undefined;

/** The folder holding feedpath's package.json. */
export function projectRoot(): string {
  if (root !== undefined) return root;
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'feedpath'
    ) {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`feedpath's package.json not found above ${__dirname}`);
    dir = parent;
  }
}

/** The bundled agents (scripts/build.mjs writes them). */
export function agentsDir(): string {
  return join(projectRoot(), 'dist', 'agents');
}

/** feedpath's own version, for reports. */
export function projectVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string })
    .version;
}
