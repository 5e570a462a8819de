/**
 * The console's routes: one page per URL over a `ConsoleSource`, read-only unless actions are
 * allowed. Every response carries a Content-Security-Policy with no inline script, and a
 * request whose Host or Origin is not this console on loopback is refused (DNS rebinding).
 * An action is a POST with this console's CSRF token (random per run, checked here) and runs
 * only once confirmed.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type MiddlewareHandler } from 'hono';
import { html } from 'hono/html';
import { InvalidQueryError } from '../../shared/store/queries.ts';
import { IndexNotDeployedError } from '../../shared/store/table.ts';
import { documentHref, eventHref, type Html, notice, page, projectHref, shownId } from './html.ts';
import {
  ACTION_NAMES,
  ActionInputError,
  type ActionName,
  type ActionOutcome,
  type ActionResult,
  userMessage,
} from './operations.ts';
import { documentBody, readDocument } from './pages/document.ts';
import { eventBody, readEvent } from './pages/event.ts';
import { feedBody, feedFilterOf, readFeed } from './pages/feed.ts';
import { overviewBody, readOverview } from './pages/overview.ts';
import { projectBody, readProject } from './pages/project.ts';
import {
  type ActionContext,
  accessSection,
  actionForm,
  alarmsSection,
  confirmBody,
  type Fields,
  OUTCOME_HEADINGS,
  resultBody,
} from './pages/stack.ts';
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

/**
 * The status of an action's result, for a script. Not done because of the stack's state (a
 * body that still does not parse, a lease another run holds): 409, as nothing changed. Partly
 * done (stored, but the bus refused the event): 502, as the rest failed in a service behind
 * the console, and the same action may finish it. (A failure thrown: 502; a bad form: 400.)
 */
const OUTCOME_STATUSES: Readonly<Record<ActionOutcome, 200 | 409 | 502>> = {
  done: 200,
  'partly done': 502,
  'not done': 409,
};

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
  /** Offer the actions (--allow-actions). @default false: read-only, every POST refused */
  readonly allowActions?: boolean;
}

export function createConsoleApp(options: ConsoleOptions): Hono {
  const { source } = options;
  const now = options.now ?? (() => new Date());
  // A Map: a plain object would also answer /assets/constructor, /assets/toString, ….
  const assets = new Map(
    Object.entries(ASSETS).map(([name, asset]) => [
      name,
      { body: readFileSync(asset.path), type: asset.type },
    ]),
  );
  const actions: ActionContext = options.allowActions
    ? { csrfToken: randomBytes(32).toString('base64url') }
    : {};
  const app = new Hono();
  // First, so every answer carries them, the loopback check's refusals included.
  app.use(async (context, next) => {
    await next();
    context.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    context.header('X-Content-Type-Options', 'nosniff');
    // Not no-referrer: under it Chromium sends `Origin: null` with a form post, and the
    // Origin check needs this console's own origin. Other sites still get no referrer.
    context.header('Referrer-Policy', 'same-origin');
    context.header('Cache-Control', 'no-store');
    context.header('X-Frame-Options', 'DENY');
    context.header('Cross-Origin-Opener-Policy', 'same-origin');
    context.header('Cross-Origin-Resource-Policy', 'same-origin');
  });
  app.use(loopbackOnly(options.port));

  const render = async (
    title: string,
    body: Html,
    current?: string,
    status: 200 | 400 | 403 | 404 | 409 | 502 = 200,
  ) => {
    const markup = await page({
      title,
      body,
      source: source.description,
      actionsAllowed: actions.csrfToken !== undefined,
      ...(current && { current }),
    });
    return new Response(String(markup), {
      status,
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
    });
  };

  app.get('/assets/:name', (context) => {
    const asset = assets.get(context.req.param('name'));
    if (asset === undefined) return context.notFound();
    return context.body(asset.body, 200, { 'Content-Type': asset.type });
  });

  app.get('/', async () => {
    const at = now();
    const [figures, alarms, identity] = await Promise.all([
      readOverview(source, at),
      source.alarms?.().catch((error: unknown) => describeFailure(error, 'read the alarms')),
      source.identity().catch((error: unknown) => describeFailure(error, 'tell who you are')),
    ]);
    const redrives = figures.deadLetters
      .filter((queue) => typeof queue.depth === 'number' && queue.depth > 0)
      .map((queue) =>
        actionForm(actions, 'redrive', { queue: queue.name }, `Redrive ${queue.name}`),
      );
    return render(
      'Overview',
      html`${overviewBody(figures, at, actionForm(actions, 'reconcile', {}, 'Run a reconcile now'))}${alarmsSection(alarms)}${
        redrives.length === 0
          ? ''
          : html`<section aria-label="Redrive" class="actions">${redrives}</section>`
      }${accessSection(identity, actions)}`,
      '/',
    );
  });

  app.get('/feed', async (context) => {
    const id = context.req.query('id')?.trim();
    if (id) {
      const [found] = await source.eventItems(id);
      if (found !== undefined) return context.redirect(eventHref(found));
      return render('Feed', notice(`No event ${id} found.`), '/feed', 404);
    }
    const filter = feedFilterOf(context.req.query());
    const result = await readFeed(source, filter, now());
    const live = filter.cursor === undefined && filter.to === undefined;
    return render('Feed', feedBody(filter, result, live), '/feed');
  });

  // Project and document ids come in the query string (`projectHref`): any id, `..` included.
  // The path forms of earlier links still lead there.
  app.get('/projects', async (context) => {
    const projectId = context.req.query('id');
    if (projectId === undefined) return context.notFound();
    const figures = await readProject(source, projectId);
    if (figures === undefined) {
      return render(
        'Project',
        notice(`No project ${shownId(projectId)} in the table.`),
        undefined,
        404,
      );
    }
    return render(
      `Project ${shownId(projectId)}`,
      html`${projectBody(figures)}${actionForm(actions, 'export', { projectId }, 'Archive an export now')}`,
    );
  });
  app.get('/projects/:projectId', (context) =>
    context.redirect(projectHref(context.req.param('projectId'))),
  );

  app.get('/documents', async (context) => {
    const documentId = context.req.query('id');
    if (documentId === undefined || documentId === '') {
      return context.redirect('/feed?type=BEFORE_UPDATE_LABELS');
    }
    const labels = await readDocument(source, documentId, context.req.query('cursor') || undefined);
    return render(`Document ${shownId(documentId)}`, documentBody(documentId, labels));
  });
  app.get('/documents/:documentId', (context) =>
    context.redirect(
      documentHref(context.req.param('documentId'), context.req.query('cursor') || undefined),
    ),
  );

  app.get('/events/:eventId', async (context) => {
    const eventId = context.req.param('eventId');
    const figures = await readEvent(source, eventId, {
      receivedAt: context.req.query('at') || undefined,
      itemType: context.req.query('item') || undefined,
    });
    if (figures === undefined) {
      return render('Event', notice(`No event ${eventId} found.`), undefined, 404);
    }
    const { view } = figures;
    const replay =
      view.itemType !== 'rejected' || actions.csrfToken === undefined
        ? ''
        : view.provenance === 'webhook'
          ? actionForm(
              actions,
              'replay',
              { eventId, receivedAt: String(view.receivedAt) },
              'Replay this rejected body',
            )
          : notice('Not replayable: this body never passed the signature check.');
    return render(`Event ${eventId.slice(0, 12)}`, html`${eventBody(figures)}${replay}`);
  });

  app.post('/actions/:name', async (context) => {
    const name = context.req.param('name');
    if (actions.csrfToken === undefined) {
      return render(
        'Read-only',
        notice('This console is read-only: start it with --allow-actions to act on the stack.'),
        undefined,
        403,
      );
    }
    const form = await context.req.parseBody();
    const field = (key: string) => (typeof form[key] === 'string' ? form[key].trim() : '');
    if (!sameToken(field('csrf'), actions.csrfToken)) {
      return render(
        'Refused',
        notice('This form is not from this console (missing or stale token): reload the page.'),
        undefined,
        403,
      );
    }
    if (!ACTION_NAMES.includes(name as ActionName)) return context.notFound();
    const action = actionRequest(name as ActionName, field);
    if (action === undefined) {
      return render('Cannot do this', notice('The form lacks a field it needs.'), undefined, 400);
    }
    if (field('confirm') !== 'yes') {
      return render(
        'Confirm',
        confirmBody(actions.csrfToken, action.name, action.fields, action.question, action.back),
      );
    }
    try {
      const result = await action.run();
      return render(
        OUTCOME_HEADINGS[result.outcome],
        resultBody(result, action.back),
        undefined,
        OUTCOME_STATUSES[result.outcome],
      );
    } catch (error) {
      return render(
        OUTCOME_HEADINGS['not done'],
        resultBody(
          { outcome: 'not done', message: describeFailure(error, `${action.name}`) },
          action.back,
        ),
        undefined,
        error instanceof ActionInputError ? 400 : 502,
      );
    }
  });

  /** What a posted form asks for: its fields, the confirm question, and the call. */
  function actionRequest(
    name: ActionName,
    field: (key: string) => string,
  ):
    | {
        name: ActionName;
        fields: Fields;
        question: string;
        back: string;
        run(): Promise<ActionResult>;
      }
    | undefined {
    const { operations } = source;
    switch (name) {
      case 'redrive': {
        const queue = field('queue');
        if (queue === '') return undefined;
        return {
          name,
          fields: { queue },
          question: `Move every message of dead-letter queue ${shownId(queue)} back to the queue it came from?`,
          back: '/#dead-letters',
          run: () => operations.redrive(queue),
        };
      }
      case 'replay': {
        const eventId = field('eventId');
        const receivedAt = field('receivedAt');
        if (eventId === '' || receivedAt === '') return undefined;
        return {
          name,
          fields: { eventId, receivedAt },
          question: `Replay rejected body ${shownId(eventId)} (received ${shownId(receivedAt)}) through the worker's interpretation? If it parses now it is stored, published and sent for export as an event.`,
          // The rejected body again: after a partial replay it can be replayed from there.
          back: eventHref({ eventId, receivedAt, itemType: 'rejected' }),
          run: () => operations.replayRejected(eventId, receivedAt),
        };
      }
      case 'export': {
        const projectId = field('projectId');
        if (projectId === '') return undefined;
        return {
          name,
          fields: { projectId },
          question: `Ask the exporter to archive project ${shownId(projectId)} now (trigger MANUAL)?`,
          back: projectHref(projectId),
          run: () => operations.requestExport(projectId, now()),
        };
      }
      case 'reconcile':
        return {
          name,
          fields: {},
          question:
            'Run a reconcile pass now: compare the projects of every team the Datasaur credentials can see with the table, and repair what no webhook delivered? It takes the reconcile lease, so it does not overlap a scheduled run.',
          back: '/#reconcile',
          run: () => operations.reconcile(),
        };
    }
  }

  app.notFound(() => render('Not found', notice('No such page.'), undefined, 404));
  app.onError((error) => {
    if (error instanceof InvalidQueryError) {
      return render('Cannot show this', notice(error.message), undefined, 400);
    }
    if (error instanceof IndexNotDeployedError) {
      return render('Not on this table yet', notice(error.message), undefined, 502);
    }
    const known = userMessage(error);
    if (known !== undefined) return render('Cannot read the stack', notice(known), undefined, 502);
    const reason = error instanceof Error ? error.message || error.name : String(error);
    console.error(`console: ${reason}`);
    return render(
      'Cannot read the stack',
      notice(
        `The console could not read the ${source.description}: ${reason}.${source.description.startsWith('local') ? ' Is npm start running?' : ''}`,
      ),
      undefined,
      502,
    );
  });
  return app;
}

/** A sentence for a part of a page that could not be read; the rest of the page still shows. */
function describeFailure(error: unknown, what: string): string {
  const reason =
    error instanceof Error ? error.message.split('\n')[0] || error.name : String(error);
  return userMessage(error) ?? `Could not ${what}: ${reason}`;
}

function sameToken(given: string, expected: string): boolean {
  const left = Buffer.from(given);
  const right = Buffer.from(expected);
  return left.length === right.length && timingSafeEqual(left, right);
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
