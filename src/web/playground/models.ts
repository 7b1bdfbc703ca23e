import { errorFromResponse } from '../common/api-error.js';

/** One entry of GET /models; the fields after `id` are Oru-el's additions and may be absent. */
export interface ModelEntry {
  id: string;
  context_length?: number | null;
  capabilities?: { tools?: boolean; json_schema?: boolean; [name: string]: boolean | undefined };
  engine?: string;
  status?: string;
}

export async function listModels(baseURL: string, apiKey: string): Promise<ModelEntry[]> {
  const response = await fetch(`${baseURL}/models`, { headers: { Authorization: `Bearer ${apiKey}` } });
  if (!response.ok) throw await errorFromResponse(response);
  const body = (await response.json()) as { data?: ModelEntry[] };
  return (body.data ?? []).filter((entry) => typeof entry.id === 'string');
}

/** "llama-cpp · loaded · 2,048 tokens · tools · json_schema": only what the server said. */
export function describeModel(model: ModelEntry): string {
  const parts: string[] = [];
  if (model.engine) parts.push(model.engine);
  if (model.status) parts.push(model.status);
  if (typeof model.context_length === 'number')
    parts.push(`${model.context_length.toLocaleString('en-US')} tokens context`);
  if (model.capabilities) {
    const supported = Object.entries(model.capabilities)
      .filter(([, value]) => value === true)
      .map(([name]) => name);
    parts.push(supported.length > 0 ? supported.join(', ') : 'text only');
  }
  return parts.join(' · ');
}
