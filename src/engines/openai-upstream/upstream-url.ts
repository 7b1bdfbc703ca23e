/** Where chat completions go: the pool's origin and the request path. */
export interface UpstreamTarget {
  origin: string;
  path: string;
  /** `host:port`, for the engine id (never the key, never the path's secrets). */
  host: string;
}

const CHAT_PATH = '/chat/completions';

/** `http://h:8000/v1` -> origin `http://h:8000`, path `/v1/chat/completions`; a full endpoint URL is kept. */
export function toUpstreamTarget(url: string): UpstreamTarget {
  const parsed = new URL(url);
  const base = parsed.pathname.replace(/\/+$/, '');
  const path = base.endsWith(CHAT_PATH) ? base : `${base}${CHAT_PATH}`;
  return { origin: parsed.origin, path: `${path}${parsed.search}`, host: parsed.host };
}

/** The same API's other endpoint (`/v1/chat/completions` -> `/v1/completions`, `/v1/embeddings`). */
export function siblingPath(target: UpstreamTarget, endpoint: '/completions' | '/embeddings'): string {
  const [path = '', search = ''] = target.path.split(/(?=\?)/, 2);
  return `${path.slice(0, -CHAT_PATH.length)}${endpoint}${search}`;
}
