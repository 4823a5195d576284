// "Revoke all keys of this person" on a person's page: the question lists each key that still works
// or may come to (lock, status, window), then revoke_keys revokes them in turn through the key actions
// and the request governor, and each key's result is listed: revoked, already revoked, or failed and why.
// Markup: [data-ref="revokePanel"] in <template id="tpl-person"> in ui/index.html.

import { revokeKeys } from '../ipc.js';
import { t, tn } from '../i18n.js';
import { confirmAction } from '../confirm.js';
import { describeError } from '../errors.js';
import { formatNumber, formatWindow } from '../format.js';
import { beginOwnAction, mergeKeys } from '../key-store.js';
import { isRevocable, lockLabel, statusOf } from './key-cells.js';

export class PersonRevoke {
  /**
   * @param {object} shell
   * @param {HTMLElement} panel
   * @param {{keys: () => object[], name: () => string}} person  the person's keys and name now
   */
  constructor(shell, panel, person) {
    this.shell = shell;
    this.keys = person.keys;
    this.name = person.name;
    const q = (sel) => panel.querySelector(sel);
    this.button = q('#person-revoke-all');
    this.status = q('[data-ref="revokeStatus"]');
    this.results = q('#person-revoke-results');
    this.working = false;
    this.outcomes = null; // [{outcome, key, error, label}] of the last run
    this.button.addEventListener('click', () => this.ask());
  }

  reset() {
    this.outcomes = null;
    this.working = false;
    this.render();
  }

  revocable() {
    return this.keys().filter(isRevocable);
  }

  async ask() {
    const keys = this.revocable();
    if (this.working || keys.length === 0) return;
    const person = this.name();
    const list = document.createElement('ul');
    list.className = 'confirm-list';
    for (const key of keys) {
      const li = document.createElement('li');
      li.setAttribute('data-key-id', key.id);
      li.textContent = keyLine(key);
      list.append(li);
    }
    const text = document.createElement('p');
    text.textContent = tn('person.revokeAll.text', keys.length, { count: formatNumber(keys.length), name: person });
    const yes = await confirmAction({
      title: t('person.revokeAll.title', { name: person }),
      body: [text, list],
      yesLabel: tn('person.revokeAll.yes', keys.length, { count: formatNumber(keys.length) }),
      danger: true,
    });
    if (yes) await this.revoke(keys);
  }

  async revoke(keys) {
    this.working = true;
    this.outcomes = null;
    this.render();
    const done = keys.map((key) => beginOwnAction(key.id));
    let answer = null;
    let error = null;
    try {
      answer = await revokeKeys(keys.map((key) => key.id));
    } catch (err) {
      error = err;
    }
    done.forEach((end) => end());
    this.working = false;
    if (error && this.shell.handleSignInError(error)) return;
    // A failure of the whole call (no answer) fails every key with the same reason.
    const outcomes = answer ?? keys.map((key) => ({ keyId: key.id, outcome: 'failed', key, error }));
    mergeKeys(outcomes.map((o) => o.key).filter(Boolean));
    const byId = new Map(keys.map((key) => [key.id, key]));
    this.outcomes = outcomes.map((o) => ({ ...o, label: keyLine(o.key ?? byId.get(o.keyId) ?? { id: o.keyId }) }));
    this.render();
    this.status.focus();
    if (outcomes.some((o) => o.error?.kind === 'unauthorized')) this.shell.handleSignInError(outcomes[0].error);
  }

  render() {
    const count = this.revocable().length;
    this.button.disabled = this.working || count === 0;
    this.button.classList.toggle('is-busy', this.working);
    this.button.textContent = t(this.working ? 'person.revokeAll.working' : 'person.revokeAll.button');
    const outcomes = this.outcomes ?? [];
    const tally = (word) => outcomes.filter((o) => o.outcome === word).length;
    this.status.textContent = this.working
      ? t('person.revokeAll.progress')
      : this.outcomes
        ? t('person.revokeAll.summary', { revoked: formatNumber(tally('revoked')), already: formatNumber(tally('alreadyRevoked')), failed: formatNumber(tally('failed')) })
        : '';
    this.results.hidden = outcomes.length === 0;
    this.results.replaceChildren(...outcomes.map(outcomeItem));
  }
}

/** "Bakdør — Active — 26.11.2026 10:00 – 18:00" */
function keyLine(key) {
  const parts = [lockLabel(key)];
  if (key.status) parts.push(t(`keyStatus.${statusOf(key)}`));
  if (key.start || key.end) parts.push(formatWindow(key.start, key.end));
  return parts.join(' — ');
}

function outcomeItem(o) {
  const li = document.createElement('li');
  li.className = `revoke-outcome tone-${o.outcome === 'failed' ? 'error' : o.outcome === 'revoked' ? 'success' : 'info'}`;
  li.setAttribute('data-key-id', o.keyId);
  li.setAttribute('data-outcome', ['revoked', 'alreadyRevoked'].includes(o.outcome) ? o.outcome : 'failed');
  const word = t(`person.revokeAll.outcome.${li.getAttribute('data-outcome')}`);
  const why = o.error ? describeError(o.error, 'revokeKey') : null;
  li.textContent = why ? t('person.revokeAll.failedLine', { key: o.label, title: why.title, action: why.action }) : `${o.label}: ${word}`;
  return li;
}
