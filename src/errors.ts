// One error type for everything mycfs reports: a one-line message for the user, the exit
// code docker would use (125 for mycfs's own failures), and, for a failed system call, its
// errno and the operation and path, for callers that act on them (never on the message).

export const EXIT_MYCFS = 125;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;

export class MycfsError extends Error {
  /** `cause`: the error this one wraps on its way up (a SysError, say), kept for --debug. */
  constructor(
    message: string,
    readonly exitCode: number = EXIT_MYCFS,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "MycfsError";
  }
}

/** A system call of libmycfs's failed: "OPERATION: strerror (ESYMBOL)". */
export class SysError extends MycfsError {
  constructor(
    readonly op: string,
    readonly errno: number,
    message: string,
  ) {
    super(`${op}: ${message}`);
  }
}
