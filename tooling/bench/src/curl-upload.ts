/**
 * One blob uploaded the least a client can do it: a POST for an upload session, then curl's PUT
 * of the whole file with `?digest=`. Returns the seconds both took.
 */
export async function curlUpload(
  timeAsync: (cmd: string, args: string[]) => Promise<number>,
  target: { host: string; repository: string; file: string; digest: string; authorization?: string | undefined },
): Promise<number> {
  const headers: Record<string, string> = target.authorization ? { authorization: target.authorization } : {};
  const started = performance.now();
  const post = await fetch(`http://${target.host}/v2/${target.repository}/blobs/uploads/`, { method: "POST", headers });
  if (post.status !== 202) throw new Error(`${target.host}: starting an upload answered ${post.status}`);
  const location = new URL(post.headers.get("location") ?? "", `http://${target.host}`);
  location.searchParams.set("digest", target.digest);
  await timeAsync("curl", [
    "-sSf",
    "-X",
    "PUT",
    "-H",
    "content-type: application/octet-stream",
    ...(target.authorization ? ["-H", `authorization: ${target.authorization}`] : []),
    "-T",
    target.file,
    "-o",
    "/dev/null",
    location.toString(),
  ]);
  return (performance.now() - started) / 1000;
}
