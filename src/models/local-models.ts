import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { formatHfUri, HF_URI_PREFIX, hfLocalPath, parseHfUri } from './hf-uri.js';

export interface LocalModel {
  /**
   * What to pass to `--model` to serve this file: its `hf:` URI when it sits where a download of
   * that URI would put it, its path otherwise (a file copied into the models directory by hand).
   */
  uri: string;
  /** Absolute path of the file (for a partial download, of the `.part` file). */
  path: string;
  /** Size on disk; for a partial download, the bytes received so far. */
  bytes: number;
}

const MODEL_SUFFIX = '.gguf';
const PARTIAL_SUFFIX = '.gguf.part';

/** Complete model files (`.gguf`) under the models directory, sorted by URI; none if it does not exist. */
export async function listLocalModels(modelsDir: string): Promise<LocalModel[]> {
  return scan(modelsDir, MODEL_SUFFIX);
}

/**
 * Downloads that stopped before the end (`.gguf.part`), kept apart from the models because they
 * cannot be served; pulling the same URI again resumes them.
 */
export async function listPartialDownloads(modelsDir: string): Promise<LocalModel[]> {
  return scan(modelsDir, PARTIAL_SUFFIX);
}

async function scan(modelsDir: string, suffix: string): Promise<LocalModel[]> {
  const root = resolve(modelsDir);
  const models: LocalModel[] = [];
  for (const path of await findFiles(root, suffix)) {
    const stats = await stat(path).catch(() => null);
    if (!stats?.isFile()) continue;
    const modelPath = suffix === PARTIAL_SUFFIX ? path.slice(0, -'.part'.length) : path;
    models.push({ uri: uriFor(root, modelPath), path, bytes: stats.size });
  }
  // Code-unit order, not the locale's: the same listing on every machine.
  return models.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
}

/** Files ending in `suffix` under `directory`; symbolic links to directories are not followed (no cycles). */
async function findFiles(directory: string, suffix: string): Promise<string[]> {
  const entries = await readDirectory(directory);
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) found.push(...(await findFiles(path, suffix)));
    else if (entry.name.toLowerCase().endsWith(suffix)) found.push(path);
  }
  return found;
}

async function readDirectory(directory: string): Promise<Dirent[]> {
  try {
    return await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** The `hf:` URI whose download lands exactly at `modelPath`, or the path when there is none. */
function uriFor(root: string, modelPath: string): string {
  const candidate = HF_URI_PREFIX + relative(root, modelPath).split(sep).join('/');
  try {
    const ref = parseHfUri(candidate);
    return hfLocalPath(ref, root) === modelPath ? formatHfUri(ref) : modelPath;
  } catch {
    return modelPath;
  }
}
