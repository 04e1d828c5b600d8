"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type DragEvent } from "react";
import { Guarded } from "~/components/account/guarded";
import { OutputLines } from "~/components/images/output-lines";
import { PageHeader } from "~/components/shell/app-shell";
import { Button, ButtonLink, Card, cn, ErrorState } from "~/components/ui";
import { formatBytes } from "~/lib/format";

type State =
  | { kind: "idle" }
  | { kind: "uploading"; file: File; sent: number; total: number; processing: boolean }
  | { kind: "done"; file: File; lines: string[] }
  | { kind: "error"; file: File; message: string };

const ACCEPT = /\.(tar|tar\.gz|tgz)$/i;

/** Message from a JSON `{error}` body, else the raw text, else the status. */
function xhrError(xhr: XMLHttpRequest): string {
  try {
    const body = JSON.parse(xhr.responseText) as { error?: unknown };
    if (typeof body.error === "string" && body.error) return body.error;
  } catch {
    // not JSON
  }
  return xhr.responseText.trim() || (xhr.status ? `${xhr.status} ${xhr.statusText}` : "the upload was interrupted");
}

export default function LoadPage() {
  const [state, setState] = useState<State>({ kind: "idle" });
  const [dragging, setDragging] = useState(false);
  const [rejected, setRejected] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const xhrRef = useRef<XMLHttpRequest | null>(null);
  const queryClient = useQueryClient();

  function upload(file: File) {
    setRejected(null);
    if (!ACCEPT.test(file.name)) {
      setRejected(`${file.name} is not a .tar or .tar.gz archive`);
      return;
    }
    const xhr = new XMLHttpRequest();
    xhrRef.current = xhr;
    xhr.open("POST", `/api/images/load?source=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("content-type", file.type || "application/x-tar");
    xhr.setRequestHeader("x-berth-client", "web");
    setState({ kind: "uploading", file, sent: 0, total: file.size, processing: false });
    xhr.upload.onprogress = (e) => {
      setState({ kind: "uploading", file, sent: e.loaded, total: e.lengthComputable ? e.total : file.size, processing: false });
    };
    xhr.upload.onload = () => setState({ kind: "uploading", file, sent: file.size, total: file.size, processing: true });
    xhr.onload = () => {
      xhrRef.current = null;
      if (xhr.status >= 200 && xhr.status < 300) {
        let lines: string[] = [];
        try {
          const body = JSON.parse(xhr.responseText) as { lines?: unknown };
          lines = Array.isArray(body.lines) ? body.lines.map(String) : [];
        } catch {
          lines = xhr.responseText.split("\n").filter(Boolean);
        }
        setState({ kind: "done", file, lines });
        void queryClient.invalidateQueries();
      } else {
        setState({ kind: "error", file, message: xhrError(xhr) });
      }
    };
    xhr.onerror = () => {
      xhrRef.current = null;
      setState({ kind: "error", file, message: "network error: the upload did not reach the server" });
    };
    xhr.onabort = () => {
      xhrRef.current = null;
      setState({ kind: "idle" });
    };
    xhr.send(file);
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (file) upload(file);
  }

  const busy = state.kind === "uploading";
  const percent = state.kind === "uploading" && state.total > 0 ? Math.min(100, Math.round((state.sent / state.total) * 100)) : 0;

  return (
    <>
      <PageHeader title="Load" description="Load images from a docker save archive (.tar or .tar.gz), like docker load." />

      <div
        data-testid="load-dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          if (!busy) setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => (busy ? e.preventDefault() : onDrop(e))}
        className={cn(
          "flex flex-col items-center justify-center gap-3 rounded-xl border-2 border-dashed px-6 py-14 text-center transition-colors",
          dragging ? "border-sky-500 bg-sky-50 dark:bg-sky-950/40" : "border-slate-300 bg-white dark:border-slate-700 dark:bg-slate-900",
        )}
      >
        <span aria-hidden className="text-3xl text-slate-400">
          ⇪
        </span>
        <p className="text-sm font-medium">Drop an image archive here</p>
        <p className="text-xs text-slate-500 dark:text-slate-400">or</p>
        <label htmlFor="load-file" className="sr-only">
          Choose an image archive
        </label>
        <input
          ref={inputRef}
          id="load-file"
          type="file"
          accept=".tar,.tar.gz,.tgz,application/x-tar,application/gzip"
          className="sr-only"
          data-testid="load-file-input"
          disabled={busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) upload(file);
            e.target.value = "";
          }}
        />
        <Guarded action="load">
          {(ok) => (
            <Button variant="primary" disabled={busy || !ok} onClick={() => inputRef.current?.click()} data-testid="load-choose">
              Choose file…
            </Button>
          )}
        </Guarded>
      </div>

      {rejected ? <ErrorState className="mt-4" title="Not an archive" message={rejected} /> : null}

      {state.kind === "uploading" ? (
        <Card className="mt-4" data-testid="load-progress">
          <div className="mb-2 flex items-center justify-between gap-3 text-sm">
            <span className="truncate font-medium">{state.file.name}</span>
            <span className="text-slate-500 tabular-nums dark:text-slate-400">
              {state.processing ? "Processing…" : `${formatBytes(state.sent)} / ${formatBytes(state.total)} (${percent}%)`}
            </span>
          </div>
          <div
            role="progressbar"
            aria-label="Upload progress"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
            className="h-2 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
          >
            <div
              className={cn("h-full rounded-full bg-sky-500 transition-[width]", state.processing && "animate-pulse")}
              style={{ width: `${percent}%` }}
            />
          </div>
          <div className="mt-3 flex justify-end">
            <Button size="sm" onClick={() => xhrRef.current?.abort()}>
              Cancel
            </Button>
          </div>
        </Card>
      ) : null}

      {state.kind === "done" ? (
        <Card className="mt-4" data-testid="load-result">
          <div className="mb-2 flex items-center justify-between gap-2">
            <p className="text-sm font-medium">Loaded {state.file.name}</p>
            <ButtonLink href="/" size="sm" variant="secondary">
              View images
            </ButtonLink>
          </div>
          {state.lines.length ? (
            <OutputLines lines={state.lines} testId="load-output" />
          ) : (
            <p className="text-sm text-slate-500">The archive held no images.</p>
          )}
        </Card>
      ) : null}

      {state.kind === "error" ? <ErrorState className="mt-4" title={`Could not load ${state.file.name}`} message={state.message} /> : null}
    </>
  );
}
