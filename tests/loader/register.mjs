// `node --import ./tests/loader/register.mjs file.ts`: runs the project's
// TypeScript without tsx. See hooks.mjs for why.
import { register } from 'node:module'

register('./hooks.mjs', import.meta.url)
