// Keys awaiting the lock owner's approval (opt-in locks), longest waiting first, with a waiting
// time that moves on by itself. Only the owner can approve, in the Unloc app; this list shows who
// to remind.
// Markup: <template id="tpl-awaiting"> in ui/index.html (section #awaiting-view).

import { t, tn } from '../i18n.js';
import { formatDateTimeLong, formatDuration, formatNumber } from '../format.js';
import { awaitingKeys } from '../key-store.js';
import { fillLockCell, fillRecipientCell, fillTimeCell, oldestWaitingFirst, waitedMs, waitingSince } from './key-cells.js';
import { KeyListView } from './key-list.js';

const TEMPLATE = 'tpl-awaiting';
const ROW_HEIGHT = 44;

export function createAwaitingView(shell) {
  return new KeyListView(shell, {
    template: TEMPLATE,
    name: 'awaiting',
    keys: () => awaitingKeys().sort(oldestWaitingFirst),
    bannerSince: false,
    list: (view) => ({
      rowHeight: ROW_HEIGHT,
      columns: [
        { cell: 'key-lock', fill: (td, key) => fillLockCell(td, key, view.canOpen(key)) },
        { cell: 'key-recipient', fill: fillRecipientCell },
        { cell: 'key-waiting', fill: fillWaitingCell },
        { cell: 'key-created', fill: (td, key) => fillTimeCell(td, key.createdAt, 'awaiting.createdElsewhere') },
      ],
      row: (tr, key) => view.markRow(tr, key),
      count: {
        el: view.el.querySelector('[data-ref="count"]'),
        text: (shown) => (shown ? tn('awaiting.count', shown, { count: formatNumber(shown) }) : ''),
      },
      empty: { id: 'awaiting-empty', none: () => ({ title: t('awaiting.empty.title'), text: t('awaiting.empty.text') }) },
    }),
  });
}

function fillWaitingCell(td, key) {
  td.textContent = formatDuration(waitedMs(key));
  const since = waitingSince(key);
  if (since) td.setAttribute('title', t('keys.waitingSinceTitle', { time: formatDateTimeLong(since) }));
  else td.removeAttribute('title');
}
