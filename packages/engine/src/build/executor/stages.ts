import { DockerfileError, type Dockerfile, type Stage } from "../dockerfile/ast";
import { type ExpandEnv, expandWord } from "../dockerfile/expand";
import { flagValue } from "../dockerfile/flags";

export interface StagePlan {
  /** Stages to build, each after those it needs; stages the target does not need are left out (as BuildKit does). */
  order: Stage[];
  target: Stage;
}

/** The stage a FROM or `--from` names: by name (any case), or by index for `--from=N`. */
export function findStage(df: Dockerfile, ref: string, allowIndex: boolean): Stage | undefined {
  const lower = ref.toLowerCase();
  const byName = df.stages.find((s) => s.name === lower);
  if (byName) return byName;
  if (allowIndex && /^[0-9]+$/.test(ref)) return df.stages[Number(ref)];
  return undefined;
}

/** A FROM names an earlier stage, or an image. */
export function fromStage(df: Dockerfile, stage: Stage, globalEnv: ExpandEnv): Stage | undefined {
  const image = expandWord(stage.from.image, globalEnv, df.escape);
  const found = findStage(df, image, false);
  return found && found.index < stage.index ? found : undefined;
}

/**
 * Works out which stages `--target` needs (FROM an earlier stage, COPY --from a stage) and in
 * which order to build them. Missing targets, `--from=N` beyond the last stage and cycles are
 * DockerfileErrors naming the line.
 */
export function planStages(df: Dockerfile, target: string | undefined, globalEnv: ExpandEnv): StagePlan {
  let targetStage: Stage | undefined;
  if (target === undefined || target === "") targetStage = df.stages[df.stages.length - 1];
  else {
    targetStage = findStage(df, target, false);
    if (!targetStage) throw new DockerfileError(0, `target stage "${target}" could not be found`);
  }
  const stage = targetStage!;

  const deps = new Map<Stage, { stage: Stage; line: number }[]>();
  const depsOf = (s: Stage) => {
    let list = deps.get(s);
    if (list) return list;
    list = [];
    const base = fromStage(df, s, globalEnv);
    if (base) list.push({ stage: base, line: s.from.line });
    for (const instr of s.instructions) {
      if (instr.kind !== "COPY") continue;
      const raw = flagValue(instr.flags, "from");
      if (raw === undefined || raw === "") continue;
      const ref = expandWord(raw, globalEnv, df.escape);
      const found = findStage(df, ref, true);
      if (!found && /^[0-9]+$/.test(ref)) {
        throw new DockerfileError(
          instr.line,
          `COPY --from=${ref}: there is no stage ${ref} (stages are numbered from 0; this Dockerfile has ${df.stages.length})`,
        );
      }
      if (found) list.push({ stage: found, line: instr.line });
    }
    list.sort((a, b) => a.stage.index - b.stage.index);
    deps.set(s, list);
    return list;
  };

  const order: Stage[] = [];
  const state = new Map<Stage, "visiting" | "done">();
  const visit = (s: Stage) => {
    state.set(s, "visiting");
    for (const dep of depsOf(s)) {
      const st = state.get(dep.stage);
      if (st === "visiting")
        throw new DockerfileError(dep.line, `circular dependency detected on stage: ${dep.stage.name ?? dep.stage.index}`);
      if (st === undefined) visit(dep.stage);
    }
    state.set(s, "done");
    order.push(s);
  };
  visit(stage);
  return { order, target: stage };
}
