import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesConfig } from './config.ts';

export function loadKubeConfig(config: KubernetesConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  // loadFromDefault reads $KUBECONFIG, then the in-cluster service account, then ~/.kube/config.
  else kc.loadFromDefault();
  if (config.context) kc.setCurrentContext(config.context);
  return kc;
}
