/** How many characters of a client-sent name (a model, a function, a part type) an error message repeats. */
const MAX_ECHOED_NAME = 64;

/** A client-sent name for an error message: a 3 MB name must not make a 3 MB error body. */
export function echoName(name: string): string {
  return name.length <= MAX_ECHOED_NAME ? name : `${name.slice(0, MAX_ECHOED_NAME)}...`;
}
