import * as core from '@actions/core';
import { INPUTS } from '../config/inputs.js';
/**
 * Reads every input once. Defaults come from the catalogue in config/inputs.ts (action.yml states the
 * same ones); secrets are masked before anything else touches them.
 */
export function readActionInputs() {
    const inputs = {};
    for (const [name, spec] of Object.entries(INPUTS)) {
        const raw = core.getInput(name);
        if ('secret' in spec && spec.secret && raw)
            core.setSecret(raw);
        if (raw === '')
            continue;
        if (spec.kind === 'boolean')
            inputs[name] = core.getBooleanInput(name);
        else if (spec.kind === 'list')
            inputs[name] = [raw];
        else
            inputs[name] = raw;
    }
    return inputs;
}
