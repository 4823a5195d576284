// The one confirmation dialog (<dialog id="confirm-dialog"> in index.html). The native modal dialog
// traps focus and closes on Esc; the answer comes back as a promise. Text goes in as text or nodes.

import { t } from './i18n.js';

const dialog = document.getElementById('confirm-dialog');
const titleEl = document.getElementById('confirm-title');
const bodyEl = document.getElementById('confirm-body');
const yes = document.getElementById('confirm-yes');
const no = document.getElementById('confirm-no');
let pending = null; // {resolve, returnFocus}

function finish(answer) {
  if (!pending) return;
  const { resolve, returnFocus } = pending;
  pending = null;
  if (dialog.open) dialog.close();
  // Not every webview gives focus back on close: do it here.
  if (returnFocus?.isConnected) returnFocus.focus();
  resolve(answer);
}

yes.addEventListener('click', () => finish(true));
no.addEventListener('click', () => finish(false));
// Esc (the dialog's own "cancel") means no.
dialog.addEventListener('cancel', (e) => {
  e.preventDefault();
  finish(false);
});
// Closed some other way means no. The event comes a task after close(): by then a second question
// asked right after the first one's answer may have opened the dialog again, and is not answered by it.
dialog.addEventListener('close', () => {
  if (!dialog.open) finish(false);
});

/**
 * Ask. title/yesLabel/noLabel: text; body: Node[] or text (API text stays text).
 * The safe answer has the focus first. Resolves true (yes) or false (no, Esc).
 */
export function confirmAction({ title, body, yesLabel, noLabel = t('action.cancel'), danger = false }) {
  finish(false);
  titleEl.textContent = title;
  bodyEl.replaceChildren(...(Array.isArray(body) ? body : [String(body ?? '')]));
  yes.textContent = yesLabel;
  no.textContent = noLabel;
  yes.className = danger ? 'button button-danger' : 'button button-primary';
  const returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  return new Promise((resolve) => {
    pending = { resolve, returnFocus };
    if (typeof dialog.showModal === 'function') dialog.showModal();
    else dialog.setAttribute('open', '');
    no.focus();
  });
}

/** True while the dialog is open (Esc then belongs to it, not to the view underneath). */
export function isConfirmOpen() {
  return dialog.open;
}
