import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Carafe, type ParamsOf } from '../../src/index.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true>(_ok: T): void {}

describe('ParamsOf', () => {
  it('infers parameter names and converter types from the pattern text', () => {
    expectType<Equal<ParamsOf<'/users/:id'>, { id: string }>>(true)
    expectType<Equal<ParamsOf<'/users/<id>'>, { id: string }>>(true)
    expectType<Equal<ParamsOf<'/users/<int:id>/posts/<float:score>'>, { id: number; score: number }>>(true)
    expectType<Equal<ParamsOf<'/files/<path:rest>'>, { rest: string }>>(true)
    expectType<Equal<ParamsOf<'/u/<uuid:u>/:tab'>, { u: string; tab: string }>>(true)
    expectType<Equal<ParamsOf<'/n/<int(min=1):n>'>, { n: number }>>(true)
    expectType<Equal<ParamsOf<'/page/<name>.html'>, { name: string }>>(true)
    expectType<Equal<ParamsOf<'/d/:year-:month'>, { year: string; month: string }>>(true)
    expectType<Equal<ParamsOf<'/about'>, {}>>(true)
    expectType<Equal<ParamsOf<'/static/*'>, { '*': string }>>(true)
  })

  it('types c.params inside handlers, so a wrong use does not compile', async () => {
    const app = new Carafe()
    app.get('/users/<int:id>', (c) => {
      const n: number = c.params.id
      // @ts-expect-error: id is a number, not a string
      const s: string = c.params.id
      // @ts-expect-error: no such parameter
      void c.params.name
      return { n, s }
    })
    const res = await app.request('/users/7')
    assert.deepEqual(await res.json(), { n: 7, s: 7 })
  })
})
