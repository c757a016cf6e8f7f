import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalFolderStore, readText } from '../lib/store';
import { removeDir, tempDir } from './analysis-fixtures';

describe('LocalFolderStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('lists keys recursively with / separators, filtered by prefix', async () => {
    await mkdir(join(dir, 'metrics'));
    await writeFile(join(dir, 'metrics', 'receiver.json'), '{}');
    await writeFile(join(dir, 'baseline-results.csv'), '');
    const store = new LocalFolderStore(dir);

    expect(await store.list('')).toEqual(['baseline-results.csv', 'metrics', 'metrics/receiver.json']);
    expect(await store.list('metrics/')).toEqual(['metrics/receiver.json']);
    expect(await new LocalFolderStore(join(dir, 'missing')).list('')).toEqual([]);
  });

  it('writes into new folders and reads back; a missing file reads as null', async () => {
    const store = new LocalFolderStore(dir);

    await store.write('runs/1/report.md', '# hi\n');

    expect(await readFile(join(dir, 'runs', '1', 'report.md'), 'utf8')).toBe('# hi\n');
    expect(await readText(store, 'runs/1/report.md')).toBe('# hi\n');
    expect(await store.readStream('runs/1/nope.csv')).toBeNull();
  });
});
