/**
 * A received file's bytes, read whole, are needed only until they are decoded. The
 * reader (read-file.ts) marks the buffers it allocates; once the text is made, the
 * pipeline hands their memory back at once (it is moved to a short-lived buffer that the
 * next minor collection frees) instead of waiting for a full collection, so a large file
 * is not held as bytes and as text while its records are stored. Buffers the pipeline
 * did not read itself (a test's, shared by several calls) are left alone.
 */

const owned = new WeakSet<ArrayBuffer>();

/** A fresh buffer of `size` bytes, owned by the pipeline. */
export function allocOwned(size: number): Buffer {
  const buf = Buffer.alloc(size);
  owned.add(buf.buffer as ArrayBuffer);
  return buf;
}

/** Frees the memory of a buffer from allocOwned now; it must not be read afterwards. */
export function letGo(bytes: Buffer | undefined): void {
  const ab = bytes?.buffer as ArrayBuffer | undefined;
  if (!ab || !owned.has(ab)) return;
  owned.delete(ab);
  // Transferring detaches it: the backing store goes with the clone, which nothing keeps.
  structuredClone(ab, { transfer: [ab] });
}
