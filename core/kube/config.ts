import { z } from 'zod';

/**
 * How a component reaches the API server. Kept apart from the client: the
 * configuration of every command is read at start, and loading the
 * Kubernetes client takes most of a second.
 */
export const kubernetesSchema = z
  .strictObject({
    /** A kubeconfig file; unset means in-cluster (service account) when running in a pod, else ~/.kube/config. */
    kubeconfig: z.string().min(1).optional(),
    /** A context of that kubeconfig other than its current one. */
    context: z.string().min(1).optional(),
  })
  .prefault({});
export type KubernetesConfig = z.output<typeof kubernetesSchema>;
