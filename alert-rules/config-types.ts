import { z } from 'zod';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Labels written in the configuration: names as Prometheus allows them. */
export const labelSet = () =>
  z.record(
    z
      .string()
      .regex(LABEL_NAME, { error: 'expected a label name: letters, digits and _, not first a digit' }),
    z.string(),
  );
