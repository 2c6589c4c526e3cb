import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./redis-server.js";

/**
 * A private PostgreSQL cluster for tests: initdb into a temp dir, pg_ctl on a free loopback port,
 * removed at the end. Tests never touch the machine's own PostgreSQL (5432) or any data they did
 * not create. initdb refuses to run as root (CI runs as root), so as root the binaries run as the
 * `postgres` system user (Debian's package creates it) via runuser, on a dir chowned to it.
 */
export interface TestPostgres {
  /** postgres://… of the cluster's `postgres` database. */
  url: string;
  port: number;
  /** The server's version (`postgres --version`), for reports. */
  version: string;
  /** A fresh, empty database of this cluster (its URL): one per test keeps tests apart. */
  createDatabase(): Promise<string>;
  /** pg_ctl stop (`fast` by default; `immediate` is a crash) / start again on the same port. */
  stopServer(mode?: "fast" | "immediate"): void;
  startServer(): void;
  /** Stops the cluster and removes its directory. */
  destroy(): void;
}

/** Where initdb/pg_ctl are: CREDITMETER_PG_BIN, the PATH, or Debian's /usr/lib/postgresql/<v>/bin. */
export function postgresBinDir(): string | null {
  const fromEnv = process.env.CREDITMETER_PG_BIN;
  if (fromEnv) return existsSync(join(fromEnv, "initdb")) ? fromEnv : null;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  const debian = "/usr/lib/postgresql";
  if (!existsSync(debian)) return null;
  const versions = readdirSync(debian)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = join(debian, v, "bin");
    if (existsSync(join(dir, "initdb"))) return dir;
  }
  return null;
}

/** The uid/gid to run PostgreSQL as when we are root (it refuses root), or null when not root. */
function runAs(): { user: string; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const user = process.env.CREDITMETER_PG_USER ?? "postgres";
  const uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
  return { user, uid, gid };
}

function run(bin: string, args: string[], as: ReturnType<typeof runAs>): void {
  const [cmd, argv] = as ? ["runuser", ["-u", as.user, "--", bin, ...args]] : [bin, args];
  const res = spawnSync(cmd, argv, { encoding: "utf8", timeout: 120_000 });
  if (res.status !== 0) throw new Error(`${bin} ${args.join(" ")} failed (${res.status}): ${res.stderr || res.stdout}`);
}

const INITDB_ARGS = ["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"];

/**
 * The data directory of a cluster initdb made with INITDB_ARGS and never started, made on first
 * use and kept in the temp dir for later runs (its name carries the binaries and the arguments, so
 * another PostgreSQL or other arguments get their own). Processes racing to make it each initdb
 * their own and rename it into place: the first wins, the others throw theirs away.
 */
function initdbTemplate(bin: string, as: ReturnType<typeof runAs>): string {
  const key = createHash("sha256")
    .update(JSON.stringify([bin, INITDB_ARGS, as?.uid ?? process.getuid?.()]))
    .digest("hex");
  const template = join(tmpdir(), `creditmeter-pg-template-${key.slice(0, 16)}`);
  if (existsSync(join(template, "PG_VERSION"))) return template;
  const scratch = mkdtempSync(join(tmpdir(), "creditmeter-pg-initdb-"));
  try {
    if (as) chownSync(scratch, as.uid, as.gid);
    const made = join(scratch, "data");
    run(join(bin, "initdb"), ["-D", made, ...INITDB_ARGS], as);
    try {
      renameSync(made, template);
    } catch (err) {
      if (!existsSync(join(template, "PG_VERSION"))) throw err; // not lost to a racing process
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return template;
}

/**
 * Starts a private cluster (fsync off: tests crash processes, not the machine; small buffers:
 * several test files run a cluster each at once). `settings` (`name=value`) override those.
 */
export async function startPostgres(settings: string[] = []): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("initdb not found (apt-get install -y postgresql, or set CREDITMETER_PG_BIN)");
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), "creditmeter-pg-"));
  if (as) chownSync(dir, as.uid, as.gid);
  const data = join(dir, "data");
  // A copy of a cluster initdb made once (initdb: ~5 s on a loaded machine; the copy: under 1 s).
  run("cp", ["-a", initdbTemplate(bin, as), data], as);
  const log = join(dir, "log");
  let port = 0;
  const options = () =>
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=40${settings.map((x) => ` -c ${x}`).join("")}`;
  const pgCtl = (args: string[]): void => run(join(bin, "pg_ctl"), ["-D", data, "-w", "-t", "90", ...args], as);
  const startServer = (): void => pgCtl(["-o", options(), "-l", log, "start"]);
  // A free port another test file's process took before PostgreSQL bound it: PostgreSQL exits
  // ("could not bind"), pg_ctl fails, and the port is picked again. pg_ctl -w waits on this data
  // directory's postmaster.pid, so another server on the port cannot pass for this one.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      startServer();
      break;
    } catch (err) {
      const taken =
        existsSync(log) && /could not bind|could not create any TCP\/IP sockets/.test(readFileSync(log, "utf8"));
      if (!taken || attempt >= 5) throw err;
      writeFileSync(log, "");
    }
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const version = spawnSync(join(bin, "postgres"), ["--version"], { encoding: "utf8" }).stdout.trim();
  return {
    url,
    port,
    version,
    async createDatabase() {
      const name = `t_${randomUUID().replaceAll("-", "")}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stopServer(mode = "fast") {
      pgCtl(["-m", mode, "stop"]);
    },
    startServer,
    destroy() {
      if (stopped) return;
      stopped = true;
      try {
        pgCtl(["-m", "immediate", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
