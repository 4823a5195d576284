// Copying text for people to paste elsewhere (support details, a reminder for a lock owner), and
// the small "Copy …" button with its "Copied" line that every such place uses.

import { t } from './i18n.js';

/**
 * Put text on the clipboard. The webview's asynchronous clipboard is tried first; where it is missing
 * or refused (WebKitGTK allows it only on a secure page, during a click), a selected hidden text box
 * is copied instead. Resolves true when one of them worked.
 */
export async function copyText(text) {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused: the older way below still works inside a click.
  }
  const box = document.createElement('textarea');
  box.value = text;
  box.setAttribute('readonly', '');
  box.setAttribute('aria-hidden', 'true');
  box.className = 'copy-source';
  const returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  document.body.append(box);
  box.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  box.remove();
  returnFocus?.focus();
  return ok;
}

/**
 * A "Copy …" button and its live status line. text() is read at the click, so it is current.
 * Returns the nodes to append: [button, status].
 */
export function copyButton({ label, text, className = '' }) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `button button-small ${className}`.trim();
  button.textContent = label;
  const status = document.createElement('span');
  status.className = 'copy-status';
  status.setAttribute('role', 'status');
  button.addEventListener('click', async () => {
    const ok = await copyText(text());
    status.textContent = t(ok ? 'copy.done' : 'copy.failed');
  });
  return [button, status];
}
