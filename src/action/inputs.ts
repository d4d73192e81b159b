import * as core from '@actions/core';
import { UserError } from '../errors.js';
import { INPUTS, type InputName, type Inputs } from '../config/inputs.js';

/** YAML 1.2 core booleans, as core.getBooleanInput takes them, with a message that names the input. */
function booleanInput(name: string, raw: string): boolean {
  if (['true', 'True', 'TRUE'].includes(raw.trim())) return true;
  if (['false', 'False', 'FALSE'].includes(raw.trim())) return false;
  throw new UserError(`${name}: "${raw}" is not a boolean; give true or false`);
}

/**
 * Reads every input once. Defaults come from the catalogue in config/inputs.ts (action.yml states the
 * same ones); secrets are masked before anything else touches them.
 */
export function readActionInputs(): Inputs {
  const inputs: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(INPUTS) as [InputName, (typeof INPUTS)[InputName]][]) {
    const raw = core.getInput(name);
    if ('secret' in spec && spec.secret && raw) core.setSecret(raw);
    if (raw === '') continue;
    if (spec.kind === 'boolean') inputs[name] = booleanInput(name, raw);
    else if (spec.kind === 'list') inputs[name] = [raw];
    else inputs[name] = raw;
  }
  return inputs as Inputs;
}
