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
 * The runner masks a multi-line secret reliably only line by line (it logs and matches per line), so a
 * PEM key or wrapped base64 is masked whole and each of its lines; PEM armour lines are not secret.
 */
function maskSecret(raw: string): void {
  core.setSecret(raw);
  if (!/[\r\n]/.test(raw)) return;
  for (const line of raw.split(/\r?\n/).map((l) => l.trim())) {
    if (line && !/^-----(BEGIN|END) /.test(line)) core.setSecret(line);
  }
}

/**
 * Reads every input once. Defaults come from the catalogue in config/inputs.ts (action.yml states the
 * same ones); secrets are masked before anything else touches them.
 */
export function readActionInputs(): Inputs {
  const inputs: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(INPUTS) as [InputName, (typeof INPUTS)[InputName]][]) {
    const raw = core.getInput(name);
    if ('secret' in spec && spec.secret && raw) maskSecret(raw);
    if (raw === '') continue;
    if (spec.kind === 'boolean') inputs[name] = booleanInput(name, raw);
    else if (spec.kind === 'list') inputs[name] = [raw];
    else inputs[name] = raw;
  }
  return inputs as Inputs;
}
