import { Badge, Button, Table, TBody, Td, Th, THead, Tr, ActionsTh } from "~/components/ui";
import { formatDateTime, formatLastUse, formatRelative } from "~/lib/format";
import type { TokenRow } from "~/lib/models";

const STATE_TONE = { active: "success", expired: "warning", revoked: "danger" } as const satisfies Record<TokenRow["state"], string>;

function Scope({ token }: { token: TokenRow }) {
  if (token.kind === "personal") return <span className="text-slate-500 dark:text-slate-400">acts as {token.owner}</span>;
  return (
    <div className="space-y-0.5 text-xs" data-testid="token-scope">
      <div>
        <span className="text-slate-500 dark:text-slate-400">in </span>
        <span className="font-mono">{token.namespaces.join(", ")}</span>
      </div>
      <div>
        <span className="text-slate-500 dark:text-slate-400">may </span>
        {token.actions.join(", ")}
      </div>
    </div>
  );
}

/** Tokens with their kind, scope, last use, expiry and state; Revoke for live ones. */
export function TokenTable({
  tokens,
  showOwner,
  onRevoke,
}: {
  tokens: TokenRow[];
  showOwner: boolean;
  onRevoke: (token: TokenRow) => void;
}) {
  return (
    <Table data-testid="tokens-table">
      <THead>
        <tr>
          <Th>Name</Th>
          <Th>Kind</Th>
          {showOwner ? <Th>Owner</Th> : null}
          <Th>Scope</Th>
          <Th>Prefix</Th>
          <Th>Created</Th>
          <Th>Last used</Th>
          <Th>Expires</Th>
          <Th>State</Th>
          <ActionsTh />
        </tr>
      </THead>
      <TBody>
        {tokens.map((t) => (
          <Tr key={t.id} data-testid="token-row" data-name={t.name} data-kind={t.kind} data-state={t.state}>
            <Td className="font-medium">{t.name}</Td>
            <Td>
              <Badge tone={t.kind === "robot" ? "info" : "neutral"}>{t.kind}</Badge>
            </Td>
            {showOwner ? <Td>{t.owner}</Td> : null}
            <Td>
              <Scope token={t} />
            </Td>
            <Td className="font-mono text-xs">{t.tokenPrefix ? `${t.tokenPrefix}…` : "—"}</Td>
            <Td className="whitespace-nowrap" title={formatDateTime(t.createdAt)}>
              {formatRelative(t.createdAt)}
            </Td>
            <Td className="whitespace-nowrap" title={formatDateTime(t.lastUsedAt)} data-testid="token-last-used">
              {formatLastUse(t.lastUsedAt)}
            </Td>
            <Td className="whitespace-nowrap" title={formatDateTime(t.expiresAt)}>
              {t.expiresAt ? formatRelative(t.expiresAt) : "never"}
            </Td>
            <Td>
              <Badge tone={STATE_TONE[t.state]}>{t.state}</Badge>
            </Td>
            <Td className="text-right">
              {t.state === "revoked" ? null : (
                <Button size="sm" variant="danger" onClick={() => onRevoke(t)} data-testid="token-revoke">
                  Revoke
                </Button>
              )}
            </Td>
          </Tr>
        ))}
      </TBody>
    </Table>
  );
}
