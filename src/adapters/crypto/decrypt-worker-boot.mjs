// Decryption worker bootstrap under tsx (dev, tests): a worker thread starts without the parent's
// loader, so it registers tsx itself before importing the real entry. The production build (dist/)
// starts dist/adapters/crypto/decrypt-worker.js directly.
import { tsImport } from 'tsx/esm/api';

await tsImport('./decrypt-worker.ts', import.meta.url);
