// Keys awaiting the lock owner's approval (opt-in locks), longest waiting first, with a waiting
// time that moves on by itself and each key's start. Only the owner can approve, in the Unloc app;
// this list shows who to remind, and copies a short reminder for the owner in the app's language.
// Markup: <template id="tpl-awaiting"> in ui/index.html (section #awaiting-view).

import { t, tn } from '../i18n.js';
import { copyText } from '../clipboard.js';
import { formatDateTime, formatDateTimeLong, formatDuration, formatNumber } from '../format.js';
import { awaitingKeys } from '../key-store.js';
import {
  fillLockCell, fillRecipientCell, fillTimeCell, lockLabel, oldestWaitingFirst, recipientInline, waitedMs, waitingSince,
} from './key-cells.js';
import { KeyListView } from './key-list.js';

const TEMPLATE = 'tpl-awaiting';
const ROW_HEIGHT = 64;

export function createAwaitingView(shell) {
  const view = new KeyListView(shell, {
    template: TEMPLATE,
    name: 'awaiting',
    keys: () => awaitingKeys().sort(oldestWaitingFirst),
    bannerSince: false,
    list: (v) => ({
      rowHeight: ROW_HEIGHT,
      columns: [
        { cell: 'key-lock', fill: (td, key) => fillLockCell(td, key, v.canOpen(key)) },
        { cell: 'key-recipient', fill: fillRecipientCell },
        { cell: 'key-waiting', fill: fillWaitingCell },
        { cell: 'key-start', fill: (td, key) => fillTimeCell(td, key.start, 'keys.window.unknown') },
        { cell: 'key-created', fill: (td, key) => fillTimeCell(td, key.createdAt, 'awaiting.createdElsewhere') },
        { cell: 'key-actions', fill: fillRemindCell },
      ],
      row: (tr, key) => v.markRow(tr, key),
      count: {
        el: v.el.querySelector('[data-ref="count"]'),
        text: (shown) => (shown ? tn('awaiting.count', shown, { count: formatNumber(shown) }) : ''),
      },
      empty: { id: 'awaiting-empty', none: () => ({ title: t('awaiting.empty.title'), text: t('awaiting.empty.text') }) },
    }),
  });
  wireReminders(view);
  return view;
}

function fillWaitingCell(td, key) {
  td.textContent = formatDuration(waitedMs(key));
  const since = waitingSince(key);
  if (since) td.setAttribute('title', t('keys.waitingSinceTitle', { time: formatDateTimeLong(since) }));
  else td.removeAttribute('title');
}

/** The row's "Copy a reminder for the owner" button (its click is handled on the table). */
function fillRemindCell(td, key) {
  let button = td.firstElementChild;
  if (!(button instanceof HTMLButtonElement)) {
    button = document.createElement('button');
    button.type = 'button';
    button.className = 'button button-small key-remind';
    td.replaceChildren(button);
  }
  button.textContent = t('awaiting.remind');
  button.setAttribute('aria-label', t('awaiting.remindFor', { recipient: recipientInline(key), lock: lockLabel(key) }));
}

/** What the owner gets: the lock, the recipient and the start, in the app's language. */
export function reminderText(key) {
  const start = key.start ? formatDateTime(key.start) : null;
  return t(start ? 'awaiting.reminder' : 'awaiting.reminderNoStart', { lock: lockLabel(key), recipient: recipientInline(key), start });
}

function wireReminders(view) {
  const status = view.el.querySelector('[data-ref="remindStatus"]');
  let said = null; // {key, params}: re-rendered on a language change
  const render = () => {
    status.textContent = said ? t(said.key, said.params) : '';
  };
  view.list.table.tBodies[0].addEventListener('click', async (e) => {
    const button = e.target instanceof Element ? e.target.closest('.key-remind') : null;
    const id = button?.closest('tr')?.getAttribute('data-key-id');
    const key = id && view.list.items.find((k) => k.id === id);
    if (!key) return;
    const ok = await copyText(reminderText(key));
    said = ok ? { key: 'awaiting.remindCopied', params: { recipient: recipientInline(key), lock: lockLabel(key) } } : { key: 'copy.failed' };
    render();
  });
  const applyLanguage = view.applyLanguage.bind(view);
  view.applyLanguage = () => {
    applyLanguage();
    render();
  };
}
