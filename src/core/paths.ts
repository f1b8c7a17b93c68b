import { fileURLToPath } from 'node:url';

/** Where the compiled eBPF objects are shipped (dist/bpf); EUNOMIA_BPF_DIR overrides it. */
export const objectDir = process.env.EUNOMIA_BPF_DIR ?? fileURLToPath(new URL('../../bpf/', import.meta.url));
