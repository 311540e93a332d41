// A module Web Worker that hashes images off the page's main thread (see createHashWorker in
// hashing.js). Request: {id, file: Blob, options}; answer: {id, result} or {id, error}.
import { hashImage } from "./hashing.js";

self.onmessage = async ({ data: { id, file, options } }) => {
  try {
    self.postMessage({ id, result: await hashImage(file, options) });
  } catch (error) {
    self.postMessage({ id, error: String((error && error.message) || error) });
  }
};
