/** The slice of a pino logger that storage code needs; a pino instance fits it as is. */
export interface Logger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
