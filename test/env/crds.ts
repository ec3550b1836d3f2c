// Installs the CRDs that src/api generates, the way a user applies them.
import { allCrdsYaml, kinds } from '../../src/api/crds.ts';
import { group } from '../../src/api/common.ts';
import { kubectl, type KubectlTarget } from './kubectl.ts';

/** Applies the CRDs and waits until the API server serves them. */
export function installCrds(target: KubectlTarget): void {
  kubectl(target, ['apply', '--server-side', '--field-manager=flightdeck-dev', '-f', '-'], allCrdsYaml());
  const names = kinds.map((k) => `crd/${k.plural}.${group}`);
  kubectl(target, ['wait', '--for=condition=Established', '--timeout=60s', ...names]);
}
