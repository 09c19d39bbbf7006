import fp from 'fastify-plugin'
import type { Config } from '../config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

/** Makes the validated configuration available as `app.config`. */
export default fp<{ config: Config }>(async function configPlugin (app, { config }) {
  app.decorate('config', config)
}, { name: 'config' })
