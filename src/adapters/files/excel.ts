import type ExcelJS from 'exceljs';

/**
 * exceljs, loaded at its first use (a template, a checked file, a bank list, an export): it holds ~16 MB
 * that the bot and the worker would otherwise carry from their start, and most of their life needs none
 * of it. Types come from `import type`.
 */
export async function loadExcel(): Promise<typeof ExcelJS> {
  return (await import('exceljs')).default;
}
