/** The comparison report: report.json (data), report.md and report.html (for people). */
export * from './model';
export * from './verdict';
export * from './format';
export * from './tables';
export * from './sections';
export * from './chart-kit';
export * from './charts';
export * from './markdown';
export * from './page';
export * from './html';
export * from './matrix';
export * from './matrix-render';
