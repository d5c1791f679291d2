// What crosses Redis between the executor and the workers, as zod schemas: the job data (a TaskJob),
// the reports workers append to the results stream, and the cancellations the executor publishes.
// Everything arriving from Redis is `unknown` until parsed here.
import type { Outcome, TaskJob } from '@batuta/scheduler';
import { z } from 'zod';

const resourcesSchema = z.object({
  cpu: z.number(),
  memoryMb: z.number(),
  gpu: z.number(),
  custom: z.record(z.string(), z.number()),
});

/** A TaskJob as stored in a BullMQ job's data. */
export const taskJobSchema = z.object({
  dagId: z.string(),
  runId: z.string(),
  taskId: z.string(),
  mapIndex: z.int(),
  tryNumber: z.int(),
  resources: resourcesSchema,
  pool: z.string().optional(),
  priorityWeight: z.number(),
  timeoutMs: z.number().optional(),
  item: z.record(z.string(), z.unknown()).optional(),
});

const taskErrorSchema = z.object({
  message: z.string(),
  name: z.string().optional(),
  code: z.string().optional(),
  retryable: z.boolean().optional(),
  stack: z.string().optional(),
});

const outcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), output: z.unknown().optional() }),
  z.object({ status: z.literal('failed'), error: taskErrorSchema }),
  z.object({ status: z.literal('skipped'), reason: z.string() }),
]);

const reportSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('started'), jobId: z.string(), atMs: z.number(), worker: z.string() }),
  z.object({
    kind: z.literal('finished'),
    jobId: z.string(),
    outcome: outcomeSchema,
    startedMs: z.number(),
    endedMs: z.number(),
    worker: z.string().optional(),
  }),
  z.object({ kind: z.literal('progress'), jobId: z.string(), fraction: z.number() }),
]);

/** What a worker tells the executor about one attempt (one results-stream entry). */
export type WorkerReport =
  | { kind: 'started'; jobId: string; atMs: number; worker: string }
  | { kind: 'finished'; jobId: string; outcome: Outcome; startedMs: number; endedMs: number; worker?: string }
  | { kind: 'progress'; jobId: string; fraction: number };

/** The single field of a results-stream entry; its value is a JSON array of reports. */
export const REPORT_FIELD = 'm';

/** The field of a BullMQ job's hash where the worker also keeps the job's `finished` report (JSON). */
export const REPORT_HASH_FIELD = 'batuta';

/** A report as JSON text (an element of a stream entry's array). */
export function encodeReport(report: WorkerReport): string {
  return JSON.stringify(report);
}

/** Parses a stream entry's text (an array of reports, or one report); what is not a report is skipped. */
export function decodeReports(text: string): WorkerReport[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  const reports: WorkerReport[] = [];
  for (const element of Array.isArray(value) ? value : [value]) {
    const parsed = reportSchema.safeParse(element);
    if (!parsed.success) continue;
    const report = parsed.data;
    // JSON drops `output: undefined`; the Outcome type wants the key.
    if (report.kind === 'finished' && report.outcome.status === 'success' && !('output' in report.outcome)) {
      reports.push({ ...report, outcome: { status: 'success', output: undefined } } as WorkerReport);
    } else {
      reports.push(report as WorkerReport);
    }
  }
  return reports;
}

/** Parses a BullMQ job's data as a TaskJob; undefined when it is not one. */
export function parseTaskJob(data: unknown): TaskJob | undefined {
  const parsed = taskJobSchema.safeParse(data);
  return parsed.success ? (parsed.data as TaskJob) : undefined;
}

/** A cancellation as published to the workers. */
export interface CancelMessage {
  runId: string;
  taskId?: string;
  mapIndex?: number;
  /** One attempt only: a cleared instance's next try must not be refused as cancelled. */
  tryNumber?: number;
  reason: string;
}

const cancelSchema = z.object({
  runId: z.string(),
  taskId: z.string().optional(),
  mapIndex: z.int().optional(),
  tryNumber: z.int().optional(),
  reason: z.string(),
});

/** Parses a cancel channel message; undefined when it is not one. */
export function decodeCancel(text: string): CancelMessage | undefined {
  try {
    const parsed = cancelSchema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as CancelMessage) : undefined;
  } catch {
    return undefined;
  }
}

/** True when `job` is one of the attempts `filter` names. */
export function cancelMatches(filter: Omit<CancelMessage, 'reason'>, job: TaskJob): boolean {
  return (
    job.runId === filter.runId &&
    (filter.taskId === undefined || job.taskId === filter.taskId) &&
    (filter.mapIndex === undefined || job.mapIndex === filter.mapIndex) &&
    (filter.tryNumber === undefined || job.tryNumber === filter.tryNumber)
  );
}
