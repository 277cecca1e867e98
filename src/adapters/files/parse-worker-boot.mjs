// Worker bootstrap: the bot runs TypeScript through tsx, and a worker thread starts without the parent's
// loader, so the worker registers tsx itself before importing the real entry (parse-worker.ts).
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
