"use client";

import { useQuery } from "@tanstack/react-query";
import { CopyButton, Table, TBody, Td, Th, THead, Tr } from "~/components/ui";
import { formatBytes, formatRelative, shortId } from "~/lib/format";
import { useTRPC } from "~/trpc/react";

/** Known artifact types, named as people know them; others are shown as they are. */
const KINDS: [RegExp, string][] = [
  [/cosign|sigstore|signature|\.sig/i, "Signature"],
  [/spdx|cyclonedx|sbom/i, "SBOM"],
  [/in-toto|attestation|provenance/i, "Attestation"],
  [/helm/i, "Helm chart"],
];

const kindOf = (type: string) => KINDS.find(([re]) => re.test(type))?.[1] ?? "Artifact";

/**
 * Signatures, SBOMs and other artifacts pushed to Berth's registry API with this image as their
 * subject (what `cosign`, `oras attach` and build tools push). Shown only when there are some.
 */
export function ImageAttachments({ imageRef }: { imageRef: string }) {
  const trpc = useTRPC();
  const attachments = useQuery(trpc.images.attachments.queryOptions({ ref: imageRef }));
  const rows = attachments.data ?? [];
  if (rows.length === 0) return null;
  return (
    <section className="mt-6" aria-labelledby="image-attachments-heading">
      <h2 id="image-attachments-heading" className="mb-2 text-sm font-semibold">
        Attached artifacts <span className="font-normal text-slate-500">pushed with this image as their subject</span>
      </h2>
      <Table data-testid="image-attachments">
        <THead>
          <tr>
            <Th>Kind</Th>
            <Th>Repository</Th>
            <Th>Digest</Th>
            <Th className="text-right">Size</Th>
            <Th>Pushed</Th>
          </tr>
        </THead>
        <TBody>
          {rows.map((a) => (
            <Tr key={`${a.repository}@${a.digest}`}>
              <Td>
                <div className="font-medium">{kindOf(a.artifactType)}</div>
                <div className="font-mono text-xs break-all text-slate-500 dark:text-slate-400">{a.artifactType}</div>
              </Td>
              <Td className="break-all">
                {a.repository}
                {a.tags.length ? <span className="text-slate-500 dark:text-slate-400">:{a.tags.join(", ")}</span> : null}
              </Td>
              <Td className="font-mono text-xs whitespace-nowrap">
                <span title={a.digest}>{shortId(a.digest)}</span> <CopyButton text={a.digest} label="Copy" />
              </Td>
              <Td className="text-right tabular-nums">{formatBytes(a.size)}</Td>
              <Td className="whitespace-nowrap" title={new Date(a.pushedAt).toISOString()}>
                {formatRelative(a.pushedAt)}
              </Td>
            </Tr>
          ))}
        </TBody>
      </Table>
    </section>
  );
}
