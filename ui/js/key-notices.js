// The shell's key news: the awaiting-approval count in the nav (#awaiting-count) and the notices
// (#key-notices, role=status) for keys that stopped awaiting approval ("Key for … is now active").

import { t } from './i18n.js';
import { formatDateTime } from './format.js';
import { awaitingKeys, onKeys } from './key-store.js';
import { lockLabel, recipientInline, statusOf } from './views/key-cells.js';
import { bannerButton } from './banner.js';

const NOTICE_LIMIT = 3;
const NOTICE_MS = 60 * 1000;
const awaitingCount = document.getElementById('awaiting-count');
const noticesEl = document.getElementById('key-notices');
let notices = []; // {id, key: KeyView} of keys that stopped awaiting approval, newest first
let isSignedIn = () => false;

export function renderAwaitingCount() {
  const n = isSignedIn() ? awaitingKeys().length : 0;
  awaitingCount.textContent = String(n);
  awaitingCount.hidden = n === 0;
  // No aria-label: the visible words plus the count are the name (axe: label-content-name-mismatch).
}

/** A key that stopped awaiting approval: say what became of it (polite; the lists change too). */
function noticeText(key) {
  const status = statusOf(key);
  const params = { recipient: recipientInline(key), lock: lockLabel(key) };
  switch (status) {
    case 'active':
    case 'revoked':
    case 'failed':
    case 'expired':
      return t(`notice.left.${status}`, params);
    case 'scheduled':
      return key.start ? t('notice.left.scheduled', { ...params, time: formatDateTime(key.start) }) : t('notice.left.approved', params);
    default:
      return t('notice.left.other', params);
  }
}

const NOTICE_TONE = { active: 'success', scheduled: 'success', revoked: 'warning', failed: 'warning', expired: 'warning' };

function addNotices(left) {
  for (const { key } of left) {
    const id = `${key.id}:${Date.now()}`;
    notices = [{ id, key }, ...notices.filter((n) => n.key.id !== key.id)].slice(0, NOTICE_LIMIT);
    setTimeout(() => {
      const before = notices.length;
      notices = notices.filter((n) => n.id !== id);
      if (notices.length !== before) renderNotices();
    }, NOTICE_MS);
  }
  renderNotices();
}

export function renderNotices() {
  const list = document.createElement('ul');
  list.className = 'notice-list';
  for (const { key } of notices) {
    const item = document.createElement('li');
    item.className = `notice tone-${NOTICE_TONE[statusOf(key)] ?? 'info'}`;
    item.textContent = noticeText(key);
    list.append(item);
  }
  if (!notices.length) {
    noticesEl.replaceChildren();
    return;
  }
  const hadFocus = noticesEl.contains(document.activeElement);
  const dismiss = bannerButton(t('action.dismiss'), () => {
    notices = [];
    renderNotices();
    document.getElementById('main')?.focus();
  });
  noticesEl.replaceChildren(list, dismiss);
  if (hadFocus) dismiss.focus();
}

/** Keep the count and the notices current; isSignedIn() tells whether there is a session. */
export function watchKeyNotices(signedIn) {
  isSignedIn = signedIn;
  onKeys((change) => {
    renderAwaitingCount();
    if (change.left?.length && isSignedIn()) addNotices(change.left);
  });
}

/** Sign-out: no notices, no count. */
export function clearKeyNotices() {
  notices = [];
  renderNotices();
  renderAwaitingCount();
}
