// Element table decoding off the main thread (module worker; elements.js starts it): the
// table file's bytes in, typed columns out by transfer (elementcodec.js).
import { decodeTable } from './elementcodec.js';

self.onmessage = async ({ data }) => {
  const { id, bytes, bounds } = data ?? {};
  try {
    const t0 = performance.now();
    const { packed, transfer } = await decodeTable(bytes, bounds ?? null);
    packed.decodeMs = performance.now() - t0;
    self.postMessage({ id, packed }, transfer);
  } catch (err) {
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
