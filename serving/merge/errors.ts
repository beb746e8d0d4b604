/**
 * @module
 * The one error the merge engine expects callers to catch: an argument the caller should fix.
 */

/** An invalid argument; `argument` names it and the message says what is wrong and why. */
export class ArgumentError extends RangeError {
  constructor(readonly argument: string, detail: string, options?: ErrorOptions) {
    super(`Argument "${argument}": ${detail}`, options);
    this.name = "ArgumentError";
  }
}
