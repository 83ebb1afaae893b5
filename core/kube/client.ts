import { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';

/** How the router reaches the API server. */
export const kubernetesSchema = z
  .strictObject({
    /** A kubeconfig file; unset means in-cluster (service account) when running in a pod, else ~/.kube/config. */
    kubeconfig: z.string().min(1).optional(),
    /** A context of that kubeconfig other than its current one. */
    context: z.string().min(1).optional(),
  })
  .prefault({});
export type KubernetesConfig = z.output<typeof kubernetesSchema>;

export function loadKubeConfig(config: KubernetesConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  // loadFromDefault reads $KUBECONFIG, then the in-cluster service account, then ~/.kube/config.
  else kc.loadFromDefault();
  if (config.context) kc.setCurrentContext(config.context);
  return kc;
}
