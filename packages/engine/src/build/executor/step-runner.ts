import { DockerfileError } from "../dockerfile/ast";
import type { RunStep, RunStepResult, StepRunner } from "./types";

/** The default StepRunner: Berth has no container runtime, so a RUN stops the build at its line. */
export const noRuntimeStepRunner: StepRunner = {
  run(step: RunStep): Promise<RunStepResult> {
    return Promise.reject(runNeedsRuntime(step.instruction.line, step.instruction.original));
  },
};

export function runNeedsRuntime(line: number, original: string): DockerfileError {
  return new DockerfileError(
    line,
    `RUN needs a container runtime, which Berth does not have: ${original} (build the image where docker runs, then push or load it, or drop the RUN step)`,
  );
}

/**
 * The classic builder's history text for RUN: the command as run, prefixed with the build args
 * in scope (`|2 A=1 B=2 /bin/sh -c make`), so that two builds with different args differ.
 */
export function runCreatedBy(argv: string[], args: [string, string][]): string {
  const prefix = args.length > 0 ? `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(" ")} ` : "";
  return prefix + argv.join(" ");
}
