/** The base class of every error @batuta/orchestrator throws; `code` is stable and machine-readable. */
export class OrchestratorError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OrchestratorError';
    this.code = code;
  }
}
