import { describe, expect, it } from "vitest";

import { DockerfileError, type Instruction } from "../src/build/dockerfile/ast";
import { parseDockerfile, parseInstructionLine } from "../src/build/dockerfile/parse";

/** The instructions of the only stage. */
function body(text: string): Instruction[] {
  return parseDockerfile(`FROM scratch\n${text}`).stages[0]!.instructions;
}

function one(text: string): Instruction {
  const list = body(text);
  expect(list).toHaveLength(1);
  return list[0]!;
}

function parseError(text: string): DockerfileError {
  try {
    parseDockerfile(text);
  } catch (err) {
    expect(err).toBeInstanceOf(DockerfileError);
    return err as DockerfileError;
  }
  throw new Error("expected a DockerfileError");
}

describe("parseDockerfile: structure", () => {
  it("parses stages, global ARGs, lines and original text", () => {
    const df = parseDockerfile(
      [
        "# a comment",
        "ARG BASE=alpine:3.20",
        "",
        "from $BASE AS Build",
        "run make",
        "FROM --platform=linux/arm64 scratch",
        "COPY --from=build /out /",
      ].join("\n"),
    );
    expect(df.escape).toBe("\\");
    expect(df.directives).toEqual({});
    expect(df.globalArgs).toHaveLength(1);
    expect(df.globalArgs[0]).toMatchObject({ kind: "ARG", line: 2, args: [{ name: "BASE", defaultValue: "alpine:3.20" }] });
    expect(df.stages).toHaveLength(2);
    const [build, final] = df.stages;
    expect(build).toMatchObject({ index: 0, name: "build", from: { kind: "FROM", image: "$BASE", stageName: "build", line: 4 } });
    expect(build!.instructions).toEqual([
      { kind: "RUN", line: 5, endLine: 5, original: "run make", flags: [], command: { form: "shell", command: "make" }, heredocs: [] },
    ]);
    expect(final!.name).toBeUndefined();
    expect(final!.from.flags).toEqual([{ name: "platform", value: "linux/arm64" }]);
    expect(final!.instructions[0]).toMatchObject({ kind: "COPY", sources: ["/out"], dest: "/", flags: [{ name: "from", value: "build" }] });
  });

  it("takes tabs as separators and keeps tabs of continuation lines (as BuildKit's parser testfiles)", () => {
    const text = [
      "FROM\tdebian:12",
      "LABEL\tmaintainer\tJane Doe <jane@example.com> (@jane)",
      "RUN\tapt-get update && apt-get install -y \\",
      "\tcurl \\",
      "\tgit",
      "ENV\tTARGETS\t\\",
      "\tlinux/amd64 linux/arm64 \\",
      "\tdarwin/arm64",
      'ENTRYPOINT\t["hack/run"]',
      "COPY\t.\t/src",
    ].join("\n");
    expect(parseDockerfile(text).stages[0]!.instructions).toMatchObject([
      { kind: "LABEL", pairs: [{ key: "maintainer", value: "Jane Doe <jane@example.com> (@jane)" }] },
      { kind: "RUN", command: { form: "shell", command: "apt-get update && apt-get install -y \tcurl \tgit" }, line: 3, endLine: 5 },
      { kind: "ENV", pairs: [{ key: "TARGETS", value: "linux/amd64 linux/arm64 \tdarwin/arm64" }] },
      { kind: "ENTRYPOINT", command: { form: "exec", args: ["hack/run"] } },
      { kind: "COPY", sources: ["."], dest: "/src" },
    ]);
  });

  it("reads parser directives at the top only", () => {
    const df = parseDockerfile("# syntax=docker/dockerfile:1\n#check=skip=all\n# escape=`\nFROM scratch\n");
    expect(df.directives).toEqual({ syntax: "docker/dockerfile:1", check: "skip=all", escape: "`" });
    expect(df.escape).toBe("`");
    // After a blank line, a comment or an instruction, `# escape=` is only a comment.
    expect(parseDockerfile("\n# escape=`\nFROM scratch").escape).toBe("\\");
    expect(parseDockerfile("# hello\n# escape=`\nFROM scratch").escape).toBe("\\");
    expect(parseDockerfile("FROM scratch\n# escape=`").directives).toEqual({});
  });

  it("rejects a bad or repeated directive", () => {
    expect(parseError("# escape=x\nFROM scratch")).toMatchObject({ line: 1, reason: "invalid escape token 'x' does not match ` or \\" });
    expect(parseError("# escape=`\n# escape=\\\nFROM scratch")).toMatchObject({
      line: 2,
      reason: "only one escape parser directive can be used",
    });
  });

  it("joins continuation lines, skipping comments and blank lines inside them", () => {
    const text = ["FROM scratch", "RUN apk add \\", "    # a comment inside", "", "    curl \\  ", "  git", "USER app"].join("\n");
    const [run, user] = parseDockerfile(text).stages[0]!.instructions;
    expect(run).toMatchObject({ kind: "RUN", line: 2, endLine: 6, command: { form: "shell", command: "apk add     curl   git" } });
    expect(run!.original).toBe("RUN apk add     curl   git");
    expect(user).toMatchObject({ kind: "USER", line: 7, words: ["app"] });
    // Docker warns about the blank line inside the continuation.
    expect(parseDockerfile(text).warnings).toEqual([
      "[WARNING]: Empty continuation line found in:\n    RUN apk add     curl   git",
      "[WARNING]: Empty continuation lines will become errors in a future release.",
    ]);
    expect(parseDockerfile("FROM a\nRUN x \\\n  y").warnings).toBeUndefined();
  });

  it("continuation edge cases: at the end of the file, after a comment, escaped backslash", () => {
    expect(body("RUN echo hi \\")[0]).toMatchObject({ command: { command: "echo hi" }, endLine: 2 });
    expect(body("RUN a \\\n# only a comment left")[0]).toMatchObject({ command: { command: "a" }, endLine: 3 });
    // A comment line ending in the escape character does not continue.
    expect(body("# note \\\nUSER x")[0]).toMatchObject({ kind: "USER", line: 3 });
    // As in docker, any trailing escape continues the line, even after another one.
    expect(body("RUN echo \\\\\nUSER x")).toHaveLength(1);
    expect(body("RUN echo a\r\nUSER x\r\n")[1]).toMatchObject({ kind: "USER", words: ["x"] });
  });

  it("uses the backtick from the escape directive for continuations", () => {
    const text = ["# escape=`", "FROM scratch", "RUN dir c:\\ `", "    && echo done", "WORKDIR c:\\app"].join("\r\n");
    const [run, workdir] = parseDockerfile(text).stages[0]!.instructions;
    expect(run).toMatchObject({ line: 3, endLine: 4, command: { form: "shell", command: "dir c:\\     && echo done" } });
    expect(workdir).toMatchObject({ kind: "WORKDIR", words: ["c:\\app"] });
  });

  it("keeps a backslash at the end of a line literal when the escape is a backtick", () => {
    const [run] = parseDockerfile("# escape=`\nFROM scratch\nRUN echo c:\\\nUSER x").stages[0]!.instructions;
    expect(run).toMatchObject({ command: { form: "shell", command: "echo c:\\" }, endLine: 3 });
  });

  it("ignores a UTF-8 byte order mark and keywords are case-insensitive", () => {
    const df = parseDockerfile("\uFEFFfRoM scratch\nEnV A=b");
    expect(df.stages[0]!.instructions[0]).toMatchObject({ kind: "ENV", pairs: [{ key: "A", value: "b" }] });
  });

  it("reports the line of errors", () => {
    expect(parseError("FROM scratch\n\nFOO bar")).toMatchObject({ line: 3, reason: "unknown instruction: FOO" });
    expect(parseError("FROM scratch\nfoo bar").message).toBe("Dockerfile:2: unknown instruction: foo");
    expect(parseError("ARG A\nRUN x")).toMatchObject({ line: 2 });
    expect(parseError("ARG A\nRUN x").reason).toContain("no build stage in current context");
    expect(parseError("")).toMatchObject({ line: 0, reason: "the Dockerfile has no instructions" });
    expect(parseError("# only\n\n  # comments\n")).toMatchObject({ line: 0, reason: "the Dockerfile has no instructions" });
    expect(parseError("ARG A=1").reason).toContain("no FROM");
    expect(parseError("FROM a AS x\nFROM b as X")).toMatchObject({ line: 2, reason: 'duplicate stage name "x" (first used on line 1)' });
    expect(parseError("FROM a AS 1x").reason).toContain("invalid name for build stage");
    expect(parseError("FROM a AS b$c").reason).toContain("invalid name for build stage");
    expect(parseError("FROM a b").reason).toContain("FROM requires either one or three arguments");
    expect(parseError("FROM").reason).toContain("FROM requires either one or three arguments");
  });

  it("names the file in messages when told", () => {
    expect(() => parseDockerfile("FROM a\nNOPE", "docker/Dockerfile.prod")).toThrow("docker/Dockerfile.prod:2: unknown instruction: NOPE");
  });

  it("reports missing arguments", () => {
    const cases: [string, string][] = [
      ["RUN", "RUN requires at least one argument"],
      ["CMD", "CMD requires at least one argument"],
      ["ENTRYPOINT", "ENTRYPOINT requires at least one argument"],
      ["ENV", "ENV requires at least one argument"],
      ["ENV A", "ENV must have two arguments"],
      ["LABEL", "LABEL requires at least one argument"],
      ["ARG", "ARG requires at least one argument"],
      ["WORKDIR", "WORKDIR requires exactly one argument"],
      ["USER", "USER requires exactly one argument"],
      ["STOPSIGNAL", "STOPSIGNAL requires exactly one argument"],
      ["MAINTAINER", "MAINTAINER requires exactly one argument"],
      ["EXPOSE", "EXPOSE requires at least one argument"],
      ["VOLUME", "VOLUME requires at least one argument"],
      ['VOLUME [""]', "VOLUME specified can not be an empty string"],
      ["COPY", "COPY requires at least two arguments"],
      ["ADD a", "ADD requires at least two arguments, but only one was provided. Destination could not be determined."],
      ["SHELL", "SHELL requires at least one argument"],
      ["SHELL []", "SHELL requires at least one argument"],
      ["HEALTHCHECK", "HEALTHCHECK requires at least one argument"],
      ["ONBUILD", "ONBUILD requires at least one argument"],
    ];
    for (const [line, reason] of cases) expect(parseError(`FROM scratch\n${line}`), line).toMatchObject({ line: 2, reason });
  });
});

describe("parseDockerfile: instructions", () => {
  it("RUN, CMD, ENTRYPOINT: exec form, shell form, invalid JSON as shell form", () => {
    expect(one('RUN ["echo", "hi there"]')).toMatchObject({ command: { form: "exec", args: ["echo", "hi there"] } });
    expect(one("CMD echo $HOME")).toMatchObject({ kind: "CMD", command: { form: "shell", command: "echo $HOME" } });
    expect(one("CMD []")).toMatchObject({ command: { form: "exec", args: [] } });
    expect(one("ENTRYPOINT ['bad', 'json']")).toMatchObject({ command: { form: "shell", command: "['bad', 'json']" } });
    expect(one('CMD ["a", "b"] trailing')).toMatchObject({ command: { form: "shell", command: '["a", "b"] trailing' } });
    expect(parseError('FROM scratch\nCMD ["a", 1]')).toMatchObject({
      line: 2,
      reason: "when using JSON array syntax, arrays must be comprised of strings only",
    });
  });

  it("RUN flags", () => {
    expect(one("RUN --mount=type=cache,target=/root/.cache --network=none make")).toMatchObject({
      flags: [
        { name: "mount", value: "type=cache,target=/root/.cache" },
        { name: "network", value: "none" },
      ],
      command: { form: "shell", command: "make" },
    });
    expect(one('RUN --mount="type=secret,id=a b" -- --not-a-flag')).toMatchObject({
      flags: [{ name: "mount", value: "type=secret,id=a b" }],
      command: { form: "shell", command: "--not-a-flag" },
    });
  });

  it("rejects unknown, duplicate and malformed flags, naming them", () => {
    expect(parseError("FROM scratch\nCOPY --form=build a b").reason).toMatch(/^unknown flag: --form \(COPY accepts --from, /);
    expect(parseError("FROM scratch\nENV --x=1 A=b").reason).toBe("unknown flag: --x (ENV takes no flags)");
    expect(parseError("FROM scratch\nCOPY --from=a --from=b x y").reason).toBe("duplicate flag specified: --from");
    expect(parseError("FROM scratch\nCOPY --from x y").reason).toBe("missing a value on flag: --from");
    expect(parseError("FROM scratch\nCOPY --link=maybe x y").reason).toBe("expecting boolean value for flag --link, not: maybe");
    expect(parseError("FROM --foo=bar scratch")).toMatchObject({ line: 1, reason: "unknown flag: --foo (FROM accepts --platform)" });
  });

  it("COPY and ADD: sources, dest, JSON form, flags", () => {
    expect(one("COPY --chown=1000:1000 --chmod=755 --link a b /dst/")).toMatchObject({
      kind: "COPY",
      sources: ["a", "b"],
      dest: "/dst/",
      flags: [
        { name: "chown", value: "1000:1000" },
        { name: "chmod", value: "755" },
        { name: "link", value: null },
      ],
    });
    expect(one('ADD ["a file", "/d i r/"]')).toMatchObject({ kind: "ADD", sources: ["a file"], dest: "/d i r/" });
    expect(one("ADD --checksum=sha256:abc https://x/y.tgz /")).toMatchObject({
      sources: ["https://x/y.tgz"],
      flags: [{ name: "checksum" }],
    });
  });

  it("ENV and LABEL: key=value pairs with quotes, and the legacy form", () => {
    expect(one("ENV A=1 B=\"two words\" C=three\\ words D='$x'")).toMatchObject({
      pairs: [
        { key: "A", value: "1" },
        { key: "B", value: '"two words"' },
        { key: "C", value: "three\\ words" },
        { key: "D", value: "'$x'" },
      ],
    });
    expect(one("ENV PATH /usr/local/bin:$PATH  and more")).toMatchObject({
      pairs: [{ key: "PATH", value: "/usr/local/bin:$PATH  and more" }],
    });
    expect(one('LABEL "com.example.vendor"="ACME Inc" version=1.0 empty=')).toMatchObject({
      kind: "LABEL",
      pairs: [
        { key: '"com.example.vendor"', value: '"ACME Inc"' },
        { key: "version", value: "1.0" },
        { key: "empty", value: "" },
      ],
    });
    expect(one("ENV A=1 \\\n    B=2")).toMatchObject({ pairs: [{ key: "A" }, { key: "B" }], endLine: 3 });
    expect(parseError("FROM scratch\nENV A=1 B").reason).toBe(`Syntax error - can't find = in "B". Must be of the form: name=value`);
    expect(parseError("FROM scratch\nLABEL =x").reason).toBe("LABEL names can not be blank");
  });

  it("ARG: several per line, with and without defaults", () => {
    expect(one('ARG A B=2 C="x y"')).toMatchObject({
      args: [{ name: "A" }, { name: "B", defaultValue: "2" }, { name: "C", defaultValue: '"x y"' }],
    });
    expect((one("ARG A") as { args: object[] }).args[0]).not.toHaveProperty("defaultValue");
    expect(one("ARG E=")).toMatchObject({ args: [{ name: "E", defaultValue: "" }] });
  });

  it("one-word instructions keep the rest of the line", () => {
    expect(one("WORKDIR /path with/spaces")).toMatchObject({ kind: "WORKDIR", words: ["/path with/spaces"] });
    expect(one("USER 1000:1000")).toMatchObject({ kind: "USER", words: ["1000:1000"] });
    expect(one("STOPSIGNAL SIGQUIT")).toMatchObject({ kind: "STOPSIGNAL", words: ["SIGQUIT"] });
    expect(one("MAINTAINER Jane Doe <jane@example.com>")).toMatchObject({ kind: "MAINTAINER", words: ["Jane Doe <jane@example.com>"] });
  });

  it("EXPOSE and VOLUME words", () => {
    expect(one("EXPOSE 80 443/tcp  53/udp $PORT")).toMatchObject({ words: ["80", "443/tcp", "53/udp", "$PORT"] });
    expect(one("VOLUME /data /logs")).toMatchObject({ kind: "VOLUME", words: ["/data", "/logs"] });
    expect(one('VOLUME ["/data", "/my logs"]')).toMatchObject({ words: ["/data", "/my logs"] });
  });

  it("SHELL needs JSON", () => {
    expect(one('SHELL ["/bin/bash", "-o", "pipefail", "-c"]')).toMatchObject({
      kind: "SHELL",
      args: ["/bin/bash", "-o", "pipefail", "-c"],
    });
    expect(parseError("FROM scratch\nSHELL /bin/bash -c")).toMatchObject({
      line: 2,
      reason: "SHELL requires the arguments to be in JSON form",
    });
  });

  it("HEALTHCHECK: NONE, CMD in both forms, flags checked", () => {
    expect(one("HEALTHCHECK NONE")).toMatchObject({ kind: "HEALTHCHECK", command: null });
    expect(one("healthcheck none")).toMatchObject({ command: null });
    expect(
      one("HEALTHCHECK --interval=30s --timeout=3s --start-period=1m --start-interval=2s --retries=3 CMD curl -f http://localhost/"),
    ).toMatchObject({
      command: { form: "shell", command: "curl -f http://localhost/" },
      flags: [
        { name: "interval", value: "30s" },
        { name: "timeout", value: "3s" },
        { name: "start-period", value: "1m" },
        { name: "start-interval", value: "2s" },
        { name: "retries", value: "3" },
      ],
    });
    expect(one('HEALTHCHECK CMD ["/bin/check", "-q"]')).toMatchObject({ command: { form: "exec", args: ["/bin/check", "-q"] } });
    const errors: [string, string][] = [
      ["HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments"],
      ["HEALTHCHECK RUN x", 'Unknown type "RUN" in HEALTHCHECK (try CMD)'],
      ["HEALTHCHECK CMD", "Missing command after HEALTHCHECK CMD"],
      ["HEALTHCHECK CMD []", "Missing command after HEALTHCHECK CMD"],
      ["HEALTHCHECK --interval=10 CMD x", 'time: missing unit in duration "10"'],
      ["HEALTHCHECK --interval=abc CMD x", 'time: invalid duration "abc"'],
      ["HEALTHCHECK --timeout=-1s CMD x", 'Interval "timeout" cannot be negative'],
      ["HEALTHCHECK --interval=10us CMD x", 'Interval "interval" cannot be less than 1ms'],
      ["HEALTHCHECK --retries=-1 CMD x", "--retries cannot be negative (-1)"],
      ["HEALTHCHECK --retries=x CMD x", '--retries must be a number, got "x"'],
      [
        "HEALTHCHECK --foo=1 CMD x",
        "unknown flag: --foo (HEALTHCHECK accepts --interval, --timeout, --start-period, --start-interval, --retries)",
      ],
    ];
    for (const [line, reason] of errors) expect(parseError(`FROM scratch\n${line}`), line).toMatchObject({ line: 2, reason });
  });

  it("ONBUILD: the trigger is parsed and kept with an upper-case keyword", () => {
    expect(one("ONBUILD run   echo  hi")).toMatchObject({
      kind: "ONBUILD",
      triggerText: "RUN   echo  hi",
      trigger: { kind: "RUN", command: { form: "shell", command: "echo  hi" }, original: "run   echo  hi", line: 2 },
    });
    expect(one("ONBUILD COPY --chown=app . /src")).toMatchObject({ trigger: { kind: "COPY", flags: [{ name: "chown", value: "app" }] } });
    expect(parseError("FROM scratch\nONBUILD ONBUILD RUN x")).toMatchObject({
      line: 2,
      reason: "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
    });
    expect(parseError("FROM scratch\nONBUILD FROM alpine")).toMatchObject({ line: 2, reason: "FROM isn't allowed as an ONBUILD trigger" });
    expect(parseError("FROM scratch\nONBUILD maintainer me")).toMatchObject({
      line: 2,
      reason: "MAINTAINER isn't allowed as an ONBUILD trigger",
    });
    expect(parseError("FROM scratch\nONBUILD BOGUS x")).toMatchObject({ line: 2, reason: "unknown instruction: BOGUS" });
  });
});

describe("parseDockerfile: heredocs", () => {
  it("RUN with a heredoc script", () => {
    const text = ["FROM scratch", "RUN <<EOF", "echo $HOME", "  indented", "EOF", "USER app"].join("\n");
    const [run, user] = parseDockerfile(text).stages[0]!.instructions;
    expect(run).toMatchObject({
      kind: "RUN",
      line: 2,
      endLine: 5,
      original: "RUN <<EOF",
      command: { form: "shell", command: "<<EOF" },
      heredocs: [{ name: "EOF", content: "echo $HOME\n  indented\n", expand: true }],
    });
    expect(user).toMatchObject({ line: 6 });
  });

  it("<<- removes leading tabs, quoted delimiters turn expansion off, several heredocs per line", () => {
    const text = [
      "FROM scratch",
      "RUN <<-EOT bash && cat <<'DATA' > /data",
      "\tif true; then",
      "\t\techo yes",
      "\tfi",
      "\tEOT",
      "raw $VAR",
      "DATA",
    ].join("\n");
    expect(parseDockerfile(text).stages[0]!.instructions[0]).toMatchObject({
      endLine: 8,
      heredocs: [
        { name: "EOT", content: "if true; then\necho yes\nfi\n", expand: true },
        { name: "DATA", content: "raw $VAR\n", expand: false },
      ],
    });
    const quoted = body('RUN <<"EOF"\n$x\nEOF')[0]!;
    expect(quoted).toMatchObject({ heredocs: [{ name: "EOF", content: "$x\n", expand: false }] });
  });

  it("COPY with heredoc sources and a path", () => {
    const text = ["FROM scratch", "COPY <<one.txt <<two.txt real.txt /dst/", "first", "one.txt", "second", "two.txt"].join("\n");
    expect(parseDockerfile(text).stages[0]!.instructions[0]).toMatchObject({
      kind: "COPY",
      sources: ["real.txt"],
      dest: "/dst/",
      heredocs: [
        { name: "one.txt", content: "first\n" },
        { name: "two.txt", content: "second\n" },
      ],
    });
    expect(parseError("FROM scratch\nCOPY a <<EOF\nx\nEOF").reason).toBe("COPY cannot accept a heredoc as a destination");
  });

  it("an empty heredoc, and no heredocs for other instructions, quoted << or the exec form", () => {
    expect(body("RUN cat <<EOF\nEOF")[0]).toMatchObject({ heredocs: [{ name: "EOF", content: "" }] });
    expect(body("ENV A=<<EOF\nUSER x")).toHaveLength(2);
    expect(body("RUN echo '<<EOF'\nUSER x")).toHaveLength(2);
    expect(body('RUN ["sh", "-c", "cat <<EOF"]\nUSER x')).toHaveLength(2);
    expect(body("RUN echo a<<b\nUSER b")).toMatchObject([{ heredocs: [] }, { kind: "USER" }]);
  });

  // BuildKit's TestParseExtractsHeredoc cases (frontend/dockerfile/parser/parser_heredoc_test.go).
  it("delimiter forms as BuildKit reads them", () => {
    const cases: [string, string, { name: string; content: string; expand: boolean }][] = [
      ["RUN 3<<EMPTY2", "EMPTY2", { name: "EMPTY2", content: "", expand: true }],
      ["RUN <<INDENT", "\tfoo\n\tbar\nINDENT", { name: "INDENT", content: "\tfoo\n\tbar\n", expand: true }],
      ["RUN <<-UNINDENT2", "\tbaz\n\tUNINDENT2", { name: "UNINDENT2", content: "baz\n", expand: true }],
      ["RUN <<COMMENT", "# internal comment\nCOMMENT", { name: "COMMENT", content: "# internal comment\n", expand: true }],
      ["RUN <<eo'f'", "echo foo\neof", { name: "eof", content: "echo foo\n", expand: false }],
      ["RUN <<eo\\'f", "echo foo\neo'f", { name: "eo'f", content: "echo foo\n", expand: true }],
      ["RUN <<'e'o\\'f", "echo foo\neo'f", { name: "eo'f", content: "echo foo\n", expand: false }],
      ["RUN <<'one two'", "echo bar\none two", { name: "one two", content: "echo bar\n", expand: false }],
      ["RUN <<$EOF", "$EOF", { name: "$EOF", content: "", expand: true }],
      ["RUN <<  EOF", "EOF", { name: "EOF", content: "", expand: true }],
      ["RUN <<  EOF  > foo", "EOF", { name: "EOF", content: "", expand: true }],
      ["RUN <<- EOF", "\tEOF", { name: "EOF", content: "", expand: true }],
      ["RUN << -EOF", "-EOF", { name: "-EOF", content: "", expand: true }],
      ["RUN --mount=type=cache,target=/foo <<MOUNT", "echo hello\nMOUNT", { name: "MOUNT", content: "echo hello\n", expand: true }],
      ["COPY <<X <<Y /dest", "Y\nX\nX\nY", { name: "X", content: "Y\n", expand: true }],
    ];
    for (const [line, rest, first] of cases) {
      const instr = body(`${line}\n${rest}\nUSER after`);
      expect(instr, line).toHaveLength(2);
      expect((instr[0] as { heredocs: object[] }).heredocs[0], line).toEqual(first);
    }
    expect(body('RUN "<<NOHEREDOC"\nUSER x')).toHaveLength(2);
  });

  it("an unterminated heredoc names the line where it started", () => {
    const err = parseError(["FROM scratch", "USER a", "RUN cat <<EOF", "hello", "EOF ", "\tEOF"].join("\n"));
    expect(err.line).toBe(3);
    expect(err.message).toBe('Dockerfile:3: unterminated heredoc: <<EOF opened on line 3 is never closed by a line "EOF"');
  });

  it("ONBUILD RUN with a heredoc keeps the body in the trigger text", () => {
    const instr = body("ONBUILD RUN <<EOF\necho hi\nEOF")[0]!;
    expect(instr).toMatchObject({
      kind: "ONBUILD",
      triggerText: "RUN <<EOF\necho hi\nEOF",
      trigger: { kind: "RUN", heredocs: [{ content: "echo hi\n" }] },
    });
    if (instr.kind !== "ONBUILD") throw new Error("ONBUILD expected");
    expect(parseInstructionLine(instr.triggerText)).toMatchObject({ kind: "RUN", heredocs: [{ name: "EOF", content: "echo hi\n" }] });
  });
});

describe("parseInstructionLine", () => {
  it("parses one instruction without FROM", () => {
    expect(parseInstructionLine("ENV A=b")).toMatchObject({ kind: "ENV", line: 1, pairs: [{ key: "A", value: "b" }] });
    expect(parseInstructionLine('CMD ["sh"]', 7)).toMatchObject({ kind: "CMD", line: 7, endLine: 7 });
    expect(parseInstructionLine("EXPOSE 80 \\\n 443")).toMatchObject({ words: ["80", "443"], endLine: 2 });
  });

  it("rejects nothing, two instructions and unknown ones", () => {
    expect(() => parseInstructionLine("  ")).toThrow("no instruction given");
    expect(() => parseInstructionLine("ENV A=b\nUSER x")).toThrow(DockerfileError);
    expect(() => parseInstructionLine("NOPE x", 4)).toThrow("Dockerfile:4: unknown instruction: NOPE");
  });
});
