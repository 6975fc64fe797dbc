// One error type for everything mycfs reports: a one-line message for the user and the
// exit code docker would use (125 for mycfs's own failures).

export const EXIT_MYCFS = 125;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;

export class MycfsError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_MYCFS,
  ) {
    super(message);
    this.name = "MycfsError";
  }
}
