/**
 * Keeps README.md and docs/ true to the code: every `npm run <script>` they name exists, every
 * CDK context option and environment variable they document is read by the code and every one
 * the code reads is documented, and every relative link (and its #anchor) resolves.
 *
 * What counts as "documented": a row of a Markdown table whose header's first cell ends with
 * "option" (CDK context) or "variable" (environment), naming the setting in backticks in its
 * first cell (several names in one cell are fine).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../infra/config.ts';
import { readLocalConfig } from '../scripts/local/config.ts';

const ROOT = resolve(import.meta.dirname, '..');

interface Page {
  /** Path relative to the repository root, e.g. `docs/deploy.md`. */
  readonly path: string;
  readonly text: string;
  /** The text without fenced code blocks and inline code, where links and headings live. */
  readonly prose: string;
}

function markdownFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

const pages: Page[] = ['README.md', ...markdownFiles('docs')].map((path) => {
  const text = readFileSync(join(ROOT, path), 'utf8');
  const prose = text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '');
  return { path, text, prose };
});

/** Names in the first cell of the rows of every table whose first header cell ends with `kind`. */
function documentedSettings(kind: 'option' | 'variable'): Map<string, string> {
  const found = new Map<string, string>();
  const separator = /^\|(\s*:?-+:?\s*\|)+\s*$/;
  for (const page of pages) {
    const lines = page.text.split('\n');
    let inTable = false;
    lines.forEach((line, index) => {
      const firstCell = line.startsWith('|') ? (line.split('|')[1]?.trim() ?? '') : undefined;
      if (firstCell === undefined) inTable = false;
      else if (separator.test(lines[index + 1] ?? '')) {
        inTable = new RegExp(`\\b${kind}$`, 'i').test(firstCell);
      } else if (inTable) {
        for (const [, name = ''] of firstCell.matchAll(/`([^`]+)`/g)) found.set(name, page.path);
      }
    });
  }
  return found;
}

/** Every CDK context name `readConfig` asks for. */
function contextOptionsRead(): Set<string> {
  const names = new Set<string>();
  readConfig({
    tryGetContext: (name: string) => {
      names.add(name);
      return undefined;
    },
  });
  return names;
}

function typeScriptFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return typeScriptFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every variable `readLocalConfig` asks an (empty) environment for. */
function localConfigVariables(): Set<string> {
  const names = new Set<string>();
  readLocalConfig(
    new Proxy<NodeJS.ProcessEnv>(
      {},
      {
        get: (_target, name) => {
          if (typeof name === 'string') names.add(name);
          return undefined;
        },
      },
    ),
  );
  return names;
}

/**
 * Every environment variable the local stack and the CLIs read: what `readLocalConfig` asks an
 * environment for, plus every name `scripts/` reads through the environment helpers or an
 * `env`/`environment`/`process.env` object. Variables of the AWS SDK itself (`AWS_…`) are the
 * SDK's to document.
 */
function environmentVariablesRead(): Set<string> {
  const names = localConfigVariables();
  const reads = [
    /\b(?:integerEnv|optionalEnv|requireEnv|[a-z]\w*Env)\(\s*['"]([A-Z][A-Z0-9_]*)['"]/g,
    /\b(?:process\.env|environment|env)\.([A-Z][A-Z0-9_]*)\b/g,
    /\b(?:process\.env|environment|env)\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g,
    // readLocalTarget's `endpoint('S3_ENDPOINT', 'S3_PORT', …)`: an override read by name.
    /\bendpoint\(\s*['"]([A-Z][A-Z0-9_]*)['"]/g,
  ];
  for (const file of typeScriptFiles('scripts')) {
    const source = readFileSync(join(ROOT, file), 'utf8');
    for (const pattern of reads) {
      for (const [, name] of source.matchAll(pattern)) if (name) names.add(name);
    }
  }
  return new Set([...names].filter((name) => !name.startsWith('AWS_')));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(page: Page): Set<string> {
  const anchors = new Set<string>();
  for (const [, heading = ''] of page.text
    .replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '')
    .matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n += 1) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

describe('README.md and docs/', () => {
  it('keep the README to at most 300 lines', () => {
    const readme = pages.find((page) => page.path === 'README.md');
    expect(readme?.text.split('\n').length).toBeLessThanOrEqual(301);
  });

  it('name only npm scripts that package.json defines', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const missing = pages.flatMap((page) =>
      [...page.text.matchAll(/\bnpm (?:run ([\w-]+(?::[\w-]+)*)|(start|test)\b)/g)]
        .map(([, script, builtIn]) => script ?? builtIn ?? '')
        .filter((script) => !(script in scripts))
        .map((script) => `${page.path}: npm run ${script}`),
    );
    expect(missing).toEqual([]);
  });

  it('document every CDK context option infra/config.ts reads, and only those', () => {
    const read = contextOptionsRead();
    const documented = documentedSettings('option');
    const undocumented = [...read].filter((name) => !documented.has(name));
    const unknown = [...documented]
      .filter(([name]) => !read.has(name))
      .map(([name, path]) => `${path}: ${name}`);
    expect(read.size).toBeGreaterThan(10);
    expect(undocumented, 'options read by infra/config.ts but in no "option" table').toEqual([]);
    expect(unknown, 'options documented but not read by infra/config.ts').toEqual([]);
  });

  it('document every environment variable the local stack and CLIs read, and only those', () => {
    const read = environmentVariablesRead();
    const documented = documentedSettings('variable');
    const undocumented = [...read].filter((name) => !documented.has(name));
    const unknown = [...documented]
      .filter(([name]) => !read.has(name))
      .map(([name, path]) => `${path}: ${name}`);
    expect(read).toContain('DYNAMODB_PORT');
    expect(undocumented, 'variables read by scripts/ but in no "variable" table').toEqual([]);
    expect(unknown, 'variables documented but read nowhere in scripts/').toEqual([]);
  });

  it('list every variable of the local stack in .env.example, and only variables it reads', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map(([, n]) => n));
    const recorded = localConfigVariables();
    const read = environmentVariablesRead();
    expect([...recorded].filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter((name) => name !== undefined && !read.has(name))).toEqual([]);
  });

  it('link only to files and headings that exist', () => {
    const broken = pages.flatMap((page) =>
      [...page.prose.matchAll(/\]\(([^)\s]+)\)/g)]
        .map(([, target = '']) => target)
        .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target))
        .filter((target) => {
          const [file = '', anchor] = target.split('#');
          const path =
            file === '' ? join(ROOT, page.path) : resolve(ROOT, dirname(page.path), file);
          if (!existsSync(path)) return true;
          if (anchor === undefined || !path.endsWith('.md')) return false;
          const linked = pages.find((other) => join(ROOT, other.path) === path);
          return linked === undefined || !anchorsOf(linked).has(anchor);
        })
        .map((target) => `${page.path} → ${target}`),
    );
    expect(broken).toEqual([]);
  });

  it('list every docs/ page in the README', () => {
    const readme = pages.find((page) => page.path === 'README.md');
    const unlisted = pages
      .filter((page) => page.path.startsWith('docs/'))
      .filter((page) => !readme?.text.includes(`](${page.path})`))
      .map((page) => page.path);
    expect(unlisted).toEqual([]);
  });

  it("show npm start's banner as it prints it: every line it prints, in its order", () => {
    const readme = pages.find((page) => page.path === 'README.md')?.text ?? '';
    const start = readme.indexOf('What `npm start` printed:');
    const shown = /```\n([\s\S]*?)```/.exec(readme.slice(start))?.[1] ?? '';
    // The labelled lines of the banner, as scripts/local/banner.ts writes them.
    const source = readFileSync(join(ROOT, 'scripts/local/banner.ts'), 'utf8');
    const labels = [
      ...new Set(
        [...source.matchAll(/[`'] {2}([A-Za-z][A-Za-z ]*[A-Za-z]) {2,}/g)].map((match) => match[1]),
      ),
    ];
    expect(labels.length).toBeGreaterThan(5);
    const described = shown.slice(0, shown.indexOf('Next, in another terminal'));
    const shownLabels = [...described.matchAll(/^ {2}([A-Za-z][A-Za-z ]*[A-Za-z]) {2,}/gm)].map(
      (match) => match[1],
    );
    expect([...new Set(shownLabels)]).toEqual(labels);
  });
});
