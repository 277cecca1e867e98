import { createEmulator, type Emulator, type EmulatorLogger } from './server.ts';
import type { Limits } from './types.ts';
import type { WebPageOptions } from './web.ts';

export { EmulatorClient, UserHandle, type WaitOptions } from './client.ts';
export { BotControl } from './control.ts';
export { createEmulator, type Emulator, type EmulatorLogger, type EmulatorOptions } from './server.ts';
export type * from './types.ts';
export type { WebPageOptions, WebPerson } from './web.ts';

/** Starts the emulator in-process (e.g. from the app's sandbox mode); default port 8081. */
export function startEmulator(
  opts: { port?: number; limits?: Partial<Limits>; logger?: EmulatorLogger; web?: WebPageOptions } = {},
): Promise<Emulator> {
  return createEmulator({ port: opts.port ?? 8081, ...opts });
}
