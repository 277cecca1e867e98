// Export child bootstrap: the bot runs TypeScript through tsx, and the export's child process starts
// without the parent's loader, so it registers tsx itself before importing the real entry
// (export-child.ts, passed as the first argument).
import { tsImport } from 'tsx/esm/api';

await tsImport(process.argv[2], import.meta.url);
