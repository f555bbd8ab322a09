import fs from 'node:fs';
import path from 'node:path';

/**
 * The project root, found by walking up to package.json, so views and migrations resolve the same
 * from `src/` (tsx, jest) and from `dist/src/` (the production build).
 */
function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`No package.json above ${start}`);
  }
}

export const projectRoot = findProjectRoot(__dirname);
/**
 * True when running the compiled build under dist/ (`npm start`), false from source (tsx, jest).
 * The build loads compiled migrations and seeds, and runs as production unless told otherwise.
 */
export const runningBuild = path.relative(projectRoot, __dirname).split(path.sep)[0] === 'dist';
const sourceRoot = runningBuild ? path.join(projectRoot, 'dist') : projectRoot;

export const paths = {
  views: path.join(projectRoot, 'views'),
  public: path.join(projectRoot, 'public'),
  /** @simplewebauthn/browser's ES modules, served under /assets/vendor/simplewebauthn/. */
  webauthnBrowser: path.join(path.dirname(require.resolve('@simplewebauthn/browser')), '..', 'esm'),
  migrations: path.join(sourceRoot, 'migrations'),
  seeds: path.join(sourceRoot, 'seeds'),
  /** Extension of this project's own modules as they are being run: `.ts` or `.js`. */
  moduleExtension: path.extname(__filename),
};
