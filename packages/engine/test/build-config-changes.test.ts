import { describe, expect, it } from "vitest";

import { applyConfigChanges, applyConfigInstruction, exposedPortKeys, type ConfigStepContext } from "../src/build/config-changes";
import { DockerfileError } from "../src/build/dockerfile/ast";
import { envFromList } from "../src/build/dockerfile/expand";
import { parseInstructionLine } from "../src/build/dockerfile/parse";
import { InvalidArgumentError } from "../src/errors";
import type { ImageConfig } from "../src/image-model";

function baseConfig(config: ImageConfig["config"] = {}): ImageConfig {
  return { architecture: "amd64", os: "linux", config, rootfs: { type: "layers", diff_ids: [] } };
}

/** Applies Dockerfile lines in order as one stage would, with build args `args`; returns the config and history. */
function steps(lines: string[], start = baseConfig({ Env: ["PATH=/usr/bin:/bin"], Cmd: ["sh"] }), args: Record<string, string> = {}) {
  let config = start;
  let cmdSetInStage = false;
  const history: string[] = [];
  for (const [i, line] of lines.entries()) {
    const ctx: ConfigStepContext = { env: envFromList(config.config?.Env, (name) => args[name]), escape: "\\", cmdSetInStage };
    const result = applyConfigInstruction(config, parseInstructionLine(line, i + 1), ctx);
    config = result.config;
    cmdSetInStage = result.cmdSetInStage;
    history.push(result.createdBy);
  }
  return { config, history, c: config.config! };
}

describe("applyConfigInstruction", () => {
  it("ENV appends and replaces in order, expanding with the values before the instruction", () => {
    const { c, history } = steps(["ENV A=1 B=two\\ words", 'ENV PATH=/opt/bin:$PATH A=$B C="$A"', "ENV LEGACY value with  spaces"]);
    expect(c.Env).toEqual(["PATH=/opt/bin:/usr/bin:/bin", "A=two words", "B=two words", "C=1", "LEGACY=value with  spaces"]);
    expect(history).toEqual([
      "/bin/sh -c #(nop)  ENV A=1 B=two words",
      "/bin/sh -c #(nop)  ENV PATH=/opt/bin:/usr/bin:/bin A=two words C=1",
      "/bin/sh -c #(nop)  ENV LEGACY=value with  spaces",
    ]);
  });

  it("does not change the config it is given", () => {
    const start = baseConfig({ Env: ["A=1"], Labels: { a: "1" }, ExposedPorts: { "80/tcp": {} } });
    const snapshot = JSON.stringify(start);
    steps(["ENV A=2", "LABEL a=2", "EXPOSE 81", "CMD x", "ONBUILD RUN x", "MAINTAINER me"], start);
    expect(JSON.stringify(start)).toBe(snapshot);
  });

  it("LABEL sets labels (keys sorted as docker writes them), values expanded", () => {
    const { c, history } = steps(['LABEL "z.key"="a b" a=$V', "LABEL m=1"], baseConfig({ Labels: null }), { V: "v1" });
    expect(c.Labels).toEqual({ a: "v1", m: "1", "z.key": "a b" });
    expect(Object.keys(c.Labels!)).toEqual(["a", "m", "z.key"]);
    expect(history[0]).toBe("/bin/sh -c #(nop)  LABEL z.key=a b a=v1");
  });

  it("WORKDIR resolves against the current directory", () => {
    const { c, history } = steps(
      ["WORKDIR app", "WORKDIR ../src/./x/", "WORKDIR $HOME_DIR/y", "WORKDIR /abs//path/"],
      baseConfig({ Env: ["HOME_DIR=/home/u"] }),
    );
    expect(history).toEqual([
      "/bin/sh -c #(nop) WORKDIR /app",
      "/bin/sh -c #(nop) WORKDIR /src/x",
      "/bin/sh -c #(nop) WORKDIR /home/u/y",
      "/bin/sh -c #(nop) WORKDIR /abs/path",
    ]);
    expect(c.WorkingDir).toBe("/abs/path");
  });

  it("USER, STOPSIGNAL, MAINTAINER", () => {
    const { config, c, history } = steps([
      "USER ${U:-app}:1000",
      "STOPSIGNAL SIGQUIT",
      "STOPSIGNAL 9",
      "STOPSIGNAL rtmin+3",
      "MAINTAINER Jane <j@x>",
    ]);
    expect(c.User).toBe("app:1000");
    expect(c.StopSignal).toBe("rtmin+3");
    expect(config.author).toBe("Jane <j@x>");
    expect(history).toEqual([
      "/bin/sh -c #(nop)  USER app:1000",
      "/bin/sh -c #(nop)  STOPSIGNAL SIGQUIT",
      "/bin/sh -c #(nop)  STOPSIGNAL 9",
      "/bin/sh -c #(nop)  STOPSIGNAL rtmin+3",
      "/bin/sh -c #(nop)  MAINTAINER Jane <j@x>",
    ]);
    expect(() => steps(["STOPSIGNAL SIGBOGUS"])).toThrow("Dockerfile:1: STOPSIGNAL: Invalid signal: SIGBOGUS");
    expect(() => steps(["STOPSIGNAL 0"])).toThrow("Invalid signal: 0");
  });

  it("EXPOSE normalises ports to port/proto keys and expands ranges and variables", () => {
    const { c, history } = steps(
      ["EXPOSE 80 53/UDP", "EXPOSE 8000-8002/tcp $PORTS", "EXPOSE 127.0.0.1:8080:9090"],
      baseConfig({ ExposedPorts: { "22/tcp": {} } }),
      {
        PORTS: "443 5000/sctp",
      },
    );
    expect(Object.keys(c.ExposedPorts!)).toEqual([
      "22/tcp",
      "443/tcp",
      "5000/sctp",
      "53/udp",
      "80/tcp",
      "8000/tcp",
      "8001/tcp",
      "8002/tcp",
      "9090/tcp",
    ]);
    // As moby's classic builder: the words as written, after expansion.
    expect(history).toEqual([
      "/bin/sh -c #(nop)  EXPOSE 80 53/UDP",
      "/bin/sh -c #(nop)  EXPOSE 8000-8002/tcp 443 5000/sctp",
      "/bin/sh -c #(nop)  EXPOSE 127.0.0.1:8080:9090",
    ]);
  });

  it("EXPOSE rejects bad ports", () => {
    expect(() => exposedPortKeys("80/icmp")).toThrow("invalid proto: icmp");
    expect(() => exposedPortKeys("http")).toThrow("invalid containerPort: http");
    expect(() => exposedPortKeys("70000")).toThrow("invalid port: 70000");
    expect(() => exposedPortKeys("90-80")).toThrow("invalid range specified for container port: 90-80");
    expect(() => steps(["EXPOSE abc"])).toThrow(DockerfileError);
  });

  it("VOLUME adds volumes, in both forms", () => {
    const { c, history } = steps(['VOLUME ["/data", "/var/$NAME"]', "VOLUME /logs /cache"], baseConfig({ Env: ["NAME=lib"] }));
    expect(c.Volumes).toEqual({ "/cache": {}, "/data": {}, "/logs": {}, "/var/lib": {} });
    expect(history).toEqual(["/bin/sh -c #(nop)  VOLUME [/data /var/lib]", "/bin/sh -c #(nop)  VOLUME [/logs /cache]"]);
  });

  it("CMD: exec form as given, shell form through the shell, not expanded", () => {
    expect(steps(['CMD ["nginx", "-g", "daemon off;"]']).history[0]).toBe('/bin/sh -c #(nop)  CMD ["nginx" "-g" "daemon off;"]');
    const shell = steps(["CMD echo $HOME"]);
    expect(shell.c.Cmd).toEqual(["/bin/sh", "-c", "echo $HOME"]);
    expect(shell.history[0]).toBe('/bin/sh -c #(nop)  CMD ["/bin/sh" "-c" "echo $HOME"]');
    expect(steps(['CMD ["sh"]']).history[0]).toBe('/bin/sh -c #(nop)  CMD ["sh"]');
  });

  it("CMD and ENTRYPOINT drop an ArgsEscaped left by an old base image", () => {
    const start = baseConfig({ Cmd: ["sh"], ArgsEscaped: true });
    expect(steps(['CMD ["x"]'], start).c).toEqual({ Cmd: ["x"] });
    expect(steps(["ENTRYPOINT x"], start).c).toEqual({ Cmd: null, Entrypoint: ["/bin/sh", "-c", "x"] });
    expect(steps(["CMD []"], start).c).toEqual({ Cmd: [], ArgsEscaped: true });
  });

  it("ENTRYPOINT resets Cmd unless CMD was set in the stage", () => {
    const reset = steps(['ENTRYPOINT ["/entry.sh"]']);
    expect(reset.c.Entrypoint).toEqual(["/entry.sh"]);
    expect(reset.c.Cmd).toBeNull();
    expect(reset.history[0]).toBe('/bin/sh -c #(nop)  ENTRYPOINT ["/entry.sh"]');

    const kept = steps(['CMD ["--help"]', "ENTRYPOINT exec /app"]);
    expect(kept.c.Cmd).toEqual(["--help"]);
    expect(kept.c.Entrypoint).toEqual(["/bin/sh", "-c", "exec /app"]);

    // `CMD []` does not count as setting CMD (docker's cmdSet needs arguments).
    expect(steps(["CMD []", 'ENTRYPOINT ["x"]']).c.Cmd).toBeNull();

    const cleared = steps(["ENTRYPOINT []"], baseConfig({ Entrypoint: ["/old"], Cmd: ["x"] }));
    expect(cleared.c.Entrypoint).toBeNull();
    expect(cleared.history[0]).toBe("/bin/sh -c #(nop)  ENTRYPOINT []");
  });

  it("SHELL changes the shell of later shell forms and of the history text", () => {
    const { c, history } = steps(['SHELL ["/bin/bash", "-o", "pipefail", "-c"]', "CMD echo hi", "ENV A=b", "WORKDIR /w"]);
    expect(c.Shell).toEqual(["/bin/bash", "-o", "pipefail", "-c"]);
    expect(c.Cmd).toEqual(["/bin/bash", "-o", "pipefail", "-c", "echo hi"]);
    expect(history).toEqual([
      "/bin/bash -o pipefail -c #(nop)  SHELL [/bin/bash -o pipefail -c]",
      '/bin/bash -o pipefail -c #(nop)  CMD ["/bin/bash" "-o" "pipefail" "-c" "echo hi"]',
      "/bin/bash -o pipefail -c #(nop)  ENV A=b",
      "/bin/bash -o pipefail -c #(nop) WORKDIR /w",
    ]);
  });

  it("HEALTHCHECK: durations in nanoseconds, CMD / CMD-SHELL / NONE, docker's history text", () => {
    const shell = steps(["HEALTHCHECK --interval=1m30s --timeout=3s --retries=3 CMD curl -f http://localhost/ || exit 1"]);
    expect(shell.c.Healthcheck).toEqual({
      Test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
      Interval: 90_000_000_000,
      Timeout: 3_000_000_000,
      Retries: 3,
    });
    expect(shell.history[0]).toBe(
      `/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "curl -f http://localhost/ || exit 1"] "1m30s" "3s" "0s" "0s" '\\x03'}`,
    );

    const exec = steps(['HEALTHCHECK --start-period=500ms --start-interval=1h CMD ["/check", "-q"]']);
    expect(exec.c.Healthcheck).toEqual({ Test: ["CMD", "/check", "-q"], StartPeriod: 500_000_000, StartInterval: 3_600_000_000_000 });
    expect(exec.history[0]).toBe(`/bin/sh -c #(nop)  HEALTHCHECK &{["CMD" "/check" "-q"] "0s" "0s" "500ms" "1h0m0s" '\\x00'}`);

    const none = steps(["HEALTHCHECK NONE"], baseConfig({ Healthcheck: { Test: ["CMD", "x"], Interval: 1 } }));
    expect(none.c.Healthcheck).toEqual({ Test: ["NONE"] });
    expect(none.history[0]).toBe(`/bin/sh -c #(nop)  HEALTHCHECK &{["NONE"] "0s" "0s" "0s" "0s" '\\x00'}`);
  });

  it("ONBUILD appends the trigger with an upper-case keyword", () => {
    const { c, history } = steps(["ONBUILD copy . /src", "ONBUILD RUN make"], baseConfig({ OnBuild: null }));
    expect(c.OnBuild).toEqual(["COPY . /src", "RUN make"]);
    expect(history).toEqual(["/bin/sh -c #(nop)  ONBUILD COPY . /src", "/bin/sh -c #(nop)  ONBUILD RUN make"]);
  });

  it("refuses instructions that are not metadata, naming the line", () => {
    for (const line of ["RUN make", "COPY a b", "ADD a b", "ARG X", "FROM x"]) {
      expect(
        () =>
          applyConfigInstruction(baseConfig(), parseInstructionLine(line, 5), { env: () => undefined, escape: "\\", cmdSetInStage: false }),
        line,
      ).toThrow(/^Dockerfile:5: [A-Z]+ is not a metadata instruction/);
    }
  });

  it("wraps expansion errors with the line", () => {
    expect(() => steps(["USER a", "WORKDIR ${DIR:?set DIR}"])).toThrow(
      'Dockerfile:2: WORKDIR: failed to process "${DIR:?set DIR}": DIR: set DIR',
    );
    expect(() => steps(["WORKDIR $NOTHING"])).toThrow(DockerfileError);
  });
});

describe("applyConfigChanges", () => {
  it("applies docker commit --change options in order", () => {
    const start = baseConfig({ Env: ["PATH=/bin"], Cmd: ["sh"], Entrypoint: null });
    const out = applyConfigChanges(start, [
      "ENV A=b",
      "ENV C=$A",
      "EXPOSE 80",
      'LABEL x="y z"',
      "USER nobody",
      "WORKDIR /srv",
      "VOLUME /data",
      "STOPSIGNAL SIGINT",
      'HEALTHCHECK CMD ["true"]',
      "ONBUILD RUN echo",
      'CMD ["serve"]',
      'ENTRYPOINT ["/app"]',
    ]);
    expect(out.config).toEqual({
      Env: ["PATH=/bin", "A=b", "C=b"],
      Cmd: ["serve"],
      Entrypoint: ["/app"],
      ExposedPorts: { "80/tcp": {} },
      Labels: { x: "y z" },
      User: "nobody",
      WorkingDir: "/srv",
      Volumes: { "/data": {} },
      StopSignal: "SIGINT",
      Healthcheck: { Test: ["CMD", "true"] },
      OnBuild: ["RUN echo"],
    });
    expect(out.history).toBeUndefined();
    expect(start.config).toEqual({ Env: ["PATH=/bin"], Cmd: ["sh"], Entrypoint: null });
  });

  it("ENTRYPOINT alone clears the Cmd, as docker commit does", () => {
    expect(applyConfigChanges(baseConfig({ Cmd: ["sh"] }), ['ENTRYPOINT ["/x"]']).config).toEqual({ Cmd: null, Entrypoint: ["/x"] });
  });

  it("works on a config without a runtime part", () => {
    const { config: _omit, ...bare } = baseConfig();
    expect(applyConfigChanges(bare, ["ENV A=1"]).config).toEqual({ Env: ["A=1"] });
  });

  it("refuses RUN, COPY and other non-change instructions", () => {
    for (const change of ["RUN echo hi", "COPY a /b", "ADD a /b", "FROM alpine", "ARG X", "MAINTAINER me", 'SHELL ["sh"]', "BOGUS x"]) {
      const run = () => applyConfigChanges(baseConfig(), [change]);
      expect(run, change).toThrow(InvalidArgumentError);
      expect(run, change).toThrow(`${change.split(" ")[0]!.toLowerCase()} is not a valid change command`);
    }
  });

  it("reports a malformed change as an invalid argument", () => {
    expect(() => applyConfigChanges(baseConfig(), ["ENV"])).toThrow(
      new InvalidArgumentError('invalid change "ENV": ENV requires at least one argument'),
    );
    expect(() => applyConfigChanges(baseConfig(), ["EXPOSE 80/bogus"])).toThrow(InvalidArgumentError);
  });
});
