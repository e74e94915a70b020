#!/usr/bin/env node
// Changeset check, run by .ci/run on a clean clone (full history; it refuses a shallow clone rather than pass).
//
// Rule: every commit that changes a published package's code (packages/<dir>/src or bin, tests excluded) since that
// package's last release tag (`@vkd/<name>@<version>`, written by `changeset publish`; the whole history while there
// is none), and not already on main when the check was introduced (CHECKED_SINCE), must be followed — in the same commit or a later one that descends from it — by a commit that adds or edits
// a changeset (.changeset/*.md) naming the package. So a change without a changeset fails until one is added, and a
// changeset written for an earlier change does not cover later ones. Merge commits are not checked as code changes
// (the commits they bring are checked themselves); a merge covers only with changesets written in the merge itself. A commit whose message has a line
// `No-changeset: <reason>` is exempt (for changes no user can see: refactors, lint fixes, comments).
// Uncommitted changes (a local run) are checked too: changed code needs a new or edited changeset in the work tree.
//
// Usage: node tools/changeset-check.mjs [--verbose]. Exit 1 lists each uncovered commit and what to do.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const verbose = process.argv.includes('--verbose');
const gitRaw = (...args) =>
  execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
const git = (...args) => gitRaw(...args).trim();
const lines = (text) => (text === '' ? [] : text.split('\n'));

/**
 * The check applies to code commits from here on: this was main when the check was introduced (2026-12-02), and
 * commits already on main then were not written under it. Commits merged later from branches started earlier are
 * checked (they are not ancestors of this one).
 */
const CHECKED_SINCE = '8a616b49a04c38a4d6d791a1e89bc0f2f8419087';

if (git('rev-parse', '--is-shallow-repository') === 'true') {
  // The check needs the history since the last release. Fetch it when the origin is reachable; a clone whose history
  // cannot be had (no origin) is not failed for it, but says loudly that nothing was checked.
  try {
    execFileSync('git', ['fetch', '--quiet', '--unshallow', '--tags'], { stdio: 'ignore' });
  } catch {
    console.error('changeset check: SKIPPED — this clone is shallow and its history cannot be fetched; run it on a');
    console.error('full clone (git clone without --depth) to check changesets.');
    process.exit(0);
  }
}

/** Package names a changeset's front matter bumps (`'@vkd/x': patch`). */
export function changesetPackages(text) {
  const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!match) return [];
  return lines(match[1])
    .map((line) => /^\s*['"]?(@[a-z0-9-]+\/[a-z0-9-]+|[a-z0-9-]+)['"]?\s*:\s*(patch|minor|major)\s*$/.exec(line)?.[1])
    .filter((name) => name !== undefined);
}

const packages = readdirSync(path.join(root, 'packages'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => {
    try {
      const manifest = JSON.parse(readFileSync(path.join(root, 'packages', entry.name, 'package.json'), 'utf8'));
      return { dir: `packages/${entry.name}`, name: manifest.name, private: manifest.private === true };
    } catch {
      return undefined;
    }
  })
  .filter((entry) => entry !== undefined && !entry.private);

const codePaths = (dir) => [`${dir}/src`, `${dir}/bin`, `:(exclude)${dir}/src/**/*.test.ts`];

/**
 * Changeset commits, each with the packages its added or edited changesets name. A merge counts only for changesets
 * it changed against every parent (`--cc`: written while merging), not for those it brings from the other branch.
 */
const changesetCommits = lines(git('rev-list', 'HEAD', '--', '.changeset')).map((commit) => {
  const named = new Set();
  const isMerge =
    lines(git('rev-list', '--parents', '-n', '1', commit))
      .join(' ')
      .split(' ').length > 2;
  const diff = isMerge ? ['--cc'] : ['--root'];
  for (const line of lines(
    git('diff-tree', '--no-commit-id', '-r', '--name-status', ...diff, commit, '--', '.changeset'),
  )) {
    const [status, file] = line.split('\t');
    if (!/^[AM]+$/.test(status) || !file.endsWith('.md') || file.endsWith('README.md')) continue;
    for (const name of changesetPackages(git('show', `${commit}:${file}`))) named.add(name);
  }
  return { commit, named };
});

let alreadyOnMain;
try {
  alreadyOnMain = new Set(lines(git('rev-list', CHECKED_SINCE)));
} catch {
  console.error(`changeset check: the commit ${CHECKED_SINCE} the check starts from is not in this clone's history.`);
  process.exit(1);
}

const failures = [];
let checked = 0;
for (const pkg of packages) {
  let tag = '';
  try {
    tag = git('describe', '--tags', '--abbrev=0', '--match', `${pkg.name}@*`, 'HEAD');
  } catch {
    // Never released: the whole history counts.
  }
  const range = tag === '' ? ['HEAD'] : ['HEAD', `^${tag}`];
  const changes = lines(git('rev-list', '--no-merges', ...range, '--', ...codePaths(pkg.dir)));
  const covering = changesetCommits.filter((entry) => entry.named.has(pkg.name)).map((entry) => entry.commit);
  for (const commit of changes) {
    if (alreadyOnMain.has(commit)) continue;
    checked += 1;
    const message = git('show', '-s', '--format=%B', commit);
    if (/^No-changeset:\s*\S/m.test(message)) continue;
    if (covering.includes(commit)) continue;
    // Commits descending from `commit` (reachable from HEAD): a changeset among them covers it.
    const descendants = new Set(lines(git('rev-list', '--ancestry-path', `${commit}..HEAD`)));
    if (covering.some((candidate) => descendants.has(candidate))) continue;
    failures.push({ pkg, commit, subject: message.split('\n')[0] });
  }
  if (verbose)
    console.log(
      `${pkg.name}: ${changes.length} code commits since ${tag || 'the first commit'}, ${covering.length} changeset commits`,
    );
}

// Uncommitted work (local runs; a CI clone has none).
// Porcelain lines start with a two-letter status that may begin with a space: not trimmed.
const status = lines(gitRaw('status', '--porcelain', '--untracked-files=all').trimEnd());
const changedFiles = status.map((line) => line.slice(3).split(' -> ').pop());
const pendingNames = new Set(
  changedFiles
    .filter((file) => file.startsWith('.changeset/') && file.endsWith('.md') && !file.endsWith('README.md'))
    .flatMap((file) => {
      try {
        return changesetPackages(readFileSync(path.join(root, file), 'utf8'));
      } catch {
        return [];
      }
    }),
);
for (const pkg of packages) {
  const code = changedFiles.filter(
    (file) => (file.startsWith(`${pkg.dir}/src/`) && !file.endsWith('.test.ts')) || file.startsWith(`${pkg.dir}/bin/`),
  );
  if (code.length > 0 && !pendingNames.has(pkg.name))
    failures.push({ pkg, commit: 'work tree', subject: code.slice(0, 3).join(', ') });
}

if (failures.length > 0) {
  console.error(`changeset check: ${failures.length} change(s) without a changeset:`);
  for (const { pkg, commit, subject } of failures) console.error(`  - ${pkg.name}: ${commit.slice(0, 10)} ${subject}`);
  console.error(
    "Add a changeset naming each package (.changeset/<short-name>.md, front matter `'@vkd/x': patch|minor`;",
  );
  console.error(
    'see .changeset/README.md). For a change no user can see, a later changeset is still the way to cover an',
  );
  console.error('existing commit; new commits can instead carry a `No-changeset: <reason>` line in their message.');
  process.exit(1);
}
console.log(
  `changeset check: ${checked} code commits of ${packages.length} packages, each followed by a changeset naming its package`,
);
