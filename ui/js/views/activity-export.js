// The Activity view to Excel or CSV: every archived event its current filter finds (not only the
// rows fetched so far), written by Rust from the local archive.

import { exportActivity } from '../ipc.js';
import { t } from '../i18n.js';
import { wireExport } from './export-actions.js';

/** Wire the export buttons of the Activity view (views/activity.js). */
export function wireActivityExport(view) {
  return wireExport(view.el, {
    fileName: () => t('export.name.activity'),
    run: (request) => exportActivity({ filter: view.currentFilter() ?? {}, ...request }),
  });
}
