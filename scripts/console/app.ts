/**
 * The console's routes: one page per URL, read-only, over a `ConsoleSource`. Every response
 * carries a Content-Security-Policy with no inline script, and a request whose Host or Origin
 * is not this console on loopback is refused (DNS rebinding).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type MiddlewareHandler } from 'hono';
import { InvalidQueryError } from '../../shared/store/queries.ts';
import { eventHref, type Html, href, notice, page } from './html.ts';
import { documentBody, readDocument } from './pages/document.ts';
import { eventBody, readEvent } from './pages/event.ts';
import { feedBody, feedFilterOf, readFeed } from './pages/feed.ts';
import { overviewBody, readOverview } from './pages/overview.ts';
import { projectBody, readProject } from './pages/project.ts';
import type { ConsoleSource } from './source.ts';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

/** Files served under /assets/: ours, and uPlot from the package (no CDN). */
const ASSETS: Record<string, { path: string; type: string }> = {
  'console.js': { path: join(here, 'assets', 'console.js'), type: 'text/javascript' },
  'console.css': { path: join(here, 'assets', 'console.css'), type: 'text/css' },
  'uPlot.iife.min.js': {
    path: require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript',
  },
  'uPlot.min.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' },
};

export interface ConsoleOptions {
  readonly source: ConsoleSource;
  /** The port the console listens on: the only Host and Origin it answers. */
  port(): number;
  /** The clock, so tests can pin "now". @default Date */
  readonly now?: () => Date;
}

export function createConsoleApp(options: ConsoleOptions): Hono {
  const { source } = options;
  const now = options.now ?? (() => new Date());
  const assets = Object.fromEntries(
    Object.entries(ASSETS).map(([name, asset]) => [
      name,
      { body: readFileSync(asset.path), type: asset.type },
    ]),
  );
  const app = new Hono();
  app.use(loopbackOnly(options.port));
  app.use(async (context, next) => {
    await next();
    context.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    context.header('X-Content-Type-Options', 'nosniff');
    context.header('Referrer-Policy', 'no-referrer');
    context.header('Cache-Control', 'no-store');
  });

  const render = async (
    title: string,
    body: Html,
    current?: string,
    status: 200 | 400 | 404 | 502 = 200,
  ) => {
    const markup = await page({
      title,
      body,
      source: source.description,
      ...(current && { current }),
    });
    return new Response(String(markup), {
      status,
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
    });
  };

  app.get('/assets/:name', (context) => {
    const asset = assets[context.req.param('name')];
    if (asset === undefined) return context.notFound();
    return context.body(asset.body, 200, { 'Content-Type': asset.type });
  });

  app.get('/', async () => {
    const at = now();
    return render('Overview', overviewBody(await readOverview(source, at), at), '/');
  });

  app.get('/feed', async (context) => {
    const id = context.req.query('id')?.trim();
    if (id) {
      const found = await source.event(id);
      if (found !== undefined) return context.redirect(eventHref(id, String(found.receivedAt)));
      return render('Feed', notice(`No event ${id} found.`), '/feed', 404);
    }
    const filter = feedFilterOf(context.req.query());
    const result = await readFeed(source, filter, now());
    const live = filter.cursor === undefined && filter.to === undefined;
    return render('Feed', feedBody(filter, result, live), '/feed');
  });

  app.get('/projects/:projectId', async (context) => {
    const projectId = context.req.param('projectId');
    const figures = await readProject(source, projectId);
    if (figures === undefined) {
      return render('Project', notice(`No project ${projectId} in the table.`), undefined, 404);
    }
    return render(`Project ${projectId}`, projectBody(figures));
  });

  app.get('/documents', (context) => {
    const id = context.req.query('id')?.trim();
    return id
      ? context.redirect(href(['documents', id]))
      : context.redirect('/feed?type=BEFORE_UPDATE_LABELS');
  });

  app.get('/documents/:documentId', async (context) => {
    const documentId = context.req.param('documentId');
    const labels = await readDocument(source, documentId, context.req.query('cursor') || undefined);
    return render(`Document ${documentId}`, documentBody(documentId, labels));
  });

  app.get('/events/:eventId', async (context) => {
    const eventId = context.req.param('eventId');
    const figures = await readEvent(source, eventId, context.req.query('at') || undefined);
    if (figures === undefined) {
      return render('Event', notice(`No event ${eventId} found.`), undefined, 404);
    }
    return render(`Event ${eventId.slice(0, 12)}`, eventBody(figures));
  });

  app.notFound(() => render('Not found', notice('No such page.'), undefined, 404));
  app.onError((error) => {
    if (error instanceof InvalidQueryError) {
      return render('Cannot show this', notice(error.message), undefined, 400);
    }
    const reason = error instanceof Error ? error.message || error.name : String(error);
    console.error(`console: ${reason}`);
    return render(
      'Cannot read the stack',
      notice(
        `The console could not read the ${source.description}: ${reason}. Is npm start running?`,
      ),
      undefined,
      502,
    );
  });
  return app;
}

/**
 * Answers only requests addressed to this console on loopback: a page elsewhere that points
 * a name it controls at 127.0.0.1 (DNS rebinding) sends its own name as Host, and a
 * cross-site request carries its own Origin.
 */
function loopbackOnly(port: () => number): MiddlewareHandler {
  return async (context, next) => {
    const allowed = [`127.0.0.1:${port()}`, `localhost:${port()}`];
    const host = context.req.header('host') ?? '';
    const origin = context.req.header('origin');
    if (
      !allowed.includes(host) ||
      (origin !== undefined && !allowed.some((name) => origin === `http://${name}`))
    ) {
      return context.text('This console answers only on 127.0.0.1 and localhost.\n', 403);
    }
    await next();
  };
}
