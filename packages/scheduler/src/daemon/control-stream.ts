// The stream the CLI asks the scheduler daemons through (cancel a run, clear or mark tasks).

/** The stream's name in the store. */
export const CONTROL_STREAM = 'control';
