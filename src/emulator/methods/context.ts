import type { BotState } from '../bot-state.ts';
import type { Params } from '../params.ts';

export interface MethodContext {
  bot: BotState;
  params: Params;
  /** Aborted when the HTTP client disconnects (or the emulator closes). */
  signal: AbortSignal;
  maxUploadSize: number;
}

export type MethodHandler = (ctx: MethodContext) => unknown;
