/** Browser calls to the plain HTTP auth endpoints. */

export async function postJson(url: string, body?: unknown): Promise<Response> {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    // Tells the audit log this came from the dashboard.
    headers: { "x-berth-client": "web", ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The `error` field of a JSON error body, else the status line. */
export async function responseError(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    const message = parsed.error ?? parsed.message;
    if (typeof message === "string" && message) return message;
  } catch {
    // not JSON
  }
  return text.trim() || `${res.status} ${res.statusText}`.trim();
}

export async function signOut(): Promise<void> {
  await postJson("/api/auth/sign-out").catch(() => undefined);
  window.location.assign("/sign-in");
}
