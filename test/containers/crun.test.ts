/**
 * crun (Debian's) as the OCI runtime of Docker (`--runtime crun`, registered in
 * /etc/docker/daemon.json by scripts/test-env.sh) and of Podman: attribution with names, the
 * container filter, a rule (./engines.ts), as Docker with runc is tested.
 */
import { needsDocker, TEST_IMAGE } from '../docker.js';
import { cannotRun, engineSuite, PODMAN_FLAGS } from './engines.js';

const PODMAN_IMAGE = `localhost/${TEST_IMAGE}`;
const dockerSkip = needsDocker || cannotRun('docker', TEST_IMAGE, ['--runtime', 'crun']);
const podmanSkip = needsDocker || cannotRun('podman', PODMAN_IMAGE, ['--runtime', 'crun', ...PODMAN_FLAGS]);

engineSuite({ title: 'Docker (crun)', cli: 'docker', image: TEST_IMAGE, oci: 'crun', flags: [], prefix: 'crun-docker', announcesBeforeStart: true, skip: dockerSkip });
engineSuite({ title: 'Podman (crun)', cli: 'podman', image: PODMAN_IMAGE, oci: 'crun', flags: PODMAN_FLAGS, prefix: 'crun-podman', announcesBeforeStart: false, skip: podmanSkip });
