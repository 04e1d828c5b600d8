import { createTRPCClient, httpLink } from "@trpc/client";
import { transformer } from "../src/transformer";
import type { AppRouter } from "../src/root";

/** A typed client for the test server, acting with `token` like the CLI does. */
export function apiClient(url: string, token?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/api/trpc`,
        transformer,
        headers: () => ({ "x-berth-client": "cli", ...(token ? { authorization: `Bearer ${token}` } : {}) }),
      }),
    ],
  });
}

export async function uploadArchive(url: string, token: string, body: RequestInit["body"], source = "test.tar") {
  const res = await fetch(`${url}/api/images/load?source=${encodeURIComponent(source)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "x-berth-client": "cli" },
    body,
    duplex: "half",
  });
  return { status: res.status, body: (await res.json()) as { lines?: string[]; error?: string } };
}

export interface WatchedJob {
  state: string;
  progress: { lines: string[]; layers: { id: string; status: string; current?: number }[] };
  startedAt: string | null;
}

export interface WatchOptions {
  signal?: AbortSignal;
  until?: (job: WatchedJob) => boolean;
}

/** Opens `jobs.watch` as the browser's EventSource does and returns the stream's data events. */
export async function watchJob(url: string, token: string, id: string, opts: WatchOptions = {}): Promise<WatchedJob[]> {
  const input = encodeURIComponent(JSON.stringify({ id }));
  const res = await fetch(`${url}/api/trpc/jobs.watch?input=${input}`, {
    headers: { accept: "text/event-stream", authorization: `Bearer ${token}` },
    signal: opts.signal,
  });
  if (res.status !== 200 || !res.headers.get("content-type")?.startsWith("text/event-stream") || !res.body) {
    throw new Error(`jobs.watch answered ${res.status} ${res.headers.get("content-type") ?? ""}`);
  }
  const jobs: WatchedJob[] = [];
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of res.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const message = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const event = /^event: (.*)$/m.exec(message)?.[1];
      const data = /^data: (.*)$/m.exec(message)?.[1];
      if (event === "return") return jobs;
      if (!event && data) {
        const job = JSON.parse(data) as WatchedJob;
        jobs.push(job);
        if (opts.until?.(job)) return jobs;
      }
    }
  }
  return jobs;
}

/** Polls a job until it ends (bounded: 100 ms × `rounds`); returns its last state. */
export async function finishedJob(api: ReturnType<typeof apiClient>, id: string, rounds = 300) {
  for (let i = 0; i < rounds; i++) {
    const job = await api.jobs.get.query({ id });
    if (job.state !== "queued" && job.state !== "running") return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish in ${rounds / 10} s`);
}
