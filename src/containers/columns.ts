/** How the container fields show in tables and CSV (JSON carries the whole objects). */
import type { Column } from '../pipeline/types.js';
import type { ContainerField } from './enrich.js';

/** Plain text: one column, the name (or the short id when the runtime gave no name). */
export const containerColumn: Column = {
  key: 'container',
  header: 'CONTAINER',
  width: 12,
  format: (v) => {
    const c = v as ContainerField | undefined;
    return c ? c.name || c.id : '';
  },
};

/** CSV: every field its own column, for spreadsheets and scripts. */
export const containerCsvColumns: Column[] = [
  { key: 'container.id', header: 'CONTAINER_ID' },
  { key: 'container.name', header: 'CONTAINER_NAME' },
  { key: 'container.image', header: 'CONTAINER_IMAGE' },
  { key: 'k8s.namespace', header: 'K8S_NAMESPACE' },
  { key: 'k8s.pod', header: 'K8S_POD' },
];
