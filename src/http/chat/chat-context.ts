import type { ResponseIdentity } from '../../assembly/index.js';
import type { ChatRequest, Engine } from '../../engines/index.js';
import type { PublicModel } from '../../router/index.js';
import type { UsageMeter } from '../../usage/index.js';

/** Everything one chat request's response needs, built once by the route. */
export interface ChatContext {
  request: ChatRequest;
  model: PublicModel;
  identity: ResponseIdentity;
  meter: UsageMeter;
  /** Aborted when the client goes away, or when the server's drain deadline passes. */
  signal: AbortSignal;
  /** True when the signal fired for the shutdown while the client is still there: it gets an error, not silence. */
  cutOffByShutdown: () => boolean;
  /** Headers already decided for this response (request id, CORS). */
  headers: Record<string, string | number | string[]>;
  /** Set once an engine accepted the work, for the ledger. */
  onEngine: (engine: Engine) => void;
}

/** How a response ended, for the ledger. */
export interface ChatOutcome {
  outcome: 'completed' | 'cancelled' | 'error';
  status: number;
  errorCode: string | null;
}
