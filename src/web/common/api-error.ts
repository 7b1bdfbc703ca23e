/** The OpenAI-style error body every Oru-el error carries. */
export interface ApiErrorBody {
  message: string;
  type?: string;
  param?: string | null;
  code?: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number | null,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }

  /** "404 model_not_found: The model ... does not exist." */
  describe(): string {
    const prefix = [this.status, this.body.code]
      .filter((part) => part !== null && part !== undefined && part !== '')
      .join(' ');
    return prefix ? `${prefix}: ${this.body.message}` : this.body.message;
  }
}

/** The API's error from a non-2xx response; a body that is not the API's shape is shown as text. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: ApiErrorBody };
    if (parsed.error && typeof parsed.error.message === 'string') return new ApiError(response.status, parsed.error);
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return new ApiError(response.status, { message: text.slice(0, 500) || response.statusText || 'request failed' });
}
