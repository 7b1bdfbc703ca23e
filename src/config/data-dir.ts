import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Record<string, string | undefined>;

/**
 * Oru-el's per-user data directory (the default database and ledger spill live here), the same
 * wherever a command runs from. The platform conventions env-paths follows: XDG on Linux,
 * Application Support on macOS, %LOCALAPPDATA% on Windows. ORUEL_DATA_DIR overrides it.
 */
export function defaultDataDir(
  env: Env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (env.ORUEL_DATA_DIR) return env.ORUEL_DATA_DIR;
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'oruel');
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'oruel', 'Data');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'oruel');
}

/** The per-user cache directory `hf:` models are downloaded into (ORUEL_MODELS_DIR overrides it). */
export function defaultCacheDir(
  env: Env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'oruel');
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'oruel', 'Cache');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'oruel');
}

/** `sqlite:<data dir>/oruel.db`: the database every command uses unless told otherwise. */
export function defaultDatabaseUrl(
  env: Env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  return `sqlite:${join(defaultDataDir(env, platform, home), 'oruel.db')}`;
}
