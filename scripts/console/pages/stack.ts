/**
 * What the console shows of the stack itself: who the console acts as and what it may do,
 * the alarms, and the action forms with their confirmation. Every form posts to
 * `/actions/<name>` with the console's CSRF token; nothing runs before the confirm step.
 */
import { html } from 'hono/html';
import type { AlarmState } from '../../deployed/alarms.ts';
import { type Html, table } from '../html.ts';
import {
  ACTION_DESCRIPTIONS,
  ACTION_NAMES,
  type ActionName,
  type ActionOutcome,
  type ActionResult,
} from '../operations.ts';

export type Fields = Readonly<Record<string, string>>;

export interface ActionContext {
  /** Present only when the console was started with --allow-actions. */
  readonly csrfToken?: string;
}

export function accessSection(identity: string, actions: ActionContext): Html {
  return html`<section aria-labelledby="access-heading" id="access">
    <h2 id="access-heading">Who can do what</h2>
    <dl class="facts">
      <dt>acting as</dt><dd id="identity">${identity}</dd>
      <dt>actions</dt>
      <dd id="actions-mode">${
        actions.csrfToken === undefined
          ? 'none: this console is read-only (start it with --allow-actions to redrive, replay and export)'
          : html`allowed, each after a confirmation:
            <ul>${ACTION_NAMES.map((name) => html`<li>${ACTION_DESCRIPTIONS[name]}</li>`)}</ul>`
      }</dd>
    </dl>
  </section>`;
}

export function alarmsSection(alarms: AlarmState[] | string | undefined): Html {
  if (alarms === undefined) return html``;
  return html`<section aria-labelledby="alarms-heading" id="alarms">
    <h2 id="alarms-heading">Alarms</h2>
    ${
      typeof alarms === 'string'
        ? html`<p class="notice" role="status">${alarms}</p>`
        : table({
            id: 'alarm-states',
            caption: "The stack's CloudWatch alarms (see docs/operations.md for each)",
            headings: ['alarm', 'state', 'reason'],
            rows: alarms.map((alarm) => [
              html`${alarm.name}`,
              html`<span class="state-${alarm.state.toLowerCase()}">${alarm.state}</span>`,
              html`${alarm.reason}`,
            ]),
            empty: 'The stack lists no alarm.',
          })
    }
  </section>`;
}

/** A button that asks for confirmation first (the form posts without `confirm`). */
export function actionForm(
  actions: ActionContext,
  name: ActionName,
  fields: Fields,
  label: string,
): Html {
  if (actions.csrfToken === undefined) return html``;
  return html`<form method="post" action="/actions/${name}" class="action">
    ${hiddenFields({ ...fields, csrf: actions.csrfToken })}
    <button type="submit">${label}</button>
  </form>`;
}

/** The confirm step: what will happen, the same fields with `confirm=yes`, and a way back. */
export function confirmBody(
  csrfToken: string,
  name: ActionName,
  fields: Fields,
  what: string,
  back: string,
): Html {
  return html`<p id="confirm-question">${what}</p>
    <form method="post" action="/actions/${name}" class="action">
      ${hiddenFields({ ...fields, csrf: csrfToken, confirm: 'yes' })}
      <button type="submit" id="confirm">Confirm</button>
      <a href="${back}">Cancel</a>
    </form>`;
}

/** An action's result page: its heading, and the class of the sentence (its colour). */
export const OUTCOME_HEADINGS: Readonly<Record<ActionOutcome, string>> = {
  done: 'Done',
  'partly done': 'Partly done',
  'not done': 'Not done',
};
const OUTCOME_CLASSES: Readonly<Record<ActionOutcome, string>> = {
  done: 'done',
  'partly done': 'partly-done',
  'not done': 'not-done',
};

export function resultBody(result: ActionResult, back: string): Html {
  return html`<p class="notice ${OUTCOME_CLASSES[result.outcome]}" role="status" id="action-result">${result.message}</p>
    <p><a href="${back}">Back</a></p>`;
}

function hiddenFields(fields: Fields): Html {
  return html`${Object.entries(fields).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  )}`;
}
