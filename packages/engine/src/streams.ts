import type { Writable } from "node:stream";

/** Ends the writable if the caller has not, and waits until every byte was handled (or it failed). */
export function finishWritable(writable: Writable): Promise<void> {
  if (writable.writableFinished) return Promise.resolve();
  if (writable.destroyed) return Promise.reject(new Error("ingest stream was destroyed before commit"));
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      writable.off("finish", onFinish);
      reject(err);
    };
    const onFinish = () => {
      writable.off("error", onError);
      resolve();
    };
    writable.once("error", onError);
    writable.once("finish", onFinish);
    if (!writable.writableEnded) writable.end();
  });
}
