import express5 from 'express';
import express4 from 'express4';
import { describe, expect, it } from 'vitest';
import { mountsWithParameters } from '../src/mount-parameters.js';

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as typeof express5],
] as const)('mountsWithParameters, %s', (_name, express) => {
  const noop = (_req: unknown, _res: unknown, next: () => void): void => next();

  it('is false for routes with parameters and mounts with literal paths only', () => {
    const app = express();
    app.use(noop);
    app.get('/users/:id', noop);
    const v1 = express.Router();
    v1.get('/items/:itemId', noop);
    const api = express.Router();
    api.use('/v1', v1);
    app.use('/api', api);
    expect(mountsWithParameters(app)).toBe(false);
  });

  it('is true for a router mounted under a parameter, however deep', () => {
    const app = express();
    const members = express.Router();
    members.get('/members/:memberId', noop);
    const teams = express.Router();
    teams.use('/teams/:teamId', members);
    const api = express.Router();
    api.use('/orgs', teams);
    app.use('/api', api);
    expect(mountsWithParameters(app)).toBe(true);
  });

  it('is true for a regular-expression mount and for a mounted sub-app, whose routers it cannot see', () => {
    const withRegex = express();
    withRegex.use(/^\/v(\d+)/, express.Router());
    expect(mountsWithParameters(withRegex)).toBe(true);

    const withSubApp = express();
    withSubApp.use('/admin', express());
    expect(mountsWithParameters(withSubApp)).toBe(true);
  });

  it('looks again once the app has more layers', () => {
    const app = express();
    app.get('/a', noop);
    expect(mountsWithParameters(app)).toBe(false);
    app.use('/orgs/:orgId', express.Router());
    expect(mountsWithParameters(app)).toBe(true);
  });

  it('is true for anything that is not an Express app', () => {
    expect(mountsWithParameters(undefined)).toBe(true);
    expect(mountsWithParameters({})).toBe(true);
    expect(mountsWithParameters(() => {})).toBe(true);
  });
});
