// koa-router 7 (the old package, aliased for the tests) ships no types; its API is the one @koa/router kept.
declare module 'koa-router7' {
  import Router from '@koa/router';

  export default Router;
}
