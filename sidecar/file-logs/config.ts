import { z } from 'zod';
import { duration } from '../../core/config-types.ts';
import { kubernetesSchema } from '../../core/kube/config.ts';
import { CONTAINER_FORMATS, containerFormatSchema } from '../parse/container-format.ts';
import { pipelineSchema } from '../parse/pipeline.ts';

/** The kubelet root goes into glob patterns as it is: it must be absolute and have no glob characters. */
const kubeletRoot = z
  .string()
  .regex(/^\/[^*?[\]{}!\\]*$/, { error: 'expected an absolute path without glob characters' });

/**
 * Node mode: the files pods name in an annotation, read from their emptyDir volumes on the node.
 * Ignored in sidecar mode.
 */
export const fileLogsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** The pod annotation that names the files: `volume:pattern`, several separated by commas or newlines. */
  annotation: z.string().min(1).default('lookout.io/file-logs'),
  kubeletRoot: kubeletRoot.default('/var/lib/kubelet'),
  /** This node's name; default: the variable `kubernetes.env.nodeName` names (NODE_NAME). */
  nodeName: z.string().min(1).optional(),
  /** How the pods of this node are listed and watched; in the cluster, the pod's service account. */
  kubernetes: kubernetesSchema,
  /** A list of the node's pods the API server has not answered by then counts as failed. */
  requestTimeout: duration().default(30_000),
  /** More entries than this refuse a pod's annotation. */
  maxEntries: z.number().int().positive().default(16),
  /** How the files' lines become records, as for an input; plain lines unless told otherwise. */
  input: pipelineSchema
    .extend({
      container: containerFormatSchema
        .extend({ format: z.enum(CONTAINER_FORMATS).default('none') })
        .prefault({}),
      readFrom: z.enum(['beginning', 'end']).default('beginning'),
    })
    .prefault({}),
});
export type FileLogsConfig = z.output<typeof fileLogsSchema>;
