// Where a dataset's updates live: one stream per dataset, appended to by the transition that records
// the success of a task publishing it (its `outlets`), read by the DatasetIntake of every scheduler.

/** The stream where a dataset's updates are appended (a task with `outlets` succeeded). */
export function datasetStream(dataset: string): string {
  return `dataset:${dataset}`;
}

/** The event type of a dataset update. */
export const DATASET_UPDATED = 'dataset-updated';
