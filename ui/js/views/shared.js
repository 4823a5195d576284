// Pieces the list views share (through list-view.js): the empty-state box and the debounced search box.

import { t } from '../i18n.js';

const SEARCH_DEBOUNCE_MS = 100;

/** An empty-state box (id for the tests) with a title, a text and a "Clear filters" button. */
export function createEmptyState(id, onClear) {
  const box = document.createElement('div');
  box.id = id;
  box.className = 'empty-state';
  const title = document.createElement('p');
  title.className = 'empty-title';
  const text = document.createElement('p');
  text.className = 'empty-text';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button';
  button.id = `${id}-clear`;
  button.addEventListener('click', onClear);
  const other = document.createElement('button');
  other.type = 'button';
  other.className = 'button';
  let onOther = null;
  other.addEventListener('click', () => onOther?.());
  const actions = document.createElement('div');
  actions.className = 'empty-actions';
  actions.append(button, other);
  box.append(title, text, actions);
  return {
    /** Show in container; withClear adds the "Clear filters" button, action {label, onClick} another one. */
    show(container, { title: titleText, text: bodyText, withClear, action }) {
      title.textContent = titleText;
      text.textContent = bodyText;
      button.textContent = t('action.clearFilters');
      button.hidden = !withClear;
      onOther = action?.onClick ?? null;
      other.textContent = action?.label ?? '';
      other.hidden = !action;
      if (!box.isConnected) container.append(box);
    },
    hide() {
      box.remove();
    },
  };
}

/**
 * Call onQuery(value) for what the box holds ("change" too: some ways of clearing a field fire only
 * that). The first keystroke after a pause filters at once, so the list answers it in the next
 * frame; keystrokes that follow within 100 ms are gathered and filtered once, 100 ms after the
 * last (fast typing on 100,000 rows does not filter for every letter). onQuery must ignore a value
 * it has already applied. Returns a function that cancels a pending call.
 */
export function debounceSearch(input, onQuery) {
  let timer = 0;
  const settle = () => {
    timer = 0;
    onQuery(input.value);
  };
  const onInput = () => {
    if (timer) clearTimeout(timer);
    else onQuery(input.value);
    timer = setTimeout(settle, SEARCH_DEBOUNCE_MS);
  };
  input.addEventListener('input', onInput);
  input.addEventListener('change', onInput);
  return () => {
    clearTimeout(timer);
    timer = 0;
  };
}
