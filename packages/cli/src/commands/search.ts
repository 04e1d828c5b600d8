import { Option, type Command } from "commander";
import type { SearchRow } from "../api";
import { ellipsis, formatItems, formattingContext, type Column } from "../format";
import { write } from "../output";
import type { Runtime } from "../runtime";
import { act, filterOption, flagError, type Filters } from "./shared";

/** docker's search formatting context (cli/command/registry/formatter_search.go). */
export interface SearchContext {
  Description: string;
  IsAutomated: string;
  IsOfficial: string;
  Name: string;
  StarCount: string;
}

/** docker truncates descriptions to 45 characters; `[OK]` marks official and automated images. */
export function searchContext(row: SearchRow, opts: { noTrunc: boolean }): SearchContext {
  const description = row.description.replace(/[\r\n]/g, " ");
  const ok = (value: boolean) => (value ? "[OK]" : "");
  return formattingContext<SearchContext>(
    {
      Description: opts.noTrunc ? description : ellipsis(description, 45),
      IsAutomated: ok(row.isAutomated),
      IsOfficial: ok(row.isOfficial),
      Name: row.name,
      StarCount: String(row.starCount),
    },
    "*registry.searchContext",
  );
}

export const SEARCH_HEADERS: Record<keyof SearchContext, string> = {
  Description: "DESCRIPTION",
  IsAutomated: "AUTOMATED",
  IsOfficial: "OFFICIAL",
  Name: "NAME",
  StarCount: "STARS",
};

export interface SearchOptions {
  limit?: number;
  filter: Filters;
  noTrunc?: boolean;
  trunc?: boolean;
  format?: string;
}

export async function runSearch(rt: Runtime, term: string, opts: SearchOptions): Promise<void> {
  const api = await rt.api();
  const rows = await api.searchRemote({ term, filters: opts.filter, ...(opts.limit !== undefined ? { limit: opts.limit } : {}) });
  const noTrunc = opts.noTrunc === true || opts.trunc === false;
  const items = rows.map((row) => searchContext(row, { noTrunc }));
  const field = (f: keyof SearchContext): Column<SearchContext> => ({ field: f, header: SEARCH_HEADERS[f] });
  const columns = [field("Name"), field("Description"), field("StarCount"), field("IsOfficial")];
  write(rt.io.stdout, formatItems(opts.format, items, columns, SEARCH_HEADERS));
}

export function registerSearch(parent: Command, rt: Runtime): Command {
  const cmd = parent
    .command("search")
    .description("Search a registry for images (Docker Hub unless TERM starts with a registry host)")
    .usage("[OPTIONS] TERM")
    .argument("<TERM>")
    .option("--no-trunc", "Don't truncate output")
    .option("--format <string>", "Pretty-print search using a Go template");
  cmd.addOption(
    new Option("--limit <int>", "Max number of search results (1-100, default 25)").argParser((value: string) => {
      // pflag's int flag: Go's ParseInt wording for anything that is not a whole number.
      if (!/^[+-]?\d+$/.test(value.trim())) {
        throw flagError(cmd, `invalid argument "${value}" for "--limit" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
      }
      return Number(value);
    }),
  );
  filterOption(cmd);
  return cmd.action(act(rt, (term: string, opts: SearchOptions) => runSearch(rt, term, opts)));
}
