/** How template functions declare their Go signatures, so arguments are checked and converted as Go does. */
import type { GoValue } from './go-values.ts';

/** 'value' is Go's reflect.Value (builtins that take anything, even an invalid value). */
export type ParamType =
  | 'any'
  | 'value'
  | 'string'
  | 'float64'
  | 'int'
  | 'bool'
  | 'sample'
  | 'queryResult'
  | 'strings'
  | 'time'
  | 'duration';

export const PARAM_TYPE_NAMES: Record<ParamType, string> = {
  any: 'interface {}',
  value: 'reflect.Value',
  string: 'string',
  float64: 'float64',
  int: 'int',
  bool: 'bool',
  sample: '*template.sample',
  queryResult: 'template.queryResult',
  strings: '[]string',
  time: 'time.Time',
  duration: 'time.Duration',
};

export interface CallEnvironment {
  signal: AbortSignal | undefined;
}

export interface TemplateFunction {
  params: readonly ParamType[];
  /** The element type of a trailing `...` parameter. */
  variadic?: ParamType;
  call(args: GoValue[], env: CallEnvironment): GoValue | Promise<GoValue>;
}

export type FunctionMap = ReadonlyMap<string, TemplateFunction>;

/** An error a Go function returns (or a panic it raises): rendered as "error calling NAME: message". */
export class GoCallError extends Error {}

export const NIL_DEREFERENCE = 'runtime error: invalid memory address or nil pointer dereference';
