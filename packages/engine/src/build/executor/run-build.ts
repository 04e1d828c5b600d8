import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";

import { InvalidArgumentError } from "../../errors";
import { type ImageConfig, parseConfig } from "../../image-model";
import type { ImageRecord, LayerRecord } from "../../metadata";
import { setTagChecked } from "../../images/tag-policy";
import { familiarString, normalizedName, parseReference, withDefaultTag } from "../../reference";
import { applyConfigInstruction, nopCreatedBy } from "../config-changes";
import { hasWildcard } from "../context/paths";
import { matchSources } from "../context/sources";
import {
  type ArgInstruction,
  type CommandInstruction,
  type CopyInstruction,
  type Dockerfile,
  DockerfileError,
  type Instruction,
  type Stage,
} from "../dockerfile/ast";
import { type ExpandEnv, expandWord } from "../dockerfile/expand";
import { flagValue } from "../dockerfile/flags";
import { parseDockerfile, parseInstructionLine } from "../dockerfile/parse";
import type { LayerEntry } from "../layer/entries";
import { writeLayer } from "../layer/layer-writer";
import { storeImage } from "../store-image";
import { assembleConfig, cacheKey, historyEntry, stageEnv, type StageState } from "./build-state";
import { chownNeedsNames, type IdFiles } from "./chown";
import { type CopyFrom, prepareCopy } from "./copy";
import { changesFromEntries, extractFiles, ImageFilesystem, type LayerChanges, scanLayer } from "./image-fs";
import { LayerPlan } from "./layer-plan";
import { findStage, fromStage, planStages } from "./stages";
import { noRuntimeStepRunner, runCreatedBy, runNeedsRuntime } from "./step-runner";
import type { BuildResult, RunBuildOptions } from "./types";

/** Largest Dockerfile read from the context. */
const MAX_DOCKERFILE_BYTES = 4 * 1024 * 1024;
/** Largest image config read back from the store. */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
/** Largest /etc/passwd or /etc/group read for --chown. */
const MAX_ID_FILE_BYTES = 4 * 1024 * 1024;
/**
 * Layer indexes kept between builds (keyed by blob digest), so a rebuild does not rescan its base
 * image: at most this many entries in all (~200 bytes each), least recently used dropped first.
 */
const LAYER_INDEX_CACHE = new Map<string, { changes: Promise<LayerChanges>; weight: number }>();
const LAYER_INDEX_CACHE_ENTRIES = 500_000;

/**
 * `docker build` without a daemon, with the classic builder's semantics and output: each step's
 * result is an image stored with its parent, steps are cached by parent + instruction + content
 * read, metadata steps are empty layers, COPY/ADD write gzip layers. RUN goes to the StepRunner
 * (the default one refuses). Tags are applied only once everything succeeded.
 */
export async function runBuild(options: RunBuildOptions): Promise<BuildResult> {
  const build = new Build(options);
  try {
    return await build.run();
  } catch (err) {
    // Errors name the Dockerfile as the user called it (`app.Dockerfile:3: …`).
    const file = options.dockerfilePath ? posix.basename(options.dockerfilePath) : "Dockerfile";
    if (err instanceof DockerfileError && err.file !== file) {
      const renamed = new DockerfileError(err.line, err.reason, file);
      (renamed as Error).cause = (err as Error).cause ?? err;
      throw renamed;
    }
    throw err;
  } finally {
    await build.cleanup();
  }
}

type StageBase =
  | { kind: "stage"; stage: Stage }
  | { kind: "scratch"; platform: string | undefined }
  | { kind: "image"; image: string; platform: string | undefined };

interface TagTarget {
  repository: string;
  tag: string;
  display: string;
}

class Build {
  private readonly out: (line: string) => void;
  private readonly runner;
  private readonly epoch: Date | undefined;
  private readonly states = new Map<number, StageState>();
  private readonly hashes = new Map<string, string>();
  private readonly images = new Map<string, Promise<ImageRecord>>();
  private readonly buildArgs: Map<string, string>;
  private readonly usedArgs = new Set<string>();
  private globals = new Map<string, string | undefined>();
  /** --platform, checked. */
  private platform: string | undefined;
  private df!: Dockerfile;
  private tmp: string | undefined;
  private step = 0;
  private total = 0;
  private cached = 0;
  /** True while ONBUILD triggers run. */
  private quiet = false;

  constructor(private readonly o: RunBuildOptions) {
    this.out = o.onOutput ?? (() => undefined);
    this.runner = o.runStep ?? noRuntimeStepRunner;
    if (o.sourceDateEpoch !== undefined) {
      if (!Number.isSafeInteger(o.sourceDateEpoch) || o.sourceDateEpoch < 0) {
        throw new InvalidArgumentError(`SOURCE_DATE_EPOCH must be a whole number of seconds, got ${o.sourceDateEpoch}`);
      }
      this.epoch = new Date(o.sourceDateEpoch * 1000);
    }
    this.buildArgs = new Map(Object.entries(o.buildArgs ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
  }

  async run(): Promise<BuildResult> {
    const tags = (this.o.tags ?? []).map(parseTag);
    const platform = this.o.platform === undefined ? undefined : checkPlatform(this.o.platform);
    this.platform = platform;
    const dockerfilePath = this.o.dockerfilePath ?? "Dockerfile";
    let text = this.o.dockerfile;
    if (text === undefined) {
      const raw = await this.o.context.readRaw(dockerfilePath, MAX_DOCKERFILE_BYTES);
      if (raw === undefined) throw new InvalidArgumentError(`Cannot locate specified Dockerfile: ${dockerfilePath}`);
      text = raw.toString("utf8");
    }
    this.df = parseDockerfile(text);
    this.globals = this.globalArgs(platform ?? hostPlatform());
    const globalEnv: ExpandEnv = (name) => this.globals.get(name);
    const plan = planStages(this.df, this.o.target, globalEnv);
    await this.preflight(plan.order, platform);

    const labels = Object.keys(this.o.labels ?? {}).sort();
    this.total = plan.order.reduce((n, s) => n + 1 + s.instructions.length, 0) + labels.length;
    for (const stage of plan.order) {
      const state = await this.fromStep(stage, platform);
      for (const instr of stage.instructions) {
        this.header(instr.original);
        await this.execute(state, instr, instr.line);
      }
      if (stage === plan.target) for (const key of labels) await this.labelStep(state, key, this.o.labels![key]!);
    }

    const final = this.states.get(plan.target.index)!;
    if (!final.imageId) throw new DockerfileError(0, "No image was generated. Is your Dockerfile empty?");
    const unused = [...this.buildArgs.keys()].filter((k) => !this.usedArgs.has(k) && !PREDEFINED_ARGS.has(k)).sort();
    if (unused.length > 0) this.out(`[Warning] One or more build-args [${unused.join(" ")}] were not consumed`);
    this.out(`Successfully built ${final.imageId.short}`);
    const imageId = final.imageId;
    const policy = this.o.tagPolicy;
    // All tags are judged before any moves, so a refused one leaves every tag as it was.
    if (policy) {
      for (const t of tags) {
        const current = await this.o.meta.getTag(t.repository, t.tag);
        if (current && !current.imageId.equals(imageId)) {
          await policy.checkTagChange({ repository: t.repository, tag: t.tag, from: current.imageId, to: imageId });
        }
      }
    }
    const now = new Date();
    for (const t of tags) {
      await setTagChecked({ meta: this.o.meta, repository: t.repository, tag: t.tag, imageId, policy });
      await this.o.meta.updateImage(imageId, { lastTagTime: now });
      this.out(`Successfully tagged ${t.display}`);
    }
    const image = (await this.o.meta.getImage(final.imageId))!;
    return {
      image,
      tags: tags.map((t) => t.display),
      steps: this.step,
      cachedSteps: this.cached,
      stages: plan.order.map((s) => {
        const built = { index: s.index, imageId: this.states.get(s.index)?.imageId ?? null };
        return s.name === undefined ? built : { ...built, name: s.name };
      }),
    };
  }

  async cleanup(): Promise<void> {
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
    this.tmp = undefined;
  }

  // ------------------------------------------------------------------ set-up --

  /** ARGs before the first FROM, with BuildKit's automatic platform args. */
  private globalArgs(platform: string): Map<string, string | undefined> {
    const [os = "linux", arch = "amd64", variant = ""] = platform.split("/");
    const host = hostPlatform();
    const [hostOs = "linux", hostArch = "amd64", hostVariant = ""] = host.split("/");
    const globals = new Map<string, string | undefined>([
      ["TARGETPLATFORM", platform],
      ["TARGETOS", os],
      ["TARGETARCH", arch],
      ["TARGETVARIANT", variant],
      ["BUILDPLATFORM", host],
      ["BUILDOS", hostOs],
      ["BUILDARCH", hostArch],
      ["BUILDVARIANT", hostVariant],
    ]);
    for (const instr of this.df.globalArgs) {
      for (const arg of instr.args) {
        this.usedArgs.add(arg.name);
        const given = this.buildArgs.get(arg.name);
        const value =
          given ?? (arg.defaultValue === undefined ? undefined : this.expand(arg.defaultValue, (n) => globals.get(n), instr.line));
        globals.set(arg.name, value);
      }
    }
    return globals;
  }

  /**
   * Checks what can be checked before anything is stored, so that bad input leaves no trace:
   * RUN without a runner, COPY/ADD sources without variables (outside the context, escaping
   * symlinks, missing files, URLs).
   */
  private async preflight(order: Stage[], platform: string | undefined): Promise<void> {
    for (const stage of order) {
      const base = this.baseOf(stage, platform);
      if (base.kind === "image") await this.baseImage(base.image, base.platform, stage.from.line, "FROM");
      for (const instr of stage.instructions) {
        if (instr.kind === "RUN" && this.runner === noRuntimeStepRunner) throw runNeedsRuntime(instr.line, instr.original);
        const fromRef = instr.kind === "COPY" ? flagValue(instr.flags, "from") : undefined;
        if (fromRef && !fromRef.includes("$") && !findStage(this.df, fromRef, true)) {
          // An image to copy from: resolved (pulled) now, so a missing one stops the build before any step.
          await this.baseImage(fromRef, this.stagePlatform(stage, platform), instr.line, `COPY --from=${fromRef}`, true);
        }
        if ((instr.kind === "COPY" || instr.kind === "ADD") && flagValue(instr.flags, "from") === undefined) {
          for (const source of instr.sources) {
            if (source.includes("$") || /^([a-z][a-z0-9+.-]*:\/\/|git@)/i.test(source)) continue;
            try {
              if (hasWildcard(source)) continue;
              await matchSources(this.o.context, source);
            } catch (err) {
              throw new DockerfileError(instr.line, `${instr.kind} failed: ${(err as Error).message}`);
            }
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ steps --

  private header(text: string): void {
    this.step++;
    this.out(`Step ${this.step}/${this.total} : ${text}`);
  }

  /** The platform a stage asked for (FROM --platform, else --platform): what `COPY --from=<image>` pulls. */
  private stagePlatform(stage: Stage, buildPlatform: string | undefined): string | undefined {
    const base = this.baseOf(stage, buildPlatform);
    return base.kind === "stage" ? this.stagePlatform(base.stage, buildPlatform) : base.platform;
  }

  /** What a stage starts from: an earlier stage, scratch, or an image (with the platform asked for it). */
  private baseOf(stage: Stage, buildPlatform: string | undefined): StageBase {
    const from = stage.from;
    const globalEnv: ExpandEnv = (name) => this.globals.get(name);
    const earlier = fromStage(this.df, stage, globalEnv);
    if (earlier) return { kind: "stage", stage: earlier };
    const image = this.expand(from.image, globalEnv, from.line);
    const platformFlag = flagValue(from.flags, "platform");
    const platform = platformFlag ? checkPlatform(this.expand(platformFlag, globalEnv, from.line), from.line) : buildPlatform;
    if (image === "") throw new DockerfileError(from.line, `FROM ${from.image}: the base image name is empty after variable expansion`);
    if (image.toLowerCase() === "scratch") return { kind: "scratch", platform };
    return { kind: "image", image, platform };
  }

  private async fromStep(stage: Stage, buildPlatform: string | undefined): Promise<StageState> {
    const from = stage.from;
    this.header(from.original);
    const base = this.baseOf(stage, buildPlatform);
    let state: StageState;
    if (base.kind === "stage") {
      const built = this.states.get(base.stage.index)!;
      state = { ...built, stage, args: new Map(), cmdSetInStage: false };
    } else if (base.kind === "scratch") {
      const p = base.platform ?? hostPlatform();
      state = { stage, config: scratchConfig(p), layers: [], imageId: null, platform: p, args: new Map(), cmdSetInStage: false };
    } else {
      const record = await this.baseImage(base.image, base.platform, from.line, "FROM");
      const config = await this.readConfig(record);
      state = {
        stage,
        config,
        layers: record.layers,
        imageId: record.id,
        platform: platformOf(config),
        args: new Map(),
        cmdSetInStage: false,
      };
    }
    this.states.set(stage.index, state);
    await this.triggers(state);
    // As the classic builder: the image the stage starts from, after its triggers (" ---> " alone for scratch).
    this.out(` ---> ${state.imageId?.short ?? ""}`);
    return state;
  }

  /** ONBUILD triggers of the base image run right after FROM, then are cleared (they do not pass to grandchildren). */
  private async triggers(state: StageState): Promise<void> {
    const triggers = state.config.config?.OnBuild ?? [];
    if (triggers.length === 0) return;
    const line = state.stage.from.line;
    this.out(`# Executing ${triggers.length} build trigger${triggers.length === 1 ? "" : "s"}`);
    state.config = { ...state.config, config: { ...state.config.config, OnBuild: null } };
    for (const text of triggers) {
      let instr: Instruction;
      try {
        instr = parseInstructionLine(text, line);
      } catch (err) {
        throw new DockerfileError(line, `ONBUILD trigger of the base image is invalid: ${text}: ${(err as Error).message}`);
      }
      if (instr.kind === "FROM" || instr.kind === "ONBUILD" || instr.kind === "MAINTAINER") {
        throw new DockerfileError(line, `${instr.kind} isn't allowed as an ONBUILD trigger`);
      }
      // Trigger steps print " ---> Using cache" when cached but no image IDs: FROM prints the last one.
      this.quiet = true;
      try {
        await this.execute(state, { ...instr, line, endLine: line }, line);
      } finally {
        this.quiet = false;
      }
    }
  }

  private async execute(state: StageState, instr: Instruction, line: number): Promise<void> {
    this.o.signal?.throwIfAborted();
    try {
      switch (instr.kind) {
        case "ARG":
          return await this.argStep(state, instr);
        case "RUN":
          return await this.runStep(state, instr);
        case "COPY":
        case "ADD":
          return await this.copyStep(state, instr);
        case "FROM":
          throw new DockerfileError(line, "FROM cannot be used here");
        default:
          return await this.configStep(state, instr);
      }
    } catch (err) {
      if (err instanceof DockerfileError || this.o.signal?.aborted) throw err;
      const wrapped = new DockerfileError(line, `${instr.kind} failed: ${(err as Error).message ?? String(err)}`);
      (wrapped as Error).cause = err;
      throw wrapped;
    }
  }

  private async configStep(state: StageState, instr: Instruction): Promise<void> {
    const result = applyConfigInstruction(state.config, instr, {
      env: stageEnv(state),
      escape: this.df.escape,
      cmdSetInStage: state.cmdSetInStage,
    });
    state.cmdSetInStage = result.cmdSetInStage;
    const key = this.key(state, instr.original, {
      createdBy: result.createdBy,
      config: result.config.config,
      author: result.config.author,
    });
    const produce =
      instr.kind === "WORKDIR"
        ? () => this.workdirEntries(state, result.config.config?.WorkingDir ?? "/")
        : () => Promise.resolve(undefined);
    await this.commit(state, key, result.config, result.createdBy, produce);
  }

  /** The classic builder makes WORKDIR's directory in a layer when the image lacks it; an existing one gives an empty layer. */
  private async workdirEntries(state: StageState, dir: string): Promise<LayerEntry[] | undefined> {
    const fs = await this.fsOf(state);
    const resolved = fs.resolve(dir);
    if (resolved.node?.type === "directory") return undefined;
    if (resolved.node) throw new Error(`cannot create the working directory ${dir}: it is a file in the image`);
    const mtime = this.time();
    const plan = new LayerPlan(fs, (path) => ({ type: "directory", path, mode: 0o755, uid: 0, gid: 0, mtime }));
    plan.ensureDir(resolved.path, { type: "directory", path: resolved.path, mode: 0o755, uid: 0, gid: 0, mtime });
    return plan.list();
  }

  private async argStep(state: StageState, instr: ArgInstruction): Promise<void> {
    const env = stageEnv(state);
    const values: [string, string | undefined][] = [];
    for (const arg of instr.args) {
      this.usedArgs.add(arg.name);
      const given = this.buildArgs.get(arg.name);
      const value = given ?? (arg.defaultValue !== undefined ? this.expand(arg.defaultValue, env, instr.line) : this.globals.get(arg.name));
      state.args.set(arg.name, value);
      values.push([arg.name, value]);
    }
    const text = instr.args.map((a) => (a.defaultValue === undefined ? a.name : `${a.name}=${a.defaultValue}`)).join(" ");
    const createdBy = nopCreatedBy(state.config, `ARG ${text}`);
    await this.commit(state, this.key(state, instr.original, { createdBy, values }), state.config, createdBy, () =>
      Promise.resolve(undefined),
    );
  }

  private async labelStep(state: StageState, key: string, value: string): Promise<void> {
    const text = `LABEL ${key}=${value}`;
    this.header(text);
    const runtime = state.config.config ?? {};
    const config: ImageConfig = { ...state.config, config: { ...runtime, Labels: { ...(runtime.Labels ?? {}), [key]: value } } };
    const createdBy = nopCreatedBy(state.config, text);
    await this.commit(state, this.key(state, text, { createdBy }), config, createdBy, () => Promise.resolve(undefined));
  }

  private async runStep(state: StageState, instr: CommandInstruction): Promise<void> {
    const runtime = state.config.config ?? {};
    const shell = runtime.Shell?.length ? runtime.Shell : ["/bin/sh", "-c"];
    const argv = instr.command.form === "exec" ? instr.command.args : [...shell, instr.command.command];
    const args = [...state.args].filter((e): e is [string, string] => e[1] !== undefined).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const createdBy = runCreatedBy(argv, args);
    const key = this.key(state, instr.original, { createdBy, env: runtime.Env, user: runtime.User, dir: runtime.WorkingDir });
    await this.commit(state, key, state.config, createdBy, async () => {
      const env = [...(runtime.Env ?? [])];
      for (const [k, v] of args) if (!env.some((e) => e.startsWith(`${k}=`))) env.push(`${k}=${v}`);
      const result = await this.runner.run({
        instruction: instr,
        argv,
        env,
        buildArgs: Object.fromEntries(args),
        user: runtime.User ?? "",
        workingDir: runtime.WorkingDir || "/",
        config: state.config,
        layers: state.layers,
        store: this.o.store,
        onOutput: this.out,
        ...(this.o.signal ? { signal: this.o.signal } : {}),
      });
      const entries: LayerEntry[] = [];
      for await (const entry of result.entries) entries.push(entry);
      return entries;
    });
  }

  private async copyStep(state: StageState, instr: CopyInstruction): Promise<void> {
    const env = stageEnv(state);
    const fromRef = flagValue(instr.flags, "from");
    let from: CopyFrom | undefined;
    let fromId: string | undefined;
    if (fromRef !== undefined && fromRef !== "") {
      if (instr.kind === "ADD") throw new DockerfileError(instr.line, "ADD does not take --from (use COPY --from)");
      const ref = this.expand(fromRef, (n) => env(n) ?? this.globals.get(n), instr.line);
      const stage = findStage(this.df, ref, true);
      if (stage) {
        if (stage === state.stage)
          throw new DockerfileError(instr.line, `circular dependency detected on stage: ${stage.name ?? stage.index}`);
        const source = this.states.get(stage.index);
        if (!source)
          throw new DockerfileError(instr.line, `COPY --from=${ref}: stage ${stage.name ?? stage.index} is not built before this step`);
        from = { label: `stage ${stage.name ?? stage.index}`, fs: await this.fsOf(source) };
        fromId = source.imageId?.toString() ?? `scratch:${source.platform}`;
      } else {
        const record = await this.baseImage(ref, this.stagePlatform(state.stage, this.platform), instr.line, `COPY --from=${ref}`, true);
        from = { label: `image ${ref}`, fs: await this.fsOfLayers(record.layers) };
        fromId = record.id.toString();
      }
    }
    const runtime = state.config.config ?? {};
    const prepared = await prepareCopy({
      instr,
      env,
      escape: this.df.escape,
      workingDir: runtime.WorkingDir || "/",
      context: this.o.context,
      ...(from ? { from } : {}),
      store: this.o.store,
      hashes: this.hashes,
      ...(this.o.signal ? { signal: this.o.signal } : {}),
    });
    const createdBy = nopCreatedBy(state.config, prepared.comment, true);
    const key = this.key(state, instr.original, { createdBy, digest: prepared.digest, fromId });
    const chown = flagValue(instr.flags, "chown");
    await this.commit(state, key, state.config, createdBy, async () =>
      prepared.entries({
        fs: await this.fsOf(state),
        idFiles: () => (chown && chownNeedsNames(chown) ? this.idFiles(state) : Promise.resolve({})),
        tmpDir: () => this.tmpDir(),
        stepTime: this.time(),
        clamp: (date) => this.clamp(date),
      }),
    );
  }

  /**
   * Ends a step: the cached image when the cache has the key and the image is still stored;
   * else the step's layer (if it made one) and its image, stored with the previous one as parent.
   */
  private async commit(
    state: StageState,
    key: string,
    config: ImageConfig,
    createdBy: string,
    produce: () => Promise<LayerEntry[] | undefined>,
  ): Promise<void> {
    const guard = this.o.guardWrites ?? ((fn) => fn());
    await guard(() => this.commitUnguarded(state, key, config, createdBy, produce));
  }

  private async commitUnguarded(
    state: StageState,
    key: string,
    config: ImageConfig,
    createdBy: string,
    produce: () => Promise<LayerEntry[] | undefined>,
  ): Promise<void> {
    if (!this.o.noCache) {
      const hit = await this.cachedImage(key);
      if (hit) {
        state.config = hit.config;
        state.layers = hit.record.layers;
        state.imageId = hit.record.id;
        state.fs = undefined;
        this.cached++;
        this.out(" ---> Using cache");
        if (!this.quiet) this.out(` ---> ${hit.record.id.short}`);
        return;
      }
    }
    const entries = await produce();
    let layers = state.layers;
    let layer: LayerRecord | undefined;
    if (entries && entries.length > 0) {
      // Every entry's source (context, spool, memory) can be opened in any order: read ahead.
      layer = await writeLayer(this.o.store, entries, { readAhead: true, ...(this.o.signal ? { signal: this.o.signal } : {}) });
      layers = [...layers, layer];
    }
    const created = this.time();
    const image = assembleConfig(config, config.config, layers, historyEntry(created, createdBy, layer === undefined), created);
    const record = await storeImage(this.o.store, this.o.meta, image, layers, { parentId: state.imageId });
    if (layer && state.fs) state.fs = state.fs.withLayer(changesFromEntries(entries!, layer));
    else if (layer) state.fs = undefined;
    state.config = image;
    state.layers = layers;
    state.imageId = record.id;
    await this.o.cache.put(key, record.id);
    if (!this.quiet) this.out(` ---> ${record.id.short}`);
  }

  /**
   * The cache key of a step. SOURCE_DATE_EPOCH is part of it: a build that asks for reproducible
   * times must not reuse an image stamped with another build's clock.
   */
  private key(state: StageState, original: string, details: unknown): string {
    return cacheKey(state, original, [details, this.o.sourceDateEpoch ?? null]);
  }

  private async cachedImage(key: string): Promise<{ record: ImageRecord; config: ImageConfig } | undefined> {
    const id = await this.o.cache.get(key);
    if (!id) return undefined;
    const record = await this.o.meta.getImage(id);
    if (!record || !(await this.o.store.has(id))) return undefined;
    for (const layer of record.layers) if (!(await this.o.store.has(layer.blob))) return undefined;
    return { record, config: await this.readConfig(record) };
  }

  // ------------------------------------------------------------------ helpers --

  private async baseImage(ref: string, platform: string | undefined, line: number, what: string, stageHint = false): Promise<ImageRecord> {
    const key = `${ref}\0${platform ?? ""}`;
    let pending = this.images.get(key);
    if (!pending) {
      pending = this.o.resolveBaseImage(ref, platform, this.o.signal);
      this.images.set(key, pending);
    }
    try {
      return await pending;
    } catch (err) {
      if (this.o.signal?.aborted) throw err;
      const hint = stageHint ? ` (there is no stage named "${ref}" either)` : "";
      const wrapped = new DockerfileError(line, `${what}: base image ${ref} could not be found${hint}: ${(err as Error).message}`);
      (wrapped as Error).cause = err;
      throw wrapped;
    }
  }

  private async readConfig(record: ImageRecord): Promise<ImageConfig> {
    return parseConfig(await this.o.store.read(record.id, MAX_CONFIG_BYTES), `config of image ${record.id.short}`);
  }

  private async fsOf(state: StageState): Promise<ImageFilesystem> {
    state.fs ??= await this.fsOfLayers(state.layers);
    return state.fs;
  }

  private async fsOfLayers(layers: LayerRecord[]): Promise<ImageFilesystem> {
    const changes = await Promise.all(layers.map((l) => this.layerChanges(l)));
    this.o.signal?.throwIfAborted();
    return ImageFilesystem.fromChanges(changes);
  }

  private layerChanges(layer: LayerRecord): Promise<LayerChanges> {
    const key = layer.blob.hex;
    const cached = LAYER_INDEX_CACHE.get(key);
    if (cached) {
      // Most recently used last.
      LAYER_INDEX_CACHE.delete(key);
      LAYER_INDEX_CACHE.set(key, cached);
      return cached.changes;
    }
    // Not cancelled with this build: another build may be waiting for the same scan.
    const slot = { changes: scanLayer(this.o.store, layer), weight: 0 };
    LAYER_INDEX_CACHE.set(key, slot);
    slot.changes.then(
      (changes) => {
        slot.weight = changes.entries.length + changes.whiteouts.length + changes.opaque.length;
        let total = 0;
        for (const s of LAYER_INDEX_CACHE.values()) total += s.weight;
        for (const [k, s] of LAYER_INDEX_CACHE) {
          if (total <= LAYER_INDEX_CACHE_ENTRIES) break;
          LAYER_INDEX_CACHE.delete(k);
          total -= s.weight;
        }
      },
      () => LAYER_INDEX_CACHE.delete(key),
    );
    return slot.changes;
  }

  /** /etc/passwd and /etc/group of the stage's image, for --chown names. */
  private async idFiles(state: StageState): Promise<IdFiles> {
    const fs = await this.fsOf(state);
    const files: IdFiles = {};
    for (const [field, path] of [
      ["passwd", "etc/passwd"],
      ["group", "etc/group"],
    ] as const) {
      const node = fs.resolve(path).node;
      if (node?.type !== "file") continue;
      if (node.size > MAX_ID_FILE_BYTES) throw new Error(`/${path} is too large (${node.size} bytes)`);
      const spooled = await extractFiles(this.o.store, [node], await this.tmpDir(), this.o.signal);
      const where = spooled.get(node)!;
      files[field] = (typeof where === "string" ? await readFile(where) : where).toString("utf8");
    }
    return files;
  }

  private async tmpDir(): Promise<string> {
    this.tmp ??= await mkdtemp(join(this.o.tmpDir ?? tmpdir(), "berth-build-"));
    return this.tmp;
  }

  private expand(word: string, env: ExpandEnv, line: number): string {
    try {
      return expandWord(word, env, this.df.escape);
    } catch (err) {
      throw new DockerfileError(line, (err as Error).message);
    }
  }

  /** The step's time: SOURCE_DATE_EPOCH when given, else now. */
  private time(): Date {
    return this.epoch ?? new Date();
  }

  /** File mtimes are clamped to SOURCE_DATE_EPOCH (BuildKit's rewrite-timestamp), so a fresh checkout builds the same image. */
  private clamp(date: Date): Date {
    return this.epoch && date.getTime() > this.epoch.getTime() ? this.epoch : date;
  }
}

/** docker's predefined proxy args, BuildKit's SOURCE_DATE_EPOCH and platform args: never reported as unused. */
const PREDEFINED_ARGS = new Set([
  ...["HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"].flatMap((name) => [name, name.toLowerCase()]),
  "SOURCE_DATE_EPOCH",
  ...["PLATFORM", "OS", "ARCH", "VARIANT"].flatMap((p) => [`TARGET${p}`, `BUILD${p}`]),
]);

function parseTag(text: string): TagTarget {
  const ref = parseReference(text);
  if (ref.digest) throw new InvalidArgumentError(`invalid tag ${JSON.stringify(text)}: a tag cannot name a digest`);
  const tagged = withDefaultTag(ref);
  return { repository: normalizedName(tagged), tag: tagged.tag ?? "latest", display: familiarString(tagged) };
}

const PLATFORM = /^[a-z0-9_]+\/[a-z0-9_]+(\/[a-z0-9_]+)?$/;

function checkPlatform(platform: string, line?: number): string {
  const p = platform.toLowerCase();
  if (!PLATFORM.test(p)) {
    const message = `invalid platform ${JSON.stringify(platform)}: expected os/arch[/variant], e.g. linux/arm64`;
    throw line === undefined ? new InvalidArgumentError(message) : new DockerfileError(line, message);
  }
  return p;
}

function hostPlatform(): string {
  const arch = { x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", ia32: "386" }[
    process.arch as string
  ];
  return `linux/${arch ?? "amd64"}`;
}

function platformOf(config: ImageConfig): string {
  return [config.os, config.architecture, config.variant].filter((p) => p).join("/");
}

/** `FROM scratch`: an image with no layers and nothing set, for the platform asked. */
function scratchConfig(platform: string): ImageConfig {
  const [os = "linux", architecture = "amd64", variant] = platform.split("/");
  const config: ImageConfig = { architecture, os, rootfs: { type: "layers", diff_ids: [] } };
  if (variant) config.variant = variant;
  return config;
}
