// The keyboard shortcuts overlay (<dialog id="shortcuts-dialog"> in index.html): "?" opens it, Esc or
// Close shuts it. A native modal dialog keeps the focus inside; the focus goes back where it was.

const dialog = document.getElementById('shortcuts-dialog');
const close = document.getElementById('shortcuts-close');
let returnFocus = null;

function shut() {
  if (dialog.open) dialog.close();
}

close.addEventListener('click', shut);
dialog.addEventListener('close', () => {
  // Not every webview gives focus back on close: do it here.
  if (returnFocus?.isConnected) returnFocus.focus();
  returnFocus = null;
});

export function openShortcuts() {
  if (dialog.open) return;
  returnFocus = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
  dialog.showModal();
  close.focus();
}

export function isShortcutsOpen() {
  return dialog.open;
}
