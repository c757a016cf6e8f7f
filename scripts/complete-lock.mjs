// The npm registry reachable here lacks some platform builds (e.g. @swc/core-darwin-arm64), so
// `npm install` leaves them out of package-lock.json, and `npm ci` then rejects the lock as out of
// sync. This adds a lock entry (version, os, cpu; optional) for each optional platform package a
// locked package names but the lock lacks; npm ci skips them on other platforms without fetching.
// Run it after `npm install` changes the lock: `node scripts/complete-lock.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('../package-lock.json', import.meta.url));
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

const OS = [
  'darwin',
  'linux',
  'win32',
  'android',
  'freebsd',
  'openharmony',
  'openbsd',
  'netbsd',
  'sunos',
  'aix',
];
const CPU = {
  'arm-eabi': 'arm',
  arm: 'arm',
  arm64: 'arm64',
  x64: 'x64',
  ia32: 'ia32',
  ppc64: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  wasm32: 'wasm32',
};

/** `core-linux-arm-gnueabihf` → { os: linux, cpu: arm }, from the package name's platform words. */
function platformOf(name) {
  const words = name.split('/').pop().split('-');
  const os = words.find((w) => OS.includes(w));
  const joined = words.join('-');
  const cpu = Object.keys(CPU).find(
    (key) =>
      joined.includes(`-${key}`) && (key !== 'arm' || !/-arm(64|-eabi)/.test(joined) || /-arm-/.test(joined)),
  );
  return os && cpu ? { os, cpu: CPU[cpu] } : undefined;
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] !== undefined || packages[`${path}/${key}`] !== undefined) continue;
    const platform = platformOf(name);
    if (platform === undefined) {
      console.warn(`left alone: ${name} (no platform in its name)`);
      continue;
    }
    packages[key] = {
      version,
      cpu: [platform.cpu],
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      os: [platform.os],
    };
    added += 1;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform package(s) added`);
