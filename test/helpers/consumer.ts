/**
 * The package as a shop gets it: packed once per test run (`npm pack`,
 * which builds it), then installed into fresh projects with a plain
 * `npm install <tarball> <packages>`, no flags, as a user types it. Every
 * install shares the user's npm cache; a project is made once per set of
 * packages and shared by the suites that ask for the same set.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startProcess } from './fixture-process';

export const ROOT = resolve(__dirname, '..', '..');

/** The temporary folders of this run, removed when the process exits. */
const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new temporary folder, removed at exit. */
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `reserve-stock-${label}-`));
  made.push(dir);
  return dir;
}

/**
 * This process's environment without npm's own variables: `npm test` sets
 * npm_config_* and friends, and a child npm must behave as a user's does.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  return { ...env, ...extra };
}

/** Runs a command to its end: its stdout, or a rejection with everything it wrote. */
export async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = userEnv()): Promise<string> {
  const child = startProcess(command, args, { cwd, env });
  const code = await child.exited;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code} in ${cwd}\n${child.stdout}\n${child.stderr}`);
  return child.stdout;
}

let packed: Promise<string> | undefined;

/** The package's tarball, packed once per run. */
export function tarball(): Promise<string> {
  packed ??= (async () => {
    const dir = tempDir('pack');
    await run('npm', ['pack', '--silent', '--pack-destination', dir], ROOT);
    const file = readdirSync(dir).find((name) => name.endsWith('.tgz'));
    if (!file) throw new Error(`npm pack left no tarball in ${dir}`);
    return join(dir, file);
  })();
  return packed;
}

const projects = new Map<string, Promise<string>>();

/**
 * A project (an ES module package) with the tarball and `packages` (npm
 * specs, say `ioredis@6`) installed, made once per set of packages.
 */
export function consumerProject(packages: readonly string[]): Promise<string> {
  const key = [...packages].sort().join(' ');
  let project = projects.get(key);
  if (!project) {
    project = (async () => {
      const dir = tempDir('consumer');
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
      await run('npm', ['install', await tarball(), ...packages], dir);
      return dir;
    })();
    projects.set(key, project);
  }
  return project;
}

/** The majors a shop may pair: each ioredis major with each Express major. */
export const MATRIX = [
  { ioredis: 6, express: 5 },
  { ioredis: 6, express: 4 },
  { ioredis: 5, express: 5 },
  { ioredis: 5, express: 4 },
] as const;

export type Combo = (typeof MATRIX)[number];

/** The @types/node the package is developed against: the majors of the Node versions it supports. */
const NODE_TYPES = `@types/node@${(JSON.parse(readFileSync(join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as { version: string }).version.split('.')[0]}`;

/** What a TypeScript shop on this combination installs next to the package. */
export function comboPackages({ ioredis, express }: Combo): string[] {
  return [`ioredis@${ioredis}`, `express@${express}`, `@types/express@${express}`, 'http-errors', '@types/http-errors', NODE_TYPES];
}

/**
 * The project of a combination. The first call starts the installs of
 * every combination at once (they share the npm cache), so the suites that
 * use them wait for one round of installs, not four in a row.
 */
export function comboProject(combo: Combo): Promise<string> {
  const all = MATRIX.map((each) => consumerProject(comboPackages(each)));
  // The others' failures are their own suites' to report.
  for (const project of all) project.catch(() => undefined);
  return consumerProject(comboPackages(combo));
}

export const comboName = ({ ioredis, express }: Combo) => `ioredis ${ioredis}, Express ${express}`;
