import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { OperatorError } from '../errors/index.js';
import { downloadFile, type DownloadProgress } from './download.js';
import { hfDownloadUrl, hfLocalPath, isHfUri, parseHfUri } from './hf-uri.js';

export interface ResolveModelOptions {
  /** Where `hf:` files are downloaded (Config.modelsDir). */
  modelsDir: string;
  /** Base URL `hf:` files are fetched from (Config.hfEndpoint). */
  hfEndpoint: string;
  /** A Hugging Face access token, for private and gated repositories. */
  token?: string;
  onProgress?: DownloadProgress;
  /** Told at once when a download starts, before the server answers (which may take up to the timeout). */
  onDownloadStart?: (url: string) => void;
  signal?: AbortSignal;
}

/**
 * The absolute path of the model file `spec` names: a file path (which must exist), or an `hf:`
 * URI, downloaded into the models directory unless an earlier download is already complete there.
 */
export async function resolveModelPath(spec: string, options: ResolveModelOptions): Promise<string> {
  if (isHfUri(spec)) return resolveHfModel(spec, options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new OperatorError(
      `Unsupported model location "${spec}": use a file path or hf:OWNER/REPO/PATH/TO/FILE.gguf.`,
    );
  }
  return resolveLocalFile(spec);
}

async function resolveHfModel(uri: string, options: ResolveModelOptions): Promise<string> {
  const ref = parseHfUri(uri);
  const localPath = resolve(hfLocalPath(ref, options.modelsDir));
  // A download renames its `.part` into place only when complete, so an existing file is whole.
  if (await isFile(localPath)) return localPath;
  const url = hfDownloadUrl(ref, options.hfEndpoint);
  options.onDownloadStart?.(url);
  await downloadFile({
    url,
    destination: localPath,
    label: uri,
    token: options.token,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  return localPath;
}

async function resolveLocalFile(spec: string): Promise<string> {
  const path = resolve(expandHome(spec));
  const stats = await statIfExists(path);
  if (stats === null) throw new OperatorError(`model file not found: ${path}`);
  if (!stats.isFile()) throw new OperatorError(`model path is not a file: ${path}`);
  return path;
}

/** Config files are not expanded by a shell, so `~/models/x.gguf` must be handled here. */
function expandHome(spec: string): string {
  return spec === '~' || spec.startsWith('~/') ? join(homedir(), spec.slice(1)) : spec;
}

async function isFile(path: string): Promise<boolean> {
  return (await statIfExists(path))?.isFile() ?? false;
}

/** null when nothing is there; any other failure (e.g. no permission) is worth telling as it is. */
async function statIfExists(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new OperatorError(`Cannot access model file ${path}: ${(error as Error).message}`);
  }
}
