// Marks the first animation frame on the page's performance timeline, as the app marks its first
// rows (ui/js/virtual-table.js): the benchmark compares the two under the same launcher.
requestAnimationFrame(() => performance.mark('unloc:blank-painted'));
