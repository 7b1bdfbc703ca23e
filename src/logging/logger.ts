/**
 * The slice of a pino logger that every step may need; a pino instance fits it as is. It lives
 * here, below every step, so that auth/, limits/, usage/ and storage/ can log without importing
 * each other (it used to sit in storage/ and made each of them depend on storage).
 */
export interface Logger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
