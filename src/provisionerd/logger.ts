/** The part of a pino logger the daemon uses, so it can run with any structured logger (or none). */
export interface DaemonLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: DaemonLogger = { debug() {}, info() {}, warn() {}, error() {} };
